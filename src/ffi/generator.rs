//! mst.h, generators: MediaStreamTrackGenerator (and VideoTrackGenerator's muted).

use std::sync::Arc;

use super::frame::{self, MstFrame};
use super::track::{new_handle as new_track, MstTrack};
use super::{ffi_call, out, symver, MstStatus, Table};
use crate::error::{err, ErrorKind};
use crate::frame::Kind;
use crate::source::generator::{Generator, WritableState};

/// A MediaStreamTrackGenerator: a writable source plus its own track. Opaque handle.
pub struct MstGenerator {
    _opaque: [u8; 0],
}

/// The state of a generator's writable (the Streams standard's WritableStream [[state]]).
/// Values are fixed and only ever appended.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum MstWritableState {
    /// Frames can be written.
    MST_WRITABLE_STATE_WRITABLE = 1,
    /// mst_generator_close() closed it, or every connected track ended.
    MST_WRITABLE_STATE_CLOSED = 2,
    /// A write the sink rejected (a frame of the other kind, a closed frame, not a frame)
    /// errored it: every later write and mst_generator_close() fail with that error.
    MST_WRITABLE_STATE_ERRORED = 3,
}

static GENERATORS: Table<Arc<Generator>> = Table::new(0x47, "MstGenerator");

fn get(g: *const MstGenerator) -> crate::error::Result<Arc<Generator>> {
    GENERATORS.get(g)
}

/// Creates a generator of `kind` (MST_KIND_AUDIO or MST_KIND_VIDEO) with a writable and a
/// live track.
///
/// Ownership: on MST_OK the caller owns `*out` and releases it with mst_generator_free().
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`out` is NULL), MST_ERR_TYPE (`kind` is neither MST_KIND_AUDIO
/// nor MST_KIND_VIDEO), MST_ERR_NO_MEMORY (no handle left).
/// Spec: MediaStreamTrackGenerator constructor (its TypeError is MST_ERR_TYPE).
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
/// mst_track_clone() for more tracks on the same writable.
///
/// Ownership: `generator` borrowed; on MST_OK the caller owns `*out` and releases it with
/// mst_track_free().
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`generator` or `out` is NULL), MST_ERR_INVALID_ARG (not a
/// generator handle), MST_ERR_INVALID_STATE (freed), MST_ERR_NO_MEMORY (no handle left).
/// Spec: MediaStreamTrackGenerator is a MediaStreamTrack.
#[no_mangle]
pub extern "C" fn mst_generator_get_track(generator: *const MstGenerator, out: *mut *mut MstTrack) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        *out = new_track(get(generator)?.track().clone())?;
        Ok(())
    })
}

/// Sends `frame` to every live track connected to the generator (its own and its clones;
/// each adapts it to its constraints, none copies pixels unless it must scale) and closes
/// `frame`. While muted, the frame is closed and nothing is sent (each track's processors count
/// it in discarded_muted).
///
/// The writable follows the Streams standard. A write the sink rejects (a frame of the other
/// kind, a closed frame, a freed handle or a handle that is not a frame) fails with
/// MST_ERR_TYPE and errors the writable (mst_generator_get_state() then says
/// MST_WRITABLE_STATE_ERRORED); every later write fails with MST_ERR_TYPE, the message naming
/// that first error ("the writable was errored by an earlier write: ..."). The connected
/// tracks stay live until the generator is freed. A write to a closed writable fails with
/// MST_ERR_TYPE and does not error it.
///
/// Ownership: `frame` is never released here: on MST_OK it is closed (as mst_frame_close():
/// the media moved into the tracks), on an error it is untouched; either way the caller
/// still frees the handle, so a writer always does `mst_generator_write(g, f);
/// mst_frame_free(f);`.
/// Thread safety: any thread, concurrently. Delivery happens on the caller's thread:
/// processors only queue, but a track whose constraints need scaling scales a wrapped frame
/// (mst_frame_wrap_video) here, so its memory is released on the usual schedule (any other
/// frame is scaled when a reader first reads its pixels, on that reader's thread), and a
/// frame evicted from a full queue is released here (running its release callback on this
/// thread).
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`generator` or `frame` is NULL; nothing is errored),
/// MST_ERR_INVALID_ARG (not a generator handle), MST_ERR_INVALID_STATE (the generator was
/// freed), MST_ERR_TYPE (the writable is closed: mst_generator_close(), or every connected
/// track ended; the writable is errored by an earlier write; or this write is rejected and
/// errors it: a frame of the other kind, a closed or freed frame, not a frame handle).
/// Spec: the writable's write algorithm (writeFrame), with the Streams standard's
/// WritableStreamDealWithRejection for a rejected write: the frame is closed after it is
/// sent.
#[no_mangle]
pub extern "C" fn mst_generator_write(generator: *mut MstGenerator, frame: *mut MstFrame) -> MstStatus {
    ffi_call!({
        let g = get(generator)?;
        if frame.is_null() {
            return Err(err!(NullArg, "`frame` is NULL"));
        }
        // The chunk is checked by the sink, so only a writable that accepts writes gets that
        // far: on a closed or errored one, write_rejected returns the error the write meets
        // first and errors nothing.
        let media = frame::get(frame).map_err(|e| {
            g.write_rejected(match e.kind {
                ErrorKind::InvalidState => err!(Type, "the frame is closed or freed: {}", e.message),
                _ => err!(Type, "`frame` is not a VideoFrame or AudioData: {}", e.message),
            })
        })?;
        g.write(media).map_err(|(e, _)| e)?;
        // Sent: the handle's reference goes (dropped outside the table's lock). A handle another
        // thread closed or freed meanwhile has no reference left to drop, and the write stands.
        drop(frame::close(frame));
        Ok(())
    })
}

/// Closes the writable: every connected track ends (reason MST_END_REASON_WRITABLE_CLOSED;
/// their ended callbacks run on this thread) and their processors. Later writes fail with
/// MST_ERR_TYPE. Closing a closed writable does nothing and returns MST_OK. An errored
/// writable (see mst_generator_write()) cannot be closed: the call returns its stored error and
/// changes nothing (its tracks stay live until mst_generator_free()). The handle stays valid.
///
/// Ownership: `generator` borrowed; release it with mst_generator_free().
/// Thread safety: any thread.
/// Blocking: no (ended callbacks run on this thread).
/// Errors: MST_ERR_NULL_ARG (`generator` is NULL), MST_ERR_INVALID_ARG (not a generator
/// handle), MST_ERR_INVALID_STATE (freed), MST_ERR_TYPE (the writable is errored; the message
/// names the write that errored it).
/// Spec: the writable's close algorithm (closeWritable); the Streams standard rejects the close
/// of an errored stream with its stored error.
#[no_mangle]
pub extern "C" fn mst_generator_close(generator: *mut MstGenerator) -> MstStatus {
    ffi_call!({ get(generator)?.close_writable() })
}

/// The writable's state: MST_WRITABLE_STATE_WRITABLE; MST_WRITABLE_STATE_CLOSED once closed
/// (explicitly, or every connected track ended); MST_WRITABLE_STATE_ERRORED after a write the
/// sink rejected (it stays errored, also once the tracks end).
///
/// Ownership: `generator` borrowed; `*out` written on MST_OK only.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`generator` or `out` is NULL), MST_ERR_INVALID_ARG (not a
/// generator handle), MST_ERR_INVALID_STATE (freed).
/// Spec: WritableStream [[state]].
#[no_mangle]
pub extern "C" fn mst_generator_get_state(generator: *const MstGenerator, out: *mut MstWritableState) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        *out = match get(generator)?.state() {
            WritableState::Writable => MstWritableState::MST_WRITABLE_STATE_WRITABLE,
            WritableState::Closed => MstWritableState::MST_WRITABLE_STATE_CLOSED,
            WritableState::Errored => MstWritableState::MST_WRITABLE_STATE_ERRORED,
        };
        Ok(())
    })
}

/// Sets `muted`: while true, written frames are dropped (each connected track's processors
/// count them in discarded_muted) and every connected track reports muted. Each track's mute
/// callback runs once per change of the muted value it settles on, on this thread; when a
/// change comes while another thread (or this one, from inside the callback) is running that
/// track's mute callback, that running thread reports it after its callback returns, so a
/// track's mute callbacks never overlap and never repeat a value. Setting the current value
/// changes nothing.
///
/// Ownership: `generator` borrowed.
/// Thread safety: any thread.
/// Blocking: no (mute callbacks run on this thread, possibly several in a row).
/// Errors: MST_ERR_NULL_ARG (`generator` is NULL), MST_ERR_INVALID_ARG (not a generator
/// handle), MST_ERR_INVALID_STATE (freed).
/// Spec: VideoTrackGenerator.muted (setter).
#[no_mangle]
pub extern "C" fn mst_generator_set_muted(generator: *mut MstGenerator, muted: bool) -> MstStatus {
    ffi_call!({
        get(generator)?.set_muted(muted);
        Ok(())
    })
}

/// Reads `muted` (see mst_generator_set_muted()).
///
/// Ownership: `generator` borrowed; `*out` written on MST_OK only.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`generator` or `out` is NULL), MST_ERR_INVALID_ARG (not a
/// generator handle), MST_ERR_INVALID_STATE (freed).
/// Spec: VideoTrackGenerator.muted (getter).
#[no_mangle]
pub extern "C" fn mst_generator_get_muted(generator: *const MstGenerator, out: *mut bool) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        *out = get(generator)?.muted();
        Ok(())
    })
}

/// Releases the generator handle, ending every connected track first (nothing could write to
/// them any more), whatever the writable's state, errored included: each ends with
/// MST_END_REASON_WRITABLE_CLOSED, its ended callback running on this thread. Track handles
/// stay valid until freed. NULL is MST_OK.
///
/// Ownership: releases `generator`; it must not be used again.
/// Thread safety: any thread.
/// Blocking: no (ended callbacks run on this thread).
/// Errors: MST_ERR_INVALID_ARG (not a generator handle), MST_ERR_INVALID_STATE (already
/// freed).
/// Spec: libmst extension (releases the C handle; ends the tracks as closeWritable does).
#[no_mangle]
pub extern "C" fn mst_generator_free(generator: *mut MstGenerator) -> MstStatus {
    ffi_call!({
        if !generator.is_null() {
            GENERATORS.remove(generator)?.close();
        }
        Ok(())
    })
}

symver!(
    mst_generator_create,
    mst_generator_get_track,
    mst_generator_write,
    mst_generator_close,
    mst_generator_get_state,
    mst_generator_set_muted,
    mst_generator_get_muted,
    mst_generator_free
);
