//! For the VM tests (tests/vm_*.rs), which include this file with
//! `#[path = "common/vm.rs"] mod vm;`.

use std::io::Write;

/// True inside the VM (VMTEST=1). Elsewhere prints the skip on stderr and returns false. The
/// line goes to `io::stderr()` directly: libtest captures only the print macros, so it shows.
pub fn in_vm(test: &str) -> bool {
    if std::env::var_os("VMTEST").is_some_and(|v| v == "1") {
        return true;
    }
    let _ =
        writeln!(std::io::stderr(), "{test}: skipped: run by scripts/vm-test.sh (needs the VM's drivers and VMTEST=1)");
    false
}

/// After a device's track ended: reads what the processor still hands out until it says
/// Ended, and checks that was at most what was queued when the end came (nothing is delivered
/// after the end). `hang` tells an end from a hang; `what` names the frames in messages.
#[allow(dead_code)] // each VM test file compiles this module; not all of them unplug devices
pub fn read_out_after_end(p: &mst::Processor, hang: std::time::Duration, what: &str) {
    let queued = p.stats().queued;
    let mut after = 0;
    let e = loop {
        match p.read(mst::Wait::For(hang)) {
            Ok(_) => after += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(e.kind, mst::ErrorKind::Ended, "{e}");
    assert!(after <= queued, "{after} {what} read after the end, {queued} were queued");
}

/// vivid's capture node's device id, from the enumeration.
#[allow(dead_code)] // not every VM test file opens vivid's camera
pub fn vivid_camera() -> String {
    let list = mst::device::enumerate().unwrap();
    list.iter()
        .find(|d| d.kind == mst::device::DeviceKind::VideoInput && d.group_id == "v4l2:platform:vivid-000")
        .unwrap_or_else(|| panic!("no vivid camera in {list:#?}"))
        .device_id
        .clone()
}
