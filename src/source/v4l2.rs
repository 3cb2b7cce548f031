//! The V4L2 camera source: a capture node opened by device id, a native mode (pixel format,
//! frame size, frame interval) chosen from the device's enumeration by SelectSettings
//! (`crate::constraints::select_settings`), mmap streaming, and video frames delivered from a
//! capture thread.
//!
//! What the native mode does not meet (a smaller size, another aspect ratio, a lower rate) the
//! track's own crop-and-scale and decimation serve: the source's capabilities are its one
//! native mode (`Capabilities::fixed_video`) and the constraints are applied to the new track.
//!
//! Every ioctl goes through the one V4L2 layer (`crate::v4l2`): the format is set, the buffers
//! are mapped, queued and streaming started before `camera` returns (its errors are the
//! open's), then the capture thread owns the stream. It waits in poll() on the node and a stop
//! eventfd, so `stop` is honoured within one frame, the first one included.
//!
//! Zero-copy: a format a frame carries as it is (NV12 and NM12 as NV12, YU12 and YM12 as I420,
//! XR24 / AR24 / XB24 / AB24 as BGRX / BGRA / RGBX / RGBA) is delivered over the driver's mmap'd
//! buffer (NM12's and YM12's buffer planes are mapped back to back into one reserved range, so
//! a frame is the span over them, each plane where it lies; such a frame has no DMA-BUF, its
//! planes being separate ones; GREY is I420 whose luma is the buffer and whose chroma is one
//! sealed memfd of 128s mapped read-only right after every buffer, so nothing is written per
//! frame and nothing can write it), which goes back
//! to the driver (VIDIOC_QBUF, on the thread that closes it) when the last frame over it
//! closes; nothing is copied ([`CameraStats::zero_copy`]). Such a camera asks for 8 buffers and
//! lends all but 2 at most ([`ZERO_COPY_BUDGET`]), so capture never stalls: while consumers
//! hold the whole budget, frames are copied into pooled frames instead
//! ([`CameraStats::over_budget`]). The buffers stay mapped, and the node open, until the last
//! lent frame closes (streaming stops at once when the track ends). [`CameraStats::held`]
//! counts the frames open over its buffers; when capture ends with some still open, a warning
//! through the log (`crate::log`) says how many, and who holds its open frames from the
//! source's ledger (`crate::frame::ledger`: per processor or sink). A buffer the driver
//! refuses to take back (VIDIOC_QBUF failing while the node is there) is out of the ring
//! ([`CameraStats::lost_buffers`], logged) until a retry takes it back (the oldest such buffer,
//! once per patience): it comes out of the budget first, so the driver keeps its reserve, and
//! the track ends (`EndReason::Error`, logged) rather than waiting for
//! frames that cannot come: when no buffer is left, or when the driver had none for a whole
//! wait (the 3-frame, at least 500 ms, patience) because frames still open hold all the
//! others. Every other format
//! (YUYV, UYVY, RGB24, MJPEG) is copied, converted or decoded ([`Converter`]) into
//! a pooled frame and queued back at once (4 buffers). A node that goes away (ENODEV, EINVAL
//! or EIO while streaming, POLLERR) ends every track with `EndReason::DeviceLost`; the stream's
//! Drop (STREAMOFF, unmap, REQBUFS 0) never panics, whatever the node answers.
//!
//! Single- and multi-planar capture nodes alike: on a multi-planar one a format that keeps its
//! planes in one buffer (NV12, YU12, YUYV...) is used as on a single-planar node, and NM12 /
//! YM12 ([`CameraFormat::Nv12m`], [`CameraFormat::Yu12m`]) bring each plane in its own buffer
//! plane with its own stride.
//!
//! Colour: frames carry the colour space the driver reports for the negotiated format
//! ([`V4l2Colorimetry`], V4L2's defaults applied).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::constraints::{
    aspect_setting, overconstrained, select_settings, Capabilities, ConstrainRange, Property, ResizeMode, Settings,
    VideoConstraints,
};
use crate::convert::{copy_plane, packed422_to_i420, rgb24_to_rgbx, Packed422};
use crate::device::DeviceKind;
use crate::error::{err, Result};
use crate::frame::pool::SpareBoxes;
use crate::frame::{
    ChromaSiting, ColorPrimaries, ExternalMemory, Frame, FrameMeta, Kind, MatrixCoefficients, PlaneLayout,
    TransferCharacteristics, VideoColorSpace, VideoFrameInit, VideoMeta, VideoPixelFormat,
};
use crate::source::reacquire::Reopen;
use crate::source::worker::{monotonic_us, spawn_producer, StopSignal};
use crate::source::SourceCore;
use crate::track::{EndReason, Track};
use crate::v4l2::{BufType, Device, Format, FrameIntervals, FrameSizes, Ready, Stream};

/// The V4L2 pixel formats the camera source can deliver, in the order it prefers them on equal
/// fitness: 4:2:0 YUV first (what encoders and browsers want), then packed 4:2:2, then RGB, then
/// MJPEG (it costs a decode, and is offered only when libturbojpeg loads).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CameraFormat {
    /// NV12: delivered as NV12.
    Nv12,
    /// NM12 (V4L2_PIX_FMT_NV12M: NV12 with Y and UV in two buffer planes, multi-planar nodes
    /// only): delivered as NV12.
    Nv12m,
    /// YU12 (planar Y, U, V 4:2:0): delivered as I420.
    Yu12,
    /// YM12 (V4L2_PIX_FMT_YUV420M: Y, U and V in three buffer planes, multi-planar nodes only):
    /// delivered as I420.
    Yu12m,
    /// YUYV (packed 4:2:2): converted to I420.
    Yuyv,
    /// UYVY (packed 4:2:2): converted to I420.
    Uyvy,
    /// XR24 (V4L2_PIX_FMT_XBGR32: bytes B, G, R, X): delivered as BGRX.
    Bgrx,
    /// AR24 (V4L2_PIX_FMT_ABGR32: bytes B, G, R, A): delivered as BGRA.
    Bgra,
    /// XB24 (V4L2_PIX_FMT_RGBX32: bytes R, G, B, X): delivered as RGBX.
    Rgbx,
    /// AB24 (V4L2_PIX_FMT_RGBA32: bytes R, G, B, A): delivered as RGBA.
    Rgba,
    /// RGB3 (V4L2_PIX_FMT_RGB24: bytes R, G, B): expanded to RGBX.
    Rgb24,
    /// BGR3 (V4L2_PIX_FMT_BGR24: bytes B, G, R): expanded to BGRX.
    Bgr24,
    /// MJPG (Motion-JPEG): decoded to I420 by libjpeg-turbo ([`crate::convert::jpeg`]).
    Mjpeg,
    /// GREY (V4L2_PIX_FMT_GREY: 8-bit luma only, e.g. infrared and monochrome cameras):
    /// delivered as I420 with neutral chroma (128), WebCodecs having no grey format. Last in
    /// preference: chosen only when it fits the constraints better, or is asked for.
    Grey,
}

impl CameraFormat {
    pub const PREFERENCE: [CameraFormat; 14] = [
        CameraFormat::Nv12,
        CameraFormat::Nv12m,
        CameraFormat::Yu12,
        CameraFormat::Yu12m,
        CameraFormat::Yuyv,
        CameraFormat::Uyvy,
        CameraFormat::Bgrx,
        CameraFormat::Bgra,
        CameraFormat::Rgbx,
        CameraFormat::Rgba,
        CameraFormat::Rgb24,
        CameraFormat::Bgr24,
        CameraFormat::Mjpeg,
        CameraFormat::Grey,
    ];

    pub fn fourcc(self) -> [u8; 4] {
        match self {
            CameraFormat::Nv12 => *b"NV12",
            CameraFormat::Nv12m => *b"NM12",
            CameraFormat::Yu12 => *b"YU12",
            CameraFormat::Yu12m => *b"YM12",
            CameraFormat::Yuyv => *b"YUYV",
            CameraFormat::Uyvy => *b"UYVY",
            CameraFormat::Bgrx => *b"XR24",
            CameraFormat::Bgra => *b"AR24",
            CameraFormat::Rgbx => *b"XB24",
            CameraFormat::Rgba => *b"AB24",
            CameraFormat::Rgb24 => *b"RGB3",
            CameraFormat::Bgr24 => *b"BGR3",
            CameraFormat::Mjpeg => *b"MJPG",
            CameraFormat::Grey => *b"GREY",
        }
    }

    /// The format whose V4L2 fourcc is `fourcc` (as four bytes, e.g. `*b"YUYV"`); "JPEG", which
    /// some cameras use for the same stream, is MJPEG.
    pub fn from_fourcc_bytes(fourcc: [u8; 4]) -> Option<CameraFormat> {
        if fourcc == *b"JPEG" {
            return Some(CameraFormat::Mjpeg);
        }
        CameraFormat::PREFERENCE.into_iter().find(|c| c.fourcc() == fourcc)
    }

    /// The WebCodecs format frames are delivered in.
    pub fn delivered(self) -> VideoPixelFormat {
        match self {
            CameraFormat::Nv12 | CameraFormat::Nv12m => VideoPixelFormat::Nv12,
            CameraFormat::Bgrx | CameraFormat::Bgr24 => VideoPixelFormat::Bgrx,
            CameraFormat::Bgra => VideoPixelFormat::Bgra,
            CameraFormat::Rgbx | CameraFormat::Rgb24 => VideoPixelFormat::Rgbx,
            CameraFormat::Rgba => VideoPixelFormat::Rgba,
            CameraFormat::Yu12
            | CameraFormat::Yu12m
            | CameraFormat::Yuyv
            | CameraFormat::Uyvy
            | CameraFormat::Mjpeg
            | CameraFormat::Grey => VideoPixelFormat::I420,
        }
    }

    /// Bytes in one row of the first plane at `width` (the least stride).
    pub(crate) fn row_bytes(self, width: usize) -> usize {
        match self {
            CameraFormat::Yuyv | CameraFormat::Uyvy => Packed422::row_bytes(width),
            CameraFormat::Bgrx | CameraFormat::Bgra | CameraFormat::Rgbx | CameraFormat::Rgba => 4 * width,
            CameraFormat::Rgb24 | CameraFormat::Bgr24 => 3 * width,
            CameraFormat::Nv12
            | CameraFormat::Nv12m
            | CameraFormat::Yu12
            | CameraFormat::Yu12m
            | CameraFormat::Mjpeg
            | CameraFormat::Grey => width,
        }
    }

    /// Whether a frame can be the driver's buffer as it is (zero-copy capture).
    pub(crate) fn lendable(self) -> bool {
        matches!(
            self,
            CameraFormat::Nv12
                | CameraFormat::Nv12m
                | CameraFormat::Yu12
                | CameraFormat::Yu12m
                | CameraFormat::Bgrx
                | CameraFormat::Bgra
                | CameraFormat::Rgbx
                | CameraFormat::Rgba
                | CameraFormat::Grey
        )
    }

    /// Buffer planes a frame of this format comes in (V4L2's num_planes).
    pub(crate) fn buffer_planes(self) -> usize {
        match self {
            CameraFormat::Nv12m => 2,
            CameraFormat::Yu12m => 3,
            _ => 1,
        }
    }

    /// Bytes one frame needs in a buffer whose rows (of the first plane) are `stride` apart
    /// (for MJPEG, the least a JPEG can be: SOI and EOI; for NM12 and YM12, the luma plane).
    fn bytes(self, stride: usize, width: usize, height: usize) -> usize {
        let (cw, ch) = (width.div_ceil(2), height.div_ceil(2));
        match self {
            CameraFormat::Nv12 => stride * height + stride.max(2 * cw) * (ch - 1) + 2 * cw,
            CameraFormat::Yu12 => stride * height + (stride / 2).max(cw) * (2 * ch - 1) + cw,
            CameraFormat::Mjpeg => 4,
            _ => stride * (height - 1) + self.row_bytes(width),
        }
    }
}

/// Options of [`camera`] beyond the constraints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CameraOptions {
    /// Only modes of this pixel format (an Unsupported error when the device has none); None: any, in [`CameraFormat::PREFERENCE`] order on equal fitness.
    pub format: Option<CameraFormat>,
}

/// One native mode of a camera.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CameraMode {
    pub format: CameraFormat,
    pub width: u32,
    pub height: u32,
    /// The frame interval, seconds: numerator / denominator.
    pub interval: (u32, u32),
}

impl CameraMode {
    pub fn frame_rate(&self) -> f64 {
        self.interval.1 as f64 / self.interval.0.max(1) as f64
    }
}

/// What a camera source has done, for [`camera_stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CameraStats {
    /// Frames delivered.
    pub frames: u64,
    /// The V4L2 sequence number of the last frame delivered.
    pub last_sequence: u32,
    /// Frames the driver counted but libmst never got (gaps in the sequence), plus buffers
    /// skipped because the driver flagged them as erroneous or short.
    pub dropped: u64,
    /// Frames whose sequence number was not greater than the previous one (0 on a sane driver).
    pub out_of_order: u64,
    /// Frames delivered over the driver's own buffer (zero-copy), of `frames`.
    pub zero_copy: u64,
    /// Frames of a zero-copy format that were copied instead because consumers held the
    /// camera's whole budget of driver buffers ([`ZERO_COPY_BUDGET`]); none is lost for it.
    pub over_budget: u64,
    /// Frames over driver buffers that are open now (held by consumers: processors' queues,
    /// readers, sinks), this source's ledger; the log reports them when capture ends.
    pub held: u64,
    /// Driver buffers the driver refused back (VIDIOC_QBUF failed, the node still there), out
    /// of the capture ring now: each logged, and retried (the oldest, once per 3 frame periods,
    /// at least 500 ms) until the driver takes it. Frames are lent only while enough others
    /// remain; the track ends (Error) when none is left, or when the driver has none for that
    /// long because open frames hold the others.
    pub lost_buffers: u64,
}

/// Shared with the fake camera ([`crate::source::fake`]), so its stats are the same counters.
#[derive(Default)]
pub(crate) struct Counters {
    frames: AtomicU64,
    last_sequence: AtomicU64,
    dropped: AtomicU64,
    out_of_order: AtomicU64,
    zero_copy: AtomicU64,
    over_budget: AtomicU64,
    held: AtomicU64,
    lost_buffers: AtomicU64,
}

/// The capture counters of `track`'s source (summed over the sessions of a reacquired device,
/// the last sequence number the latest session's); None when it is not a camera.
pub fn camera_stats(track: &Track) -> Option<CameraStats> {
    let each = track.source().session_counters::<Counters>().into_iter().map(|c| CameraStats {
        frames: c.frames.load(Ordering::Relaxed),
        last_sequence: c.last_sequence.load(Ordering::Relaxed) as u32,
        dropped: c.dropped.load(Ordering::Relaxed),
        out_of_order: c.out_of_order.load(Ordering::Relaxed),
        zero_copy: c.zero_copy.load(Ordering::Relaxed),
        over_budget: c.over_budget.load(Ordering::Relaxed),
        held: c.held.load(Ordering::Relaxed),
        lost_buffers: c.lost_buffers.load(Ordering::Relaxed),
    });
    each.reduce(|a, b| CameraStats {
        frames: a.frames + b.frames,
        last_sequence: b.last_sequence,
        dropped: a.dropped + b.dropped,
        out_of_order: a.out_of_order + b.out_of_order,
        zero_copy: a.zero_copy + b.zero_copy,
        over_budget: a.over_budget + b.over_budget,
        // A lost session's lent frames may still be open: they are held all the same.
        held: a.held + b.held,
        lost_buffers: a.lost_buffers + b.lost_buffers,
    })
}

/// The best of `modes` by SelectSettings (earlier modes win ties), or Overconstrained naming
/// the property no mode can serve. With crop-and-scale (the default when sizes or rates are
/// constrained) a mode serves what the track can make of it by cropping, scaling down and
/// decimating (its `Capabilities::fixed_video`); with resizeMode "none", its native values.
pub fn choose(modes: &[CameraMode], c: &VideoConstraints, device: &str) -> Result<CameraMode> {
    let resize = c.effective_resize_mode();
    let caps = |m: &CameraMode| Capabilities::fixed_video(m.width, m.height, m.frame_rate());
    select_settings(modes, &c.set(), |m, p| caps(m).offer(p, resize)).map(|i| modes[i]).map_err(|failed| {
        let (p, r) = c.set().into_iter().find(|(p, _)| Some(*p) == failed).unwrap_or(c.set()[0]);
        let offered: Vec<String> =
            modes.iter().take(12).map(|m| format!("{}x{}@{:.3}", m.width, m.height, m.frame_rate())).collect();
        let more = if modes.len() > 12 { ", ..." } else { "" };
        overconstrained(p, &r, &format!("V4L2 device \"{device}\""), &format!("the modes {}{more}", offered.join(", ")))
    })
}

/// A value of a stepwise range near `target`.
fn snap(target: f64, min: u32, max: u32, step: u32) -> u32 {
    let t = target.round().clamp(min as f64, max as f64) as u32;
    let step = step.max(1);
    min + (t - min) / step * step
}

/// The modes of `dev`'s queue `t` libmst can deliver, in preference order of format.
fn modes(
    dev: &Device,
    t: BufType,
    c: &VideoConstraints,
    only: Option<CameraFormat>,
) -> std::io::Result<Vec<CameraMode>> {
    let offered: Vec<CameraFormat> =
        dev.enum_formats(t)?.into_iter().filter_map(CameraFormat::from_fourcc_bytes).collect();
    let target = |r: &ConstrainRange, p: Property| r.aim(p.default_value().unwrap_or_default());
    let mut list = Vec::new();
    let usable = |f: &CameraFormat| *f != CameraFormat::Mjpeg || crate::convert::jpeg::available();
    for f in CameraFormat::PREFERENCE
        .into_iter()
        .filter(|f| offered.contains(f) && only.is_none_or(|o| o == *f) && usable(f))
    {
        let fcc = f.fourcc();
        let mut sizes = Vec::new();
        for s in dev.enum_framesizes(fcc) {
            match s {
                FrameSizes::Discrete { width, height } => sizes.push((width, height)),
                FrameSizes::Stepwise { min, max, step } => {
                    let w = snap(target(&c.width, Property::Width), min.0, max.0, step.0);
                    let h = snap(target(&c.height, Property::Height), min.1, max.1, step.1);
                    for size in [(w, h), max, min] {
                        if !sizes.contains(&size) {
                            sizes.push(size);
                        }
                    }
                }
            }
        }
        if sizes.is_empty() {
            // No VIDIOC_ENUM_FRAMESIZES (e.g. an HDMI input, sized by its DV timings): the
            // current size is all we know.
            if let Ok(cur) = dev.g_fmt(t) {
                sizes.push((cur.width, cur.height));
            }
        }
        for (w, h) in sizes.into_iter().filter(|&(w, h)| w > 0 && h > 0) {
            let mut intervals = Vec::new();
            for i in dev.enum_frameintervals(fcc, w, h) {
                match i {
                    FrameIntervals::Discrete(fr) => intervals.push(fr),
                    FrameIntervals::Stepwise { min, max } => {
                        let fps = |fr: (u32, u32)| fr.1 as f64 / fr.0.max(1) as f64;
                        let (lo, hi) = (fps(max), fps(min));
                        let t = target(&c.frame_rate, Property::FrameRate).clamp(lo, hi);
                        for v in [t, hi, lo] {
                            let iv = (1000, (v * 1000.0).round().max(1.0) as u32);
                            if !intervals.contains(&iv) {
                                intervals.push(iv);
                            }
                        }
                    }
                }
            }
            if intervals.is_empty() {
                // No VIDIOC_ENUM_FRAMEINTERVALS: the current interval is all we know.
                intervals.push(dev.g_parm(t).unwrap_or((1, 30)));
            }
            for interval in intervals.into_iter().filter(|i| i.0 > 0 && i.1 > 0) {
                list.push(CameraMode { format: f, width: w, height: h, interval });
            }
        }
    }
    Ok(list)
}

/// The node `device_id` names, opened, the queue its capture goes through (single- or
/// multi-planar), and its path now. Errors: NoDevice, Busy, Io, Unsupported (not a streaming capture node).
fn open_capture(device_id: &str) -> Result<(Device, BufType, std::path::PathBuf)> {
    let path = crate::device::v4l2::path_of(device_id)?;
    let dev = Device::open(&path, format!("V4L2 device \"{device_id}\""))?;
    let caps = dev.querycap().map_err(|e| dev.error("VIDIOC_QUERYCAP", &e))?;
    let t = caps
        .capture_type()
        .ok_or_else(|| err!(Unsupported, "V4L2 device \"{device_id}\" is not a streaming capture node"))?;
    Ok((dev, t, path))
}

/// The native modes of the V4L2 capture node `device_id` (an id from device enumeration) that
/// libmst can deliver, in [`CameraFormat::PREFERENCE`] order; a stepwise or continuous range is
/// listed by its largest and smallest sizes and rates. For listings (`mst devices`): opening a
/// camera chooses among these itself.
/// Errors: NoDevice (no such camera), Io (it could not be opened or queried).
pub fn camera_modes(device_id: &str) -> Result<Vec<CameraMode>> {
    let listed = crate::device::v4l2::enumerate()?
        .into_iter()
        .any(|d| d.kind == DeviceKind::VideoInput && d.device_id == device_id);
    if !listed {
        return Err(err!(NoDevice, "no V4L2 camera {device_id:?}"));
    }
    let (dev, t, _) = open_capture(device_id)?;
    modes(&dev, t, &VideoConstraints::default(), None).map_err(|e| dev.error("listing formats", &e))
}

/// Opens the V4L2 capture node `device_id` (an id from device enumeration, e.g.
/// "v4l2:platform:vivid-000:0", or "default": the first video input) with `constraints`,
/// chooses and sets its native mode and starts capturing on a thread ("mst-v4l2-capture").
/// The track delivers frames in the WebCodecs format of the mode's ([`CameraFormat::delivered`]),
/// timestamped with the buffer's CLOCK_MONOTONIC capture time in microseconds and carrying the
/// V4L2 sequence number (`VideoMeta::capture_sequence`) and the time libmst dequeued it
/// (`VideoMeta::received`); its constraints are `constraints`
/// (crop-and-scale and decimation from the native mode).
///
/// Errors: NoDevice (unknown id, no camera), Busy, Overconstrained (naming width, height,
/// aspectRatio or frameRate), InvalidArg (NaN or infinite constraint values), Unsupported (not
/// a streaming capture node, no pixel format libmst handles, or MJPEG asked for without
/// libturbojpeg), Io.
pub fn camera(device_id: &str, constraints: &VideoConstraints, options: &CameraOptions) -> Result<Track> {
    let track = open_camera(device_id, constraints, options)?;
    let reopen = Reopen::Camera { device_id: device_id.into(), constraints: Box::new(*constraints), options: *options };
    crate::source::reacquire::remember(&track, reopen);
    Ok(track)
}

fn open_camera(device_id: &str, constraints: &VideoConstraints, options: &CameraOptions) -> Result<Track> {
    if device_id.starts_with(crate::source::fake::ID_PREFIX) {
        return crate::source::fake::camera(device_id, constraints, options);
    }
    constraints.validate(&format!("V4L2 device \"{device_id}\""))?;
    let list = crate::device::v4l2::enumerate()?;
    let info = if device_id == "default" {
        list.into_iter()
            .find(|d| d.kind == DeviceKind::VideoInput)
            .ok_or_else(|| err!(NoDevice, "no V4L2 camera (video capture node) is present"))?
    } else {
        list.into_iter()
            .find(|d| d.kind == DeviceKind::VideoInput && d.device_id == device_id)
            .ok_or_else(|| err!(NoDevice, "no V4L2 camera {device_id:?}"))?
    };
    let id = info.device_id.as_str();
    let (dev, t, path) = open_capture(id)?;
    if options.format == Some(CameraFormat::Mjpeg) {
        // Says what to install when the decoder is missing.
        crate::convert::jpeg::require()?;
    }
    let all = modes(&dev, t, constraints, options.format).map_err(|e| dev.error("enumerating formats", &e))?;
    if all.is_empty() {
        let which = options
            .format
            .map_or("NV12, NM12, YU12, YM12, YUYV, UYVY, RGB, GREY or (with libturbojpeg) MJPEG".to_string(), |f| {
                String::from_utf8_lossy(&f.fourcc()).into_owned()
            });
        return Err(err!(Unsupported, "V4L2 device \"{id}\" offers no {which} mode"));
    }
    let mode = choose(&all, constraints, id)?;

    let want = Format::new(mode.format.fourcc(), mode.width, mode.height);
    let got = dev.s_fmt(t, &want).map_err(|e| dev.error("VIDIOC_S_FMT", &e))?;
    if got.fourcc != want.fourcc
        || got.width != mode.width
        || got.height != mode.height
        || got.planes.len() != mode.format.buffer_planes()
    {
        return Err(err!(
            Io,
            "V4L2 device \"{id}\" set {}x{} {} when asked for {}x{} {}",
            got.width,
            got.height,
            String::from_utf8_lossy(&got.fourcc),
            mode.width,
            mode.height,
            String::from_utf8_lossy(&want.fourcc)
        ));
    }
    let stride = (got.planes[0].stride as usize).max(mode.format.row_bytes(mode.width as usize));
    let mut converter = Converter::new(mode.format, mode.width, mode.height, stride)?;
    let chroma: Vec<usize> = got.planes[1..].iter().map(|p| p.stride as usize).collect();
    converter.set_chroma_strides(&chroma)?;
    converter.set_lazy(true);
    let now = dev.g_fmt(t).map_err(|e| dev.error("VIDIOC_G_FMT", &e))?;
    converter.set_colorimetry(V4l2Colorimetry::of(&now));
    let interval = match dev.s_parm(t, mode.interval) {
        Ok(i) if i.0 > 0 && i.1 > 0 => i,
        _ => mode.interval,
    };
    let mode = CameraMode { interval, ..mode };

    // Buffers mapped and queued, streaming started: what fails here fails the open.
    let dev = Arc::new(dev);
    let count = if mode.format.lendable() { ZERO_COPY_BUFFERS } else { BUFFERS };
    // GREY: each buffer's luma is followed by the one neutral chroma, mapped read-only, so a
    // lent frame is a whole I420 frame.
    let mut stream = Stream::mmap_with_tail(&dev, t, count, converter.neutral_chroma_len(), NEUTRAL_CHROMA)?;
    let as_is = stream.plane_starts().and_then(|starts| {
        let (init, needed, plane_bytes) = converter.as_is(&starts)?;
        let meta = init.validate(needed).ok()?;
        let (color_space, chroma_siting) = converter.color;
        Some((VideoMeta { color_space, chroma_siting, ..meta }, needed, plane_bytes))
    });
    if as_is.is_some() {
        // Best effort: frames without a DMA-BUF are frames all the same.
        stream.export();
    }
    stream.queue_all().map_err(|e| dev.error("VIDIOC_QBUF", &e))?;
    stream.start().map_err(|e| dev.error("VIDIOC_STREAMON", &e))?;
    let budget = stream.count().saturating_sub(DRIVER_RESERVE);

    let (core, track, counters) = camera_source(info.label.clone(), &mode);
    // Camera controls (issue 15, point 5): on their own fd, so they do not depend on capture.
    core.set_controls(Arc::new(crate::v4l2::controls::Controls::open(&path, id)?));
    let lender = Arc::new(Lender {
        stream: std::sync::Mutex::new(stream),
        stopped: false.into(),
        lost: Default::default(),
        counters: counters.clone(),
    });
    let mut cap = Capture { dev, t, lender, as_is, budget, mode, buffers: Buffers::new(converter, counters) };
    spawn_producer(&core, "mst-v4l2-capture", move |core, stop| Ok(cap.run(core, stop)))?;
    if *constraints != VideoConstraints::default() {
        track.apply_constraints(constraints)?;
    }
    Ok(track)
}

/// The chroma of a grey picture in I420 (GREY capture).
const NEUTRAL_CHROMA: u8 = 128;

/// mmap buffers requested from the driver for a format that is converted (each buffer is
/// queued back as soon as its frame is made).
const BUFFERS: u32 = 4;
/// ... for a format delivered as it is (zero-copy: frames lend the buffers).
const ZERO_COPY_BUFFERS: u32 = 8;
/// Driver buffers never lent, so capture goes on however many frames consumers hold.
const DRIVER_RESERVE: usize = 2;
/// The driver buffers a camera lends to frames at most (of the 8 it asks for; the driver may
/// give fewer); beyond it, frames are copied ([`CameraStats::over_budget`]).
pub const ZERO_COPY_BUDGET: usize = ZERO_COPY_BUFFERS as usize - DRIVER_RESERVE;

/// A capture stream shared by the capture thread and the frames that lend its buffers: the
/// buffers stay mapped, and the node open, until the last of them is gone.
struct Lender {
    stream: std::sync::Mutex<Stream>,
    /// Set (under the stream's lock) once streaming stopped: returned buffers are not queued.
    stopped: std::sync::atomic::AtomicBool,
    /// The buffers the driver refused back, oldest first ([`Capture::retry_lost`]); locked
    /// only under the stream's lock.
    lost: std::sync::Mutex<Vec<u32>>,
    /// Its `held`: buffers lent to frames now.
    counters: Arc<Counters>,
}

impl Lender {
    fn lock(&self) -> std::sync::MutexGuard<'_, Stream> {
        self.stream.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A lent buffer's last frame closed: back to the driver while streaming.
    fn give_back(&self, index: u32) {
        let mut s = self.lock();
        self.counters.held.fetch_sub(1, Ordering::Relaxed);
        if !self.stopped.load(Ordering::Relaxed) {
            let refused = self.requeue(&mut s, index);
            drop(s);
            log_refusal(refused);
        }
    }

    /// Hands buffer `index` back to the driver (VIDIOC_QBUF). One the driver refuses while the
    /// node is there is out of the capture ring until a retry takes it ([`Capture::retry_lost`]):
    /// counted, and the capture thread lends fewer and ends the track when none is left
    /// ([`Lender::usable`]). A node that went away is the capture thread's to notice (DQBUF
    /// fails or poll reports it gone).
    ///
    /// Returns the refusal's message for [`log_refusal`], which the caller logs once it has
    /// dropped the stream's lock: the log receiver may close a frame lent by this camera, whose
    /// give_back takes that lock.
    #[must_use]
    fn requeue(&self, s: &mut Stream, index: u32) -> Option<String> {
        let Err(e) = s.queue(index, &[], 0) else { return None };
        // EINVAL and EIO are also what a refused buffer gets: ask the node whether it is there.
        if e.raw_os_error() == Some(libc::ENODEV) || !s.present() {
            return None;
        }
        self.lost.lock().unwrap_or_else(|p| p.into_inner()).push(index);
        let lost = self.counters.lost_buffers.fetch_add(1, Ordering::Relaxed) + 1;
        Some(format!(
            "{}: driver buffer {index} could not be queued back (VIDIOC_QBUF: {e}); it is out of the capture ring \
             until the driver takes it back (retried one buffer at a time): {lost} of {} buffers out",
            s.who(),
            s.count()
        ))
    }

    /// Driver buffers in the capture ring (not refused back).
    fn usable(&self, s: &Stream) -> usize {
        s.count().saturating_sub(self.counters.lost_buffers.load(Ordering::Relaxed) as usize)
    }

    /// STREAMOFF now (the driver gives every buffer back); lent buffers stay mapped until their
    /// frames close.
    fn stop(&self) {
        let mut s = self.lock();
        self.stopped.store(true, Ordering::Relaxed);
        s.stop();
    }
}

/// Logs what [`Lender::requeue`] returned, with no lock of the stream's held.
fn log_refusal(message: Option<String>) {
    if let Some(m) = message {
        crate::log::log(crate::log::Level::Warning, crate::log::Origin::Libmst, &m);
    }
}

/// One driver buffer a frame lends (its used bytes); queued back to the driver when the last
/// frame over it closes.
struct Lent {
    lender: Option<Arc<Lender>>,
    index: u32,
    ptr: *const u8,
    len: usize,
    /// The DMA-BUF of each buffer plane and where that plane starts in the bytes, owned by the
    /// lender's stream ([`NO_DMABUFS`]: none).
    dmabufs: Dmabufs,
}

/// (fd, start) per buffer plane; an entry (-1, start > 0) after them means no DMA-BUF holds
/// the bytes from `start` on (GREY's neutral chroma).
type Dmabufs = [(std::os::fd::RawFd, usize); 3];
const NO_DMABUFS: Dmabufs = [(-1, 0); 3];

/// The boxes are reused, so lending allocates nothing per frame once warm.
static SPARE_LENT: SpareBoxes<Lent> = SpareBoxes::new(64);

// SAFETY: the bytes are a mapping the Lender keeps alive (the Arc held here); the driver does
// not write a dequeued buffer, and nothing else does while it is lent: shared reads only.
unsafe impl Send for Lent {}
// SAFETY: as above.
unsafe impl Sync for Lent {}

impl Lent {
    fn new(lender: &Arc<Lender>, index: u32, data: &[u8], dmabufs: Dmabufs) -> Box<Lent> {
        lender.counters.held.fetch_add(1, Ordering::Relaxed);
        let (ptr, len) = (data.as_ptr(), data.len());
        match SPARE_LENT.take() {
            Some(mut b) => {
                (b.lender, b.index, b.ptr, b.len, b.dmabufs) = (Some(lender.clone()), index, ptr, len, dmabufs);
                b
            }
            None => Box::new(Lent { lender: Some(lender.clone()), index, ptr, len, dmabufs }),
        }
    }
}

impl ExternalMemory for Lent {
    fn bytes(&self) -> &[u8] {
        // SAFETY: see the Send impl: mapped for as long as `lender` is held, which it is until
        // recycle or drop.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    fn dmabuf(&self) -> Option<std::os::fd::RawFd> {
        // Open while the lender (its stream) is: held until recycle or drop. One fd only for
        // a buffer of one plane whose DMA-BUF holds all the bytes.
        let [(fd, _), next, _] = self.dmabufs;
        (fd >= 0 && next == (-1, 0)).then_some(fd)
    }

    fn dmabuf_at(&self, offset: usize) -> Option<(std::os::fd::RawFd, usize)> {
        let &(fd, start) =
            self.dmabufs.iter().take_while(|&&(fd, start)| (fd >= 0 || start > 0) && start <= offset).last()?;
        (fd >= 0).then(|| (fd, offset - start))
    }

    fn recycle(mut self: Box<Self>) {
        if let Some(l) = self.lender.take() {
            l.give_back(self.index);
        }
        (self.ptr, self.len, self.dmabufs) = (std::ptr::null(), 0, NO_DMABUFS);
        SPARE_LENT.give(self);
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        if let Some(l) = self.lender.take() {
            l.give_back(self.index);
        }
    }
}

/// A camera source in `mode`, labelled `label`, with one track on it and its counters
/// attached: what a camera track reports before its first frame.
pub(crate) fn camera_source(label: String, mode: &CameraMode) -> (Arc<SourceCore>, Track, Arc<Counters>) {
    let core =
        SourceCore::new(Kind::Video, label, Capabilities::fixed_video(mode.width, mode.height, mode.frame_rate()));
    core.set_initial_settings(Settings {
        width: Some(mode.width),
        height: Some(mode.height),
        frame_rate: Some(mode.frame_rate()),
        aspect_ratio: Some(aspect_setting(mode.width, mode.height)),
        resize_mode: Some(ResizeMode::None),
        ..Settings::default()
    });
    let track = Track::new(&core);
    let counters = Arc::new(Counters::default());
    core.set_counters(counters.clone());
    (core, track, counters)
}

struct Capture {
    dev: Arc<Device>,
    t: BufType,
    lender: Arc<Lender>,
    /// For a format delivered as it is, the frames' metadata, validated once against the bytes
    /// a buffer must hold (the second value: the span over its planes; the third: per buffer
    /// plane): per frame only its timestamp, duration and sequence change, so nothing is
    /// validated or allocated per frame.
    as_is: Option<(VideoMeta, usize, [usize; 3])>,
    /// Buffers that may be lent at once.
    budget: usize,
    mode: CameraMode,
    buffers: Buffers,
}

/// What a camera does with each buffer the driver hands over, whoever the driver is (V4L2, or
/// the fake camera): sequence gaps and reorders counted, erroneous and undecodable buffers
/// dropped and counted, timestamps made strictly increasing, the frame converted and delivered.
pub(crate) struct Buffers {
    converter: Converter,
    counters: Arc<Counters>,
    last_ts: i64,
    last_seq: Option<u32>,
    /// When the buffer being handled was dequeued (the frames' `received`); None for a driver
    /// that does not say (the fake camera).
    received: Option<i64>,
}

impl Buffers {
    pub(crate) fn new(converter: Converter, counters: Arc<Counters>) -> Buffers {
        Buffers { converter, counters, last_ts: i64::MIN, last_seq: None, received: None }
    }

    /// Buffers of another mode from now on (a driver whose format changed).
    pub(crate) fn set_converter(&mut self, converter: Converter) {
        self.converter = converter;
    }

    /// One single-plane buffer: [`buffer_planes`](Self::buffer_planes) with its used bytes.
    pub(crate) fn buffer(
        &mut self,
        core: &Weak<SourceCore>,
        data: &[u8],
        seq: u32,
        erroneous: bool,
        ts: i64,
        duration: i64,
    ) -> std::result::Result<(), Option<EndReason>> {
        self.buffer_planes(core, &[data], seq, erroneous, ts, duration)
    }

    /// One buffer: the used bytes of each of its planes, the driver's sequence number, whether
    /// the driver flagged it as erroneous, and its capture time. Delivers its frame to `core`'s
    /// tracks; Err(reason) when the source must end (None: the source is gone).
    pub(crate) fn buffer_planes(
        &mut self,
        core: &Weak<SourceCore>,
        planes: &[&[u8]],
        seq: u32,
        erroneous: bool,
        ts: i64,
        duration: i64,
    ) -> std::result::Result<(), Option<EndReason>> {
        let Some(ts) = self.begin(seq, erroneous, ts) else { return Ok(()) };
        let received = self.received;
        let frame = self
            .converter
            .frame_planes(planes, ts, Some(duration), Some(seq as u64))
            .map(|f| f.map(|f| if received.is_some() { f.with_meta(|v| v.received = received) } else { f }));
        self.deliver(core, frame, seq, ts)
    }

    /// The sequence accounting of one buffer; its timestamp made strictly increasing, or None
    /// when the driver flagged it as erroneous (counted as dropped).
    fn begin(&mut self, seq: u32, erroneous: bool, ts: i64) -> Option<i64> {
        if let Some(prev) = self.last_seq {
            if seq <= prev {
                self.counters.out_of_order.fetch_add(1, Ordering::Relaxed);
            } else {
                self.counters.dropped.fetch_add((seq - prev - 1) as u64, Ordering::Relaxed);
            }
        }
        self.last_seq = Some(seq);
        if erroneous {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        // Strictly increasing, whatever the driver does.
        Some(ts.max(self.last_ts.saturating_add(1)))
    }

    /// Delivers the frame made for the buffer `begin` accepted (None: it could not be made,
    /// counted as dropped).
    fn deliver(
        &mut self,
        core: &Weak<SourceCore>,
        frame: Result<Option<Frame>>,
        seq: u32,
        ts: i64,
    ) -> std::result::Result<(), Option<EndReason>> {
        let frame = match frame {
            Ok(Some(f)) => f,
            Ok(None) => {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
            Err(_) => return Err(Some(EndReason::Error)),
        };
        self.last_ts = ts;
        let core = core.upgrade().ok_or(None)?;
        self.counters.frames.fetch_add(1, Ordering::Relaxed);
        self.counters.last_sequence.store(seq as u64, Ordering::Relaxed);
        core.deliver(&frame);
        Ok(())
    }
}

/// How a camera ends when reading a buffer fails with `e`: the node went away, or an error.
pub(crate) fn read_failed(e: &std::io::Error) -> EndReason {
    if crate::v4l2::lost(e) {
        EndReason::DeviceLost
    } else {
        EndReason::Error
    }
}

/// The camera's conversion path: one V4L2 buffer of a mode in, one frame out (copied into a
/// pooled frame, converted, or decoded). Public so that tests can feed it buffers a virtual
/// driver cannot produce (MJPEG).
pub struct Converter {
    format: CameraFormat,
    width: u32,
    height: u32,
    /// Bytes between rows of the first plane, as the driver set it.
    stride: usize,
    /// Bytes between rows of the chroma buffer planes of NM12 (one) and YM12 (two).
    chroma_strides: [usize; 2],
    jpeg: Option<crate::convert::jpeg::Decoder>,
    /// MJPEG frames decode on first pixel access ([`Converter::set_lazy`]), by these decoders
    /// (held by the frames too, so freed with the last of them).
    lazy: Option<std::sync::Arc<crate::frame::JpegDecoders>>,
    /// What the frames' samples are ([`Converter::set_colorimetry`]).
    color: (VideoColorSpace, ChromaSiting),
}

impl Converter {
    /// A converter for `format` buffers of `width` x `height` whose first plane's rows are
    /// `stride` bytes apart (0: tightly packed). Errors: InvalidArg (a zero size, or a stride
    /// shorter than a row), Unsupported (MJPEG without libturbojpeg).
    pub fn new(format: CameraFormat, width: u32, height: u32, stride: usize) -> Result<Converter> {
        let row = format.row_bytes(width as usize);
        if width == 0 || height == 0 || (stride != 0 && stride < row) {
            return Err(err!(InvalidArg, "a {width}x{height} {format:?} buffer cannot have rows {stride} bytes apart"));
        }
        let jpeg = if format == CameraFormat::Mjpeg { Some(crate::convert::jpeg::Decoder::new()?) } else { None };
        let stride = if stride == 0 { row } else { stride };
        let cw = (width as usize).div_ceil(2);
        let chroma_strides = match format {
            CameraFormat::Nv12m => [stride.max(2 * cw), 0],
            _ => [(stride / 2).max(cw); 2],
        };
        Ok(Converter {
            format,
            width,
            height,
            stride,
            chroma_strides,
            jpeg,
            lazy: None,
            color: V4l2Colorimetry::default().frames(format),
        })
    }

    /// The strides of NM12's and YM12's chroma buffer planes, as the driver set them (until
    /// set: NM12's is the luma's, YM12's half of it). Errors: InvalidArg (one shorter than a
    /// chroma row).
    pub fn set_chroma_strides(&mut self, strides: &[usize]) -> Result<()> {
        let cw = (self.width as usize).div_ceil(2);
        let least = if self.format == CameraFormat::Nv12m { 2 * cw } else { cw };
        for (slot, &s) in self.chroma_strides.iter_mut().zip(strides) {
            if s < least {
                return Err(err!(
                    InvalidArg,
                    "{:?} chroma rows of {least} bytes cannot be {s} bytes apart",
                    self.format
                ));
            }
            *slot = s;
        }
        Ok(())
    }

    /// The colour the driver reports for the buffers (all defaults until set: for MJPEG,
    /// full-range BT.601; for camera YUV, BT.601 limited range, left-sited).
    pub fn set_colorimetry(&mut self, c: V4l2Colorimetry) {
        self.color = c.frames(self.format);
    }

    /// With `lazy`, an MJPEG buffer becomes a frame at the cost of checking its header and
    /// copying its bytes: the decode happens when a pixel is first read (on the reader's
    /// thread, once for all readers), and never for frames nobody looks at. Frames whose
    /// header is wrong or whose decode would fail as it starts (a table missing or refused)
    /// are dropped, as when decoding at once; one the decoder then gives up on under way is
    /// black, never stale pixels. Other formats are unaffected. Off by default; cameras turn
    /// it on.
    pub fn set_lazy(&mut self, lazy: bool) {
        self.lazy = lazy.then(Default::default);
    }

    /// The frame for one buffer (`data`: its used bytes), with `timestamp`, `duration` and
    /// `capture_sequence`; Ok(None) when the buffer is too short or cannot be decoded (the
    /// caller counts a dropped frame). A JPEG the decoder repaired (corrupt data) is delivered.
    /// NM12 and YM12 `data` holds the buffer planes one after the other, each rows × its
    /// stride. Errors: NoMemory.
    pub fn frame(
        &mut self,
        data: &[u8],
        timestamp: i64,
        duration: Option<i64>,
        capture_sequence: Option<u64>,
    ) -> Result<Option<Frame>> {
        let (luma, ch) = (self.stride * self.height as usize, (self.height as usize).div_ceil(2));
        match self.format {
            CameraFormat::Nv12m if data.len() > luma => {
                let (y, uv) = data.split_at(luma);
                self.frame_planes(&[y, uv], timestamp, duration, capture_sequence)
            }
            CameraFormat::Yu12m if data.len() > luma + self.chroma_strides[0] * ch => {
                let (y, uv) = data.split_at(luma);
                let (u, v) = uv.split_at(self.chroma_strides[0] * ch);
                self.frame_planes(&[y, u, v], timestamp, duration, capture_sequence)
            }
            CameraFormat::Nv12m | CameraFormat::Yu12m => Ok(None),
            _ => self.frame_planes(&[data], timestamp, duration, capture_sequence),
        }
    }

    /// As [`frame`](Self::frame), for a buffer of [`CameraFormat::buffer_planes`] planes
    /// (each its used bytes); Ok(None) for another number of planes or a plane too short.
    pub(crate) fn frame_planes(
        &mut self,
        planes: &[&[u8]],
        timestamp: i64,
        duration: Option<i64>,
        capture_sequence: Option<u64>,
    ) -> Result<Option<Frame>> {
        let (w, h) = (self.width as usize, self.height as usize);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        if planes.len() != self.format.buffer_planes() || planes[0].len() < self.format.bytes(self.stride, w, h) {
            return Ok(None);
        }
        let chroma_row = if self.format == CameraFormat::Nv12m { 2 * cw } else { cw };
        if planes[1..].iter().zip(self.chroma_strides).any(|(p, s)| p.len() < s * (ch - 1) + chroma_row) {
            return Ok(None);
        }
        let data = planes[0];
        if let (CameraFormat::Mjpeg, Some(decoders)) = (self.format, &self.lazy) {
            let Some(decoder) = self.jpeg.as_mut() else { return Ok(None) };
            if decoder.check(data, w, h).is_err() {
                return Ok(None);
            }
            // The frame takes the tables its stream gives it: it may be decoded by any of the
            // stream's decoders, in any order.
            // A frame sure to fail as its decode starts is dropped, as when decoding at once.
            let Some(tables) = decoder.stream_tables(data) else { return Ok(None) };
            let frame =
                Frame::video_from_jpeg_lazily(data, tables, decoders, self.width, self.height, timestamp, duration)?;
            return Ok(Some(self.described(frame, capture_sequence)));
        }
        let s = self.stride;
        let cs = self.chroma_strides;
        let mut decoded = true;
        let format = self.format;
        let jpeg = &mut self.jpeg;
        let frame =
            Frame::video_with(format.delivered(), self.width, self.height, timestamp, duration, |img| match format {
                CameraFormat::Nv12 => {
                    copy_plane(data, s, img.planes[0], img.strides[0], w, h);
                    copy_plane(&data[s * h..], s.max(2 * cw), img.planes[1], img.strides[1], 2 * cw, ch);
                }
                CameraFormat::Yu12 => {
                    let cs = (s / 2).max(cw);
                    copy_plane(data, s, img.planes[0], img.strides[0], w, h);
                    copy_plane(&data[s * h..], cs, img.planes[1], img.strides[1], cw, ch);
                    copy_plane(&data[s * h + cs * ch..], cs, img.planes[2], img.strides[2], cw, ch);
                }
                CameraFormat::Nv12m => {
                    copy_plane(data, s, img.planes[0], img.strides[0], w, h);
                    copy_plane(planes[1], cs[0], img.planes[1], img.strides[1], 2 * cw, ch);
                }
                CameraFormat::Yu12m => {
                    copy_plane(data, s, img.planes[0], img.strides[0], w, h);
                    copy_plane(planes[1], cs[0], img.planes[1], img.strides[1], cw, ch);
                    copy_plane(planes[2], cs[1], img.planes[2], img.strides[2], cw, ch);
                }
                CameraFormat::Yuyv => packed422_to_i420(data, s, Packed422::Yuyv, img),
                CameraFormat::Uyvy => packed422_to_i420(data, s, Packed422::Uyvy, img),
                CameraFormat::Bgrx | CameraFormat::Bgra | CameraFormat::Rgbx | CameraFormat::Rgba => {
                    copy_plane(data, s, img.planes[0], img.strides[0], 4 * w, h)
                }
                CameraFormat::Rgb24 | CameraFormat::Bgr24 => rgb24_to_rgbx(data, s, img),
                CameraFormat::Grey => {
                    copy_plane(data, s, img.planes[0], img.strides[0], w, h);
                    img.planes[1].fill(NEUTRAL_CHROMA);
                    img.planes[2].fill(NEUTRAL_CHROMA);
                }
                CameraFormat::Mjpeg => {
                    decoded = jpeg.as_mut().is_some_and(|d| d.decode_i420(data, img).is_ok());
                }
            })?;
        Ok(decoded.then(|| self.described(frame, capture_sequence)))
    }

    /// For a format a frame carries as it is (NV12, NM12, YU12, YM12 and GREY as I420, the
    /// 32-bit RGB orders), the description of frames over the driver's buffer: the planes
    /// where the driver puts them (the chroma after the luma, at its stride or half of it; for
    /// NM12 and YM12, at `starts`, where each buffer plane begins in the span the frame is
    /// over: [`crate::v4l2::Stream::plane_starts`]; for GREY, U then V at the start of the
    /// neutral chroma mapped after the buffer, `starts[1]`), the bytes they span (every row at
    /// its full stride, as WebCodecs counts), and the bytes each buffer plane must hold. None
    /// for formats that are converted or decoded, and for NM12 / YM12 / GREY without a start
    /// per plane.
    pub(crate) fn as_is(&self, starts: &[usize]) -> Option<(VideoFrameInit, usize, [usize; 3])> {
        let (s, h) = (self.stride, self.height as usize);
        let (cw, ch) = ((self.width as usize).div_ceil(2), h.div_ceil(2));
        let cs = self.chroma_strides;
        let (layout, needed) = match self.format {
            CameraFormat::Nv12 => {
                let layout =
                    vec![PlaneLayout { offset: 0, stride: s }, PlaneLayout { offset: s * h, stride: s.max(2 * cw) }];
                (layout, s * h + s.max(2 * cw) * ch)
            }
            CameraFormat::Yu12 => {
                let cs = (s / 2).max(cw);
                let layout = vec![
                    PlaneLayout { offset: 0, stride: s },
                    PlaneLayout { offset: s * h, stride: cs },
                    PlaneLayout { offset: s * h + cs * ch, stride: cs },
                ];
                (layout, s * h + 2 * cs * ch)
            }
            CameraFormat::Bgrx | CameraFormat::Bgra | CameraFormat::Rgbx | CameraFormat::Rgba => {
                (vec![PlaneLayout { offset: 0, stride: s }], s * h)
            }
            CameraFormat::Nv12m if starts.len() == 2 && starts[1] >= s * h => {
                let layout =
                    vec![PlaneLayout { offset: 0, stride: s }, PlaneLayout { offset: starts[1], stride: cs[0] }];
                (layout, starts[1] + cs[0] * ch)
            }
            // The neutral chroma after the luma's buffer ([`Converter::neutral_chroma_len`]).
            CameraFormat::Grey if starts.len() == 2 && starts[1] >= s * h => {
                let layout = vec![
                    PlaneLayout { offset: 0, stride: s },
                    PlaneLayout { offset: starts[1], stride: cs[0] },
                    PlaneLayout { offset: starts[1] + cs[0] * ch, stride: cs[0] },
                ];
                (layout, starts[1] + 2 * cs[0] * ch)
            }
            CameraFormat::Yu12m if starts.len() == 3 && starts[1] >= s * h && starts[2] >= starts[1] + cs[0] * ch => {
                let layout = vec![
                    PlaneLayout { offset: 0, stride: s },
                    PlaneLayout { offset: starts[1], stride: cs[0] },
                    PlaneLayout { offset: starts[2], stride: cs[1] },
                ];
                (layout, starts[2] + cs[1] * ch)
            }
            _ => return None,
        };
        let plane_bytes = match self.format {
            CameraFormat::Nv12m => [s * h, cs[0] * ch, 0],
            CameraFormat::Yu12m => [s * h, cs[0] * ch, cs[1] * ch],
            CameraFormat::Grey => [s * h, 0, 0],
            _ => [needed, 0, 0],
        };
        let init = VideoFrameInit {
            format: self.format.delivered(),
            coded_width: self.width,
            coded_height: self.height,
            timestamp: 0,
            duration: None,
            layout: Some(layout),
            visible_rect: None,
            display_size: None,
            color_space: None,
        };
        Some((init, needed, plane_bytes))
    }

    /// For GREY, the bytes of neutral chroma (U then V, rows half the luma's stride apart, or
    /// half the width rounded up if more) that follow each driver buffer when frames are
    /// lent ([`crate::v4l2::Stream::mmap_with_tail`]); 0 for other formats.
    pub(crate) fn neutral_chroma_len(&self) -> usize {
        match self.format {
            CameraFormat::Grey => 2 * self.chroma_strides[0] * (self.height as usize).div_ceil(2),
            _ => 0,
        }
    }

    /// `frame` with the capture sequence and the driver's colour.
    fn described(&self, frame: Frame, capture_sequence: Option<u64>) -> Frame {
        let (color_space, chroma_siting) = self.color;
        frame.with_meta(|v| {
            v.capture_sequence = capture_sequence;
            v.color_space = color_space;
            v.chroma_siting = chroma_siting;
        })
    }
}

/// The colour description of a V4L2 capture format, as the driver reports it in struct
/// v4l2_pix_format (videodev2.h's enums; 0 in a field means the default for the colorspace).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct V4l2Colorimetry {
    pub colorspace: u32,
    pub ycbcr_enc: u32,
    pub quantization: u32,
    pub xfer_func: u32,
}

// videodev2.h: enum v4l2_colorspace, v4l2_ycbcr_encoding, v4l2_quantization, v4l2_xfer_func.
const CS_SMPTE170M: u32 = 1;
const CS_SMPTE240M: u32 = 2;
const CS_REC709: u32 = 3;
const CS_470_SYSTEM_BG: u32 = 6;
const CS_JPEG: u32 = 7;
const CS_SRGB: u32 = 8;
const CS_OPRGB: u32 = 9;
const CS_BT2020: u32 = 10;
const CS_RAW: u32 = 11;
const CS_DCI_P3: u32 = 12;
const ENC_601: u32 = 1;
const ENC_709: u32 = 2;
const ENC_XV601: u32 = 3;
const ENC_XV709: u32 = 4;
const ENC_SYCC: u32 = 5;
const ENC_BT2020: u32 = 6;
const ENC_SMPTE240M: u32 = 8;
const QUANT_FULL: u32 = 1;
const QUANT_LIM: u32 = 2;
const XFER_709: u32 = 1;
const XFER_SRGB: u32 = 2;
const XFER_OPRGB: u32 = 3;
const XFER_SMPTE240M: u32 = 4;
const XFER_NONE: u32 = 5;
const XFER_DCI_P3: u32 = 6;
const XFER_SMPTE2084: u32 = 7;

impl V4l2Colorimetry {
    /// The colour fields of a format the driver set.
    fn of(f: &Format) -> V4l2Colorimetry {
        V4l2Colorimetry {
            colorspace: f.colorspace,
            ycbcr_enc: f.ycbcr_enc,
            quantization: f.quantization,
            xfer_func: f.xfer_func,
        }
    }

    /// What frames delivered from `format` buffers described this way are: their colour
    /// space and chroma siting. Zeros take V4L2's documented defaults
    /// (V4L2_MAP_XFER_FUNC_DEFAULT, V4L2_MAP_YCBCR_ENC_DEFAULT, V4L2_MAP_QUANTIZATION_DEFAULT;
    /// a default colorspace, which a capture driver should never report, is taken as sRGB,
    /// V4L2_MAP_COLORSPACE_DEFAULT's answer for a source that is neither SDTV nor HDTV), with
    /// two exceptions: MJPEG is JFIF, full-range BT.601, unless the driver names another
    /// encoding or range explicitly (V4L2 would take an sRGB-colorspace JPEG as limited
    /// range); GREY is full range unless the driver says limited (videodev2.h calls it a
    /// degenerate Y'CbCr format, but the kernel's test pattern generator, vivid's, writes a
    /// full-range Rec. 709 luma whatever it reports). What WebCodecs cannot name (opRGB,
    /// DCI-P3, SMPTE 240M transfer, constant-luminance BT.2020) is left unknown (None). Camera
    /// YUV is MPEG-2 sited (chroma co-sited with the left luma sample, which libmst's 4:2:2
    /// to 4:2:0 keeps); MJPEG's is at the centre.
    pub fn frames(self, format: CameraFormat) -> (VideoColorSpace, ChromaSiting) {
        let mjpeg = format == CameraFormat::Mjpeg;
        let rgb = format.delivered().is_rgb();
        let colorspace = match self.colorspace {
            0 if mjpeg => CS_JPEG,
            0 => CS_SRGB,
            c => c,
        };
        let xfer = match self.xfer_func {
            0 => match colorspace {
                CS_OPRGB => XFER_OPRGB,
                CS_SMPTE240M => XFER_SMPTE240M,
                CS_DCI_P3 => XFER_DCI_P3,
                CS_RAW => XFER_NONE,
                CS_SRGB | CS_JPEG => XFER_SRGB,
                _ => XFER_709,
            },
            x => x,
        };
        let enc = match self.ycbcr_enc {
            0 if mjpeg => ENC_601,
            0 => match colorspace {
                CS_REC709 | CS_DCI_P3 => ENC_709,
                CS_BT2020 => ENC_BT2020,
                CS_SMPTE240M => ENC_SMPTE240M,
                _ => ENC_601,
            },
            e => e,
        };
        let full_range = match self.quantization {
            QUANT_FULL => true,
            QUANT_LIM => false,
            _ => rgb || mjpeg || format == CameraFormat::Grey || colorspace == CS_JPEG,
        };
        let primaries = match colorspace {
            CS_SMPTE170M | CS_SMPTE240M => Some(ColorPrimaries::Smpte170m),
            CS_REC709 | CS_SRGB | CS_JPEG => Some(ColorPrimaries::Bt709),
            CS_470_SYSTEM_BG => Some(ColorPrimaries::Bt470bg),
            CS_BT2020 => Some(ColorPrimaries::Bt2020),
            _ => None,
        };
        let transfer = match xfer {
            XFER_709 if colorspace == CS_SMPTE170M => Some(TransferCharacteristics::Smpte170m),
            XFER_709 => Some(TransferCharacteristics::Bt709),
            XFER_SRGB => Some(TransferCharacteristics::Iec61966_2_1),
            XFER_NONE => Some(TransferCharacteristics::Linear),
            XFER_SMPTE2084 => Some(TransferCharacteristics::Pq),
            _ => None,
        };
        let matrix = match enc {
            _ if rgb => Some(MatrixCoefficients::Rgb),
            ENC_601 | ENC_XV601 | ENC_SYCC if colorspace == CS_470_SYSTEM_BG => Some(MatrixCoefficients::Bt470bg),
            ENC_601 | ENC_XV601 | ENC_SYCC => Some(MatrixCoefficients::Smpte170m),
            ENC_709 | ENC_XV709 => Some(MatrixCoefficients::Bt709),
            ENC_BT2020 => Some(MatrixCoefficients::Bt2020Ncl),
            _ => None,
        };
        let siting = if rgb || mjpeg { ChromaSiting::Center } else { ChromaSiting::Left };
        (VideoColorSpace { primaries, transfer, matrix, full_range: Some(full_range) }, siting)
    }
}

impl Capture {
    /// Captures until stopped (None) or until the device fails (the reason to end with), then
    /// stops streaming.
    fn run(&mut self, core: &Weak<SourceCore>, stop: &StopSignal) -> Option<EndReason> {
        // Taken now, should the source be gone when capture ends.
        let ledger = core.upgrade().map(|c| c.ledger());
        let end = self.capture(core, stop);
        self.lender.stop();
        let held = self.lender.counters.held.load(Ordering::Relaxed);
        if held > 0 {
            // The ledger says who: it counts every open frame its consumers hold (copied ones
            // too), `held` only those over driver buffers.
            let holders = core.upgrade().map(|c| c.ledger()).or(ledger).map(|l| l.holdings()).unwrap_or_default();
            let who = if holders.is_empty() {
                "consumers no longer in its ledger".to_owned()
            } else {
                crate::frame::ledger::describe(&holders)
            };
            crate::log::log(
                crate::log::Level::Warning,
                crate::log::Origin::Libmst,
                &format!(
                    "{}: capture ended with {held} of its frames still open over its driver buffers; open frames \
                     by holder: {who}; the buffers stay mapped and the device open until they close",
                    self.dev.who()
                ),
            );
        }
        end
    }

    fn capture(&mut self, core: &Weak<SourceCore>, stop: &StopSignal) -> Option<EndReason> {
        let m = self.mode;
        let duration = (1e6 / m.frame_rate()).round() as i64;
        // A wait longer than this without a frame is a stall: poll again (stop still works).
        let patience = Duration::from_micros((3 * duration.max(0)) as u64).max(Duration::from_millis(500));
        let mut retried = std::time::Instant::now();
        loop {
            if stop.is_raised() {
                return None;
            }
            if retried.elapsed() >= patience {
                retried = std::time::Instant::now();
                self.retry_lost();
            }
            let (dequeued, usable) = {
                let mut s = self.lender.lock();
                let usable = self.lender.usable(&s);
                (s.dequeue(), usable)
            };
            if usable == 0 {
                if self.retry_lost() {
                    continue;
                }
                // Every buffer failed to go back, the last retry too: nothing can be captured
                // into any more.
                crate::log::log(
                    crate::log::Level::Error,
                    crate::log::Origin::Libmst,
                    &format!(
                        "{}: every driver buffer was refused when queued back (VIDIOC_QBUF), a retry too; capture ends",
                        self.dev.who()
                    ),
                );
                return Some(EndReason::Error);
            }
            let d = match dequeued {
                Ok(Some(d)) => d,
                // Not under the stream's lock: frames closing on other threads take it.
                Ok(None) => match self.dev.wait(self.t, stop.fd(), patience) {
                    Ready::Stop => return None,
                    Ready::Lost => return Some(EndReason::DeviceLost),
                    Ready::Timeout => match self.stalled() {
                        Some(end) => return Some(end),
                        None => continue,
                    },
                    Ready::Buffer => continue,
                },
                Err(e) => return Some(read_failed(&e)),
            };
            let received = monotonic_us();
            self.buffers.received = Some(received);
            let ts = d.timestamp.unwrap_or(received);
            let lend = self.as_is.is_some() && d.planes == self.mode.format.buffer_planes() && !d.erroneous();
            // Buffers lost to the ring come out of the budget first, so that the driver keeps
            // its reserve and capture goes on.
            let budget = self.budget.min(usable.saturating_sub(DRIVER_RESERVE));
            let delivered = if lend && self.lender.counters.held.load(Ordering::Relaxed) < budget as u64 {
                self.lend(core, &d, ts, duration)
            } else {
                if lend {
                    self.buffers.counters.over_budget.fetch_add(1, Ordering::Relaxed);
                }
                self.copy(core, &d, ts, duration)
            };
            if let Err(end) = delivered {
                return end;
            }
        }
    }

    /// After a wait of a whole patience for a frame: the track's end when the driver held no
    /// buffer all that time (only the capture thread dequeues, so none went from it) because
    /// the ones it refused back are lost and consumers hold every other one. Lending shrinks
    /// with each lost buffer, but frames lent before keep theirs: a consumer that releases a
    /// frame only when the next one comes would otherwise leave a live track with no frames.
    fn stalled(&self) -> Option<EndReason> {
        if self.retry_lost() {
            return None;
        }
        let (lost, held) = {
            let s = self.lender.lock();
            let lost = self.lender.counters.lost_buffers.load(Ordering::Relaxed);
            if lost == 0 || s.with_driver() > 0 {
                return None;
            }
            (lost, self.lender.counters.held.load(Ordering::Relaxed))
        };
        crate::log::log(
            crate::log::Level::Error,
            crate::log::Origin::Libmst,
            &format!(
                "{}: the driver has no buffer to capture into: {lost} were refused when queued back (VIDIOC_QBUF) \
                 and frames still open hold the other {held}; capture ends",
                self.dev.who()
            ),
        );
        Some(EndReason::Error)
    }

    /// Queues the oldest buffer the driver refused back again (vb2 leaves a buffer whose QBUF
    /// failed dequeued, and a refusal may be one-off: vivid's injected one is): true when the
    /// driver took it. One at a time, once per patience, or before ending for want of buffers,
    /// so a driver that keeps refusing costs one failed VIDIOC_QBUF per wait.
    fn retry_lost(&self) -> bool {
        let (taken, level, message) = {
            let mut s = self.lender.lock();
            let mut lost = self.lender.lost.lock().unwrap_or_else(|p| p.into_inner());
            let Some(&index) = lost.first() else { return false };
            match s.queue(index, &[], 0) {
                Ok(()) => {
                    lost.remove(0);
                    let left = self.lender.counters.lost_buffers.fetch_sub(1, Ordering::Relaxed) - 1;
                    let m = format!("{}: driver buffer {index} taken back on retry; {left} still out", s.who());
                    (true, crate::log::Level::Info, m)
                }
                Err(e) => {
                    lost.rotate_left(1);
                    let m = format!("{}: driver buffer {index} still refused (VIDIOC_QBUF: {e})", s.who());
                    (false, crate::log::Level::Debug, m)
                }
            }
        };
        crate::log::log(level, crate::log::Origin::Libmst, &message);
        taken
    }

    /// The buffer `d` as a frame over the driver's memory, queued back when it closes.
    fn lend(
        &mut self,
        core: &Weak<SourceCore>,
        d: &crate::v4l2::Dequeued,
        ts: i64,
        duration: i64,
    ) -> std::result::Result<(), Option<EndReason>> {
        let (meta, needed, plane_bytes) = self.as_is.expect("a format delivered as it is");
        let memory = {
            let s = self.lender.lock();
            let whole = |p: usize| d.data[p].0 == 0 && s.data(d, p).is_some_and(|b| b.len() >= plane_bytes[p]);
            let grey = self.mode.format == CameraFormat::Grey;
            let span = if d.planes == 1 && !grey {
                s.data(d, 0).filter(|b| b.len() >= needed).map(|b| &b[..needed])
            } else if (0..d.planes).all(whole) {
                s.span(d.index, needed)
            } else {
                None
            };
            let Some(span) = span else {
                // Short, or its planes elsewhere: the copy path copies it or drops it (counted)
                // and queues the buffer back.
                drop(s);
                return self.copy(core, d, ts, duration);
            };
            // Each buffer plane's DMA-BUF and where it starts in the span (separate planes are
            // the frame's planes), or none when one is missing or the data is not at its start.
            let mut dmabufs = NO_DMABUFS;
            for (p, slot) in dmabufs.iter_mut().enumerate().take(d.planes) {
                match s.dmabuf(d.index, p) {
                    Some(fd) if d.data[p].0 == 0 => *slot = (fd, if p == 0 { 0 } else { meta.layout[p].offset }),
                    _ => {
                        dmabufs = NO_DMABUFS;
                        break;
                    }
                }
            }
            if grey && dmabufs[0].0 >= 0 {
                // The neutral chroma is libmst's memfd, no DMA-BUF: the luma only is one.
                dmabufs[1] = (-1, meta.layout[1].offset);
            }
            Lent::new(&self.lender, d.index, span, dmabufs)
        };
        let Some(ts) = self.buffers.begin(d.sequence, false, ts) else { return Ok(()) };
        let meta = VideoMeta {
            timestamp: ts,
            duration: Some(duration),
            capture_sequence: Some(d.sequence as u64),
            received: self.buffers.received,
            ..meta
        };
        self.buffers.counters.zero_copy.fetch_add(1, Ordering::Relaxed);
        let frame = Frame::wrap_validated(FrameMeta::Video(meta), memory);
        self.buffers.deliver(core, Ok(Some(frame)), d.sequence, ts)
    }

    /// The buffer `d` copied, converted or decoded into a frame of its own, and queued back.
    fn copy(
        &mut self,
        core: &Weak<SourceCore>,
        d: &crate::v4l2::Dequeued,
        ts: i64,
        duration: i64,
    ) -> std::result::Result<(), Option<EndReason>> {
        // The stream's lock is not held while the frame is delivered: a sink may drop a lent
        // frame then (a drop-oldest queue evicting it), whose give_back takes the lock, and the
        // capture thread would wait on itself for good.
        let mut raw: [(*const u8, usize); 3] = [(std::ptr::null(), 0); 3];
        let n = d.planes.min(raw.len());
        {
            let s = self.lender.lock();
            for (p, slot) in raw[..n].iter_mut().enumerate() {
                if let Some(b) = s.data(d, p) {
                    *slot = (b.as_ptr(), b.len());
                }
            }
        }
        // SAFETY: the buffer is dequeued, so until the QBUF below only this thread touches it;
        // its mapping lives as long as the stream, which `self.lender` keeps (it is unmapped
        // only when the stream drops, and STREAMOFF is this thread's own, later).
        let planes: [&[u8]; 3] = std::array::from_fn(|p| match raw[p] {
            (ptr, len) if !ptr.is_null() => unsafe { std::slice::from_raw_parts(ptr, len) },
            _ => &[][..],
        });
        let delivered = self.buffers.buffer_planes(core, &planes[..n], d.sequence, d.erroneous(), ts, duration);
        let refused = self.lender.requeue(&mut self.lender.lock(), d.index);
        log_refusal(refused);
        delivered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(format: CameraFormat, width: u32, height: u32, fps: u32) -> CameraMode {
        CameraMode { format, width, height, interval: (1, fps) }
    }

    fn exact(v: f64) -> ConstrainRange {
        ConstrainRange { exact: Some(v), ..Default::default() }
    }

    fn colour(colorspace: u32, ycbcr_enc: u32, quantization: u32, xfer_func: u32) -> V4l2Colorimetry {
        V4l2Colorimetry { colorspace, ycbcr_enc, quantization, xfer_func }
    }

    #[test]
    fn v4l2_colour_defaults_as_videodev2_documents_them() {
        use ChromaSiting::{Center, Left};
        let bt601_limited_srgb = VideoColorSpace {
            primaries: Some(ColorPrimaries::Bt709),
            transfer: Some(TransferCharacteristics::Iec61966_2_1),
            matrix: Some(MatrixCoefficients::Smpte170m),
            full_range: Some(false),
        };
        // A webcam's YUYV (uvcvideo says sRGB, the rest default): BT.601 limited, left-sited.
        assert_eq!(colour(CS_SRGB, 0, 0, 0).frames(CameraFormat::Yuyv), (bt601_limited_srgb, Left));
        assert_eq!(colour(0, 0, 0, 0).frames(CameraFormat::Nv12), (bt601_limited_srgb, Left));
        // Its MJPEG: JFIF, full range, centre-sited; explicitly limited stays limited.
        assert_eq!(colour(CS_SRGB, 0, 0, 0).frames(CameraFormat::Mjpeg), (VideoColorSpace::JPEG, Center));
        assert_eq!(colour(CS_JPEG, 0, 0, 0).frames(CameraFormat::Mjpeg), (VideoColorSpace::JPEG, Center));
        assert_eq!(colour(0, 0, 0, 0).frames(CameraFormat::Mjpeg), (VideoColorSpace::JPEG, Center));
        // GREY: full range unless the driver says limited (as vivid writes it).
        assert_eq!(colour(CS_SRGB, 0, 0, 0).frames(CameraFormat::Grey).0.full_range, Some(true));
        assert_eq!(colour(CS_SRGB, 0, QUANT_LIM, 0).frames(CameraFormat::Grey).0.full_range, Some(false));
        assert_eq!(colour(CS_SRGB, 0, 0, 0).frames(CameraFormat::Yu12).0.full_range, Some(false));
        assert_eq!(
            colour(CS_SRGB, 0, QUANT_LIM, 0).frames(CameraFormat::Mjpeg).0,
            VideoColorSpace { full_range: Some(false), ..VideoColorSpace::JPEG }
        );
        // V4L2_COLORSPACE_JPEG on YUYV defaults to full range (the quantization macro).
        assert_eq!(colour(CS_JPEG, 0, 0, 0).frames(CameraFormat::Yuyv).0, VideoColorSpace::JPEG);
        // Rec. 709 defaults to the BT.709 encoding and transfer, limited.
        assert_eq!(colour(CS_REC709, 0, 0, 0).frames(CameraFormat::Yu12), (VideoColorSpace::REC709, Left));
        assert_eq!(
            colour(CS_REC709, 0, QUANT_FULL, 0).frames(CameraFormat::Uyvy).0,
            VideoColorSpace { full_range: Some(true), ..VideoColorSpace::REC709 }
        );
        // SMPTE 170M (SDTV): its own primaries and transfer name.
        assert_eq!(
            colour(CS_SMPTE170M, 0, 0, 0).frames(CameraFormat::Yuyv).0,
            VideoColorSpace {
                primaries: Some(ColorPrimaries::Smpte170m),
                transfer: Some(TransferCharacteristics::Smpte170m),
                matrix: Some(MatrixCoefficients::Smpte170m),
                full_range: Some(false),
            }
        );
        // BT.2020 and an explicit encoding overriding the colorspace's default.
        let bt2020 = colour(CS_BT2020, 0, 0, 0).frames(CameraFormat::Nv12).0;
        assert_eq!(
            (bt2020.primaries, bt2020.matrix),
            (Some(ColorPrimaries::Bt2020), Some(MatrixCoefficients::Bt2020Ncl))
        );
        assert_eq!(
            colour(CS_REC709, ENC_601, 0, 0).frames(CameraFormat::Nv12).0.matrix,
            Some(MatrixCoefficients::Smpte170m)
        );
        // RGB: no matrix, full range by default.
        assert_eq!(colour(CS_SRGB, 0, 0, 0).frames(CameraFormat::Bgrx), (VideoColorSpace::SRGB, Center));
        // What WebCodecs cannot name is unknown, not guessed.
        let oprgb = colour(CS_OPRGB, 0, 0, 0).frames(CameraFormat::Yuyv).0;
        assert_eq!((oprgb.primaries, oprgb.transfer), (None, None));
    }

    #[test]
    fn converted_frames_carry_the_drivers_colour() {
        let mut c = Converter::new(CameraFormat::Yuyv, 4, 2, 0).unwrap();
        let buf = [128u8; 16];
        let f = c.frame(&buf, 5, None, Some(9)).unwrap().unwrap();
        let v = f.video().unwrap();
        assert_eq!((v.capture_sequence, v.chroma_siting), (Some(9), ChromaSiting::Left));
        assert_eq!(v.color_space.matrix, Some(MatrixCoefficients::Smpte170m));
        c.set_colorimetry(colour(CS_REC709, 0, QUANT_FULL, 0));
        let v = *c.frame(&buf, 6, None, None).unwrap().unwrap().video().unwrap();
        assert_eq!(v.color_space, VideoColorSpace { full_range: Some(true), ..VideoColorSpace::REC709 });
        assert_eq!(v.capture_sequence, None);
    }

    /// The frame's visible samples, plane by plane, rows tightly packed.
    fn samples(f: &Frame) -> Vec<Vec<u8>> {
        let v = f.video().unwrap();
        let (w, h) = (v.visible_rect.width as usize, v.visible_rect.height as usize);
        let dims: &[(usize, usize)] = if v.format == VideoPixelFormat::Nv12 {
            &[(w, h), (w, h / 2)]
        } else {
            &[(w, h), (w / 2, h / 2), (w / 2, h / 2)]
        };
        dims.iter()
            .enumerate()
            .map(|(i, &(row, rows))| {
                let (p, s) = f.plane(i).unwrap();
                (0..rows).flat_map(|y| p[y * s..y * s + row].to_vec()).collect()
            })
            .collect()
    }

    #[test]
    fn separate_plane_formats_read_each_plane_at_its_stride() {
        // 4x2 NM12: Y rows 6 bytes apart, UV rows (one) in a plane of its own.
        let y = [1, 2, 3, 4, 0, 0, 5, 6, 7, 8, 0, 0];
        let uv = [9, 10, 11, 12];
        let mut c = Converter::new(CameraFormat::Nv12m, 4, 2, 6).unwrap();
        c.set_chroma_strides(&[8]).unwrap();
        let f = c.frame_planes(&[&y, &uv], 0, None, None).unwrap().unwrap();
        assert_eq!(f.video().unwrap().format, VideoPixelFormat::Nv12);
        assert_eq!(samples(&f), [vec![1, 2, 3, 4, 5, 6, 7, 8], vec![9, 10, 11, 12]]);
        // A plane short of its rows, or a plane missing, is a dropped buffer, not a panic.
        assert!(c.frame_planes(&[&y, &uv[..3]], 0, None, None).unwrap().is_none());
        assert!(c.frame_planes(&[&y], 0, None, None).unwrap().is_none());
        assert!(c.set_chroma_strides(&[3]).is_err());
        // 4x2 YM12: three planes, chroma rows 4 bytes apart.
        let mut c = Converter::new(CameraFormat::Yu12m, 4, 2, 4).unwrap();
        c.set_chroma_strides(&[4, 4]).unwrap();
        let f = c.frame_planes(&[&y[..8], &[20, 21, 0, 0], &[30, 31, 0, 0]], 0, None, None).unwrap().unwrap();
        assert_eq!(f.video().unwrap().format, VideoPixelFormat::I420);
        assert_eq!(samples(&f), [vec![1, 2, 3, 4, 0, 0, 5, 6], vec![20, 21], vec![30, 31]]);
        // The same planes back to back in one slice (`frame`) give the same frame.
        let joined = [&y[..8], &[20, 21, 0, 0][..], &[30, 31, 0, 0][..]].concat();
        let g = c.frame(&joined, 0, None, None).unwrap().unwrap();
        assert_eq!(samples(&g), samples(&f));
    }

    #[test]
    fn grey_is_i420_with_neutral_chroma() {
        // 5x3 GREY, rows 8 bytes apart: odd sizes take the chroma rounded up (3x2), as YU12's.
        let y: Vec<u8> = (0..24).map(|i| if i % 8 < 5 { i as u8 + 1 } else { 0 }).collect();
        let mut c = Converter::new(CameraFormat::Grey, 5, 3, 8).unwrap();
        let f = c.frame(&y[..8 * 2 + 5], 0, None, Some(1)).unwrap().unwrap();
        let v = f.video().unwrap();
        assert_eq!((v.format, v.coded_width, v.coded_height), (VideoPixelFormat::I420, 5, 3));
        let (luma, s) = f.plane(0).unwrap();
        let rows: Vec<&[u8]> = (0..3).map(|r| &luma[r * s..r * s + 5]).collect();
        assert_eq!(rows, [&[1, 2, 3, 4, 5][..], &[9, 10, 11, 12, 13], &[17, 18, 19, 20, 21]]);
        for p in [1, 2] {
            let (chroma, s) = f.plane(p).unwrap();
            assert!((0..2).all(|r| chroma[r * s..r * s + 3].iter().all(|&b| b == 128)), "plane {p}");
        }
        assert!(c.frame(&y[..8 * 2 + 4], 0, None, None).unwrap().is_none(), "a short buffer is dropped");
        // Lent: the chroma after the luma's buffer, where the stream maps it (a page on here),
        // U then V at half the luma's stride, and what the stream maps is what the frame spans.
        let c = Converter::new(CameraFormat::Grey, 60, 30, 64).unwrap();
        assert!(CameraFormat::Grey.lendable());
        assert_eq!(c.neutral_chroma_len(), 2 * 32 * 15);
        let (init, needed, planes) = c.as_is(&[0, 4096]).unwrap();
        assert_eq!(
            init.layout.as_ref().map(|l| l.iter().map(|p| (p.offset, p.stride)).collect::<Vec<_>>()),
            Some(vec![(0, 64), (4096, 32), (4096 + 32 * 15, 32)])
        );
        assert_eq!((needed, planes), (4096 + c.neutral_chroma_len(), [64 * 30, 0, 0]));
        assert!(init.validate(needed).is_ok() && init.validate(needed - 1).is_err());
        // No chroma mapped after the luma, or mapped over it: copied.
        assert!(c.as_is(&[0]).is_none());
        assert!(c.as_is(&[0, 64 * 30 - 1]).is_none());
        assert_eq!(Converter::new(CameraFormat::Yu12, 60, 30, 64).unwrap().neutral_chroma_len(), 0);
        assert_eq!(CameraFormat::from_fourcc_bytes(*b"GREY"), Some(CameraFormat::Grey));
    }

    #[test]
    fn lent_bytes_name_the_dmabuf_holding_them() {
        let lent = |dmabufs| Lent { lender: None, index: 0, ptr: std::ptr::null(), len: 0, dmabufs };
        // One buffer plane: its fd for every byte.
        let one = lent([(7, 0), (-1, 0), (-1, 0)]);
        assert_eq!((one.dmabuf(), one.dmabuf_at(5000)), (Some(7), Some((7, 5000))));
        // Separate planes: each byte in its plane's fd; no one fd for the frame.
        let two = lent([(7, 0), (8, 4096), (-1, 0)]);
        assert_eq!((two.dmabuf(), two.dmabuf_at(100), two.dmabuf_at(4100)), (None, Some((7, 100)), Some((8, 4))));
        // GREY: the luma in the driver's fd, the neutral chroma from 4096 on in none.
        let grey = lent([(7, 0), (-1, 4096), (-1, 0)]);
        assert_eq!((grey.dmabuf(), grey.dmabuf_at(4095), grey.dmabuf_at(4096)), (None, Some((7, 4095)), None));
        assert_eq!((lent(NO_DMABUFS).dmabuf(), lent(NO_DMABUFS).dmabuf_at(0)), (None, None));
    }

    #[test]
    fn formats_delivered_as_they_are_span_what_webcodecs_counts() {
        for (format, stride) in [(CameraFormat::Nv12, 64), (CameraFormat::Yu12, 64), (CameraFormat::Bgrx, 256)] {
            let (init, needed, planes) = Converter::new(format, 60, 30, stride).unwrap().as_is(&[0]).unwrap();
            assert!(format.lendable());
            assert_eq!(planes, [needed, 0, 0]);
            assert!(init.validate(needed).is_ok(), "{format:?}");
            assert!(init.validate(needed - 1).is_err(), "{format:?}: {needed} is more than the layout needs");
        }
        // Separate planes: each where its buffer plane starts in the span (a page apart here),
        // at the stride the driver set.
        let mut c = Converter::new(CameraFormat::Nv12m, 60, 30, 64).unwrap();
        c.set_chroma_strides(&[128]).unwrap();
        let (init, needed, planes) = c.as_is(&[0, 4096]).unwrap();
        assert_eq!(
            init.layout.as_deref(),
            Some(&[PlaneLayout { offset: 0, stride: 64 }, PlaneLayout { offset: 4096, stride: 128 }][..])
        );
        assert_eq!((needed, planes), (4096 + 128 * 15, [64 * 30, 128 * 15, 0]));
        assert!(init.validate(needed).is_ok() && init.validate(needed - 1).is_err());
        let mut c = Converter::new(CameraFormat::Yu12m, 60, 30, 64).unwrap();
        c.set_chroma_strides(&[32, 48]).unwrap();
        let (init, needed, planes) = c.as_is(&[0, 4096, 8192]).unwrap();
        assert_eq!(
            init.layout.as_ref().map(|l| l.iter().map(|p| (p.offset, p.stride)).collect::<Vec<_>>()),
            Some(vec![(0, 64), (4096, 32), (8192, 48)])
        );
        assert_eq!((needed, planes), (8192 + 48 * 15, [64 * 30, 32 * 15, 48 * 15]));
        assert!(init.validate(needed).is_ok() && init.validate(needed - 1).is_err());
        // Without a start per plane, or with planes that would overlap, they are copied.
        assert!(c.as_is(&[0]).is_none());
        assert!(c.as_is(&[0, 64 * 30 - 1, 8192]).is_none());
        assert!(c.as_is(&[0, 4096, 4096 + 32 * 15 - 1]).is_none());
        // Converted or decoded formats are copied.
        for format in [CameraFormat::Yuyv, CameraFormat::Rgb24] {
            assert!(!format.lendable());
            assert!(Converter::new(format, 60, 30, 0).unwrap().as_is(&[0]).is_none(), "{format:?}");
        }
    }

    #[test]
    fn mode_choice_by_fitness_distance() {
        let modes = [
            mode(CameraFormat::Nv12, 1280, 720, 30),
            mode(CameraFormat::Nv12, 640, 360, 30),
            mode(CameraFormat::Nv12, 640, 480, 30),
            mode(CameraFormat::Yuyv, 640, 360, 60),
            mode(CameraFormat::Yuyv, 320, 180, 30),
        ];
        // No constraints: browsers' default 640x480@30.
        assert_eq!(choose(&modes, &VideoConstraints::default(), "d").unwrap(), modes[2]);
        // Ideal 640x360: the NV12 one (earlier format wins ties on size; 30 fps is the default).
        let c = VideoConstraints {
            width: ConstrainRange { ideal: Some(640.0), ..Default::default() },
            height: ConstrainRange { ideal: Some(360.0), ..Default::default() },
            ..Default::default()
        };
        assert_eq!(choose(&modes, &c, "d").unwrap(), modes[1]);
        // Exact 320x180: the native 320x180.
        let c = VideoConstraints { width: exact(320.0), height: exact(180.0), ..Default::default() };
        assert_eq!(choose(&modes, &c, "d").unwrap(), modes[4]);
        // min 50 fps: only the 60 fps mode.
        let c = VideoConstraints {
            frame_rate: ConstrainRange { min: Some(50.0), ..Default::default() },
            ..Default::default()
        };
        assert_eq!(choose(&modes, &c, "d").unwrap(), modes[3]);
        // Impossible: named.
        let c = VideoConstraints { width: exact(5000.0), ..Default::default() };
        assert_eq!(choose(&modes, &c, "d").unwrap_err().constraint, Some("width"));
        let c = VideoConstraints { frame_rate: exact(120.0), ..Default::default() };
        assert_eq!(choose(&modes, &c, "d").unwrap_err().constraint, Some("frameRate"));
        // resizeMode none: the native value must hold.
        let c = VideoConstraints { width: exact(700.0), resize_mode: Some(ResizeMode::None), ..Default::default() };
        assert_eq!(choose(&modes, &c, "d").unwrap_err().constraint, Some("width"));
    }

    #[test]
    fn stepwise_snaps_into_range() {
        assert_eq!(snap(641.0, 16, 1920, 8), 640);
        assert_eq!(snap(5.0, 16, 1920, 8), 16);
        assert_eq!(snap(9999.0, 16, 1920, 8), 1920);
    }
}
