//! Zero-copy capture against vivid, in the VM stage (`scripts/vm-test.sh`): NV12 frames are
//! the driver's own mmap'd buffers, lent to consumers and queued back when they close.
//! Measures the media bytes copied per frame (0) and the camera-to-read latency (printed:
//! timestamps are the buffers' CLOCK_MONOTONIC capture times, which vivid sets to the end of
//! the frame period, so a value can be slightly negative).
//!
//! Outside the VM there is no such device, so every test is `#[ignore]`d (see vm_camera.rs).

use std::time::Duration;

use mst::constraints::ConstrainRange;
use mst::device::{self, DeviceKind};
use mst::source::v4l2::{camera, camera_stats, CameraFormat, CameraOptions, ZERO_COPY_BUDGET};
use mst::*;

#[path = "common/vm.rs"]
mod vm;
use vm::in_vm;

fn vivid_camera() -> String {
    let list = device::enumerate().unwrap();
    list.iter()
        .find(|d| d.kind == DeviceKind::VideoInput && d.group_id == "v4l2:platform:vivid-000")
        .unwrap_or_else(|| panic!("no vivid camera in {list:#?}"))
        .device_id
        .clone()
}

fn monotonic_us() -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec * 1_000_000 + ts.tv_nsec / 1000
}

fn read(p: &Processor, what: &str) -> Frame {
    p.read(Wait::For(Duration::from_secs(5))).unwrap_or_else(|e| panic!("{what}: {e}")).frame
}

fn nv12_camera() -> Track {
    let exact = |v: f64| ConstrainRange { exact: Some(v), ..Default::default() };
    let c = VideoConstraints {
        width: exact(640.0),
        height: exact(360.0),
        frame_rate: ConstrainRange { ideal: Some(30.0), ..Default::default() },
        ..Default::default()
    };
    camera(&vivid_camera(), &c, &CameraOptions { format: Some(CameraFormat::Nv12) }).unwrap()
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn nv12_capture_copies_no_media_bytes() {
    if !in_vm("nv12_capture_copies_no_media_bytes") {
        return;
    }
    let track = nv12_camera();
    let p = Processor::new(&track, 2);
    for i in 0..5 {
        read(&p, &format!("warm-up frame {i}"));
    }
    let (before, stats0) = (stats::media_bytes_copied(), camera_stats(&track).unwrap());
    let n = 60;
    let mut latency: Vec<i64> = Vec::with_capacity(n);
    for i in 0..n {
        let f = read(&p, &format!("frame {i}"));
        latency.push(monotonic_us() - f.video().unwrap().timestamp);
        let v = f.video().unwrap();
        assert_eq!((v.format, v.coded_width, v.coded_height), (VideoPixelFormat::Nv12, 640, 360), "{v:?}");
    }
    let copied = stats::media_bytes_copied() - before;
    let stats1 = camera_stats(&track).unwrap();
    track.stop();
    latency.sort_unstable();
    let pct = |q: f64| latency[((latency.len() - 1) as f64 * q).round() as usize];
    println!(
        "NV12 640x360: {n} frames read, {copied} media bytes copied ({} per frame); camera-to-read latency \
         p50 {} us, p99 {} us, max {} us; {stats1:?}",
        copied / n as u64,
        pct(0.5),
        pct(0.99),
        latency[latency.len() - 1]
    );
    let frames = stats1.frames - stats0.frames;
    assert!(frames >= n as u64, "{stats0:?} {stats1:?}");
    assert_eq!(stats1.zero_copy - stats0.zero_copy, frames - (stats1.over_budget - stats0.over_budget));
    assert!(stats1.zero_copy - stats0.zero_copy >= n as u64 / 2, "{stats0:?} {stats1:?}");
    assert_eq!(copied, 0, "NV12 capture copied {copied} media bytes over {n} frames");
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn held_frames_keep_their_pixels_and_capture_goes_on() {
    if !in_vm("held_frames_keep_their_pixels_and_capture_goes_on") {
        return;
    }
    let track = nv12_camera();
    let p = Processor::new(&track, 2);
    // Hold more frames than the budget: capture goes on (copying beyond it), and no held
    // frame's pixels change while it is held (the driver does not write a lent buffer).
    let held: Vec<(Frame, Vec<u8>)> = (0..ZERO_COPY_BUDGET + 4)
        .map(|i| {
            let f = read(&p, &format!("held frame {i}"));
            let copy = f.data().to_vec();
            (f, copy)
        })
        .collect();
    let s = camera_stats(&track).unwrap();
    println!("holding {}: {s:?}", held.len());
    assert!(s.over_budget > 0, "{s:?}");
    for i in 0..10 {
        read(&p, &format!("frame {i} while holding"));
    }
    for (i, (f, copy)) in held.iter().enumerate() {
        assert!(f.data() == &copy[..], "held frame {i} changed");
    }
    let lent_before = camera_stats(&track).unwrap().zero_copy;
    drop(held);
    // The buffers went back: frames are lent again.
    for i in 0..10 {
        read(&p, &format!("frame {i} after release"));
    }
    let s = camera_stats(&track).unwrap();
    assert!(s.zero_copy > lent_before, "no frame lent after the held ones closed: {s:?}");
    // A frame held past the track's end keeps its pixels until it closes.
    let last = read(&p, "last frame");
    let copy = last.data().to_vec();
    track.stop();
    drop(p);
    assert!(last.data() == &copy[..]);
}
