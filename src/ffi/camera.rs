//! mst.h, cameras: the V4L2 capture source.

use std::ffi::c_char;

use super::device::device_id_in;
use super::support::read_in;
use super::track::{get as get_track, new_handle, video_constraints_in, MstTrack, MstVideoConstraints};
use super::{ffi_call, out, sized_struct, symver, MstStatus, OutStruct};
use crate::error::err;
use crate::source::v4l2::{self as cam, CameraOptions};

/// Options of mst_track_create_camera() beyond the constraints (all zero but struct_size =
/// defaults).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MstCameraOptions {
    /// sizeof(MstCameraOptions) as the caller knows it (MST_STRUCT_INIT).
    pub struct_size: u32,
    /// Use only modes of this V4L2 pixel format: its fourcc as <linux/videodev2.h>'s
    /// v4l2_fourcc(a, b, c, d) makes it (a | b << 8 | c << 16 | d << 24), one of NV12, NM12,
    /// YU12, YM12, YUYV, UYVY, XR24, AR24, XB24, AB24, RGB3, BGR3, MJPG (or JPEG), GREY. 0 =
    /// any, preferring them in that order among modes equally close to the constraints. NM12
    /// and YM12 (NV12 and I420 in separate buffer planes) exist on multi-planar nodes only.
    /// GREY (luma only: infrared and monochrome cameras) is delivered as I420 with neutral
    /// chroma (128): the luma is the driver's buffer while the camera can lend it (frames
    /// beyond the lending budget are copied; see mst_track_create_camera()).
    pub pixel_format: u32,
}

/// Opens the camera `device_id` (an id from mst_devices_enumerate() of kind
/// MST_DEVICE_KIND_VIDEO_INPUT, a fake camera's included; NULL or "default" = the first V4L2
/// video input) and returns a live
/// video track on it. libmst enumerates the node's pixel formats, frame sizes and frame
/// intervals, picks the native mode closest to `constraints` (NULL = none; fitness distance as
/// browsers compute it; 640x480 at 30 fps breaks ties) and sets it, with mmap buffers (8
/// asked for a format delivered as it is, 4 otherwise; the driver may give another number).
/// Single- and multi-planar nodes alike.
/// Frames are delivered from a library thread ("mst-v4l2-capture") in the WebCodecs format of
/// the V4L2 one: NV12 and NM12 as NV12; YU12 and YM12 as I420; YUYV and UYVY converted to
/// I420; XR24, AR24, XB24, AB24 as BGRX, BGRA, RGBX, RGBA; RGB3 and BGR3 expanded to RGBX and
/// BGRX; MJPEG decoded to I420 by libjpeg-turbo (libturbojpeg.so.0, loaded at run time:
/// without it MJPEG modes are not offered); GREY (luma only) as I420 with neutral chroma
/// (128). Each frame carries the driver's CLOCK_MONOTONIC capture time (microseconds) as its
/// timestamp, the V4L2 sequence number as MstVideoFrameInfo.capture_sequence and the time
/// libmst dequeued it as MstVideoFrameInfo.received. NV12, NM12, YU12, YM12, GREY's luma and
/// the 32-bit RGB formats are delivered over the driver's own buffers, without a copy
/// (MstCameraStats.zero_copy; mst_frame_get_dmabuf(), mst_frame_get_dmabuf_plane()): a buffer
/// goes back to the driver when the last frame over it closes, and all but 2 are lent at
/// most, so frames beyond what consumers hold are copied (MstCameraStats.over_budget) and
/// capture goes on. Every other format is converted into a frame of its own and its buffer
/// requeued at once. The track's capabilities are the native mode; its constraints are
/// `constraints`, so what the mode does not meet (a smaller size, another aspect ratio, a
/// lower rate) the
/// track's crop-and-scale and decimation serve. If the device goes away, every track on it
/// ends with MST_END_REASON_DEVICE_LOST within about one frame. If the driver refuses buffers
/// back (MstCameraStats.lost_buffers; each is retried) until none is left to capture into, or
/// until it has none for 3 frame periods (at least 500 ms) because open frames hold all the
/// others, the track ends with MST_END_REASON_ERROR (logged). The device is released when the
/// last track on it ends and the last frame over its buffers closes.
///
/// Ownership: `device_id`, `constraints` and `options` (NULL = defaults) borrowed; on MST_OK
/// the caller owns `*out` and releases it with mst_track_free().
/// Thread safety: any thread.
/// Blocking: opens, configures and starts the device (the driver's buffers are allocated
/// before it returns).
/// Errors: MST_ERR_NULL_ARG (`out` is NULL), MST_ERR_NO_DEVICE (no such camera, or none; the
/// message names it), MST_ERR_BUSY (another process streams from it),
/// MST_ERR_OVERCONSTRAINED (mst_last_error_constraint() names width, height, aspectRatio or
/// frameRate; the message lists the device's modes), MST_ERR_INVALID_ARG (unknown `present`
/// bits or resize_mode, NaN or infinite values, a non-UTF-8 id, a pixel_format libmst does
/// not know, a struct_size below the 1.0 size), MST_ERR_UNSUPPORTED (not a streaming capture
/// node; no mode in a format libmst handles, or in `pixel_format`; MJPEG without
/// libturbojpeg.so.0, the message says which package; nonzero bytes past the structs this
/// libmst knows), MST_ERR_IO, MST_ERR_NO_MEMORY (no thread or handle left).
/// Spec: getUserMedia({video}) (Media Capture and Streams) for one device, with
/// SelectSettings' fitness distance.
#[no_mangle]
pub extern "C" fn mst_track_create_camera(
    device_id: *const c_char,
    constraints: *const MstVideoConstraints,
    options: *const MstCameraOptions,
    out: *mut *mut MstTrack,
) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        let id = device_id_in(device_id)?;
        let vc = video_constraints_in(&read_in(constraints, "constraints")?.unwrap_or_default())?;
        let o = read_in(options, "options")?.unwrap_or_default();
        let format = match o.pixel_format {
            0 => None,
            f => Some(cam::CameraFormat::from_fourcc_bytes(f.to_le_bytes()).ok_or_else(|| {
                err!(
                    InvalidArg,
                    "options->pixel_format {:#010x} ({:?}) is not a pixel format libmst captures",
                    f,
                    String::from_utf8_lossy(&f.to_le_bytes())
                )
            })?),
        };
        *out = new_handle(cam::camera(&id, &vc, &CameraOptions { format })?)?;
        Ok(())
    })
}

/// What a camera source has captured.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MstCameraStats {
    /// sizeof(MstCameraStats) as the caller knows it (MST_STRUCT_INIT).
    pub struct_size: u32,
    /// The V4L2 sequence number of the last frame delivered.
    pub last_sequence: u32,
    /// Frames delivered.
    pub frames: u64,
    /// Frames lost: gaps in the driver's sequence numbers (the driver had no free buffer),
    /// plus buffers the driver flagged as erroneous, short ones and undecodable MJPEG.
    pub dropped: u64,
    /// Frames whose sequence number did not increase (0 on a sane driver).
    pub out_of_order: u64,
    /// Since 1.3: frames delivered over the driver's own buffer, not copied (NV12, NM12, YU12,
    /// YM12, GREY's luma and 32-bit RGB captures; see mst_frame_get_dmabuf(), and
    /// mst_frame_get_dmabuf_plane() for NM12, YM12 and GREY, whose planes are not one DMA-BUF).
    pub zero_copy: u64,
    /// Since 1.3: frames of such a format copied instead, because consumers held all the
    /// driver buffers the camera lends (all but 2 of those the driver gave, 8 asked for, minus
    /// lost_buffers); none is lost for it.
    pub over_budget: u64,
    /// Since 1.3: frames over the camera's driver buffers open now (held by processors'
    /// queues, readers, sinks); the log warns when capture ends with some open.
    pub held: u64,
    /// Since 1.3: driver buffers the driver refused to take back (VIDIOC_QBUF failed while
    /// the device was there), out of the capture ring now: each logged, and queued again
    /// (the oldest, once per 3 frame periods, at least 500 ms) until the driver takes it.
    /// Fewer frames are lent meanwhile; when none is left, or the driver has none for that
    /// long because open frames hold the others, the track ends (MST_END_REASON_ERROR).
    pub lost_buffers: u64,
}

/// The capture counters of the camera source behind `track` (shared by its clones).
///
/// Ownership: `track` borrowed; `*out` written on MST_OK only, up to `out->struct_size`.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`track` or `out` is NULL), MST_ERR_INVALID_ARG (not a track
/// handle, or `out->struct_size` below the 1.0 size), MST_ERR_INVALID_STATE (freed),
/// MST_ERR_TYPE (the track is not on a camera).
/// Spec: libmst extension.
#[no_mangle]
pub extern "C" fn mst_track_get_camera_stats(track: *const MstTrack, out: *mut MstCameraStats) -> MstStatus {
    ffi_call!({
        let out = OutStruct::new(out, "out")?;
        let t = get_track(track)?;
        let s = cam::camera_stats(&t).ok_or_else(|| err!(Type, "the track is not on a camera"))?;
        out.write(MstCameraStats {
            struct_size: 0,
            last_sequence: s.last_sequence,
            frames: s.frames,
            dropped: s.dropped,
            out_of_order: s.out_of_order,
            zero_copy: s.zero_copy,
            over_budget: s.over_budget,
            held: s.held,
            lost_buffers: s.lost_buffers,
        });
        Ok(())
    })
}

sized_struct!(in MstCameraOptions = 8, out MstCameraStats = 32);

symver!(mst_track_create_camera, mst_track_get_camera_stats);
