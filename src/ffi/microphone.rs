//! mst.h, microphones: the ALSA capture source.

use std::ffi::c_char;

use super::device::device_id_in;
use super::support::read_in;
use super::track::{get as get_track, new_handle, range_in, MstConstrainRange, MstTrack};
use super::{ffi_call, out, sized_struct, symver, MstStatus, OutStruct};
use crate::constraints::Property;
use crate::error::err;
use crate::source::alsa::{self as mic, AudioConstraints};

/// Audio constraints of mst_track_create_microphone() (all zero but struct_size = none).
/// Required members (MST_CONSTRAIN_MIN/MAX/EXACT) the device cannot meet fail with
/// MST_ERR_OVERCONSTRAINED; MST_CONSTRAIN_IDEAL only steers the choice.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MstAudioConstraints {
    /// sizeof(MstAudioConstraints) as the caller knows it (MST_STRUCT_INIT).
    pub struct_size: u32,
    /// Hz [48000 if the device has it, else the nearest rate].
    pub sample_rate: MstConstrainRange,
    /// [2 if the device allows it, else the nearest count]; at most 32.
    pub channel_count: MstConstrainRange,
    /// Bits per sample: 8 (u8), 16 (s16), 32 (s32 or f32) [16, else 32, else 8].
    pub sample_size: MstConstrainRange,
}

/// Opens the microphone `device_id` (an id from mst_devices_enumerate() of kind
/// MST_DEVICE_KIND_AUDIO_INPUT, a fake microphone's included, or any ALSA PCM name; NULL =
/// "default") and returns a live
/// audio track on it. The hardware parameters are negotiated from `constraints` (NULL = none):
/// interleaved s16/s32/f32/u8, ~10 ms periods. The track delivers 10 ms AudioData chunks
/// (sample_rate / 100 frames) from a library thread ("mst-alsa-capture"), timestamped in
/// microseconds of CLOCK_MONOTONIC at their first sample. Overruns are recovered and counted
/// (mst_track_get_capture_stats()). If the device goes away, every track on it ends with
/// MST_END_REASON_DEVICE_LOST within a few periods. The device is released when the last track
/// on it ends.
///
/// Ownership: `device_id` and `constraints` borrowed; on MST_OK the caller owns `*out` and
/// releases it with mst_track_free().
/// Thread safety: any thread.
/// Blocking: opens and configures the device.
/// Errors: MST_ERR_NULL_ARG (`out` is NULL), MST_ERR_NO_DEVICE (no such device; the message
/// names it), MST_ERR_BUSY, MST_ERR_OVERCONSTRAINED (mst_last_error_constraint() names
/// sampleRate, channelCount or sampleSize; the message gives the device's range),
/// MST_ERR_INVALID_ARG (unknown `present` bits, NaN or infinite values, a non-UTF-8 id,
/// `constraints->struct_size` below the 1.0 size), MST_ERR_UNSUPPORTED (no sample format
/// libmst handles; nonzero bytes past the `constraints` this libmst knows), MST_ERR_IO,
/// MST_ERR_NO_MEMORY (no thread or handle left).
/// Spec: getUserMedia({audio}) (Media Capture and Streams) for one device.
#[no_mangle]
pub extern "C" fn mst_track_create_microphone(
    device_id: *const c_char,
    constraints: *const MstAudioConstraints,
    out: *mut *mut MstTrack,
) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        let id = device_id_in(device_id)?;
        let c = read_in(constraints, "constraints")?.unwrap_or_default();
        let ac = AudioConstraints {
            sample_rate: range_in(Property::SampleRate, &c.sample_rate)?,
            channel_count: range_in(Property::ChannelCount, &c.channel_count)?,
            sample_size: range_in(Property::SampleSize, &c.sample_size)?,
        };
        *out = new_handle(mic::microphone(&id, &ac)?)?;
        Ok(())
    })
}

/// What a microphone source has captured.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MstCaptureStats {
    /// sizeof(MstCaptureStats) as the caller knows it (MST_STRUCT_INIT).
    pub struct_size: u32,
    /// AudioData chunks delivered.
    pub chunks: u64,
    /// Sample frames delivered.
    pub frames: u64,
    /// Overruns: audio was lost because capture fell behind the device, and capture restarted.
    pub overruns: u64,
}

/// The capture counters of the microphone source behind `track` (shared by its clones).
///
/// Ownership: `track` borrowed; `*out` written on MST_OK only, up to `out->struct_size`.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`track` or `out` is NULL), MST_ERR_INVALID_ARG (not a track
/// handle, or `out->struct_size` below the 1.0 size), MST_ERR_INVALID_STATE (freed),
/// MST_ERR_TYPE (the track is not on a microphone).
/// Spec: libmst extension.
#[no_mangle]
pub extern "C" fn mst_track_get_capture_stats(track: *const MstTrack, out: *mut MstCaptureStats) -> MstStatus {
    ffi_call!({
        let out = OutStruct::new(out, "out")?;
        let t = get_track(track)?;
        let s = mic::capture_stats(&t).ok_or_else(|| err!(Type, "the track is not on a microphone"))?;
        out.write(MstCaptureStats { struct_size: 0, chunks: s.chunks, frames: s.frames, overruns: s.overruns });
        Ok(())
    })
}

sized_struct!(in MstAudioConstraints = 128, out MstCaptureStats = 32);

symver!(mst_track_create_microphone, mst_track_get_capture_stats);
