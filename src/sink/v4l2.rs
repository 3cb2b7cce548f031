//! V4L2 output of a video track (a virtual camera, as v4l2loopback users want): a sink with its
//! own processor (so the source's thread never waits for the device) and an output thread that
//! writes each frame into an mmap buffer of the output node.
//!
//! The node is opened at once (an unknown id fails the open); its format is set from the first
//! frame: I420 as YU12, NV12 as NV12, any other format converted to I420 and written as YU12, at
//! the frame's visible size rounded down to even (4:2:0 needs even sizes: an odd last column or
//! row is cropped). On a multi-planar node that offers only their separate-planes forms, YM12
//! and NM12 are written instead (each plane in its own buffer plane). Later frames of another size are scaled to that size, of another format
//! converted. The output's frame interval is set from the first frame's duration where the
//! driver allows it. Four buffers are requested; a frame waits for a free one (the driver
//! returns them at its own rate) while newer frames queue in the sink's processor, which
//! discards the oldest beyond its length (counted as dropped). A node that goes away (ENODEV,
//! EINVAL, EIO, POLLERR while streaming) stops the output with NoDevice, which the stats report
//! and close returns. When the track ends, what is queued is written and shown (drained,
//! bounded), then streaming stops.
//!
//! Every ioctl, the mmap'd buffers and the poll() for a free one go through the one V4L2 layer
//! (`crate::v4l2`), whose stream never panics in Drop (the `v4l` crate's output stream did,
//! and its `next()` polled for POLLOUT before queueing a buffer that was never queued). The
//! node is left stopped however the output thread ends: the stream's Drop stops it.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::convert::{convert_with, copy_plane, scale, Image};
use crate::device::DeviceKind;
use crate::error::{err, Error, ErrorKind, Result};
use crate::frame::{Frame, Kind, Rect, VideoPixelFormat};
use crate::sink::processor::{EndPolicy, Processor, Wait};
use crate::sink::SinkThread;
use crate::source::worker::StopSignal;
use crate::track::Track;
use crate::v4l2::{BufType, Device, Format, PlaneFormat, Ready, Stream};

/// What a video output has done.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VideoOutputStats {
    /// Frames queued to the device.
    pub frames_written: u64,
    /// Frames not written: discarded by the sink's queue because the device took frames slower
    /// than the track delivered them, or not convertible to the negotiated format.
    pub frames_dropped: u64,
    /// The negotiated size (0 before the first frame).
    pub width: u32,
    pub height: u32,
    /// The negotiated V4L2 pixel format, as its four characters in a little-endian u32
    /// ("YU12" or "NV12"; "YM12" or "NM12" on a multi-planar node that offers only those);
    /// 0 before the first frame.
    pub fourcc: u32,
    /// Why output stopped early (NoDevice: the node went away; Io, Unsupported): None while
    /// it runs or when it stopped because it was asked to or the track ended.
    pub error: Option<ErrorKind>,
}

#[derive(Default)]
struct Counters {
    written: AtomicU64,
    rejected: AtomicU64,
    width: AtomicU32,
    height: AtomicU32,
    fourcc: AtomicU32,
}

struct Shared {
    stop: Arc<StopSignal>,
    counters: Counters,
}

/// Writes a video track to a V4L2 output node.
pub struct VideoOutput {
    shared: Arc<Shared>,
    run: SinkThread,
}

/// Queue length of the sink's processor.
const QUEUE: usize = 4;
/// mmap buffers requested from the driver.
const BUFFERS: u32 = 4;

/// The output node `device_id` names: an id of kind VideoOutput, or "default" (the first).
fn find_output(device_id: &str) -> Result<crate::device::DeviceInfo> {
    let list = crate::device::v4l2::enumerate()?;
    if device_id == "default" {
        list.into_iter()
            .find(|d| d.kind == DeviceKind::VideoOutput)
            .ok_or_else(|| err!(NoDevice, "no V4L2 output node is present"))
    } else {
        list.into_iter()
            .find(|d| d.kind == DeviceKind::VideoOutput && d.device_id == device_id)
            .ok_or_else(|| err!(NoDevice, "no V4L2 output {device_id:?}"))
    }
}

/// A pixel format a V4L2 output node takes from libmst, with the sizes the driver accepts in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputFormat {
    /// "YU12" (what I420 and converted frames are written as) or "NV12", or their
    /// separate-planes forms "YM12" and "NM12" (multi-planar nodes).
    pub fourcc: [u8; 4],
    /// The smallest and largest width x height the driver's VIDIOC_TRY_FMT gives back (equal
    /// when it fixes the size, e.g. to its video standard's).
    pub min: (u32, u32),
    pub max: (u32, u32),
}

/// The formats libmst writes (YU12, NV12, YM12, NM12) that the output node `device_id` offers, each with
/// the range of sizes its driver accepts, asked with VIDIOC_TRY_FMT (which changes nothing).
/// For listings (`mst devices`).
/// Errors: NoDevice (no such output), Io (it could not be opened or queried).
pub fn output_formats(device_id: &str) -> Result<Vec<OutputFormat>> {
    let (dev, t) = open_output(device_id)?;
    let offered = dev.enum_formats(t).map_err(|e| dev.error("VIDIOC_ENUM_FMT", &e))?;
    let mut list = Vec::new();
    for fourcc in [*b"YU12", *b"NV12", *b"YM12", *b"NM12"] {
        if !offered.contains(&fourcc) {
            continue;
        }
        let tried = |w: u32, h: u32| -> Result<(u32, u32)> {
            let f = dev.try_fmt(t, &Format::new(fourcc, w, h)).map_err(|e| dev.error("VIDIOC_TRY_FMT", &e))?;
            Ok((f.width, f.height))
        };
        let max = crate::frame::MAX_DIMENSION;
        list.push(OutputFormat { fourcc, min: tried(2, 2)?, max: tried(max, max)? });
    }
    Ok(list)
}

/// The output node `device_id` names, opened, and the queue output goes through (single- or
/// multi-planar). Errors: NoDevice, Busy, Io, Unsupported (not a streaming output node).
fn open_output(device_id: &str) -> Result<(Device, BufType)> {
    let info = find_output(device_id)?;
    let path = crate::device::v4l2::path_of(&info.device_id)?;
    let id = info.device_id;
    let dev = Device::open(&path, format!("V4L2 output \"{id}\""))?;
    let caps = dev.querycap().map_err(|e| dev.error("VIDIOC_QUERYCAP", &e))?;
    let t =
        caps.output_type().ok_or_else(|| err!(Unsupported, "V4L2 device \"{id}\" is not a streaming output node"))?;
    Ok((dev, t))
}

impl VideoOutput {
    /// Starts writing `track` (a video track) to the V4L2 output node `device_id` (an id of
    /// kind VideoOutput from device enumeration, or "default": the first one).
    /// Errors: Type (an audio track), NoDevice (unknown id, named), Busy, Unsupported (not a
    /// streaming output node), Io, NoMemory.
    pub fn open(track: &Track, device_id: &str) -> Result<VideoOutput> {
        if track.kind() != Kind::Video {
            return Err(err!(Type, "V4L2 output takes a video track, not an {} one", track.kind().name()));
        }
        let (dev, t) = open_output(device_id)?;
        let shared = Arc::new(Shared {
            stop: StopSignal::new().map_err(|e| err!(Io, "creating an eventfd: {e}"))?,
            counters: Counters::default(),
        });
        let processor = Arc::new(Processor::with_end_policy(track, QUEUE, EndPolicy::Drain));
        let s2 = shared.clone();
        let run = SinkThread::spawn(processor, shared.stop.clone(), "mst-v4l2-output", "video output", move |p, _| {
            Writer { dev: Arc::new(dev), t, out: None }.run(p, &s2)
        })?;
        Ok(VideoOutput { shared, run })
    }

    /// The counters so far; the final ones once stopped. Never waits.
    pub fn stats(&self) -> VideoOutputStats {
        let c = &self.shared.counters;
        VideoOutputStats {
            frames_written: c.written.load(Ordering::Relaxed),
            frames_dropped: self.run.processor().stats().discarded_in_queue() + c.rejected.load(Ordering::Relaxed),
            width: c.width.load(Ordering::Relaxed),
            height: c.height.load(Ordering::Relaxed),
            fourcc: c.fourcc.load(Ordering::Relaxed),
            error: self.run.error(),
        }
    }

    /// Stops streaming and closes the node: if the track has ended, what it delivered is
    /// written and shown first (as [`finish`](Self::finish)); if it is live, output stops now.
    /// The error that stopped the output (NoDevice, Io, Unsupported), if any; later calls
    /// return the first one's result.
    pub fn stop(&self) -> Result<()> {
        self.run.close()
    }

    /// `stop`, then the final counters.
    pub fn close(&self) -> Result<VideoOutputStats> {
        self.stop()?;
        Ok(self.stats())
    }

    /// Waits until the track has ended and everything it delivered was written and dequeued
    /// by the driver (at most 2 s once the last frame is queued), then closes.
    pub fn finish(&self) -> Result<VideoOutputStats> {
        self.run.finish()?;
        Ok(self.stats())
    }
}

/// Where each plane of a frame goes in a driver buffer: (buffer plane, offset, stride) for
/// Y, then UV (NV12) or U and V (I420). A format with one buffer plane (YU12, NV12) keeps the
/// chroma after the luma, at the luma's stride (halved for I420's U and V); NV12M and YUV420M
/// have a buffer plane each, with their own strides.
fn layout(format: VideoPixelFormat, planes: &[PlaneFormat], width: usize, height: usize) -> Vec<(usize, usize, usize)> {
    let s = (planes[0].stride as usize).max(width);
    let ch = height.div_ceil(2);
    let own = |p: usize, least: usize| (p, 0, (planes[p].stride as usize).max(least));
    match (format, planes.len()) {
        (VideoPixelFormat::Nv12, 1) => vec![(0, 0, s), (0, s * height, s)],
        (VideoPixelFormat::Nv12, _) => vec![own(0, width), own(1, width)],
        (_, 1) => vec![(0, 0, s), (0, s * height, s / 2), (0, s * height + s / 2 * ch, s / 2)],
        _ => vec![own(0, width), own(1, width / 2), own(2, width / 2)],
    }
}

/// The negotiated output: format, geometry and the mapped buffers.
struct Out {
    format: VideoPixelFormat,
    /// The V4L2 format set: YU12, NV12, YM12 or NM12.
    fourcc: [u8; 4],
    width: usize,
    height: usize,
    /// (buffer plane, offset, stride) of each frame plane ([`layout`]).
    layout: Vec<(usize, usize, usize)>,
    /// Bytes the driver takes in each buffer plane.
    sizes: Vec<u32>,
    stream: Stream,
}

struct Writer {
    dev: Arc<Device>,
    t: BufType,
    out: Option<Out>,
}

impl Writer {
    fn run(&mut self, processor: &Processor, shared: &Shared) -> Result<()> {
        loop {
            if shared.stop.is_raised() {
                return Ok(());
            }
            match processor.read(Wait::Forever) {
                Ok(d) => self.write(&d.frame, shared)?,
                Err(e) if e.kind == ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        self.drain(shared)
    }

    fn lost_error(&self) -> Error {
        err!(NoDevice, "{} went away while streaming", self.dev.who())
    }

    /// Takes back one buffer the driver is done with (non-blocking).
    fn dequeue(&mut self) -> Result<bool> {
        let Some(out) = self.out.as_mut() else { return Ok(false) };
        match out.stream.dequeue() {
            Ok(d) => Ok(d.is_some()),
            Err(e) if crate::v4l2::lost(&e) => Err(self.lost_error()),
            Err(e) => Err(self.dev.error("VIDIOC_DQBUF", &e)),
        }
    }

    /// A free buffer's index, waiting for the driver to return one; None when stopped.
    fn free_buffer(&mut self, shared: &Shared) -> Result<Option<u32>> {
        loop {
            if let Some(i) = self.out.as_ref().and_then(|o| o.stream.free_buffer()) {
                return Ok(Some(i));
            }
            if self.dequeue()? {
                continue;
            }
            match self.dev.wait(self.t, shared.stop.fd(), Duration::from_secs(1)) {
                Ready::Stop => return Ok(None),
                Ready::Lost => return Err(self.lost_error()),
                Ready::Buffer | Ready::Timeout => {}
            }
        }
    }

    fn negotiate(&mut self, frame: &Frame) -> Result<()> {
        let v = frame.video().ok_or_else(|| err!(Type, "not a video frame"))?;
        let format = if v.format == VideoPixelFormat::Nv12 { VideoPixelFormat::Nv12 } else { VideoPixelFormat::I420 };
        // The one-buffer fourcc unless the node offers only the separate-planes one.
        let (one, separate, planes) =
            if format == VideoPixelFormat::Nv12 { (*b"NV12", *b"NM12", 2) } else { (*b"YU12", *b"YM12", 3) };
        let dev = &self.dev;
        let offered = dev.enum_formats(self.t).map_err(|e| dev.error("VIDIOC_ENUM_FMT", &e))?;
        let (fourcc, planes) =
            if !offered.contains(&one) && offered.contains(&separate) { (separate, planes) } else { (one, 1) };
        let (w, h) = ((v.visible_rect.width & !1).max(2), (v.visible_rect.height & !1).max(2));
        let want = Format::new(fourcc, w, h);
        let got = dev.s_fmt(self.t, &want).map_err(|e| dev.error("VIDIOC_S_FMT", &e))?;
        if got.fourcc != want.fourcc
            || got.planes.len() != planes
            || got.width == 0
            || got.height == 0
            || got.width % 2 != 0
            || got.height % 2 != 0
        {
            return Err(err!(
                Unsupported,
                "{} set {}x{} {} when asked for {w}x{h} {}",
                dev.who(),
                got.width,
                got.height,
                String::from_utf8_lossy(&got.fourcc),
                String::from_utf8_lossy(&fourcc)
            ));
        }
        let (gw, gh) = (got.width as usize, got.height as usize);
        let layout = layout(format, &got.planes, gw, gh);
        // What each buffer plane must hold: the end of the last row of every frame plane in it.
        let mut sizes = vec![0u32; got.planes.len()];
        for (i, &(p, offset, stride)) in layout.iter().enumerate() {
            let rows = if i == 0 { gh } else { gh / 2 };
            sizes[p] = sizes[p].max((offset + stride * rows) as u32);
        }
        for (size, pf) in sizes.iter_mut().zip(&got.planes) {
            *size = (*size).max(pf.size);
        }
        if let Some(d) = v.duration.filter(|d| *d > 0) {
            // Best effort: many output drivers fix their rate (vivid's HDMI output follows its
            // DV timings) and refuse or ignore this.
            let _ = dev.s_parm(self.t, (d.min(u32::MAX as i64) as u32, 1_000_000));
        }
        let stream = Stream::mmap(dev, self.t, BUFFERS)?;
        if stream.planes() != sizes.len()
            || (0..stream.count() as u32).any(|i| {
                sizes.iter().enumerate().any(|(p, s)| stream.plane(i, p).is_none_or(|b| b.len() < *s as usize))
            })
        {
            return Err(err!(Io, "{}: buffers smaller than the {gw}x{gh} image", dev.who()));
        }
        self.out = Some(Out { format, fourcc, width: gw, height: gh, layout, sizes, stream });
        Ok(())
    }

    /// The frame as the negotiated format and size (converted or scaled when it differs).
    fn prepare(&self, frame: &Frame) -> Result<Option<Frame>> {
        let out = self.out.as_ref().expect("negotiated");
        let v = frame.video().ok_or_else(|| err!(Type, "not a video frame"))?;
        let vr = v.visible_rect;
        let same_size = (vr.width & !1) as usize == out.width && (vr.height & !1) as usize == out.height;
        if v.format == out.format && same_size {
            return Ok(None);
        }
        let img = frame.image(vr).ok_or_else(|| err!(Type, "not a video frame"))?;
        let converted = if v.format == out.format {
            None
        } else {
            Some(Frame::video_with(out.format, vr.width, vr.height, v.timestamp, v.duration, |dst| {
                convert_with(&img, dst, v.color_space.yuv_encoding())
            })?)
        };
        if same_size {
            return Ok(converted);
        }
        let src = match &converted {
            Some(c) => c.image(Rect { x: 0, y: 0, width: vr.width, height: vr.height }).expect("video"),
            None => img,
        };
        let scaled =
            Frame::video_with(out.format, out.width as u32, out.height as u32, v.timestamp, v.duration, |dst| {
                scale(&src, dst)
            })?;
        Ok(Some(scaled))
    }

    fn write(&mut self, frame: &Frame, shared: &Shared) -> Result<()> {
        let Some(v) = frame.video().copied() else { return Ok(()) };
        if self.out.is_none() {
            self.negotiate(frame)?;
            let out = self.out.as_ref().expect("negotiated");
            let c = &shared.counters;
            c.width.store(out.width as u32, Ordering::Relaxed);
            c.height.store(out.height as u32, Ordering::Relaxed);
            c.fourcc.store(u32::from_le_bytes(out.fourcc), Ordering::Relaxed);
        }
        let prepared = match self.prepare(frame) {
            Ok(p) => p,
            Err(_) => {
                shared.counters.rejected.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
        };
        let src_frame = prepared.as_ref().unwrap_or(frame);
        let Some(index) = self.free_buffer(shared)? else { return Ok(()) };
        let out = self.out.as_mut().expect("negotiated");
        let (w, h) = (out.width, out.height);
        // A prepared frame is exactly w x h; the track's own frame is cropped to even sizes.
        let rect = if prepared.is_some() {
            Rect { x: 0, y: 0, width: w as u32, height: h as u32 }
        } else {
            Rect { width: w as u32, height: h as u32, ..v.visible_rect }
        };
        let img: Image = src_frame.image(rect).ok_or_else(|| err!(Type, "not a video frame"))?;
        let (cw, ch) = (w / 2, h / 2);
        for (i, &(p, offset, stride)) in out.layout.iter().enumerate() {
            let (row, rows) = match (i, out.format) {
                (0, _) => (w, h),
                (_, VideoPixelFormat::Nv12) => (2 * cw, ch),
                _ => (cw, ch),
            };
            let buf = out.stream.plane_mut(index, p).expect("a free buffer's plane");
            copy_plane(img.planes[i], img.strides[i], &mut buf[offset..], stride, row, rows);
        }
        let sizes = out.sizes.clone();
        if let Err(e) = out.stream.queue(index, &sizes, v.timestamp) {
            return Err(if crate::v4l2::lost(&e) && out.stream.streaming() {
                self.lost_error()
            } else {
                self.dev.error("VIDIOC_QBUF", &e)
            });
        }
        shared.counters.written.fetch_add(1, Ordering::Relaxed);
        if !out.stream.streaming() {
            out.stream.start().map_err(|e| self.dev.error("VIDIOC_STREAMON", &e))?;
        }
        Ok(())
    }

    /// Waits (at most 2 s) until the driver has taken every queued buffer.
    fn drain(&mut self, shared: &Shared) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let Some(out) = self.out.as_ref() else { return Ok(()) };
            if !out.stream.streaming() || out.stream.all_returned() || Instant::now() >= deadline {
                return Ok(());
            }
            if self.dequeue()? {
                continue;
            }
            match self.dev.wait(self.t, shared.stop.fd(), Duration::from_millis(100)) {
                Ready::Stop => return Ok(()),
                Ready::Lost => return Err(self.lost_error()),
                Ready::Buffer | Ready::Timeout => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::generator::Generator;

    #[test]
    fn planes_go_where_the_format_keeps_them() {
        let pf = |stride| PlaneFormat { stride, size: 0 };
        // 8x4: NV12 and YU12 keep the chroma after the luma, at its stride (halved).
        assert_eq!(layout(VideoPixelFormat::Nv12, &[pf(16)], 8, 4), [(0, 0, 16), (0, 64, 16)]);
        assert_eq!(layout(VideoPixelFormat::I420, &[pf(16)], 8, 4), [(0, 0, 16), (0, 64, 8), (0, 80, 8)]);
        // NM12 and YM12: each in its own buffer plane, at that plane's stride.
        assert_eq!(layout(VideoPixelFormat::Nv12, &[pf(16), pf(32)], 8, 4), [(0, 0, 16), (1, 0, 32)]);
        assert_eq!(layout(VideoPixelFormat::I420, &[pf(8), pf(12), pf(0)], 8, 4), [(0, 0, 8), (1, 0, 12), (2, 0, 4)]);
    }

    #[test]
    fn open_checks_the_track_and_the_id() {
        let audio = Generator::new(Kind::Audio);
        assert_eq!(VideoOutput::open(audio.track(), "default").err().map(|e| e.kind), Some(ErrorKind::Type));
        let video = Generator::new(Kind::Video);
        let e = VideoOutput::open(video.track(), "v4l2:no-such-bus:0").err().expect("no such node");
        assert_eq!(e.kind, ErrorKind::NoDevice, "{e}");
        assert!(e.message.contains("no-such-bus"), "{e}");
    }
}
