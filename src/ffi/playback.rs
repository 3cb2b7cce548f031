//! mst.h, audio playback: an audio track played on an ALSA output.

use std::ffi::c_char;
use std::sync::Arc;

use super::device::device_id_in;
use super::track::{get as get_track, MstTrack};
use super::{ffi_call, out, sized_struct, symver, MstStatus, OutStruct, Table};
use crate::sink::alsa::AudioPlayback;

/// ALSA playback of an audio track. Opaque handle.
pub struct MstAudioPlayback {
    _opaque: [u8; 0],
}

static PLAYBACKS: Table<Arc<AudioPlayback>> = Table::new(0x41, "MstAudioPlayback");

/// What a playback has done.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MstAudioPlaybackStats {
    /// sizeof(MstAudioPlaybackStats) as the caller knows it (MST_STRUCT_INIT).
    pub struct_size: u32,
    /// Sample frames written to the device.
    pub frames_played: u64,
    /// Underruns recovered: the device ran out of audio and was restarted.
    pub underruns: u64,
    /// Chunks its queue discarded because the device took them slower than they came.
    pub chunks_dropped: u64,
    /// Chunks not played because the device cannot take their rate or channel count.
    pub chunks_rejected: u64,
}

/// Plays `track` (an audio track) on the ALSA output `device_id` (an id of kind
/// MST_DEVICE_KIND_AUDIO_OUTPUT, or any ALSA PCM name; NULL = "default") from a library
/// thread ("mst-alsa-playback") fed by the playback's own processor (1 s of 10 ms chunks), so
/// the track's source never waits for the device. The device is configured from the first
/// chunk: its rate and channel count, its sample format if the device has it (else s16, s32,
/// f32 or u8; planar data is interleaved); a chunk of another rate or channel count
/// reconfigures it. A "hw:" device plays only rates it has natively: use "plughw:" or
/// "default" to resample. Underruns are recovered and counted. When the track ends, what is
/// queued is played out (at most 2 s are waited for) and the device is closed; otherwise it
/// closes at mst_audio_playback_stop() or mst_audio_playback_free().
///
/// Ownership: `track` and `device_id` borrowed (the playback keeps the track alive itself);
/// on MST_OK the caller owns `*out` and releases it with mst_audio_playback_free().
/// Thread safety: any thread.
/// Blocking: opens the device.
/// Errors: MST_ERR_NULL_ARG (`track` or `out` is NULL), MST_ERR_INVALID_ARG (not a track
/// handle, or a non-UTF-8 id), MST_ERR_INVALID_STATE (freed track), MST_ERR_TYPE (a video
/// track), MST_ERR_NO_DEVICE (the message names the id), MST_ERR_BUSY, MST_ERR_IO,
/// MST_ERR_NO_MEMORY (no thread or handle left).
/// Spec: libmst extension (a sink, as an audio element playing the track would be).
#[no_mangle]
pub extern "C" fn mst_audio_playback_open(
    track: *const MstTrack,
    device_id: *const c_char,
    out: *mut *mut MstAudioPlayback,
) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        let t = get_track(track)?;
        let id = device_id_in(device_id)?;
        *out = PLAYBACKS.insert(Arc::new(AudioPlayback::open(&t, &id)?))?;
        Ok(())
    })
}

/// The playback's counters: so far while it plays, the final ones once it has stopped
/// (after mst_audio_playback_stop(), or after the device failed).
///
/// Ownership: `playback` borrowed; `*out` written on MST_OK only, up to `out->struct_size`.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`playback` or `out` is NULL), MST_ERR_INVALID_ARG (not a
/// playback handle, or `out->struct_size` below the 1.0 size), MST_ERR_INVALID_STATE
/// (freed).
/// Spec: libmst extension.
#[no_mangle]
pub extern "C" fn mst_audio_playback_get_stats(
    playback: *const MstAudioPlayback,
    out: *mut MstAudioPlaybackStats,
) -> MstStatus {
    ffi_call!({
        let out = OutStruct::new(out, "out")?;
        let s = PLAYBACKS.get(playback)?.stats();
        out.write(MstAudioPlaybackStats {
            struct_size: 0,
            frames_played: s.frames_played,
            underruns: s.underruns,
            chunks_dropped: s.chunks_dropped,
            chunks_rejected: s.chunks_rejected,
        });
        Ok(())
    })
}

/// Ends playback and closes the device. If the track has ended, what it delivered is played
/// out first; if it is still live, playback stops at once and what is queued is not played.
/// Returns why playback had stopped early, if it had; a later stop returns the same. The
/// handle stays valid: mst_audio_playback_get_stats() gives the final counters.
///
/// Ownership: `playback` borrowed; release it with mst_audio_playback_free().
/// Thread safety: any thread.
/// Blocking: a live track: until the playback thread has finished its current write (about
/// one period); an ended one: until the queue (at most 1 s of audio) has played and the
/// device drained (at most 2 s more).
/// Errors: MST_ERR_NULL_ARG (`playback` is NULL), MST_ERR_INVALID_ARG (not a playback
/// handle), MST_ERR_INVALID_STATE (freed), MST_ERR_NO_DEVICE (the device went away during
/// playback, which then stopped), MST_ERR_BUSY or MST_ERR_NO_MEMORY (reconfiguring the
/// device for a chunk of another rate or channel count failed, and playback stopped; a chunk
/// the device cannot take at all is not an error but counted in `chunks_rejected`),
/// MST_ERR_IO (a write failed).
/// Spec: libmst extension (ends the sink).
#[no_mangle]
pub extern "C" fn mst_audio_playback_stop(playback: *mut MstAudioPlayback) -> MstStatus {
    ffi_call!({ PLAYBACKS.get(playback)?.stop() })
}

/// Releases the playback, stopping it first (as mst_audio_playback_stop(), whose error is
/// not reported here: call it first to learn it). NULL is MST_OK.
///
/// Ownership: releases `playback`; it must not be used again.
/// Thread safety: any thread.
/// Blocking: as mst_audio_playback_stop() if it was still playing.
/// Errors: MST_ERR_INVALID_ARG (not a playback handle), MST_ERR_INVALID_STATE (already
/// freed).
/// Spec: libmst extension (releases the C handle).
#[no_mangle]
pub extern "C" fn mst_audio_playback_free(playback: *mut MstAudioPlayback) -> MstStatus {
    ffi_call!({
        if !playback.is_null() {
            // The error is the stop's to report; a free never fails on a live handle.
            let _ = PLAYBACKS.remove(playback)?.stop();
        }
        Ok(())
    })
}

sized_struct!(out MstAudioPlaybackStats = 40);

symver!(mst_audio_playback_open, mst_audio_playback_get_stats, mst_audio_playback_stop, mst_audio_playback_free);
