//! Device enumeration against real kernel drivers, in the VM stage (`scripts/vm-test.sh`):
//! `vivid n_devs=1 node_types=0x101` (/dev/video0 capture, /dev/video1 output, one device),
//! `snd-aloop index=0` (card 0 "Loopback") and `snd-dummy index=1` (card 1 "Dummy").
//!
//! Outside the VM there are no such devices, so every test is `#[ignore]`d: a host `cargo test`
//! lists each as "ignored, runs in the VM stage"; run by hand with `--include-ignored` but
//! without VMTEST=1, a test prints "skipped: ..." and returns.

use std::collections::HashSet;
use std::ffi::CStr;
use std::ptr::null_mut;

use mst::device::{self, v4l2, DeviceInfo, DeviceKind};
use mst::ffi::device::*;
use mst::ffi::MstStatus::{self, MST_OK};

#[path = "common/vm.rs"]
mod vm;
use vm::in_vm;

// In this executable rather than their own: each test executable is copied into the VM's
// memory, and the guest's /tmp shares it.
#[path = "vm_devices/devchange.rs"]
mod devchange;
#[path = "vm_devices/reacquire.rs"]
mod reacquire;

/// Panics, naming the status and the library's last error message, unless `s` is MST_OK.
#[track_caller]
fn ok(s: MstStatus) {
    if s != MST_OK {
        // SAFETY: mst_last_error_message never returns NULL.
        let msg = unsafe { CStr::from_ptr(mst::ffi::mst_last_error_message()) };
        panic!("{s:?}: {}", msg.to_string_lossy());
    }
}

fn only(list: &[DeviceInfo], kind: DeviceKind) -> DeviceInfo {
    let found: Vec<&DeviceInfo> = list.iter().filter(|d| d.kind == kind).collect();
    assert_eq!(found.len(), 1, "exactly one {kind:?} expected (vivid node_types=0x101): {list:#?}");
    found[0].clone()
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn vivid_capture_and_output_are_listed() {
    if !in_vm("vivid_capture_and_output_are_listed") {
        return;
    }
    let list = device::enumerate().expect("enumerate");
    let input = only(&list, DeviceKind::VideoInput);
    let output = only(&list, DeviceKind::VideoOutput);
    for d in [&input, &output] {
        assert!(d.label.contains("vivid"), "label {:?} does not name vivid", d.label);
        assert!(d.device_id.starts_with("v4l2:"), "{d:?}");
        assert!(d.group_id.starts_with("v4l2:"), "{d:?}");
        assert!(d.device_id.starts_with(&format!("{}:", d.group_id)), "{d:?}");
    }
    assert_eq!(input.group_id, output.group_id, "one vivid device, one group");
    assert_ne!(input.device_id, output.device_id);
    assert_eq!(v4l2::path_of(&input.device_id).expect("capture path").to_str(), Some("/dev/video0"));
    assert_eq!(v4l2::path_of(&output.device_id).expect("output path").to_str(), Some("/dev/video1"));

    // Order: audio inputs, audio outputs, video inputs, video outputs.
    let rank = |k: DeviceKind| k as u32;
    assert!(list.windows(2).all(|w| rank(w[0].kind) <= rank(w[1].kind)), "{list:#?}");

    // Ids unique per kind (an ALSA input and output may share one; V4L2 ids are unique overall).
    let ids: HashSet<(DeviceKind, &str)> = list.iter().map(|d| (d.kind, d.device_id.as_str())).collect();
    assert_eq!(ids.len(), list.len(), "duplicate ids: {list:#?}");

    // Both sound cards are still there.
    for card in ["Loopback", "Dummy"] {
        for kind in [DeviceKind::AudioInput, DeviceKind::AudioOutput] {
            let id = format!("hw:CARD={card},DEV=0");
            assert!(list.iter().any(|d| d.kind == kind && d.device_id == id), "no {kind:?} {id}: {list:#?}");
        }
    }

    // The same again.
    assert_eq!(device::enumerate().expect("enumerate again"), list, "a second enumeration differs");
    println!("video input:  {} {:?} group {}", input.device_id, input.label, input.group_id);
    println!("video output: {} {:?} group {}", output.device_id, output.label, output.group_id);
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn c_api_lists_video_devices() {
    if !in_vm("c_api_lists_video_devices") {
        return;
    }
    let mut list = null_mut();
    ok(mst_devices_enumerate(&mut list));
    let mut n = 0usize;
    ok(mst_device_list_get_count(list, &mut n));
    let s = |p| {
        // SAFETY: the list's strings are valid NUL-terminated UTF-8 until mst_device_list_free.
        unsafe { CStr::from_ptr(p) }.to_str().expect("UTF-8").to_string()
    };
    let mut seen = Vec::new();
    for i in 0..n {
        let mut info = MstDeviceInfo {
            struct_size: std::mem::size_of::<MstDeviceInfo>() as u32,
            kind: MstDeviceKind::MST_DEVICE_KIND_AUDIO_INPUT,
            device_id: std::ptr::null(),
            label: std::ptr::null(),
            group_id: std::ptr::null(),
        };
        ok(mst_device_list_get_device(list, i, &mut info));
        seen.push((info.kind, s(info.device_id), s(info.label), s(info.group_id)));
    }
    ok(mst_device_list_free(list));

    let rust = device::enumerate().expect("enumerate");
    assert_eq!(seen.len(), rust.len(), "C {seen:#?}\nRust {rust:#?}");
    let video: Vec<_> = seen
        .iter()
        .filter(|(k, ..)| {
            matches!(k, MstDeviceKind::MST_DEVICE_KIND_VIDEO_INPUT | MstDeviceKind::MST_DEVICE_KIND_VIDEO_OUTPUT)
        })
        .collect();
    assert_eq!(video.len(), 2, "{seen:#?}");
    assert_eq!(video[0].0, MstDeviceKind::MST_DEVICE_KIND_VIDEO_INPUT);
    assert_eq!(video[1].0, MstDeviceKind::MST_DEVICE_KIND_VIDEO_OUTPUT);
    assert_eq!(video[0].3, video[1].3, "one group");
    for v in &video {
        assert!(v.2.contains("vivid"), "{v:?}");
        assert!(
            rust.iter().any(|d| d.device_id == v.1 && d.label == v.2 && d.group_id == v.3),
            "{v:?} not in {rust:#?}"
        );
    }
}
