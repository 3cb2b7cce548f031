//! Reacquire with fake devices: a track that waits, muted, for its device to come back, takes
//! only the same device, resumes with the same settings, and ends only on a timeout or a stop;
//! the processor's and the capture counters add up across sessions.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mst::sink::processor::{Processor, Wait};
use mst::source::fake::{FakeDevice, FakeInit, Fault, FaultKind};
use mst::source::reacquire::{set_reacquire, Reacquire};
use mst::source::v4l2::{camera, camera_stats, CameraOptions};
use mst::*;

/// Only to tell a hang from slowness.
const HANG: Duration = Duration::from_secs(30);
/// Long enough for a supervisor woken by the device watcher (after its settle time) to have
/// looked at what changed.
const LOOK: Duration = Duration::from_millis(600);

fn camera_init(name: &str, label: &str, faults: Vec<Fault>) -> FakeInit {
    FakeInit { label: label.into(), faults, ..FakeInit::camera(name) }
}

fn add(init: FakeInit) -> Arc<FakeDevice> {
    FakeDevice::add(init).unwrap()
}

/// Reads `n` frames, each within HANG.
fn read(p: &Processor, n: usize) {
    for _ in 0..n {
        p.read(Wait::For(HANG)).expect("a frame");
    }
}

fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + HANG;
    while !cond() {
        assert!(Instant::now() < deadline, "waited {HANG:?} for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Every mute report of a track, in order.
fn mute_log(track: &Track) -> Arc<Mutex<Vec<bool>>> {
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    track.set_mute_callback(Some(Box::new(move |m| l.lock().unwrap().push(m))));
    log
}

fn stats_add_up(p: &Processor) {
    let s = p.stats();
    // Frames decimated for the frame rate never enter the queue's count.
    assert_eq!(s.total, s.delivered + s.discarded_in_queue() + s.queued, "{s:?}");
}

#[test]
fn a_removed_camera_mutes_the_track_and_the_same_one_re_added_resumes_it() {
    let dev = add(camera_init("re-cam", "", Vec::new()));
    let track = camera("fake:re-cam", &VideoConstraints::default(), &CameraOptions::default()).unwrap();
    set_reacquire(&track, Reacquire::Forever).unwrap();
    let mutes = mute_log(&track);
    let p = Processor::new(&track, 1);
    read(&p, 3);
    let before = track.settings();

    dev.remove();
    assert!(track.muted(), "muted as soon as the device is gone");
    assert_eq!(track.end_reason(), None);
    std::thread::sleep(LOOK);
    assert!(track.muted() && track.end_reason().is_none(), "still waiting");

    let back = add(camera_init("re-cam", "", Vec::new()));
    wait_until("the track to unmute", || !track.muted());
    read(&p, 3);
    assert_eq!(track.settings(), before, "the same settings after the device came back");
    assert_eq!(*mutes.lock().unwrap(), [true, false]);
    stats_add_up(&p);
    let cam = camera_stats(&track).unwrap();
    assert!(cam.frames >= 6, "the camera counters go on: {cam:?}");

    // And a second loss, of the relayed session, works the same way.
    back.remove();
    assert!(track.muted());
    let again = add(camera_init("re-cam", "", Vec::new()));
    wait_until("the track to unmute again", || !track.muted());
    read(&p, 2);
    stats_add_up(&p);
    assert_eq!(*mutes.lock().unwrap(), [true, false, true, false]);
    track.stop();
    assert_eq!(track.end_reason(), Some(EndReason::Stopped));
    again.remove();
}

#[test]
fn a_reacquired_camera_opens_with_the_constraints_last_applied() {
    let exact = |v| mst::constraints::ConstrainRange { exact: Some(v), ..Default::default() };
    let dev = add(camera_init("re-applied", "", Vec::new()));
    let small = VideoConstraints { width: exact(16.0), height: exact(8.0), ..Default::default() };
    let track = camera("fake:re-applied", &small, &CameraOptions::default()).unwrap();
    set_reacquire(&track, Reacquire::Forever).unwrap();
    let p = Processor::new(&track, 1);
    read(&p, 2);
    assert_eq!((track.settings().width, track.settings().height), (Some(16), Some(8)));
    // Back to the device's own size: a session opened with the first constraints would scale
    // every frame down to 16x8 before this track sees it.
    track.apply_constraints(&VideoConstraints::default()).unwrap();
    // The frame queued before the change is not what the settings are about.
    while p.read(Wait::No).is_ok() {}
    read(&p, 2);
    assert_eq!((track.settings().width, track.settings().height), (Some(32), Some(16)));

    dev.remove();
    let back = add(camera_init("re-applied", "", Vec::new()));
    wait_until("the track to unmute", || !track.muted());
    // The frames read now were captured by the new session.
    read(&p, 3);
    let v = *p.read(Wait::For(HANG)).expect("a frame").frame.video().expect("video");
    assert_eq!((v.display_width, v.display_height), (32, 16), "the new session's frames");
    assert_eq!((track.settings().width, track.settings().height), (Some(32), Some(16)));
    stats_add_up(&p);
    drop(p);
    drop(track);
    back.remove();
}

#[test]
fn an_unplug_fault_waits_for_a_device_with_the_same_identity() {
    let dev = add(camera_init("re-unplug", "", vec![Fault { at: 2, kind: FaultKind::Unplug }]));
    let track = camera("fake:re-unplug", &VideoConstraints::default(), &CameraOptions::default()).unwrap();
    set_reacquire(&track, Reacquire::Forever).unwrap();
    let p = Processor::new(&track, 1);
    read(&p, 2);
    wait_until("the unplug to mute the track", || track.muted());
    dev.remove();
    // The same name with another label is another device: not taken.
    let other = add(camera_init("re-unplug", "Someone else's camera", Vec::new()));
    std::thread::sleep(LOOK);
    assert!(track.muted() && track.end_reason().is_none(), "a different device was taken");
    // The other device is free: nothing holds it.
    let t2 = camera("fake:re-unplug", &VideoConstraints::default(), &CameraOptions::default()).unwrap();
    drop(t2);
    other.remove();
    let same = add(camera_init("re-unplug", "", Vec::new()));
    wait_until("the same device to be taken", || !track.muted());
    read(&p, 2);
    stats_add_up(&p);
    drop(p);
    drop(track);
    same.remove();
}

#[test]
fn a_device_gone_longer_than_the_timeout_ends_the_track() {
    let dev = add(camera_init("re-timeout", "", Vec::new()));
    let track = camera("fake:re-timeout", &VideoConstraints::default(), &CameraOptions::default()).unwrap();
    set_reacquire(&track, Reacquire::For(Duration::from_millis(300))).unwrap();
    let p = Processor::new(&track, 1);
    read(&p, 1);
    let gone = Instant::now();
    dev.remove();
    assert!(track.muted());
    // A frame captured before the removal may still be queued.
    while p.read(Wait::No).is_ok() {}
    assert_eq!(p.read(Wait::For(HANG)).unwrap_err().kind, ErrorKind::Ended);
    assert!(gone.elapsed() >= Duration::from_millis(300), "ended before the timeout");
    assert_eq!(track.end_reason(), Some(EndReason::DeviceLost));
    stats_add_up(&p);
    // Back too late: nothing is reopened.
    let late = add(camera_init("re-timeout", "", Vec::new()));
    let t2 = camera("fake:re-timeout", &VideoConstraints::default(), &CameraOptions::default()).unwrap();
    drop(t2);
    late.remove();
}

#[test]
fn stopping_the_track_while_its_device_is_gone_ends_it_stopped() {
    let dev = add(camera_init("re-stop", "", Vec::new()));
    let track = camera("fake:re-stop", &VideoConstraints::default(), &CameraOptions::default()).unwrap();
    set_reacquire(&track, Reacquire::Forever).unwrap();
    dev.remove();
    assert!(track.muted());
    track.stop();
    assert_eq!(track.end_reason(), Some(EndReason::Stopped));
    // The device returning does not revive it, and nothing holds the device.
    let back = add(camera_init("re-stop", "", Vec::new()));
    std::thread::sleep(LOOK);
    let t2 = camera("fake:re-stop", &VideoConstraints::default(), &CameraOptions::default()).unwrap();
    drop(t2);
    back.remove();
}

#[test]
fn turning_reacquire_off_while_the_device_is_gone_ends_the_track() {
    let dev = add(camera_init("re-off", "", Vec::new()));
    let track = camera("fake:re-off", &VideoConstraints::default(), &CameraOptions::default()).unwrap();
    set_reacquire(&track, Reacquire::Forever).unwrap();
    dev.remove();
    assert!(track.muted() && track.end_reason().is_none());
    set_reacquire(&track, Reacquire::Off).unwrap();
    assert_eq!(track.end_reason(), Some(EndReason::DeviceLost));
    assert_eq!(set_reacquire(&track, Reacquire::Forever).unwrap_err().kind, ErrorKind::InvalidState);
}

#[test]
fn without_reacquire_a_lost_device_ends_the_track_and_generators_refuse_it() {
    let dev = add(camera_init("re-none", "", Vec::new()));
    let track = camera("fake:re-none", &VideoConstraints::default(), &CameraOptions::default()).unwrap();
    dev.remove();
    assert_eq!(track.end_reason(), Some(EndReason::DeviceLost));
    let g = source::generator::Generator::new(Kind::Video);
    assert_eq!(set_reacquire(g.track(), Reacquire::Forever).unwrap_err().kind, ErrorKind::Unsupported);
}

#[test]
fn a_microphone_is_reacquired_too_and_its_counters_go_on() {
    let mic = |name: &str| add(FakeInit::microphone(name));
    let dev = mic("re-mic");
    let track = source::alsa::microphone("fake:re-mic", &Default::default()).unwrap();
    set_reacquire(&track, Reacquire::For(Duration::from_secs(3600))).unwrap();
    let p = Processor::new(&track, 4);
    read(&p, 3);
    let chunks_before = source::alsa::capture_stats(&track).unwrap().chunks;
    dev.remove();
    assert!(track.muted());
    let back = mic("re-mic");
    wait_until("the microphone to unmute", || !track.muted());
    // Up to 4 chunks of the first session may still be queued: 3 more are the new session's.
    read(&p, 4 + 3);
    let after = source::alsa::capture_stats(&track).unwrap();
    assert!(after.chunks >= chunks_before + 3, "{chunks_before} then {after:?}");
    assert_eq!(after.frames, after.chunks * 80, "10 ms chunks at 8 kHz");
    stats_add_up(&p);
    drop(p);
    drop(track);
    back.remove();
}

#[test]
fn the_log_receiver_may_call_into_the_track_when_its_device_is_back() {
    let dev = add(FakeInit::camera("re-log"));
    let track = camera("fake:re-log", &VideoConstraints::default(), &CameraOptions::default()).unwrap();
    set_reacquire(&track, Reacquire::Forever).unwrap();
    // The supervisor logs that the device is back (Info): a receiver that changes the track's
    // reacquire then must not wait for a lock the supervisor holds.
    let handle = Mutex::new(Some(track.clone()));
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = Mutex::new(tx);
    drop(mst::log::set_receiver(Some(Arc::new(move |_, _, text: &std::ffi::CStr| {
        if text.to_string_lossy().starts_with("fake:re-log is back") {
            if let Some(t) = handle.lock().unwrap().take() {
                set_reacquire(&t, Reacquire::For(Duration::from_secs(3600))).unwrap();
                let _ = tx.lock().unwrap().send(());
            }
        }
    }))));
    mst::log::set_max_level(mst::log::Level::Info);
    dev.remove();
    let back = add(FakeInit::camera("re-log"));
    let called = rx.recv_timeout(HANG);
    mst::log::set_max_level(mst::log::Level::Warning);
    drop(mst::log::set_receiver(None));
    if called.is_err() {
        // Stopping either would wait for the stuck supervisor: fail instead of hanging.
        std::mem::forget((track, back));
        panic!("the receiver's call did not return in {HANG:?}");
    }
    wait_until("the track to unmute", || !track.muted());
    track.stop();
    back.remove();
}
