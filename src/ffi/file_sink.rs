//! mst.h, file sinks: record a video track to Y4M or an audio track to WAV.

use std::ffi::{c_char, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Arc;

use super::track::{get as get_track, MstTrack};
use super::{c_str, ffi_call, out, sized_struct, symver, MstStatus, OutStruct, Table};
use crate::sink::file::FileSink;

/// A running Y4M or WAV recorder. Opaque handle.
pub struct MstFileSink {
    _opaque: [u8; 0],
}

static FILE_SINKS: Table<Arc<FileSink>> = Table::new(0x46, "MstFileSink");

/// What a file sink wrote.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MstFileStats {
    /// sizeof(MstFileStats) as the caller knows it (MST_STRUCT_INIT).
    pub struct_size: u32,
    /// Video frames or audio chunks written.
    pub frames_written: u64,
    /// Frames its queue discarded because writing was slower than the source.
    pub frames_dropped: u64,
    /// File size so far, headers included.
    pub bytes_written: u64,
}

/// Starts recording `track` to `path` (created or truncated) on a library thread
/// ("mst-file-sink"): video as Y4M (I420 at the first frame's visible size; later frames of
/// another size are scaled; F from the first frame's duration; tagged with the first frame's
/// colour: C420jpeg or C420mpeg2 (chroma siting), XCOLORRANGE=LIMITED or FULL and
/// XMST_MATRIX=BT601, BT709 or BT2020 (RGB frames are written as BT.709 limited, C420jpeg);
/// the sink stops with MST_ERR_UNSUPPORTED at a later frame of another colour), audio as WAV
/// (the first chunk's rate and channels, its sample format interleaved: u8/s16/s32 PCM or
/// 32-bit float; WAVE_FORMAT_EXTENSIBLE above 2 channels; at most 4 GiB).
/// The sink has its own processor (8 video / 100 audio frames): a slow disk drops frames,
/// counted in MstFileStats, and never stalls the source.
///
/// Ownership: `track` and `path` borrowed (the sink keeps the track alive itself); on MST_OK
/// the caller owns `*out` and releases it with mst_file_sink_free().
/// Thread safety: any thread.
/// Blocking: creates the file.
/// Errors: MST_ERR_NULL_ARG (`track`, `path` or `out` is NULL), MST_ERR_INVALID_ARG (not a
/// track handle), MST_ERR_INVALID_STATE (freed track), MST_ERR_IO (the file could not be
/// created, with the path and errno text), MST_ERR_NO_MEMORY (no thread or handle left).
/// Spec: libmst extension (a sink, as MediaRecorder would be).
#[no_mangle]
pub extern "C" fn mst_file_sink_open(
    track: *const MstTrack,
    path: *const c_char,
    out: *mut *mut MstFileSink,
) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        let path = Path::new(OsStr::from_bytes(c_str!(path, "path").to_bytes()));
        let t = get_track(track)?;
        *out = FILE_SINKS.insert(Arc::new(FileSink::open(&t, path)?))?;
        Ok(())
    })
}

/// Writes what is still queued, completes the file (WAV sizes) and disconnects from the
/// track, which goes on. If the track has already ended, everything it delivered is in the
/// file. Returns the write error that stopped the sink, if one did (the file then holds, and
/// its header counts, what was written before it); a later stop returns the same. The handle stays valid:
/// mst_file_sink_get_stats() gives the final counts.
///
/// Ownership: `sink` borrowed; release it with mst_file_sink_free().
/// Thread safety: any thread.
/// Blocking: until the writer thread has written the queue (at most 8 frames or 100 chunks)
/// and finished the file.
/// Errors: MST_ERR_NULL_ARG (`sink` is NULL), MST_ERR_INVALID_ARG (not a file sink handle),
/// MST_ERR_INVALID_STATE (freed), MST_ERR_IO (a write failed), MST_ERR_TYPE (the track
/// delivered a frame of the other kind), MST_ERR_UNSUPPORTED (audio WAV cannot hold: a
/// fractional rate, a changed rate or channel count, more than 4 GiB).
/// Spec: libmst extension (ends the sink).
#[no_mangle]
pub extern "C" fn mst_file_sink_stop(sink: *mut MstFileSink) -> MstStatus {
    ffi_call!({ FILE_SINKS.get(sink)?.stop() })
}

/// The sink's counts: so far while it records, the final ones once stopped.
///
/// Ownership: `sink` borrowed; `*out` written on MST_OK only, up to `out->struct_size`.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`sink` or `out` is NULL), MST_ERR_INVALID_ARG (not a file sink
/// handle, or `out->struct_size` below the 1.0 size), MST_ERR_INVALID_STATE (freed).
/// Spec: libmst extension.
#[no_mangle]
pub extern "C" fn mst_file_sink_get_stats(sink: *const MstFileSink, out: *mut MstFileStats) -> MstStatus {
    ffi_call!({
        let out = OutStruct::new(out, "out")?;
        let s = FILE_SINKS.get(sink)?.stats();
        out.write(MstFileStats {
            struct_size: 0,
            frames_written: s.frames_written,
            frames_dropped: s.frames_dropped,
            bytes_written: s.bytes_written,
        });
        Ok(())
    })
}

/// Releases the sink, stopping it first (as mst_file_sink_stop(), whose error is not
/// reported here: call it first to learn it). NULL is MST_OK.
///
/// Ownership: releases `sink`; it must not be used again.
/// Thread safety: any thread.
/// Blocking: as mst_file_sink_stop() if it was still recording.
/// Errors: MST_ERR_INVALID_ARG (not a file sink handle), MST_ERR_INVALID_STATE (already
/// freed).
/// Spec: libmst extension (releases the C handle).
#[no_mangle]
pub extern "C" fn mst_file_sink_free(sink: *mut MstFileSink) -> MstStatus {
    ffi_call!({
        if !sink.is_null() {
            // The error is the stop's to report; a free never fails on a live handle.
            let _ = FILE_SINKS.remove(sink)?.stop();
        }
        Ok(())
    })
}

sized_struct!(out MstFileStats = 32);

symver!(mst_file_sink_open, mst_file_sink_stop, mst_file_sink_get_stats, mst_file_sink_free);
