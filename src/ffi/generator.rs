//! mst.h, generators: MediaStreamTrackGenerator (and VideoTrackGenerator's muted).

use std::sync::Arc;

use super::frame::{MstFrame, FRAMES};
use super::track::{new_handle as new_track, MstTrack};
use super::{ffi_call, out, MstStatus, Table};
use crate::error::{err, ErrorKind};
use crate::frame::Kind;
use crate::source::generator::Generator;

/// A MediaStreamTrackGenerator: a writable source plus its own track. Opaque handle.
pub struct MstGenerator {
    _opaque: [u8; 0],
}

static GENERATORS: Table<Arc<Generator>> = Table::new(0x47, "MstGenerator");

fn get(g: *const MstGenerator) -> crate::error::Result<Arc<Generator>> {
    GENERATORS.get(g)
}

/// The spec's constructor. `kind` is MST_KIND_AUDIO or MST_KIND_VIDEO; anything else is
/// MST_ERR_TYPE (the spec's TypeError). Ownership: the caller owns `*out` (free it with
/// mst_generator_free()). Thread-safety: any thread.
#[no_mangle]
pub extern "C" fn mst_generator_create(kind: i32, out: *mut *mut MstGenerator) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        let kind = match kind {
            1 => Kind::Audio,
            2 => Kind::Video,
            k => return Err(err!(Type, "kind {k} is neither MST_KIND_AUDIO (1) nor MST_KIND_VIDEO (2)")),
        };
        *out = GENERATORS.insert(Arc::new(Generator::new(kind)))?;
        Ok(())
    })
}

/// A new handle to the generator's own track (the generator "is" this track). Clone it with
/// mst_track_clone() for more tracks on the same writable. Ownership: the caller owns `*out`
/// and frees it with mst_track_free(). Errors: MST_ERR_NULL_ARG, MST_ERR_INVALID_STATE (freed).
#[no_mangle]
pub extern "C" fn mst_generator_track(generator: *const MstGenerator, out: *mut *mut MstTrack) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        *out = new_track(get(generator)?.track().clone())?;
        Ok(())
    })
}

/// The spec's writeFrame: sends `frame` to every live track connected to the generator (its
/// own and its clones; each adapts it to its constraints, none copies pixels unless it must
/// scale) and closes it. While muted, the frame is closed and nothing is sent.
///
/// Ownership: on MST_OK `frame` is consumed (closed). On every error it stays the caller's,
/// untouched: MST_ERR_TYPE for a frame of the other kind or a closed/invalid frame handle (the
/// spec's TypeError), MST_ERR_INVALID_STATE when the writable is closed (mst_generator_close(),
/// or every connected track ended), MST_ERR_NULL_ARG.
/// Thread-safety: any thread, concurrently. Delivery happens on the caller's thread:
/// processors only queue, but a track whose constraints need scaling scales a wrapped frame
/// (mst_frame_wrap_video) here, so its memory is released on the usual schedule (any other
/// frame is scaled when a reader first reads its pixels, on that reader's thread), and a frame
/// evicted from a full queue is closed here (running its release callback on this thread).
/// Blocking: no.
#[no_mangle]
pub extern "C" fn mst_generator_write(generator: *mut MstGenerator, frame: *mut MstFrame) -> MstStatus {
    ffi_call!({
        let g = get(generator)?;
        if frame.is_null() {
            return Err(err!(NullArg, "`frame` is NULL"));
        }
        let entry = FRAMES.get(frame).map_err(|e| match e.kind {
            ErrorKind::InvalidState => err!(Type, "the frame is closed: {}", e.message),
            _ => err!(Type, "`frame` is not a VideoFrame or AudioData: {}", e.message),
        })?;
        match g.write(entry.frame) {
            Ok(()) => {
                // Delivered: the frame is consumed. If another thread closed the handle
                // meanwhile, it is gone either way, and the write still succeeded.
                let _ = FRAMES.remove(frame);
                Ok(())
            }
            Err((e, _)) => Err(e),
        }
    })
}

/// The spec's closeWritable: ends every connected track (reason
/// MST_END_REASON_WRITABLE_CLOSED; their ended callbacks run on this thread) and their
/// processors. Later writes fail with MST_ERR_INVALID_STATE. Idempotent.
#[no_mangle]
pub extern "C" fn mst_generator_close(generator: *mut MstGenerator) -> MstStatus {
    ffi_call!({
        get(generator)?.close();
        Ok(())
    })
}

/// Whether the writable is closed (closed explicitly, or every connected track ended).
#[no_mangle]
pub extern "C" fn mst_generator_is_closed(generator: *const MstGenerator, out: *mut bool) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        *out = get(generator)?.is_closed();
        Ok(())
    })
}

/// VideoTrackGenerator's `muted`: while true, written frames are dropped and every connected
/// track reports muted; changing it calls the tracks' mute callbacks on this thread.
#[no_mangle]
pub extern "C" fn mst_generator_set_muted(generator: *mut MstGenerator, muted: bool) -> MstStatus {
    ffi_call!({
        get(generator)?.set_muted(muted);
        Ok(())
    })
}

/// Reads `muted`.
#[no_mangle]
pub extern "C" fn mst_generator_muted(generator: *const MstGenerator, out: *mut bool) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        *out = get(generator)?.muted();
        Ok(())
    })
}

/// Releases the generator handle and closes its writable (as mst_generator_close(): nothing
/// could write to it any more): every connected track ends with MST_END_REASON_WRITABLE_CLOSED,
/// its ended callback running on this thread. Track handles stay valid until freed. NULL is a
/// no-op. Ownership: consumes `generator`.
#[no_mangle]
pub extern "C" fn mst_generator_free(generator: *mut MstGenerator) -> MstStatus {
    ffi_call!({
        if !generator.is_null() {
            GENERATORS.remove(generator)?.close();
        }
        Ok(())
    })
}
