//! The V4L2 camera source: a capture node opened by device id, a native mode (pixel format,
//! frame size, frame interval) chosen from the device's enumeration by SelectSettings
//! (`crate::constraints::select_settings`), mmap streaming with 4 buffers, and video frames
//! delivered from a capture thread.
//!
//! What the native mode does not meet (a smaller size, another aspect ratio, a lower rate) the
//! track's own crop-and-scale and decimation serve: the source's capabilities are its one
//! native mode (`Capabilities::fixed_video`) and the constraints are applied to the new track.
//!
//! The thread waits in poll() on the node and a stop eventfd, so `stop` is honoured within one
//! frame (the very first frame excepted: the `v4l` crate's stream starts inside its first
//! `next()`, which waits for that frame, at most 2 s). Every V4L2 buffer is copied, converted or
//! decoded ([`Converter`]) into a pooled frame and queued back at once, so a consumer that holds
//! frames never stalls capture. A node that goes away (ENODEV, EINVAL or EIO while streaming, POLLERR) ends every
//! track with `EndReason::DeviceLost`.
//!
//! Workarounds for the `v4l` crate (0.14): `format()` returns the previous stride and size and
//! `set_format` sends them back, so both are zeroed before `set_format`; its mmap `Stream` and
//! arena panic in Drop on STREAMOFF/REQBUFS errors other than ENODEV, so the stream is created,
//! used and dropped only on the capture thread, which contains panics (such a panic ends the
//! track with `EndReason::Error`, or is ignored after a stop; the panic hook still prints it).
//! Only single-planar capture nodes are handled.
//!
//! Colour: frames carry the colour space the driver reports for the negotiated format
//! ([`V4l2Colorimetry`], V4L2's defaults applied; the crate's `Format` drops `ycbcr_enc`, so
//! it is read with a plain VIDIOC_G_FMT).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Weak};
use std::time::Duration;

use v4l::buffer::Type;
use v4l::frameinterval::FrameIntervalEnum;
use v4l::framesize::FrameSizeEnum;
use v4l::io::mmap::Stream;
use v4l::io::traits::CaptureStream;
use v4l::video::Capture as _;
use v4l::{Device, FourCC, Fraction};

use crate::constraints::{
    aspect_setting, overconstrained, select_settings, Capabilities, ConstrainRange, Property, ResizeMode, Settings,
    VideoConstraints,
};
use crate::convert::{copy_plane, packed422_to_i420, rgb24_to_rgbx, Packed422};
use crate::device::DeviceKind;
use crate::error::{err, Error, ErrorKind, Result};
use crate::frame::{
    ChromaSiting, ColorPrimaries, Frame, Kind, MatrixCoefficients, TransferCharacteristics, VideoColorSpace,
    VideoPixelFormat,
};
use crate::source::reacquire::Reopen;
use crate::source::worker::{monotonic_us, spawn_producer, StopSignal};
use crate::source::SourceCore;
use crate::track::{EndReason, Track};

/// The V4L2 pixel formats the camera source can deliver, in the order it prefers them on equal
/// fitness: 4:2:0 YUV first (what encoders and browsers want), then packed 4:2:2, then RGB, then
/// MJPEG (it costs a decode, and is offered only when libturbojpeg loads).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CameraFormat {
    /// NV12: delivered as NV12.
    Nv12,
    /// YU12 (planar Y, U, V 4:2:0): delivered as I420.
    Yu12,
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
}

impl CameraFormat {
    pub const PREFERENCE: [CameraFormat; 11] = [
        CameraFormat::Nv12,
        CameraFormat::Yu12,
        CameraFormat::Yuyv,
        CameraFormat::Uyvy,
        CameraFormat::Bgrx,
        CameraFormat::Bgra,
        CameraFormat::Rgbx,
        CameraFormat::Rgba,
        CameraFormat::Rgb24,
        CameraFormat::Bgr24,
        CameraFormat::Mjpeg,
    ];

    pub fn fourcc(self) -> [u8; 4] {
        match self {
            CameraFormat::Nv12 => *b"NV12",
            CameraFormat::Yu12 => *b"YU12",
            CameraFormat::Yuyv => *b"YUYV",
            CameraFormat::Uyvy => *b"UYVY",
            CameraFormat::Bgrx => *b"XR24",
            CameraFormat::Bgra => *b"AR24",
            CameraFormat::Rgbx => *b"XB24",
            CameraFormat::Rgba => *b"AB24",
            CameraFormat::Rgb24 => *b"RGB3",
            CameraFormat::Bgr24 => *b"BGR3",
            CameraFormat::Mjpeg => *b"MJPG",
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
            CameraFormat::Nv12 => VideoPixelFormat::Nv12,
            CameraFormat::Bgrx | CameraFormat::Bgr24 => VideoPixelFormat::Bgrx,
            CameraFormat::Bgra => VideoPixelFormat::Bgra,
            CameraFormat::Rgbx | CameraFormat::Rgb24 => VideoPixelFormat::Rgbx,
            CameraFormat::Rgba => VideoPixelFormat::Rgba,
            CameraFormat::Yu12 | CameraFormat::Yuyv | CameraFormat::Uyvy | CameraFormat::Mjpeg => {
                VideoPixelFormat::I420
            }
        }
    }

    fn from_fourcc(f: FourCC) -> Option<CameraFormat> {
        CameraFormat::from_fourcc_bytes(f.repr)
    }

    /// Bytes in one row of the first plane at `width` (the least stride).
    pub(crate) fn row_bytes(self, width: usize) -> usize {
        match self {
            CameraFormat::Yuyv | CameraFormat::Uyvy => Packed422::row_bytes(width),
            CameraFormat::Bgrx | CameraFormat::Bgra | CameraFormat::Rgbx | CameraFormat::Rgba => 4 * width,
            CameraFormat::Rgb24 | CameraFormat::Bgr24 => 3 * width,
            CameraFormat::Nv12 | CameraFormat::Yu12 | CameraFormat::Mjpeg => width,
        }
    }

    /// Bytes one frame needs in a buffer whose rows (of the first plane) are `stride` apart
    /// (for MJPEG, the least a JPEG can be: SOI and EOI).
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
}

/// Shared with the fake camera ([`crate::source::fake`]), so its stats are the same counters.
#[derive(Default)]
pub(crate) struct Counters {
    frames: AtomicU64,
    last_sequence: AtomicU64,
    dropped: AtomicU64,
    out_of_order: AtomicU64,
}

/// The capture counters of `track`'s source (summed over the sessions of a reacquired device,
/// the last sequence number the latest session's); None when it is not a camera.
pub fn camera_stats(track: &Track) -> Option<CameraStats> {
    let each = track.source().session_counters::<Counters>().into_iter().map(|c| CameraStats {
        frames: c.frames.load(Ordering::Relaxed),
        last_sequence: c.last_sequence.load(Ordering::Relaxed) as u32,
        dropped: c.dropped.load(Ordering::Relaxed),
        out_of_order: c.out_of_order.load(Ordering::Relaxed),
    });
    each.reduce(|a, b| CameraStats {
        frames: a.frames + b.frames,
        last_sequence: b.last_sequence,
        dropped: a.dropped + b.dropped,
        out_of_order: a.out_of_order + b.out_of_order,
    })
}

fn io_error(device: &str, what: &str, e: &std::io::Error) -> Error {
    let kind = match e.raw_os_error() {
        Some(libc::ENODEV) | Some(libc::ENOENT) | Some(libc::ENXIO) => ErrorKind::NoDevice,
        Some(libc::EBUSY) => ErrorKind::Busy,
        _ => ErrorKind::Io,
    };
    Error::new(kind, format!("V4L2 device \"{device}\": {what}: {e}"))
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

/// The modes of `dev` libmst can deliver, in preference order of format.
fn modes(dev: &Device, c: &VideoConstraints, only: Option<CameraFormat>) -> std::io::Result<Vec<CameraMode>> {
    let offered: Vec<CameraFormat> =
        dev.enum_formats()?.into_iter().filter_map(|d| CameraFormat::from_fourcc(d.fourcc)).collect();
    let target = |r: &ConstrainRange, p: Property| r.aim(p.default_value().unwrap_or_default());
    let mut list = Vec::new();
    let usable = |f: &CameraFormat| *f != CameraFormat::Mjpeg || crate::convert::jpeg::available();
    for f in CameraFormat::PREFERENCE
        .into_iter()
        .filter(|f| offered.contains(f) && only.is_none_or(|o| o == *f) && usable(f))
    {
        let fcc = FourCC::new(&f.fourcc());
        let mut sizes = Vec::new();
        for s in dev.enum_framesizes(fcc).unwrap_or_default() {
            match s.size {
                FrameSizeEnum::Discrete(d) => sizes.push((d.width, d.height)),
                FrameSizeEnum::Stepwise(s) => {
                    let w = snap(target(&c.width, Property::Width), s.min_width, s.max_width, s.step_width);
                    let h = snap(target(&c.height, Property::Height), s.min_height, s.max_height, s.step_height);
                    for size in [(w, h), (s.max_width, s.max_height), (s.min_width, s.min_height)] {
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
            if let Ok(cur) = dev.format() {
                sizes.push((cur.width, cur.height));
            }
        }
        for (w, h) in sizes.into_iter().filter(|&(w, h)| w > 0 && h > 0) {
            let mut intervals = Vec::new();
            for i in dev.enum_frameintervals(fcc, w, h).unwrap_or_default() {
                match i.interval {
                    FrameIntervalEnum::Discrete(fr) => intervals.push((fr.numerator, fr.denominator)),
                    FrameIntervalEnum::Stepwise(s) => {
                        let fps = |fr: Fraction| fr.denominator as f64 / fr.numerator.max(1) as f64;
                        let (lo, hi) = (fps(s.max), fps(s.min));
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
                let cur = dev.params().map(|p| (p.interval.numerator, p.interval.denominator)).unwrap_or((1, 30));
                intervals.push(cur);
            }
            for interval in intervals.into_iter().filter(|i| i.0 > 0 && i.1 > 0) {
                list.push(CameraMode { format: f, width: w, height: h, interval });
            }
        }
    }
    Ok(list)
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
    let path = crate::device::v4l2::path_of(device_id)?;
    let dev = Device::with_path(&path).map_err(|e| io_error(device_id, "opening", &e))?;
    modes(&dev, &VideoConstraints::default(), None).map_err(|e| io_error(device_id, "listing formats", &e))
}

/// Opens the V4L2 capture node `device_id` (an id from device enumeration, e.g.
/// "v4l2:platform:vivid-000:0", or "default": the first video input) with `constraints`,
/// chooses and sets its native mode and starts capturing on a thread ("mst-v4l2-capture").
/// The track delivers frames in the WebCodecs format of the mode's ([`CameraFormat::delivered`]),
/// timestamped with the buffer's CLOCK_MONOTONIC capture time in microseconds and carrying the
/// V4L2 sequence number (`VideoMeta::capture_sequence`); its constraints are `constraints`
/// (crop-and-scale and decimation from the native mode).
///
/// Errors: NoDevice (unknown id, no camera), Busy, Overconstrained (naming width, height,
/// aspectRatio or frameRate), InvalidArg (NaN or infinite constraint values), Unsupported (a
/// multi-planar-only node, no pixel format libmst handles, or MJPEG asked for without
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
    let path = crate::device::v4l2::path_of(&info.device_id)?;
    let id = info.device_id.as_str();
    let dev = Device::with_path(&path).map_err(|e| io_error(id, "opening", &e))?;
    let caps = dev.query_caps().map_err(|e| io_error(id, "VIDIOC_QUERYCAP", &e))?;
    use v4l::capability::Flags;
    if !caps.capabilities.contains(Flags::VIDEO_CAPTURE) || !caps.capabilities.contains(Flags::STREAMING) {
        return Err(err!(Unsupported, "V4L2 device \"{id}\" is not a single-planar streaming capture node (multi-planar capture is not supported yet)"));
    }
    if options.format == Some(CameraFormat::Mjpeg) {
        // Says what to install when the decoder is missing.
        crate::convert::jpeg::require()?;
    }
    let all = modes(&dev, constraints, options.format).map_err(|e| io_error(id, "enumerating formats", &e))?;
    if all.is_empty() {
        let which =
            options.format.map_or("NV12, YU12, YUYV, UYVY, RGB or (with libturbojpeg) MJPEG".to_string(), |f| {
                String::from_utf8_lossy(&f.fourcc()).into_owned()
            });
        return Err(err!(Unsupported, "V4L2 device \"{id}\" offers no {which} mode"));
    }
    let mode = choose(&all, constraints, id)?;

    // The crate's format() returns the previous stride and size and set_format re-sends them.
    let mut fmt = dev.format().map_err(|e| io_error(id, "VIDIOC_G_FMT", &e))?;
    fmt.width = mode.width;
    fmt.height = mode.height;
    fmt.fourcc = FourCC::new(&mode.format.fourcc());
    fmt.field_order = v4l::format::FieldOrder::Progressive;
    fmt.stride = 0;
    fmt.size = 0;
    let got = dev.set_format(&fmt).map_err(|e| io_error(id, "VIDIOC_S_FMT", &e))?;
    if got.fourcc != fmt.fourcc || got.width != mode.width || got.height != mode.height {
        return Err(err!(
            Io,
            "V4L2 device \"{id}\" set {}x{} {} when asked for {}x{} {}",
            got.width,
            got.height,
            got.fourcc,
            mode.width,
            mode.height,
            fmt.fourcc
        ));
    }
    let stride = (got.stride as usize).max(mode.format.row_bytes(mode.width as usize));
    let mut converter = Converter::new(mode.format, mode.width, mode.height, stride)?;
    converter.set_lazy(true);
    let colorimetry = V4l2Colorimetry::of_capture(dev.handle().fd()).map_err(|e| io_error(id, "VIDIOC_G_FMT", &e))?;
    converter.set_colorimetry(colorimetry);
    let params = v4l::video::capture::Parameters::new(Fraction::new(mode.interval.0, mode.interval.1));
    let interval = match dev.set_params(&params) {
        Ok(p) if p.interval.numerator > 0 && p.interval.denominator > 0 => {
            (p.interval.numerator, p.interval.denominator)
        }
        _ => mode.interval,
    };
    let mode = CameraMode { interval, ..mode };

    let (core, track, counters) = camera_source(info.label.clone(), &mode);
    // Camera controls (issue 15, point 5): on their own fd, so they do not depend on capture.
    core.set_controls(Arc::new(crate::v4l2::controls::Controls::open(&path, id)?));
    let (ready_tx, ready_rx) = mpsc::sync_channel::<Result<()>>(1);
    let id_owned = id.to_string();
    // The crate's stream, its Drop included, lives and dies inside the contained thread.
    spawn_producer(&core, "mst-v4l2-capture", move |core, stop| {
        let mut stream = match Stream::with_buffers(&dev, Type::VideoCapture, 4) {
            Ok(s) => s,
            Err(e) => {
                let _ = ready_tx.send(Err(io_error(&id_owned, "VIDIOC_REQBUFS/mmap", &e)));
                return Ok(None);
            }
        };
        let _ = ready_tx.send(Ok(()));
        let mut cap = Capture { fd: dev.handle().fd(), mode, buffers: Buffers::new(converter, counters) };
        let r = cap.run(&mut stream, core, stop);
        drop(stream);
        drop(dev);
        Ok(r)
    })?;
    ready_rx
        .recv()
        .unwrap_or_else(|_| Err(err!(Io, "V4L2 device \"{id}\": the capture thread failed while setting up")))?;
    if *constraints != VideoConstraints::default() {
        track.apply_constraints(constraints)?;
    }
    Ok(track)
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
    fd: std::os::raw::c_int,
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
}

impl Buffers {
    pub(crate) fn new(converter: Converter, counters: Arc<Counters>) -> Buffers {
        Buffers { converter, counters, last_ts: i64::MIN, last_seq: None }
    }

    /// Buffers of another mode from now on (a driver whose format changed).
    pub(crate) fn set_converter(&mut self, converter: Converter) {
        self.converter = converter;
    }

    /// One buffer: its used bytes `data`, the driver's sequence number, whether the driver
    /// flagged it as erroneous, and its capture time. Delivers its frame to `core`'s tracks;
    /// Err(reason) when the source must end (None: the source is gone).
    pub(crate) fn buffer(
        &mut self,
        core: &Weak<SourceCore>,
        data: &[u8],
        seq: u32,
        erroneous: bool,
        ts: i64,
        duration: i64,
    ) -> std::result::Result<(), Option<EndReason>> {
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
            return Ok(());
        }
        // Strictly increasing, whatever the driver does.
        let ts = ts.max(self.last_ts.saturating_add(1));
        let frame = match self.converter.frame(data, ts, Some(duration), Some(seq as u64)) {
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
    if lost(e) {
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
        Ok(Converter {
            format,
            width,
            height,
            stride: if stride == 0 { row } else { stride },
            jpeg,
            lazy: None,
            color: V4l2Colorimetry::default().frames(format),
        })
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
    /// Errors: NoMemory.
    pub fn frame(
        &mut self,
        data: &[u8],
        timestamp: i64,
        duration: Option<i64>,
        capture_sequence: Option<u64>,
    ) -> Result<Option<Frame>> {
        let (w, h) = (self.width as usize, self.height as usize);
        if data.len() < self.format.bytes(self.stride, w, h) {
            return Ok(None);
        }
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
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let s = self.stride;
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
                CameraFormat::Yuyv => packed422_to_i420(data, s, Packed422::Yuyv, img),
                CameraFormat::Uyvy => packed422_to_i420(data, s, Packed422::Uyvy, img),
                CameraFormat::Bgrx | CameraFormat::Bgra | CameraFormat::Rgbx | CameraFormat::Rgba => {
                    copy_plane(data, s, img.planes[0], img.strides[0], 4 * w, h)
                }
                CameraFormat::Rgb24 | CameraFormat::Bgr24 => rgb24_to_rgbx(data, s, img),
                CameraFormat::Mjpeg => {
                    decoded = jpeg.as_mut().is_some_and(|d| d.decode_i420(data, img).is_ok());
                }
            })?;
        Ok(decoded.then(|| self.described(frame, capture_sequence)))
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

/// time_t and its fields are i32 on 32-bit targets, hence the conversions.
#[allow(clippy::useless_conversion)]
fn us(sec: libc::time_t, usec: libc::c_long) -> i64 {
    i64::from(sec) * 1_000_000 + i64::from(usec)
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
    /// The current capture format's colour fields (VIDIOC_G_FMT on `fd`).
    fn of_capture(fd: std::os::raw::c_int) -> std::io::Result<V4l2Colorimetry> {
        // SAFETY: v4l2_format is a plain C struct; all-zero is a valid value.
        let mut f: v4l::v4l_sys::v4l2_format = unsafe { std::mem::zeroed() };
        f.type_ = Type::VideoCapture as u32;
        // SAFETY: `f` is the v4l2_format VIDIOC_G_FMT fills.
        unsafe { v4l::v4l2::ioctl(fd, v4l::v4l2::vidioc::VIDIOC_G_FMT, &mut f as *mut _ as *mut std::ffi::c_void) }?;
        // SAFETY: a single-planar capture format fills the `pix` member of the union, and
        // ycbcr_enc shares its word with hsv_enc (both u32).
        let pix = unsafe { f.fmt.pix };
        Ok(V4l2Colorimetry {
            colorspace: pix.colorspace,
            // SAFETY: as above.
            ycbcr_enc: unsafe { pix.__bindgen_anon_1.ycbcr_enc },
            quantization: pix.quantization,
            xfer_func: pix.xfer_func,
        })
    }

    /// What frames delivered from `format` buffers described this way are: their colour
    /// space and chroma siting. Zeros take V4L2's documented defaults
    /// (V4L2_MAP_XFER_FUNC_DEFAULT, V4L2_MAP_YCBCR_ENC_DEFAULT, V4L2_MAP_QUANTIZATION_DEFAULT;
    /// a default colorspace, which a capture driver should never report, is taken as sRGB,
    /// V4L2_MAP_COLORSPACE_DEFAULT's answer for a source that is neither SDTV nor HDTV), with
    /// one exception: MJPEG is JFIF, full-range BT.601, unless the driver names another
    /// encoding or range explicitly (V4L2 would take an sRGB-colorspace JPEG as limited
    /// range). What WebCodecs cannot name (opRGB, DCI-P3, SMPTE 240M transfer, constant-luminance
    /// BT.2020) is left unknown (None). Camera YUV is MPEG-2 sited (chroma co-sited with the
    /// left luma sample, which libmst's 4:2:2 to 4:2:0 keeps); MJPEG's is at the centre.
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
            _ => rgb || mjpeg || colorspace == CS_JPEG,
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

/// Errors that mean the node went away while streaming.
fn lost(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENODEV) | Some(libc::EINVAL) | Some(libc::EIO) | Some(libc::EPIPE) | Some(libc::ENXIO)
    )
}

/// V4L2_BUF_FLAG_ERROR, V4L2_BUF_FLAG_TIMESTAMP_MASK, V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC.
const BUF_FLAG_ERROR: u32 = 0x0040;
const BUF_FLAG_TIMESTAMP_MASK: u32 = 0xe000;
const BUF_FLAG_TIMESTAMP_MONOTONIC: u32 = 0x2000;

enum Wait {
    Ready,
    Stop,
    Lost,
    Timeout,
}

impl Capture {
    /// poll() on the node and the stop eventfd.
    fn wait(&self, stop: &StopSignal, timeout: Duration) -> Wait {
        let mut fds = [
            libc::pollfd { fd: self.fd, events: libc::POLLIN, revents: 0 },
            libc::pollfd { fd: stop.fd(), events: libc::POLLIN, revents: 0 },
        ];
        // SAFETY: fds is a live array of two pollfd for the duration of the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, timeout.as_millis().min(i32::MAX as u128) as i32) };
        if n < 0 {
            return if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                Wait::Timeout
            } else {
                Wait::Lost
            };
        }
        if fds[1].revents != 0 || stop.is_raised() {
            Wait::Stop
        } else if fds[0].revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 {
            Wait::Lost
        } else if fds[0].revents & libc::POLLIN != 0 {
            Wait::Ready
        } else {
            Wait::Timeout
        }
    }

    /// Captures until stopped (None) or until the device fails (the reason to end with).
    fn run(&mut self, stream: &mut Stream<'static>, core: &Weak<SourceCore>, stop: &StopSignal) -> Option<EndReason> {
        let m = self.mode;
        let duration = (1e6 / m.frame_rate()).round() as i64;
        // A wait longer than this without a frame is a stall: poll again (stop still works).
        let patience = Duration::from_micros((3 * duration.max(0)) as u64).max(Duration::from_millis(500));
        // The first next() queues every buffer, starts streaming and waits for a frame.
        stream.set_timeout(Duration::from_secs(2));
        let mut first = true;
        loop {
            if stop.is_raised() {
                return None;
            }
            if !first {
                match self.wait(stop, patience) {
                    Wait::Stop => return None,
                    Wait::Lost => return Some(EndReason::DeviceLost),
                    Wait::Timeout => continue,
                    Wait::Ready => {}
                }
            }
            let (buf, meta) = match stream.next() {
                Ok(x) => x,
                Err(e) if first && e.kind() == std::io::ErrorKind::TimedOut => return Some(EndReason::Error),
                Err(e) => return Some(read_failed(&e)),
            };
            first = false;
            let flags: u32 = meta.flags.bits();
            let used = if meta.bytesused == 0 { buf.len() } else { (meta.bytesused as usize).min(buf.len()) };
            let ts = if flags & BUF_FLAG_TIMESTAMP_MASK == BUF_FLAG_TIMESTAMP_MONOTONIC
                && (meta.timestamp.sec != 0 || meta.timestamp.usec != 0)
            {
                us(meta.timestamp.sec, meta.timestamp.usec as libc::c_long)
            } else {
                monotonic_us()
            };
            let erroneous = flags & BUF_FLAG_ERROR != 0;
            if let Err(end) = self.buffers.buffer(core, &buf[..used], meta.sequence, erroneous, ts, duration) {
                return end;
            }
        }
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
