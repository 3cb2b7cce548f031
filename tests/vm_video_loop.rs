//! The V4L2 output sink against vivid, in the VM stage (`scripts/vm-test.sh`), and the round
//! trip generator -> V4L2 output sink -> vivid loopback -> camera source -> processor.
//!
//! Also: a node that goes away (vivid unbound) stops the output with NoDevice.
//!
//! vivid loops its output node (`/dev/video1`, output 1 "HDMI") into its capture node
//! (`/dev/video0`, input 3 "HDMI") when the capture node's control `loop_video` is 1 and both
//! sides use the same format and size (the default DV timings: 1280x720). With `osd_text_mode`
//! 2 (no on-screen text) the captured picture is the written one, bit for bit
//! (vmtest/README.md). The test selects that input and output and sets both controls, and puts
//! all four back afterwards (the other VM tests expect input 0 and no loop).
//!
//! Outside the VM there is no such device, so every test is `#[ignore]`d (see vm_camera.rs).
//! vivid renders 1280x720 at about 12 fps under TCG: the time limits are generous.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mst::constraints::ConstrainRange;
use mst::device::{self, DeviceKind};
use mst::frame::VideoFrameInit;
use mst::sink::v4l2::VideoOutput;
use mst::source::v4l2::{camera, camera_stats, CameraFormat, CameraOptions};
use mst::*;

#[path = "common/vm.rs"]
mod vm;
use vm::in_vm;

#[path = "common/vivid_loop.rs"]
mod vivid_loop;
use vivid_loop::{vivid, Loop};

/// Long enough to tell a slow step on a busy host from one that never ends. Tests assert what
/// happened, not how fast: the VM's CPUs are emulated and the host's are shared.
const HANG: Duration = Duration::from_secs(20);

const W: u32 = 1280;
const H: u32 = 720;

/// A distinctive static I420 picture: every byte depends on its position (limited range);
/// `k` shifts every sample, so pictures of different `k` differ everywhere.
fn pattern(k: usize) -> Vec<u8> {
    let (w, h) = (W as usize, H as usize);
    let mut d = vec![0u8; w * h * 3 / 2];
    for y in 0..h {
        for x in 0..w {
            d[y * w + x] = 16 + ((x * 7 + y * 13 + (x / 37) * (y / 29) + k) % 220) as u8;
        }
    }
    let (cw, ch) = (w / 2, h / 2);
    for y in 0..ch {
        for x in 0..cw {
            d[w * h + y * cw + x] = 16 + ((x * 3 + y * 5 + k) % 225) as u8;
            d[w * h + cw * ch + y * cw + x] = 16 + ((x * 11 + y * 2 + 100 + k) % 225) as u8;
        }
    }
    d
}

fn i420(data: &[u8], ts: i64) -> Frame {
    let init = VideoFrameInit {
        format: VideoPixelFormat::I420,
        coded_width: W,
        coded_height: H,
        timestamp: ts,
        duration: Some(33_333),
        layout: None,
        visible_rect: None,
        display_size: None,
        color_space: None,
    };
    Frame::video_copy(&init, data).unwrap()
}

/// The frame's I420 planes, tightly packed.
fn planes(f: &Frame) -> Vec<u8> {
    let v = f.video().unwrap();
    assert_eq!((v.format, v.visible_rect.width, v.visible_rect.height), (VideoPixelFormat::I420, W, H), "{v:?}");
    let mut out = Vec::new();
    for (i, (w, h)) in [(W, H), (W / 2, H / 2), (W / 2, H / 2)].into_iter().enumerate() {
        let (p, s) = f.plane(i).unwrap();
        for y in 0..h as usize {
            out.extend_from_slice(&p[y * s..y * s + w as usize]);
        }
    }
    out
}

/// Writes `pictures[which]` every 40 ms until `stop`; returns how many frames it wrote.
fn writer(
    g: Arc<Generator>,
    pictures: Arc<[Vec<u8>; 2]>,
    which: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut n = 0u64;
        while !stop.load(Ordering::Acquire) {
            g.write(i420(&pictures[which.load(Ordering::Acquire)], n as i64 * 33_333)).map_err(|(e, _)| e).unwrap();
            n += 1;
            std::thread::sleep(Duration::from_millis(40));
        }
        n
    })
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn output_sink_takes_frames() {
    if !in_vm("output_sink_takes_frames") {
        return;
    }
    let out_id = vivid(DeviceKind::VideoOutput);
    let _vivid = Loop::new();
    let g = Arc::new(Generator::new(Kind::Video));
    let t0 = Instant::now();
    let sink = VideoOutput::open(g.track(), &out_id).unwrap();
    let data = pattern(0);
    for i in 0..30 {
        g.write(i420(&data, i * 33_333)).map_err(|(e, _)| e).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    g.close();
    let stats = sink.finish().unwrap();
    println!("30 frames to {out_id} in {:?}: {stats:?}", t0.elapsed());
    assert_eq!((stats.width, stats.height, &stats.fourcc.to_le_bytes()), (W, H, b"YU12"), "{stats:?}");
    assert_eq!(stats.frames_written + stats.frames_dropped, 30, "{stats:?}");
    assert!(stats.frames_written >= 4, "{stats:?}");
    assert_eq!(stats.error, None);
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn output_unbinding_vivid_stops_with_no_device() {
    if !in_vm("output_unbinding_vivid_stops_with_no_device") {
        return;
    }
    let out_id = vivid(DeviceKind::VideoOutput);
    let g = Arc::new(Generator::new(Kind::Video));
    let sink = VideoOutput::open(g.track(), &out_id).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let w = writer(g.clone(), Arc::new([pattern(0), pattern(1)]), Arc::new(AtomicUsize::new(0)), stop.clone());
    let deadline = Instant::now() + HANG;
    while sink.stats().frames_written < 4 {
        assert!(Instant::now() < deadline, "the output does not stream: {:?}", sink.stats());
        std::thread::sleep(Duration::from_millis(10));
    }

    let t0 = Instant::now();
    std::fs::write("/sys/bus/platform/drivers/vivid/unbind", "vivid.0").expect("unbinding vivid.0");
    let unbind_took = t0.elapsed();
    // How soon is printed, not asserted: on a busy host any bound is a guess. The wait is only
    // long enough to tell a stop from a hang.
    while sink.stats().error.is_none() {
        assert!(t0.elapsed() < HANG, "the output did not stop: {:?}", sink.stats());
        std::thread::sleep(Duration::from_millis(5));
    }
    let latency = t0.elapsed();
    let stats = sink.stats();
    println!("unbind took {unbind_took:?}; output stopped {latency:?} after the unbind began: {stats:?}");
    assert_eq!(stats.error, Some(ErrorKind::NoDevice), "{stats:?}");
    stop.store(true, Ordering::Release);
    w.join().unwrap();
    g.close();
    let e = sink.close().expect_err("close reports the lost node");
    assert_eq!(e.kind, ErrorKind::NoDevice, "{e}");

    std::fs::write("/sys/bus/platform/drivers/vivid/bind", "vivid.0").expect("binding vivid.0");
    let deadline = Instant::now() + HANG;
    while !device::enumerate()
        .is_ok_and(|l| l.iter().any(|d| d.kind == DeviceKind::VideoOutput && d.device_id == out_id))
    {
        assert!(Instant::now() < deadline, "{out_id} did not come back after bind");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn round_trip_is_bit_exact() {
    if !in_vm("round_trip_is_bit_exact") {
        return;
    }
    let (cap_id, out_id) = (vivid(DeviceKind::VideoInput), vivid(DeviceKind::VideoOutput));
    let _vivid = Loop::new();
    let pictures = Arc::new([pattern(0), pattern(1)]);
    let which = Arc::new(AtomicUsize::new(0));
    let g = Arc::new(Generator::new(Kind::Video));
    let sink = VideoOutput::open(g.track(), &out_id).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let w = writer(g.clone(), pictures.clone(), which.clone(), stop.clone());

    let t0 = Instant::now();
    let exact = |v: f64| ConstrainRange { exact: Some(v), ..Default::default() };
    let c = VideoConstraints { width: exact(W as f64), height: exact(H as f64), ..Default::default() };
    let cam = camera(&cap_id, &c, &CameraOptions { format: Some(CameraFormat::Yu12) }).unwrap();
    println!("camera on input 3: {:?}", cam.settings());
    let p = Processor::new(&cam, 2);
    // Picture 0 must come back, then, once the writer switches, picture 1: frames flow.
    let (mut seen, mut matched) = (0, Vec::new());
    let mut last_diff = 0usize;
    while t0.elapsed() < Duration::from_secs(40) && matched.len() < 2 {
        let f = p.read(Wait::For(Duration::from_secs(5))).unwrap_or_else(|e| panic!("after {seen} frames: {e}")).frame;
        seen += 1;
        let got = planes(&f);
        let want = &pictures[matched.len()];
        if got == *want {
            matched.push((seen, t0.elapsed()));
            which.store(1, Ordering::Release);
        } else {
            last_diff = got.iter().zip(want.iter()).filter(|(a, b)| a != b).count();
        }
    }
    stop.store(true, Ordering::Release);
    let written = w.join().unwrap();
    let cstats = camera_stats(&cam);
    cam.stop();
    g.close();
    let stats = sink.close().unwrap();
    println!("round trip: {seen} frames captured, bit-exact matches (frame, time) {matched:?}; {written} written by the generator; sink {stats:?}; camera {cstats:?}");
    assert_eq!(
        matched.len(),
        2,
        "picture {} never came back in {seen} captured frames (the last one differed in {last_diff} bytes)",
        matched.len()
    );
    assert!(stats.frames_written > 0 && stats.error.is_none(), "{stats:?}");
}
