//! Generator -> processor hand-off of 1080p I420 frames through the C ABI, between two threads,
//! against a bare crossbeam ArrayQueue + futex wake between the same two threads.
//!
//!     cargo bench --bench handoff
//!
//! Everything goes through the exported `extern "C"` functions (called from Rust), as a C
//! program would call them. Frames are zero-copy: a ring of RING frames wraps one Vec (frame k
//! has timestamp k); each write clones ring[i % RING], and the writer stores the send time in
//! `sent[k]`. The reader blocks in mst_processor_read(-1) and takes latency = now - sent[k],
//! checking k against the frame's processor sequence number (sequence - 1 = the write index).
//! A counting global allocator counts allocations in the whole process (both threads) over
//! the measured part of each run; mst::stats::media_bytes_copied() counts media copies.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::c_void;
use std::hint::black_box;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;
use mst::ffi::frame::*;
use mst::ffi::generator::*;
use mst::ffi::processor::*;
use mst::ffi::track::*;
use mst::ffi::MstStatus::{MST_ERR_AGAIN, MST_ERR_ENDED, MST_OK};

#[path = "../tests/common/mod.rs"]
mod common;
use common::{buffer, i420_init, ok, struct_size, video_info};

// ---------------------------------------------------------------------------------------------
// Counting allocator

struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards every call unchanged to System.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        System.alloc(l)
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        System.alloc_zeroed(l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        System.realloc(p, l, n)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[derive(Clone, Copy)]
struct Counters {
    allocs: u64,
    bytes: u64,
}

fn counters() -> Counters {
    Counters { allocs: ALLOCS.load(Ordering::SeqCst), bytes: mst::stats::media_bytes_copied() }
}

// ---------------------------------------------------------------------------------------------
// Parameters

const W: u32 = 1920;
const H: u32 = 1080;
const FRAME_BYTES: usize = (W * H * 3 / 2) as usize;
/// Wrapped frames the writer cycles through (timestamps 0..RING).
const RING: usize = 64;
const MAX_BUFFER: u32 = 8;
/// Free-running: at most this many frames, or THROUGHPUT_TIME, whichever comes first.
const THROUGHPUT_FRAMES: u64 = 200_000;
const THROUGHPUT_TIME: Duration = Duration::from_secs(3);
/// Paced latency runs: the writer sleeps PACE between writes so the reader is asleep.
const PACE: Duration = Duration::from_micros(100);
const PACED_FRAMES: u64 = 3_000;
/// Rounds of (libmst, baselines) taken in turns, so load from elsewhere hits all alike.
const PACED_ROUNDS: usize = 5;
const THROUGHPUT_ROUNDS: usize = 3;
const WARMUP: u64 = 500;
/// Fan-out: writes per timed batch (= maxBufferSize, so no queue ever evicts), batches, reps.
const FAN_BATCH: u64 = 8;
const FAN_BATCHES: u64 = 1_500;
const FAN_REPS: usize = 3;

// ---------------------------------------------------------------------------------------------
// Helpers

unsafe extern "C" fn no_release(_: *mut c_void) {}

/// RING wrapped frames over `pixels` (which must outlive them), frame k with timestamp k.
fn wrap_ring(pixels: &[u8]) -> Vec<usize> {
    (0..RING)
        .map(|k| {
            let mut f = null_mut();
            ok(mst_frame_wrap_video(
                &i420_init(W, H, k as i64),
                pixels.as_ptr(),
                pixels.len(),
                Some(no_release),
                null_mut(),
                &mut f,
            ));
            f as usize
        })
        .collect()
}

fn close_ring(ring: &[usize]) {
    for &f in ring {
        ok(mst_frame_free(f as *mut MstFrame));
    }
}

fn now_ns(base: Instant) -> u64 {
    base.elapsed().as_nanos() as u64
}

fn pace(d: Option<Duration>) {
    if let Some(d) = d {
        thread::sleep(d);
    }
}

struct Latency {
    p50: f64,
    p99: f64,
    max: f64,
    n: usize,
}

fn latency(mut ns: Vec<u64>) -> Latency {
    ns.sort_unstable();
    let at = |q: f64| ns[((ns.len() - 1) as f64 * q).round() as usize] as f64 / 1000.0;
    Latency { p50: at(0.50), p99: at(0.99), max: *ns.last().unwrap() as f64 / 1000.0, n: ns.len() }
}

struct Run {
    /// Measured writes and their wall time (writer side).
    writes: u64,
    elapsed: Duration,
    /// Frames the reader got among the measured writes.
    read: u64,
    /// Latencies of the measured frames, ns.
    lat_ns: Vec<u64>,
    allocs: u64,
    bytes: u64,
}

impl Run {
    fn lat(&self) -> Latency {
        latency(self.lat_ns.clone())
    }
    /// Runs taken in turns with other runs, pooled.
    fn merge(runs: Vec<Run>) -> Run {
        let mut all = Run { writes: 0, elapsed: Duration::ZERO, read: 0, lat_ns: Vec::new(), allocs: 0, bytes: 0 };
        for r in runs {
            all.writes += r.writes;
            all.elapsed += r.elapsed;
            all.read += r.read;
            all.lat_ns.extend(r.lat_ns);
            all.allocs += r.allocs;
            all.bytes += r.bytes;
        }
        all
    }
    fn write_rate(&self) -> f64 {
        self.writes as f64 / self.elapsed.as_secs_f64()
    }
    fn read_rate(&self) -> f64 {
        self.read as f64 / self.elapsed.as_secs_f64()
    }
}

// ---------------------------------------------------------------------------------------------
// GStreamer appsrc -> appsink, the peer: the same 1080p memory wrapped zero-copy into a
// GstBuffer per push (gst_buffer_new_wrapped_full, read-only, no free), pushed by this thread,
// pulled by a reader thread. appsink drops the oldest beyond MAX_BUFFER (drop=true), as a
// libmst processor does; appsrc holds at most MAX_BUFFER and blocks the writer beyond
// (block=true), so the writer cannot outrun the streaming thread into unbounded memory.

#[allow(non_camel_case_types)]
mod gst {
    use std::ffi::{c_char, c_int, c_void};
    pub type GstElement = c_void;
    pub const GST_STATE_NULL: c_int = 1;
    pub const GST_STATE_PLAYING: c_int = 4;
    pub const GST_MEMORY_FLAG_READONLY: c_int = 1 << 1;
    #[link(name = "gstreamer-1.0")]
    extern "C" {
        pub fn gst_init(argc: *mut c_int, argv: *mut *mut *mut c_char);
        pub fn gst_parse_launch(desc: *const c_char, error: *mut *mut c_void) -> *mut GstElement;
        pub fn gst_bin_get_by_name(bin: *mut GstElement, name: *const c_char) -> *mut GstElement;
        pub fn gst_element_set_state(e: *mut GstElement, state: c_int) -> c_int;
        pub fn gst_buffer_new_wrapped_full(
            flags: c_int,
            data: *mut c_void,
            maxsize: usize,
            offset: usize,
            size: usize,
            user: *mut c_void,
            notify: *mut c_void,
        ) -> *mut c_void;
        pub fn gst_mini_object_unref(o: *mut c_void);
        pub fn gst_object_unref(o: *mut c_void);
    }
    #[link(name = "gstapp-1.0")]
    extern "C" {
        pub fn gst_app_src_push_buffer(src: *mut GstElement, buffer: *mut c_void) -> c_int;
        pub fn gst_app_src_end_of_stream(src: *mut GstElement) -> c_int;
        pub fn gst_app_sink_pull_sample(sink: *mut GstElement) -> *mut c_void;
    }
}

/// Frames pushed and pulled in `limit` (or `frames`), writer free-running.
fn gstreamer_run(pixels: &[u8], frames: u64, limit: Duration) -> Run {
    use std::ffi::CString;
    static INIT: std::sync::Once = std::sync::Once::new();
    // SAFETY: gst_init with no arguments, once.
    INIT.call_once(|| unsafe { gst::gst_init(null_mut(), null_mut()) });
    let desc = CString::new(format!(
        "appsrc name=src format=time block=true max-buffers={MAX_BUFFER} caps=video/x-raw,format=I420,width={W},height={H},framerate=30/1 \
         ! appsink name=sink sync=false drop=true max-buffers={MAX_BUFFER} enable-last-sample=false"
    ))
    .unwrap();
    // SAFETY: GStreamer's documented calls; every object is released below.
    unsafe {
        let pipeline = gst::gst_parse_launch(desc.as_ptr(), null_mut());
        assert!(!pipeline.is_null(), "gst_parse_launch failed (is gstreamer1.0-plugins-base installed?)");
        let src = gst::gst_bin_get_by_name(pipeline, c"src".as_ptr());
        let sink = gst::gst_bin_get_by_name(pipeline, c"sink".as_ptr());
        assert!(!src.is_null() && !sink.is_null());
        gst::gst_element_set_state(pipeline, gst::GST_STATE_PLAYING);
        let sink_addr = sink as usize;
        let reader = thread::spawn(move || {
            let mut n = 0u64;
            loop {
                let sample = gst::gst_app_sink_pull_sample(sink_addr as *mut c_void);
                if sample.is_null() {
                    return n;
                }
                n += 1;
                gst::gst_mini_object_unref(sample);
            }
        });
        let start = Instant::now();
        let mut writes = 0u64;
        while writes < frames && start.elapsed() < limit {
            let b = gst::gst_buffer_new_wrapped_full(
                gst::GST_MEMORY_FLAG_READONLY,
                pixels.as_ptr() as *mut c_void,
                FRAME_BYTES,
                0,
                FRAME_BYTES,
                null_mut(),
                null_mut(),
            );
            assert_eq!(gst::gst_app_src_push_buffer(src, b), 0, "gst_app_src_push_buffer");
            writes += 1;
        }
        let elapsed = start.elapsed();
        gst::gst_app_src_end_of_stream(src);
        let read = reader.join().unwrap();
        gst::gst_element_set_state(pipeline, gst::GST_STATE_NULL);
        gst::gst_object_unref(src);
        gst::gst_object_unref(sink);
        gst::gst_object_unref(pipeline);
        Run { writes, elapsed, read, lat_ns: Vec::new(), allocs: 0, bytes: 0 }
    }
}

// ---------------------------------------------------------------------------------------------
// libmst: generator -> processor between two threads, C ABI

fn libmst_run(ring: &[usize], pacing: Option<Duration>, frames: u64, limit: Duration) -> Run {
    let mut g = null_mut();
    ok(mst_generator_create(MstKind::MST_KIND_VIDEO as i32, &mut g));
    let mut t = null_mut();
    ok(mst_generator_get_track(g, &mut t));
    let mut p = null_mut();
    ok(mst_processor_create(t, &buffer(MAX_BUFFER), &mut p));
    let (g, p) = (g as usize, p as usize);
    let sent: Vec<AtomicU64> = (0..RING).map(|_| AtomicU64::new(0)).collect();
    let base = Instant::now();
    let mismatched = AtomicU64::new(0);
    let ready = AtomicBool::new(false);

    let (writes, elapsed, start, end, lat) = thread::scope(|s| {
        let lat: Vec<u64> = Vec::with_capacity(frames as usize);
        let reader = s.spawn(|| {
            let p = p as *mut MstProcessor;
            let mut lat = lat;
            ready.store(true, Ordering::Release);
            loop {
                let mut f = null_mut();
                match mst_processor_read(p, -1, &mut f) {
                    MST_OK => {}
                    MST_ERR_ENDED => break,
                    e => ok(e),
                }
                let t_read = now_ns(base);
                let info = video_info(f);
                let k = info.timestamp as usize;
                if k != (info.sequence as usize - 1) % RING {
                    mismatched.fetch_add(1, Ordering::Relaxed);
                }
                if info.sequence > WARMUP && lat.len() < lat.capacity() {
                    lat.push(t_read.saturating_sub(sent[k].load(Ordering::Acquire)));
                }
                ok(mst_frame_free(f));
            }
            lat
        });
        let g = g as *mut MstGenerator;
        let write = |i: u64| {
            let k = (i % RING as u64) as usize;
            let mut c = null_mut();
            ok(mst_frame_clone(ring[k] as *const MstFrame, &mut c));
            sent[k].store(now_ns(base), Ordering::Release);
            ok(mst_generator_write(g, c));
            ok(mst_frame_free(c));
        };
        // The reader thread is running (and has its buffer) before anything is measured.
        while !ready.load(Ordering::Acquire) {
            std::hint::spin_loop();
        }
        for i in 0..WARMUP {
            write(i);
            pace(pacing);
        }
        let start = counters();
        let t0 = Instant::now();
        let mut i = WARMUP;
        while i < WARMUP + frames {
            write(i);
            i += 1;
            pace(pacing);
            if i.is_multiple_of(1024) && t0.elapsed() >= limit {
                break;
            }
        }
        let elapsed = t0.elapsed();
        // Let the reader take the last frame before the counters are read and the track ends.
        thread::sleep(Duration::from_millis(20));
        let end = counters();
        ok(mst_generator_close(g));
        (i - WARMUP, elapsed, start, end, reader.join().unwrap())
    });
    assert_eq!(mismatched.load(Ordering::Relaxed), 0, "timestamps did not follow sequence numbers");
    ok(mst_processor_free(p as *mut MstProcessor));
    ok(mst_track_free(t));
    ok(mst_generator_free(g as *mut MstGenerator));
    Run {
        writes,
        elapsed,
        read: lat.len() as u64,
        lat_ns: lat,
        allocs: end.allocs - start.allocs,
        bytes: end.bytes - start.bytes,
    }
}

// ---------------------------------------------------------------------------------------------
// Baselines: ArrayQueue<u64> of write indices + a futex wake, same threads, same pacing

#[derive(Clone, Copy, PartialEq)]
enum Wake {
    /// thread::park / unpark (a futex; unpark makes the syscall only when the reader is parked).
    Park,
    /// std Mutex + Condvar, with a waiter count so the writer locks only when someone sleeps
    /// (the protocol libmst's processor uses).
    Condvar,
}

fn baseline_run(wake: Wake, pacing: Option<Duration>, frames: u64, limit: Duration) -> Run {
    let q: ArrayQueue<u64> = ArrayQueue::new(MAX_BUFFER as usize);
    let sent: Vec<AtomicU64> = (0..RING).map(|_| AtomicU64::new(0)).collect();
    let done = AtomicBool::new(false);
    let waiters = AtomicUsize::new(0);
    let lock = Mutex::new(());
    let cond = Condvar::new();
    let base = Instant::now();
    let ready = AtomicBool::new(false);

    let (writes, elapsed, start, end, lat) = thread::scope(|s| {
        let lat: Vec<u64> = Vec::with_capacity(frames as usize);
        let reader = s.spawn(|| {
            let mut lat = lat;
            ready.store(true, Ordering::Release);
            loop {
                let i = match q.pop() {
                    Some(i) => i,
                    None if done.load(Ordering::Acquire) => break,
                    None => {
                        match wake {
                            Wake::Park => thread::park(),
                            Wake::Condvar => {
                                waiters.fetch_add(1, Ordering::SeqCst);
                                let mut g = lock.lock().unwrap();
                                while q.is_empty() && !done.load(Ordering::Acquire) {
                                    g = cond.wait(g).unwrap();
                                }
                                drop(g);
                                waiters.fetch_sub(1, Ordering::SeqCst);
                            }
                        }
                        continue;
                    }
                };
                let t_read = now_ns(base);
                let k = (i % RING as u64) as usize;
                if i >= WARMUP && lat.len() < lat.capacity() {
                    lat.push(t_read.saturating_sub(sent[k].load(Ordering::Acquire)));
                }
            }
            lat
        });
        let reader_thread = reader.thread().clone();
        let notify = || match wake {
            Wake::Park => reader_thread.unpark(),
            Wake::Condvar => {
                std::sync::atomic::fence(Ordering::SeqCst);
                if waiters.load(Ordering::SeqCst) != 0 {
                    drop(lock.lock().unwrap());
                    cond.notify_all();
                }
            }
        };
        let write = |i: u64| {
            let k = (i % RING as u64) as usize;
            sent[k].store(now_ns(base), Ordering::Release);
            q.force_push(black_box(i));
            notify();
        };
        // The reader thread is running (and has its buffer) before anything is measured.
        while !ready.load(Ordering::Acquire) {
            std::hint::spin_loop();
        }
        for i in 0..WARMUP {
            write(i);
            pace(pacing);
        }
        let start = counters();
        let t0 = Instant::now();
        let mut i = WARMUP;
        while i < WARMUP + frames {
            write(i);
            i += 1;
            pace(pacing);
            if i.is_multiple_of(1024) && t0.elapsed() >= limit {
                break;
            }
        }
        let elapsed = t0.elapsed();
        thread::sleep(Duration::from_millis(20));
        let end = counters();
        done.store(true, Ordering::Release);
        notify();
        if wake == Wake::Condvar {
            drop(lock.lock().unwrap());
            cond.notify_all();
        }
        (i - WARMUP, elapsed, start, end, reader.join().unwrap())
    });
    Run {
        writes,
        elapsed,
        read: lat.len() as u64,
        lat_ns: lat,
        allocs: end.allocs - start.allocs,
        bytes: end.bytes - start.bytes,
    }
}

// ---------------------------------------------------------------------------------------------
// Fan-out: one writer, P processors on the generator's track, drained inline by the writer

struct FanOut {
    ns_per_write: f64,
    allocs: u64,
    bytes: u64,
    writes: u64,
}

fn fan_out(ring: &[usize], processors: usize) -> FanOut {
    let mut g = null_mut();
    ok(mst_generator_create(MstKind::MST_KIND_VIDEO as i32, &mut g));
    let mut t = null_mut();
    ok(mst_generator_get_track(g, &mut t));
    let ps: Vec<*mut MstProcessor> = (0..processors)
        .map(|_| {
            let mut p = null_mut();
            ok(mst_processor_create(t, &buffer(MAX_BUFFER), &mut p));
            p
        })
        .collect();
    let drain = || {
        for &p in &ps {
            loop {
                let mut f = null_mut();
                match mst_processor_read(p, 0, &mut f) {
                    MST_OK => ok(mst_frame_free(f)),
                    MST_ERR_AGAIN => break,
                    e => ok(e),
                }
            }
        }
    };
    let mut i = 0u64;
    let mut batch = |timed: &mut Duration| {
        let t0 = Instant::now();
        for _ in 0..FAN_BATCH {
            let mut c = null_mut();
            ok(mst_frame_clone(ring[(i % RING as u64) as usize] as *const MstFrame, &mut c));
            ok(mst_generator_write(g, c));
            ok(mst_frame_free(c));
            i += 1;
        }
        *timed += t0.elapsed();
        drain();
    };
    let mut scratch = Duration::ZERO;
    for _ in 0..FAN_BATCHES / 10 {
        batch(&mut scratch);
    }
    let start = counters();
    let mut best = f64::INFINITY;
    for _ in 0..FAN_REPS {
        let mut timed = Duration::ZERO;
        for _ in 0..FAN_BATCHES {
            batch(&mut timed);
        }
        best = best.min(timed.as_nanos() as f64 / (FAN_BATCHES * FAN_BATCH) as f64);
    }
    let end = counters();
    for p in ps {
        ok(mst_processor_free(p));
    }
    ok(mst_track_free(t));
    ok(mst_generator_free(g));
    FanOut {
        ns_per_write: best,
        allocs: end.allocs - start.allocs,
        bytes: end.bytes - start.bytes,
        writes: FAN_REPS as u64 * FAN_BATCHES * FAN_BATCH,
    }
}

// ---------------------------------------------------------------------------------------------
// Side measurements (single thread): per-write wrapping, and a constrained (scaling) track

/// mst_frame_wrap_video per write instead of a clone of a wrapped frame: allocations per frame.
fn wrap_per_write(pixels: &[u8]) -> (f64, f64) {
    let mut g = null_mut();
    ok(mst_generator_create(MstKind::MST_KIND_VIDEO as i32, &mut g));
    let mut t = null_mut();
    ok(mst_generator_get_track(g, &mut t));
    let mut p = null_mut();
    ok(mst_processor_create(t, &buffer(MAX_BUFFER), &mut p));
    let step = |i: u64| {
        let mut f = null_mut();
        ok(mst_frame_wrap_video(
            &i420_init(W, H, i as i64),
            pixels.as_ptr(),
            pixels.len(),
            Some(no_release),
            null_mut(),
            &mut f,
        ));
        ok(mst_generator_write(g, f));
        ok(mst_frame_free(f));
        let mut r = null_mut();
        ok(mst_processor_read(p, 0, &mut r));
        ok(mst_frame_free(r));
    };
    (0..1000).for_each(step);
    let n = 20_000u64;
    let start = counters();
    let t0 = Instant::now();
    (0..n).for_each(step);
    let ns = t0.elapsed().as_nanos() as f64 / n as f64;
    let end = counters();
    ok(mst_processor_free(p));
    ok(mst_track_free(t));
    ok(mst_generator_free(g));
    ((end.allocs - start.allocs) as f64 / n as f64, ns)
}

/// 1280x720 frames (clones of one mst_frame_create_video frame) into a track constrained to
/// exactly 640x360: time, allocations and media bytes per frame (write + inline read + close),
/// the reader mapping plane 0 (which makes the lazily scaled frame's pixels) or never touching
/// a pixel.
fn constrained_scale(map_pixels: bool) -> (f64, f64, f64) {
    let pixels: Vec<u8> = (0..1280 * 720 * 3 / 2).map(|i| (i % 253) as u8).collect();
    let mut g = null_mut();
    ok(mst_generator_create(MstKind::MST_KIND_VIDEO as i32, &mut g));
    let mut t = null_mut();
    ok(mst_generator_get_track(g, &mut t));
    let exact = |v: f64| MstConstrainRange { present: MST_CONSTRAIN_EXACT, exact: v, ..Default::default() };
    ok(mst_track_apply_constraints(
        t,
        &MstVideoConstraints {
            struct_size: struct_size::<MstVideoConstraints>(),
            width: exact(640.0),
            height: exact(360.0),
            ..Default::default()
        },
    ));
    let mut p = null_mut();
    ok(mst_processor_create(t, &buffer(MAX_BUFFER), &mut p));
    // A library-owned copy (mst_frame_create_video): a wrapped frame is scaled at once, so
    // its memory goes back to its owner on schedule; this one is scaled on first pixel read.
    let mut src = null_mut();
    ok(mst_frame_create_video(&i420_init(1280, 720, 0), pixels.as_ptr(), pixels.len(), &mut src));
    let step = |_| {
        let mut c = null_mut();
        ok(mst_frame_clone(src, &mut c));
        ok(mst_generator_write(g, c));
        ok(mst_frame_free(c));
        let mut r = null_mut();
        ok(mst_processor_read(p, 0, &mut r));
        if map_pixels {
            let (mut d, mut s, mut l) = (std::ptr::null(), 0usize, 0usize);
            ok(mst_frame_get_video_plane(r, 0, &mut d, &mut s, &mut l));
            assert!(!d.is_null() && s >= 640 && l >= 640 * 360);
            black_box(unsafe { *d });
        }
        ok(mst_frame_free(r));
    };
    (0..20).for_each(step);
    let n = 200u64;
    let start = counters();
    let t0 = Instant::now();
    (0..n).for_each(step);
    let us = t0.elapsed().as_nanos() as f64 / 1000.0 / n as f64;
    let end = counters();
    ok(mst_frame_free(src));
    ok(mst_processor_free(p));
    ok(mst_track_free(t));
    ok(mst_generator_free(g));
    (us, (end.allocs - start.allocs) as f64 / n as f64, (end.bytes - start.bytes) as f64 / n as f64)
}

// ---------------------------------------------------------------------------------------------
// Report

fn machine() -> String {
    let nproc = thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let git = |args: &[&str]| {
        std::process::Command::new("git").args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().ok()
    };
    let commit = git(&["rev-parse", "--short", "HEAD"])
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|o| !o.stdout.is_empty());
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_default();
    format!(
        "nproc {nproc}, CPU {cpu}, load {load}, commit {commit}{}",
        if dirty { " + uncommitted changes" } else { "" }
    )
}

struct Table(Vec<[String; 3]>);

impl Table {
    fn row(&mut self, what: impl Into<String>, value: impl Into<String>, note: impl Into<String>) {
        self.0.push([what.into(), value.into(), note.into()]);
    }
    fn rule(&mut self) {
        self.0.push([String::new(), String::new(), String::new()]);
    }
    fn print(&self, title: &str) {
        let w0 = self.0.iter().map(|r| r[0].len()).max().unwrap_or(0).max(11);
        let w1 = self.0.iter().map(|r| r[1].len()).max().unwrap_or(0).max(5);
        println!("{title}");
        println!("{:<w0$}  {:>w1$}  unit / notes", "measurement", "value");
        println!("{}", "-".repeat(w0 + w1 + 40));
        for r in &self.0 {
            if r[0].is_empty() {
                println!();
            } else {
                println!("{:<w0$}  {:>w1$}  {}", r[0], r[1], r[2]);
            }
        }
    }
}

fn main() {
    // `cargo bench` passes --bench; any other argument is ignored.
    let title = format!("libmst handoff bench: 1080p I420 ({FRAME_BYTES} B) zero-copy, C ABI; {}", machine());
    let t_all = Instant::now();
    let pixels: Vec<u8> = (0..FRAME_BYTES).map(|i| (i % 251) as u8).collect();
    let ring = wrap_ring(&pixels);

    eprintln!("throughput runs ...");
    let (mut thr, mut thr_park) = (Vec::new(), Vec::new());
    // GStreamer appsrc -> appsink in the same turns, so machine noise hits all three alike.
    let mut gst_runs = Vec::new();
    for _ in 0..THROUGHPUT_ROUNDS {
        thr.push(libmst_run(&ring, None, THROUGHPUT_FRAMES, THROUGHPUT_TIME));
        thr_park.push(baseline_run(Wake::Park, None, THROUGHPUT_FRAMES, THROUGHPUT_TIME));
        gst_runs.push(gstreamer_run(&pixels, THROUGHPUT_FRAMES, THROUGHPUT_TIME));
    }
    let (thr, thr_park, gst_thr) = (Run::merge(thr), Run::merge(thr_park), Run::merge(gst_runs));
    eprintln!("paced latency runs ...");
    let (mut lat, mut lat_park, mut lat_cv) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..PACED_ROUNDS {
        lat.push(libmst_run(&ring, Some(PACE), PACED_FRAMES, Duration::from_secs(10)));
        lat_park.push(baseline_run(Wake::Park, Some(PACE), PACED_FRAMES, Duration::from_secs(10)));
        lat_cv.push(baseline_run(Wake::Condvar, Some(PACE), PACED_FRAMES, Duration::from_secs(10)));
    }
    let (lat, lat_park, lat_cv) = (Run::merge(lat), Run::merge(lat_park), Run::merge(lat_cv));
    let (thr_l, lat_l, park_l, cv_l) = (thr.lat(), lat.lat(), lat_park.lat(), lat_cv.lat());
    eprintln!("fan-out runs ...");
    let fans: Vec<(usize, FanOut)> = [1usize, 8, 64].into_iter().map(|n| (n, fan_out(&ring, n))).collect();
    eprintln!("side measurements ...");
    let (wrap_allocs, wrap_ns) = wrap_per_write(&pixels);
    let (scale_us, scale_allocs, scale_bytes) = constrained_scale(true);
    let (lazy_us, lazy_allocs, lazy_bytes) = constrained_scale(false);
    close_ring(&ring);

    let mut t = Table(Vec::new());
    let f1 = |v: f64| format!("{v:.1}");
    let f0 = |v: f64| format!("{v:.0}");
    let per = |n: u64, d: u64| format!("{:.3}", n as f64 / d.max(1) as f64);

    t.row(
        "pass-through, writer free-running (2 threads)",
        "",
        format!("maxBufferSize {MAX_BUFFER}, reader blocks in mst_processor_read(-1)"),
    );
    t.row(
        "  libmst frames written/s",
        f0(thr.write_rate()),
        format!(
            "{} frames in {:.2} s ({THROUGHPUT_ROUNDS} rounds, in turns with the baseline)",
            thr.writes,
            thr.elapsed.as_secs_f64()
        ),
    );
    t.row(
        "  libmst frames read/s",
        f0(thr.read_rate()),
        format!("{:.1}% of writes; the rest dropped-oldest", 100.0 * thr.read as f64 / thr.writes as f64),
    );
    t.row(
        "  libmst latency p50 / p99 under saturation",
        format!("{} / {}", f1(thr_l.p50), f1(thr_l.p99)),
        "us (queue full, drop-oldest)",
    );
    t.row(
        "  libmst allocations per frame",
        per(thr.allocs, thr.writes),
        format!("{} in {} frames, both threads", thr.allocs, thr.writes),
    );
    t.row("  libmst media bytes copied per frame", per(thr.bytes, thr.writes), "");
    t.row(
        "  baseline (ArrayQueue+park) items/s",
        f0(thr_park.write_rate()),
        format!("read {:.0}/s", thr_park.read_rate()),
    );
    t.row(
        "  GStreamer appsrc -> appsink frames read/s",
        f0(gst_thr.read_rate()),
        format!(
            "written {:.0}/s; the same memory wrapped per push, appsink drop=true max-buffers={MAX_BUFFER}",
            gst_thr.write_rate()
        ),
    );
    t.row(
        "  ratio libmst / GStreamer frames read/s",
        format!("{:.1}", thr.read_rate() / gst_thr.read_rate()),
        format!("written/s ratio {:.1}", thr.write_rate() / gst_thr.write_rate()),
    );
    t.rule();
    t.row(
        format!("paced latency, writer sleeps {} us between writes", PACE.as_micros()),
        "",
        format!("send -> reader has the frame, reader asleep in a futex; {PACED_ROUNDS} rounds in turns"),
    );
    t.row(
        "  libmst p50 / p99 / max",
        format!("{} / {} / {}", f1(lat_l.p50), f1(lat_l.p99), f0(lat_l.max)),
        format!("us, {} frames, {} read", lat.writes, lat_l.n),
    );
    t.row(
        "  baseline ArrayQueue+park/unpark p50 / p99 / max",
        format!("{} / {} / {}", f1(park_l.p50), f1(park_l.p99), f0(park_l.max)),
        format!("us, {} items", park_l.n),
    );
    t.row(
        "  baseline ArrayQueue+Mutex/Condvar p50 / p99 / max",
        format!("{} / {} / {}", f1(cv_l.p50), f1(cv_l.p99), f0(cv_l.max)),
        format!("us, {} items", cv_l.n),
    );
    t.row(
        "  ratio libmst p50 / baseline (park) p50",
        format!("{:.2}", lat_l.p50 / park_l.p50),
        format!("p99 ratio {:.2}", lat_l.p99 / park_l.p99),
    );
    t.row(
        "  ratio libmst p50 / baseline (condvar) p50",
        format!("{:.2}", lat_l.p50 / cv_l.p50),
        format!("p99 ratio {:.2}", lat_l.p99 / cv_l.p99),
    );
    t.row(
        "  libmst allocations per frame",
        per(lat.allocs, lat.writes),
        format!("{} in {} frames, both threads", lat.allocs, lat.writes),
    );
    t.row("  libmst media bytes copied per frame", per(lat.bytes, lat.writes), "");
    t.rule();
    t.row(
        "fan-out, 1 writer -> N processors on one track",
        "",
        format!(
            "drained inline (read(0)+close) by the writer, untimed, after every {FAN_BATCH} writes; best of {FAN_REPS}"
        ),
    );
    for (n, f) in &fans {
        t.row(
            format!("  {n:>2} processor(s): ns per write"),
            f0(f.ns_per_write),
            format!("clone+write; allocs/frame {} media B/frame {}", per(f.allocs, f.writes), per(f.bytes, f.writes)),
        );
    }
    let (first, last) = (&fans[0], &fans[fans.len() - 1]);
    t.row(
        "  ns per extra processor",
        f1((last.1.ns_per_write - first.1.ns_per_write) / (last.0 - first.0) as f64),
        format!("({} - {}) / {}", last.0, first.0, last.0 - first.0),
    );
    t.rule();
    t.row("side measurements (1 thread)", "", "");
    t.row(
        "  mst_frame_wrap_video per write: allocations/frame",
        format!("{wrap_allocs:.3}"),
        format!("wrap+write+read+close {wrap_ns:.0} ns (vs clone of a wrapped frame above)"),
    );
    t.row(
        "  track 1280x720 -> exact 640x360: us per frame",
        f0(scale_us),
        format!("write+read+map plane+close; allocs/frame {scale_allocs:.3}, media B/frame {scale_bytes:.0}"),
    );
    t.row(
        "  the same, reader never maps a pixel: us/frame",
        f1(lazy_us),
        format!("scaled lazily, so never; allocs/frame {lazy_allocs:.3}, media B/frame {lazy_bytes:.0}"),
    );

    println!();
    t.print(&title);
    println!("(total bench time {:.1} s)", t_all.elapsed().as_secs_f64());
}
