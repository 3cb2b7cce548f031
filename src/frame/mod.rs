//! Frames with WebCodecs semantics: `VideoFrame` and `AudioData` behind one refcounted `Frame`.
//!
//! A `Frame` is immutable media plus metadata. Cloning it is a refcount increment; dropping the
//! last clone returns the frame object and its buffer to their pools. Crops are views: they share
//! the buffer and differ only in their visible rectangle.

pub mod color;
pub mod format;
mod lazy;
pub mod ledger;
pub(crate) use lazy::JpegDecoders;
pub(crate) mod pool;

use crate::convert::{self, Image, ImageMut};
use crate::error::{err, Result};
pub use color::{ChromaSiting, ColorPrimaries, MatrixCoefficients, TransferCharacteristics, VideoColorSpace};
pub use format::{AudioSampleFormat, PlaneInfo, VideoPixelFormat};
use pool::{Pooled, Recyclable, Recycler};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Largest width or height a frame may have.
pub const MAX_DIMENSION: u32 = 16384;

/// Memory owned by someone else (a camera buffer, the caller's bytes), released when dropped.
pub trait ExternalMemory: Send + Sync {
    fn bytes(&self) -> &[u8];
    /// Called instead of a plain drop when the last frame using the memory closes: releases
    /// the memory and may keep the box itself for reuse, so wrapping allocates nothing warm.
    fn recycle(self: Box<Self>) {}
    /// The memory as a DMA-BUF file descriptor (the fd whose offset 0 is `bytes()`'s first
    /// byte), valid while the memory is; None when it is no DMA-BUF (the default).
    fn dmabuf(&self) -> Option<std::os::fd::RawFd> {
        None
    }
    /// The DMA-BUF holding byte `offset` of `bytes()` and where that byte is in it: for memory
    /// over several DMA-BUFs (a camera's separate planes); by default `dmabuf()` at `offset`.
    fn dmabuf_at(&self, offset: usize) -> Option<(std::os::fd::RawFd, usize)> {
        self.dmabuf().map(|fd| (fd, offset))
    }
}

/// A video frame's pixels as DMA-BUFs, for GPU import (EGL_EXT_image_dma_buf_import,
/// Vulkan's VK_EXT_external_memory_dma_buf): the frame's plane i is at `layout[i]` (offset,
/// stride) in `fds[i]`, for the format's planes. A frame in one buffer has one fd (`fd`, in
/// every `fds[i]`: [`Frame::dmabuf`]); one whose planes are separate driver buffers (NM12,
/// YM12) has one per plane ([`Frame::dmabuf_planes`] only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dmabuf {
    /// Plane 0's. Borrowed, as all of them: valid while the frame is open (dup() it to keep it
    /// longer).
    pub fd: std::os::fd::RawFd,
    pub planes: usize,
    pub layout: [PlaneLayout; 4],
    /// Per plane, the DMA-BUF `layout[i]` is in (-1 past `planes`).
    pub fds: [std::os::fd::RawFd; 4],
}

impl Dmabuf {
    /// Whether every plane is in the one DMA-BUF `fd`.
    pub fn single(&self) -> bool {
        self.fds[..self.planes].iter().all(|&f| f == self.fd)
    }
}

/// A media buffer: pooled bytes, external memory, or pixels made on first access.
pub(crate) struct Storage {
    bytes: Vec<u8>,
    len: usize,
    external: Option<Box<dyn ExternalMemory>>,
    /// Kept (unarmed) when the storage is recycled, so lazy frames allocate nothing warm.
    lazy: Option<Box<lazy::Lazy>>,
}

/// The media buffers kept for reuse: at most [`POOL_MAX_BUFFERS`] idle buffers holding at most
/// [`POOL_MAX_BYTES`] bytes of samples (a buffer that would exceed either is freed).
///
/// Memory bound. Frames exist while something holds them: a processor's queue (at most its
/// `max_buffer_size` frames, 1 with `latest_only`; a full queue discards its oldest frame for
/// each new one, so a reader that stalls never makes it hold more), a reader, a sink, a source
/// delivering one. A frame's memory is its own buffer and, for a lazily scaled frame whose
/// pixels nobody has read yet, the source frame it is made from; a lazy MJPEG frame holds its
/// compressed bytes until decoded. So with N processors whose readers stall, the media bytes
/// alive are at most
///
///   sum over processors p of k_p x (S_p + S_src)  +  (the frames sources are delivering)
///   + POOL_MAX_BYTES (and at most POOL_MAX_BUFFERS buffers) idle in this pool,
///
/// with k_p the processor's queue length, S_p the size of its frames, S_src that of the
/// source frames they are made from (S_src only for lazily scaled frames; processors on the
/// same track share their frames, so this is an upper bound), plus the frame objects
/// (FRAME_POOL: at most 256 idle, no sample bytes) and each MJPEG camera's decoders (about
/// 5 MB each at 1080p, freed with its stream's last frame: `convert::jpeg::live_decoders`).
/// [`buffer_stats`] counts the buffers; tests/memory_bound.rs holds processors to the bound.
static STORAGE_POOL: Recycler<Storage> = Recycler::new(POOL_MAX_BUFFERS, POOL_MAX_BYTES);

/// At most this many idle media buffers wait for reuse ([`STORAGE_POOL`]).
pub const POOL_MAX_BUFFERS: usize = 24;
/// At most this many bytes of samples wait for reuse in idle media buffers.
pub const POOL_MAX_BYTES: usize = 256 << 20;

/// Media buffers allocated now (in frames or idle in the pool), and their bytes.
static LIVE_BUFFERS: AtomicUsize = AtomicUsize::new(0);
static LIVE_BUFFER_BYTES: AtomicUsize = AtomicUsize::new(0);

/// The media buffers (pooled sample buffers: frames' own pixels and samples, and MJPEG frames'
/// compressed bytes; not external memory a frame wraps) of this process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BufferStats {
    /// Buffers allocated: in frames, or idle in the pool.
    pub buffers: usize,
    /// Their bytes.
    pub bytes: usize,
    /// Of these, idle in the pool, and their bytes.
    pub idle_buffers: usize,
    pub idle_bytes: usize,
}

/// The media buffers alive now (see [`STORAGE_POOL`] for the bound they stay within).
pub fn buffer_stats() -> BufferStats {
    let (idle_buffers, idle_bytes) = STORAGE_POOL.idle();
    BufferStats {
        buffers: LIVE_BUFFERS.load(Ordering::Relaxed),
        bytes: LIVE_BUFFER_BYTES.load(Ordering::Relaxed),
        idle_buffers,
        idle_bytes,
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        if self.bytes.capacity() > 0 {
            LIVE_BUFFERS.fetch_sub(1, Ordering::Relaxed);
            LIVE_BUFFER_BYTES.fetch_sub(self.bytes.capacity(), Ordering::Relaxed);
        }
    }
}

impl Recyclable for Storage {
    fn recycler() -> &'static Recycler<Self> {
        &STORAGE_POOL
    }
    fn reset(&mut self) {
        if let Some(e) = self.external.take() {
            e.recycle();
        }
        if let Some(l) = &mut self.lazy {
            l.reset();
        }
        self.len = 0;
    }
    fn retained_bytes(&self) -> usize {
        self.bytes.len()
    }
}

impl Storage {
    fn as_slice(&self) -> &[u8] {
        match (&self.external, &self.lazy) {
            (Some(e), _) => e.bytes(),
            (None, Some(l)) if l.armed => l.bytes(),
            _ => &self.bytes[..self.len],
        }
    }

    /// False only for a lazy buffer whose pixels nobody has read yet.
    fn is_made(&self) -> bool {
        self.lazy.as_ref().is_none_or(|l| !l.armed || l.is_made())
    }

    /// A buffer whose bytes `recipe` makes on first access.
    fn lazy(recipe: lazy::Recipe) -> Pooled<Storage> {
        Pooled::take_or(
            // A buffer-less Storage, best one that already has its lazy box.
            |s: &Storage| s.bytes.is_empty().then_some(if s.lazy.is_some() { 0 } else { 1 }),
            || Storage { bytes: Vec::new(), len: 0, external: None, lazy: None },
            |s| s.lazy.get_or_insert_with(Box::default).arm(recipe),
        )
    }

    /// A pooled buffer of `len` bytes with unspecified content, handed to `fill` while unique.
    fn pooled(len: usize, fill: impl FnOnce(&mut [u8])) -> Pooled<Storage> {
        Pooled::take_or(
            // Reuse a buffer at least as large but not wastefully larger; the tightest fit wins.
            |s: &Storage| (s.bytes.len() >= len && s.bytes.len() <= len + len / 2 + 4096).then(|| s.bytes.len() - len),
            || {
                let bytes = vec![0; len];
                if bytes.capacity() > 0 {
                    LIVE_BUFFERS.fetch_add(1, Ordering::Relaxed);
                    LIVE_BUFFER_BYTES.fetch_add(bytes.capacity(), Ordering::Relaxed);
                }
                Storage { bytes, len: 0, external: None, lazy: None }
            },
            |s| {
                s.len = len;
                fill(&mut s.bytes[..len]);
            },
        )
    }

    fn external(ext: Box<dyn ExternalMemory>) -> Pooled<Storage> {
        Pooled::take_or(
            // Only a buffer-less Storage: parking a pooled buffer behind external memory would
            // make the next owned frame allocate.
            |s: &Storage| s.bytes.is_empty().then_some(0),
            || Storage { bytes: Vec::new(), len: 0, external: None, lazy: None },
            |s| s.external = Some(ext),
        )
    }
}

/// A rectangle in pixels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// Where one plane starts in a buffer and how far apart its rows are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlaneLayout {
    pub offset: usize,
    pub stride: usize,
}

/// WebCodecs' `VideoFrameBufferInit`.
#[derive(Clone, Debug, PartialEq)]
pub struct VideoFrameInit {
    pub format: VideoPixelFormat,
    pub coded_width: u32,
    pub coded_height: u32,
    pub timestamp: i64,
    pub duration: Option<i64>,
    /// The layout of the caller's bytes; `None` means tightly packed planes in order.
    pub layout: Option<Vec<PlaneLayout>>,
    pub visible_rect: Option<Rect>,
    /// Both set or both `None`.
    pub display_size: Option<(u32, u32)>,
    /// `None`: WebCodecs' default for the format ([`VideoColorSpace::default_for`]).
    pub color_space: Option<VideoColorSpace>,
}

/// Metadata of a video frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VideoMeta {
    pub format: VideoPixelFormat,
    pub coded_width: u32,
    pub coded_height: u32,
    pub visible_rect: Rect,
    pub display_width: u32,
    pub display_height: u32,
    pub timestamp: i64,
    pub duration: Option<i64>,
    /// Layout of the planes inside this frame's buffer (only `format.planes().len()` are used).
    pub layout: [PlaneLayout; 4],
    /// The capture device's sequence number of the frame (V4L2's `sequence`: 0, 1, ...; gaps
    /// are frames the device or libmst dropped), kept by crops, scales and disabled tracks'
    /// black frames; None for frames not captured from a device.
    pub capture_sequence: Option<u64>,
    /// When libmst took the frame from its device: CLOCK_MONOTONIC µs as the capture thread's
    /// VIDIOC_DQBUF returned (`timestamp` is the driver's capture time, which a driver may set
    /// ahead of that). Now minus this is how long the frame has been in libmst. Kept by crops,
    /// scales and black frames; None for frames not captured from a V4L2 device.
    pub received: Option<i64>,
    /// WebCodecs' `colorSpace`: how the samples map to colours. Kept by crops, scales and
    /// black frames; YUV -> RGB conversions read the matrix and range from it.
    pub color_space: VideoColorSpace,
    /// Where the chroma samples sit (the camera's, or the centre for frames libmst or the
    /// caller made).
    pub chroma_siting: ChromaSiting,
}

/// WebCodecs' `AudioDataInit` without the data.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AudioDataInit {
    pub format: AudioSampleFormat,
    pub sample_rate: f32,
    pub number_of_frames: u32,
    pub number_of_channels: u32,
    pub timestamp: i64,
}

/// Metadata of an audio buffer. Planar data stores its planes one after another.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AudioMeta {
    pub format: AudioSampleFormat,
    pub sample_rate: f32,
    pub number_of_frames: u32,
    pub number_of_channels: u32,
    pub timestamp: i64,
}

impl AudioMeta {
    /// WebCodecs' derived duration in microseconds.
    pub fn duration(&self) -> i64 {
        (self.number_of_frames as f64 * 1_000_000.0 / self.sample_rate as f64) as i64
    }

    fn byte_len(&self) -> usize {
        self.number_of_frames as usize * self.number_of_channels as usize * self.format.bytes_per_sample()
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FrameMeta {
    Video(VideoMeta),
    Audio(AudioMeta),
}

/// Media kinds, as `MediaStreamTrack.kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Audio,
    Video,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Audio => "audio",
            Kind::Video => "video",
        }
    }
}

pub(crate) struct FrameInner {
    meta: FrameMeta,
    storage: Option<Pooled<Storage>>,
}

static FRAME_POOL: Recycler<FrameInner> = Recycler::new(256, usize::MAX);

impl Recyclable for FrameInner {
    fn recycler() -> &'static Recycler<Self> {
        &FRAME_POOL
    }
    fn reset(&mut self) {
        self.storage = None;
    }
}

/// A video frame or an audio buffer. `clone()` is a refcount increment (and, for a handle
/// delivered to a consumer, one more frame that consumer holds: see [`ledger`]).
#[derive(Clone)]
pub struct Frame(Pooled<FrameInner>, ledger::Hold);

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.meta().fmt(f)
    }
}

/// WebCodecs' `VideoFrameCopyToOptions`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VideoCopyOptions {
    pub rect: Option<Rect>,
    pub layout: Option<Vec<PlaneLayout>>,
    /// A different format converts on copy: only the RGB formats are accepted as targets.
    pub format: Option<VideoPixelFormat>,
}

/// WebCodecs' `AudioDataCopyToOptions`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AudioCopyOptions {
    pub plane_index: u32,
    pub frame_offset: u32,
    pub frame_count: Option<u32>,
    pub format: Option<AudioSampleFormat>,
}

fn checked(v: Option<usize>, what: &str) -> Result<usize> {
    v.ok_or_else(|| err!(InvalidArg, "{what} overflows the address space"))
}

/// Tightly packed layout of `format` at `width` x `height`, and its total size.
fn packed_layout(format: VideoPixelFormat, width: usize, height: usize) -> Result<([PlaneLayout; 4], usize)> {
    let mut offset = 0usize;
    let mut layout = [PlaneLayout::default(); 4];
    for (i, p) in format.planes().iter().enumerate() {
        let stride = p.row_bytes(width);
        let rows = p.samples(width, height).1;
        layout[i] = PlaneLayout { offset, stride };
        offset = checked(stride.checked_mul(rows).and_then(|n| n.checked_add(offset)), "the frame size")?;
    }
    Ok((layout, offset))
}

/// The layout, size and metadata of a new tightly packed video frame.
fn packed_meta(
    format: VideoPixelFormat,
    width: u32,
    height: u32,
    timestamp: i64,
    duration: Option<i64>,
) -> Result<([PlaneLayout; 4], usize, VideoMeta)> {
    let (layout, size) = packed_layout(format, width as usize, height as usize)?;
    let init = VideoFrameInit {
        format,
        coded_width: width,
        coded_height: height,
        timestamp,
        duration,
        layout: None,
        visible_rect: None,
        display_size: None,
        color_space: None,
    };
    Ok((layout, size, init.validate(size)?))
}

/// Checks a caller-given layout for `format` at `width` x `height` against a buffer of
/// `available` bytes (None: no limit) and returns the bytes the layout spans.
fn check_layout(
    format: VideoPixelFormat,
    width: usize,
    height: usize,
    layout: &[PlaneLayout],
    what: &str,
) -> Result<usize> {
    let planes = format.planes();
    if layout.len() != planes.len() {
        return Err(err!(
            InvalidArg,
            "{what}: {} needs {} planes, the layout has {}",
            format.name(),
            planes.len(),
            layout.len()
        ));
    }
    let mut spans: Vec<(usize, usize)> = Vec::with_capacity(4);
    for (i, (p, l)) in planes.iter().zip(layout).enumerate() {
        let row = p.row_bytes(width);
        let rows = p.samples(width, height).1;
        if l.stride < row {
            return Err(err!(InvalidArg, "{what}: plane {i} stride {} is less than its row of {row} bytes", l.stride));
        }
        // WebCodecs counts every row at its full stride, the last one included.
        let len = checked(l.stride.checked_mul(rows), "a plane")?;
        let end = checked(l.offset.checked_add(len), "a plane")?;
        if let Some(j) = spans.iter().position(|&(s, e)| l.offset < e && s < end) {
            return Err(err!(InvalidArg, "{what}: plane {i} overlaps plane {j}"));
        }
        spans.push((l.offset, end));
    }
    Ok(spans.iter().map(|s| s.1).max().unwrap_or(0))
}

fn check_rect(format: VideoPixelFormat, rect: Rect, coded_w: u32, coded_h: u32, what: &str) -> Result<()> {
    if rect.width == 0 || rect.height == 0 {
        return Err(err!(InvalidArg, "{what} {}x{} is empty", rect.width, rect.height));
    }
    if rect.x as u64 + rect.width as u64 > coded_w as u64 || rect.y as u64 + rect.height as u64 > coded_h as u64 {
        return Err(err!(
            InvalidArg,
            "{what} ({},{} {}x{}) does not fit in the coded size {coded_w}x{coded_h}",
            rect.x,
            rect.y,
            rect.width,
            rect.height
        ));
    }
    let (ax, ay) = format.alignment();
    if !(rect.x as usize).is_multiple_of(ax) || !(rect.y as usize).is_multiple_of(ay) {
        return Err(err!(
            InvalidArg,
            "{what} offset ({},{}) is not aligned to {}'s {ax}x{ay} chroma subsampling",
            rect.x,
            rect.y,
            format.name()
        ));
    }
    Ok(())
}

impl VideoFrameInit {
    /// WebCodecs' "validate VideoFrameBufferInit" and layout checks against `data_len` bytes.
    /// Returns the metadata the frame gets when it keeps the caller's layout.
    pub fn validate(&self, data_len: usize) -> Result<VideoMeta> {
        let (w, h) = (self.coded_width, self.coded_height);
        if w == 0 || h == 0 || w > MAX_DIMENSION || h > MAX_DIMENSION {
            return Err(err!(InvalidArg, "coded size {w}x{h} is outside 1..={MAX_DIMENSION}"));
        }
        let visible = self.visible_rect.unwrap_or(Rect { x: 0, y: 0, width: w, height: h });
        check_rect(self.format, visible, w, h, "visible rect")?;
        let (display_width, display_height) = self.display_size.unwrap_or((visible.width, visible.height));
        if display_width == 0 || display_height == 0 {
            return Err(err!(InvalidArg, "display size {display_width}x{display_height} is empty"));
        }
        if let Some(d) = self.duration {
            if d < 0 {
                return Err(err!(InvalidArg, "duration {d} is negative"));
            }
        }
        let (planes, needed) = match &self.layout {
            Some(l) => {
                let needed = check_layout(self.format, w as usize, h as usize, l, "layout")?;
                let mut planes = [PlaneLayout::default(); 4];
                planes[..l.len()].copy_from_slice(l);
                (planes, needed)
            }
            None => packed_layout(self.format, w as usize, h as usize)?,
        };
        if data_len < needed {
            return Err(err!(InvalidArg, "data holds {data_len} bytes, the layout needs {needed}"));
        }
        Ok(VideoMeta {
            format: self.format,
            coded_width: w,
            coded_height: h,
            visible_rect: visible,
            display_width,
            display_height,
            timestamp: self.timestamp,
            duration: self.duration,
            layout: planes,
            capture_sequence: None,
            received: None,
            color_space: self.color_space.unwrap_or_else(|| VideoColorSpace::default_for(self.format)),
            chroma_siting: ChromaSiting::Center,
        })
    }
}

impl AudioDataInit {
    /// WebCodecs' "valid AudioDataInit" against `data_len` bytes.
    pub fn validate(&self, data_len: usize) -> Result<AudioMeta> {
        if !(self.sample_rate.is_finite() && self.sample_rate > 0.0) {
            return Err(err!(InvalidArg, "sample rate {} is not a positive number", self.sample_rate));
        }
        if self.number_of_frames == 0 {
            return Err(err!(InvalidArg, "number of frames is 0"));
        }
        if self.number_of_channels == 0 {
            return Err(err!(InvalidArg, "number of channels is 0"));
        }
        let meta = AudioMeta {
            format: self.format,
            sample_rate: self.sample_rate,
            number_of_frames: self.number_of_frames,
            number_of_channels: self.number_of_channels,
            timestamp: self.timestamp,
        };
        let needed = checked(
            (self.number_of_frames as usize)
                .checked_mul(self.number_of_channels as usize)
                .and_then(|n| n.checked_mul(self.format.bytes_per_sample())),
            "the audio size",
        )?;
        if data_len < needed {
            return Err(err!(
                InvalidArg,
                "data holds {data_len} bytes, {} frames of {} channels {} need {needed}",
                self.number_of_frames,
                self.number_of_channels,
                self.format.name()
            ));
        }
        Ok(meta)
    }
}

impl Frame {
    fn from_parts(meta: FrameMeta, storage: Pooled<Storage>) -> Frame {
        Frame(
            Pooled::take_or(
                |_| Some(0),
                || FrameInner { meta, storage: None },
                |f| {
                    f.meta = meta;
                    f.storage = Some(storage);
                },
            ),
            ledger::Hold::NONE,
        )
    }

    /// Another handle on this frame, attributed to `consumer` in its source's ledger until it
    /// (and each clone of it) closes.
    pub(crate) fn attributed(&self, consumer: &std::sync::Arc<ledger::Consumer>) -> Frame {
        Frame(self.0.clone(), ledger::Hold::on(consumer))
    }

    /// The consumer this handle was delivered to (None for a frame nobody delivered, such as
    /// a source's own or one the application made).
    pub fn consumer(&self) -> Option<&std::sync::Arc<ledger::Consumer>> {
        self.1.consumer()
    }

    /// A video frame holding a copy of `data` (repacked tightly).
    pub fn video_copy(init: &VideoFrameInit, data: &[u8]) -> Result<Frame> {
        let src = init.validate(data.len())?;
        let (w, h) = (src.coded_width as usize, src.coded_height as usize);
        let (layout, size) = packed_layout(src.format, w, h)?;
        let storage = Storage::pooled(size, |dst| {
            for (i, p) in src.format.planes().iter().enumerate() {
                let rows = p.samples(w, h).1;
                convert::copy_plane(
                    &data[src.layout[i].offset..],
                    src.layout[i].stride,
                    &mut dst[layout[i].offset..],
                    layout[i].stride,
                    p.row_bytes(w),
                    rows,
                );
            }
        });
        let mut meta = src;
        meta.layout = layout;
        Ok(Frame::from_parts(FrameMeta::Video(meta), storage))
    }

    /// A video frame over external memory, released when the last clone closes. The memory is
    /// validated first: on error it is handed back untouched.
    pub fn video_wrap(
        init: &VideoFrameInit,
        memory: Box<dyn ExternalMemory>,
    ) -> std::result::Result<Frame, (crate::error::Error, Box<dyn ExternalMemory>)> {
        match init.validate(memory.bytes().len()) {
            Ok(meta) => Ok(Frame::from_parts(FrameMeta::Video(meta), Storage::external(memory))),
            Err(e) => Err((e, memory)),
        }
    }

    /// A frame over external memory whose metadata `validate` already checked against it.
    pub(crate) fn wrap_validated(meta: FrameMeta, memory: Box<dyn ExternalMemory>) -> Frame {
        Frame::from_parts(meta, Storage::external(memory))
    }

    /// A new tightly packed video frame whose pixels `draw` writes (pooled buffer).
    pub fn video_with(
        format: VideoPixelFormat,
        width: u32,
        height: u32,
        timestamp: i64,
        duration: Option<i64>,
        draw: impl FnOnce(&mut ImageMut),
    ) -> Result<Frame> {
        let (layout, size, meta) = packed_meta(format, width, height, timestamp, duration)?;
        let storage = Storage::pooled(size, |buf| {
            let mut img = image_mut(format, width as usize, height as usize, buf, &layout);
            draw(&mut img);
        });
        Ok(Frame::from_parts(FrameMeta::Video(meta), storage))
    }

    /// An audio buffer holding a copy of `data`.
    pub fn audio_copy(init: &AudioDataInit, data: &[u8]) -> Result<Frame> {
        let meta = init.validate(data.len())?;
        let len = meta.byte_len();
        let storage = Storage::pooled(len, |dst| {
            dst.copy_from_slice(&data[..len]);
            crate::stats::count_media_bytes(len);
        });
        Ok(Frame::from_parts(FrameMeta::Audio(meta), storage))
    }

    /// An audio buffer over external memory (see `video_wrap`).
    pub fn audio_wrap(
        init: &AudioDataInit,
        memory: Box<dyn ExternalMemory>,
    ) -> std::result::Result<Frame, (crate::error::Error, Box<dyn ExternalMemory>)> {
        match init.validate(memory.bytes().len()) {
            Ok(meta) => Ok(Frame::from_parts(FrameMeta::Audio(meta), Storage::external(memory))),
            Err(e) => Err((e, memory)),
        }
    }

    /// A new audio buffer whose bytes `fill` writes (pooled buffer).
    pub fn audio_with(init: &AudioDataInit, fill: impl FnOnce(&mut [u8])) -> Result<Frame> {
        let meta = init.validate(usize::MAX)?;
        let storage = Storage::pooled(meta.byte_len(), fill);
        Ok(Frame::from_parts(FrameMeta::Audio(meta), storage))
    }

    pub fn meta(&self) -> &FrameMeta {
        &self.0.meta
    }

    pub fn kind(&self) -> Kind {
        match self.0.meta {
            FrameMeta::Video(_) => Kind::Video,
            FrameMeta::Audio(_) => Kind::Audio,
        }
    }

    pub fn timestamp(&self) -> i64 {
        match &self.0.meta {
            FrameMeta::Video(v) => v.timestamp,
            FrameMeta::Audio(a) => a.timestamp,
        }
    }

    /// The frame's pixels as one DMA-BUF (`fd`, every plane in it): a camera frame delivered
    /// over a driver buffer that the driver exported (VIDIOC_EXPBUF); None for every other
    /// frame (audio included), and for one whose planes are separate DMA-BUFs (NM12 / YM12
    /// capture: see [`Frame::dmabuf_planes`]).
    pub fn dmabuf(&self) -> Option<Dmabuf> {
        self.dmabuf_planes().filter(Dmabuf::single)
    }

    /// The DMA-BUF each of the frame's planes is in (`fds[i]`, `layout[i]`): every frame
    /// [`Frame::dmabuf`] answers for (one fd for every plane), and a camera frame whose planes
    /// are separate exported driver buffers (NM12, YM12: one fd per plane); None for every
    /// other frame.
    pub fn dmabuf_planes(&self) -> Option<Dmabuf> {
        let v = self.video()?;
        let planes = v.format.planes().len();
        let (mut fds, mut layout) = ([-1; 4], v.layout);
        for (i, (fd, l)) in fds.iter_mut().zip(layout.iter_mut()).take(planes).enumerate() {
            (*fd, *l) = self.dmabuf_plane(i)?;
        }
        Some(Dmabuf { fd: fds[0], planes, layout, fds })
    }

    /// Plane `plane`'s DMA-BUF and where the plane is in it (offset, stride), also for a frame
    /// only some of whose planes are DMA-BUFs (GREY capture: the driver's luma is one, the
    /// neutral chroma libmst adds is not); None for a plane that is none, or no such plane.
    pub fn dmabuf_plane(&self, plane: usize) -> Option<(std::os::fd::RawFd, PlaneLayout)> {
        let v = self.video()?;
        if plane >= v.format.planes().len() {
            return None;
        }
        let ext = self.0.storage.as_ref()?.external.as_ref()?;
        let l = v.layout[plane];
        let (fd, offset) = ext.dmabuf_at(l.offset)?;
        Some((fd, PlaneLayout { offset, ..l }))
    }

    pub fn video(&self) -> Option<&VideoMeta> {
        match &self.0.meta {
            FrameMeta::Video(v) => Some(v),
            FrameMeta::Audio(_) => None,
        }
    }

    pub fn audio(&self) -> Option<&AudioMeta> {
        match &self.0.meta {
            FrameMeta::Audio(a) => Some(a),
            FrameMeta::Video(_) => None,
        }
    }

    /// `crop` of the video frame `src` scaled to `width` x `height` (same format, packed), as
    /// [`convert::scale`] does it (timestamp, duration, capture sequence and colour are
    /// `src`'s).
    ///
    /// The pixels are made when one is first read, so a frame nobody reads costs no scaling;
    /// until then the new frame holds `src`. A wrapped `src` ([`Frame::video_wrap`]) is scaled
    /// at once instead, so its memory goes back to its owner (the release callback) on the
    /// same schedule as ever, not when a reader gets to the scaled frame.
    pub fn video_scaled(src: &Frame, crop: Rect, width: u32, height: u32) -> Result<Frame> {
        let v = src.video().ok_or_else(|| err!(Type, "not a video frame"))?;
        check_rect(v.format, crop, v.coded_width, v.coded_height, "scale source")?;
        let (layout, size, mut meta) = packed_meta(v.format, width, height, v.timestamp, v.duration)?;
        meta.capture_sequence = v.capture_sequence;
        meta.received = v.received;
        meta.color_space = v.color_space;
        meta.chroma_siting = v.chroma_siting;
        let storage = if src.is_wrapped() {
            let from = src.image(crop).expect("video");
            Storage::pooled(size, |buf| {
                convert::scale(&from, &mut image_mut(v.format, width as usize, height as usize, buf, &layout))
            })
        } else {
            Storage::lazy(lazy::Recipe::Scale { src: src.clone(), crop, width, height })
        };
        Ok(Frame::from_parts(FrameMeta::Video(meta), storage))
    }

    /// An I420 frame of `width` x `height` decoded by one of `decoders` (its stream's) from the
    /// JPEG `jpeg` (copied now, with `tables` inserted after its SOI marker: the ones its stream
    /// gives it, [`crate::convert::jpeg::Decoder::stream_tables`]) when a pixel is first read.
    /// The caller checks the JPEG's header first (its size and subsampling): data the decoder
    /// gives up on makes a black frame.
    pub(crate) fn video_from_jpeg_lazily(
        jpeg: &[u8],
        tables: &[u8],
        decoders: &std::sync::Arc<JpegDecoders>,
        width: u32,
        height: u32,
        timestamp: i64,
        duration: Option<i64>,
    ) -> Result<Frame> {
        let (_, _, meta) = packed_meta(VideoPixelFormat::I420, width, height, timestamp, duration)?;
        let at = if tables.is_empty() { 0 } else { 2.min(jpeg.len()) };
        let data = Storage::pooled(jpeg.len() + tables.len(), |b| {
            b[..at].copy_from_slice(&jpeg[..at]);
            b[at..at + tables.len()].copy_from_slice(tables);
            b[at + tables.len()..].copy_from_slice(&jpeg[at..]);
        });
        let recipe = lazy::Recipe::Jpeg { data, width, height, decoders: decoders.clone() };
        Ok(Frame::from_parts(FrameMeta::Video(meta), Storage::lazy(recipe)))
    }

    /// True when the frame's buffer is wrapped external memory (`video_wrap`, `audio_wrap`, a
    /// camera's mmap buffer), released by a callback when the last frame using it closes.
    fn is_wrapped(&self) -> bool {
        self.0.storage.as_ref().is_some_and(|s| s.external.is_some())
    }

    /// False for a lazily made frame ([`Frame::video_scaled`], a camera's MJPEG) whose
    /// pixels nobody has read yet; true for every other frame.
    pub fn pixels_made(&self) -> bool {
        self.0.storage.as_ref().is_none_or(|s| s.is_made())
    }

    /// How many handles share this frame (recipes of lazy frames included).
    #[cfg(test)]
    pub(crate) fn handle_refs(&self) -> usize {
        self.0.strong_count()
    }

    /// The whole buffer behind this frame (for a lazy frame, made now if not yet).
    pub fn data(&self) -> &[u8] {
        self.0.storage.as_ref().map(|s| s.as_slice()).unwrap_or(&[])
    }

    /// True when both frames read the same buffer (no pixel was copied between them).
    pub fn shares_buffer_with(&self, other: &Frame) -> bool {
        match (&self.0.storage, &other.0.storage) {
            (Some(a), Some(b)) => Pooled::ptr_eq(a, b),
            _ => false,
        }
    }

    /// Video plane `i` from its first coded sample: (bytes to the end of the buffer, stride).
    pub fn plane(&self, i: usize) -> Option<(&[u8], usize)> {
        let v = self.video()?;
        if i >= v.format.planes().len() {
            return None;
        }
        let l = v.layout[i];
        Some((&self.data()[l.offset..], l.stride))
    }

    /// A read view of `rect` (aligned, inside the coded size) of a video frame.
    pub fn image(&self, rect: Rect) -> Option<Image<'_>> {
        let v = self.video()?;
        let data = self.data();
        let mut planes: [&[u8]; 4] = [&[]; 4];
        let mut strides = [0usize; 4];
        for (i, p) in v.format.planes().iter().enumerate() {
            let l = v.layout[i];
            let start =
                l.offset + (rect.y as usize / p.sub_y) * l.stride + (rect.x as usize / p.sub_x) * p.bytes_per_sample;
            planes[i] = &data[start..];
            strides[i] = l.stride;
        }
        Some(Image { format: v.format, width: rect.width as usize, height: rect.height as usize, planes, strides })
    }

    /// The same buffer with another visible rect (a zero-copy crop). `rect` is relative to the
    /// coded frame and must be valid for the format.
    pub fn with_visible_rect(&self, rect: Rect, display: (u32, u32)) -> Result<Frame> {
        let v = self.video().ok_or_else(|| err!(Type, "not a video frame"))?;
        check_rect(v.format, rect, v.coded_width, v.coded_height, "crop")?;
        let mut meta = *v;
        meta.visible_rect = rect;
        meta.display_width = display.0;
        meta.display_height = display.1;
        let storage = self.0.storage.clone().expect("frames always have storage");
        Ok(Frame::from_parts(FrameMeta::Video(meta), storage))
    }

    /// The same frame (buffer shared) with its video metadata changed by `change` (which must
    /// keep the geometry and layout); a video frame's only.
    pub(crate) fn with_meta(&self, change: impl FnOnce(&mut VideoMeta)) -> Frame {
        match self.meta() {
            FrameMeta::Video(v) => {
                let mut meta = *v;
                change(&mut meta);
                debug_assert_eq!((meta.format, meta.layout, meta.visible_rect), (v.format, v.layout, v.visible_rect));
                if meta == *v {
                    return self.clone();
                }
                Frame::from_parts(FrameMeta::Video(meta), self.0.storage.clone().expect("frames always have storage"))
            }
            FrameMeta::Audio(_) => self.clone(),
        }
    }

    /// The same frame (buffer shared) described as `color_space` with chroma at `siting`
    /// (what a camera or a decoder says its samples are); a video frame's only.
    pub fn with_color(&self, color_space: VideoColorSpace, siting: ChromaSiting) -> Frame {
        match self.meta() {
            FrameMeta::Video(v) if (v.color_space, v.chroma_siting) != (color_space, siting) => {
                let meta = VideoMeta { color_space, chroma_siting: siting, ..*v };
                Frame::from_parts(FrameMeta::Video(meta), self.0.storage.clone().expect("frames always have storage"))
            }
            _ => self.clone(),
        }
    }

    /// The same frame (buffer shared) with `capture_sequence` set; a video frame's only.
    pub fn with_capture_sequence(&self, sequence: Option<u64>) -> Frame {
        match self.meta() {
            FrameMeta::Video(v) if v.capture_sequence != sequence => {
                let meta = VideoMeta { capture_sequence: sequence, ..*v };
                Frame::from_parts(FrameMeta::Video(meta), self.0.storage.clone().expect("frames always have storage"))
            }
            _ => self.clone(),
        }
    }

    /// A frame of the same kind and geometry with black pixels or silent samples (black in the
    /// frame's own colour space, which it keeps).
    pub fn blank_like(&self) -> Result<Frame> {
        match self.meta() {
            FrameMeta::Video(v) => {
                let r = v.visible_rect;
                let f = Frame::black(v, r.width, r.height)?;
                Ok(if (r.width, r.height) == (v.display_width, v.display_height) {
                    f
                } else {
                    f.with_visible_rect(
                        Rect { x: 0, y: 0, width: r.width, height: r.height },
                        (v.display_width, v.display_height),
                    )?
                })
            }
            FrameMeta::Audio(a) => {
                let init = AudioDataInit {
                    format: a.format,
                    sample_rate: a.sample_rate,
                    number_of_frames: a.number_of_frames,
                    number_of_channels: a.number_of_channels,
                    timestamp: a.timestamp,
                };
                Frame::audio_with(&init, |buf| convert::fill_silence(buf, a.format))
            }
        }
    }

    /// A `width` x `height` black frame of `like`'s format, times, capture sequence and
    /// colour (black is Y = 0 at full range, 16 at limited).
    pub(crate) fn black(like: &VideoMeta, width: u32, height: u32) -> Result<Frame> {
        let (layout, size, mut meta) = packed_meta(like.format, width, height, like.timestamp, like.duration)?;
        meta.capture_sequence = like.capture_sequence;
        meta.received = like.received;
        meta.color_space = like.color_space;
        meta.chroma_siting = like.chroma_siting;
        let full = like.color_space.yuv_encoding().full_range;
        let storage = Storage::pooled(size, |buf| {
            convert::fill_black_in(&mut image_mut(like.format, width as usize, height as usize, buf, &layout), full)
        });
        Ok(Frame::from_parts(FrameMeta::Video(meta), storage))
    }

    /// WebCodecs' VideoFrame "compute layout and allocation size" for `copy_to`.
    pub fn video_copy_layout(
        &self,
        opts: &VideoCopyOptions,
    ) -> Result<(VideoPixelFormat, Rect, Vec<PlaneLayout>, usize)> {
        let v = self.video().ok_or_else(|| err!(Type, "not a video frame"))?;
        let rect = opts.rect.unwrap_or(v.visible_rect);
        check_rect(v.format, rect, v.coded_width, v.coded_height, "copy rect")?;
        let format = opts.format.unwrap_or(v.format);
        if format != v.format && !format.is_rgb() {
            return Err(err!(
                Unsupported,
                "copy_to converts {} only to RGBA, RGBX, BGRA or BGRX, not {}",
                v.format.name(),
                format.name()
            ));
        }
        let (w, h) = (rect.width as usize, rect.height as usize);
        match &opts.layout {
            Some(l) => {
                let size = check_layout(format, w, h, l, "destination layout")?;
                Ok((format, rect, l.clone(), size))
            }
            None => {
                let (l, size) = packed_layout(format, w, h)?;
                Ok((format, rect, l[..format.planes().len()].to_vec(), size))
            }
        }
    }

    /// WebCodecs' `VideoFrame.allocationSize()`.
    pub fn video_allocation_size(&self, opts: &VideoCopyOptions) -> Result<usize> {
        Ok(self.video_copy_layout(opts)?.3)
    }

    /// WebCodecs' `VideoFrame.copyTo()`: returns the layout of what was written into `dst`.
    pub fn video_copy_to(&self, dst: &mut [u8], opts: &VideoCopyOptions) -> Result<Vec<PlaneLayout>> {
        let (format, rect, layout, size) = self.video_copy_layout(opts)?;
        if dst.len() < size {
            return Err(err!(InvalidArg, "destination holds {} bytes, the copy needs {size}", dst.len()));
        }
        let src = self.image(rect).expect("checked: video frame");
        let mut out = image_mut(format, rect.width as usize, rect.height as usize, dst, &layout);
        if format == src.format {
            for (i, p) in format.planes().iter().enumerate() {
                let rows = p.samples(src.width, src.height).1;
                convert::copy_plane(
                    src.planes[i],
                    src.strides[i],
                    out.planes[i],
                    out.strides[i],
                    p.row_bytes(src.width),
                    rows,
                );
            }
        } else {
            let v = self.video().expect("checked: video frame");
            convert::convert_with(&src, &mut out, v.color_space.yuv_encoding());
        }
        Ok(layout)
    }

    /// WebCodecs' AudioData "compute copy element count", times the sample size.
    pub fn audio_allocation_size(&self, opts: &AudioCopyOptions) -> Result<usize> {
        let a = self.audio().ok_or_else(|| err!(Type, "`frame` is a video frame, not an audio buffer"))?;
        let format = opts.format.unwrap_or(a.format);
        if format.is_planar() {
            if opts.plane_index >= a.number_of_channels {
                return Err(err!(
                    Range,
                    "plane index {} is not below the {} channels of a planar copy",
                    opts.plane_index,
                    a.number_of_channels
                ));
            }
        } else if opts.plane_index > 0 {
            return Err(err!(
                Range,
                "plane index {} must be 0 for an interleaved ({}) copy",
                opts.plane_index,
                format.name()
            ));
        }
        if opts.frame_offset >= a.number_of_frames {
            return Err(err!(
                Range,
                "frame offset {} is not below the {} frames",
                opts.frame_offset,
                a.number_of_frames
            ));
        }
        let mut count = a.number_of_frames - opts.frame_offset;
        if let Some(n) = opts.frame_count {
            if n > count {
                return Err(err!(
                    Range,
                    "frame count {n} exceeds the {count} frames after offset {}",
                    opts.frame_offset
                ));
            }
            count = n;
        }
        let elements = count as usize * if format.is_planar() { 1 } else { a.number_of_channels as usize };
        Ok(elements * format.bytes_per_sample())
    }

    /// WebCodecs' `AudioData.copyTo()`.
    pub fn audio_copy_to(&self, dst: &mut [u8], opts: &AudioCopyOptions) -> Result<usize> {
        let size = self.audio_allocation_size(opts)?;
        let a = self.audio().expect("checked: audio");
        if dst.len() < size {
            return Err(err!(Range, "destination holds {} bytes, the copy needs {size}", dst.len()));
        }
        let format = opts.format.unwrap_or(a.format);
        let frames =
            size / format.bytes_per_sample() / if format.is_planar() { 1 } else { a.number_of_channels as usize };
        convert::copy_audio(
            self.data(),
            a.format,
            a.number_of_channels as usize,
            a.number_of_frames as usize,
            &mut dst[..size],
            format,
            opts.plane_index as usize,
            opts.frame_offset as usize,
            frames,
        );
        Ok(size)
    }
}

/// Splits `buf` into the planes of `layout` (non-overlapping, checked by the caller).
pub(crate) fn image_mut<'a>(
    format: VideoPixelFormat,
    width: usize,
    height: usize,
    buf: &'a mut [u8],
    layout: &[PlaneLayout],
) -> ImageMut<'a> {
    let n = format.planes().len();
    let mut order = [0usize, 1, 2, 3];
    let order = &mut order[..n];
    order.sort_unstable_by_key(|&i| layout[i].offset);
    let mut planes: [&'a mut [u8]; 4] = Default::default();
    let mut strides = [0usize; 4];
    let mut rest = buf;
    let mut consumed = 0usize;
    for (k, &i) in order.iter().enumerate() {
        let (_, tail) = rest.split_at_mut(layout[i].offset - consumed);
        let end = order.get(k + 1).map(|&j| layout[j].offset - layout[i].offset).unwrap_or(tail.len());
        let (plane, after) = tail.split_at_mut(end);
        planes[i] = plane;
        strides[i] = layout[i].stride;
        consumed = layout[i].offset + end;
        rest = after;
    }
    ImageMut { format, width, height, planes, strides }
}

/// 10 ms of u8 silence at 8 kHz mono with timestamp `ts`: the AudioData unit tests pass around.
#[cfg(test)]
pub(crate) fn test_chunk(ts: i64) -> Frame {
    let init = AudioDataInit {
        format: AudioSampleFormat::U8,
        sample_rate: 8000.0,
        number_of_frames: 80,
        number_of_channels: 1,
        timestamp: ts,
    };
    Frame::audio_copy(&init, &[128u8; 80]).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn init(format: VideoPixelFormat, w: u32, h: u32) -> VideoFrameInit {
        VideoFrameInit {
            format,
            coded_width: w,
            coded_height: h,
            timestamp: 7,
            duration: None,
            layout: None,
            visible_rect: None,
            display_size: None,
            color_space: None,
        }
    }

    #[test]
    fn colour_space_defaults_per_format_as_webcodecs() {
        for format in VideoPixelFormat::ALL {
            let f = Frame::video_copy(&init(format, 4, 4), &[0; 64]).unwrap();
            let want = if format.is_rgb() { VideoColorSpace::SRGB } else { VideoColorSpace::REC709 };
            assert_eq!(f.video().unwrap().color_space, want, "{}", format.name());
            assert_eq!(f.video().unwrap().chroma_siting, ChromaSiting::Center);
        }
        assert_eq!(VideoColorSpace::SRGB.matrix, Some(MatrixCoefficients::Rgb));
        assert_eq!(VideoColorSpace::SRGB.transfer, Some(TransferCharacteristics::Iec61966_2_1));
        assert_eq!(VideoColorSpace::REC709.full_range, Some(false));
        // A partial colour space stays partial, as WebCodecs' VideoColorSpace does.
        let partial = VideoColorSpace { full_range: Some(true), ..Default::default() };
        let f = Frame::video_copy(
            &VideoFrameInit { color_space: Some(partial), ..init(VideoPixelFormat::I420, 4, 4) },
            &[0; 24],
        )
        .unwrap();
        assert_eq!(f.video().unwrap().color_space, partial);
    }

    #[test]
    fn colour_space_survives_crops_scales_clones_and_black() {
        let (w, h) = (8u32, 4u32);
        let i = VideoFrameInit { color_space: Some(VideoColorSpace::JPEG), ..init(VideoPixelFormat::I420, w, h) };
        let f = Frame::video_copy(&i, &[60; 48]).unwrap().with_color(VideoColorSpace::JPEG, ChromaSiting::Left);
        let same = |g: &Frame, what: &str| {
            let v = g.video().unwrap();
            assert_eq!((v.color_space, v.chroma_siting), (VideoColorSpace::JPEG, ChromaSiting::Left), "{what}");
        };
        same(&f.clone(), "clone");
        same(&f.with_visible_rect(Rect { x: 2, y: 2, width: 4, height: 2 }, (4, 2)).unwrap(), "crop");
        same(&Frame::video_scaled(&f, Rect { x: 0, y: 0, width: w, height: h }, 4, 2).unwrap(), "scale");
        same(&f.with_capture_sequence(Some(3)), "sequence");
        let black = f.blank_like().unwrap();
        same(&black, "black");
        // Full-range black is Y = 0 (16 would be grey there), chroma 128.
        assert_eq!(black.plane(0).unwrap().0[0], 0);
        assert_eq!(black.plane(1).unwrap().0[0], 128);
        let limited = Frame::video_copy(&init(VideoPixelFormat::I420, w, h), &[60; 48]).unwrap().blank_like().unwrap();
        assert_eq!(limited.plane(0).unwrap().0[0], 16);
    }

    #[test]
    fn rgb_copies_read_the_frames_matrix_and_range() {
        // One YUV value, read as full-range BT.601 (JFIF) and as limited BT.709.
        let (y, u, v) = (100u8, 90u8, 200u8);
        let mut data = vec![y; 16];
        data.extend([u; 4]);
        data.extend([v; 4]);
        let opts = VideoCopyOptions { format: Some(VideoPixelFormat::Rgba), ..Default::default() };
        let rgb = |cs: Option<VideoColorSpace>| {
            let f = Frame::video_copy(&VideoFrameInit { color_space: cs, ..init(VideoPixelFormat::I420, 4, 4) }, &data)
                .unwrap();
            let mut out = vec![0; 64];
            f.video_copy_to(&mut out, &opts).unwrap();
            [out[0] as f64, out[1] as f64, out[2] as f64]
        };
        // JFIF: R = Y + 1.402 (V - 128), G = Y - 0.344136 (U - 128) - 0.714136 (V - 128),
        // B = Y + 1.772 (U - 128).
        let (d, e) = (u as f64 - 128.0, v as f64 - 128.0);
        let jfif = [y as f64 + 1.402 * e, y as f64 - 0.344136 * d - 0.714136 * e, y as f64 + 1.772 * d]
            .map(|c| c.round().clamp(0.0, 255.0));
        let got = rgb(Some(VideoColorSpace::JPEG));
        for c in 0..3 {
            assert!((got[c] - jfif[c]).abs() <= 1.0, "JFIF {got:?} vs {jfif:?}");
        }
        assert_ne!(rgb(None), got, "the default (BT.709 limited) reads the same bytes differently");
    }

    #[test]
    fn packed_sizes_round_chroma_up() {
        assert_eq!(packed_layout(VideoPixelFormat::I420, 640, 480).unwrap().1, 460_800);
        assert_eq!(packed_layout(VideoPixelFormat::I420, 3, 3).unwrap().1, 9 + 2 * 4);
        assert_eq!(packed_layout(VideoPixelFormat::Nv12, 3, 3).unwrap().1, 9 + 2 * 2 * 2);
        assert_eq!(packed_layout(VideoPixelFormat::I420A, 2, 2).unwrap().1, 4 + 1 + 1 + 4);
    }

    #[test]
    fn validation_rejects_what_webcodecs_rejects() {
        let kind = |i: &VideoFrameInit, len: usize| i.validate(len).map(|_| ()).map_err(|e| e.kind);
        let ok = init(VideoPixelFormat::I420, 4, 4);
        assert_eq!(kind(&ok, 24), Ok(()));
        assert_eq!(kind(&ok, 23), Err(ErrorKind::InvalidArg));
        assert_eq!(kind(&init(VideoPixelFormat::I420, 0, 4), 100), Err(ErrorKind::InvalidArg));
        let odd_x = VideoFrameInit { visible_rect: Some(Rect { x: 1, y: 0, width: 2, height: 2 }), ..ok.clone() };
        assert_eq!(kind(&odd_x, 24), Err(ErrorKind::InvalidArg));
        let odd_y_422 = VideoFrameInit {
            visible_rect: Some(Rect { x: 0, y: 1, width: 2, height: 2 }),
            ..init(VideoPixelFormat::I422, 4, 4)
        };
        assert_eq!(kind(&odd_y_422, 32), Ok(()));
        let overlap = VideoFrameInit {
            layout: Some(vec![
                PlaneLayout { offset: 0, stride: 4 },
                PlaneLayout { offset: 8, stride: 2 },
                PlaneLayout { offset: 20, stride: 2 },
            ]),
            ..ok.clone()
        };
        assert_eq!(kind(&overlap, 100), Err(ErrorKind::InvalidArg));
        let short_stride = VideoFrameInit {
            layout: Some(vec![
                PlaneLayout { offset: 0, stride: 3 },
                PlaneLayout { offset: 16, stride: 2 },
                PlaneLayout { offset: 20, stride: 2 },
            ]),
            ..ok
        };
        assert_eq!(kind(&short_stride, 100), Err(ErrorKind::InvalidArg));
    }

    #[test]
    fn copy_repacks_and_copy_to_reads_back_a_rect() {
        // 4x2 I420 with padded strides and planes in reverse order.
        let layout = vec![
            PlaneLayout { offset: 20, stride: 6 },
            PlaneLayout { offset: 10, stride: 4 },
            PlaneLayout { offset: 0, stride: 4 },
        ];
        let mut data = vec![0u8; 32];
        data[20..24].copy_from_slice(&[1, 2, 3, 4]);
        data[26..30].copy_from_slice(&[5, 6, 7, 8]);
        data[10..12].copy_from_slice(&[20, 21]);
        data[0..2].copy_from_slice(&[30, 31]);
        let f =
            Frame::video_copy(&VideoFrameInit { layout: Some(layout), ..init(VideoPixelFormat::I420, 4, 2) }, &data)
                .unwrap();
        let mut out = vec![0u8; 12];
        f.video_copy_to(&mut out, &VideoCopyOptions::default()).unwrap();
        assert_eq!(out, [1, 2, 3, 4, 5, 6, 7, 8, 20, 21, 30, 31]);
        let rect = VideoCopyOptions { rect: Some(Rect { x: 2, y: 0, width: 2, height: 2 }), ..Default::default() };
        assert_eq!(f.video_allocation_size(&rect).unwrap(), 6);
        let mut out = vec![0u8; 6];
        f.video_copy_to(&mut out, &rect).unwrap();
        assert_eq!(out, [3, 4, 7, 8, 21, 31]);
        assert_eq!(f.video_copy_to(&mut [0u8; 5], &rect).unwrap_err().kind, ErrorKind::InvalidArg);
    }

    #[test]
    fn crop_views_share_the_buffer_and_blank_keeps_geometry() {
        let f = Frame::video_with(VideoPixelFormat::Nv12, 8, 4, 0, None, |img| img.planes[0].fill(99)).unwrap();
        let crop = f.with_visible_rect(Rect { x: 2, y: 2, width: 4, height: 2 }, (4, 2)).unwrap();
        assert!(crop.shares_buffer_with(&f));
        assert_eq!(
            f.with_visible_rect(Rect { x: 1, y: 0, width: 2, height: 2 }, (2, 2)).unwrap_err().kind,
            ErrorKind::InvalidArg
        );
        let black = crop.blank_like().unwrap();
        let v = black.video().unwrap();
        assert_eq!((v.visible_rect.width, v.visible_rect.height, v.format), (4, 2, VideoPixelFormat::Nv12));
        assert!(black.plane(0).unwrap().0[..8].iter().all(|&y| y == 16));
        assert!(!black.shares_buffer_with(&f));
    }

    #[test]
    fn audio_ranges_follow_webcodecs() {
        let init = AudioDataInit {
            format: AudioSampleFormat::S16,
            sample_rate: 48000.0,
            number_of_frames: 4,
            number_of_channels: 2,
            timestamp: 0,
        };
        let f = Frame::audio_copy(&init, &[0u8; 16]).unwrap();
        assert_eq!(f.audio().unwrap().duration(), 83);
        let size = |o: AudioCopyOptions| f.audio_allocation_size(&o).map_err(|e| e.kind);
        assert_eq!(size(AudioCopyOptions::default()), Ok(16));
        assert_eq!(size(AudioCopyOptions { plane_index: 1, ..Default::default() }), Err(ErrorKind::Range));
        let planar = Some(AudioSampleFormat::F32Planar);
        assert_eq!(size(AudioCopyOptions { plane_index: 1, format: planar, ..Default::default() }), Ok(16));
        assert_eq!(
            size(AudioCopyOptions { plane_index: 2, format: planar, ..Default::default() }),
            Err(ErrorKind::Range)
        );
        assert_eq!(size(AudioCopyOptions { frame_offset: 4, ..Default::default() }), Err(ErrorKind::Range));
        assert_eq!(
            size(AudioCopyOptions { frame_offset: 1, frame_count: Some(4), ..Default::default() }),
            Err(ErrorKind::Range)
        );
        assert_eq!(size(AudioCopyOptions { frame_offset: 1, frame_count: Some(3), ..Default::default() }), Ok(12));
        assert_eq!(f.audio_copy_to(&mut [0u8; 15], &AudioCopyOptions::default()).unwrap_err().kind, ErrorKind::Range);
    }

    #[test]
    fn buffers_are_recycled() {
        let f = Frame::video_with(VideoPixelFormat::I420, 4000, 1000, 0, None, |_| {}).unwrap();
        let ptr = f.data().as_ptr();
        drop(f);
        let again = Frame::video_with(VideoPixelFormat::I420, 4000, 1000, 0, None, |_| {}).unwrap();
        assert_eq!(again.data().as_ptr(), ptr, "the freed buffer comes back from the pool");
    }

    struct Counted(Vec<u8>, std::sync::Arc<std::sync::atomic::AtomicUsize>);
    impl ExternalMemory for Counted {
        fn bytes(&self) -> &[u8] {
            &self.0
        }
    }
    impl Drop for Counted {
        fn drop(&mut self) {
            self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn wrapped_memory_is_released_at_the_last_close_and_returned_on_error() {
        let released = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mem = Box::new(Counted(vec![5; 24], released.clone()));
        let f = Frame::video_wrap(&init(VideoPixelFormat::I420, 4, 4), mem).map_err(|(e, _)| e).unwrap();
        let c = f.clone();
        drop(f);
        assert_eq!(released.load(std::sync::atomic::Ordering::SeqCst), 0);
        drop(c);
        assert_eq!(released.load(std::sync::atomic::Ordering::SeqCst), 1);
        let small = Box::new(Counted(vec![5; 10], released.clone()));
        let (e, back) = Frame::video_wrap(&init(VideoPixelFormat::I420, 4, 4), small).unwrap_err();
        assert_eq!((e.kind, back.bytes().len()), (ErrorKind::InvalidArg, 10));
    }
}
