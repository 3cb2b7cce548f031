//! mst.h, video output: a video track written to a V4L2 output node (a virtual camera).

use std::ffi::c_char;
use std::sync::Arc;

use super::device::device_id_in;
use super::track::{get as get_track, MstTrack};
use super::{ffi_call, out, sized_struct, symver, MstStatus, OutStruct, Table};
use crate::sink::v4l2::VideoOutput;

/// V4L2 output of a video track (a virtual camera). Opaque handle.
pub struct MstVideoOutput {
    _opaque: [u8; 0],
}

static VIDEO_OUTPUTS: Table<Arc<VideoOutput>> = Table::new(0x56, "MstVideoOutput");

/// What a video output has done.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MstVideoOutputStats {
    /// sizeof(MstVideoOutputStats) as the caller knows it (MST_STRUCT_INIT).
    pub struct_size: u32,
    /// MST_OK while the output runs or after it stopped normally; otherwise why it stopped
    /// early: MST_ERR_NO_DEVICE (the node went away), MST_ERR_IO, MST_ERR_UNSUPPORTED (the
    /// node takes neither YU12 nor NV12 at the frame's size).
    pub status: MstStatus,
    /// Frames queued to the device.
    pub frames_written: u64,
    /// Frames not written: discarded by the output's queue because the device took frames
    /// slower than the track delivered them, or not convertible to the negotiated format.
    pub frames_dropped: u64,
    /// The negotiated size; 0 before the first frame.
    pub width: u32,
    pub height: u32,
    /// The negotiated V4L2 pixel format as a little-endian fourcc ('Y','U','1','2' or
    /// 'N','V','1','2'; 'Y','M','1','2' or 'N','M','1','2' on a multi-planar node offering
    /// only those); 0 before the first frame.
    pub fourcc: u32,
}

/// Writes `track` (a video track) to the V4L2 output node `device_id` (an id of kind
/// MST_DEVICE_KIND_VIDEO_OUTPUT; NULL = "default", the first output node) from a library
/// thread ("mst-v4l2-output") fed by the output's own processor (4 frames), so the track's
/// source never waits for the device. The node's format is set from the first frame: I420 is
/// written as YU12, NV12 as NV12, any other format converted to I420 (YU12); the size is the
/// frame's visible size rounded down to even (an odd last column or row is cropped). Later
/// frames of another size are scaled to it. The frame interval is set from the first frame's
/// duration where the driver allows it. mmap streaming with 4 buffers; a device slower than
/// the track makes the queue drop the oldest frames (counted). When the track ends, what is
/// queued is written and shown (at most 2 s are waited for) and streaming stops; otherwise it
/// stops at mst_video_output_stop() or mst_video_output_free(). Selecting the node's output
/// (VIDIOC_S_OUTPUT) is left to the caller.
///
/// Ownership: `track` and `device_id` borrowed (the output keeps the track alive itself); on
/// MST_OK the caller owns `*out` and releases it with mst_video_output_free().
/// Thread safety: any thread.
/// Blocking: enumerates the V4L2 nodes and opens the node.
/// Errors: MST_ERR_NULL_ARG (`track` or `out` is NULL), MST_ERR_INVALID_ARG (not a track
/// handle, or a non-UTF-8 id), MST_ERR_INVALID_STATE (freed track), MST_ERR_TYPE (an audio
/// track), MST_ERR_NO_DEVICE (the message names the id), MST_ERR_BUSY, MST_ERR_UNSUPPORTED
/// (not a single-planar streaming output node), MST_ERR_IO, MST_ERR_NO_MEMORY (no thread or
/// handle left).
/// Spec: libmst extension (a sink, as a video element showing the track would be).
#[no_mangle]
pub extern "C" fn mst_video_output_open(
    track: *const MstTrack,
    device_id: *const c_char,
    out: *mut *mut MstVideoOutput,
) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        let t = get_track(track)?;
        let id = device_id_in(device_id)?;
        *out = VIDEO_OUTPUTS.insert(Arc::new(VideoOutput::open(&t, &id)?))?;
        Ok(())
    })
}

/// The output's counters: so far while it runs, the final ones once it has stopped; `status`
/// tells whether it stopped with an error (the node went away: MST_ERR_NO_DEVICE).
///
/// Ownership: `output` borrowed; `*out` written on MST_OK only, up to `out->struct_size`.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`output` or `out` is NULL), MST_ERR_INVALID_ARG (not a video
/// output handle, or `out->struct_size` below the 1.0 size), MST_ERR_INVALID_STATE (freed).
/// Spec: libmst extension.
#[no_mangle]
pub extern "C" fn mst_video_output_get_stats(
    output: *const MstVideoOutput,
    out: *mut MstVideoOutputStats,
) -> MstStatus {
    ffi_call!({
        let out = OutStruct::new(out, "out")?;
        let s = VIDEO_OUTPUTS.get(output)?.stats();
        out.write(MstVideoOutputStats {
            struct_size: 0,
            status: s.error.map_or(MstStatus::MST_OK, MstStatus::from_kind),
            frames_written: s.frames_written,
            frames_dropped: s.frames_dropped,
            width: s.width,
            height: s.height,
            fourcc: s.fourcc,
        });
        Ok(())
    })
}

/// Ends the output: stops streaming and closes the node. If the track has ended, what it
/// delivered is written and shown first; if it is still live, output stops at once and what
/// is queued is not written. Returns why output had stopped early, if it had; a later stop
/// returns the same. The handle stays valid: mst_video_output_get_stats() gives the final
/// counters.
///
/// Ownership: `output` borrowed; release it with mst_video_output_free().
/// Thread safety: any thread.
/// Blocking: a live track: until the output thread has finished its current frame (at most
/// about one frame period of the device); an ended one: until the queue (at most 4 frames)
/// is written and the driver has taken it (at most 2 s more).
/// Errors: MST_ERR_NULL_ARG (`output` is NULL), MST_ERR_INVALID_ARG (not a video output
/// handle), MST_ERR_INVALID_STATE (freed), MST_ERR_NO_DEVICE (the node went away while
/// streaming, which then stopped), MST_ERR_IO (an ioctl failed), MST_ERR_UNSUPPORTED (the
/// node took no format libmst can write).
/// Spec: libmst extension (ends the sink).
#[no_mangle]
pub extern "C" fn mst_video_output_stop(output: *mut MstVideoOutput) -> MstStatus {
    ffi_call!({ VIDEO_OUTPUTS.get(output)?.stop() })
}

/// Releases the output, stopping it first (as mst_video_output_stop(), whose error is not
/// reported here: call it first to learn it). NULL is MST_OK.
///
/// Ownership: releases `output`; it must not be used again.
/// Thread safety: any thread.
/// Blocking: as mst_video_output_stop() if it was still running.
/// Errors: MST_ERR_INVALID_ARG (not a video output handle), MST_ERR_INVALID_STATE (already
/// freed).
/// Spec: libmst extension (releases the C handle).
#[no_mangle]
pub extern "C" fn mst_video_output_free(output: *mut MstVideoOutput) -> MstStatus {
    ffi_call!({
        if !output.is_null() {
            // The error is the stop's to report; a free never fails on a live handle.
            let _ = VIDEO_OUTPUTS.remove(output)?.stop();
        }
        Ok(())
    })
}

sized_struct!(out MstVideoOutputStats = 40);

symver!(mst_video_output_open, mst_video_output_get_stats, mst_video_output_stop, mst_video_output_free);
