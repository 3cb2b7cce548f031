//! Harness checks for the VM stage: the kernel drivers the device code uses are really there.
//!
//! `scripts/vm-test.sh` boots Debian's kernel in qemu with `vivid n_devs=1 node_types=0x101`
//! (/dev/video0 capture, /dev/video1 output), `snd-aloop index=0` (card 0 "Loopback") and
//! `snd-dummy index=1` (card 1 "Dummy"), and runs every `tests/vm_*.rs` executable there with
//! `--include-ignored` and VMTEST=1 (see vmtest/README.md). These tests check that set-up, not
//! libmst: the product's device tests come with the device code.
//!
//! Outside the VM there are no such devices, so every test here is `#[ignore]`d: a host
//! `cargo test` lists each one as "ignored, runs in the VM stage: scripts/vm-test.sh" instead
//! of a pass. Run by hand with `--include-ignored` but without VMTEST=1, a test prints
//! "skipped: ..." and returns.

use std::fs::OpenOptions;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::io::AsRawFd;

#[path = "common/vm.rs"]
mod vm;
use vm::in_vm;

// ---------------------------------------------------------------------------------------------
// V4L2: VIDIOC_QUERYCAP, from linux/videodev2.h

/// `struct v4l2_capability`.
#[repr(C)]
#[derive(Default)]
struct V4l2Capability {
    driver: [u8; 16],
    card: [u8; 32],
    bus_info: [u8; 32],
    version: u32,
    capabilities: u32,
    device_caps: u32,
    #[allow(dead_code)] // zeroed by the kernel
    reserved: [u32; 3],
}
const _: () = assert!(std::mem::size_of::<V4l2Capability>() == 104);

/// `_IOR('V', 0, struct v4l2_capability)`: direction read (2) << 30 | size << 16 | type << 8 | nr.
const VIDIOC_QUERYCAP: u32 = (2 << 30) | ((std::mem::size_of::<V4l2Capability>() as u32) << 16) | ((b'V' as u32) << 8);
const _: () = assert!(VIDIOC_QUERYCAP == 0x8068_5600);

const V4L2_CAP_VIDEO_CAPTURE: u32 = 0x0000_0001;
const V4L2_CAP_VIDEO_OUTPUT: u32 = 0x0000_0002;
const V4L2_CAP_STREAMING: u32 = 0x0400_0000;
const V4L2_CAP_DEVICE_CAPS: u32 = 0x8000_0000;

/// A NUL-padded fixed-size string field.
fn c_field(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// What the /dev/ directory holds that starts with `prefix`, for failure messages.
fn dev_listing(dir: &str, prefix: &str) -> String {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(prefix))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    format!("{dir}: [{}]", names.join(", "))
}

/// What VIDIOC_QUERYCAP says about a device node.
struct Caps {
    driver: String,
    /// card and bus_info, for messages
    card: String,
    /// the driver's version, for messages
    version: String,
    device_caps: u32,
}

/// VIDIOC_QUERYCAP on `path`; the device_caps field must be valid.
fn querycap(path: &str) -> Caps {
    let dev = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open {path}: {e}; {}", dev_listing("/dev", "video")));
    let mut cap = V4l2Capability::default();
    // SAFETY: the fd is open for the whole call, and `cap` is a writable v4l2_capability,
    // which is what VIDIOC_QUERYCAP fills (its size is encoded in the request number).
    let r = unsafe { libc::ioctl(dev.as_raw_fd(), VIDIOC_QUERYCAP as _, &mut cap as *mut V4l2Capability) };
    assert_eq!(r, 0, "VIDIOC_QUERYCAP on {path}: {}", std::io::Error::last_os_error());
    assert_ne!(
        cap.capabilities & V4L2_CAP_DEVICE_CAPS,
        0,
        "{path}: device_caps not valid (capabilities {:#x})",
        cap.capabilities
    );
    Caps {
        driver: c_field(&cap.driver),
        card: format!("{} ({})", c_field(&cap.card), c_field(&cap.bus_info)),
        version: format!("{}.{}.{}", cap.version >> 16, (cap.version >> 8) & 0xff, cap.version & 0xff),
        device_caps: cap.device_caps,
    }
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn video0_is_a_vivid_capture_device() {
    if !in_vm("video0_is_a_vivid_capture_device") {
        return;
    }
    let c = querycap("/dev/video0");
    let caps = c.device_caps;
    assert_eq!(c.driver, "vivid", "/dev/video0 card {}", c.card);
    assert_ne!(caps & V4L2_CAP_VIDEO_CAPTURE, 0, "/dev/video0 device_caps {caps:#x}: no VIDEO_CAPTURE");
    assert_ne!(caps & V4L2_CAP_STREAMING, 0, "/dev/video0 device_caps {caps:#x}: no STREAMING");
    println!("/dev/video0: driver {} {}, card {}, device_caps {caps:#010x}", c.driver, c.version, c.card);
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn video1_is_a_vivid_output_device() {
    if !in_vm("video1_is_a_vivid_output_device") {
        return;
    }
    let c = querycap("/dev/video1");
    let caps = c.device_caps;
    assert_eq!(c.driver, "vivid", "/dev/video1 card {}", c.card);
    assert_ne!(caps & V4L2_CAP_VIDEO_OUTPUT, 0, "/dev/video1 device_caps {caps:#x}: no VIDEO_OUTPUT");
    assert_ne!(caps & V4L2_CAP_STREAMING, 0, "/dev/video1 device_caps {caps:#x}: no STREAMING");
    println!("/dev/video1: driver {} {}, card {}, device_caps {caps:#010x}", c.driver, c.version, c.card);
}

// ---------------------------------------------------------------------------------------------
// ALSA

/// The card ids in /proc/asound/cards by index: lines like ` 0 [Loopback       ]: Loopback - ...`.
fn alsa_cards() -> (String, Vec<(u32, String)>) {
    let text = std::fs::read_to_string("/proc/asound/cards")
        .unwrap_or_else(|e| panic!("/proc/asound/cards: {e} (is ALSA in the kernel?)"));
    let cards = text
        .lines()
        .filter_map(|l| {
            let (index, rest) = l.trim_start().split_once(' ')?;
            let id = rest.trim_start().strip_prefix('[')?.split(']').next()?.trim();
            Some((index.parse().ok()?, id.to_string()))
        })
        .collect();
    (text, cards)
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn sound_cards_are_loopback_and_dummy() {
    if !in_vm("sound_cards_are_loopback_and_dummy") {
        return;
    }
    let (text, cards) = alsa_cards();
    assert!(text.contains("Loopback"), "no Loopback card in /proc/asound/cards:\n{text}");
    assert!(text.contains("Dummy"), "no Dummy card in /proc/asound/cards:\n{text}");
    // snd-aloop index=0, snd-dummy index=1: the device code's tests can name hw:0 and hw:1
    assert_eq!(cards, [(0, "Loopback".to_string()), (1, "Dummy".to_string())], "/proc/asound/cards:\n{text}");
    print!("/proc/asound/cards:\n{text}");
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn pcm_device_nodes_exist() {
    if !in_vm("pcm_device_nodes_exist") {
        return;
    }
    // Loopback: what is played on device 0 is captured on device 1 (and the other way);
    // Dummy: a playback sink and a capture source of silence.
    for node in ["pcmC0D0p", "pcmC0D1c", "pcmC0D0c", "pcmC0D1p", "pcmC1D0p", "pcmC1D0c", "controlC0", "controlC1"] {
        let path = format!("/dev/snd/{node}");
        let meta = std::fs::metadata(&path).unwrap_or_else(|e| panic!("{path}: {e}; {}", dev_listing("/dev/snd", "")));
        assert!(meta.file_type().is_char_device(), "{path} is not a character device");
    }
}
