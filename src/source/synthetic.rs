//! The embedded sources: a moving test pattern and a sine tone, so every example and test runs
//! on a machine with no camera or sound card.

use std::f64::consts::TAU;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::constraints::Capabilities;
use crate::convert::{self, ImageMut};
use crate::error::{err, Result};
use crate::frame::{AudioDataInit, AudioSampleFormat, Frame, Kind, VideoPixelFormat, MAX_DIMENSION};
use crate::source::worker::{spawn_producer, StopSignal};
use crate::source::SourceCore;
use crate::track::{EndReason, Track};

/// Options of the test-pattern source.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TestPatternOptions {
    pub width: u32,
    pub height: u32,
    pub frame_rate: f64,
    pub format: VideoPixelFormat,
    /// Real-time pacing. False: as fast as the consumers allow (see `spawn_source`).
    pub paced: bool,
    /// End the source (reason SourceEnded) after this many frames; 0 = never.
    pub frame_count: u64,
}

impl Default for TestPatternOptions {
    /// 640x360 I420 at 30 fps, real time, endless: what `mst_track_create_test_pattern` makes
    /// of a zeroed options struct.
    fn default() -> Self {
        TestPatternOptions {
            width: 640,
            height: 360,
            frame_rate: 30.0,
            format: VideoPixelFormat::I420,
            paced: true,
            frame_count: 0,
        }
    }
}

/// Options of the tone source.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ToneOptions {
    pub sample_rate: u32,
    pub channels: u32,
    pub frequency: f64,
    /// Peak amplitude, 0..=1.
    pub amplitude: f64,
    pub format: AudioSampleFormat,
    /// Frames per AudioData; 0 = 10 ms.
    pub chunk_frames: u32,
    pub paced: bool,
    /// End after this many chunks; 0 = never.
    pub chunk_count: u64,
}

/// The slowest a synthetic source may run: one frame or chunk every 1000 s.
const MIN_RATE: f64 = 0.001;

/// How long an unpaced source waits for a full consumer before delivering anyway (the
/// consumer then drops its oldest frame, as with any live source).
const UNPACED_PATIENCE: Duration = Duration::from_millis(50);
/// How long a finished unpaced source waits for its consumers to drain before it ends.
const UNPACED_DRAIN: Duration = Duration::from_secs(1);

/// How a synthetic source times its frames.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pacing {
    /// At its rate, like a device.
    RealTime,
    /// As fast as the consumers allow, waiting at most this long (None: for ever) for a full
    /// sink to make room.
    Unpaced(Option<Duration>),
}

impl Pacing {
    fn of(paced: bool) -> Pacing {
        if paced {
            Pacing::RealTime
        } else {
            Pacing::Unpaced(Some(UNPACED_PATIENCE))
        }
    }
}

/// Starts `produce(n)` for n = 0, 1, ... on a thread, delivering each result and ending the
/// source after `count` items (0 = never) or when `produce` fails. Paced: at `rate` per second,
/// like a device. Unpaced: as fast as the consumers allow: it starts when the first sink is
/// connected, waits (up to its patience a frame) while a sink's queue is full, and before
/// ending waits (up to `UNPACED_DRAIN`) for the queues to drain, so a finite unpaced run reaches
/// readers that keep up whole, yet (with a patience) a sink nobody reads cannot stall it.
fn spawn_source(
    core: &Arc<SourceCore>,
    name: &str,
    rate: f64,
    pacing: Pacing,
    count: u64,
    mut produce: impl FnMut(u64) -> Result<Frame> + Send + 'static,
) -> Result<()> {
    let paced = pacing == Pacing::RealTime;
    let patience = match pacing {
        Pacing::Unpaced(p) => p,
        Pacing::RealTime => None,
    };
    let period = Duration::from_secs_f64(1.0 / rate);
    spawn_producer(core, name, move |weak, stop| {
        let start = Instant::now();
        let mut n = 0u64;
        while !stop.is_raised() && (count == 0 || n < count) {
            if paced {
                let Some(due) = start.checked_add(period.mul_f64(n as f64)) else { break };
                while !stop.is_raised() {
                    let now = Instant::now();
                    if now >= due {
                        break;
                    }
                    std::thread::park_timeout(due - now);
                }
            }
            let Some(core) = weak.upgrade() else { return Ok(None) };
            if !paced && !wait_for_consumers(&core, stop, patience) {
                break;
            }
            core.deliver(&produce(n)?);
            n += 1;
        }
        let Some(core) = weak.upgrade() else { return Ok(None) };
        if !paced {
            // The end empties queues (processorClose): let readers that keep up drain.
            let start = Instant::now();
            while !stop.is_raised() && !core.consumers_idle() && start.elapsed() < UNPACED_DRAIN {
                std::thread::park_timeout(Duration::from_micros(200));
            }
        }
        Ok(Some(EndReason::SourceEnded))
    })
}

/// Blocks until a sink exists and has room (or `patience` passed while one is full).
/// False when the source was stopped meanwhile.
fn wait_for_consumers(core: &SourceCore, stop: &StopSignal, patience: Option<Duration>) -> bool {
    let start = Instant::now();
    while !stop.is_raised() {
        match core.consumers_have_room() {
            None => std::thread::park_timeout(Duration::from_millis(1)),
            Some(false) if patience.is_none_or(|p| start.elapsed() < p) => {
                std::thread::park_timeout(Duration::from_micros(100))
            }
            Some(_) => return true,
        }
    }
    false
}

/// BT.709 limited-range YUV of 75% colour bars: white, yellow, cyan, green, magenta, red,
/// blue, black (the test pattern's bars, left to right).
pub const BARS: [(u8, u8, u8); 8] = [
    (180, 128, 128),
    (168, 44, 136),
    (145, 147, 44),
    (133, 63, 52),
    (63, 193, 204),
    (51, 109, 212),
    (28, 212, 120),
    (16, 128, 128),
];

/// Frame `n` of the pattern: colour bars scrolling left by 4 pixels a frame, and a white
/// square bouncing across them.
fn draw_pattern(img: &mut ImageMut, n: u64) {
    let (w, h) = (img.width, img.height);
    let shift = (n as usize * 4) % w.max(1);
    let bar = |x: usize| BARS[((x + shift) % w) * 8 / w];
    let side = (w.min(h) / 6).max(2) & !1;
    let span_x = (w - side.min(w)).max(1);
    let span_y = (h - side.min(h)).max(1);
    let bounce = |t: usize, span: usize| if (t / span).is_multiple_of(2) { t % span } else { span - t % span };
    let bx = bounce(n as usize * 6, span_x) & !1;
    let by = bounce(n as usize * 4, span_y) & !1;
    let in_box = |x: usize, y: usize| x >= bx && x < bx + side && y >= by && y < by + side;
    let (ys, us, vs) = (img.strides[0], img.strides[1], img.strides[2]);
    let [yp, up, vp, _] = &mut img.planes;
    for y in 0..h {
        let row = &mut yp[y * ys..y * ys + w];
        for (x, px) in row.iter_mut().enumerate() {
            *px = if in_box(x, y) { 235 } else { bar(x).0 };
        }
    }
    for cy in 0..h.div_ceil(2) {
        for cx in 0..w.div_ceil(2) {
            let (_, u, v) = if in_box(cx * 2, cy * 2) { (235, 128, 128) } else { bar(cx * 2) };
            up[cy * us + cx] = u;
            vp[cy * vs + cx] = v;
        }
    }
}

impl Default for ToneOptions {
    /// 440 Hz at half amplitude, 48 kHz mono f32 in 10 ms chunks, real time, endless.
    fn default() -> Self {
        ToneOptions {
            sample_rate: 48_000,
            channels: 1,
            frequency: 440.0,
            amplitude: 0.5,
            format: AudioSampleFormat::F32,
            chunk_frames: 0,
            paced: true,
            chunk_count: 0,
        }
    }
}

/// The test-pattern source: one track on a new source producing `opts.format` frames.
pub fn test_pattern(opts: &TestPatternOptions) -> Result<Track> {
    test_pattern_timed(opts, Pacing::of(opts.paced))
}

/// The test pattern unpaced (`opts.paced` is not looked at) and lossless: while a sink's queue
/// is full it waits for room as long as it takes, so every frame reaches every sink however
/// slowly it is read. For a recorder that reads every frame and may be slower than the pattern
/// (the `mst` command writing PNGs); a sink nobody reads stalls it until the track is stopped.
pub fn test_pattern_lossless(opts: &TestPatternOptions) -> Result<Track> {
    test_pattern_timed(opts, Pacing::Unpaced(None))
}

fn test_pattern_timed(opts: &TestPatternOptions, pacing: Pacing) -> Result<Track> {
    let (w, h) = (opts.width, opts.height);
    if w < 2 || h < 2 || w > MAX_DIMENSION || h > MAX_DIMENSION {
        return Err(err!(InvalidArg, "test pattern size {w}x{h} (width x height) is outside 2..={MAX_DIMENSION}"));
    }
    if !(opts.frame_rate.is_finite() && (MIN_RATE..=1000.0).contains(&opts.frame_rate)) {
        return Err(err!(InvalidArg, "test pattern frame rate {:?} is outside {MIN_RATE}..=1000", opts.frame_rate));
    }
    let core = SourceCore::new(
        Kind::Video,
        format!("libmst test pattern {w}x{h} {}", opts.format.name()),
        Capabilities::fixed_video(w, h, opts.frame_rate),
    );
    let track = Track::new(&core);
    let (format, rate) = (opts.format, opts.frame_rate);
    let duration = (1_000_000.0 / rate) as i64;
    spawn_source(&core, "mst-test-pattern", rate, pacing, opts.frame_count, move |n| {
        let ts = (n as f64 * 1_000_000.0 / rate) as i64;
        let i420 = Frame::video_with(VideoPixelFormat::I420, w, h, ts, Some(duration), |img| draw_pattern(img, n))?;
        if format == VideoPixelFormat::I420 {
            return Ok(i420);
        }
        let src = i420.image(i420.video().expect("video").visible_rect).expect("video");
        Frame::video_with(format, w, h, ts, Some(duration), |dst| convert::convert(&src, dst))
    })?;
    Ok(track)
}

/// The tone source: one track on a new source producing sine chunks.
pub fn tone(opts: &ToneOptions) -> Result<Track> {
    tone_timed(opts, Pacing::of(opts.paced))
}

/// The tone unpaced and lossless, as [`test_pattern_lossless`].
pub fn tone_lossless(opts: &ToneOptions) -> Result<Track> {
    tone_timed(opts, Pacing::Unpaced(None))
}

fn tone_timed(opts: &ToneOptions, pacing: Pacing) -> Result<Track> {
    if opts.sample_rate == 0 || opts.sample_rate > 768_000 {
        return Err(err!(InvalidArg, "tone sample rate {} is outside 1..=768000", opts.sample_rate));
    }
    if opts.channels == 0 || opts.channels > 32 {
        return Err(err!(InvalidArg, "tone channel count {} is outside 1..=32", opts.channels));
    }
    if !(opts.frequency.is_finite() && opts.frequency > 0.0 && opts.frequency < opts.sample_rate as f64 / 2.0) {
        return Err(err!(InvalidArg, "tone frequency {} is not between 0 and Nyquist", opts.frequency));
    }
    if !(0.0..=1.0).contains(&opts.amplitude) {
        return Err(err!(InvalidArg, "tone amplitude {} is outside 0..=1", opts.amplitude));
    }
    if opts.chunk_frames > opts.sample_rate {
        return Err(err!(
            InvalidArg,
            "tone chunk of {} frames is longer than a second at {} Hz",
            opts.chunk_frames,
            opts.sample_rate
        ));
    }
    let chunk = if opts.chunk_frames == 0 { opts.sample_rate / 100 } else { opts.chunk_frames }.max(1);
    let core = SourceCore::new(Kind::Audio, format!("libmst tone {} Hz", opts.frequency), Capabilities::default());
    core.set_initial_settings(crate::constraints::audio_settings(opts.sample_rate, opts.channels, opts.format));
    let track = Track::new(&core);
    let o = *opts;
    let channels = o.channels as usize;
    let mut scratch = vec![0u8; chunk as usize * channels * 4];
    spawn_source(&core, "mst-tone", o.sample_rate as f64 / chunk as f64, pacing, o.chunk_count, move |n| {
        let first = n * chunk as u64;
        for (i, frame) in scratch.chunks_exact_mut(channels * 4).enumerate() {
            let t = (first + i as u64) as f64 / o.sample_rate as f64;
            let v = ((TAU * o.frequency * t).sin() * o.amplitude) as f32;
            for s in frame.chunks_exact_mut(4) {
                s.copy_from_slice(&v.to_ne_bytes());
            }
        }
        let init = AudioDataInit {
            format: o.format,
            sample_rate: o.sample_rate as f32,
            number_of_frames: chunk,
            number_of_channels: o.channels,
            timestamp: (first as f64 * 1_000_000.0 / o.sample_rate as f64) as i64,
        };
        Frame::audio_with(&init, |buf| {
            convert::copy_audio(
                &scratch,
                AudioSampleFormat::F32,
                channels,
                chunk as usize,
                buf,
                o.format,
                0,
                0,
                chunk as usize,
            );
            if o.format.is_planar() {
                let plane = chunk as usize * o.format.bytes_per_sample();
                for c in 1..channels {
                    buf.copy_within(0..plane, c * plane);
                }
            }
        })
    })?;
    Ok(track)
}
