//! The one V4L2 layer: every ioctl libmst makes on a video node (QUERYCAP, ENUM_FMT,
//! ENUM_FRAMESIZES, ENUM_FRAMEINTERVALS, G_FMT / S_FMT / TRY_FMT, G_PARM / S_PARM, REQBUFS,
//! QUERYBUF, QBUF / DQBUF, EXPBUF, STREAMON / STREAMOFF), mmap streaming, the poll() that waits for a
//! buffer or a stop signal, and the one mapping from errno to libmst's status ([`error`],
//! [`lost`]). Enumeration (`device::v4l2`), capture (`source::v4l2`) and output (`sink::v4l2`)
//! all go through it, single- and multi-planar alike ([`BufType`]).
//! Camera controls (QUERY_EXT_CTRL, QUERYMENU, G/S_EXT_CTRLS) are [`controls`]'s, which
//! opens its own fd and declares its own requests (it was written beside this layer).
//!
//! The kernel structs are the `v4l` crate's bindgen bindings of linux/videodev2.h
//! (`v4l::v4l_sys`, from v4l2-sys-mit), so no layout is copied by hand; its request numbers
//! (`v4l::v4l2::vidioc`) are computed from those structs' sizes. Nothing else of that crate is
//! used: its `Device` / `Stream` layer cannot lend a driver buffer beyond one `next()` call
//! (which a frame that refers to the driver's buffer needs), handles no multi-planar queue,
//! starts streaming inside its first `next()` (which blocks until the first frame, so a stop
//! could not be honoured before it), and its Drop panics on STREAMOFF / REQBUFS errors other
//! than ENODEV (which capture had to contain on its own thread). Its `format()` also handed back
//! the previous stride and size for `set_format` to re-send.
//!
//! Buffers are tracked by whoever holds them: [`Stream`] hands out a dequeued buffer's planes
//! only while the driver does not own it, and unmaps and frees the buffers (STREAMOFF,
//! REQBUFS 0, errors ignored: the node may be gone) when dropped.

use std::ffi::c_void;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use v4l::v4l2::vidioc;
pub(crate) use v4l::v4l_sys as sys;

use crate::error::{Error, ErrorKind};

/// A camera's controls (Image Capture's properties), on a fd of their own.
pub(crate) mod controls;

/// A V4L2 buffer queue type libmst uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BufType {
    Capture,
    Output,
    CaptureMplane,
    OutputMplane,
}

impl BufType {
    fn raw(self) -> u32 {
        match self {
            BufType::Capture => sys::v4l2_buf_type_V4L2_BUF_TYPE_VIDEO_CAPTURE,
            BufType::Output => sys::v4l2_buf_type_V4L2_BUF_TYPE_VIDEO_OUTPUT,
            BufType::CaptureMplane => sys::v4l2_buf_type_V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE,
            BufType::OutputMplane => sys::v4l2_buf_type_V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE,
        }
    }

    /// The multi-planar API (struct v4l2_pix_format_mplane, v4l2_plane arrays).
    pub(crate) fn mplane(self) -> bool {
        matches!(self, BufType::CaptureMplane | BufType::OutputMplane)
    }

    fn output(self) -> bool {
        matches!(self, BufType::Output | BufType::OutputMplane)
    }
}

/// The errno → status mapping of every V4L2 call: `who` (e.g. `V4L2 device "v4l2:..."`)
/// failed doing `what`.
pub(crate) fn error(who: &str, what: &str, e: &io::Error) -> Error {
    let kind = match e.raw_os_error() {
        Some(libc::ENODEV) | Some(libc::ENOENT) | Some(libc::ENXIO) => ErrorKind::NoDevice,
        Some(libc::EBUSY) => ErrorKind::Busy,
        Some(libc::ENOMEM) => ErrorKind::NoMemory,
        _ => ErrorKind::Io,
    };
    Error::new(kind, format!("{who}: {what}: {e}"))
}

/// One ioctl with a pointer argument on `fd`, retried on EINTR: every V4L2 call, the
/// controls' on their own fd included, goes through here.
pub(crate) fn ioctl<T>(fd: BorrowedFd<'_>, request: vidioc::_IOC_TYPE, arg: &mut T) -> io::Result<()> {
    loop {
        // SAFETY: `arg` is the live struct `request` expects: every caller passes the one
        // videodev2.h pairs with it (and the request number encodes its size).
        let r = unsafe { libc::ioctl(fd.as_raw_fd(), request as _, arg as *mut T as *mut c_void) };
        if r >= 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// Errors of a streaming call (QBUF, DQBUF, poll) that mean the node went away: a driver that
/// is unbound answers ENODEV, or EINVAL / EIO / EPIPE once its queue was torn down.
pub(crate) fn lost(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENODEV) | Some(libc::EINVAL) | Some(libc::EIO) | Some(libc::EPIPE) | Some(libc::ENXIO)
    )
}

/// A NUL-padded fixed-size string field.
fn c_field(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).trim().to_string()
}

/// What VIDIOC_QUERYCAP says about a node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Capability {
    pub driver: String,
    pub card: String,
    pub bus_info: String,
    /// The node's capabilities: device_caps when the driver fills it (V4L2_CAP_DEVICE_CAPS),
    /// else the whole device's.
    pub caps: u32,
}

impl Capability {
    fn streaming(&self, single: u32, multi: u32, s: BufType, m: BufType) -> Option<BufType> {
        if self.caps & sys::V4L2_CAP_STREAMING == 0 {
            None
        } else if self.caps & single != 0 {
            Some(s)
        } else if self.caps & multi != 0 {
            Some(m)
        } else {
            None
        }
    }

    /// The queue a streaming capture node is used through (single-planar when it has both).
    pub(crate) fn capture_type(&self) -> Option<BufType> {
        self.streaming(
            sys::V4L2_CAP_VIDEO_CAPTURE,
            sys::V4L2_CAP_VIDEO_CAPTURE_MPLANE,
            BufType::Capture,
            BufType::CaptureMplane,
        )
    }

    /// The queue a streaming output node is used through (single-planar when it has both).
    pub(crate) fn output_type(&self) -> Option<BufType> {
        self.streaming(
            sys::V4L2_CAP_VIDEO_OUTPUT,
            sys::V4L2_CAP_VIDEO_OUTPUT_MPLANE,
            BufType::Output,
            BufType::OutputMplane,
        )
    }
}

/// One plane of a format: bytes between rows, and bytes the plane's buffer holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PlaneFormat {
    pub stride: u32,
    pub size: u32,
}

/// A pixel format on a queue (struct v4l2_pix_format, or v4l2_pix_format_mplane).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Format {
    pub fourcc: [u8; 4],
    pub width: u32,
    pub height: u32,
    /// One entry per buffer plane: one for single-planar queues and for formats that keep all
    /// their planes in one buffer; two for NV12M, three for YUV420M.
    pub planes: Vec<PlaneFormat>,
    /// videodev2.h's colour enums (0: the colorspace's default).
    pub colorspace: u32,
    pub ycbcr_enc: u32,
    pub quantization: u32,
    pub xfer_func: u32,
}

impl Format {
    /// A progressive `fourcc` format of `width` x `height`, strides and sizes left to the driver.
    pub(crate) fn new(fourcc: [u8; 4], width: u32, height: u32) -> Format {
        Format { fourcc, width, height, ..Format::default() }
    }

    fn to_raw(&self, t: BufType) -> sys::v4l2_format {
        // SAFETY: v4l2_format is a plain C struct; all-zero is a valid value.
        let mut f: sys::v4l2_format = unsafe { std::mem::zeroed() };
        f.type_ = t.raw();
        if t.mplane() {
            // SAFETY: the union member of a multi-planar type.
            let mp = unsafe { &mut f.fmt.pix_mp };
            mp.width = self.width;
            mp.height = self.height;
            mp.pixelformat = u32::from_le_bytes(self.fourcc);
            mp.field = sys::v4l2_field_V4L2_FIELD_NONE;
        } else {
            // SAFETY: the union member of a single-planar type.
            let pix = unsafe { &mut f.fmt.pix };
            pix.width = self.width;
            pix.height = self.height;
            pix.pixelformat = u32::from_le_bytes(self.fourcc);
            pix.field = sys::v4l2_field_V4L2_FIELD_NONE;
        }
        f
    }

    fn from_raw(f: &sys::v4l2_format, t: BufType) -> Format {
        if t.mplane() {
            // SAFETY: the driver filled the multi-planar member (it is plain integers).
            let mp = unsafe { f.fmt.pix_mp };
            let n = (mp.num_planes as usize).clamp(1, sys::VIDEO_MAX_PLANES as usize);
            let plane_fmt = mp.plane_fmt;
            Format {
                fourcc: mp.pixelformat.to_le_bytes(),
                width: mp.width,
                height: mp.height,
                planes: plane_fmt[..n]
                    .iter()
                    .map(|p| PlaneFormat { stride: p.bytesperline, size: p.sizeimage })
                    .collect(),
                colorspace: mp.colorspace,
                // SAFETY: ycbcr_enc and hsv_enc are both one byte.
                ycbcr_enc: unsafe { mp.__bindgen_anon_1.ycbcr_enc } as u32,
                quantization: mp.quantization as u32,
                xfer_func: mp.xfer_func as u32,
            }
        } else {
            // SAFETY: the driver filled the single-planar member (plain integers).
            let pix = unsafe { f.fmt.pix };
            Format {
                fourcc: pix.pixelformat.to_le_bytes(),
                width: pix.width,
                height: pix.height,
                planes: vec![PlaneFormat { stride: pix.bytesperline, size: pix.sizeimage }],
                colorspace: pix.colorspace,
                // SAFETY: ycbcr_enc and hsv_enc are both u32.
                ycbcr_enc: unsafe { pix.__bindgen_anon_1.ycbcr_enc },
                quantization: pix.quantization,
                xfer_func: pix.xfer_func,
            }
        }
    }
}

/// The frame sizes a format offers (VIDIOC_ENUM_FRAMESIZES).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FrameSizes {
    Discrete {
        width: u32,
        height: u32,
    },
    /// Stepwise or continuous (step 1).
    Stepwise {
        min: (u32, u32),
        max: (u32, u32),
        step: (u32, u32),
    },
}

/// The frame intervals a size offers (VIDIOC_ENUM_FRAMEINTERVALS), as (numerator, denominator)
/// seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FrameIntervals {
    Discrete((u32, u32)),
    /// Stepwise or continuous, from the shortest interval to the longest.
    Stepwise {
        min: (u32, u32),
        max: (u32, u32),
    },
}

/// What poll() on a node and a stop eventfd found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ready {
    /// A buffer can be dequeued.
    Buffer,
    /// The stop eventfd was signalled.
    Stop,
    /// The node reported an error or hangup: it went away.
    Lost,
    /// Neither, within the timeout (or a signal interrupted the wait).
    Timeout,
}

/// An open video node.
#[derive(Debug)]
pub(crate) struct Device {
    fd: OwnedFd,
    /// Who the node is in error messages, e.g. `V4L2 device "v4l2:platform:vivid-000:0"`.
    who: String,
}

impl Device {
    /// Opens `path` for streaming (read-write), non-blocking: DQBUF answers EAGAIN rather than
    /// wait, and waiting is poll()'s ([`Device::wait`]), which also watches a stop signal.
    pub(crate) fn open(path: &Path, who: String) -> crate::error::Result<Device> {
        Device::open_with(path, who, libc::O_RDWR)
    }

    /// Opens `path` read-only, for queries (enumeration): a node another process streams
    /// from can still be asked what it is.
    pub(crate) fn open_query(path: &Path, who: String) -> crate::error::Result<Device> {
        Device::open_with(path, who, libc::O_RDONLY)
    }

    fn open_with(path: &Path, who: String, mode: libc::c_int) -> crate::error::Result<Device> {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(path.as_os_str().as_bytes())
            .map_err(|_| crate::error::err!(InvalidArg, "{who}: a path with a NUL byte"))?;
        // SAFETY: `c` is a NUL-terminated path; the fd returned is owned below.
        let fd = unsafe { libc::open(c.as_ptr(), mode | libc::O_NONBLOCK | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(error(&who, "opening", &io::Error::last_os_error()));
        }
        // SAFETY: a fresh fd nothing else owns.
        Ok(Device { fd: unsafe { OwnedFd::from_raw_fd(fd) }, who })
    }

    /// Who the node is in error messages.
    pub(crate) fn who(&self) -> &str {
        &self.who
    }

    pub(crate) fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// `what` failed with `e`, as libmst's error.
    pub(crate) fn error(&self, what: &str, e: &io::Error) -> Error {
        error(&self.who, what, e)
    }

    /// One ioctl with a pointer argument, retried on EINTR.
    fn ioctl<T>(&self, request: vidioc::_IOC_TYPE, arg: &mut T) -> io::Result<()> {
        ioctl(self.fd.as_fd(), request, arg)
    }

    pub(crate) fn querycap(&self) -> io::Result<Capability> {
        // SAFETY: a plain C struct; all-zero is valid.
        let mut c: sys::v4l2_capability = unsafe { std::mem::zeroed() };
        self.ioctl(vidioc::VIDIOC_QUERYCAP, &mut c)?;
        let caps = if c.capabilities & sys::V4L2_CAP_DEVICE_CAPS != 0 { c.device_caps } else { c.capabilities };
        Ok(Capability { driver: c_field(&c.driver), card: c_field(&c.card), bus_info: c_field(&c.bus_info), caps })
    }

    /// The fourccs the queue offers, in the driver's order.
    pub(crate) fn enum_formats(&self, t: BufType) -> io::Result<Vec<[u8; 4]>> {
        let mut list = Vec::new();
        for index in 0.. {
            // SAFETY: a plain C struct; all-zero is valid.
            let mut d: sys::v4l2_fmtdesc = unsafe { std::mem::zeroed() };
            d.index = index;
            d.type_ = t.raw();
            match self.ioctl(vidioc::VIDIOC_ENUM_FMT, &mut d) {
                Ok(()) => list.push(d.pixelformat.to_le_bytes()),
                // EINVAL ends the list.
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => break,
                Err(e) => return Err(e),
            }
        }
        Ok(list)
    }

    /// The sizes `fourcc` offers; empty when the driver does not enumerate them.
    pub(crate) fn enum_framesizes(&self, fourcc: [u8; 4]) -> Vec<FrameSizes> {
        let mut list = Vec::new();
        for index in 0.. {
            // SAFETY: a plain C struct; all-zero is valid.
            let mut s: sys::v4l2_frmsizeenum = unsafe { std::mem::zeroed() };
            s.index = index;
            s.pixel_format = u32::from_le_bytes(fourcc);
            if self.ioctl(vidioc::VIDIOC_ENUM_FRAMESIZES, &mut s).is_err() {
                break;
            }
            // SAFETY: the member `type_` names is the one the driver filled (plain integers).
            unsafe {
                if s.type_ == sys::v4l2_frmsizetypes_V4L2_FRMSIZE_TYPE_DISCRETE {
                    let d = s.__bindgen_anon_1.discrete;
                    list.push(FrameSizes::Discrete { width: d.width, height: d.height });
                } else {
                    let w = s.__bindgen_anon_1.stepwise;
                    list.push(FrameSizes::Stepwise {
                        min: (w.min_width, w.min_height),
                        max: (w.max_width, w.max_height),
                        step: (w.step_width.max(1), w.step_height.max(1)),
                    });
                    break;
                }
            }
        }
        list
    }

    /// The intervals `fourcc` at `width` x `height` offers; empty when not enumerated.
    pub(crate) fn enum_frameintervals(&self, fourcc: [u8; 4], width: u32, height: u32) -> Vec<FrameIntervals> {
        let mut list = Vec::new();
        for index in 0.. {
            // SAFETY: a plain C struct; all-zero is valid.
            let mut i: sys::v4l2_frmivalenum = unsafe { std::mem::zeroed() };
            i.index = index;
            i.pixel_format = u32::from_le_bytes(fourcc);
            i.width = width;
            i.height = height;
            if self.ioctl(vidioc::VIDIOC_ENUM_FRAMEINTERVALS, &mut i).is_err() {
                break;
            }
            // SAFETY: the member `type_` names is the one the driver filled (plain integers).
            unsafe {
                if i.type_ == sys::v4l2_frmivaltypes_V4L2_FRMIVAL_TYPE_DISCRETE {
                    let d = i.__bindgen_anon_1.discrete;
                    list.push(FrameIntervals::Discrete((d.numerator, d.denominator)));
                } else {
                    let s = i.__bindgen_anon_1.stepwise;
                    list.push(FrameIntervals::Stepwise {
                        min: (s.min.numerator, s.min.denominator),
                        max: (s.max.numerator, s.max.denominator),
                    });
                    break;
                }
            }
        }
        list
    }

    pub(crate) fn g_fmt(&self, t: BufType) -> io::Result<Format> {
        let mut f = Format::default().to_raw(t);
        self.ioctl(vidioc::VIDIOC_G_FMT, &mut f)?;
        Ok(Format::from_raw(&f, t))
    }

    /// Sets `want` (its fourcc and size; strides and sizes are the driver's) and returns what
    /// the driver set, which may differ.
    pub(crate) fn s_fmt(&self, t: BufType, want: &Format) -> io::Result<Format> {
        let mut f = want.to_raw(t);
        self.ioctl(vidioc::VIDIOC_S_FMT, &mut f)?;
        Ok(Format::from_raw(&f, t))
    }

    /// What the driver would set for `want`; changes nothing.
    pub(crate) fn try_fmt(&self, t: BufType, want: &Format) -> io::Result<Format> {
        let mut f = want.to_raw(t);
        self.ioctl(vidioc::VIDIOC_TRY_FMT, &mut f)?;
        Ok(Format::from_raw(&f, t))
    }

    /// The current frame interval (numerator, denominator).
    pub(crate) fn g_parm(&self, t: BufType) -> io::Result<(u32, u32)> {
        // SAFETY: a plain C struct; all-zero is valid.
        let mut p: sys::v4l2_streamparm = unsafe { std::mem::zeroed() };
        p.type_ = t.raw();
        self.ioctl(vidioc::VIDIOC_G_PARM, &mut p)?;
        // SAFETY: capture and output parameters both start with capability, a mode word and
        // timeperframe; the member of the type asked for is read.
        let tpf = unsafe {
            if t.output() {
                p.parm.output.timeperframe
            } else {
                p.parm.capture.timeperframe
            }
        };
        Ok((tpf.numerator, tpf.denominator))
    }

    /// Asks for frame interval `interval` and returns the one the driver set.
    pub(crate) fn s_parm(&self, t: BufType, interval: (u32, u32)) -> io::Result<(u32, u32)> {
        // SAFETY: a plain C struct; all-zero is valid.
        let mut p: sys::v4l2_streamparm = unsafe { std::mem::zeroed() };
        p.type_ = t.raw();
        let tpf = sys::v4l2_fract { numerator: interval.0, denominator: interval.1 };
        // The member of the type set above (writing a union field is safe; reading is not).
        if t.output() {
            p.parm.output.timeperframe = tpf;
        } else {
            p.parm.capture.timeperframe = tpf;
        }
        self.ioctl(vidioc::VIDIOC_S_PARM, &mut p)?;
        // SAFETY: the member written above, filled by the driver.
        let got = unsafe {
            if t.output() {
                p.parm.output.timeperframe
            } else {
                p.parm.capture.timeperframe
            }
        };
        Ok((got.numerator, got.denominator))
    }

    fn stream_onoff(&self, t: BufType, on: bool) -> io::Result<()> {
        let mut raw: libc::c_int = t.raw() as libc::c_int;
        self.ioctl(if on { vidioc::VIDIOC_STREAMON } else { vidioc::VIDIOC_STREAMOFF }, &mut raw)
    }

    fn reqbufs(&self, t: BufType, count: u32) -> io::Result<u32> {
        // SAFETY: a plain C struct; all-zero is valid.
        let mut r: sys::v4l2_requestbuffers = unsafe { std::mem::zeroed() };
        r.type_ = t.raw();
        r.memory = sys::v4l2_memory_V4L2_MEMORY_MMAP;
        r.count = count;
        self.ioctl(vidioc::VIDIOC_REQBUFS, &mut r)?;
        Ok(r.count)
    }

    /// poll() on the node (for `POLLIN` on a capture queue, `POLLOUT` on an output one) and the
    /// eventfd `stop`, at most `timeout`.
    pub(crate) fn wait(&self, t: BufType, stop: RawFd, timeout: Duration) -> Ready {
        let events = if t.output() { libc::POLLOUT } else { libc::POLLIN };
        let mut fds = [
            libc::pollfd { fd: self.raw_fd(), events, revents: 0 },
            libc::pollfd { fd: stop, events: libc::POLLIN, revents: 0 },
        ];
        // SAFETY: fds is a live array of two pollfd for the duration of the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, timeout.as_millis().min(i32::MAX as u128) as i32) };
        if n < 0 {
            return if io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                Ready::Timeout
            } else {
                Ready::Lost
            };
        }
        if fds[1].revents != 0 {
            Ready::Stop
        } else if fds[0].revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 {
            Ready::Lost
        } else if fds[0].revents & events != 0 {
            Ready::Buffer
        } else {
            Ready::Timeout
        }
    }
}

/// One mmap'd plane of a driver buffer.
struct Mapping {
    ptr: *mut u8,
    len: usize,
}

/// A buffer the driver handed back (VIDIOC_DQBUF).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Dequeued {
    pub index: u32,
    pub sequence: u32,
    pub flags: u32,
    /// The capture time on CLOCK_MONOTONIC, µs; None when the driver's clock is another or it
    /// left the timestamp zero.
    pub timestamp: Option<i64>,
    /// Per plane: where the data starts (data_offset, 0 on single-planar queues) and ends
    /// (bytesused; 0 when the driver did not say).
    pub data: [(u32, u32); sys::VIDEO_MAX_PLANES as usize],
    pub planes: usize,
}

impl Dequeued {
    /// V4L2_BUF_FLAG_ERROR: the driver says the data is damaged.
    pub(crate) fn erroneous(&self) -> bool {
        self.flags & sys::V4L2_BUF_FLAG_ERROR != 0
    }
}

/// time_t and its fields are i32 on 32-bit targets, hence the conversions.
#[allow(clippy::useless_conversion)]
fn us(sec: libc::time_t, usec: libc::suseconds_t) -> i64 {
    i64::from(sec) * 1_000_000 + i64::from(usec)
}

/// A queue's mmap'd buffers (REQBUFS, QUERYBUF, mmap) and its streaming state. Which buffers
/// the driver owns (queued) is tracked, so their memory is only lent out while it does not.
pub(crate) struct Stream {
    dev: Arc<Device>,
    t: BufType,
    bufs: Vec<Vec<Mapping>>,
    /// Each plane of each buffer as a DMA-BUF ([`Stream::export`]), where the driver exports.
    dmabufs: Vec<Vec<OwnedFd>>,
    /// Constant bytes mapped read-only right after each buffer's planes ([`Stream::mmap_with_tail`]).
    tail: Option<Tail>,
    queued: Vec<bool>,
    streaming: bool,
}

/// One memfd of constant bytes (sealed: nobody can change it), mapped read-only after every
/// buffer of a stream: GREY capture's neutral chroma, so that a frame over a buffer is a whole
/// I420 frame with nothing copied.
struct Tail {
    /// Kept for the mappings' sake only: they hold the memory on their own.
    _fd: OwnedFd,
    maps: Vec<Mapping>,
}

// SAFETY: the mappings are plain shared memory owned by the Stream; access goes through &self /
// &mut self like any owned buffer.
unsafe impl Send for Stream {}

impl Stream {
    /// Requests `count` mmap buffers on `dev`'s queue `t` (the driver may give more or fewer)
    /// and maps every plane of each.
    pub(crate) fn mmap(dev: &Arc<Device>, t: BufType, count: u32) -> crate::error::Result<Stream> {
        Stream::mmap_with_tail(dev, t, count, 0, 0)
    }

    /// As [`mmap`](Self::mmap), with `tail_len` bytes of `fill` mapped read-only after each
    /// buffer's planes (at the page boundary after them), so that a span over a buffer
    /// ([`Stream::span`]) goes on into them; 0: none. The bytes are one sealed memfd shared by
    /// every buffer: nothing is written per buffer or per frame, and writing them faults.
    pub(crate) fn mmap_with_tail(
        dev: &Arc<Device>,
        t: BufType,
        count: u32,
        tail_len: usize,
        fill: u8,
    ) -> crate::error::Result<Stream> {
        let tail_fd = match (tail_len > 0).then(|| constant_memfd(page_round(tail_len), fill)) {
            Some(Ok(fd)) => Some(fd),
            // Without it (a sandbox that forbids memfd_create, say) the camera still works:
            // no buffer has the constant after it, so every frame is copied with it filled in,
            // as beyond the lending budget.
            Some(Err(e)) => {
                let m = format!("{}: no memfd for the constant planes ({e}); its frames are copied", dev.who());
                crate::log::log(crate::log::Level::Warning, crate::log::Origin::Libmst, &m);
                None
            }
            None => None,
        };
        let got = dev.reqbufs(t, count).map_err(|e| dev.error("VIDIOC_REQBUFS", &e))?;
        let mut s = Stream {
            dev: dev.clone(),
            t,
            bufs: Vec::new(),
            dmabufs: Vec::new(),
            tail: tail_fd.map(|fd| Tail { _fd: fd, maps: Vec::new() }),
            queued: Vec::new(),
            streaming: false,
        };
        if got == 0 {
            return Err(crate::error::err!(NoMemory, "{}: the driver gave no buffers", dev.who()));
        }
        for index in 0..got {
            let mut planes = [zeroed_plane(); sys::VIDEO_MAX_PLANES as usize];
            let mut b = s.desc(index, &mut planes);
            dev.ioctl(vidioc::VIDIOC_QUERYBUF, &mut b).map_err(|e| dev.error("VIDIOC_QUERYBUF", &e))?;
            // (offset, length) of each plane.
            let parts: Vec<(u32, u32)> = if t.mplane() {
                planes[..b.length as usize]
                    .iter()
                    // SAFETY: mem_offset is the member an MMAP queue fills.
                    .map(|p| (unsafe { p.m.mem_offset }, p.length))
                    .collect()
            } else {
                // SAFETY: offset is the member an MMAP queue fills.
                vec![(unsafe { b.m.offset }, b.length)]
            };
            let mut maps = Vec::with_capacity(parts.len());
            // Planes in separate buffers are mapped one after the other into one reserved
            // range (each at a page boundary), so that a frame can be one span over them.
            let tail_len = if s.tail.is_some() { page_round(tail_len) } else { 0 };
            let reserved = if parts.len() > 1 || tail_len > 0 { reserve(&parts, tail_len) } else { None };
            let mut at = reserved.map(|(base, _)| base);
            for (offset, len) in parts {
                let (hint, flags) = match at {
                    Some(p) => (p as *mut c_void, libc::MAP_SHARED | libc::MAP_FIXED),
                    None => (std::ptr::null_mut(), libc::MAP_SHARED),
                };
                // SAFETY: maps the plane the driver just described, where nothing else is (a
                // fresh mapping, or the part of the range reserved for it); unmapped in Drop.
                let ptr = unsafe {
                    libc::mmap(
                        hint,
                        len as usize,
                        libc::PROT_READ | libc::PROT_WRITE,
                        flags,
                        dev.raw_fd(),
                        offset as libc::off_t,
                    )
                };
                if ptr == libc::MAP_FAILED {
                    let e = io::Error::last_os_error();
                    // Only the reserved range past this plane's slot is unmapped (the planes
                    // before it are in `maps`, unmapped when `s` drops): a kernel before 6.12
                    // removes what was at the slot before calling the driver's mmap, so after
                    // a failure there the slot may be a hole another thread's mmap has taken
                    // since. Leaving it costs at most the slot's reserved address space.
                    if let (Some(p), Some((base, total))) = (at, reserved) {
                        let tail = p + page_round(len as usize);
                        if tail < base + total {
                            // SAFETY: the rest of the range reserved above, which nothing uses.
                            unsafe { libc::munmap(tail as *mut c_void, base + total - tail) };
                        }
                    }
                    s.bufs.push(maps);
                    return Err(dev.error("mmap", &e));
                }
                at = at.map(|p| p + page_round(len as usize));
                maps.push(Mapping { ptr: ptr as *mut u8, len: len as usize });
            }
            s.bufs.push(maps);
            s.queued.push(false);
            if let (Some(tail), Some(p)) = (s.tail.as_mut(), at) {
                // SAFETY: maps the memfd read-only over the end of the range reserved above
                // (its whole length); unmapped in Drop.
                let ptr = unsafe {
                    libc::mmap(
                        p as *mut c_void,
                        tail_len,
                        libc::PROT_READ,
                        libc::MAP_SHARED | libc::MAP_FIXED,
                        tail._fd.as_raw_fd(),
                        0,
                    )
                };
                if ptr == libc::MAP_FAILED {
                    // The slot is left as it is, as a plane's is above: it is the end of the
                    // reserved range, and may be a hole another thread's mmap has taken since.
                    return Err(dev.error("mmap of constant bytes", &io::Error::last_os_error()));
                }
                tail.maps.push(Mapping { ptr: ptr as *mut u8, len: tail_len });
            }
        }
        Ok(s)
    }

    /// A v4l2_buffer for buffer `index`, its plane array `planes` when multi-planar.
    fn desc(&self, index: u32, planes: &mut [sys::v4l2_plane; sys::VIDEO_MAX_PLANES as usize]) -> sys::v4l2_buffer {
        // SAFETY: a plain C struct; all-zero is valid.
        let mut b: sys::v4l2_buffer = unsafe { std::mem::zeroed() };
        b.index = index;
        b.type_ = self.t.raw();
        b.memory = sys::v4l2_memory_V4L2_MEMORY_MMAP;
        if self.t.mplane() {
            b.m.planes = planes.as_mut_ptr();
            b.length = planes.len() as u32;
        }
        b
    }

    /// VIDIOC_EXPBUF of every plane of every buffer (read-only, close-on-exec), for frames to
    /// hand out for GPU import; false (nothing exported) when the driver cannot.
    pub(crate) fn export(&mut self) -> bool {
        let mut all = Vec::with_capacity(self.bufs.len());
        for (index, maps) in self.bufs.iter().enumerate() {
            let mut fds = Vec::with_capacity(maps.len());
            for plane in 0..maps.len() as u32 {
                // SAFETY: a plain C struct; all-zero is valid.
                let mut e: sys::v4l2_exportbuffer = unsafe { std::mem::zeroed() };
                e.type_ = self.t.raw();
                e.index = index as u32;
                e.plane = plane;
                e.flags = (libc::O_RDONLY | libc::O_CLOEXEC) as u32;
                if self.dev.ioctl(vidioc::VIDIOC_EXPBUF, &mut e).is_err() || e.fd < 0 {
                    return false;
                }
                // SAFETY: a fresh fd the driver just made for us.
                fds.push(unsafe { OwnedFd::from_raw_fd(e.fd) });
            }
            all.push(fds);
        }
        self.dmabufs = all;
        true
    }

    /// The DMA-BUF of plane `plane` of buffer `index`, if exported.
    pub(crate) fn dmabuf(&self, index: u32, plane: usize) -> Option<RawFd> {
        self.dmabufs.get(index as usize)?.get(plane).map(|f| f.as_raw_fd())
    }

    pub(crate) fn count(&self) -> usize {
        self.bufs.len()
    }

    /// Buffers the driver holds (queued, dequeued not yet).
    pub(crate) fn with_driver(&self) -> usize {
        self.queued.iter().filter(|q| **q).count()
    }

    /// The device, for messages.
    pub(crate) fn who(&self) -> &str {
        self.dev.who()
    }

    /// Whether the node still answers (VIDIOC_QUERYCAP): tells a buffer the driver refused
    /// from a node that went away, which answer QBUF with the same errnos ([`lost`]).
    pub(crate) fn present(&self) -> bool {
        self.dev.querycap().is_ok()
    }

    /// Planes per buffer.
    pub(crate) fn planes(&self) -> usize {
        self.bufs.first().map_or(0, |b| b.len())
    }

    /// Where each plane of a buffer starts from the first plane's start, when every buffer's
    /// planes are mapped as one span ([`Stream::span`]): \[0] for single-plane buffers; None
    /// for planes mapped apart. With a tail ([`Stream::mmap_with_tail`]), its start comes last.
    pub(crate) fn plane_starts(&self) -> Option<Vec<usize>> {
        let starts = |i: usize| -> Option<Vec<usize>> {
            let maps = self.bufs.get(i)?;
            let tail = match &self.tail {
                Some(t) => Some(t.maps.get(i)?),
                None => None,
            };
            let base = maps.first()?.ptr as usize;
            let mut end = base;
            let mut v = Vec::with_capacity(maps.len() + 1);
            for m in maps.iter().chain(tail) {
                if m.ptr as usize != end {
                    return None;
                }
                v.push(m.ptr as usize - base);
                end = m.ptr as usize + page_round(m.len);
            }
            Some(v)
        };
        let first = starts(0)?;
        (0..self.bufs.len()).all(|i| starts(i).as_ref() == Some(&first)).then_some(first)
    }

    /// The first `len` bytes of buffer `index`'s planes mapped as one span ([`Stream::plane_starts`]);
    /// None while the driver owns the buffer, for planes not mapped back to back, or for a span
    /// shorter than `len`.
    pub(crate) fn span(&self, index: u32, len: usize) -> Option<&[u8]> {
        let i = index as usize;
        if *self.queued.get(i)? {
            return None;
        }
        let maps = self.bufs.get(i)?;
        let tail = match &self.tail {
            Some(t) => Some(t.maps.get(i)?),
            None => None,
        };
        let first = maps.first()?;
        // Each plane (and the tail) where the one before it ends (page-rounded: the gap is in
        // its mapping).
        let mut end = first.ptr as usize;
        for m in maps.iter().chain(tail) {
            if m.ptr as usize != end {
                return None;
            }
            end = m.ptr as usize + page_round(m.len);
        }
        let last = maps.iter().chain(tail).last()?;
        if (last.ptr as usize + last.len) < first.ptr as usize + len {
            return None;
        }
        // SAFETY: the planes (and the tail) are mapped back to back (checked above), so the
        // range is mapped; the driver does not write it while dequeued, nobody the tail.
        Some(unsafe { std::slice::from_raw_parts(first.ptr, len) })
    }

    /// The bytes of plane `plane` of buffer `index` (its whole mapping); None while the driver
    /// owns the buffer (queued), or for no such plane.
    pub(crate) fn plane(&self, index: u32, plane: usize) -> Option<&[u8]> {
        let i = index as usize;
        if *self.queued.get(i)? {
            return None;
        }
        let m = self.bufs.get(i)?.get(plane)?;
        // SAFETY: mapped with this length until Drop; the driver does not write it while dequeued.
        Some(unsafe { std::slice::from_raw_parts(m.ptr, m.len) })
    }

    /// As [`plane`](Self::plane), writable (to fill an output buffer).
    pub(crate) fn plane_mut(&mut self, index: u32, plane: usize) -> Option<&mut [u8]> {
        let i = index as usize;
        if *self.queued.get(i)? {
            return None;
        }
        let m = self.bufs.get(i)?.get(plane)?;
        // SAFETY: as in `plane`; &mut self makes this the only reference.
        Some(unsafe { std::slice::from_raw_parts_mut(m.ptr, m.len) })
    }

    /// Hands buffer `index` to the driver (VIDIOC_QBUF): for output, with `bytesused` per plane
    /// and the frame's `timestamp` (µs); for capture both are ignored (pass `&[]`, 0).
    pub(crate) fn queue(&mut self, index: u32, bytesused: &[u32], timestamp: i64) -> io::Result<()> {
        if self.queued.get(index as usize).is_none_or(|q| *q) {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        let mut planes = [zeroed_plane(); sys::VIDEO_MAX_PLANES as usize];
        let mut b = self.desc(index, &mut planes);
        if self.t.output() {
            if self.t.mplane() {
                let n = self.bufs[index as usize].len();
                b.length = n as u32;
                for (p, used) in planes.iter_mut().zip(bytesused).take(n) {
                    p.bytesused = *used;
                }
            } else {
                b.bytesused = bytesused.first().copied().unwrap_or(0);
            }
            b.field = sys::v4l2_field_V4L2_FIELD_NONE;
            let ts = timestamp.max(0);
            b.timestamp.tv_sec = (ts / 1_000_000) as _;
            b.timestamp.tv_usec = (ts % 1_000_000) as _;
        } else if self.t.mplane() {
            b.length = self.bufs[index as usize].len() as u32;
        }
        self.dev.ioctl(vidioc::VIDIOC_QBUF, &mut b)?;
        self.queued[index as usize] = true;
        Ok(())
    }

    /// Queues every buffer the driver does not own (capture's start).
    pub(crate) fn queue_all(&mut self) -> io::Result<()> {
        for i in 0..self.bufs.len() as u32 {
            if !self.queued[i as usize] {
                self.queue(i, &[], 0)?;
            }
        }
        Ok(())
    }

    /// Takes back a buffer the driver is done with; None when it has none now (EAGAIN).
    pub(crate) fn dequeue(&mut self) -> io::Result<Option<Dequeued>> {
        let mut planes = [zeroed_plane(); sys::VIDEO_MAX_PLANES as usize];
        let mut b = self.desc(0, &mut planes);
        if self.t.mplane() {
            b.length = self.planes() as u32;
        }
        match self.dev.ioctl(vidioc::VIDIOC_DQBUF, &mut b) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => return Ok(None),
            Err(e) => return Err(e),
        }
        let Some(q) = self.queued.get_mut(b.index as usize) else {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        };
        *q = false;
        let monotonic = b.flags & sys::V4L2_BUF_FLAG_TIMESTAMP_MASK == sys::V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC;
        let ts = (monotonic && (b.timestamp.tv_sec != 0 || b.timestamp.tv_usec != 0))
            .then(|| us(b.timestamp.tv_sec, b.timestamp.tv_usec));
        let mut d =
            Dequeued { index: b.index, sequence: b.sequence, flags: b.flags, timestamp: ts, ..Default::default() };
        if self.t.mplane() {
            d.planes = (b.length as usize).min(self.planes());
            for (slot, p) in d.data.iter_mut().zip(&planes[..d.planes]) {
                *slot = (p.data_offset, p.bytesused);
            }
        } else {
            d.planes = 1;
            d.data[0] = (0, b.bytesused);
        }
        Ok(Some(d))
    }

    /// The used bytes of plane `plane` of the dequeued buffer `d` (all of the plane when the
    /// driver did not say how many it used); None while the driver owns the buffer.
    pub(crate) fn data(&self, d: &Dequeued, plane: usize) -> Option<&[u8]> {
        let all = self.plane(d.index, plane)?;
        let (offset, used) = *d.data.get(plane)?;
        let end = if used == 0 { all.len() } else { (used as usize).min(all.len()) };
        Some(all.get((offset as usize).min(end)..end).unwrap_or(&[]))
    }

    /// VIDIOC_STREAMON.
    pub(crate) fn start(&mut self) -> io::Result<()> {
        self.dev.stream_onoff(self.t, true)?;
        self.streaming = true;
        Ok(())
    }

    /// VIDIOC_STREAMOFF (errors ignored: the node may be gone): the driver gives every buffer
    /// back, and takes none until queued and started again.
    pub(crate) fn stop(&mut self) {
        if self.streaming {
            let _ = self.dev.stream_onoff(self.t, false);
            self.streaming = false;
        }
        self.queued.iter_mut().for_each(|q| *q = false);
    }

    pub(crate) fn streaming(&self) -> bool {
        self.streaming
    }

    /// Whether the driver owns no buffer.
    pub(crate) fn all_returned(&self) -> bool {
        self.queued.iter().all(|q| !q)
    }

    /// A buffer the driver does not own, lowest index first.
    pub(crate) fn free_buffer(&self) -> Option<u32> {
        self.queued.iter().position(|q| !q).map(|i| i as u32)
    }
}

/// `len` rounded up to whole pages (what an mmap of `len` bytes takes).
fn page_round(len: usize) -> usize {
    // SAFETY: sysconf has no preconditions.
    let page = (unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).max(4096) as usize;
    len.div_ceil(page) * page
}

/// An inaccessible range of address space for the planes `parts` (offset, length) one after
/// the other, each at a page boundary, then `tail` bytes (whole pages): (its start, its
/// length); None when there is none.
fn reserve(parts: &[(u32, u32)], tail: usize) -> Option<(usize, usize)> {
    let total: usize = parts.iter().map(|&(_, len)| page_round(len as usize)).sum::<usize>() + tail;
    // SAFETY: an anonymous PROT_NONE mapping; the planes are mapped over it with MAP_FIXED.
    let p = unsafe {
        libc::mmap(std::ptr::null_mut(), total, libc::PROT_NONE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0)
    };
    (p != libc::MAP_FAILED).then_some((p as usize, total))
}

/// A sealed memfd of `len` bytes of `fill` (write, grow and shrink sealed: its mappings can only read).
fn constant_memfd(len: usize, fill: u8) -> io::Result<OwnedFd> {
    use std::io::Write;
    // SAFETY: a C string literal and flags; the fd returned is ours.
    let fd = unsafe { libc::memfd_create(c"mst-constant".as_ptr(), libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh fd nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut file = std::fs::File::from(fd);
    file.write_all(&vec![fill; len])?;
    let seals = libc::F_SEAL_WRITE | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_SEAL;
    // SAFETY: F_ADD_SEALS on our memfd, which has no writable mapping.
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_ADD_SEALS, seals) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(file.into())
}

fn zeroed_plane() -> sys::v4l2_plane {
    // SAFETY: a plain C struct; all-zero is valid.
    unsafe { std::mem::zeroed() }
}

/// STREAMOFF (which returns every buffer), unmap, REQBUFS 0; errors are ignored: the node may
/// be gone, and there is nothing else to do about them.
impl Drop for Stream {
    fn drop(&mut self) {
        if self.streaming {
            let _ = self.dev.stream_onoff(self.t, false);
        }
        // A DMA-BUF someone imported keeps its memory on its own.
        self.dmabufs.clear();
        let tail = self.tail.iter().flat_map(|t| &t.maps);
        for m in self.bufs.iter().flatten().chain(tail) {
            // SAFETY: mapped in `mmap` with this length; no slice of it outlives &self.
            unsafe { libc::munmap(m.ptr as *mut c_void, m.len) };
        }
        let _ = self.dev.reqbufs(self.t, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_maps_to_one_status() {
        let e = |n| error("V4L2 device \"x\"", "VIDIOC_S_FMT", &io::Error::from_raw_os_error(n));
        assert_eq!(e(libc::ENODEV).kind, ErrorKind::NoDevice);
        assert_eq!(e(libc::ENOENT).kind, ErrorKind::NoDevice);
        assert_eq!(e(libc::EBUSY).kind, ErrorKind::Busy);
        assert_eq!(e(libc::ENOMEM).kind, ErrorKind::NoMemory);
        assert_eq!(e(libc::EINVAL).kind, ErrorKind::Io);
        assert!(e(libc::EBUSY).message.starts_with("V4L2 device \"x\": VIDIOC_S_FMT: "), "{}", e(libc::EBUSY).message);
        assert!(lost(&io::Error::from_raw_os_error(libc::ENODEV)));
        assert!(!lost(&io::Error::from_raw_os_error(libc::EAGAIN)));
    }

    #[test]
    fn queue_types_by_capability() {
        let cap = |caps| Capability { caps, ..Capability::default() };
        let s = sys::V4L2_CAP_STREAMING;
        assert_eq!(cap(s | sys::V4L2_CAP_VIDEO_CAPTURE).capture_type(), Some(BufType::Capture));
        assert_eq!(cap(s | sys::V4L2_CAP_VIDEO_CAPTURE_MPLANE).capture_type(), Some(BufType::CaptureMplane));
        assert_eq!(cap(s | 0x1001).capture_type(), Some(BufType::Capture));
        assert_eq!(cap(s | sys::V4L2_CAP_VIDEO_OUTPUT_MPLANE).output_type(), Some(BufType::OutputMplane));
        assert_eq!(cap(s | sys::V4L2_CAP_VIDEO_OUTPUT_MPLANE).capture_type(), None);
        // read()/write() only: not used.
        assert_eq!(cap(sys::V4L2_CAP_VIDEO_CAPTURE).capture_type(), None);
    }

    #[test]
    fn formats_round_trip_through_both_apis() {
        let f = Format::new(*b"NM12", 64, 48);
        for t in [BufType::Capture, BufType::CaptureMplane, BufType::OutputMplane] {
            let back = Format::from_raw(&f.to_raw(t), t);
            assert_eq!((back.fourcc, back.width, back.height, back.planes.len()), (*b"NM12", 64, 48, 1), "{t:?}");
        }
        // A driver's two-plane answer keeps both planes' strides.
        let mut raw = f.to_raw(BufType::CaptureMplane);
        // SAFETY: the multi-planar member, as to_raw set it up.
        unsafe {
            raw.fmt.pix_mp.num_planes = 2;
            raw.fmt.pix_mp.plane_fmt[0].bytesperline = 64;
            raw.fmt.pix_mp.plane_fmt[1].bytesperline = 80;
        }
        let back = Format::from_raw(&raw, BufType::CaptureMplane);
        assert_eq!(back.planes.iter().map(|p| p.stride).collect::<Vec<_>>(), [64, 80]);
    }

    #[test]
    fn a_span_is_only_over_planes_mapped_back_to_back() {
        let page = page_round(1);
        let anon = |len| {
            // SAFETY: a fresh anonymous mapping; the Stream below unmaps it when it drops.
            let p = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            assert_ne!(p, libc::MAP_FAILED);
            p as *mut u8
        };
        let dev = Arc::new(Device::open_query(Path::new("/proc/self/stat"), "t".into()).unwrap());
        // Buffer 0: two planes of one and a half pages in one mapping, each at a page boundary.
        let base = anon(4 * page);
        let together = vec![
            Mapping { ptr: base, len: page + page / 2 },
            // SAFETY: within the mapping just made.
            Mapping { ptr: unsafe { base.add(2 * page) }, len: page + page / 2 },
        ];
        // Buffer 1: the same planes with a page between them (the span's length would reach).
        let apart_base = anon(5 * page);
        // SAFETY: within the mapping just made; the gap page is unmapped at the end.
        let (gap, second) = unsafe { (apart_base.add(2 * page), apart_base.add(3 * page)) };
        let apart =
            vec![Mapping { ptr: apart_base, len: page + page / 2 }, Mapping { ptr: second, len: page + page / 2 }];
        let s = Stream {
            dev,
            t: BufType::CaptureMplane,
            bufs: vec![together, apart],
            dmabufs: Vec::new(),
            queued: vec![false, false],
            streaming: false,
            tail: None,
        };
        let whole = 3 * page + page / 2;
        assert_eq!(s.span(0, whole).map(|b| b.len()), Some(whole));
        assert!(s.span(0, whole + 1).is_none());
        assert!(s.span(1, whole).is_none(), "a span over planes mapped apart");
        drop(s);
        // SAFETY: the page the Stream did not map as a plane, so did not unmap.
        unsafe { libc::munmap(gap as *mut c_void, page) };
    }

    #[test]
    fn constant_bytes_cannot_be_changed() {
        use std::io::Write;
        let fd = constant_memfd(8192, 0x80).unwrap();
        let mut file = std::fs::File::from(fd);
        assert!(file.write_all(&[0]).is_err(), "sealed against writes");
        assert!(file.set_len(4096).is_err() && file.set_len(16384).is_err(), "sealed against resizing");
        // SAFETY: a fresh shared mapping of the memfd, unmapped below.
        let writable =
            unsafe { libc::mmap(std::ptr::null_mut(), 8192, libc::PROT_WRITE, libc::MAP_SHARED, file.as_raw_fd(), 0) };
        assert_eq!(writable, libc::MAP_FAILED, "no writable mapping");
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(
            &mut std::fs::File::open(format!("/proc/self/fd/{}", file.as_raw_fd())).unwrap(),
            &mut bytes,
        )
        .unwrap();
        assert!(bytes.len() == 8192 && bytes.iter().all(|&b| b == 0x80));
    }

    #[test]
    fn opening_a_missing_node_is_no_device() {
        let e = Device::open(Path::new("/nonexistent/video9"), "V4L2 device \"t\"".into()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::NoDevice, "{e}");
        // A regular file opens, but is no V4L2 node: QUERYCAP fails (ENOTTY).
        let dev = Device::open_query(Path::new("/proc/self/stat"), "t".into()).unwrap();
        assert!(dev.querycap().is_err());
    }
}
