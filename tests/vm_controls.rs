//! Camera controls (Media Capture Image's brightness, contrast, ..., exposureMode, zoom, pan,
//! tilt) against vivid's capture node in the VM stage (`scripts/vm-test.sh controls`): what a
//! camera track reports in capabilities and settings and sets in applyConstraints, checked
//! against the driver with the test's own VIDIOC_QUERY_EXT_CTRL and VIDIOC_G_EXT_CTRLS.
//!
//! vivid has the user controls brightness, contrast, saturation (0..=255, default 128) and hue,
//! and no camera-class controls (exposure, focus, zoom, pan, tilt): those must be absent.
//! Every test restores the controls it changed. Outside the VM every test is `#[ignore]`d.

use std::ffi::c_void;
use std::os::fd::{AsRawFd, OwnedFd};

use mst::constraints::{ConstrainMode, ConstrainRange, Control, MeteringMode, ModeControl, SettingsRange};
use mst::device;
use mst::source::v4l2::{camera, CameraOptions};
use mst::*;
use v4l::v4l2::vidioc;
use v4l::v4l_sys as sys;

#[path = "common/vm.rs"]
mod vm;
use vm::in_vm;

/// The V4L2 control of each numeric property, in `Control::ALL` order (the mapping libmst
/// documents; repeated here so the test checks it rather than reads it back).
const VALUE_CIDS: [(Control, u32); 10] = [
    (Control::Brightness, sys::V4L2_CID_BRIGHTNESS),
    (Control::Contrast, sys::V4L2_CID_CONTRAST),
    (Control::Saturation, sys::V4L2_CID_SATURATION),
    (Control::Sharpness, sys::V4L2_CID_SHARPNESS),
    (Control::ExposureTime, sys::V4L2_CID_EXPOSURE_ABSOLUTE),
    (Control::ColorTemperature, sys::V4L2_CID_WHITE_BALANCE_TEMPERATURE),
    (Control::FocusDistance, sys::V4L2_CID_FOCUS_ABSOLUTE),
    (Control::Zoom, sys::V4L2_CID_ZOOM_ABSOLUTE),
    (Control::Pan, sys::V4L2_CID_PAN_ABSOLUTE),
    (Control::Tilt, sys::V4L2_CID_TILT_ABSOLUTE),
];

const MODE_CIDS: [(ModeControl, u32); 3] = [
    (ModeControl::Exposure, sys::V4L2_CID_EXPOSURE_AUTO),
    (ModeControl::WhiteBalance, sys::V4L2_CID_AUTO_WHITE_BALANCE),
    (ModeControl::Focus, sys::V4L2_CID_FOCUS_AUTO),
];

/// A small camera track on vivid (the controls do not depend on the mode).
fn track() -> Track {
    let c = VideoConstraints {
        width: ConstrainRange { ideal: Some(320.0), ..Default::default() },
        height: ConstrainRange { ideal: Some(180.0), ..Default::default() },
        ..Default::default()
    };
    camera(&vm::vivid_camera(), &c, &CameraOptions::default()).unwrap()
}

/// The test's own fd on the camera's node.
fn node() -> OwnedFd {
    let path = device::v4l2::path_of(&vm::vivid_camera()).unwrap();
    OwnedFd::from(std::fs::OpenOptions::new().read(true).write(true).open(path).unwrap())
}

fn ioctl<T>(fd: &OwnedFd, request: vidioc::_IOC_TYPE, arg: &mut T) -> std::io::Result<()> {
    // SAFETY: `arg` is the struct `request` takes.
    unsafe { v4l::v4l2::ioctl(fd.as_raw_fd(), request, arg as *mut T as *mut c_void) }
}

/// VIDIOC_QUERY_EXT_CTRL of `id`: None when the driver does not have it.
fn query(fd: &OwnedFd, id: u32) -> Option<sys::v4l2_query_ext_ctrl> {
    // SAFETY: plain C struct.
    let mut q: sys::v4l2_query_ext_ctrl = unsafe { std::mem::zeroed() };
    q.id = id;
    match ioctl(fd, vidioc::VIDIOC_QUERY_EXT_CTRL, &mut q) {
        Ok(()) => Some(q),
        Err(e) => {
            assert_eq!(e.raw_os_error(), Some(libc::EINVAL), "VIDIOC_QUERY_EXT_CTRL {id:#x}: {e}");
            None
        }
    }
}

/// The control as libmst should offer it: present, enabled, writable.
fn usable(fd: &OwnedFd, id: u32) -> Option<sys::v4l2_query_ext_ctrl> {
    query(fd, id).filter(|q| q.flags & (sys::V4L2_CTRL_FLAG_DISABLED | sys::V4L2_CTRL_FLAG_READ_ONLY) == 0)
}

fn ext_ctrl(fd: &OwnedFd, request: vidioc::_IOC_TYPE, id: u32, value: i32) -> i32 {
    // SAFETY: plain C structs.
    let mut c: sys::v4l2_ext_control = unsafe { std::mem::zeroed() };
    c.id = id;
    c.__bindgen_anon_1.value = value;
    let mut e: sys::v4l2_ext_controls = unsafe { std::mem::zeroed() };
    e.count = 1;
    e.controls = &mut c;
    ioctl(fd, request, &mut e).unwrap_or_else(|err| panic!("ext ctrls {id:#x}: {err}"));
    // SAFETY: an integer control's member.
    unsafe { c.__bindgen_anon_1.value }
}

/// VIDIOC_G_EXT_CTRLS of one integer control.
fn get(fd: &OwnedFd, id: u32) -> i32 {
    ext_ctrl(fd, vidioc::VIDIOC_G_EXT_CTRLS, id, 0)
}

fn set(fd: &OwnedFd, id: u32, value: i32) {
    ext_ctrl(fd, vidioc::VIDIOC_S_EXT_CTRLS, id, value);
}

fn with_value(ctl: Control, r: ConstrainRange) -> VideoConstraints {
    let mut c = VideoConstraints::default();
    c.controls.values[ctl.index()] = r;
    c
}

fn exact(v: f64) -> ConstrainRange {
    ConstrainRange { exact: Some(v), ..Default::default() }
}

fn ideal(v: f64) -> ConstrainRange {
    ConstrainRange { ideal: Some(v), ..Default::default() }
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn controls_capabilities_are_what_query_ext_ctrl_says() {
    if !in_vm("controls_capabilities_are_what_query_ext_ctrl_says") {
        return;
    }
    let (t, fd) = (track(), node());
    let caps = t.capabilities();
    for (ctl, id) in VALUE_CIDS {
        let want = usable(&fd, id).map(|q| SettingsRange {
            min: q.minimum as f64,
            max: q.maximum as f64,
            step: q.step as f64,
        });
        assert_eq!(caps.controls.ranges[ctl.index()], want, "{ctl:?}");
        eprintln!("{:?}: {:?}", ctl, want);
    }
    for (m, id) in MODE_CIDS {
        let offered = caps.controls.modes[m.index()];
        assert_eq!(offered.is_empty(), usable(&fd, id).is_none(), "{m:?}: {offered}");
        eprintln!("{m:?}: [{offered}]");
    }
    for ctl in [Control::Brightness, Control::Contrast, Control::Saturation] {
        assert_eq!(
            caps.controls.ranges[ctl.index()],
            Some(SettingsRange { min: 0.0, max: 255.0, step: 1.0 }),
            "vivid's {ctl:?}"
        );
    }
    // vivid has no camera-class controls: they are absent, not faked.
    for ctl in [Control::ExposureTime, Control::FocusDistance, Control::Zoom, Control::Pan, Control::Tilt] {
        assert_eq!(query(&fd, VALUE_CIDS[ctl.index()].1).map(|q| q.id), None, "vivid has {ctl:?}");
        assert_eq!(caps.controls.ranges[ctl.index()], None);
    }
    // Settings report what the driver has now.
    let s = t.settings();
    for (ctl, id) in VALUE_CIDS {
        if caps.controls.ranges[ctl.index()].is_some() {
            assert_eq!(s.controls.values[ctl.index()], Some(get(&fd, id) as f64), "{ctl:?}");
        } else {
            assert_eq!(s.controls.values[ctl.index()], None, "{ctl:?}");
        }
    }
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn controls_apply_constraints_sets_what_the_driver_then_reads() {
    if !in_vm("controls_apply_constraints_sets_what_the_driver_then_reads") {
        return;
    }
    let (t, fd) = (track(), node());
    let id = sys::V4L2_CID_BRIGHTNESS;
    let before = get(&fd, id);
    let target = if before == 200 { 100 } else { 200 };
    t.apply_constraints(&with_value(Control::Brightness, ideal(target as f64))).unwrap();
    assert_eq!(get(&fd, id), target, "the driver's brightness");
    assert_eq!(t.settings().controls.values[Control::Brightness.index()], Some(target as f64));
    assert_eq!(t.constraints().controls.values[Control::Brightness.index()], ideal(target as f64));
    // An ideal beyond the range goes to its end; a required range moves to its nearest value.
    t.apply_constraints(&with_value(Control::Brightness, ideal(1000.0))).unwrap();
    assert_eq!(get(&fd, id), 255);
    t.apply_constraints(&with_value(Control::Brightness, ConstrainRange { max: Some(40.5), ..Default::default() }))
        .unwrap();
    assert_eq!(get(&fd, id), 40);
    assert_eq!(t.settings().controls.values[Control::Brightness.index()], Some(40.0));
    // The device's controls are shared: a second track on the camera sees them.
    let clone = t.clone_track();
    assert_eq!(clone.settings().controls.values[Control::Brightness.index()], Some(40.0));
    set(&fd, id, before);
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn controls_a_required_value_out_of_range_is_overconstrained_and_changes_nothing() {
    if !in_vm("controls_a_required_value_out_of_range_is_overconstrained_and_changes_nothing") {
        return;
    }
    let (t, fd) = (track(), node());
    let (b, c) = (get(&fd, sys::V4L2_CID_BRIGHTNESS), get(&fd, sys::V4L2_CID_CONTRAST));
    let applied = t.constraints();
    let mut asked = with_value(Control::Brightness, exact(if b == 10 { 11.0 } else { 10.0 }));
    asked.controls.values[Control::Contrast.index()] = exact(300.0);
    let e = t.apply_constraints(&asked).unwrap_err();
    assert_eq!((e.kind, e.constraint), (ErrorKind::Overconstrained, Some("contrast")), "{e}");
    assert!(e.message.contains("0..=255 step 1"), "{e}");
    assert_eq!((get(&fd, sys::V4L2_CID_BRIGHTNESS), get(&fd, sys::V4L2_CID_CONTRAST)), (b, c), "nothing written");
    assert_eq!(t.constraints(), applied);
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn controls_vivid_lacks_ignores_an_ideal_and_fails_a_required_member() {
    if !in_vm("controls_vivid_lacks_ignores_an_ideal_and_fails_a_required_member") {
        return;
    }
    let (t, fd) = (track(), node());
    assert!(query(&fd, sys::V4L2_CID_ZOOM_ABSOLUTE).is_none(), "vivid has a zoom");
    t.apply_constraints(&with_value(Control::Zoom, ideal(2.0))).unwrap();
    assert_eq!(t.settings().controls.values[Control::Zoom.index()], None);
    let e = t
        .apply_constraints(&with_value(Control::Zoom, ConstrainRange { min: Some(1.0), ..Default::default() }))
        .unwrap_err();
    assert_eq!((e.kind, e.constraint), (ErrorKind::Overconstrained, Some("zoom")), "{e}");
    let mut c = VideoConstraints::default();
    c.controls.modes[ModeControl::Focus.index()] = ConstrainMode { exact: Some(MeteringMode::Manual), ideal: None };
    let e = t.apply_constraints(&c).unwrap_err();
    assert_eq!(e.constraint, Some("focusMode"), "{e}");
    c.controls.modes[ModeControl::Focus.index()] = ConstrainMode { exact: None, ideal: Some(MeteringMode::Manual) };
    t.apply_constraints(&c).unwrap();
}

/// The fds of this process open on `path`.
fn fds_on(path: &std::path::Path) -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|target| target == path)
        .count()
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn controls_let_go_of_the_device_when_the_camera_stops() {
    if !in_vm("controls_let_go_of_the_device_when_the_camera_stops") {
        return;
    }
    let path = device::v4l2::path_of(&vm::vivid_camera()).unwrap();
    assert_eq!(fds_on(&path), 0, "an fd on {path:?} before the test");
    let t = track();
    assert!(fds_on(&path) >= 2, "the capture fd and the controls' fd");
    t.stop();
    // The capture thread closes its fd as it ends; the controls close theirs at once.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while fds_on(&path) > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(fds_on(&path), 0, "a stopped (not yet freed) camera track holds {path:?} open");
    // Still checked, no longer written.
    let e = t.apply_constraints(&with_value(Control::Contrast, exact(300.0))).unwrap_err();
    assert_eq!(e.constraint, Some("contrast"), "{e}");
    t.apply_constraints(&with_value(Control::Contrast, ideal(3.0))).unwrap();
    let fd = node();
    assert_ne!(get(&fd, sys::V4L2_CID_CONTRAST), 3, "a stopped track wrote a control");
}
