//! mst.h, frames: VideoFrame and AudioData (WebCodecs) behind one `MstFrame` handle.

use std::ffi::c_void;

use super::support::{read_in, read_in_required};
use super::{bytes, bytes_mut, ffi_call, out, sized_struct, symver, MstStatus, OutStruct, Table, UserData};
use crate::error::{err, Result};
use crate::frame::pool::SpareBoxes;
use crate::frame::{
    AudioCopyOptions, AudioDataInit, AudioSampleFormat, ColorPrimaries, ExternalMemory, Frame, FrameMeta, Kind,
    MatrixCoefficients, PlaneLayout, Rect, TransferCharacteristics, VideoColorSpace, VideoCopyOptions, VideoFrameInit,
    VideoPixelFormat,
};

/// A video frame or audio buffer. Opaque; a handle, not a pointer to dereference.
pub struct MstFrame {
    _opaque: [u8; 0],
}

/// A frame handle's value: the frame (None once closed: WebCodecs' [[Detached]]) and what the
/// processor it was read from said of it.
#[derive(Clone)]
pub(crate) struct FrameEntry {
    pub(crate) frame: Option<Frame>,
    pub(crate) read: ReadNumbers,
}

/// A frame's numbers in the processor that returned it; zeros for frames not read from one.
#[derive(Clone, Copy, Default)]
pub(crate) struct ReadNumbers {
    /// Its sequence number there.
    pub(crate) sequence: u64,
    /// The frames that processor discarded since the frame it returned before this one.
    pub(crate) discarded_before: u64,
}

pub(crate) static FRAMES: Table<FrameEntry> = Table::new(0x4d, "MstFrame");

pub(crate) fn new_handle(frame: Frame, read: ReadNumbers) -> Result<*mut MstFrame> {
    FRAMES.insert(FrameEntry { frame: Some(frame), read })
}

/// A handle for a frame that wraps caller memory. The handle is taken first: once `wrap` has
/// made the frame, dropping it would run the caller's release callback, which a failed wrap
/// must never do (the caller still owns the memory then).
fn new_wrapped_handle(wrap: impl FnOnce() -> Result<Frame>) -> Result<*mut MstFrame> {
    let h: *mut MstFrame = FRAMES.insert(FrameEntry { frame: None, read: ReadNumbers::default() })?;
    match wrap() {
        Ok(frame) => {
            FRAMES.update(h, |e| e.frame = Some(frame))?;
            Ok(h)
        }
        Err(e) => {
            FRAMES.free(h)?;
            Err(e)
        }
    }
}

/// The open frame behind `h` and its processor numbers; MST_ERR_INVALID_STATE once closed.
pub(crate) fn get_entry(h: *const MstFrame) -> Result<(Frame, ReadNumbers)> {
    let e = FRAMES.get(h)?;
    let frame = e.frame.ok_or_else(|| err!(InvalidState, "the frame is closed"))?;
    Ok((frame, e.read))
}

pub(crate) fn get(h: *const MstFrame) -> Result<Frame> {
    Ok(get_entry(h)?.0)
}

/// WebCodecs' close(): the handle's media reference goes (dropped by the caller, outside the
/// table's lock); the handle stays, closed. Closing a closed frame does nothing.
pub(crate) fn close(h: *const MstFrame) -> Result<Option<Frame>> {
    FRAMES.update(h, |e| e.frame.take())
}

/// Media kinds (`MediaStreamTrack.kind`).
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum MstKind {
    MST_KIND_AUDIO = 1,
    MST_KIND_VIDEO = 2,
}

impl MstKind {
    pub(crate) fn from_kind(k: Kind) -> MstKind {
        match k {
            Kind::Audio => MstKind::MST_KIND_AUDIO,
            Kind::Video => MstKind::MST_KIND_VIDEO,
        }
    }
}

/// WebCodecs' VideoPixelFormat. 0 in an options struct means "unset".
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum MstVideoPixelFormat {
    MST_VIDEO_PIXEL_FORMAT_I420 = 1,
    MST_VIDEO_PIXEL_FORMAT_I420A = 2,
    MST_VIDEO_PIXEL_FORMAT_I422 = 3,
    MST_VIDEO_PIXEL_FORMAT_I444 = 4,
    MST_VIDEO_PIXEL_FORMAT_NV12 = 5,
    MST_VIDEO_PIXEL_FORMAT_RGBA = 6,
    MST_VIDEO_PIXEL_FORMAT_RGBX = 7,
    MST_VIDEO_PIXEL_FORMAT_BGRA = 8,
    MST_VIDEO_PIXEL_FORMAT_BGRX = 9,
}

/// WebCodecs' AudioSampleFormat. 0 in an options struct means "unset".
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum MstAudioSampleFormat {
    MST_AUDIO_SAMPLE_FORMAT_U8 = 1,
    MST_AUDIO_SAMPLE_FORMAT_S16 = 2,
    MST_AUDIO_SAMPLE_FORMAT_S32 = 3,
    MST_AUDIO_SAMPLE_FORMAT_F32 = 4,
    MST_AUDIO_SAMPLE_FORMAT_U8_PLANAR = 5,
    MST_AUDIO_SAMPLE_FORMAT_S16_PLANAR = 6,
    MST_AUDIO_SAMPLE_FORMAT_S32_PLANAR = 7,
    MST_AUDIO_SAMPLE_FORMAT_F32_PLANAR = 8,
}

pub(crate) fn video_format_in(v: i32, what: &str) -> Result<VideoPixelFormat> {
    VideoPixelFormat::ALL
        .get((v as usize).wrapping_sub(1))
        .copied()
        .filter(|_| v > 0)
        .ok_or_else(|| err!(InvalidArg, "{what} {v} is not an MstVideoPixelFormat (1..=9)"))
}

pub(crate) fn video_format_out(f: VideoPixelFormat) -> MstVideoPixelFormat {
    use MstVideoPixelFormat::*;
    [
        MST_VIDEO_PIXEL_FORMAT_I420,
        MST_VIDEO_PIXEL_FORMAT_I420A,
        MST_VIDEO_PIXEL_FORMAT_I422,
        MST_VIDEO_PIXEL_FORMAT_I444,
        MST_VIDEO_PIXEL_FORMAT_NV12,
        MST_VIDEO_PIXEL_FORMAT_RGBA,
        MST_VIDEO_PIXEL_FORMAT_RGBX,
        MST_VIDEO_PIXEL_FORMAT_BGRA,
        MST_VIDEO_PIXEL_FORMAT_BGRX,
    ][VideoPixelFormat::ALL.iter().position(|x| *x == f).expect("listed")]
}

pub(crate) fn audio_format_in(v: i32, what: &str) -> Result<AudioSampleFormat> {
    AudioSampleFormat::ALL
        .get((v as usize).wrapping_sub(1))
        .copied()
        .filter(|_| v > 0)
        .ok_or_else(|| err!(InvalidArg, "{what} {v} is not an MstAudioSampleFormat (1..=8)"))
}

fn audio_format_out(f: AudioSampleFormat) -> MstAudioSampleFormat {
    use MstAudioSampleFormat::*;
    [
        MST_AUDIO_SAMPLE_FORMAT_U8,
        MST_AUDIO_SAMPLE_FORMAT_S16,
        MST_AUDIO_SAMPLE_FORMAT_S32,
        MST_AUDIO_SAMPLE_FORMAT_F32,
        MST_AUDIO_SAMPLE_FORMAT_U8_PLANAR,
        MST_AUDIO_SAMPLE_FORMAT_S16_PLANAR,
        MST_AUDIO_SAMPLE_FORMAT_S32_PLANAR,
        MST_AUDIO_SAMPLE_FORMAT_F32_PLANAR,
    ][AudioSampleFormat::ALL.iter().position(|x| *x == f).expect("listed")]
}

/// A rectangle in pixels. Frozen: it never grows.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MstRect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl From<MstRect> for Rect {
    fn from(r: MstRect) -> Rect {
        Rect { x: r.x, y: r.y, width: r.width, height: r.height }
    }
}

impl From<Rect> for MstRect {
    fn from(r: Rect) -> MstRect {
        MstRect { x: r.x, y: r.y, width: r.width, height: r.height }
    }
}

/// Where a plane starts in a buffer and the distance between its rows, in bytes. Frozen: it
/// never grows.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MstPlaneLayout {
    pub offset: usize,
    pub stride: usize,
}

/// The planes written by mst_frame_video_copy_to().
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MstPlaneLayouts {
    /// sizeof(MstPlaneLayouts) as the caller knows it (MST_STRUCT_INIT).
    pub struct_size: u32,
    pub count: u32,
    pub planes: [MstPlaneLayout; 4],
}

/// WebCodecs' VideoFrameBufferInit. Zero means "default" where noted.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MstVideoFrameInit {
    /// sizeof(MstVideoFrameInit) as the caller knows it (MST_STRUCT_INIT).
    pub struct_size: u32,
    /// An MstVideoPixelFormat value.
    pub format: i32,
    pub coded_width: u32,
    pub coded_height: u32,
    /// Presentation time in microseconds.
    pub timestamp: i64,
    /// Microseconds; 0 = no duration.
    pub duration: i64,
    /// Number of entries of `layout` in use; 0 = planes tightly packed in order.
    pub num_planes: u32,
    pub layout: [MstPlaneLayout; 4],
    /// Width 0 = the whole coded frame. x and y must be multiples of the chroma subsampling.
    pub visible_rect: MstRect,
    /// Both 0 = the visible size.
    pub display_width: u32,
    pub display_height: u32,
    /// Since 1.2: the frame's colour space (WebCodecs' `colorSpace`), as MstVideoColorPrimaries,
    /// MstVideoTransferCharacteristics, MstVideoMatrixCoefficients and MstVideoColorRange
    /// values. All four 0 (UNSET) = WebCodecs' default for the format: sRGB for the RGB formats,
    /// BT.709 limited range for the YUV ones. Otherwise the colour space is exactly these, an
    /// UNSET member being unknown (YUV of unknown matrix is read as BT.709, of unknown range
    /// as limited).
    pub color_primaries: i32,
    pub color_transfer: i32,
    pub color_matrix: i32,
    pub color_range: i32,
}

fn video_init(i: &MstVideoFrameInit) -> Result<VideoFrameInit> {
    if i.num_planes > 4 {
        return Err(err!(InvalidArg, "num_planes {} is more than 4", i.num_planes));
    }
    let layout = (i.num_planes > 0).then(|| {
        i.layout[..i.num_planes as usize].iter().map(|l| PlaneLayout { offset: l.offset, stride: l.stride }).collect()
    });
    let display_size = match (i.display_width, i.display_height) {
        (0, 0) => None,
        (w, h) if w == 0 || h == 0 => return Err(err!(InvalidArg, "display size {w}x{h}: set both or neither")),
        s => Some(s),
    };
    Ok(VideoFrameInit {
        format: video_format_in(i.format, "format")?,
        coded_width: i.coded_width,
        coded_height: i.coded_height,
        timestamp: i.timestamp,
        duration: (i.duration != 0).then_some(i.duration),
        layout,
        visible_rect: (i.visible_rect.width != 0).then(|| i.visible_rect.into()),
        display_size,
        color_space: color_space_in(i)?,
    })
}

/// WebCodecs' VideoColorPrimaries (since 1.2).
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum MstVideoColorPrimaries {
    /// Unknown (WebCodecs' null).
    MST_VIDEO_COLOR_PRIMARIES_UNSET = 0,
    /// BT.709, also sRGB's.
    MST_VIDEO_COLOR_PRIMARIES_BT709 = 1,
    /// BT.601 625-line (PAL).
    MST_VIDEO_COLOR_PRIMARIES_BT470BG = 2,
    /// BT.601 525-line (NTSC).
    MST_VIDEO_COLOR_PRIMARIES_SMPTE170M = 3,
    MST_VIDEO_COLOR_PRIMARIES_BT2020 = 4,
    /// P3 D65.
    MST_VIDEO_COLOR_PRIMARIES_SMPTE432 = 5,
}

/// WebCodecs' VideoTransferCharacteristics (since 1.2).
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum MstVideoTransferCharacteristics {
    /// Unknown (WebCodecs' null).
    MST_VIDEO_TRANSFER_UNSET = 0,
    MST_VIDEO_TRANSFER_BT709 = 1,
    MST_VIDEO_TRANSFER_SMPTE170M = 2,
    /// sRGB ("iec61966-2-1").
    MST_VIDEO_TRANSFER_IEC61966_2_1 = 3,
    MST_VIDEO_TRANSFER_LINEAR = 4,
    MST_VIDEO_TRANSFER_PQ = 5,
    MST_VIDEO_TRANSFER_HLG = 6,
}

/// WebCodecs' VideoMatrixCoefficients (since 1.2).
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum MstVideoMatrixCoefficients {
    /// Unknown (WebCodecs' null).
    MST_VIDEO_MATRIX_UNSET = 0,
    /// No matrix: the samples are R, G, B.
    MST_VIDEO_MATRIX_RGB = 1,
    MST_VIDEO_MATRIX_BT709 = 2,
    /// BT.601 (625-line); the same matrix as SMPTE170M.
    MST_VIDEO_MATRIX_BT470BG = 3,
    /// BT.601 (525-line); the same matrix as BT470BG.
    MST_VIDEO_MATRIX_SMPTE170M = 4,
    /// BT.2020 non-constant luminance.
    MST_VIDEO_MATRIX_BT2020_NCL = 5,
}

/// WebCodecs' VideoColorSpace.fullRange as an enum (since 1.2).
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum MstVideoColorRange {
    /// Unknown (WebCodecs' null).
    MST_VIDEO_COLOR_RANGE_UNSET = 0,
    /// Y 16..=235, U and V 16..=240 (fullRange false).
    MST_VIDEO_COLOR_RANGE_LIMITED = 1,
    /// Y, U and V 0..=255 (fullRange true; JPEG's).
    MST_VIDEO_COLOR_RANGE_FULL = 2,
}

const PRIMARIES: [ColorPrimaries; 5] = [
    ColorPrimaries::Bt709,
    ColorPrimaries::Bt470bg,
    ColorPrimaries::Smpte170m,
    ColorPrimaries::Bt2020,
    ColorPrimaries::Smpte432,
];
const TRANSFERS: [TransferCharacteristics; 6] = [
    TransferCharacteristics::Bt709,
    TransferCharacteristics::Smpte170m,
    TransferCharacteristics::Iec61966_2_1,
    TransferCharacteristics::Linear,
    TransferCharacteristics::Pq,
    TransferCharacteristics::Hlg,
];
const MATRICES: [MatrixCoefficients; 5] = [
    MatrixCoefficients::Rgb,
    MatrixCoefficients::Bt709,
    MatrixCoefficients::Bt470bg,
    MatrixCoefficients::Smpte170m,
    MatrixCoefficients::Bt2020Ncl,
];

/// Member `v` of `table` (1-based; 0 = unknown), or InvalidArg naming the field.
fn member_in<T: Copy>(table: &[T], v: i32, what: &str, enum_name: &str) -> Result<Option<T>> {
    match v {
        0 => Ok(None),
        v if v > 0 && (v as usize) <= table.len() => Ok(Some(table[v as usize - 1])),
        _ => Err(err!(InvalidArg, "{what} {v} is not an {enum_name} (0..={})", table.len())),
    }
}

/// The 1-based position of `v` in `table` (0 for None).
fn member_out<T: PartialEq>(table: &[T], v: Option<T>) -> i32 {
    v.map_or(0, |v| table.iter().position(|x| *x == v).expect("listed") as i32 + 1)
}

fn color_space_in(i: &MstVideoFrameInit) -> Result<Option<VideoColorSpace>> {
    if (i.color_primaries, i.color_transfer, i.color_matrix, i.color_range) == (0, 0, 0, 0) {
        return Ok(None);
    }
    Ok(Some(VideoColorSpace {
        primaries: member_in(&PRIMARIES, i.color_primaries, "color_primaries", "MstVideoColorPrimaries")?,
        transfer: member_in(&TRANSFERS, i.color_transfer, "color_transfer", "MstVideoTransferCharacteristics")?,
        matrix: member_in(&MATRICES, i.color_matrix, "color_matrix", "MstVideoMatrixCoefficients")?,
        full_range: member_in(&[false, true], i.color_range, "color_range", "MstVideoColorRange")?,
    }))
}

/// A VideoFrame's colour space (WebCodecs' VideoColorSpace; since 1.2).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MstVideoColorSpace {
    /// sizeof(MstVideoColorSpace) as the caller knows it (MST_STRUCT_INIT).
    pub struct_size: u32,
    pub primaries: MstVideoColorPrimaries,
    pub transfer: MstVideoTransferCharacteristics,
    pub matrix: MstVideoMatrixCoefficients,
    pub range: MstVideoColorRange,
}

/// Reads a video frame's colour space: what its samples mean. A frame made without one has
/// WebCodecs' default for its format (sRGB: BT709 primaries, IEC61966_2_1 transfer, RGB
/// matrix, full range, for the RGB formats; BT709 primaries, transfer and matrix at limited
/// range for the YUV ones); a camera's frames have what the driver reports (V4L2's defaults
/// applied; MJPEG is full-range BT.601, JFIF). Crops, scales, clones and a processor's
/// constraint handling keep it, and mst_frame_video_copy_to() to RGB converts with its
/// matrix and range.
///
/// Ownership: `frame` borrowed; `*out` written on MST_OK only, up to `out->struct_size`.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`frame` or `out` is NULL), MST_ERR_INVALID_ARG (not a frame
/// handle, or `out->struct_size` below sizeof(MstVideoColorSpace) in 1.2), MST_ERR_INVALID_STATE
/// (closed or freed), MST_ERR_TYPE (an audio frame).
/// Spec: WebCodecs VideoFrame.colorSpace (since 1.2).
#[no_mangle]
pub extern "C" fn mst_frame_get_color_space(frame: *const MstFrame, out: *mut MstVideoColorSpace) -> MstStatus {
    ffi_call!({
        let out = OutStruct::new(out, "out")?;
        let f = get(frame)?;
        let c = f.video().ok_or_else(|| err!(Type, "this frame is AudioData, not a VideoFrame"))?.color_space;
        use MstVideoColorPrimaries as P;
        use MstVideoMatrixCoefficients as M;
        use MstVideoTransferCharacteristics as T;
        let primaries = [
            P::MST_VIDEO_COLOR_PRIMARIES_UNSET,
            P::MST_VIDEO_COLOR_PRIMARIES_BT709,
            P::MST_VIDEO_COLOR_PRIMARIES_BT470BG,
            P::MST_VIDEO_COLOR_PRIMARIES_SMPTE170M,
            P::MST_VIDEO_COLOR_PRIMARIES_BT2020,
            P::MST_VIDEO_COLOR_PRIMARIES_SMPTE432,
        ][member_out(&PRIMARIES, c.primaries) as usize];
        let transfer = [
            T::MST_VIDEO_TRANSFER_UNSET,
            T::MST_VIDEO_TRANSFER_BT709,
            T::MST_VIDEO_TRANSFER_SMPTE170M,
            T::MST_VIDEO_TRANSFER_IEC61966_2_1,
            T::MST_VIDEO_TRANSFER_LINEAR,
            T::MST_VIDEO_TRANSFER_PQ,
            T::MST_VIDEO_TRANSFER_HLG,
        ][member_out(&TRANSFERS, c.transfer) as usize];
        let matrix = [
            M::MST_VIDEO_MATRIX_UNSET,
            M::MST_VIDEO_MATRIX_RGB,
            M::MST_VIDEO_MATRIX_BT709,
            M::MST_VIDEO_MATRIX_BT470BG,
            M::MST_VIDEO_MATRIX_SMPTE170M,
            M::MST_VIDEO_MATRIX_BT2020_NCL,
        ][member_out(&MATRICES, c.matrix) as usize];
        let range = match c.full_range {
            None => MstVideoColorRange::MST_VIDEO_COLOR_RANGE_UNSET,
            Some(false) => MstVideoColorRange::MST_VIDEO_COLOR_RANGE_LIMITED,
            Some(true) => MstVideoColorRange::MST_VIDEO_COLOR_RANGE_FULL,
        };
        out.write(MstVideoColorSpace { struct_size: 0, primaries, transfer, matrix, range });
        Ok(())
    })
}

/// A camera frame's pixels as a DMA-BUF, for GPU import (EGL_EXT_image_dma_buf_import,
/// Vulkan's VK_EXT_external_memory_dma_buf) without a copy: the file descriptor of the driver
/// buffer the frame is (zero-copy capture of NV12, I420 and the 32-bit RGB formats, where the
/// driver exports its buffers: VIDIOC_EXPBUF; not NM12 / YM12, whose planes are separate
/// DMA-BUFs, nor GREY, whose luma only is one: see mst_frame_get_dmabuf_plane()) and where
/// each plane is in it (offset, stride; `count` = the format's planes, see
/// mst_frame_get_video_info() for the format and size).
/// Other frames have none (MST_ERR_UNSUPPORTED).
///
/// Ownership: `frame` borrowed; `*out_fd` and `*out_layout` written on MST_OK only. The fd
/// stays owned by libmst and open while `frame` (or any clone of its media) is: dup() it to
/// keep it longer, never close it. The buffer is the camera's: read it only.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`frame`, `out_fd` or `out_layout` is NULL), MST_ERR_INVALID_ARG
/// (not a frame handle, or `out_layout->struct_size` not a size of MstPlaneLayouts),
/// MST_ERR_INVALID_STATE (closed or freed), MST_ERR_TYPE (an audio frame), MST_ERR_UNSUPPORTED
/// (its pixels are not one DMA-BUF).
/// Spec: none (libmst extension; since 1.3).
#[no_mangle]
pub extern "C" fn mst_frame_get_dmabuf(
    frame: *const MstFrame,
    out_fd: *mut i32,
    out_layout: *mut MstPlaneLayouts,
) -> MstStatus {
    ffi_call!({
        let out_fd = out!(out_fd, "out_fd");
        let out_layout = OutStruct::new(out_layout, "out_layout")?;
        let f = get(frame)?;
        f.video().ok_or_else(|| err!(Type, "this frame is AudioData, not a VideoFrame"))?;
        let d = f.dmabuf_planes().ok_or_else(|| {
            if f.dmabuf_plane(0).is_some() {
                err!(
                    Unsupported,
                    "only this frame's luma is a DMA-BUF (GREY capture: its neutral chroma is libmst's memory); mst_frame_get_dmabuf_plane() gives plane 0"
                )
            } else {
                err!(
                    Unsupported,
                    "this frame's pixels are not a DMA-BUF (only zero-copy camera frames are: NV12, I420 or 32-bit RGB from a driver that exports its buffers)"
                )
            }
        })?;
        if !d.single() {
            return Err(err!(
                Unsupported,
                "this frame's planes are separate DMA-BUFs, one per plane (NM12 or YM12 capture), not one"
            ));
        }
        let mut planes = [MstPlaneLayout::default(); 4];
        for (p, l) in planes.iter_mut().zip(&d.layout[..d.planes]) {
            *p = MstPlaneLayout { offset: l.offset, stride: l.stride };
        }
        *out_fd = d.fd;
        out_layout.write(MstPlaneLayouts { struct_size: 0, count: d.planes as u32, planes });
        Ok(())
    })
}

/// One plane of a camera frame's pixels as a DMA-BUF, for GPU import of frames whose planes
/// are separate DMA-BUFs (NM12 and YM12 capture, delivered as NV12 and I420): the fd of the
/// DMA-BUF plane `plane` is in, and where the plane is in it (offset, stride). Every frame
/// mst_frame_get_dmabuf() answers for answers here too, with its one fd for every plane. A
/// GREY capture frame (delivered as I420) answers for plane 0, the driver's luma, and not for
/// planes 1 and 2, the neutral chroma libmst adds (MST_ERR_UNSUPPORTED).
/// Other frames have none (MST_ERR_UNSUPPORTED).
///
/// Ownership: `frame` borrowed; `*out_fd` and `*out_layout` written on MST_OK only. The fd
/// stays owned by libmst and open while `frame` (or any clone of its media) is: dup() it to
/// keep it longer, never close it. The buffer is the camera's: read it only.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`frame`, `out_fd` or `out_layout` is NULL), MST_ERR_INVALID_ARG
/// (not a frame handle, or `plane` not below the format's number of planes),
/// MST_ERR_INVALID_STATE (closed or freed), MST_ERR_TYPE (an audio frame), MST_ERR_UNSUPPORTED
/// (that plane is not a DMA-BUF).
/// Spec: none (libmst extension; since 1.3).
#[no_mangle]
pub extern "C" fn mst_frame_get_dmabuf_plane(
    frame: *const MstFrame,
    plane: u32,
    out_fd: *mut i32,
    out_layout: *mut MstPlaneLayout,
) -> MstStatus {
    ffi_call!({
        let out_fd = out!(out_fd, "out_fd");
        let out_layout = out!(out_layout, "out_layout");
        let f = get(frame)?;
        let v = f.video().ok_or_else(|| err!(Type, "this frame is AudioData, not a VideoFrame"))?;
        let planes = v.format.planes().len();
        if plane as usize >= planes {
            return Err(err!(
                InvalidArg,
                "`plane` {plane} is not a plane of this {:?} frame ({planes} planes)",
                v.format
            ));
        }
        let (fd, l) = f.dmabuf_plane(plane as usize).ok_or_else(|| {
            if f.dmabuf_plane(0).is_some() {
                err!(
                    Unsupported,
                    "plane {plane} of this frame is not a DMA-BUF: GREY capture's neutral chroma is libmst's memory, only plane 0 (the driver's luma) is one"
                )
            } else {
                err!(
                    Unsupported,
                    "this frame's pixels are not DMA-BUFs (only zero-copy camera frames are: NV12, I420, 32-bit RGB, NM12 or YM12 from a driver that exports its buffers)"
                )
            }
        })?;
        *out_fd = fd;
        *out_layout = MstPlaneLayout { offset: l.offset, stride: l.stride };
        Ok(())
    })
}

/// WebCodecs' AudioDataInit (without the data).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MstAudioDataInit {
    /// sizeof(MstAudioDataInit) as the caller knows it (MST_STRUCT_INIT).
    pub struct_size: u32,
    /// An MstAudioSampleFormat value.
    pub format: i32,
    pub sample_rate: f32,
    pub number_of_frames: u32,
    pub number_of_channels: u32,
    /// Microseconds.
    pub timestamp: i64,
}

fn audio_init(i: &MstAudioDataInit) -> Result<AudioDataInit> {
    Ok(AudioDataInit {
        format: audio_format_in(i.format, "format")?,
        sample_rate: i.sample_rate,
        number_of_frames: i.number_of_frames,
        number_of_channels: i.number_of_channels,
        timestamp: i.timestamp,
    })
}

/// Releases wrapped caller memory; called once with `user_data` when the last reference to the
/// media goes, on the thread that drops it: the caller of the last mst_frame_close() or
/// mst_frame_free() of a handle on it, a writer whose frame evicted it from a full processor
/// queue, or the thread that ended its track.
pub type MstReleaseFn = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

struct CallerMemory {
    ptr: *const u8,
    len: usize,
    /// The caller's release; it runs when this is dropped or recycled.
    release: Option<UserData>,
}

/// The boxes themselves are what is recycled (they become `Box<dyn ExternalMemory>`).
static SPARE_WRAPPERS: SpareBoxes<CallerMemory> = SpareBoxes::new(64);

// SAFETY: mst_frame_wrap_* require the memory to stay valid and unmodified until `release`
// runs; libmst only reads it, from any thread.
unsafe impl Send for CallerMemory {}
// SAFETY: as above; shared reads of immutable memory.
unsafe impl Sync for CallerMemory {}

impl ExternalMemory for CallerMemory {
    fn bytes(&self) -> &[u8] {
        // SAFETY: ptr/len passed `bytes!` at wrap time (non-NULL, at most isize::MAX) and stay
        // valid until release.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    fn recycle(mut self: Box<Self>) {
        drop(self.release.take());
        self.ptr = std::ptr::null();
        self.len = 0;
        SPARE_WRAPPERS.give(self);
    }
}

/// Wraps caller memory once `validate` accepted its length: on a validation error nothing is
/// kept and the release callback is never called.
fn wrap(
    data: &[u8],
    release: MstReleaseFn,
    user_data: *mut c_void,
    validate: impl FnOnce(usize) -> Result<FrameMeta>,
) -> Result<Frame> {
    let meta = validate(data.len())?;
    let (ptr, len) = (data.as_ptr(), data.len());
    let memory = match SPARE_WRAPPERS.take() {
        Some(mut m) => {
            (m.ptr, m.len, m.release) = (ptr, len, Some(UserData::new(user_data, release)));
            m
        }
        None => Box::new(CallerMemory { ptr, len, release: Some(UserData::new(user_data, release)) }),
    };
    Ok(Frame::wrap_validated(meta, memory))
}

/// New video frame holding a copy of `data`, repacked tightly in a pooled buffer.
///
/// Ownership: `init` and `data` are borrowed for the call. On MST_OK the caller owns `*out`
/// and releases it with mst_frame_free().
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`init`, `data` or `out` is NULL); MST_ERR_INVALID_ARG
/// (`init->struct_size` below the 1.0 size, an unknown format, a coded size outside
/// 1..=16384, a visible rect that is empty, outside the coded size or not aligned to the
/// chroma subsampling, a layout with too few/many planes, a short stride or overlapping
/// planes, one display dimension 0, or `data_len` smaller than the layout needs or above
/// PTRDIFF_MAX); MST_ERR_UNSUPPORTED (nonzero bytes past the `init` this libmst knows);
/// MST_ERR_NO_MEMORY (no handle left).
/// Spec: WebCodecs `new VideoFrame(data, init)` (its TypeErrors are MST_ERR_INVALID_ARG).
#[no_mangle]
pub extern "C" fn mst_frame_create_video(
    init: *const MstVideoFrameInit,
    data: *const u8,
    data_len: usize,
    out: *mut *mut MstFrame,
) -> MstStatus {
    ffi_call!({
        let init = video_init(&read_in_required(init, "init")?)?;
        let out = out!(out, "out");
        let frame = Frame::video_copy(&init, bytes!(data, data_len, "data"))?;
        *out = new_handle(frame, ReadNumbers::default())?;
        Ok(())
    })
}

/// New video frame over the caller's memory, without copying (zero-copy in).
///
/// Ownership: on MST_OK libmst borrows `data` until the last reference to the media goes,
/// then calls `release(user_data)` once (see MstReleaseFn for the thread); the memory must
/// stay valid and unmodified until then. On any error nothing is kept and `release` is never
/// called. `release` may be NULL. The caller owns `*out` and releases it with
/// mst_frame_free().
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: as mst_frame_create_video().
/// Spec: WebCodecs `new VideoFrame(data, init)` with a transferred buffer (no copy).
#[no_mangle]
pub extern "C" fn mst_frame_wrap_video(
    init: *const MstVideoFrameInit,
    data: *const u8,
    data_len: usize,
    release: MstReleaseFn,
    user_data: *mut c_void,
    out: *mut *mut MstFrame,
) -> MstStatus {
    ffi_call!({
        let init = video_init(&read_in_required(init, "init")?)?;
        let out = out!(out, "out");
        let data = bytes!(data, data_len, "data");
        *out = new_wrapped_handle(|| wrap(data, release, user_data, |n| init.validate(n).map(FrameMeta::Video)))?;
        Ok(())
    })
}

/// New audio data holding a copy of `data`; planar formats store their planes one after
/// another.
///
/// Ownership: `init` and `data` borrowed for the call; on MST_OK the caller owns `*out` and
/// releases it with mst_frame_free().
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`init`, `data` or `out` is NULL); MST_ERR_INVALID_ARG
/// (`init->struct_size` below the 1.0 size, an unknown format, a sample rate that is not a
/// positive finite number, zero frames or channels, or `data_len` below frames x channels x
/// sample size or above PTRDIFF_MAX); MST_ERR_UNSUPPORTED (nonzero bytes past the `init`
/// this libmst knows); MST_ERR_NO_MEMORY (no handle left).
/// Spec: WebCodecs `new AudioData(init)` (its TypeErrors are MST_ERR_INVALID_ARG).
#[no_mangle]
pub extern "C" fn mst_frame_create_audio(
    init: *const MstAudioDataInit,
    data: *const u8,
    data_len: usize,
    out: *mut *mut MstFrame,
) -> MstStatus {
    ffi_call!({
        let init = audio_init(&read_in_required(init, "init")?)?;
        let out = out!(out, "out");
        let frame = Frame::audio_copy(&init, bytes!(data, data_len, "data"))?;
        *out = new_handle(frame, ReadNumbers::default())?;
        Ok(())
    })
}

/// New audio data over the caller's memory, without copying.
///
/// Ownership: as mst_frame_wrap_video().
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: as mst_frame_create_audio().
/// Spec: WebCodecs `new AudioData(init)` with a transferred buffer (no copy).
#[no_mangle]
pub extern "C" fn mst_frame_wrap_audio(
    init: *const MstAudioDataInit,
    data: *const u8,
    data_len: usize,
    release: MstReleaseFn,
    user_data: *mut c_void,
    out: *mut *mut MstFrame,
) -> MstStatus {
    ffi_call!({
        let init = audio_init(&read_in_required(init, "init")?)?;
        let out = out!(out, "out");
        let data = bytes!(data, data_len, "data");
        *out = new_wrapped_handle(|| wrap(data, release, user_data, |n| init.validate(n).map(FrameMeta::Audio)))?;
        Ok(())
    })
}

/// A new handle to the same media (a refcount increment, no copy), with the same sequence
/// and discarded_before numbers.
///
/// Ownership: `frame` borrowed; on MST_OK the caller owns `*out` and releases it with
/// mst_frame_free(), independently of `frame`.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`frame` or `out` is NULL), MST_ERR_INVALID_ARG (not a frame
/// handle), MST_ERR_INVALID_STATE (`frame` is closed or freed), MST_ERR_NO_MEMORY (no handle
/// left).
/// Spec: WebCodecs VideoFrame.clone() / AudioData.clone().
#[no_mangle]
pub extern "C" fn mst_frame_clone(frame: *const MstFrame, out: *mut *mut MstFrame) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        let (f, read) = get_entry(frame)?;
        *out = new_handle(f, read)?;
        Ok(())
    })
}

/// Closes the frame: this handle's reference to the media goes (the media returns to its
/// pool, or wrapped memory is released, when no handle or track holds it any more). The
/// handle stays valid and closed: info, plane and copy calls on it return
/// MST_ERR_INVALID_STATE, and pointers from mst_frame_get_*_plane() on it are no longer
/// valid. Closing a closed frame does nothing.
///
/// Ownership: the handle stays the caller's; release it with mst_frame_free().
/// Thread safety: any thread; not concurrently with calls that read this handle's planes.
/// Blocking: no (a wrapped frame's release callback may run on this thread).
/// Errors: MST_ERR_NULL_ARG (`frame` is NULL), MST_ERR_INVALID_ARG (not a frame handle),
/// MST_ERR_INVALID_STATE (freed).
/// Spec: WebCodecs VideoFrame.close() / AudioData.close().
#[no_mangle]
pub extern "C" fn mst_frame_close(frame: *mut MstFrame) -> MstStatus {
    ffi_call!({
        drop(close(frame)?);
        Ok(())
    })
}

/// Releases the handle, closing it first (as mst_frame_close()) if it is open. NULL is
/// MST_OK.
///
/// Ownership: releases `frame`; it must not be used again.
/// Thread safety: any thread; not concurrently with other calls on this handle.
/// Blocking: no (a wrapped frame's release callback may run on this thread).
/// Errors: MST_ERR_INVALID_ARG (not a frame handle), MST_ERR_INVALID_STATE (already freed).
/// Spec: libmst extension (releases the C handle).
#[no_mangle]
pub extern "C" fn mst_frame_free(frame: *mut MstFrame) -> MstStatus {
    ffi_call!({ FRAMES.free(frame) })
}

/// The frame's kind: MST_KIND_VIDEO (VideoFrame) or MST_KIND_AUDIO (AudioData).
///
/// Ownership: `frame` borrowed; `*out` written on MST_OK only.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`frame` or `out` is NULL), MST_ERR_INVALID_ARG (not a frame
/// handle), MST_ERR_INVALID_STATE (closed or freed).
/// Spec: libmst extension (the C handle stands for either interface).
#[no_mangle]
pub extern "C" fn mst_frame_get_kind(frame: *const MstFrame, out: *mut MstKind) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        *out = MstKind::from_kind(get(frame)?.kind());
        Ok(())
    })
}

/// A VideoFrame's attributes.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MstVideoFrameInfo {
    /// sizeof(MstVideoFrameInfo) as the caller knows it (MST_STRUCT_INIT).
    pub struct_size: u32,
    pub format: MstVideoPixelFormat,
    pub coded_width: u32,
    pub coded_height: u32,
    pub visible_rect: MstRect,
    pub display_width: u32,
    pub display_height: u32,
    /// Microseconds.
    pub timestamp: i64,
    /// Microseconds; 0 = none.
    pub duration: i64,
    pub num_planes: u32,
    /// The processor's sequence number (1, 2, ...; gaps are discarded frames); 0 for frames
    /// that did not come from mst_processor_read().
    pub sequence: u64,
    /// The capture device's sequence number (V4L2's: 0, 1, ...; gaps are frames lost before
    /// libmst got them); -1 for frames not captured from a camera.
    pub capture_sequence: i64,
    /// How many frames the processor discarded, for any reason (see MstProcessorStats),
    /// between the frame it returned before this one and this one: the frames its reader
    /// missed just before this one. Exact with one reader, or readers blocked in line; readers
    /// that read without waiting at the same moment may see a frame counted in a neighbour's
    /// number. 0 for frames that did not come from mst_processor_read().
    pub discarded_before: u64,
    /// When libmst took the frame from its camera: CLOCK_MONOTONIC microseconds as the
    /// capture thread's VIDIOC_DQBUF returned (`timestamp` is the driver's capture time, which
    /// a driver may set ahead of that), so clock_gettime(CLOCK_MONOTONIC) now minus this is how
    /// long the frame has been in libmst. Kept by crops, scales and a disabled track's black
    /// frames; -1 for frames not captured from a V4L2 camera (a fake camera's included).
    /// Since 1.3: callers built against an older mst.h do not get it, and a libmst older than
    /// 1.3 leaves it as the caller set it (0 after MST_STRUCT_INIT), never -1.
    pub received: i64,
}

/// Reads a video frame's attributes.
///
/// Ownership: `frame` borrowed; `*out` written on MST_OK only, up to `out->struct_size`.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`frame` or `out` is NULL), MST_ERR_INVALID_ARG (not a frame
/// handle, or `out->struct_size` below the 1.0 size), MST_ERR_INVALID_STATE (closed or
/// freed), MST_ERR_TYPE (an audio frame).
/// Spec: WebCodecs VideoFrame's format, codedWidth, codedHeight, visibleRect, displayWidth,
/// displayHeight, timestamp and duration attributes.
#[no_mangle]
pub extern "C" fn mst_frame_get_video_info(frame: *const MstFrame, out: *mut MstVideoFrameInfo) -> MstStatus {
    ffi_call!({
        let out = OutStruct::new(out, "out")?;
        let (f, read) = get_entry(frame)?;
        let v = f.video().ok_or_else(|| err!(Type, "this frame is AudioData, not a VideoFrame"))?;
        out.write(MstVideoFrameInfo {
            struct_size: 0,
            format: video_format_out(v.format),
            coded_width: v.coded_width,
            coded_height: v.coded_height,
            visible_rect: v.visible_rect.into(),
            display_width: v.display_width,
            display_height: v.display_height,
            timestamp: v.timestamp,
            duration: v.duration.unwrap_or(0),
            num_planes: v.format.planes().len() as u32,
            sequence: read.sequence,
            capture_sequence: v.capture_sequence.map_or(-1, |s| s as i64),
            discarded_before: read.discarded_before,
            received: v.received.unwrap_or(-1),
        });
        Ok(())
    })
}

/// An AudioData's attributes.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MstAudioDataInfo {
    /// sizeof(MstAudioDataInfo) as the caller knows it (MST_STRUCT_INIT).
    pub struct_size: u32,
    pub format: MstAudioSampleFormat,
    pub sample_rate: f32,
    pub number_of_frames: u32,
    pub number_of_channels: u32,
    /// Microseconds.
    pub timestamp: i64,
    /// Microseconds, derived from frames and rate.
    pub duration: i64,
    /// As in MstVideoFrameInfo.
    pub sequence: u64,
    /// As in MstVideoFrameInfo.
    pub discarded_before: u64,
}

/// Reads an audio buffer's attributes.
///
/// Ownership: `frame` borrowed; `*out` written on MST_OK only, up to `out->struct_size`.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: as mst_frame_get_video_info(), MST_ERR_TYPE being a video frame.
/// Spec: WebCodecs AudioData's format, sampleRate, numberOfFrames, numberOfChannels,
/// timestamp and duration attributes.
#[no_mangle]
pub extern "C" fn mst_frame_get_audio_info(frame: *const MstFrame, out: *mut MstAudioDataInfo) -> MstStatus {
    ffi_call!({
        let out = OutStruct::new(out, "out")?;
        let (f, read) = get_entry(frame)?;
        let a = f.audio().ok_or_else(|| err!(Type, "this frame is a VideoFrame, not AudioData"))?;
        out.write(MstAudioDataInfo {
            struct_size: 0,
            format: audio_format_out(a.format),
            sample_rate: a.sample_rate,
            number_of_frames: a.number_of_frames,
            number_of_channels: a.number_of_channels,
            timestamp: a.timestamp,
            duration: a.duration(),
            sequence: read.sequence,
            discarded_before: read.discarded_before,
        });
        Ok(())
    })
}

/// Zero-copy read access to video plane `plane`: `*out_data` points at its first coded sample
/// (offset by the visible rect is the caller's job), `*out_stride` is its row pitch and
/// `*out_len` the bytes readable from `*out_data`.
///
/// Ownership: the pointer is borrowed from this handle and valid until mst_frame_close() or
/// mst_frame_free() of it; never write through it. The outs are written on MST_OK only.
/// Thread safety: any thread.
/// Blocking: the first read of a frame that a track scaled or that holds MJPEG does that
/// pixel work on this thread (once for every reader); otherwise no.
/// Errors: MST_ERR_NULL_ARG (`frame` or an out pointer is NULL), MST_ERR_INVALID_ARG (not a
/// frame handle), MST_ERR_INVALID_STATE (closed or freed), MST_ERR_TYPE (an audio frame),
/// MST_ERR_RANGE (no such plane).
/// Spec: libmst extension (zero-copy access to what WebCodecs' copyTo() would copy).
#[no_mangle]
pub extern "C" fn mst_frame_get_video_plane(
    frame: *const MstFrame,
    plane: u32,
    out_data: *mut *const u8,
    out_stride: *mut usize,
    out_len: *mut usize,
) -> MstStatus {
    ffi_call!({
        let (d, s, l) = (out!(out_data, "out_data"), out!(out_stride, "out_stride"), out!(out_len, "out_len"));
        let f = get(frame)?;
        let v = f.video().ok_or_else(|| err!(Type, "this frame is AudioData, not a VideoFrame"))?;
        let (bytes, stride) = f.plane(plane as usize).ok_or_else(|| {
            err!(Range, "plane {plane} does not exist: {} has {}", v.format.name(), v.format.planes().len())
        })?;
        // The handle keeps `f`'s storage alive after this local clone drops.
        *d = bytes.as_ptr();
        *s = stride;
        *l = bytes.len();
        Ok(())
    })
}

/// Zero-copy read access to AudioData plane `plane`: for interleaved formats plane 0 holds
/// every channel interleaved; for planar formats plane i is channel i. `*out_len` is the
/// plane's size in bytes (frames x channels-in-plane x sample size).
///
/// Ownership: as mst_frame_get_video_plane().
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`frame` or an out pointer is NULL), MST_ERR_INVALID_ARG (not a
/// frame handle), MST_ERR_INVALID_STATE (closed or freed), MST_ERR_TYPE (a video frame),
/// MST_ERR_RANGE (no such plane).
/// Spec: libmst extension (zero-copy access to what WebCodecs' copyTo() would copy).
#[no_mangle]
pub extern "C" fn mst_frame_get_audio_plane(
    frame: *const MstFrame,
    plane: u32,
    out_data: *mut *const u8,
    out_len: *mut usize,
) -> MstStatus {
    ffi_call!({
        let (d, l) = (out!(out_data, "out_data"), out!(out_len, "out_len"));
        let f = get(frame)?;
        let a = f.audio().ok_or_else(|| err!(Type, "this frame is a VideoFrame, not AudioData"))?;
        let planes = if a.format.is_planar() { a.number_of_channels } else { 1 };
        if plane >= planes {
            return Err(err!(
                Range,
                "plane {plane} does not exist: {} with {} channels has {planes}",
                a.format.name(),
                a.number_of_channels
            ));
        }
        let size = a.number_of_frames as usize * a.format.bytes_per_sample() * (a.number_of_channels / planes) as usize;
        let bytes = &f.data()[plane as usize * size..][..size];
        *d = bytes.as_ptr();
        *l = size;
        Ok(())
    })
}

/// WebCodecs' VideoFrameCopyToOptions. All zero but struct_size = the visible rect, packed,
/// same format.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MstVideoCopyOptions {
    /// sizeof(MstVideoCopyOptions) as the caller knows it (MST_STRUCT_INIT).
    pub struct_size: u32,
    /// Width 0 = the visible rect.
    pub rect: MstRect,
    /// Entries of `layout` in use; 0 = packed.
    pub num_planes: u32,
    pub layout: [MstPlaneLayout; 4],
    /// 0 = the frame's format; MST_VIDEO_PIXEL_FORMAT_RGBA/RGBX/BGRA/BGRX convert.
    pub format: i32,
}

fn video_copy_options(o: *const MstVideoCopyOptions) -> Result<VideoCopyOptions> {
    let Some(o) = read_in(o, "options")? else { return Ok(VideoCopyOptions::default()) };
    if o.num_planes > 4 {
        return Err(err!(InvalidArg, "num_planes {} is more than 4", o.num_planes));
    }
    Ok(VideoCopyOptions {
        rect: (o.rect.width != 0).then(|| o.rect.into()),
        layout: (o.num_planes > 0).then(|| {
            o.layout[..o.num_planes as usize]
                .iter()
                .map(|l| PlaneLayout { offset: l.offset, stride: l.stride })
                .collect()
        }),
        format: if o.format == 0 { None } else { Some(video_format_in(o.format, "format")?) },
    })
}

/// The bytes mst_frame_video_copy_to() needs for `options` (NULL = defaults).
///
/// Ownership: everything borrowed for the call; `*out` written on MST_OK only.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`frame` or `out` is NULL), MST_ERR_INVALID_ARG (not a frame
/// handle; `options->struct_size` below the 1.0 size; a rect outside the coded size or
/// misaligned, a bad layout, an unknown format), MST_ERR_INVALID_STATE (closed or freed),
/// MST_ERR_TYPE (an audio frame), MST_ERR_UNSUPPORTED (a conversion target that is not RGB,
/// or nonzero bytes past the `options` this libmst knows).
/// Spec: WebCodecs VideoFrame.allocationSize(options).
#[no_mangle]
pub extern "C" fn mst_frame_video_allocation_size(
    frame: *const MstFrame,
    options: *const MstVideoCopyOptions,
    out: *mut usize,
) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        let opts = video_copy_options(options)?;
        *out = get(frame)?.video_allocation_size(&opts)?;
        Ok(())
    })
}

/// Copies (and with `options->format`, converts) the rect's pixels into `destination`.
/// `options` may be NULL (defaults); `out_layout` may be NULL, else it receives the planes
/// written. YUV converts to RGB with the frame's matrix and range
/// (mst_frame_get_color_space(): BT.601, BT.709 or BT.2020, limited or full; BT.709 and
/// limited where the colour space leaves them unknown).
///
/// Ownership: everything borrowed for the call; `*out_layout` written on MST_OK only, up to
/// `out_layout->struct_size`.
/// Thread safety: any thread.
/// Blocking: no longer than the copy (and a scaled or MJPEG frame's first pixel work).
/// Errors: as mst_frame_video_allocation_size() (`destination` NULL is MST_ERR_NULL_ARG,
/// `out_layout->struct_size` below the 1.0 size MST_ERR_INVALID_ARG), and
/// MST_ERR_INVALID_ARG when `destination_len` is below the allocation size (nothing is
/// written then) or above PTRDIFF_MAX.
/// Spec: WebCodecs VideoFrame.copyTo(destination, options).
#[no_mangle]
pub extern "C" fn mst_frame_video_copy_to(
    frame: *const MstFrame,
    destination: *mut u8,
    destination_len: usize,
    options: *const MstVideoCopyOptions,
    out_layout: *mut MstPlaneLayouts,
) -> MstStatus {
    ffi_call!({
        let out_layout = OutStruct::optional(out_layout, "out_layout")?;
        let opts = video_copy_options(options)?;
        let f = get(frame)?;
        let layout = f.video_copy_to(bytes_mut!(destination, destination_len, "destination"), &opts)?;
        if let Some(o) = out_layout {
            let mut planes = [MstPlaneLayout::default(); 4];
            for (d, l) in planes.iter_mut().zip(&layout) {
                *d = MstPlaneLayout { offset: l.offset, stride: l.stride };
            }
            o.write(MstPlaneLayouts { struct_size: 0, count: layout.len() as u32, planes });
        }
        Ok(())
    })
}

/// WebCodecs' AudioDataCopyToOptions. All zero but struct_size = plane 0, everything, same
/// format.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MstAudioCopyOptions {
    /// sizeof(MstAudioCopyOptions) as the caller knows it (MST_STRUCT_INIT).
    pub struct_size: u32,
    pub plane_index: u32,
    pub frame_offset: u32,
    /// 0 = to the end.
    pub frame_count: u32,
    /// 0 = the data's format; any MstAudioSampleFormat converts.
    pub format: i32,
}

fn audio_copy_options(o: *const MstAudioCopyOptions) -> Result<AudioCopyOptions> {
    let Some(o) = read_in(o, "options")? else { return Ok(AudioCopyOptions::default()) };
    Ok(AudioCopyOptions {
        plane_index: o.plane_index,
        frame_offset: o.frame_offset,
        frame_count: (o.frame_count != 0).then_some(o.frame_count),
        format: if o.format == 0 { None } else { Some(audio_format_in(o.format, "format")?) },
    })
}

/// The bytes mst_frame_audio_copy_to() needs for `options` (NULL = plane 0, all frames).
///
/// Ownership: everything borrowed for the call; `*out` written on MST_OK only.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`frame` or `out` is NULL), MST_ERR_INVALID_ARG (not a frame
/// handle; `options->struct_size` below the 1.0 size; an unknown format),
/// MST_ERR_INVALID_STATE (closed or freed), MST_ERR_TYPE (a video frame), MST_ERR_RANGE
/// (plane index, frame offset or count out of range), MST_ERR_UNSUPPORTED (nonzero bytes
/// past the `options` this libmst knows).
/// Spec: WebCodecs AudioData.allocationSize(options).
#[no_mangle]
pub extern "C" fn mst_frame_audio_allocation_size(
    frame: *const MstFrame,
    options: *const MstAudioCopyOptions,
    out: *mut usize,
) -> MstStatus {
    ffi_call!({
        let out = out!(out, "out");
        let opts = audio_copy_options(options)?;
        *out = get(frame)?.audio_allocation_size(&opts)?;
        Ok(())
    })
}

/// Copies the selected samples into `destination`, converting to any of the 8 sample
/// formats.
///
/// Ownership: everything borrowed for the call.
/// Thread safety: any thread.
/// Blocking: no longer than the copy.
/// Errors: as mst_frame_audio_allocation_size() (`destination` NULL is MST_ERR_NULL_ARG),
/// MST_ERR_RANGE when `destination_len` is below the allocation size, and
/// MST_ERR_INVALID_ARG when it is above PTRDIFF_MAX.
/// Spec: WebCodecs AudioData.copyTo(destination, options).
#[no_mangle]
pub extern "C" fn mst_frame_audio_copy_to(
    frame: *const MstFrame,
    destination: *mut u8,
    destination_len: usize,
    options: *const MstAudioCopyOptions,
) -> MstStatus {
    ffi_call!({
        let opts = audio_copy_options(options)?;
        let f = get(frame)?;
        f.audio_copy_to(bytes_mut!(destination, destination_len, "destination"), &opts)?;
        Ok(())
    })
}

sized_struct!(
    out MstPlaneLayouts = 72,
    in MstVideoFrameInit = 128,
    in MstAudioDataInit = 32,
    out MstVideoFrameInfo = 88,
    out MstAudioDataInfo = 56,
    in MstVideoCopyOptions = 96,
    in MstAudioCopyOptions = 20,
    out MstVideoColorSpace = 20 since "1.2",
);

symver!(
    mst_frame_create_video,
    mst_frame_wrap_video,
    mst_frame_create_audio,
    mst_frame_wrap_audio,
    mst_frame_clone,
    mst_frame_close,
    mst_frame_free,
    mst_frame_get_kind,
    mst_frame_get_video_info,
    mst_frame_get_audio_info,
    mst_frame_get_video_plane,
    mst_frame_get_audio_plane,
    mst_frame_video_allocation_size,
    mst_frame_video_copy_to,
    mst_frame_audio_allocation_size,
    mst_frame_audio_copy_to
);

symver!(version "MST_1.2": mst_frame_get_color_space);
symver!(version "MST_1.3": mst_frame_get_dmabuf, mst_frame_get_dmabuf_plane);
