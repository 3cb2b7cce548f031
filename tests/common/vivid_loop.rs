//! vivid's output -> capture loop, for the VM tests that send frames through it and read them
//! back (tests/vm_video_loop.rs, tests/vm_cli.rs; `#[path = "common/vivid_loop.rs"] mod
//! vivid_loop;`), and vivid's ids and controls (tests/vm_color.rs).
//!
//! vivid loops its output node (output 1 "HDMI") into its capture node (input 3 "HDMI") when the
//! capture node's control `loop_video` is 1 and both sides use the same format and size (the
//! default DV timings: 1280x720). With `osd_text_mode` 2 (no on-screen text) the captured
//! picture is the written one, bit for bit (vmtest/README.md).

use std::os::raw::{c_int, c_void};

use mst::device::{self, DeviceKind};
use v4l::Device;

pub fn vivid(kind: DeviceKind) -> String {
    let list = device::enumerate().unwrap();
    list.iter()
        .find(|d| d.kind == kind && d.group_id == "v4l2:platform:vivid-000")
        .unwrap_or_else(|| panic!("no vivid {kind:?} in {list:#?}"))
        .device_id
        .clone()
}

fn ioctl_int(dev: &Device, request: v4l::v4l2::vidioc::_IOC_TYPE, value: c_int) -> std::io::Result<()> {
    let mut v = value;
    unsafe { v4l::v4l2::ioctl(dev.handle().fd(), request, &mut v as *mut c_int as *mut c_void) }
}

/// The id of the control whose name, in v4l2-ctl's spelling (lower case, `_` for the rest), is `name`.
pub fn control_id(dev: &Device, name: &str) -> u32 {
    let all = dev.query_controls().unwrap();
    let spell = |n: &str| {
        n.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect::<String>()
    };
    all.iter()
        .find(|d| spell(&d.name) == name)
        .unwrap_or_else(|| panic!("no control {name}: {:?}", all.iter().map(|d| &d.name).collect::<Vec<_>>()))
        .id
}

pub fn set_control(dev: &Device, id: u32, value: i32) {
    let mut c = v4l::v4l_sys::v4l2_control { id, value };
    unsafe { v4l::v4l2::ioctl(dev.handle().fd(), v4l::v4l2::vidioc::VIDIOC_S_CTRL, &mut c as *mut _ as *mut c_void) }
        .unwrap_or_else(|e| panic!("VIDIOC_S_CTRL {id:#x}={value}: {e}"));
}

/// vivid set up for the loop; put back as it was (input 0, output 0, loop and OSD off) on drop.
pub struct Loop {
    cap: Device,
    out: Device,
    loop_video: u32,
    osd: u32,
}

impl Loop {
    pub fn new() -> Loop {
        let cap = Device::with_path(device::v4l2::path_of(&vivid(DeviceKind::VideoInput)).unwrap()).unwrap();
        let out = Device::with_path(device::v4l2::path_of(&vivid(DeviceKind::VideoOutput)).unwrap()).unwrap();
        ioctl_int(&cap, v4l::v4l2::vidioc::VIDIOC_S_INPUT, 3).expect("VIDIOC_S_INPUT 3 (HDMI)");
        ioctl_int(&out, v4l::v4l2::vidioc::VIDIOC_S_OUTPUT, 1).expect("VIDIOC_S_OUTPUT 1 (HDMI)");
        let loop_video = control_id(&cap, "loop_video");
        let osd = control_id(&cap, "osd_text_mode");
        set_control(&cap, loop_video, 1);
        set_control(&cap, osd, 2);
        Loop { cap, out, loop_video, osd }
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        set_control(&self.cap, self.loop_video, 0);
        set_control(&self.cap, self.osd, 0);
        let _ = ioctl_int(&self.cap, v4l::v4l2::vidioc::VIDIOC_S_INPUT, 0);
        let _ = ioctl_int(&self.out, v4l::v4l2::vidioc::VIDIOC_S_OUTPUT, 0);
    }
}
