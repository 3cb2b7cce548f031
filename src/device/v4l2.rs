//! V4L2: enumeration of video capture nodes (cameras) and video output nodes (such as a
//! virtual camera) under /dev/video*, by VIDIOC_QUERYCAP.
//!
//! A node's device id does not name its /dev path, which changes when devices are plugged in
//! another order: it is "v4l2:" + the device's bus_info + ":" + the node's index within that
//! device (sysfs `index`), e.g. "v4l2:platform:vivid-000:0". [`path_of`] finds the node an id
//! names now.

use std::path::{Path, PathBuf};

use super::{DeviceInfo, DeviceKind};
use crate::error::{err, Result};
use crate::v4l2::sys;

const CAP_VIDEO_CAPTURE: u32 = sys::V4L2_CAP_VIDEO_CAPTURE;
const CAP_VIDEO_OUTPUT: u32 = sys::V4L2_CAP_VIDEO_OUTPUT;
const CAP_VIDEO_CAPTURE_MPLANE: u32 = sys::V4L2_CAP_VIDEO_CAPTURE_MPLANE;
const CAP_VIDEO_OUTPUT_MPLANE: u32 = sys::V4L2_CAP_VIDEO_OUTPUT_MPLANE;
const CAP_VIDEO_M2M_MPLANE: u32 = sys::V4L2_CAP_VIDEO_M2M_MPLANE;
const CAP_VIDEO_M2M: u32 = sys::V4L2_CAP_VIDEO_M2M;

/// The directory the nodes are in, and sysfs' view of them.
const DEV_DIR: &str = "/dev";
const SYSFS_DIR: &str = "/sys/class/video4linux";

/// What one node is, from its capabilities (the node's own, `v4l2::Capability::caps`): a video
/// input (single- or multi-planar capture), a video output, or nothing libmst lists
/// (memory-to-memory codecs and scalers, which have both; metadata, VBI, radio, SDR, touch).
fn classify(caps: u32) -> Option<DeviceKind> {
    if caps & (CAP_VIDEO_M2M | CAP_VIDEO_M2M_MPLANE) != 0 {
        return None;
    }
    let input = caps & (CAP_VIDEO_CAPTURE | CAP_VIDEO_CAPTURE_MPLANE) != 0;
    let output = caps & (CAP_VIDEO_OUTPUT | CAP_VIDEO_OUTPUT_MPLANE) != 0;
    match (input, output) {
        (true, false) => Some(DeviceKind::VideoInput),
        (false, true) => Some(DeviceKind::VideoOutput),
        _ => None,
    }
}

/// The `N` of a "videoN" name.
fn node_number(name: &str) -> Option<u32> {
    name.strip_prefix("video")?.parse().ok()
}

/// The "videoN" entries of `dir`, by N.
fn nodes(dir: &Path) -> Vec<(u32, String)> {
    let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut list: Vec<(u32, String)> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            Some((node_number(&name)?, name))
        })
        .collect();
    list.sort();
    list
}

/// VIDIOC_QUERYCAP on `path`; None when the node cannot be opened (EACCES, EBUSY, gone) or
/// is not a V4L2 device. Opened non-blocking, so a busy or slow driver cannot stall the scan.
fn querycap(path: &Path) -> Option<crate::v4l2::Capability> {
    crate::v4l2::Device::open_query(path, String::new()).ok()?.querycap().ok()
}

/// The node's index within its device (sysfs `index`), 0 when sysfs does not say.
fn node_index(sysfs: &Path, name: &str) -> u32 {
    std::fs::read_to_string(sysfs.join(name).join("index")).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0)
}

/// One listed node and where it is now.
struct Node {
    info: DeviceInfo,
    path: PathBuf,
}

fn scan(dev: &Path, sysfs: &Path) -> Vec<Node> {
    let mut list: Vec<Node> = Vec::new();
    for (_, name) in nodes(dev) {
        let path = dev.join(&name);
        let Some(cap) = querycap(&path) else { continue };
        let Some(kind) = classify(cap.caps) else { continue };
        let mut bus = cap.bus_info;
        if bus.is_empty() {
            // Not filled by old drivers: the driver's name is the best stable stand-in.
            bus = cap.driver;
        }
        let group_id = format!("v4l2:{bus}");
        let mut device_id = format!("{group_id}:{}", node_index(sysfs, &name));
        if list.iter().any(|n| n.info.device_id == device_id) {
            // Two nodes claim the same bus_info and index (drivers that leave bus_info
            // empty): the later one is told apart by its node name, which is less stable.
            device_id = format!("{device_id}:{name}");
        }
        let card = cap.card;
        let label = if card.is_empty() { name.clone() } else { card };
        list.push(Node { info: DeviceInfo { kind, device_id, label, group_id }, path });
    }
    list
}

/// The V4L2 video inputs (capture nodes) then the video outputs, each in /dev/videoN order.
/// No /dev/video* (or none libmst can open) gives an empty list, not an error.
pub(crate) fn enumerate() -> Result<Vec<DeviceInfo>> {
    let (mut inputs, outputs): (Vec<DeviceInfo>, Vec<DeviceInfo>) = scan(Path::new(DEV_DIR), Path::new(SYSFS_DIR))
        .into_iter()
        .map(|n| n.info)
        .partition(|d| d.kind == DeviceKind::VideoInput);
    inputs.extend(outputs);
    Ok(inputs)
}

/// The /dev path of the node `device_id` (an id from [`enumerate`]) names now.
/// Errors: NoDevice when no node has that id.
pub fn path_of(device_id: &str) -> Result<PathBuf> {
    scan(Path::new(DEV_DIR), Path::new(SYSFS_DIR))
        .into_iter()
        .find(|n| n.info.device_id == device_id)
        .map(|n| n.path)
        .ok_or_else(|| err!(NoDevice, "no V4L2 device {device_id:?}"))
}

/// What names the hardware behind `device_id` whatever node it is on now, for reacquiring it
/// ([`crate::source::reacquire`]): the driver, card and bus_info QUERYCAP reports, and the
/// USB serial number of the camera, if it is a USB device that has one ([`usb_serial`]).
/// Errors: NoDevice when no node has that id now.
pub(crate) fn identity(device_id: &str) -> Result<String> {
    let path = path_of(device_id)?;
    let cap = querycap(&path).ok_or_else(|| err!(NoDevice, "the V4L2 device {device_id:?} went away"))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let serial = usb_serial(Path::new(SYSFS_DIR), &name);
    Ok(format!("{}|{}|{}|{}", cap.driver, cap.card, cap.bus_info, serial))
}

/// The `serial` of the USB device node `name` belongs to, as `class_dir` (sysfs'
/// video4linux class directory) shows it; empty when that device has none or is not USB.
/// The node's `device` is a USB interface (UVC binds to interfaces), whose direct parent is
/// the USB device: only that one's serial names the camera. Further up are hubs and the root
/// hub, whose `serial` names the hub or the host controller (its PCI name): a camera without
/// a serial must not take one of theirs, which every camera on that hub or bus shares.
fn usb_serial(class_dir: &Path, name: &str) -> String {
    let Ok(device) = std::fs::canonicalize(class_dir.join(name).join("device")) else { return String::new() };
    let owner = if device.join("bInterfaceNumber").exists() { device.parent() } else { Some(device.as_path()) };
    // A USB device has idVendor; a root hub ("usbN") is the controller's and names no camera.
    let owner = owner.filter(|d| {
        d.join("idVendor").exists() && !d.file_name().is_some_and(|n| n.to_string_lossy().starts_with("usb"))
    });
    owner.and_then(|d| std::fs::read_to_string(d.join("serial")).ok()).map(|s| s.trim().to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert_eq!(classify(0x1), Some(DeviceKind::VideoInput));
        assert_eq!(classify(0x2), Some(DeviceKind::VideoOutput));
        assert_eq!(classify(0x1000), Some(DeviceKind::VideoInput));
        assert_eq!(classify(0x2000), Some(DeviceKind::VideoOutput));
        // m2m (flag, or both directions), metadata capture, VBI, radio, SDR, touch: not listed
        assert_eq!(classify(CAP_VIDEO_M2M), None);
        assert_eq!(classify(CAP_VIDEO_M2M_MPLANE | 0x3000), None);
        assert_eq!(classify(0x3), None);
        for other in [0x0080_0000, 0x10, 0x0004_0000, 0x0010_0000, 0x1000_0000] {
            assert_eq!(classify(other), None, "{other:#x}");
        }
        assert_eq!(node_number("video10"), Some(10));
        assert_eq!(node_number("video-x"), None);
    }

    #[test]
    fn nodes_sort_numerically() {
        let dir = std::env::temp_dir().join(format!("mst-v4l2-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for n in ["video10", "video2", "video0", "media0", "vbi0"] {
            std::fs::write(dir.join(n), b"").unwrap();
        }
        let names: Vec<String> = nodes(&dir).into_iter().map(|(_, n)| n).collect();
        assert_eq!(names, ["video0", "video2", "video10"]);
        // Regular files are not V4L2 devices: nothing listed, no error.
        assert!(scan(&dir, &dir).is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_serial_is_the_usb_devices_that_owns_the_interface_never_a_hubs() {
        let root = std::env::temp_dir().join(format!("mst-v4l2-sysfs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let file = |dir: &Path, name: &str, text: &str| {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join(name), text).unwrap();
        };
        // A controller's root hub, a hub with a serial behind it, and on the hub two cameras
        // (one with a serial, one without) and a camera on a root port; a platform device.
        let root_hub = root.join("devices/pci0000:00/0000:00:14.0/usb1");
        file(&root_hub, "idVendor", "1d6b\n");
        file(&root_hub, "serial", "0000:00:14.0\n");
        let hub = root_hub.join("1-2");
        file(&hub, "idVendor", "05e3\n");
        file(&hub, "serial", "HUB-SERIAL\n");
        let with_serial = hub.join("1-2.1");
        file(&with_serial, "idVendor", "046d\n");
        file(&with_serial, "serial", "CAM-SERIAL\n");
        file(&with_serial.join("1-2.1:1.0"), "bInterfaceNumber", "00\n");
        let without = hub.join("1-2.2");
        file(&without, "idVendor", "046d\n");
        file(&without.join("1-2.2:1.0"), "bInterfaceNumber", "00\n");
        let on_root_port = root_hub.join("1-3");
        file(&on_root_port, "idVendor", "046d\n");
        file(&on_root_port.join("1-3:1.0"), "bInterfaceNumber", "00\n");
        let platform = root.join("devices/platform/vivid.0");
        file(&platform, "modalias", "platform:vivid\n");
        let class = root.join("class/video4linux");
        for (node, device) in [
            ("video0", with_serial.join("1-2.1:1.0")),
            ("video2", without.join("1-2.2:1.0")),
            ("video4", on_root_port.join("1-3:1.0")),
            ("video6", platform.clone()),
        ] {
            std::fs::create_dir_all(class.join(node)).unwrap();
            std::os::unix::fs::symlink(device, class.join(node).join("device")).unwrap();
        }
        assert_eq!(usb_serial(&class, "video0"), "CAM-SERIAL");
        assert_eq!(usb_serial(&class, "video2"), "", "not the hub's");
        assert_eq!(usb_serial(&class, "video4"), "", "not the controller's");
        assert_eq!(usb_serial(&class, "video6"), "");
        assert_eq!(usb_serial(&class, "video8"), "", "no such node");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn host_without_video_nodes_lists_nothing() {
        // The build machines have no /dev/video*; on one that has, the list is what is there.
        let list = enumerate().expect("V4L2 enumeration does not fail");
        if nodes(Path::new(DEV_DIR)).is_empty() {
            assert!(list.is_empty());
        }
        assert!(list.iter().all(|d| matches!(d.kind, DeviceKind::VideoInput | DeviceKind::VideoOutput)));
        assert!(path_of("v4l2:none:0").is_err());
    }
}
