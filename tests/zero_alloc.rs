//! A warm pipeline allocates nothing per frame and copies no media it does not have to.
//!
//! A counting global allocator (System underneath) counts every alloc/alloc_zeroed/realloc in
//! the process; a second, thread-local counter says which of them happened on the measuring
//! thread. The pipelines here have no library thread (a generator delivers on the writer's
//! thread, processors only queue), so the only other threads are the test harness's: a
//! window in which the harness allocated (another test finishing, the next one spawning) and
//! this thread did not is measured again. The tests also take one lock so only one measures
//! at a time. No timing is asserted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ffi::c_void;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;

use mst::ffi::frame::*;
use mst::ffi::generator::*;
use mst::ffi::processor::*;
use mst::ffi::track::*;

mod common;
use common::{audio_info, buffer, i420_init, ok, struct_size, video_info};

// ---------------------------------------------------------------------------------------------
// Counting allocator

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    // const-initialised, no destructor: using it never allocates or registers anything.
    static LOCAL_ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    ALLOCS.fetch_add(1, Ordering::Relaxed);
    let _ = LOCAL_ALLOCS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: forwards every call unchanged to System.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        count();
        System.alloc(l)
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        count();
        System.alloc_zeroed(l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        count();
        System.realloc(p, l, n)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn local_allocs() -> u64 {
    LOCAL_ALLOCS.with(|c| c.get())
}

/// One test measures at a time.
static SERIAL: Mutex<()> = Mutex::new(());

struct Window {
    /// Allocations in the whole process during the window.
    all: u64,
    /// Of which on this thread.
    here: u64,
    /// Media bytes the library copied or converted during the window.
    bytes: u64,
    /// Windows thrown away because only another thread (the harness) allocated in them.
    retried: u32,
}

/// Runs `body` `iters` times and counts. Nothing inside may print (captured output allocates).
fn measure(iters: u32, mut body: impl FnMut(u32)) -> Window {
    let mut retried = 0;
    loop {
        let (a0, l0, b0) = (ALLOCS.load(Ordering::SeqCst), local_allocs(), mst::stats::media_bytes_copied());
        for i in 0..iters {
            body(i);
        }
        let (a1, l1, b1) = (ALLOCS.load(Ordering::SeqCst), local_allocs(), mst::stats::media_bytes_copied());
        let w = Window { all: a1 - a0, here: l1 - l0, bytes: b1 - b0, retried };
        if w.all > w.here && w.here == 0 && retried < 5 {
            retried += 1;
            continue;
        }
        return w;
    }
}

fn report(name: &str, iters: u32, w: &Window) {
    println!(
        "{name}: {iters} iterations: {} allocations ({} on this thread, {:.3}/iteration), {} media bytes copied ({:.1}/iteration){}",
        w.all,
        w.here,
        w.all as f64 / iters as f64,
        w.bytes,
        w.bytes as f64 / iters as f64,
        if w.retried > 0 { format!(", {} window(s) re-measured for harness allocations", w.retried) } else { String::new() }
    );
}

unsafe extern "C" fn count_release(user_data: *mut c_void) {
    // SAFETY: user_data is the &AtomicU32 passed at wrap time, alive for the whole test.
    unsafe { &*(user_data as *const AtomicU32) }.fetch_add(1, Ordering::SeqCst);
}

const W: u32 = 1920;
const H: u32 = 1080;
const I420_1080P: usize = (W * H * 3 / 2) as usize;

/// generator -> its track -> processor, and a track clone -> a second processor.
struct Pipeline {
    generator: *mut MstGenerator,
    tracks: [*mut MstTrack; 2],
    processors: [*mut MstProcessor; 2],
}

impl Pipeline {
    fn new(kind: MstKind, max_buffer_size: u32) -> Pipeline {
        let mut generator = null_mut();
        ok(mst_generator_create(kind as i32, &mut generator));
        let (mut t0, mut t1) = (null_mut(), null_mut());
        ok(mst_generator_get_track(generator, &mut t0));
        ok(mst_track_clone(t0, &mut t1));
        let (mut p0, mut p1) = (null_mut(), null_mut());
        ok(mst_processor_create(t0, &buffer(max_buffer_size), &mut p0));
        ok(mst_processor_create(t1, &buffer(max_buffer_size), &mut p1));
        Pipeline { generator, tracks: [t0, t1], processors: [p0, p1] }
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        for p in self.processors {
            ok(mst_processor_free(p));
        }
        for t in self.tracks {
            ok(mst_track_free(t));
        }
        ok(mst_generator_free(self.generator));
    }
}

// ---------------------------------------------------------------------------------------------
// 1. The C ABI pass-through path

#[test]
fn c_abi_pass_through_allocates_and_copies_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());

    // Video: 1080p I420 wrapped from a Vec, cloned, written, read by two processors.
    let released = AtomicU32::new(0);
    let pixels: Vec<u8> = (0..I420_1080P).map(|i| (i % 251) as u8).collect();
    let pipe = Pipeline::new(MstKind::MST_KIND_VIDEO, 4);
    let mut source = null_mut();
    ok(mst_frame_wrap_video(
        &i420_init(W, H, 1234),
        pixels.as_ptr(),
        pixels.len(),
        Some(count_release),
        &released as *const AtomicU32 as *mut c_void,
        &mut source,
    ));
    let base = pixels.as_ptr();
    let mut mismatches = 0u32;
    let mut iteration = |_: u32| {
        let mut clone = null_mut();
        ok(mst_frame_clone(source, &mut clone));
        ok(mst_generator_write(pipe.generator, clone));
        ok(mst_frame_free(clone));
        for p in pipe.processors {
            let mut f = null_mut();
            ok(mst_processor_read(p, 0, &mut f));
            let (mut data, mut stride, mut len) = (std::ptr::null(), 0usize, 0usize);
            ok(mst_frame_get_video_plane(f, 0, &mut data, &mut stride, &mut len));
            mismatches += (data != base || stride != W as usize || len != I420_1080P) as u32;
            ok(mst_frame_get_video_plane(f, 2, &mut data, &mut stride, &mut len));
            mismatches +=
                (data != base.wrapping_add((W * H + W * H / 4) as usize) || stride != (W / 2) as usize) as u32;
            ok(mst_frame_free(f));
        }
    };
    measure(100, &mut iteration);
    let video = measure(1000, &mut iteration);
    report("C ABI video 1080p I420, wrapped source, 2 processors", 1000, &video);
    assert_eq!(mismatches, 0, "a processor handed out a plane that is not the wrapped Vec's memory");
    for p in pipe.processors {
        let mut s = MstProcessorStats { struct_size: struct_size::<MstProcessorStats>(), ..Default::default() };
        ok(mst_processor_get_stats(p, &mut s));
        assert_eq!((s.total, s.delivered, s.discarded, s.queued), (1100, 1100, 0, 0));
    }
    assert_eq!(released.load(Ordering::SeqCst), 0, "released while the source handle is open");
    ok(mst_frame_free(source));
    assert_eq!(released.load(Ordering::SeqCst), 1, "closing the last handle releases the wrapped memory once");
    drop(pipe);

    // Audio: 10 ms of 48 kHz f32 stereo, wrapped, same path.
    let released = AtomicU32::new(0);
    let samples: Vec<f32> = (0..480 * 2).map(|i| (i as f32 * 0.01).sin()).collect();
    let pipe = Pipeline::new(MstKind::MST_KIND_AUDIO, 4);
    let init = MstAudioDataInit {
        struct_size: struct_size::<MstAudioDataInit>(),
        format: MstAudioSampleFormat::MST_AUDIO_SAMPLE_FORMAT_F32 as i32,
        sample_rate: 48000.0,
        number_of_frames: 480,
        number_of_channels: 2,
        timestamp: 5678,
    };
    let mut source = null_mut();
    ok(mst_frame_wrap_audio(
        &init,
        samples.as_ptr().cast(),
        samples.len() * 4,
        Some(count_release),
        &released as *const AtomicU32 as *mut c_void,
        &mut source,
    ));
    let mut mismatches = 0u32;
    let mut iteration = |_: u32| {
        let mut clone = null_mut();
        ok(mst_frame_clone(source, &mut clone));
        ok(mst_generator_write(pipe.generator, clone));
        ok(mst_frame_free(clone));
        for p in pipe.processors {
            let mut f = null_mut();
            ok(mst_processor_read(p, 0, &mut f));
            // There is no zero-copy sample accessor in the C ABI; check the metadata instead.
            let info = audio_info(f);
            mismatches +=
                (info.timestamp != 5678 || info.number_of_frames != 480 || info.number_of_channels != 2) as u32;
            ok(mst_frame_free(f));
        }
    };
    measure(100, &mut iteration);
    let audio = measure(1000, &mut iteration);
    report("C ABI audio 10 ms f32 stereo, wrapped source, 2 processors", 1000, &audio);
    assert_eq!(mismatches, 0);
    ok(mst_frame_free(source));
    assert_eq!(released.load(Ordering::SeqCst), 1);
    drop(pipe);

    assert_eq!(video.all, 0, "C ABI video pass-through allocated once warm ({} in 1000 iterations)", video.all);
    assert_eq!(video.bytes, 0, "C ABI video pass-through copied media");
    assert_eq!(audio.all, 0, "C ABI audio pass-through allocated once warm ({} in 1000 iterations)", audio.all);
    assert_eq!(audio.bytes, 0, "C ABI audio pass-through copied media");
}

// ---------------------------------------------------------------------------------------------
// 2. The same through the safe Rust API: the core itself

struct VecMemory(Vec<u8>);

impl mst::frame::ExternalMemory for VecMemory {
    fn bytes(&self) -> &[u8] {
        &self.0
    }
}

#[test]
fn rust_core_pass_through_allocates_and_copies_nothing() {
    use mst::frame::{AudioDataInit, VideoFrameInit};
    use mst::{AudioSampleFormat, Frame, Generator, Kind, Processor, VideoPixelFormat, Wait};
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());

    let pixels: Vec<u8> = (0..I420_1080P).map(|i| (i % 251) as u8).collect();
    let base = pixels.as_ptr();
    let init = VideoFrameInit {
        format: VideoPixelFormat::I420,
        coded_width: W,
        coded_height: H,
        timestamp: 1234,
        duration: None,
        layout: None,
        visible_rect: None,
        display_size: None,
        color_space: None,
    };
    let source = Frame::video_wrap(&init, Box::new(VecMemory(pixels))).map_err(|(e, _)| e).unwrap();
    let g = Generator::new(Kind::Video);
    let clone_track = g.track().clone_track();
    let processors = [Processor::new(g.track(), 4), Processor::new(&clone_track, 4)];
    let mut mismatches = 0u32;
    let mut iteration = |_: u32| {
        g.write(source.clone()).map_err(|(e, _)| e).unwrap();
        for p in &processors {
            let d = p.read(Wait::No).unwrap();
            let (bytes, stride) = d.frame.plane(0).unwrap();
            mismatches +=
                (bytes.as_ptr() != base || stride != W as usize || !d.frame.shares_buffer_with(&source)) as u32;
        }
    };
    measure(100, &mut iteration);
    let video = measure(1000, &mut iteration);
    report("Rust video 1080p I420, wrapped source, 2 processors", 1000, &video);
    assert_eq!(mismatches, 0, "a processor handed out a frame that is not the wrapped memory");

    let samples: Vec<u8> = (0..480 * 2 * 4).map(|i| i as u8).collect();
    let abase = samples.as_ptr();
    let ainit = AudioDataInit {
        format: AudioSampleFormat::F32,
        sample_rate: 48000.0,
        number_of_frames: 480,
        number_of_channels: 2,
        timestamp: 5678,
    };
    let asource = Frame::audio_wrap(&ainit, Box::new(VecMemory(samples))).map_err(|(e, _)| e).unwrap();
    let ag = Generator::new(Kind::Audio);
    let aclone_track = ag.track().clone_track();
    let aprocessors = [Processor::new(ag.track(), 4), Processor::new(&aclone_track, 4)];
    let mut amismatches = 0u32;
    let mut iteration = |_: u32| {
        ag.write(asource.clone()).map_err(|(e, _)| e).unwrap();
        for p in &aprocessors {
            let d = p.read(Wait::No).unwrap();
            amismatches += (d.frame.data().as_ptr() != abase) as u32;
        }
    };
    measure(100, &mut iteration);
    let audio = measure(1000, &mut iteration);
    report("Rust audio 10 ms f32 stereo, wrapped source, 2 processors", 1000, &audio);
    assert_eq!(amismatches, 0, "a processor handed out audio that is not the wrapped memory");

    assert_eq!(video.all, 0, "Rust video pass-through allocated once warm ({} in 1000 iterations)", video.all);
    assert_eq!(video.bytes, 0, "Rust video pass-through copied media");
    assert_eq!(audio.all, 0, "Rust audio pass-through allocated once warm ({} in 1000 iterations)", audio.all);
    assert_eq!(audio.bytes, 0, "Rust audio pass-through copied media");
}

// ---------------------------------------------------------------------------------------------
// 3. A constrained track scales once per frame into pooled buffers

#[test]
fn constrained_track_scales_once_into_pooled_frames() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    const SW: u32 = 1280;
    const SH: u32 = 720;
    const OUT_BYTES: u64 = 640 * 360 * 3 / 2; // 345600

    let mut generator = null_mut();
    ok(mst_generator_create(MstKind::MST_KIND_VIDEO as i32, &mut generator));
    let mut track = null_mut();
    ok(mst_generator_get_track(generator, &mut track));
    let exact = |v: f64| MstConstrainRange { present: MST_CONSTRAIN_EXACT, exact: v, ..Default::default() };
    let c = MstVideoConstraints {
        struct_size: struct_size::<MstVideoConstraints>(),
        width: exact(640.0),
        height: exact(360.0),
        ..Default::default()
    };
    ok(mst_track_apply_constraints(track, &c));
    let mut processor = null_mut();
    ok(mst_processor_create(track, &buffer(4), &mut processor));

    let released = AtomicU32::new(0);
    let pixels: Vec<u8> = (0..(SW * SH * 3 / 2) as usize).map(|i| (i % 253) as u8).collect();
    let mut source = null_mut();
    ok(mst_frame_wrap_video(
        &i420_init(SW, SH, 42),
        pixels.as_ptr(),
        pixels.len(),
        Some(count_release),
        &released as *const AtomicU32 as *mut c_void,
        &mut source,
    ));
    let src_range = pixels.as_ptr_range();
    let mut mismatches = 0u32;
    let mut iteration = |_: u32| {
        let mut clone = null_mut();
        ok(mst_frame_clone(source, &mut clone));
        ok(mst_generator_write(generator, clone));
        ok(mst_frame_free(clone));
        let mut f = null_mut();
        ok(mst_processor_read(processor, 0, &mut f));
        let info = video_info(f);
        let (mut data, mut stride, mut len) = (std::ptr::null(), 0usize, 0usize);
        ok(mst_frame_get_video_plane(f, 0, &mut data, &mut stride, &mut len));
        mismatches += (info.coded_width != 640
            || info.coded_height != 360
            || info.visible_rect.width != 640
            || info.visible_rect.height != 360
            || info.timestamp != 42
            || src_range.contains(&data)
            || stride != 640) as u32;
        ok(mst_frame_free(f));
    };
    // Scaling is slow in unoptimised builds (about 0.5 s a frame): fewer frames there.
    let (warm, iters) = if cfg!(debug_assertions) { (3, 20) } else { (100, 1000) };
    measure(warm, &mut iteration);
    let w = measure(iters, &mut iteration);
    report("C ABI constrained 1280x720 -> 640x360 (exact), 1 processor", iters, &w);
    assert_eq!(mismatches, 0, "the constrained track delivered something other than a 640x360 scaled frame");

    ok(mst_frame_free(source));
    assert_eq!(released.load(Ordering::SeqCst), 1);
    ok(mst_processor_free(processor));
    ok(mst_track_free(track));
    ok(mst_generator_free(generator));

    assert_eq!(
        w.all, 0,
        "the constrained track allocated once warm ({} in {iters} iterations): scaled frames should come from the pool",
        w.all
    );
    assert_eq!(
        w.bytes,
        iters as u64 * OUT_BYTES,
        "media bytes per frame should be exactly one 640x360 I420 frame ({OUT_BYTES})"
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Wrapping caller memory anew for every frame (how a camera's buffers come in)

#[test]
fn wrapping_a_buffer_per_frame_allocates_nothing_once_warm() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let pipeline = Pipeline::new(MstKind::MST_KIND_VIDEO, 4);
    let memory = vec![7u8; I420_1080P];
    let released = AtomicU32::new(0);
    let steps = std::cell::Cell::new(0u32);
    let step = |i: u32| {
        steps.set(steps.get() + 1);
        let mut frame = null_mut();
        let init = i420_init(W, H, i as i64);
        let user_data = &released as *const AtomicU32 as *mut c_void;
        ok(mst_frame_wrap_video(&init, memory.as_ptr(), memory.len(), Some(count_release), user_data, &mut frame));
        ok(mst_generator_write(pipeline.generator, frame));
        ok(mst_frame_free(frame));
        for p in pipeline.processors {
            let mut read = null_mut();
            ok(mst_processor_read(p, 0, &mut read));
            ok(mst_frame_free(read));
        }
    };
    for i in 0..100 {
        step(i);
    }
    let w = measure(1000, |i| step(100 + i));
    report("wrap per frame", 1000, &w);
    assert_eq!(w.all, 0, "wrapping per frame allocated once warm");
    assert_eq!(w.bytes, 0, "wrapping copied media bytes");
    assert_eq!(released.load(Ordering::SeqCst), steps.get(), "every wrapped buffer was released once");
}
