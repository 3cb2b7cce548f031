//! The V4L2 camera source against vivid, in the VM stage (`scripts/vm-test.sh`): vivid's
//! capture node (`/dev/video0`, "v4l2:platform:vivid-000:0", single-planar, webcam input with
//! discrete sizes 320x180 ... 3840x2160 and discrete frame intervals). See vmtest/README.md.
//!
//! Outside the VM there is no such device, so every test is `#[ignore]`d: a host `cargo test`
//! lists each as "ignored, runs in the VM stage"; run by hand with `--include-ignored` but
//! without VMTEST=1, a test prints "skipped: ..." and returns. Runs are kept short: vivid
//! renders in software and the guest CPU is emulated (640x360 keeps up with 30 fps).

use std::sync::mpsc;
use std::time::{Duration, Instant};

use mst::constraints::ConstrainRange;
use mst::device::{self, DeviceKind};
use mst::source::v4l2::{camera, camera_stats, CameraFormat, CameraOptions};
use mst::*;

#[path = "common/vm.rs"]
mod vm;
use vm::in_vm;

/// Long enough to tell a slow step on a busy host from one that never ends. Tests assert what
/// happened, not how fast: the VM's CPUs are emulated and the host's are shared.
const HANG: Duration = Duration::from_secs(20);

fn ideal(v: f64) -> ConstrainRange {
    ConstrainRange { ideal: Some(v), ..Default::default() }
}

fn exact(v: f64) -> ConstrainRange {
    ConstrainRange { exact: Some(v), ..Default::default() }
}

fn vga_360p_30() -> VideoConstraints {
    VideoConstraints { width: ideal(640.0), height: ideal(360.0), frame_rate: ideal(30.0), ..Default::default() }
}

/// Reads `n` frames (5 s each at most).
fn frames(track: &Track, n: usize) -> Vec<Frame> {
    let p = Processor::new(track, 4);
    (0..n)
        .map(|i| p.read(Wait::For(Duration::from_secs(5))).unwrap_or_else(|e| panic!("frame {i}: {e}")).frame)
        .collect()
}

fn capture_in(format: CameraFormat) {
    let id = vm::vivid_camera();
    let t0 = Instant::now();
    let track = camera(&id, &vga_360p_30(), &CameraOptions { format: Some(format) }).unwrap();
    let s = track.settings();
    println!("{format:?}: opened in {:?}: {s:?}", t0.elapsed());
    assert_eq!((s.width, s.height), (Some(640), Some(360)), "{s:?}");
    assert!(s.frame_rate.is_some_and(|r| (r - 30.0).abs() < 0.01), "{s:?}");
    let got = frames(&track, 8);
    let stats = camera_stats(&track).unwrap();
    println!("{format:?}: 8 frames in {:?}; {stats:?}", t0.elapsed());
    let mut last_ts = i64::MIN;
    let mut last_seq = None;
    // vivid's capture thread times its next frame from before it rendered the last one, so when
    // rendering is slow (a busy host) it can give two frames one sequence number. libmst
    // delivers such frames and counts them in `out_of_order`: every one seen here must be
    // counted there.
    let mut repeats = 0;
    for f in &got {
        let v = f.video().unwrap();
        assert_eq!((v.format, v.coded_width, v.coded_height), (format_delivered(format), 640, 360), "{v:?}");
        assert_eq!((v.visible_rect.width, v.visible_rect.height), (640, 360));
        assert!(v.timestamp > last_ts, "timestamps not strictly increasing: {} after {last_ts}", v.timestamp);
        last_ts = v.timestamp;
        let seq = v.capture_sequence.expect("a captured frame carries its V4L2 sequence number");
        if last_seq.is_some_and(|p| seq <= p) {
            repeats += 1;
        }
        last_seq = Some(seq);
    }
    assert!(repeats <= stats.out_of_order, "{repeats} sequence numbers did not increase, {stats:?}");
    // The stats were read after the last frame arrived: the source is at it or past it.
    assert!(stats.out_of_order > 0 || last_seq.unwrap() <= stats.last_sequence as u64, "{last_seq:?} {stats:?}");
    // Capture timestamps are CLOCK_MONOTONIC: near now. vivid stamps a buffer with the time its
    // frame period ends, which can be up to about a frame in the future when it is dequeued.
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    let now = ts.tv_sec * 1_000_000 + ts.tv_nsec / 1000;
    assert!(last_ts <= now + 200_000 && now - last_ts < 5_000_000, "last timestamp {last_ts}, now {now}");
    // The content moves (vivid's test pattern scrolls and its OSD counts).
    assert!(got.windows(2).all(|w| w[0].data() != w[1].data()), "two consecutive frames are identical");
    let first = got[0].data();
    assert!(first.iter().any(|&b| b != first[0]), "a constant frame");
    assert!(stats.frames >= 8, "{stats:?}");
    assert!(stats.last_sequence as u64 + stats.out_of_order >= 7, "sequence numbers did not advance: {stats:?}");
    track.stop();
}

fn format_delivered(f: CameraFormat) -> VideoPixelFormat {
    f.delivered()
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn camera_captures_yuyv_as_i420() {
    if !in_vm("camera_captures_yuyv_as_i420") {
        return;
    }
    capture_in(CameraFormat::Yuyv);
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn camera_captures_nv12() {
    if !in_vm("camera_captures_nv12") {
        return;
    }
    capture_in(CameraFormat::Nv12);
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn camera_captures_yu12_as_i420() {
    if !in_vm("camera_captures_yu12_as_i420") {
        return;
    }
    capture_in(CameraFormat::Yu12);
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn camera_captures_rgb24_as_rgbx() {
    if !in_vm("camera_captures_rgb24_as_rgbx") {
        return;
    }
    capture_in(CameraFormat::Rgb24);
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn camera_captures_bgr24_as_bgrx() {
    if !in_vm("camera_captures_bgr24_as_bgrx") {
        return;
    }
    capture_in(CameraFormat::Bgr24);
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn camera_captures_32_bit_rgb_orders_as_they_are() {
    if !in_vm("camera_captures_32_bit_rgb_orders_as_they_are") {
        return;
    }
    // vivid (Linux 6.1) offers XR24/AR24 (BGRX/BGRA bytes) and XB24/AB24 (RGBX/RGBA bytes).
    for f in [CameraFormat::Bgrx, CameraFormat::Bgra, CameraFormat::Rgbx, CameraFormat::Rgba] {
        capture_in(f);
    }
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn camera_constraints_the_mode_lacks_are_cropped_and_scaled() {
    if !in_vm("camera_constraints_the_mode_lacks_are_cropped_and_scaled") {
        return;
    }
    // vivid has no 400x300 mode: the track crops and scales a larger one.
    let c =
        VideoConstraints { width: exact(400.0), height: exact(300.0), frame_rate: ideal(30.0), ..Default::default() };
    let track = camera(&vm::vivid_camera(), &c, &CameraOptions::default()).unwrap();
    let caps = track.capabilities();
    println!("native mode {:?}; settings {:?}", caps.native, track.settings());
    let (w, h, _) = caps.native.unwrap();
    assert!(w >= 400 && h >= 300 && (w, h) != (400, 300), "{caps:?}");
    for f in frames(&track, 3) {
        let v = f.video().unwrap();
        assert_eq!((v.display_width, v.display_height), (400, 300), "{v:?}");
    }
    let s = track.settings();
    assert_eq!((s.width, s.height), (Some(400), Some(300)), "{s:?}");
    track.stop();
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn camera_impossible_constraints_are_overconstrained() {
    if !in_vm("camera_impossible_constraints_are_overconstrained") {
        return;
    }
    let c = VideoConstraints { width: exact(5000.0), ..Default::default() };
    let e = camera(&vm::vivid_camera(), &c, &CameraOptions::default()).unwrap_err();
    println!("{e}");
    assert_eq!((e.kind, e.constraint), (ErrorKind::Overconstrained, Some("width")), "{e}");
    let c = VideoConstraints {
        frame_rate: ConstrainRange { min: Some(1000.0), ..Default::default() },
        ..Default::default()
    };
    let e = camera(&vm::vivid_camera(), &c, &CameraOptions::default()).unwrap_err();
    assert_eq!((e.kind, e.constraint), (ErrorKind::Overconstrained, Some("frameRate")), "{e}");
    // The device is free again: it opens.
    camera(&vm::vivid_camera(), &vga_360p_30(), &CameraOptions::default()).unwrap().stop();
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn camera_unbinding_vivid_ends_the_track_with_device_lost() {
    if !in_vm("camera_unbinding_vivid_ends_the_track_with_device_lost") {
        return;
    }
    let id = vm::vivid_camera();
    let track = camera(&id, &vga_360p_30(), &CameraOptions::default()).unwrap();
    let (tx, rx) = mpsc::channel();
    track.set_ended_callback(Some(Box::new(move |r| {
        let _ = tx.send((r, Instant::now()));
    })));
    let p = Processor::new(&track, 4);
    p.read(Wait::For(Duration::from_secs(5))).expect("the camera delivers");

    let t0 = Instant::now();
    std::fs::write("/sys/bus/platform/drivers/vivid/unbind", "vivid.0").expect("unbinding vivid.0");
    let unbind_took = t0.elapsed();
    // How soon is printed, not asserted: on a busy host any bound is a guess. The wait is only
    // long enough to tell an end from a hang.
    let (reason, at) = rx.recv_timeout(HANG).expect("the camera track ended");
    let latency = at.saturating_duration_since(t0);
    println!("unbind took {unbind_took:?}; track ended ({reason:?}) {latency:?} after the unbind began");
    assert_eq!(reason, EndReason::DeviceLost);
    assert_eq!(track.ready_state(), ReadyState::Ended);
    // The processor ends: at most what was queued when the track ended, then Ended.
    vm::read_out_after_end(&p, HANG, "frames");
    drop(p);
    drop(track);

    // Rebind: the camera comes back and opens again.
    std::fs::write("/sys/bus/platform/drivers/vivid/bind", "vivid.0").expect("binding vivid.0");
    let deadline = Instant::now() + HANG;
    while !device::enumerate().is_ok_and(|l| l.iter().any(|d| d.kind == DeviceKind::VideoInput && d.device_id == id)) {
        assert!(Instant::now() < deadline, "{id} did not come back after bind");
        std::thread::sleep(Duration::from_millis(20));
    }
    let track = camera(&id, &vga_360p_30(), &CameraOptions::default()).unwrap();
    let f = frames(&track, 2);
    assert_eq!(f[1].video().unwrap().coded_width, 640);
    track.stop();
}
