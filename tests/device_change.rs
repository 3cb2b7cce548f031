//! The device-change callback (the spec's `devicechange`) with fake devices: one call per change
//! of the list, none without one, and the registration's guarantees (replacing or removing it
//! from any thread, inside the callback too).

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use mst::device::watch::{self, set_callback, SETTLE};
use mst::device::{enumerate, DeviceKind};
use mst::source::fake::{FakeDevice, FakeInit, Fault, FaultKind, Pacing};
use mst::*;

/// Only to tell a hang from slowness.
const HANG: Duration = Duration::from_secs(30);

/// The callback is process-wide: the tests take turns.
fn serial() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|p| p.into_inner())
}

/// Counts calls, and lets a test wait for a count.
#[derive(Default)]
struct Calls {
    n: Mutex<u32>,
    cv: Condvar,
}

impl Calls {
    fn callback(self: &Arc<Self>) -> Arc<watch::Callback> {
        let me = self.clone();
        Arc::new(move || {
            *me.n.lock().unwrap() += 1;
            me.cv.notify_all();
        })
    }

    fn register(self: &Arc<Self>) {
        set_callback(Some(self.callback())).unwrap();
    }

    fn wait_for(&self, want: u32) {
        let deadline = Instant::now() + HANG;
        let mut n = self.n.lock().unwrap();
        while *n < want {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "{} calls after {HANG:?}, not {want}", *n);
            n = self.cv.wait_timeout(n, left).unwrap().0;
        }
    }

    fn count(&self) -> u32 {
        *self.n.lock().unwrap()
    }
}

fn microphone(name: &str, faults: Vec<Fault>) -> Arc<FakeDevice> {
    let pacing = if faults.is_empty() { Pacing::Lossless } else { Pacing::RealTime };
    FakeDevice::add(FakeInit { pacing, faults, ..FakeInit::microphone(name) }).unwrap()
}

fn listed(id: &str) -> bool {
    enumerate().unwrap().iter().any(|d| d.device_id == id && d.kind == DeviceKind::AudioInput)
}

/// Long enough for a wake to have been looked at: the settle time and then some.
fn past_a_burst() {
    std::thread::sleep(SETTLE * 5);
}

#[test]
fn adding_and_freeing_a_fake_device_each_call_once_and_the_list_agrees() {
    let _turn = serial();
    let calls = Arc::new(Calls::default());
    calls.register();
    let mic = microphone("watch-add", Vec::new());
    calls.wait_for(1);
    assert!(listed("fake:watch-add"));
    mic.remove();
    calls.wait_for(2);
    assert!(!listed("fake:watch-add"));
    // A later change is counted as one more: the two above were one call each.
    let other = microphone("watch-add-2", Vec::new());
    calls.wait_for(3);
    assert_eq!(calls.count(), 3);
    set_callback(None).unwrap();
    other.remove();
}

#[test]
fn a_wake_without_a_change_calls_nothing() {
    let _turn = serial();
    let calls = Arc::new(Calls::default());
    calls.register();
    watch::notify();
    past_a_burst();
    // The wake was looked at before this change: had it called, this would be the second.
    let mic = microphone("watch-same", Vec::new());
    calls.wait_for(1);
    past_a_burst();
    assert_eq!(calls.count(), 1);
    set_callback(None).unwrap();
    mic.remove();
}

#[test]
fn an_unplug_fault_is_a_change() {
    let _turn = serial();
    let calls = Arc::new(Calls::default());
    calls.register();
    let mic = microphone("watch-unplug", vec![Fault { at: 0, kind: FaultKind::Unplug }]);
    calls.wait_for(1);
    // Unplugged before its first chunk, without waiting for a reader.
    let track = source::alsa::microphone("fake:watch-unplug", &Default::default()).unwrap();
    calls.wait_for(2);
    assert!(!listed("fake:watch-unplug"));
    drop(track);
    set_callback(None).unwrap();
    mic.remove();
}

#[test]
fn removing_the_callback_waits_for_its_call_and_ends_the_calls() {
    let _turn = serial();
    let running = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicU32::new(0));
    let (r, c) = (running.clone(), calls.clone());
    set_callback(Some(Arc::new(move || {
        r.store(true, Ordering::SeqCst);
        c.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(300));
        r.store(false, Ordering::SeqCst);
    })))
    .unwrap();
    let mic = microphone("watch-remove", Vec::new());
    let deadline = Instant::now() + HANG;
    while !running.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "no call");
        std::thread::sleep(Duration::from_millis(1));
    }
    let previous = set_callback(None).unwrap().expect("the callback was set");
    assert!(!running.load(Ordering::SeqCst), "the call returned before the removal did");
    assert_eq!(Arc::strong_count(&previous), 1, "the watcher holds no copy of it any more");
    mic.remove();
    past_a_burst();
    assert_eq!(calls.load(Ordering::SeqCst), 1, "no call after the removal");
}

#[test]
fn the_callback_may_replace_and_remove_itself() {
    let _turn = serial();
    let second = Arc::new(Calls::default());
    let s = second.clone();
    let first_calls = Arc::new(AtomicU32::new(0));
    let f = first_calls.clone();
    set_callback(Some(Arc::new(move || {
        f.fetch_add(1, Ordering::SeqCst);
        // Inside the call: replaces itself, and does not wait for itself.
        let me = s.clone();
        let previous = set_callback(Some(Arc::new(move || {
            *me.n.lock().unwrap() += 1;
            me.cv.notify_all();
            // The last one removes itself.
            drop(set_callback(None).unwrap());
        })))
        .unwrap();
        assert!(previous.is_some());
    })))
    .unwrap();
    let a = microphone("watch-reenter-a", Vec::new());
    let deadline = Instant::now() + HANG;
    while first_calls.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "no first call");
        std::thread::sleep(Duration::from_millis(1));
    }
    past_a_burst();
    let b = microphone("watch-reenter-b", Vec::new());
    second.wait_for(1);
    past_a_burst();
    // Removed from inside: a later change calls nothing.
    a.remove();
    b.remove();
    past_a_burst();
    assert_eq!(first_calls.load(Ordering::SeqCst), 1);
    assert_eq!(second.count(), 1);
    // And a new registration after that works (a new watcher).
    let calls = Arc::new(Calls::default());
    calls.register();
    let c = microphone("watch-reenter-c", Vec::new());
    calls.wait_for(1);
    set_callback(None).unwrap();
    c.remove();
}

#[test]
fn the_first_registration_does_not_deadlock_with_a_log_receiver_that_registers() {
    let _turn = serial();
    // The new watcher's first enumeration logs (at Debug) while the registering thread waits
    // for it; this receiver registers a callback from there, as an application's may.
    let inner = Arc::new(Calls::default());
    let registered_inside = Arc::new(AtomicBool::new(false));
    let (i, r) = (inner.clone(), registered_inside.clone());
    drop(mst::log::set_receiver(Some(Arc::new(move |_, _, _: &std::ffi::CStr| {
        if std::thread::current().name() == Some("mst-devwatch") && !r.swap(true, Ordering::SeqCst) {
            set_callback(Some(i.callback())).unwrap();
        }
    }))));
    mst::log::set_max_level(mst::log::Level::Debug);
    let outer = Arc::new(Calls::default());
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let o = outer.clone();
    std::thread::spawn(move || {
        o.register();
        done_tx.send(()).unwrap();
    });
    let finished = done_rx.recv_timeout(HANG);
    mst::log::set_max_level(mst::log::Level::Warning);
    drop(mst::log::set_receiver(None));
    assert!(finished.is_ok(), "the registration did not return in {HANG:?}");
    assert!(registered_inside.load(Ordering::SeqCst), "the watcher logged during its first enumeration");
    // The registration that returned last is the one called.
    let mic = microphone("watch-log-register", Vec::new());
    outer.wait_for(1);
    past_a_burst();
    assert_eq!(inner.count(), 0);
    set_callback(None).unwrap();
    mic.remove();
}

#[test]
fn the_callback_may_stop_a_reacquiring_track_whose_wait_keeps_the_watcher_running() {
    let _turn = serial();
    let cam = FakeDevice::add(FakeInit::camera("watch-reacquire")).unwrap();
    let track = source::v4l2::camera("fake:watch-reacquire", &Default::default(), &Default::default()).unwrap();
    source::reacquire::set_reacquire(&track, source::reacquire::Reacquire::Forever).unwrap();
    // The supervisor says it waits once it has subscribed to the watcher.
    let (waiting_tx, waiting_rx) = std::sync::mpsc::channel();
    let waiting_tx = Mutex::new(waiting_tx);
    drop(mst::log::set_receiver(Some(Arc::new(move |_, _, text: &std::ffi::CStr| {
        if text.to_string_lossy().starts_with("fake:watch-reacquire is gone") {
            let _ = waiting_tx.lock().unwrap().send(());
        }
    }))));
    mst::log::set_max_level(mst::log::Level::Info);
    cam.remove();
    let waiting = waiting_rx.recv_timeout(HANG);
    mst::log::set_max_level(mst::log::Level::Warning);
    drop(mst::log::set_receiver(None));
    waiting.expect("the supervisor waits");

    // The callback removes itself, so the supervisor's subscription is the watcher's last, and
    // stops the track, which waits for the supervisor to end and drop it.
    let track = Mutex::new(Some(track));
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let done_tx = Mutex::new(done_tx);
    set_callback(Some(Arc::new(move || {
        drop(set_callback(None).unwrap());
        if let Some(t) = track.lock().unwrap().take() {
            t.stop();
            assert_eq!(t.end_reason(), Some(EndReason::Stopped));
            let _ = done_tx.lock().unwrap().send(());
        }
    })))
    .unwrap();
    let mic = microphone("watch-reacquire-mic", Vec::new());
    done_rx.recv_timeout(HANG).expect("the track stopped from inside the callback");
    mic.remove();
    // A new registration works after that (the stopped watcher is joined first).
    let calls = Arc::new(Calls::default());
    calls.register();
    let other = microphone("watch-reacquire-mic-2", Vec::new());
    calls.wait_for(1);
    set_callback(None).unwrap();
    other.remove();
}
