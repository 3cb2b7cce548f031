//! mst.h, processors: MediaStreamTrackProcessor.

use std::ffi::{c_int, c_void};
use std::sync::Arc;
use std::time::Duration;

use super::frame::{new_handle as new_frame, MstFrame, ReadNumbers};
use super::support::read_in;
use super::track::MstTrack;
use super::{ffi_call, out, sized_struct, symver, MstDestroyNotify, MstStatus, OutStruct, Table, UserData};
use crate::error::{err, ErrorKind};
use crate::sink::processor::{Delivered, Processor, ProcessorOptions, Wait};

/// A MediaStreamTrackProcessor. Opaque handle.
pub struct MstProcessor {
    _opaque: [u8; 0],
}

static PROCESSORS: Table<Arc<Processor>> = Table::new(0x50, "MstProcessor");

/// The default maxBufferSize of video processors.
pub const MST_PROCESSOR_DEFAULT_VIDEO_BUFFER: u32 = 1;
/// The largest maxBufferSize of video processors (larger values are clamped to it).
pub const MST_PROCESSOR_MAX_VIDEO_BUFFER: u32 = 32;
/// The default maxBufferSize of audio processors.
pub const MST_PROCESSOR_DEFAULT_AUDIO_BUFFER: u32 = 10;
/// The largest maxBufferSize of audio processors.
pub const MST_PROCESSOR_MAX_AUDIO_BUFFER: u32 = 1000;
/// MstProcessorOptions.flags: a read returns the newest frame and never a frame twice; older
/// frames are discarded (MstProcessorStats.discarded_superseded) as newer ones arrive, and a
/// read blocks only until something new arrives. The queue holds one frame whatever
/// max_buffer_size says (which is still range-checked).
pub const MST_PROCESSOR_LATEST_ONLY: u32 = 1;

// Literals above so cbindgen can write them into mst.h; tied to the core here.
const _: () = {
    use crate::sink::processor as core;
    assert!(MST_PROCESSOR_DEFAULT_VIDEO_BUFFER as usize == core::DEFAULT_VIDEO_BUFFER);
    assert!(MST_PROCESSOR_MAX_VIDEO_BUFFER as usize == core::MAX_VIDEO_BUFFER);
    assert!(MST_PROCESSOR_DEFAULT_AUDIO_BUFFER as usize == core::DEFAULT_AUDIO_BUFFER);
    assert!(MST_PROCESSOR_MAX_AUDIO_BUFFER as usize == core::MAX_AUDIO_BUFFER);
};

/// MediaStreamTrackProcessorInit, and libmst's options. All zero but struct_size (or a NULL
/// pointer) = the defaults.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MstProcessorOptions {
    /// sizeof(MstProcessorOptions) as the caller knows it (MST_STRUCT_INIT).
    pub struct_size: u32,
    /// The spec's maxBufferSize, an `[EnforceRange] unsigned short`: the queue's length in
    /// frames. 0 = MST_PROCESSOR_DEFAULT_*_BUFFER; 1..=65535, clamped to
    /// MST_PROCESSOR_MAX_*_BUFFER; above 65535 mst_processor_create() fails with MST_ERR_TYPE.
    pub max_buffer_size: u32,
    /// 0, or MST_PROCESSOR_LATEST_ONLY; any other bit is refused.
    pub flags: u32,
}

/// Creates a processor on `track` with its own queue of `options->max_buffer_size` frames,
/// filled only from this track, dropping its oldest frame when full (with
/// MST_PROCESSOR_LATEST_ONLY: one frame, the newest). A processor on an ended track is created
/// ended.
///
/// Ownership: `track` and `options` (NULL = defaults) borrowed; the processor keeps the track
/// alive itself (freeing the track handle does not stop it). On MST_OK the caller owns `*out`
/// and releases it with mst_processor_free().
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`track` or `out` is NULL), MST_ERR_TYPE (`track` is freed or
/// not a track handle; `options->max_buffer_size` above 65535), MST_ERR_INVALID_ARG
/// (`options->struct_size` below the 1.0 size, or an unknown flag), MST_ERR_UNSUPPORTED
/// (nonzero bytes past the `options` this libmst knows), MST_ERR_NO_MEMORY (no handle left).
/// Nothing is created on an error.
/// Spec: MediaStreamTrackProcessor constructor (its TypeErrors, for an invalid track and for
/// maxBufferSize outside [EnforceRange] unsigned short, are MST_ERR_TYPE); the latest-only
/// flag is a libmst extension.
#[no_mangle]
pub extern "C" fn mst_processor_create(
    track: *const MstTrack,
    options: *const MstProcessorOptions,
    out: *mut *mut MstProcessor,
) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        let t = super::track::get(track).map_err(|e| match e.kind {
            ErrorKind::NullArg => e,
            _ => err!(Type, "`track` is not a valid MediaStreamTrack: {}", e.message),
        })?;
        let o = read_in(options, "options")?.unwrap_or_default();
        let unknown = o.flags & !MST_PROCESSOR_LATEST_ONLY;
        if unknown != 0 {
            return Err(err!(InvalidArg, "options->flags {:#x} has an unknown flag ({unknown:#x})", o.flags));
        }
        let p = Processor::with_options(
            &t,
            ProcessorOptions {
                max_buffer_size: o.max_buffer_size,
                latest_only: o.flags & MST_PROCESSOR_LATEST_ONLY != 0,
            },
        )?;
        *out = PROCESSORS.insert(Arc::new(p))?;
        Ok(())
    })
}

fn get(p: *const MstProcessor) -> crate::error::Result<Arc<Processor>> {
    PROCESSORS.get(p)
}

/// Reads the next frame: the oldest queued frame, in arrival order (with
/// MST_PROCESSOR_LATEST_ONLY: the newest, never one returned before). `timeout_ms` 0 = do not
/// wait, < 0 = wait forever, > 0 = wait that long. Reads blocked at the same time are served in
/// the order they blocked (a ReadableStream's read requests), and a read that does not wait
/// never takes a frame owed to a blocked one.
///
/// Ownership: on MST_OK the caller owns `*out` (a VideoFrame or AudioData handle whose
/// MstVideoFrameInfo/MstAudioDataInfo.sequence is its number in this processor and
/// discarded_before the frames this processor discarded since the frame it returned before)
/// and releases it with mst_frame_free().
/// Thread safety: any thread; several readers may share a processor (each frame goes to one).
/// Blocking: up to `timeout_ms` (forever when negative) until a frame or the end comes, or
/// mst_processor_wakeup().
/// Errors: MST_ERR_AGAIN (nothing queued, or only frames owed to blocked reads; timeout 0),
/// MST_ERR_TIMEOUT, MST_ERR_INTERRUPTED
/// (mst_processor_wakeup()), MST_ERR_ENDED (the track ended or the processor was closed: no
/// more frames will come; the queue was emptied, except that readers already blocked here
/// when the track ended still get the frames they were waiting for, as the spec's pending
/// reads do), MST_ERR_NULL_ARG (`processor` or `out` is NULL), MST_ERR_INVALID_ARG (not a
/// processor handle), MST_ERR_INVALID_STATE (freed, or a callback is set),
/// MST_ERR_NO_MEMORY (no frame handle left; the frame is dropped).
/// Spec: the readable's pull algorithm and maybeReadFrame (one ReadableStream read).
#[no_mangle]
pub extern "C" fn mst_processor_read(
    processor: *mut MstProcessor,
    timeout_ms: i32,
    out: *mut *mut MstFrame,
) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        let wait = match timeout_ms {
            0 => Wait::No,
            t if t < 0 => Wait::Forever,
            t => Wait::For(Duration::from_millis(t as u64)),
        };
        let d = get(processor)?.read(wait)?;
        *out = new_frame(d.frame, ReadNumbers { sequence: d.sequence, discarded_before: d.discarded_before })?;
        Ok(())
    })
}

/// A file descriptor that is readable while a frame or the end is ready, for poll/epoll/
/// io_uring loops: on POLLIN call mst_processor_read() with timeout 0 (MST_ERR_AGAIN is
/// possible when another reader was faster).
///
/// Ownership: the fd belongs to the processor; do not read, write or close it. It stays valid
/// until mst_processor_free(). `*out_fd` written on MST_OK only.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`processor` or `out_fd` is NULL), MST_ERR_INVALID_ARG (not a
/// processor handle), MST_ERR_INVALID_STATE (freed), MST_ERR_IO (eventfd failed).
/// Spec: libmst extension.
#[no_mangle]
pub extern "C" fn mst_processor_get_fd(processor: *mut MstProcessor, out_fd: *mut c_int) -> MstStatus {
    ffi_call!({
        let out = out!(out_fd, "out_fd");
        *out = get(processor)?.fd()?;
        Ok(())
    })
}

/// Interrupts a blocked mst_processor_read() (it returns MST_ERR_INTERRUPTED); with no reader
/// blocked, the next read that would block returns MST_ERR_INTERRUPTED instead. For shutting
/// a reader thread down.
///
/// Ownership: `processor` borrowed.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`processor` is NULL), MST_ERR_INVALID_ARG (not a processor
/// handle), MST_ERR_INVALID_STATE (freed).
/// Spec: libmst extension.
#[no_mangle]
pub extern "C" fn mst_processor_wakeup(processor: *mut MstProcessor) -> MstStatus {
    ffi_call!({
        get(processor)?.wakeup();
        Ok(())
    })
}

/// Receives one frame, or NULL once when the processor has ended.
pub type MstFrameCallback = Option<unsafe extern "C" fn(user_data: *mut c_void, frame: *mut MstFrame)>;

/// Callback mode: a library thread ("mst-processor-cb") reads every frame and calls
/// `callback(user_data, frame)`. When the processor ends it calls `callback(user_data, NULL)`
/// once and the thread exits. While a callback is set, mst_processor_read() returns
/// MST_ERR_INVALID_STATE. A NULL `callback` stops the thread (waiting for a running call to
/// return, unless called from the callback itself) and turns reads back on. The callback may
/// call any libmst function.
///
/// Ownership: the callback owns each `frame` it gets and releases it with mst_frame_free().
/// `user_data` is the caller's; `destroy(user_data)` runs on the callback thread when it
/// exits, or at once if `callback` is NULL or the call fails.
/// Thread safety: any thread; the callback runs on the processor's callback thread.
/// Blocking: until a replaced callback's running call has returned.
/// Errors: MST_ERR_NULL_ARG (`processor` is NULL), MST_ERR_INVALID_ARG (not a processor
/// handle), MST_ERR_INVALID_STATE (freed), MST_ERR_NO_MEMORY (no thread; the processor is
/// left without a callback).
/// Spec: libmst extension (a reader loop on the readable, run by libmst).
#[no_mangle]
pub extern "C" fn mst_processor_set_callback(
    processor: *mut MstProcessor,
    callback: MstFrameCallback,
    user_data: *mut c_void,
    destroy: MstDestroyNotify,
) -> MstStatus {
    ffi_call!({
        // First, so that `destroy` runs (once, when `ud` drops) on every failure too.
        let ud = UserData::new(user_data, destroy);
        let p = get(processor)?;
        p.set_callback(callback.map(|cb| {
            Box::new(move |d: Option<Delivered>| {
                let frame = match d {
                    None => std::ptr::null_mut(),
                    Some(d) => match new_frame(
                        d.frame,
                        ReadNumbers { sequence: d.sequence, discarded_before: d.discarded_before },
                    ) {
                        Ok(f) => f,
                        // No handle left (16 million frames open): this frame is dropped.
                        Err(_) => return,
                    },
                };
                // SAFETY: the caller registered `cb` with this user_data and takes `frame`.
                unsafe { cb(ud.ptr(), frame) }
            }) as Box<dyn FnMut(Option<Delivered>) + Send>
        }))
    })
}

/// Counters. Every frame that reached this processor's queue (`total`) is delivered (read),
/// discarded in the queue (queue full, superseded, closed) or still queued:
/// total = delivered + discarded_queue_full + discarded_superseded + discarded_closed + queued.
/// The track may also discard frames meant for this processor before they reach the queue
/// (muted, disabled, decimated, failed): those are not in `total`. `discarded` is the sum of
/// every discarded_* counter, before and in the queue.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MstProcessorStats {
    /// sizeof(MstProcessorStats) as the caller knows it (MST_STRUCT_INIT).
    pub struct_size: u32,
    /// The queue capacity in force (maxBufferSize after defaulting and clamping; 1 with
    /// MST_PROCESSOR_LATEST_ONLY).
    pub max_buffer_size: u32,
    /// Frames that reached the queue.
    pub total: u64,
    /// Frames read (or handed to the callback).
    pub delivered: u64,
    /// Every frame discarded, for any reason: the sum of the discarded_* counters.
    pub discarded: u64,
    /// Frames in the queue now.
    pub queued: u64,
    /// The processor has ended (track ended or processor closed).
    pub ended: bool,
    /// Reads blocked in mst_processor_read() now, waiting for a frame (the spec's
    /// [[numPendingReads]]).
    pub pending_reads: u32,
    /// In the queue: evicted, oldest first, by a newer frame when the queue was full.
    pub discarded_queue_full: u64,
    /// In the queue: replaced by a newer frame before any read took it
    /// (MST_PROCESSOR_LATEST_ONLY).
    pub discarded_superseded: u64,
    /// In the queue: emptied when the processor closed or its track ended.
    pub discarded_closed: u64,
    /// Before the queue: written while the generator was muted.
    pub discarded_muted: u64,
    /// Before the queue: not sent because the track is disabled. Stays 0 today: a disabled
    /// track delivers black frames or silence instead.
    pub discarded_disabled: u64,
    /// Before the queue: skipped by the track's frame-rate decimation (a frameRate constraint
    /// below the source's rate).
    pub discarded_decimated: u64,
    /// Before the queue: the track could not make the frame it delivers (scaling or blanking
    /// failed, e.g. out of memory).
    pub discarded_failed: u64,
    /// Since 1.3: frame handles delivered to this processor that are open now: queued, read
    /// and not yet closed (mst_frame_close() or mst_frame_free()), and their mst_frame_clone()
    /// clones (a clone keeps the same buffer, so it counts for the same processor; a frame
    /// made from its pixels is the application's own). Not a counter: it falls as they close,
    /// also after the processor closed. The log warns when the processor is closed or freed
    /// with some open, naming it ("processor #N on track '<label>' (<id>)") and the count.
    pub held: u64,
}

/// Reads the counters (a consistent snapshot per counter).
///
/// Ownership: `processor` borrowed; `*out` written on MST_OK only, up to `out->struct_size`.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`processor` or `out` is NULL), MST_ERR_INVALID_ARG (not a
/// processor handle, or `out->struct_size` below the 1.0 size), MST_ERR_INVALID_STATE
/// (freed).
/// Spec: libmst extension.
#[no_mangle]
pub extern "C" fn mst_processor_get_stats(processor: *const MstProcessor, out: *mut MstProcessorStats) -> MstStatus {
    ffi_call!({
        let out = OutStruct::new(out, "out")?;
        let p = get(processor)?;
        let s = p.stats();
        out.write(MstProcessorStats {
            struct_size: 0,
            max_buffer_size: p.max_buffer_size() as u32,
            total: s.total,
            delivered: s.delivered,
            discarded: s.discarded,
            queued: s.queued,
            ended: p.is_closed(),
            pending_reads: s.pending_reads.min(u64::from(u32::MAX)) as u32,
            discarded_queue_full: s.discarded_queue_full,
            discarded_superseded: s.discarded_superseded,
            discarded_closed: s.discarded_closed,
            discarded_muted: s.discarded_muted,
            discarded_disabled: s.discarded_disabled,
            discarded_decimated: s.discarded_decimated,
            discarded_failed: s.discarded_failed,
            held: s.held,
        });
        Ok(())
    })
}

/// Disconnects from the track without stopping it and empties the queue; reads then return
/// MST_ERR_ENDED. Closing a closed processor does nothing. The handle stays valid.
///
/// Ownership: `processor` borrowed; release it with mst_processor_free().
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`processor` is NULL), MST_ERR_INVALID_ARG (not a processor
/// handle), MST_ERR_INVALID_STATE (freed).
/// Spec: the readable's cancel algorithm (processorClose).
#[no_mangle]
pub extern "C" fn mst_processor_close(processor: *mut MstProcessor) -> MstStatus {
    ffi_call!({
        get(processor)?.close();
        Ok(())
    })
}

/// Releases the processor, closing it first (as mst_processor_close()) and stopping its
/// callback thread. A blocked reader on another thread is woken with MST_ERR_ENDED. The handle
/// is marked freed before the wait for a running callback, so that callback's own calls on
/// this processor (get_stats, set_callback, ...) get MST_ERR_INVALID_STATE. NULL is MST_OK.
///
/// Ownership: releases `processor`; it must not be used again.
/// Thread safety: any thread, including the callback itself.
/// Blocking: until a running callback returns, unless called from the callback itself.
/// Errors: MST_ERR_INVALID_ARG (not a processor handle), MST_ERR_INVALID_STATE (already
/// freed).
/// Spec: libmst extension (releases the C handle; cancels the readable as processorClose).
#[no_mangle]
pub extern "C" fn mst_processor_free(processor: *mut MstProcessor) -> MstStatus {
    ffi_call!({
        if !processor.is_null() {
            let p = PROCESSORS.remove(processor)?;
            // Closed without the close's report: dropping it reports frames still open, once.
            p.shut();
            // Stopping the thread cannot fail (only starting one can): free never fails on a
            // live handle.
            let _ = p.set_callback(None);
        }
        Ok(())
    })
}

sized_struct!(in MstProcessorOptions = 12, out MstProcessorStats = 104);

symver!(
    mst_processor_create,
    mst_processor_read,
    mst_processor_get_fd,
    mst_processor_wakeup,
    mst_processor_set_callback,
    mst_processor_get_stats,
    mst_processor_close,
    mst_processor_free
);
