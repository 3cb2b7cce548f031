//! mst.h, built-in sources: the test pattern and the tone (no camera or sound card needed).

use super::frame::{audio_format_in, video_format_in};
use super::support::read_in;
use super::track::{new_handle, MstTrack};
use super::{ffi_call, out, sized_struct, symver, MstStatus};
use crate::source::synthetic::{self, TestPatternOptions, ToneOptions};

/// Options of mst_track_create_test_pattern(). Zero fields take the defaults in brackets.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MstTestPatternOptions {
    /// sizeof(MstTestPatternOptions) as the caller knows it (MST_STRUCT_INIT).
    pub struct_size: u32,
    /// [640] x [360], each 2..=16384.
    pub width: u32,
    pub height: u32,
    /// [30] frames per second, up to 1000.
    pub frame_rate: f64,
    /// An MstVideoPixelFormat value [I420].
    pub format: i32,
    /// Produce as fast as the consumers allow instead of in real time [false: real time]:
    /// starts when the first processor or sink connects, waits (up to 50 ms a frame) while a
    /// consumer's queue is full, and before ending waits (up to 1 s) for the queues to drain,
    /// so a finite unpaced run reaches readers that keep up whole.
    pub unpaced: bool,
    /// End the source (MST_END_REASON_SOURCE_ENDED) after this many frames [0: never].
    pub frame_count: u64,
}

/// Options of mst_track_create_tone(). Zero fields take the defaults in brackets.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MstToneOptions {
    /// sizeof(MstToneOptions) as the caller knows it (MST_STRUCT_INIT).
    pub struct_size: u32,
    /// [48000] Hz.
    pub sample_rate: u32,
    /// [1] channel, each carrying the same tone; up to 32.
    pub channels: u32,
    /// [440] Hz, below sample_rate / 2.
    pub frequency: f64,
    /// Peak amplitude 0..=1 [0.5].
    pub amplitude: f64,
    /// An MstAudioSampleFormat value [F32].
    pub format: i32,
    /// Frames per AudioData [sample_rate / 100: 10 ms].
    pub chunk_frames: u32,
    /// As fast as the consumers allow instead of real time [false]; see MstTestPatternOptions.
    pub unpaced: bool,
    /// End after this many chunks [0: never].
    pub chunk_count: u64,
}

fn or<T: PartialEq + Default>(v: T, default: T) -> T {
    if v == T::default() {
        default
    } else {
        v
    }
}

/// Starts a moving test pattern (scrolling 75% colour bars and a bouncing white square) and
/// returns a track on it. Its capabilities are its own size and rate: the track can crop,
/// scale down and decimate. Frames are produced on a library thread ("mst-test-pattern"),
/// timestamps are n x 1e6 / frame_rate microseconds. The source stops when its last track ends.
///
/// Ownership: `options` (NULL = all defaults) borrowed; on MST_OK the caller owns `*out` and
/// releases it with mst_track_free().
/// Thread safety: any thread.
/// Blocking: no (the source's thread is started, not waited for).
/// Errors: MST_ERR_NULL_ARG (`out` is NULL), MST_ERR_INVALID_ARG (size, rate or format out
/// of range; `options->struct_size` below the 1.0 size), MST_ERR_UNSUPPORTED (nonzero bytes
/// past the `options` this libmst knows), MST_ERR_IO (no eventfd), MST_ERR_NO_MEMORY (no
/// thread or handle left).
/// Spec: libmst extension (a source, as a camera's getUserMedia() track).
#[no_mangle]
pub extern "C" fn mst_track_create_test_pattern(
    options: *const MstTestPatternOptions,
    out: *mut *mut MstTrack,
) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        let o = read_in(options, "options")?.unwrap_or_default();
        let d = TestPatternOptions::default();
        let opts = TestPatternOptions {
            width: or(o.width, d.width),
            height: or(o.height, d.height),
            frame_rate: or(o.frame_rate, d.frame_rate),
            format: if o.format == 0 { d.format } else { video_format_in(o.format, "format")? },
            paced: !o.unpaced,
            frame_count: o.frame_count,
        };
        *out = new_handle(synthetic::test_pattern(&opts)?)?;
        Ok(())
    })
}

/// Starts a sine tone and returns a track on it; 10 ms AudioData chunks by default, produced
/// on a library thread ("mst-tone"), timestamps n x chunk_frames x 1e6 / sample_rate
/// microseconds. The source stops when its last track ends.
///
/// Ownership: as mst_track_create_test_pattern().
/// Thread safety: any thread.
/// Blocking: no (the source's thread is started, not waited for).
/// Errors: as mst_track_create_test_pattern() (rate, channels, frequency, amplitude, format
/// or chunk size out of range are MST_ERR_INVALID_ARG).
/// Spec: libmst extension (a source, as a microphone's getUserMedia() track).
#[no_mangle]
pub extern "C" fn mst_track_create_tone(options: *const MstToneOptions, out: *mut *mut MstTrack) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        let o = read_in(options, "options")?.unwrap_or_default();
        let d = ToneOptions::default();
        let opts = ToneOptions {
            sample_rate: or(o.sample_rate, d.sample_rate),
            channels: or(o.channels, d.channels),
            frequency: or(o.frequency, d.frequency),
            amplitude: or(o.amplitude, d.amplitude),
            format: if o.format == 0 { d.format } else { audio_format_in(o.format, "format")? },
            chunk_frames: o.chunk_frames,
            paced: !o.unpaced,
            chunk_count: o.chunk_count,
        };
        *out = new_handle(synthetic::tone(&opts)?)?;
        Ok(())
    })
}

sized_struct!(in MstTestPatternOptions = 40, in MstToneOptions = 56);

symver!(mst_track_create_test_pattern, mst_track_create_tone);
