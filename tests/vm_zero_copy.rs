//! Zero-copy capture against vivid, in the VM stage (`scripts/vm-test.sh`): NV12 frames are
//! the driver's own mmap'd buffers, lent to consumers and queued back when they close.
//! Measures the media bytes copied per frame (0) and the time a frame spends in libmst, from
//! the capture thread's dequeue to the application's read (bounded, and printed with the
//! driver's timestamp against the dequeue: vivid stamps a buffer ahead of its dequeue unless
//! told to stamp the start of exposure, and then camera-to-read is printed too). Lent frames
//! hand out their buffer's DMA-BUF
//! (VIDIOC_EXPBUF).
//!
//! Outside the VM there is no such device, so every test is `#[ignore]`d (see vm_camera.rs).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mst::constraints::ConstrainRange;
use mst::device;
use mst::source::v4l2::{camera, camera_stats, CameraFormat, CameraOptions, ZERO_COPY_BUDGET};
use mst::*;

#[path = "common/vm.rs"]
mod vm;
use vm::in_vm;

#[path = "common/vivid_loop.rs"]
#[allow(dead_code)] // only its control helpers
mod vivid_loop;

fn monotonic_us() -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec * 1_000_000 + ts.tv_nsec / 1000
}

fn read(p: &Processor, what: &str) -> Frame {
    p.read(Wait::For(Duration::from_secs(5))).unwrap_or_else(|e| panic!("{what}: {e}")).frame
}

fn camera_640x360(format: CameraFormat) -> Result<Track> {
    let exact = |v: f64| ConstrainRange { exact: Some(v), ..Default::default() };
    let c = VideoConstraints {
        width: exact(640.0),
        height: exact(360.0),
        frame_rate: ConstrainRange { ideal: Some(30.0), ..Default::default() },
        ..Default::default()
    };
    camera(&vm::vivid_camera(), &c, &CameraOptions { format: Some(format) })
}

fn nv12_camera() -> Track {
    camera_640x360(CameraFormat::Nv12).unwrap()
}

/// Microseconds at quantile `q` of `v` (sorted in place).
fn pct(v: &mut [i64], q: f64) -> i64 {
    v.sort_unstable();
    v[((v.len() - 1) as f64 * q).round() as usize]
}

/// A frame in libmst (dequeued, delivered, queued, read) for longer than this is stuck, not slow:
/// at 30 fps through a queue of 2 a healthy frame waits about 2 frame periods (67 ms), and the
/// bound leaves a busy host's emulated guest 7 times that.
const STUCK_US: i64 = 500_000;

/// Reads `n` frames of `p`; per frame, (read time - `received`: its time in libmst, `received`
/// - `timestamp`: the driver's capture time to its dequeue), in µs.
fn latencies(p: &Processor, n: usize, what: &str) -> (Vec<i64>, Vec<i64>) {
    (0..n)
        .map(|i| {
            let f = read(p, &format!("{what} frame {i}"));
            let now = monotonic_us();
            let v = f.video().unwrap();
            let received = v.received.unwrap_or_else(|| panic!("{what} frame {i} has no dequeue time: {v:?}"));
            (now - received, received - v.timestamp)
        })
        .unzip()
}

/// vivid's "Timestamp Source" control (0 End of Frame, its default; 1 Start of Exposure) set
/// for the guard's life.
struct TimestampSource(v4l::Device, u32);

impl TimestampSource {
    fn start_of_exposure() -> TimestampSource {
        let dev = v4l::Device::with_path(device::v4l2::path_of(&vm::vivid_camera()).unwrap()).unwrap();
        let id = vivid_loop::control_id(&dev, "timestamp_source");
        vivid_loop::set_control(&dev, id, 1);
        TimestampSource(dev, id)
    }
}

impl Drop for TimestampSource {
    fn drop(&mut self) {
        vivid_loop::set_control(&self.0, self.1, 0);
    }
}

/// NV12 frames are the driver's buffers: no media byte is copied. And how long a frame spends
/// in libmst, from the capture thread's VIDIOC_DQBUF to the application's read
/// (`VideoMeta::received`), bounded; the driver's timestamp against that dequeue is printed,
/// with vivid's two timestamp sources.
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
    let mut in_libmst = Vec::with_capacity(n);
    let mut driver = Vec::with_capacity(n);
    let mut dequeued = Vec::with_capacity(n);
    for i in 0..n {
        let f = read(&p, &format!("frame {i}"));
        let now = monotonic_us();
        let v = f.video().unwrap();
        assert_eq!((v.format, v.coded_width, v.coded_height), (VideoPixelFormat::Nv12, 640, 360), "{v:?}");
        let received = v.received.unwrap_or_else(|| panic!("frame {i} has no dequeue time: {v:?}"));
        in_libmst.push(now - received);
        driver.push(received - v.timestamp);
        dequeued.push(received);
    }
    let copied = stats::media_bytes_copied() - before;
    let stats1 = camera_stats(&track).unwrap();
    track.stop();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "NV12 640x360: {n} frames read, {copied} media bytes copied ({} per frame); in libmst (dequeue to read) \
         p50 {} us, p99 {} us, max {} us; driver timestamp (end of frame) to dequeue p50 {} us, p99 {} us; \
         guest load {}; {stats1:?}",
        copied / n as u64,
        pct(&mut in_libmst, 0.5),
        pct(&mut in_libmst, 0.99),
        pct(&mut in_libmst, 1.0),
        pct(&mut driver, 0.5),
        pct(&mut driver, 0.99),
        load.trim()
    );
    let frames = stats1.frames - stats0.frames;
    assert!(frames >= n as u64, "{stats0:?} {stats1:?}");
    assert_eq!(stats1.zero_copy - stats0.zero_copy, frames - (stats1.over_budget - stats0.over_budget));
    assert!(stats1.zero_copy - stats0.zero_copy >= n as u64 / 2, "{stats0:?} {stats1:?}");
    assert_eq!(copied, 0, "NV12 capture copied {copied} media bytes over {n} frames");
    // Each frame stamped at its own dequeue (frames are read in capture order), and none
    // stuck on the way.
    assert!(dequeued.windows(2).all(|w| w[0] < w[1]), "dequeue times not increasing: {dequeued:?}");
    assert!(pct(&mut in_libmst, 0.99) < STUCK_US, "frames stuck in libmst: {in_libmst:?}");

    // vivid stamps the end of the frame period (0.9 of it after it starts filling the buffer),
    // ahead of the dequeue. Stamping the start of exposure instead, read minus the stamp is
    // camera-to-read as far as vivid can tell. Its stamp is the nominal schedule (stream start
    // + sequence x period, vivid-kthread-cap.c) while its thread fills on jiffy ticks, so a
    // buffer can be filled and dequeued up to a jiffy before its stamp: 4 ms at the VM's
    // HZ=250, 10 ms at HZ=100, the bound below. An end-of-frame stamp (27 ms ahead at 30 fps)
    // would not meet it.
    const JIFFY_US: i64 = 10_000;
    {
        let _soe = TimestampSource::start_of_exposure();
        let track = nv12_camera();
        let p = Processor::new(&track, 2);
        for i in 0..5 {
            read(&p, &format!("start-of-exposure warm-up frame {i}"));
        }
        let (mut in_libmst, mut driver) = latencies(&p, n, "start-of-exposure");
        track.stop();
        let mut camera_to_read: Vec<i64> = in_libmst.iter().zip(&driver).map(|(a, b)| a + b).collect();
        println!(
            "NV12 640x360, vivid stamping the start of exposure: camera to read p50 {} us, p99 {} us; driver \
             timestamp to dequeue p50 {} us, p99 {} us, min {} us, max {} us; in libmst p50 {} us, p99 {} us",
            pct(&mut camera_to_read, 0.5),
            pct(&mut camera_to_read, 0.99),
            pct(&mut driver, 0.5),
            pct(&mut driver, 0.99),
            pct(&mut driver, 0.0),
            pct(&mut driver, 1.0),
            pct(&mut in_libmst, 0.5),
            pct(&mut in_libmst, 0.99)
        );
        assert!(pct(&mut driver, 0.0) >= -JIFFY_US, "dequeued more than a jiffy before the stamp: {driver:?}");
        assert!(pct(&mut in_libmst, 0.99) < STUCK_US, "{in_libmst:?}");
    }

    // For comparison (printed only): YUYV, converted to I420 on the capture thread, which is
    // part of its time in libmst.
    let track = camera_640x360(CameraFormat::Yuyv).unwrap();
    let p = Processor::new(&track, 2);
    for i in 0..5 {
        read(&p, &format!("YUYV warm-up frame {i}"));
    }
    let before = stats::media_bytes_copied();
    let (mut in_libmst, _) = latencies(&p, n, "YUYV");
    let copied = stats::media_bytes_copied() - before;
    track.stop();
    println!(
        "YUYV 640x360 (converted): {n} frames read, {} media bytes copied per frame; in libmst p50 {} us, p99 {} us",
        copied / n as u64,
        pct(&mut in_libmst, 0.5),
        pct(&mut in_libmst, 0.99)
    );
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn held_frames_keep_their_pixels_and_capture_goes_on() {
    if !in_vm("held_frames_keep_their_pixels_and_capture_goes_on") {
        return;
    }
    let track = nv12_camera();
    let p = Processor::new(&track, 2);
    // A second consumer of the same camera, with its own line in the ledger.
    let q = Processor::new(&track, 1);
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
    // The ledger attributes them to p (lent or copied alike): the held ones, plus its queue of
    // 2 and one frame being evicted from it at most; q holds its queue of 1 (and one evicted).
    let (p_held, q_held) = (p.stats().held, q.stats().held);
    let n = held.len() as u64;
    assert!((n..=n + 3).contains(&p_held), "p holds {p_held}, {n} read and held");
    assert!((1..=2).contains(&q_held), "q holds {q_held}");
    let ledger = track.source().holdings();
    println!("ledger while holding: {ledger:?}");
    assert_eq!(ledger.len(), 2, "{ledger:?}");
    assert_eq!(ledger[0].consumer, p.consumer().name());
    assert!(ledger[0].frames >= n, "{ledger:?}");
    assert_eq!(ledger[1].consumer, q.consumer().name());
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
    // Frames held past their processors and the track's end keep their pixels until they
    // close; the ledger counts them for the processor each was delivered to, freeing each
    // processor reports its own, and the log says who holds what when capture ends.
    let last = read(&p, "last frame");
    let copy = last.data().to_vec();
    let q_last = read(&q, "q's last frame");
    let (p_name, q_name) = (p.consumer().name(), q.consumer().name());
    let logged = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = logged.clone();
    let previous = log::set_receiver(Some(Arc::new(move |_, _, m: &std::ffi::CStr| {
        sink.lock().unwrap().push(m.to_string_lossy().into_owned())
    })));
    drop(p);
    drop(q);
    track.stop();
    log::set_receiver(previous);
    // The two may be one frame (q's queue kept the frame p read): one buffer held, though
    // each processor holds a handle on it.
    let buffers = if last.timestamp() == q_last.timestamp() { 1 } else { 2 };
    let s = camera_stats(&track).unwrap();
    assert_eq!(s.held, buffers, "{s:?}");
    let logged = logged.lock().unwrap();
    println!("{logged:?}");
    for name in [&p_name, &q_name] {
        // 1, or 2 when the capture thread had just evicted a frame from the queue and not yet
        // closed it (it closes it right after, on its own thread, before capture can end).
        let freed = format!("{name} freed with ");
        let line =
            logged.iter().find(|m| m.starts_with(&freed)).unwrap_or_else(|| panic!("{freed:?} not in {logged:?}"));
        let count = line[freed.len()..].split(' ').next().unwrap();
        assert!(count == "1" || count == "2", "{line}");
    }
    let report = logged
        .iter()
        .find(|m| m.contains(&format!("capture ended with {buffers} of its frames still open")))
        .unwrap_or_else(|| panic!("no capture-end report in {logged:?}"));
    assert!(report.contains(&format!("{p_name}: 1")) && report.contains(&format!("{q_name}: 1")), "{report}");
    assert!(last.data() == &copy[..]);
    drop(last);
    assert_eq!(camera_stats(&track).unwrap().held, 1);
    assert_eq!(track.source().holdings(), vec![mst::frame::ledger::Holding { consumer: q_name, frames: 1 }]);
    drop(q_last);
    assert_eq!(camera_stats(&track).unwrap().held, 0);
    assert_eq!(track.source().holdings(), vec![]);
}

/// Consumers hold all but one of the lent buffers and the reader pauses: the last lent frame
/// waits in the processor's queue while frames beyond the budget are copied, and the queue
/// evicts it, on the capture thread, while that copy is delivered. Capture goes on.
#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn a_lent_frame_evicted_while_a_copy_is_delivered_does_not_stall_capture() {
    if !in_vm("a_lent_frame_evicted_while_a_copy_is_delivered_does_not_stall_capture") {
        return;
    }
    let track = nv12_camera();
    let p = Processor::new(&track, 2);
    let held: Vec<Frame> = (0..ZERO_COPY_BUDGET - 1).map(|i| read(&p, &format!("held frame {i}"))).collect();
    let before = camera_stats(&track).unwrap();
    // About 15 frames at 30 fps: the sixth buffer is lent into the queue, the next ones are
    // copied, and the second copy evicts the lent frame.
    std::thread::sleep(Duration::from_millis(500));
    for i in 0..10 {
        read(&p, &format!("frame {i} after the pause"));
    }
    let after = camera_stats(&track).unwrap();
    println!("{before:?} -> {after:?}");
    assert!(after.over_budget > before.over_budget, "no frame was copied beyond the budget: {after:?}");
    drop(held);
    track.stop();
    assert_eq!(camera_stats(&track).unwrap().held, 0);
}

#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn lent_frames_hand_out_their_dmabuf() {
    if !in_vm("lent_frames_hand_out_their_dmabuf") {
        return;
    }
    let track = nv12_camera();
    let p = Processor::new(&track, 2);
    let f = read(&p, "frame");
    let v = *f.video().unwrap();
    let d = f.dmabuf().expect("vivid exports its buffers: a lent NV12 frame has a DMA-BUF");
    println!("{d:?}");
    assert!(d.fd >= 0);
    assert_eq!(d.planes, 2);
    assert_eq!(&d.layout[..2], &v.layout[..2]);
    assert_eq!(f.dmabuf_planes(), Some(d), "one DMA-BUF is one for every plane");
    // The DMA-BUF's bytes are the frame's.
    let len = v.layout[1].offset + v.layout[1].stride * 180;
    let map = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_SHARED, d.fd, 0) };
    assert_ne!(map, libc::MAP_FAILED, "mmap of the DMA-BUF: {}", std::io::Error::last_os_error());
    let mapped = unsafe { std::slice::from_raw_parts(map as *const u8, len) };
    assert!(mapped == &f.data()[..len], "the DMA-BUF's bytes differ from the frame's");
    unsafe { libc::munmap(map, len) };
    track.stop();
    drop(p);
    assert_eq!(f.dmabuf().map(|d| d.planes), Some(2), "held past the stop, the frame keeps it");
    drop(f);
    let yuyv =
        camera(&vm::vivid_camera(), &VideoConstraints::default(), &CameraOptions { format: Some(CameraFormat::Yuyv) })
            .unwrap();
    let p = Processor::new(&yuyv, 2);
    assert_eq!(read(&p, "YUYV frame").dmabuf(), None, "a converted frame has no DMA-BUF");
    yuyv.stop();
}

/// vivid's "Inject VIDIOC_QBUF Error" (a button: its next VIDIOC_QBUF fails with EINVAL), and
/// a log receiver (Debug level) that keeps the messages, for the guard's life. `systematic`
/// re-arms the refusal at each one logged (a first refusal or a failed retry), so the driver
/// refuses every buffer libmst queues back. On drop, even from a panic part-way, the previous
/// receiver and level are back and a refusal still armed is spent, so the tests after this one
/// (in the same serial binary) open vivid as before.
struct Refusals {
    dev: v4l::Device,
    inject: u32,
    logged: Arc<Mutex<Vec<String>>>,
    previous: Option<(Option<Arc<log::Receiver>>, log::Level)>,
}

impl Refusals {
    /// `on_message` runs in the log receiver, on whichever thread logs.
    fn new(systematic: bool, on_message: impl Fn(&str) + Send + Sync + 'static) -> Refusals {
        let path = device::v4l2::path_of(&vm::vivid_camera()).unwrap();
        let dev = v4l::Device::with_path(&path).unwrap();
        let inject = vivid_loop::control_id(&dev, "inject_vidioc_qbuf_error");
        let rearm = Mutex::new(v4l::Device::with_path(&path).unwrap());
        let logged = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = logged.clone();
        let level = log::max_level();
        log::set_max_level(log::Level::Debug);
        let previous = log::set_receiver(Some(Arc::new(move |_, _, m: &std::ffi::CStr| {
            let m = m.to_string_lossy().into_owned();
            if systematic && (m.contains("could not be queued back") || m.contains("still refused")) {
                vivid_loop::set_control(&rearm.lock().unwrap(), inject, 1);
            }
            on_message(&m);
            sink.lock().unwrap().push(m);
        })));
        Refusals { dev, inject, logged, previous: Some((previous, level)) }
    }

    fn arm(&self) {
        vivid_loop::set_control(&self.dev, self.inject, 1);
    }

    fn logged(&self) -> Vec<String> {
        self.logged.lock().unwrap().clone()
    }
}

impl Drop for Refusals {
    fn drop(&mut self) {
        if let Some((previous, level)) = self.previous.take() {
            log::set_receiver(previous);
            log::set_max_level(level);
        }
        // A refusal armed with no buffer left to refuse is taken by the next QBUF on the node:
        // the first buffer a camera queues as it opens. Open one until that is spent.
        if let Some(t) = (0..2).find_map(|_| camera_640x360(CameraFormat::Nv12).ok()) {
            t.stop();
        }
    }
}

/// The driver refusing once to take a buffer back: the buffer is out of the capture ring,
/// counted and logged, capture goes on over the others, and a retry (one per patience) puts
/// it back. The refusal is logged with no lock of the camera's held: the log receiver closes
/// a frame lent by the same camera, on another thread, and that close completes while the
/// receiver waits for it.
#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn a_buffer_the_driver_refuses_back_once_is_counted_and_taken_back() {
    if !in_vm("a_buffer_the_driver_refuses_back_once_is_counted_and_taken_back") {
        return;
    }
    let hang = Duration::from_secs(20);
    // A frame lent by the camera, closed by the log receiver at the first refusal.
    let kept = Arc::new(Mutex::new(None::<Frame>));
    let closes = Arc::new(Mutex::new(Vec::<bool>::new()));
    let (k, c) = (kept.clone(), closes.clone());
    let refusals = Refusals::new(false, move |m| {
        if !m.contains("could not be queued back") {
            return;
        }
        let Some(f) = k.lock().unwrap().take() else { return };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            drop(f);
            let _ = tx.send(());
        });
        // Were the camera's lock held here, the close would wait for it as long as this does.
        c.lock().unwrap().push(rx.recv_timeout(hang).is_ok());
    });
    let track = nv12_camera();
    let p = Processor::new(&track, 2);
    for i in 0..3 {
        read(&p, &format!("frame {i}"));
    }
    let lent = read(&p, "frame kept for the log receiver");
    assert!(lent.dmabuf().is_some(), "not a lent frame: {:?}", camera_stats(&track));
    *kept.lock().unwrap() = Some(lent);
    // One refused buffer: whichever goes back next (a closed frame's, from any thread).
    refusals.arm();
    let deadline = std::time::Instant::now() + hang;
    while camera_stats(&track).unwrap().lost_buffers == 0 {
        assert!(std::time::Instant::now() < deadline, "no buffer lost: {:?}", camera_stats(&track));
        read(&p, "frame while waiting for the refusal");
    }
    assert_eq!(*closes.lock().unwrap(), [true], "the log receiver's close of a lent frame did not complete");
    assert!(kept.lock().unwrap().is_none());
    let lost = camera_stats(&track).unwrap();
    // Frames go on while it is out, and the retry takes it back.
    let deadline = std::time::Instant::now() + hang;
    while camera_stats(&track).unwrap().lost_buffers > 0 {
        assert!(std::time::Instant::now() < deadline, "not taken back: {:?}", camera_stats(&track));
        read(&p, "frame while waiting for the retry");
    }
    let before = camera_stats(&track).unwrap();
    for i in 0..10 {
        read(&p, &format!("frame {i} after the buffer was taken back"));
    }
    let after = camera_stats(&track).unwrap();
    println!("{lost:?} -> {before:?} -> {after:?}");
    assert!(after.zero_copy > before.zero_copy, "no frame lent after the retry: {after:?}");
    assert_eq!(track.ready_state(), ReadyState::Live);
    track.stop();
    let logged = refusals.logged();
    drop(refusals);
    assert_eq!(logged.iter().filter(|m| m.contains("could not be queued back (VIDIOC_QBUF")).count(), 1, "{logged:#?}");
    assert!(logged.iter().any(|m| m.contains("taken back on retry")), "{logged:#?}");
}

/// A driver that refuses every buffer back, retries included: once every buffer is out the
/// track ends with Error rather than waiting for a frame that cannot come.
#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn a_driver_refusing_every_buffer_back_ends_the_track() {
    if !in_vm("a_driver_refusing_every_buffer_back_ends_the_track") {
        return;
    }
    let hang = Duration::from_secs(20);
    let refusals = Refusals::new(true, |_| {});
    let track = nv12_camera();
    let p = Processor::new(&track, 2);
    for i in 0..3 {
        read(&p, &format!("frame {i}"));
    }
    refusals.arm();
    let deadline = std::time::Instant::now() + hang;
    while track.ready_state() == ReadyState::Live {
        assert!(std::time::Instant::now() < deadline, "still live: {:?}", camera_stats(&track));
        let _ = p.read(Wait::For(Duration::from_millis(200)));
    }
    vm::read_out_after_end(&p, hang, "frames");
    let logged = refusals.logged();
    drop(refusals);
    let s = camera_stats(&track).unwrap();
    println!("ended: {s:?}, {:?}", track.end_reason());
    assert_eq!(track.end_reason(), Some(EndReason::Error));
    assert_eq!((s.lost_buffers, s.held), (8, 0), "{s:?}");
    assert!(logged.iter().any(|m| m.contains("every driver buffer was refused")), "{logged:#?}");
}

/// The driver refusing every buffer that goes back while a consumer keeps every lent frame
/// until the next one comes (a sliding window): once the refused buffers and the held ones
/// are all of them, the driver has none to capture into and no frame will come to release
/// one. The track ends with Error after a wait rather than staying live with no frames.
#[test]
#[ignore = "runs in the VM stage: scripts/vm-test.sh"]
fn a_driver_left_without_buffers_by_refusals_and_held_frames_ends_the_track() {
    if !in_vm("a_driver_left_without_buffers_by_refusals_and_held_frames_ends_the_track") {
        return;
    }
    let hang = Duration::from_secs(20);
    let refusals = Refusals::new(true, |_| {});
    let track = nv12_camera();
    let p = Processor::new(&track, 2);
    let mut window = Vec::new();
    refusals.arm();
    let deadline = std::time::Instant::now() + hang;
    while track.ready_state() == ReadyState::Live {
        assert!(
            std::time::Instant::now() < deadline,
            "no end for {hang:?}, holding {}: {:?}",
            window.len(),
            camera_stats(&track)
        );
        // Lent frames are kept (the consumer's window), copies closed at once.
        if let Ok(d) = p.read(Wait::For(Duration::from_millis(200))) {
            if d.frame.dmabuf().is_some() {
                window.push(d.frame);
            }
        }
    }
    // What the queue still had when the track ended: the window takes its lent frames too.
    while let Ok(d) = p.read(Wait::For(hang)) {
        if d.frame.dmabuf().is_some() {
            window.push(d.frame);
        }
    }
    let s = camera_stats(&track).unwrap();
    println!("ended holding {}: {s:?}, {:?}", window.len(), track.end_reason());
    assert_eq!(track.end_reason(), Some(EndReason::Error));
    assert!(s.held > 0 && s.held as usize == window.len(), "{s:?}");
    assert_eq!(s.held + s.lost_buffers, 8, "{s:?}");
    drop(window);
    let logged = refusals.logged();
    drop(refusals);
    assert!(logged.iter().any(|m| m.contains("the driver has no buffer to capture into")), "{logged:#?}");
}
