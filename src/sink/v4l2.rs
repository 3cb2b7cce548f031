//! V4L2 output of a video track (a virtual camera, as v4l2loopback users want): a sink with its
//! own processor (so the source's thread never waits for the device) and an output thread that
//! writes each frame into an mmap buffer of the output node.
//!
//! The node is opened at once (an unknown id fails the open); its format is set from the first
//! frame: I420 as YU12, NV12 as NV12, any other format converted to I420 and written as YU12, at
//! the frame's visible size rounded down to even (4:2:0 needs even sizes: an odd last column or
//! row is cropped). Later frames of another size are scaled to that size, of another format
//! converted. The output's frame interval is set from the first frame's duration where the
//! driver allows it. Four buffers are requested; a frame waits for a free one (the driver
//! returns them at its own rate) while newer frames queue in the sink's processor, which
//! discards the oldest beyond its length (counted as dropped). A node that goes away (ENODEV,
//! EINVAL, EIO, POLLERR while streaming) stops the output with NoDevice, which the stats report
//! and close returns. When the track ends, what is queued is written and shown (drained,
//! bounded), then streaming stops.
//!
//! Streaming uses plain ioctls (REQBUFS, QUERYBUF, mmap, QBUF, DQBUF, STREAMON, STREAMOFF)
//! rather than the `v4l` crate's mmap stream: its output `next()` polls for POLLOUT before
//! queueing a buffer that was never queued (which blocks until a timeout) and its Drop panics on
//! errors other than ENODEV. The format is set through the crate with stride and size zeroed
//! (it re-sends the previous ones otherwise).

use std::os::raw::c_void;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use v4l::buffer::Type;
use v4l::video::Output as _;
use v4l::{Device, FourCC, Fraction};

use crate::convert::{convert_with, copy_plane, scale, Image};
use crate::device::DeviceKind;
use crate::error::{err, Error, ErrorKind, Result};
use crate::frame::{Frame, Kind, Rect, VideoPixelFormat};
use crate::sink::processor::{EndPolicy, Processor, Wait};
use crate::sink::SinkThread;
use crate::source::worker::StopSignal;
use crate::track::Track;

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
    /// ("YU12" or "NV12"); 0 before the first frame.
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

fn io_error(device: &str, what: &str, e: &std::io::Error) -> Error {
    let kind = match e.raw_os_error() {
        Some(libc::ENODEV) | Some(libc::ENOENT) | Some(libc::ENXIO) => ErrorKind::NoDevice,
        Some(libc::EBUSY) => ErrorKind::Busy,
        _ => ErrorKind::Io,
    };
    Error::new(kind, format!("V4L2 output \"{device}\": {what}: {e}"))
}

/// Errors that mean the node went away while streaming.
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
    /// "YU12" (what I420 and converted frames are written as) or "NV12".
    pub fourcc: [u8; 4],
    /// The smallest and largest width x height the driver's VIDIOC_TRY_FMT gives back (equal
    /// when it fixes the size, e.g. to its video standard's).
    pub min: (u32, u32),
    pub max: (u32, u32),
}

/// The formats libmst writes (YU12, NV12) that the output node `device_id` offers, each with
/// the range of sizes its driver accepts, asked with VIDIOC_TRY_FMT (which changes nothing).
/// For listings (`mst devices`).
/// Errors: NoDevice (no such output), Io (it could not be opened or queried).
pub fn output_formats(device_id: &str) -> Result<Vec<OutputFormat>> {
    let info = find_output(device_id)?;
    let path = crate::device::v4l2::path_of(&info.device_id)?;
    let dev = Device::with_path(&path).map_err(|e| io_error(device_id, "opening", &e))?;
    let offered = dev.enum_formats().map_err(|e| io_error(device_id, "VIDIOC_ENUM_FMT", &e))?;
    let mut list = Vec::new();
    for fourcc in [*b"YU12", *b"NV12"] {
        if !offered.iter().any(|f| f.fourcc.repr == fourcc) {
            continue;
        }
        let tried = |w: u32, h: u32| -> Result<(u32, u32)> {
            // SAFETY: v4l2_format is a plain C struct; all-zero is a valid value.
            let mut f: v4l::v4l_sys::v4l2_format = unsafe { std::mem::zeroed() };
            f.type_ = Type::VideoOutput as u32;
            // SAFETY: `pix` is the union member of the single-planar output type set above.
            let pix = unsafe { &mut f.fmt.pix };
            pix.width = w;
            pix.height = h;
            pix.pixelformat = u32::from_le_bytes(fourcc);
            pix.field = v4l::v4l_sys::v4l2_field_V4L2_FIELD_NONE;
            ioctl(dev.handle().fd(), v4l::v4l2::vidioc::VIDIOC_TRY_FMT, &mut f)
                .map_err(|e| io_error(device_id, "VIDIOC_TRY_FMT", &e))?;
            // SAFETY: the driver filled the same union member.
            let pix = unsafe { f.fmt.pix };
            Ok((pix.width, pix.height))
        };
        let max = crate::frame::MAX_DIMENSION;
        list.push(OutputFormat { fourcc, min: tried(2, 2)?, max: tried(max, max)? });
    }
    Ok(list)
}

fn lost(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENODEV) | Some(libc::EINVAL) | Some(libc::EIO) | Some(libc::EPIPE) | Some(libc::ENXIO)
    )
}

impl VideoOutput {
    /// Starts writing `track` (a video track) to the V4L2 output node `device_id` (an id of
    /// kind VideoOutput from device enumeration, or "default": the first one).
    /// Errors: Type (an audio track), NoDevice (unknown id, named), Busy, Unsupported (not a
    /// single-planar streaming output node), Io, NoMemory.
    pub fn open(track: &Track, device_id: &str) -> Result<VideoOutput> {
        if track.kind() != Kind::Video {
            return Err(err!(Type, "V4L2 output takes a video track, not an {} one", track.kind().name()));
        }
        let info = find_output(device_id)?;
        let path = crate::device::v4l2::path_of(&info.device_id)?;
        let id = info.device_id.clone();
        let dev = Device::with_path(&path).map_err(|e| io_error(&id, "opening", &e))?;
        let caps = dev.query_caps().map_err(|e| io_error(&id, "VIDIOC_QUERYCAP", &e))?;
        use v4l::capability::Flags;
        if !caps.capabilities.contains(Flags::VIDEO_OUTPUT) || !caps.capabilities.contains(Flags::STREAMING) {
            return Err(err!(Unsupported, "V4L2 device \"{id}\" is not a single-planar streaming output node (multi-planar output is not supported yet)"));
        }
        let shared = Arc::new(Shared {
            stop: StopSignal::new().map_err(|e| err!(Io, "creating an eventfd: {e}"))?,
            counters: Counters::default(),
        });
        let processor = Arc::new(Processor::with_end_policy(track, QUEUE, EndPolicy::Drain));
        let s2 = shared.clone();
        let run = SinkThread::spawn(processor, shared.stop.clone(), "mst-v4l2-output", "video output", move |p, _| {
            Writer { fd: dev.handle().fd(), dev, id, out: None }.run(p, &s2)
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

/// One mmap buffer of the output queue.
struct Mapped {
    ptr: *mut u8,
    len: usize,
}

/// The negotiated output: format, geometry and the mapped buffers.
struct Out {
    format: VideoPixelFormat,
    width: usize,
    height: usize,
    /// Bytes between rows of the luma plane.
    stride: usize,
    size: usize,
    bufs: Vec<Mapped>,
    free: Vec<u32>,
    streaming: bool,
}

struct Writer {
    dev: Device,
    fd: std::os::raw::c_int,
    id: String,
    out: Option<Out>,
}

// SAFETY: the mapped pointers are only used by the thread that owns the Writer.
unsafe impl Send for Writer {}

enum Ready {
    Io,
    Stop,
    Lost,
    Timeout,
}

fn buffer_desc() -> v4l::v4l_sys::v4l2_buffer {
    // SAFETY: v4l2_buffer is a plain C struct; all-zero is a valid value.
    let mut b: v4l::v4l_sys::v4l2_buffer = unsafe { std::mem::zeroed() };
    b.type_ = Type::VideoOutput as u32;
    b.memory = v4l::memory::Memory::Mmap as u32;
    b
}

/// One ioctl with a pointer argument.
fn ioctl<T>(fd: std::os::raw::c_int, request: v4l::v4l2::vidioc::_IOC_TYPE, arg: &mut T) -> std::io::Result<()> {
    // SAFETY: `arg` is the live struct the request expects (each caller passes the matching one).
    unsafe { v4l::v4l2::ioctl(fd, request, arg as *mut T as *mut c_void) }
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

    /// Waits for a buffer the driver is done with (POLLOUT) or the stop signal.
    fn wait(&self, shared: &Shared, timeout: Duration) -> Ready {
        let mut fds = [
            libc::pollfd { fd: self.fd, events: libc::POLLOUT, revents: 0 },
            libc::pollfd { fd: shared.stop.fd(), events: libc::POLLIN, revents: 0 },
        ];
        // SAFETY: fds is a live array of two pollfd for the duration of the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, timeout.as_millis().min(i32::MAX as u128) as i32) };
        if n < 0 {
            return if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                Ready::Timeout
            } else {
                Ready::Lost
            };
        }
        if fds[1].revents != 0 || shared.stop.is_raised() {
            Ready::Stop
        } else if fds[0].revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 {
            Ready::Lost
        } else if fds[0].revents & libc::POLLOUT != 0 {
            Ready::Io
        } else {
            Ready::Timeout
        }
    }

    fn lost_error(&self) -> Error {
        err!(NoDevice, "V4L2 output \"{}\" went away while streaming", self.id)
    }

    /// Takes back one buffer the driver is done with (non-blocking).
    fn dequeue(&mut self) -> Result<bool> {
        let mut b = buffer_desc();
        match ioctl(self.fd, v4l::v4l2::vidioc::VIDIOC_DQBUF, &mut b) {
            Ok(()) => {
                if let Some(out) = self.out.as_mut() {
                    out.free.push(b.index);
                }
                Ok(true)
            }
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => Ok(false),
            Err(e) if lost(&e) => Err(self.lost_error()),
            Err(e) => Err(io_error(&self.id, "VIDIOC_DQBUF", &e)),
        }
    }

    /// A free buffer's index, waiting for the driver to return one; None when stopped.
    fn free_buffer(&mut self, shared: &Shared) -> Result<Option<u32>> {
        loop {
            if let Some(i) = self.out.as_mut().and_then(|o| o.free.pop()) {
                return Ok(Some(i));
            }
            if self.dequeue()? {
                continue;
            }
            match self.wait(shared, Duration::from_secs(1)) {
                Ready::Stop => return Ok(None),
                Ready::Lost => return Err(self.lost_error()),
                Ready::Io | Ready::Timeout => {}
            }
        }
    }

    fn negotiate(&mut self, frame: &Frame) -> Result<()> {
        let v = frame.video().ok_or_else(|| err!(Type, "not a video frame"))?;
        let format = if v.format == VideoPixelFormat::Nv12 { VideoPixelFormat::Nv12 } else { VideoPixelFormat::I420 };
        let fourcc = if format == VideoPixelFormat::Nv12 { *b"NV12" } else { *b"YU12" };
        let (w, h) = ((v.visible_rect.width & !1).max(2), (v.visible_rect.height & !1).max(2));
        let id = self.id.clone();
        let mut fmt = self.dev.format().map_err(|e| io_error(&id, "VIDIOC_G_FMT", &e))?;
        fmt.width = w;
        fmt.height = h;
        fmt.fourcc = FourCC::new(&fourcc);
        fmt.field_order = v4l::format::FieldOrder::Progressive;
        fmt.stride = 0;
        fmt.size = 0;
        let got = self.dev.set_format(&fmt).map_err(|e| io_error(&id, "VIDIOC_S_FMT", &e))?;
        if got.fourcc != fmt.fourcc || got.width == 0 || got.height == 0 || got.width % 2 != 0 || got.height % 2 != 0 {
            return Err(err!(
                Unsupported,
                "V4L2 output \"{id}\" set {}x{} {} when asked for {w}x{h} {}",
                got.width,
                got.height,
                got.fourcc,
                fmt.fourcc
            ));
        }
        let (gw, gh) = (got.width as usize, got.height as usize);
        let stride = (got.stride as usize).max(gw);
        let size = (got.size as usize).max(stride * gh * 3 / 2);
        if let Some(d) = v.duration.filter(|d| *d > 0) {
            // Best effort: many output drivers fix their rate (vivid's HDMI output follows its
            // DV timings) and refuse or ignore this.
            let _ = self.dev.set_params(&v4l::video::output::Parameters::new(Fraction::new(
                d.min(u32::MAX as i64) as u32,
                1_000_000,
            )));
        }
        // Buffers.
        // SAFETY: v4l2_requestbuffers is a plain C struct; all-zero is a valid value.
        let mut req: v4l::v4l_sys::v4l2_requestbuffers = unsafe { std::mem::zeroed() };
        req.type_ = Type::VideoOutput as u32;
        req.memory = v4l::memory::Memory::Mmap as u32;
        req.count = BUFFERS;
        ioctl(self.fd, v4l::v4l2::vidioc::VIDIOC_REQBUFS, &mut req).map_err(|e| io_error(&id, "VIDIOC_REQBUFS", &e))?;
        let mut out =
            Out { format, width: gw, height: gh, stride, size, bufs: Vec::new(), free: Vec::new(), streaming: false };
        for index in 0..req.count {
            let mut b = buffer_desc();
            b.index = index;
            if let Err(e) = ioctl(self.fd, v4l::v4l2::vidioc::VIDIOC_QUERYBUF, &mut b) {
                self.out = Some(out);
                return Err(io_error(&id, "VIDIOC_QUERYBUF", &e));
            }
            let len = b.length as usize;
            // SAFETY: maps the buffer the driver just described; unmapped in release().
            let ptr = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED,
                    self.fd,
                    b.m.offset as libc::off_t,
                )
            };
            if ptr == libc::MAP_FAILED {
                let e = std::io::Error::last_os_error();
                self.out = Some(out);
                return Err(io_error(&id, "mmap", &e));
            }
            out.bufs.push(Mapped { ptr: ptr as *mut u8, len });
            out.free.push(index);
        }
        out.free.reverse();
        if out.bufs.iter().any(|b| b.len < size) {
            self.out = Some(out);
            return Err(err!(Io, "V4L2 output \"{id}\": buffers smaller than the {size}-byte image"));
        }
        self.out = Some(out);
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
            c.fourcc.store(
                u32::from_le_bytes(if out.format == VideoPixelFormat::Nv12 { *b"NV12" } else { *b"YU12" }),
                Ordering::Relaxed,
            );
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
        let out = self.out.as_ref().expect("negotiated");
        let (w, h, s) = (out.width, out.height, out.stride);
        // A prepared frame is exactly w x h; the track's own frame is cropped to even sizes.
        let rect = if prepared.is_some() {
            Rect { x: 0, y: 0, width: w as u32, height: h as u32 }
        } else {
            Rect { width: w as u32, height: h as u32, ..v.visible_rect }
        };
        let img: Image = src_frame.image(rect).ok_or_else(|| err!(Type, "not a video frame"))?;
        let m = &out.bufs[index as usize];
        // SAFETY: the buffer is mapped (len bytes) and dequeued: the driver does not use it.
        let buf = unsafe { std::slice::from_raw_parts_mut(m.ptr, m.len) };
        let (cw, ch) = (w / 2, h / 2);
        match out.format {
            VideoPixelFormat::Nv12 => {
                copy_plane(img.planes[0], img.strides[0], buf, s, w, h);
                copy_plane(img.planes[1], img.strides[1], &mut buf[s * h..], s, 2 * cw, ch);
            }
            _ => {
                let cs = s / 2;
                copy_plane(img.planes[0], img.strides[0], buf, s, w, h);
                copy_plane(img.planes[1], img.strides[1], &mut buf[s * h..], cs, cw, ch);
                copy_plane(img.planes[2], img.strides[2], &mut buf[s * h + cs * ch..], cs, cw, ch);
            }
        }
        let size = out.size;
        let mut b = buffer_desc();
        b.index = index;
        b.bytesused = size as u32;
        b.field = 1; // V4L2_FIELD_NONE
        let ts = v.timestamp.max(0);
        b.timestamp.tv_sec = (ts / 1_000_000) as _;
        b.timestamp.tv_usec = (ts % 1_000_000) as _;
        if let Err(e) = ioctl(self.fd, v4l::v4l2::vidioc::VIDIOC_QBUF, &mut b) {
            if let Some(o) = self.out.as_mut() {
                o.free.push(index);
            }
            return Err(if lost(&e) && self.out.as_ref().is_some_and(|o| o.streaming) {
                self.lost_error()
            } else {
                io_error(&self.id, "VIDIOC_QBUF", &e)
            });
        }
        shared.counters.written.fetch_add(1, Ordering::Relaxed);
        let out = self.out.as_mut().expect("negotiated");
        if !out.streaming {
            let mut t = Type::VideoOutput as u32;
            ioctl(self.fd, v4l::v4l2::vidioc::VIDIOC_STREAMON, &mut t)
                .map_err(|e| io_error(&self.id, "VIDIOC_STREAMON", &e))?;
            out.streaming = true;
        }
        Ok(())
    }

    /// Waits (at most 2 s) until the driver has taken every queued buffer.
    fn drain(&mut self, shared: &Shared) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let Some(out) = self.out.as_ref() else { return Ok(()) };
            if !out.streaming || out.free.len() >= out.bufs.len() || Instant::now() >= deadline {
                return Ok(());
            }
            if self.dequeue()? {
                continue;
            }
            match self.wait(shared, Duration::from_millis(100)) {
                Ready::Stop => return Ok(()),
                Ready::Lost => return Err(self.lost_error()),
                Ready::Io | Ready::Timeout => {}
            }
        }
    }

    /// STREAMOFF, unmap, free the buffers; errors are ignored (the node may be gone).
    fn stop_streaming(&mut self) {
        let Some(out) = self.out.take() else { return };
        if out.streaming {
            let mut t = Type::VideoOutput as u32;
            let _ = ioctl(self.fd, v4l::v4l2::vidioc::VIDIOC_STREAMOFF, &mut t);
        }
        for m in &out.bufs {
            // SAFETY: mapped in negotiate() with this length; no slice of it outlives write().
            unsafe { libc::munmap(m.ptr as *mut c_void, m.len) };
        }
        // SAFETY: v4l2_requestbuffers is a plain C struct; all-zero is a valid value.
        let mut req: v4l::v4l_sys::v4l2_requestbuffers = unsafe { std::mem::zeroed() };
        req.type_ = Type::VideoOutput as u32;
        req.memory = v4l::memory::Memory::Mmap as u32;
        let _ = ioctl(self.fd, v4l::v4l2::vidioc::VIDIOC_REQBUFS, &mut req);
    }
}

/// The node is left stopped however the output thread ends, a contained panic included.
impl Drop for Writer {
    fn drop(&mut self) {
        self.stop_streaming();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::generator::Generator;

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
