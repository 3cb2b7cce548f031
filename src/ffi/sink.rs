//! mst.h, file sinks: record a video track to Y4M or an audio track to WAV.

use std::ffi::{c_char, CStr, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::track::MstTrack;
use super::{arg, ffi_call, out, MstStatus, Table};
use crate::sink::file::FileSink;

/// A running Y4M or WAV recorder. Opaque handle.
pub struct MstFileSink {
    _opaque: [u8; 0],
}

static FILE_SINKS: Table<FileSink> = Table::new(0x46, "MstFileSink");

/// What a file sink wrote.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MstFileStats {
    /// Video frames or audio chunks written.
    pub frames_written: u64,
    /// Frames its queue discarded because writing was slower than the source.
    pub frames_dropped: u64,
    /// File size, headers included.
    pub bytes_written: u64,
}

/// Starts recording `track` to `path` (created or truncated) on a library thread
/// ("mst-file-sink"): video as Y4M (I420 at the first frame's visible size; later frames of
/// another size are scaled; F from the first frame's duration), audio as WAV (the first
/// chunk's rate and channels, its sample format interleaved: u8/s16/s32 PCM or 32-bit float).
/// The sink has its own processor (8 video / 100 audio frames): a slow disk drops frames,
/// counted in MstFileStats, and never stalls the source.
///
/// Ownership: `track` and `path` borrowed; the caller owns `*out` and must pass it to
/// mst_file_sink_finish(). Thread-safety: any thread. Errors: MST_ERR_NULL_ARG,
/// MST_ERR_INVALID_STATE (freed track), MST_ERR_IO (the file could not be created, with the
/// path and errno text), MST_ERR_NO_MEMORY.
#[no_mangle]
pub extern "C" fn mst_file_sink_open(
    track: *const MstTrack,
    path: *const c_char,
    out: *mut *mut MstFileSink,
) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        let _ = arg!(path, "path");
        // SAFETY: non-NULL (checked) and, per the contract, a NUL-terminated string.
        let path = Path::new(OsStr::from_bytes(unsafe { CStr::from_ptr(path) }.to_bytes()));
        let t = super::track::get(track)?;
        let sink = FileSink::open(&t, path)?;
        *out = FILE_SINKS.insert(sink)?;
        Ok(())
    })
}

/// Writes what is still queued, completes the file (WAV sizes) and releases the sink; the track
/// goes on. If the track has already ended, everything it delivered is in the file.
/// `out_stats` may be NULL.
///
/// Ownership: consumes `sink` on every outcome but MST_ERR_NULL_ARG / MST_ERR_INVALID_ARG.
/// Blocking: until the writer thread has finished. Errors: MST_ERR_IO (a write failed; the
/// file is incomplete), MST_ERR_INVALID_STATE (already finished).
#[no_mangle]
pub extern "C" fn mst_file_sink_finish(sink: *mut MstFileSink, out_stats: *mut MstFileStats) -> MstStatus {
    ffi_call!({
        if sink.is_null() {
            return Err(crate::error::err!(NullArg, "`sink` is NULL"));
        }
        let stats = FILE_SINKS.remove(sink)?.finish()?;
        // SAFETY: NULL means "not wanted"; otherwise the caller's writable struct.
        if let Some(o) = unsafe { out_stats.as_mut() } {
            *o = MstFileStats {
                frames_written: stats.frames_written,
                frames_dropped: stats.frames_dropped,
                bytes_written: stats.bytes_written,
            };
        }
        Ok(())
    })
}
