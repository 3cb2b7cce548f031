//! The device-change callback against real drivers, in the VM stage (`scripts/vm-test.sh`):
//! unbinding and binding vivid (its camera and output nodes) and snd-aloop (card "Loopback")
//! each calls it, and the list the callback reads agrees with what happened.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use mst::device::watch::{set_callback, SETTLE};
use mst::device::{enumerate, DeviceInfo};

use super::vm;
use vm::in_vm;

/// Only to tell a hang from slowness (the guest CPU is emulated).
const HANG: Duration = Duration::from_secs(60);

/// What the callback saw: how many calls, and the list it enumerated in the last one.
#[derive(Default)]
struct Seen {
    state: Mutex<(u32, Vec<String>)>,
    cv: Condvar,
}

impl Seen {
    /// Waits for a call after call `after` whose list passes `ok`; returns the calls so far.
    fn wait(&self, after: u32, what: &str, ok: impl Fn(&[String]) -> bool) -> u32 {
        let deadline = Instant::now() + HANG;
        let mut s = self.state.lock().unwrap();
        while !(s.0 > after && ok(&s.1)) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no device-change call with {what} in {HANG:?}: {} calls, last list {:?}",
                s.0,
                s.1
            );
            s = self.cv.wait_timeout(s, left).unwrap().0;
        }
        s.0
    }

    fn calls(&self) -> u32 {
        self.state.lock().unwrap().0
    }
}

fn ids(list: Vec<DeviceInfo>) -> Vec<String> {
    list.into_iter().map(|d| d.device_id).collect()
}

fn sysfs(driver: &str, op: &str, device: &str) {
    std::fs::write(format!("/sys/bus/platform/drivers/{driver}/{op}"), device)
        .unwrap_or_else(|e| panic!("{op} {device}: {e}"));
}

/// Rebinds what a failed test left unbound, so later tests see the default devices.
struct Rebind(&'static str, &'static str);

impl Drop for Rebind {
    fn drop(&mut self) {
        if !Path::new(&format!("/sys/bus/platform/drivers/{}/{}", self.0, self.1)).exists() {
            let _ = std::fs::write(format!("/sys/bus/platform/drivers/{}/bind", self.0), self.1);
        }
    }
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn unbinding_and_binding_vivid_and_snd_aloop_each_call_the_device_change_callback() {
    if !in_vm("unbinding_and_binding_vivid_and_snd_aloop_each_call_the_device_change_callback") {
        return;
    }
    let seen = Arc::new(Seen::default());
    let s = seen.clone();
    set_callback(Some(Arc::new(move || {
        // What an application does on devicechange: enumerate again.
        let list = ids(enumerate().unwrap());
        let mut st = s.state.lock().unwrap();
        st.0 += 1;
        st.1 = list;
        s.cv.notify_all();
    })))
    .unwrap();
    let camera = "v4l2:platform:vivid-000:0";
    let output = "v4l2:platform:vivid-000:1";
    let loopback = |l: &[String]| l.iter().any(|d| d.contains("CARD=Loopback"));
    let has = |l: &[String], id: &str| l.iter().any(|d| d == id);
    let before = ids(enumerate().unwrap());
    assert!(has(&before, camera) && has(&before, output) && loopback(&before), "{before:?}");
    // Nothing changes: no call.
    std::thread::sleep(SETTLE * 10);
    assert_eq!(seen.calls(), 0);

    for round in 0..2 {
        let _vivid = Rebind("vivid", "vivid.0");
        let n = seen.calls();
        sysfs("vivid", "unbind", "vivid.0");
        let n = seen.wait(n, "vivid gone", |l| !has(l, camera) && !has(l, output) && loopback(l));
        println!("round {round}: vivid unbound: {n} calls");
        sysfs("vivid", "bind", "vivid.0");
        let n = seen.wait(n, "vivid back", |l| has(l, camera) && has(l, output));
        println!("round {round}: vivid bound: {n} calls");

        let _aloop = Rebind("snd_aloop", "snd_aloop.0");
        sysfs("snd_aloop", "unbind", "snd_aloop.0");
        let n = seen.wait(n, "Loopback gone", |l| !loopback(l) && has(l, camera));
        println!("round {round}: snd_aloop unbound: {n} calls");
        sysfs("snd_aloop", "bind", "snd_aloop.0");
        let n = seen.wait(n, "Loopback back", |l| loopback(l));
        println!("round {round}: snd_aloop bound: {n} calls");
    }
    // Quiet again: the last call's list is the list, and no further call comes.
    std::thread::sleep(SETTLE * 10);
    let calls = seen.calls();
    std::thread::sleep(SETTLE * 10);
    assert_eq!(seen.calls(), calls, "calls without a change");
    assert_eq!(seen.state.lock().unwrap().1, ids(enumerate().unwrap()));
    set_callback(None).unwrap();
}
