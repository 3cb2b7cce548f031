//! A log receiver that stops a reacquiring track from the device watcher's thread. In a file
//! of its own: its process has no watcher running until the supervisor starts one, and no
//! other test's log receiver.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mst::source::fake::{FakeDevice, FakeInit};
use mst::source::reacquire::{set_reacquire, Reacquire};
use mst::source::v4l2::{camera, CameraOptions};
use mst::*;

/// Only to tell a hang from slowness.
const HANG: Duration = Duration::from_secs(30);

#[test]
fn a_log_receiver_on_the_watcher_thread_may_stop_a_track_whose_supervisor_started_the_watcher() {
    let dev = FakeDevice::add(FakeInit::camera("log-stop")).unwrap();
    let track = camera("fake:log-stop", &VideoConstraints::default(), &CameraOptions::default()).unwrap();
    set_reacquire(&track, Reacquire::Forever).unwrap();
    // The device going away makes the supervisor start the watcher and wait for its first
    // enumeration, which logs (Debug) on the watcher thread: the receiver stops the track from
    // there, while the supervisor it would wait for is waiting for this very thread.
    let to_stop = Mutex::new(Some(track.clone()));
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = Mutex::new(tx);
    drop(mst::log::set_receiver(Some(Arc::new(move |_, _, _: &std::ffi::CStr| {
        if std::thread::current().name() == Some("mst-devwatch") {
            if let Some(t) = to_stop.lock().unwrap().take() {
                t.stop();
                let _ = tx.lock().unwrap().send(());
            }
        }
    }))));
    mst::log::set_max_level(mst::log::Level::Debug);
    dev.remove();
    let stopped = rx.recv_timeout(HANG);
    mst::log::set_max_level(mst::log::Level::Warning);
    drop(mst::log::set_receiver(None));
    if stopped.is_err() {
        std::mem::forget(track);
        panic!("stopping the track on the watcher thread did not return in {HANG:?}");
    }
    assert_eq!(track.end_reason(), Some(EndReason::Stopped));

    // The supervisor ends by itself, dropping the watcher: device changes are reported still.
    let (calls_tx, calls_rx) = std::sync::mpsc::channel();
    let calls_tx = Mutex::new(calls_tx);
    mst::device::watch::set_callback(Some(Arc::new(move || {
        let _ = calls_tx.lock().unwrap().send(());
    })))
    .unwrap();
    let mic = FakeDevice::add(FakeInit::microphone("log-stop-mic")).unwrap();
    calls_rx.recv_timeout(HANG).expect("the device-change callback called");
    mst::device::watch::set_callback(None).unwrap();
    mic.remove();
}
