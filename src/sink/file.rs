//! File sinks: Y4M for video tracks and WAV for audio tracks, written on a library thread
//! from the sink's own processor, so the source's thread never waits for the disk.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::convert::{self, ImageMut, YuvEncoding};
use crate::error::{err, Error, ErrorKind, Result};
use crate::frame::{
    AudioCopyOptions, AudioSampleFormat, ChromaSiting, Frame, Kind, PlaneLayout, Rect, VideoMeta, VideoPixelFormat,
};
use crate::sink::processor::{EndPolicy, Processor, Wait};
use crate::sink::SinkThread;
use crate::source::worker::StopSignal;
use crate::track::Track;

/// What a file sink wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileStats {
    /// Video frames or audio chunks written.
    pub frames_written: u64,
    /// Frames the sink's queue discarded because the disk was slower than the source.
    pub frames_dropped: u64,
    /// Bytes in the file, headers included.
    pub bytes_written: u64,
}

/// A Y4M or WAV recorder connected to a track.
pub struct FileSink {
    counters: Arc<Counters>,
    run: SinkThread,
}

/// What the writing thread has done so far.
#[derive(Default)]
struct Counters {
    frames: AtomicU64,
    bytes: AtomicU64,
}

fn io_err(path: &Path, e: std::io::Error) -> Error {
    Error::new(ErrorKind::Io, format!("{}: {e}", path.display()))
}

trait Writer: Send {
    fn write(&mut self, frame: &Frame) -> Result<()>;
    /// Flushes and completes the headers; the file's size.
    fn finish(&mut self) -> Result<u64>;
    /// The file's size once finished, as of what has been written so far.
    fn bytes(&self) -> u64;
}

impl FileSink {
    /// Starts recording `track` into `path`: Y4M (I420, the first frame's size) for video,
    /// WAV (the first chunk's rate, channels and sample format, interleaved) for audio.
    pub fn open(track: &Track, path: &Path) -> Result<FileSink> {
        let file = File::create(path).map_err(|e| err!(Io, "cannot create the file at path {path:?}: {e}"))?;
        let out = BufWriter::with_capacity(1 << 20, file);
        let p = path.to_path_buf();
        let (writer, queue): (Box<dyn Writer>, usize) = match track.kind() {
            Kind::Video => (Box::new(Y4m { out, path: p, size: None, color: None, buf: Vec::new(), bytes: 0 }), 8),
            Kind::Audio => (Box::new(Wav { out, path: p, format: None, buf: Vec::new(), data_bytes: 0 }), 100),
        };
        let processor = Arc::new(Processor::with_end_policy(track, queue, EndPolicy::Drain));
        let stop = StopSignal::new().map_err(|e| err!(Io, "creating an eventfd: {e}"))?;
        let counters = Arc::new(Counters::default());
        let c2 = counters.clone();
        let run = SinkThread::spawn(processor, stop, "mst-file-sink", "file sink", move |p, stop| {
            record(writer, p, stop, &c2)
        })?;
        Ok(FileSink { counters, run })
    }

    /// What has been written so far; the final counts once stopped. Never waits.
    pub fn stats(&self) -> FileStats {
        FileStats {
            frames_written: self.counters.frames.load(Ordering::Relaxed),
            frames_dropped: self.run.processor().stats().discarded_in_queue(),
            bytes_written: self.counters.bytes.load(Ordering::Relaxed),
        }
    }

    /// True once the sink has stopped writing: a write error (see [`stop`](Self::stop) for
    /// it), or the track ended and written out, or stopped. A writer that waits for room in
    /// the sink's queue must stop waiting then, as the queue is never emptied again.
    pub fn is_stopped(&self) -> bool {
        self.run.has_stopped()
    }

    /// Disconnects from the track (which keeps running), writes what was queued at that
    /// moment, at most the queue's length, and finishes the file (sizes in the WAV header).
    /// The write error that stopped the sink, if any. Later calls return the first one's
    /// result.
    pub fn stop(&self) -> Result<()> {
        self.run.processor().detach();
        self.run.close()
    }

    /// `stop`, then the final counts.
    pub fn finish(&self) -> Result<FileStats> {
        self.stop()?;
        Ok(self.stats())
    }
}

/// The file sink's thread: writes every frame until the track ends or the sink is stopped
/// (then what is already queued is still written), and finishes the file.
/// A write error stops the recording but the file is still finished (WAV sizes filled in),
/// so what was written before it stays readable; the write error is the one returned.
fn record(mut writer: Box<dyn Writer>, processor: &Processor, stop: &StopSignal, counters: &Counters) -> Result<()> {
    let written = loop {
        let wait = if stop.is_raised() { Wait::No } else { Wait::Forever };
        match processor.read(wait) {
            Ok(d) => {
                if let Err(e) = writer.write(&d.frame) {
                    break Err(e);
                }
                counters.bytes.store(writer.bytes(), Ordering::Relaxed);
                counters.frames.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) if e.kind == ErrorKind::Interrupted => continue,
            Err(_) => break Ok(()),
        }
    };
    let finished = writer.finish();
    if let Ok(bytes) = finished {
        counters.bytes.store(bytes, Ordering::Relaxed);
    }
    written.and(finished.map(drop))
}

struct Y4m {
    out: BufWriter<File>,
    path: std::path::PathBuf,
    size: Option<(u32, u32)>,
    /// The colour the header names (the first frame's).
    color: Option<Y4mColor>,
    buf: Vec<u8>,
    bytes: u64,
}

/// What the I420 written for a frame is: its encoding (matrix and range) and chroma siting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Y4mColor {
    yuv: YuvEncoding,
    siting: ChromaSiting,
}

impl Y4mColor {
    /// The I420 [`to_i420`] makes of a frame: RGB becomes libmst's BT.709 limited range with
    /// chroma at the 2x2 centre (a box average); I444's chroma is box-averaged to the centre
    /// too; the other YUV formats keep their samples, so their encoding and siting.
    fn of(v: &VideoMeta) -> Y4mColor {
        match v.format {
            f if f.is_rgb() => Y4mColor { yuv: YuvEncoding::BT709_LIMITED, siting: ChromaSiting::Center },
            VideoPixelFormat::I444 => Y4mColor { yuv: v.color_space.yuv_encoding(), siting: ChromaSiting::Center },
            _ => Y4mColor { yuv: v.color_space.yuv_encoding(), siting: v.chroma_siting },
        }
    }

    fn describe(self) -> String {
        let range = if self.yuv.full_range { "full" } else { "limited" };
        let siting = match self.siting {
            ChromaSiting::Center => "centre",
            ChromaSiting::Left => "left",
        };
        format!("{} {range} range, chroma sited {siting}", self.yuv.matrix.name())
    }
}

impl Writer for Y4m {
    /// Writes one frame, after the header for the first. The header names the first frame's
    /// colour (see [`y4m_header`]); a Y4M file has one colour for all its frames, so a later
    /// frame whose I420 would be another (a different matrix, range or chroma siting) is
    /// refused with an Unsupported error naming both, which ends the recording with the
    /// frames so far intact. Refusing, rather than converting, keeps every sample written
    /// exactly what the source made; a track's frames keep one colour unless its source
    /// changes it.
    fn write(&mut self, frame: &Frame) -> Result<()> {
        let v = *frame.video().ok_or_else(|| err!(Type, "a Y4M sink takes video frames"))?;
        let r = v.visible_rect;
        let color = Y4mColor::of(&v);
        let (w, h) = match (self.size, self.color) {
            (Some(s), Some(first)) => {
                if color != first {
                    return Err(err!(
                        Unsupported,
                        "{}: a frame is {} but the Y4M header says {}; a Y4M file holds one colour space (the recording stopped there)",
                        self.path.display(),
                        color.describe(),
                        first.describe()
                    ));
                }
                s
            }
            _ => {
                let (num, den) = frame_rate_ratio(v.duration);
                let header = y4m_header(r.width, r.height, num, den, color);
                self.out.write_all(header.as_bytes()).map_err(|e| io_err(&self.path, e))?;
                self.bytes += header.len() as u64;
                self.size = Some((r.width, r.height));
                self.color = Some(color);
                (r.width, r.height)
            }
        };
        let (w, h) = (w as usize, h as usize);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        self.buf.resize(w * h + 2 * cw * ch, 0);
        let layout = [
            PlaneLayout { offset: 0, stride: w },
            PlaneLayout { offset: w * h, stride: cw },
            PlaneLayout { offset: w * h + cw * ch, stride: cw },
        ];
        let mut dst = crate::frame::image_mut(VideoPixelFormat::I420, w, h, &mut self.buf, &layout);
        to_i420(frame, r, &mut dst)?;
        self.out.write_all(b"FRAME\n").map_err(|e| io_err(&self.path, e))?;
        self.out.write_all(&self.buf).map_err(|e| io_err(&self.path, e))?;
        self.bytes += 6 + self.buf.len() as u64;
        Ok(())
    }

    fn finish(&mut self) -> Result<u64> {
        self.out.flush().map_err(|e| io_err(&self.path, e))?;
        Ok(self.bytes)
    }

    fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// The stream header, naming what the samples are. Chroma siting: `C420jpeg` when chroma
/// sits at the centre of its 2x2 block (libmst's RGB to I420 box average, a JPEG decode),
/// `C420mpeg2` when it is co-sited with the left luma sample (camera YUYV, UYVY, NV12, YU12).
/// `XCOLORRANGE=LIMITED` or `FULL` is the range tag ffmpeg writes and reads. Y4M has no
/// standard field for the matrix: `XMST_MATRIX=BT601`, `BT709` or `BT2020` records it as an
/// application tag (which readers skip); ffmpeg then needs to be told for anything but
/// BT.601 (`-vf scale=in_color_matrix=bt709`), since it assumes BT.601 for YUV of unknown
/// matrix.
fn y4m_header(width: u32, height: u32, num: u64, den: u64, color: Y4mColor) -> String {
    let siting = match color.siting {
        ChromaSiting::Center => "C420jpeg",
        ChromaSiting::Left => "C420mpeg2",
    };
    let range = if color.yuv.full_range { "FULL" } else { "LIMITED" };
    let matrix = color.yuv.matrix.name();
    format!("YUV4MPEG2 W{width} H{height} F{num}:{den} Ip A1:1 {siting} XCOLORRANGE={range} XMST_MATRIX={matrix}\n")
}

/// The visible part of `frame` as I420 at dst's size (scaled when the size differs).
fn to_i420(frame: &Frame, visible: Rect, dst: &mut ImageMut) -> Result<()> {
    let v = frame.video().expect("video");
    let src = frame.image(visible).expect("video");
    if (src.width, src.height) == (dst.width, dst.height) {
        convert::convert(&src, dst);
        return Ok(());
    }
    let scaled = Frame::video_with(v.format, dst.width as u32, dst.height as u32, v.timestamp, v.duration, |s| {
        convert::scale(&src, s)
    })?;
    let img = scaled.image(scaled.video().expect("video").visible_rect).expect("video");
    convert::convert(&img, dst);
    Ok(())
}

/// The Y4M frame rate for a frame duration in microseconds: whole rates and the NTSC family
/// (30000/1001...) exactly, anything else as 1000000/duration reduced; 30/1 when unknown.
fn frame_rate_ratio(duration: Option<i64>) -> (u64, u64) {
    let Some(d) = duration.filter(|d| *d > 0) else { return (30, 1) };
    let fps = 1_000_000.0 / d as f64;
    if (fps - fps.round()).abs() < 0.01 {
        return (fps.round() as u64, 1);
    }
    let ntsc = fps * 1.001;
    if (ntsc - ntsc.round()).abs() < 0.01 {
        return (ntsc.round() as u64 * 1000, 1001);
    }
    let g = crate::convert::gcd(1_000_000, d as u64);
    (1_000_000 / g, d as u64 / g)
}

struct Wav {
    out: BufWriter<File>,
    path: std::path::PathBuf,
    /// (sample format, interleaved; rate; channels) of the first chunk.
    format: Option<(AudioSampleFormat, f32, u32)>,
    buf: Vec<u8>,
    data_bytes: u64,
}

/// The largest RIFF size field: a WAV file ends at 4 GiB + 8 bytes.
const RIFF_MAX: u64 = u32::MAX as u64;

/// KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT after their first two bytes (the format tag).
const SUBTYPE_TAIL: [u8; 14] = [0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71];

impl Wav {
    /// The header: a plain 16-byte `fmt ` for mono and stereo, WAVE_FORMAT_EXTENSIBLE (40
    /// bytes) above 2 channels, as Microsoft's format requires for them. The channel mask is 0
    /// (no speaker positions): libmst's audio carries a count, not a layout.
    fn header(format: AudioSampleFormat, rate: f32, channels: u32, data_bytes: u64) -> Vec<u8> {
        let bits = format.bytes_per_sample() as u32 * 8;
        let tag: u16 = if format == AudioSampleFormat::F32 { 3 } else { 1 };
        let block = channels * bits / 8;
        let extensible = channels > 2;
        let fmt_len: u32 = if extensible { 40 } else { 16 };
        let header_len = 12 + 8 + fmt_len as u64 + 8;
        let pad = data_bytes & 1;
        let riff = (header_len - 8 + data_bytes + pad).min(RIFF_MAX) as u32;
        let mut h = Vec::with_capacity(header_len as usize);
        h.extend_from_slice(b"RIFF");
        h.extend_from_slice(&riff.to_le_bytes());
        h.extend_from_slice(b"WAVEfmt ");
        h.extend_from_slice(&fmt_len.to_le_bytes());
        h.extend_from_slice(&(if extensible { 0xFFFE } else { tag }).to_le_bytes());
        h.extend_from_slice(&(channels as u16).to_le_bytes());
        h.extend_from_slice(&(rate as u32).to_le_bytes());
        h.extend_from_slice(&(rate as u32 * block).to_le_bytes());
        h.extend_from_slice(&(block as u16).to_le_bytes());
        h.extend_from_slice(&(bits as u16).to_le_bytes());
        if extensible {
            h.extend_from_slice(&22u16.to_le_bytes());
            h.extend_from_slice(&(bits as u16).to_le_bytes());
            h.extend_from_slice(&0u32.to_le_bytes());
            h.extend_from_slice(&tag.to_le_bytes());
            h.extend_from_slice(&SUBTYPE_TAIL);
        }
        h.extend_from_slice(b"data");
        h.extend_from_slice(&(data_bytes.min(RIFF_MAX) as u32).to_le_bytes());
        debug_assert_eq!(h.len() as u64, header_len);
        h
    }

    fn header_len(&self) -> u64 {
        self.format.map_or(0, |(f, r, c)| Wav::header(f, r, c, 0).len() as u64)
    }
}

impl Writer for Wav {
    fn write(&mut self, frame: &Frame) -> Result<()> {
        let a = *frame.audio().ok_or_else(|| err!(Type, "a WAV sink takes audio data"))?;
        let (format, rate, channels) = match self.format {
            Some(f) => f,
            None => {
                let bytes_per_second =
                    a.sample_rate as f64 * a.number_of_channels as f64 * a.format.bytes_per_sample() as f64;
                if a.sample_rate.fract() != 0.0
                    || a.number_of_channels > u16::MAX as u32 / 4
                    || bytes_per_second > u32::MAX as f64
                {
                    return Err(err!(
                        Unsupported,
                        "WAV cannot hold {} Hz x{} {}: the rate must be whole and the byte rate fit 32 bits",
                        a.sample_rate,
                        a.number_of_channels,
                        a.format.name()
                    ));
                }
                let f = (a.format.interleaved(), a.sample_rate, a.number_of_channels);
                self.out.write_all(&Wav::header(f.0, f.1, f.2, 0)).map_err(|e| io_err(&self.path, e))?;
                self.format = Some(f);
                f
            }
        };
        if (a.sample_rate, a.number_of_channels) != (rate, channels) {
            return Err(err!(
                Unsupported,
                "WAV sink: the stream changed from {rate} Hz x{channels} to {} Hz x{}",
                a.sample_rate,
                a.number_of_channels
            ));
        }
        let opts = AudioCopyOptions { format: Some(format), ..Default::default() };
        self.buf.resize(frame.audio_allocation_size(&opts)?, 0);
        let n = frame.audio_copy_to(&mut self.buf, &opts)?;
        let total = self.data_bytes + n as u64;
        if self.header_len() - 8 + total + (total & 1) > RIFF_MAX {
            return Err(err!(
                Unsupported,
                "{}: a WAV file cannot pass 4 GiB; the recording stopped there with {} bytes of audio (record shorter files)",
                self.path.display(),
                self.data_bytes
            ));
        }
        self.out.write_all(&self.buf[..n]).map_err(|e| io_err(&self.path, e))?;
        self.data_bytes += n as u64;
        Ok(())
    }

    fn finish(&mut self) -> Result<u64> {
        let e = |e| io_err(&self.path, e);
        if let Some((f, r, c)) = self.format {
            // RIFF chunks are word-aligned: an odd data chunk (8-bit mono, odd frame count)
            // is followed by a pad byte the data size does not count.
            if self.data_bytes & 1 == 1 {
                self.out.write_all(&[0]).map_err(e)?;
            }
            self.out.seek(SeekFrom::Start(0)).map_err(e)?;
            self.out.write_all(&Wav::header(f, r, c, self.data_bytes)).map_err(|e| io_err(&self.path, e))?;
        }
        self.out.flush().map_err(|e| io_err(&self.path, e))?;
        Ok(self.bytes() + (self.data_bytes & 1))
    }

    fn bytes(&self) -> u64 {
        if self.format.is_some() {
            self.header_len() + self.data_bytes
        } else {
            0
        }
    }
}

/// A PCM WAV file's header as [`parse_wav`] reads it: the format, and where the data chunk is.
#[derive(Debug, PartialEq, Eq)]
pub struct WavHeader {
    pub format: AudioSampleFormat,
    pub rate: u32,
    pub channels: u32,
    /// The data chunk's offset in the file, and its length (cut where the file ends).
    pub data_start: u64,
    pub data_len: u64,
}

/// Reads a RIFF WAVE file's `fmt ` and `data` chunks (the last of each; a `fmt ` shorter than
/// 16 bytes is skipped) from `r`, `len` bytes long, for `mst play`, which then streams the
/// data chunk (a WAV may be 4 GiB). Chunks are walked by their headers alone; only fmt's body
/// is read (its first 64 bytes: WAVE_FORMAT_EXTENSIBLE's is 40). Public so the fuzz targets
/// (fuzz/) reach the very parser `mst play` runs on untrusted files. The error says what is
/// wrong with the file.
pub fn parse_wav<R: std::io::Read + Seek>(r: &mut R, len: u64) -> std::result::Result<WavHeader, String> {
    let io = |e: std::io::Error| e.to_string();
    let mut head = [0u8; 12];
    r.seek(SeekFrom::Start(0)).map_err(io)?;
    if len < 12 || r.read_exact(&mut head).is_err() || &head[0..4] != b"RIFF" || &head[8..12] != b"WAVE" {
        return Err("not a RIFF WAVE file".into());
    }
    let u16_at = |b: &[u8], i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
    let u32_at = |b: &[u8], i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let (mut fmt, mut data, mut at) = (None, None, 12u64);
    while at + 8 <= len {
        r.seek(SeekFrom::Start(at)).map_err(io)?;
        let mut h = [0u8; 8];
        r.read_exact(&mut h).map_err(io)?;
        let size = u32_at(&h, 4) as u64;
        let body = size.min(len - at - 8);
        match &h[0..4] {
            b"fmt " if body >= 16 => {
                let mut b = vec![0u8; body.min(64) as usize];
                r.read_exact(&mut b).map_err(io)?;
                fmt = Some(b);
            }
            b"data" => data = Some((at + 8, body)),
            _ => {}
        }
        at = at.saturating_add(8).saturating_add(size).saturating_add(size & 1);
    }
    let (fmt, (data_start, data_len)) = (fmt.ok_or("no fmt chunk")?, data.ok_or("no data chunk")?);
    let mut tag = u16_at(&fmt, 0);
    if tag == 0xFFFE && fmt.len() >= 26 {
        // WAVE_FORMAT_EXTENSIBLE: the sub-format GUID starts with the real tag.
        tag = u16_at(&fmt, 24);
    }
    let bits = u16_at(&fmt, 14);
    let format = match (tag, bits) {
        (1, 8) => AudioSampleFormat::U8,
        (1, 16) => AudioSampleFormat::S16,
        (1, 32) => AudioSampleFormat::S32,
        (3, 32) => AudioSampleFormat::F32,
        _ => return Err(format!("format tag {tag} at {bits} bits is not PCM libmst plays")),
    };
    Ok(WavHeader { format, rate: u32_at(&fmt, 4), channels: u16_at(&fmt, 2) as u32, data_start, data_len })
}

/// The header the WAV sink writes for `data_bytes` of audio (`format` interleaved), so the
/// fuzz targets can round-trip it through [`parse_wav`] without a file.
pub fn wav_header(format: AudioSampleFormat, rate: f32, channels: u32, data_bytes: u64) -> Vec<u8> {
    Wav::header(format.interleaved(), rate, channels, data_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::AudioDataInit;
    use crate::source::generator::Generator;

    fn chunk(rate: f32, frames: u32, ts: i64) -> Frame {
        let init = AudioDataInit {
            format: AudioSampleFormat::S16,
            sample_rate: rate,
            number_of_frames: frames,
            number_of_channels: 2,
            timestamp: ts,
        };
        Frame::audio_copy(&init, &vec![7u8; frames as usize * 4]).unwrap()
    }

    /// A file in the temp dir, removed when the test ends, passed or failed (a failing test of a
    /// fast producer can have written gigabytes).
    struct Temp(std::path::PathBuf);

    impl std::ops::Deref for Temp {
        type Target = std::path::Path;
        fn deref(&self) -> &std::path::Path {
            &self.0
        }
    }

    impl AsRef<std::path::Path> for Temp {
        fn as_ref(&self) -> &std::path::Path {
            &self.0
        }
    }

    impl Drop for Temp {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn temp(name: &str) -> Temp {
        Temp(std::env::temp_dir().join(format!("mst-file-sink-{}-{name}", std::process::id())))
    }

    #[test]
    fn stats_count_while_writing_and_match_the_finished_file() {
        let path = temp("stats.wav");
        let g = Generator::new(Kind::Audio);
        let sink = FileSink::open(g.track(), &path).unwrap();
        for i in 0..3 {
            g.write(chunk(48_000.0, 480, i * 10_000)).unwrap();
        }
        // Counted as the thread writes, before the file is finished.
        let start = std::time::Instant::now();
        while sink.stats().frames_written < 3 {
            assert!(start.elapsed() < std::time::Duration::from_secs(60), "{:?}", sink.stats());
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert_eq!(sink.stats().bytes_written, 44 + 3 * 480 * 4);
        let stats = sink.finish().unwrap();
        assert_eq!(stats, FileStats { frames_written: 3, frames_dropped: 0, bytes_written: 44 + 3 * 480 * 4 });
        assert_eq!(std::fs::metadata(&path).unwrap().len(), stats.bytes_written);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_write_error_stops_the_sink_and_finish_returns_it() {
        let path = temp("error.wav");
        let g = Generator::new(Kind::Audio);
        let sink = FileSink::open(g.track(), &path).unwrap();
        g.write(chunk(48_000.0, 480, 0)).unwrap();
        g.write(chunk(44_100.0, 441, 10_000)).unwrap();
        g.close();
        let e = sink.finish().unwrap_err();
        assert_eq!(e.kind, ErrorKind::Unsupported, "{e}");
        assert!(e.message.contains("changed from 48000 Hz x2 to 44100 Hz x2"), "{e}");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn stop_returns_while_the_source_keeps_writing() {
        let path = temp("busy.y4m");
        let g = Arc::new(Generator::new(Kind::Video));
        let sink = FileSink::open(g.track(), &path).unwrap();
        let init = crate::frame::VideoFrameInit {
            format: VideoPixelFormat::I420,
            coded_width: 1920,
            coded_height: 1080,
            timestamp: 0,
            duration: None,
            layout: None,
            visible_rect: None,
            display_size: None,
            color_space: None,
        };
        let frame = Frame::video_copy(&init, &vec![16u8; 1920 * 1080 * 3 / 2]).unwrap();
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (g2, done2) = (g.clone(), done.clone());
        // A producer far faster than the disk (a frame is a refcount; writing it is 3 MB), which
        // never lets the sink's queue run dry until told to stop, or after a minute or once the
        // file passes 2 GB (guards against a hang and a full disk, not speed checks: a stop
        // bounded by its queue leaves the file at tens of MB).
        let (path2, limit) = (path.0.clone(), 2u64 << 30);
        let producer = std::thread::spawn(move || {
            let start = std::time::Instant::now();
            let within = || {
                start.elapsed() < std::time::Duration::from_secs(60)
                    && std::fs::metadata(&path2).map_or(0, |m| m.len()) < limit
            };
            let mut n = 0u32;
            while !done2.load(Ordering::Acquire) && (!n.is_multiple_of(64) || within()) {
                g2.write(frame.clone()).unwrap();
                n = n.wrapping_add(1);
            }
            within()
        });
        while sink.stats().frames_written < 2 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        sink.stop().unwrap();
        let at_stop = sink.stats();
        done.store(true, Ordering::Release);
        assert!(producer.join().unwrap(), "stop returned only once the producer had given up");
        assert_eq!(sink.stats(), at_stop, "nothing is written after stop returned");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), at_stop.bytes_written);
        std::fs::remove_file(&path).unwrap();
    }

    fn u16_at(b: &[u8], i: usize) -> u16 {
        u16::from_le_bytes([b[i], b[i + 1]])
    }

    fn u32_at(b: &[u8], i: usize) -> u32 {
        u32::from_le_bytes(b[i..i + 4].try_into().unwrap())
    }

    fn s16_chunk(channels: u32, frames: u32, ts: i64) -> Frame {
        let init = AudioDataInit {
            format: AudioSampleFormat::S16,
            sample_rate: 48_000.0,
            number_of_frames: frames,
            number_of_channels: channels,
            timestamp: ts,
        };
        Frame::audio_copy(&init, &vec![1u8; (frames * channels * 2) as usize]).unwrap()
    }

    #[test]
    fn wav_above_two_channels_is_extensible_and_stereo_is_plain() {
        let stereo = Wav::header(AudioSampleFormat::S16, 48_000.0, 2, 1000);
        assert_eq!(stereo.len(), 44);
        assert_eq!((u32_at(&stereo, 16), u16_at(&stereo, 20)), (16, 1));
        assert_eq!((&stereo[36..40], u32_at(&stereo, 40), u32_at(&stereo, 4)), (&b"data"[..], 1000, 1036));

        let six = Wav::header(AudioSampleFormat::F32, 48_000.0, 6, 2400);
        assert_eq!(six.len(), 68);
        assert_eq!(u32_at(&six, 4), 60 + 2400, "RIFF size: the file's length minus 8");
        assert_eq!(u32_at(&six, 16), 40, "fmt chunk of WAVE_FORMAT_EXTENSIBLE");
        assert_eq!(u16_at(&six, 20), 0xFFFE);
        assert_eq!(u16_at(&six, 22), 6);
        assert_eq!(u32_at(&six, 24), 48_000);
        assert_eq!(u32_at(&six, 28), 48_000 * 24, "byte rate");
        assert_eq!((u16_at(&six, 32), u16_at(&six, 34)), (24, 32), "block align, bits");
        assert_eq!((u16_at(&six, 36), u16_at(&six, 38), u32_at(&six, 40)), (22, 32, 0), "cbSize, valid bits, mask");
        assert_eq!(u16_at(&six, 44), 3, "IEEE float sub-format");
        assert_eq!(&six[46..60], &SUBTYPE_TAIL);
        assert_eq!((&six[60..64], u32_at(&six, 64)), (&b"data"[..], 2400));
        let pcm = Wav::header(AudioSampleFormat::S32, 44_100.0, 4, 0);
        assert_eq!(u16_at(&pcm, 44), 1, "PCM sub-format");
    }

    #[test]
    fn a_six_channel_recording_is_extensible_and_sized() {
        let path = temp("six.wav");
        let g = Generator::new(Kind::Audio);
        let sink = FileSink::open(g.track(), &path).unwrap();
        for i in 0..3 {
            g.write(s16_chunk(6, 480, i * 10_000)).unwrap();
        }
        g.close();
        let stats = sink.finish().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len() as u64, stats.bytes_written);
        assert_eq!(bytes.len(), 68 + 3 * 480 * 12);
        assert_eq!(u16_at(&bytes, 20), 0xFFFE);
        assert_eq!(u32_at(&bytes, 4) as usize, bytes.len() - 8);
        assert_eq!(u32_at(&bytes, 64) as usize, 3 * 480 * 12);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn an_odd_data_chunk_is_padded() {
        let path = temp("odd.wav");
        let g = Generator::new(Kind::Audio);
        let sink = FileSink::open(g.track(), &path).unwrap();
        let init = AudioDataInit {
            format: AudioSampleFormat::U8,
            sample_rate: 8000.0,
            number_of_frames: 81,
            number_of_channels: 1,
            timestamp: 0,
        };
        g.write(Frame::audio_copy(&init, &[128u8; 81]).unwrap()).unwrap();
        g.close();
        let stats = sink.finish().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len(), 44 + 81 + 1);
        assert_eq!(stats.bytes_written, bytes.len() as u64);
        assert_eq!(u32_at(&bytes, 40), 81, "the data size leaves the pad byte out");
        assert_eq!(u32_at(&bytes, 4) as usize, bytes.len() - 8, "the RIFF size counts it");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn wav_refuses_to_pass_4_gib() {
        let path = temp("big.wav");
        let file = File::create(&path).unwrap();
        let mut wav =
            Wav { out: BufWriter::new(file), path: path.to_path_buf(), format: None, buf: Vec::new(), data_bytes: 0 };
        wav.write(&s16_chunk(2, 480, 0)).unwrap();
        // As if 4 GiB had been written, less than one more chunk's room (no disk needed).
        wav.data_bytes = RIFF_MAX - 36 - 1000;
        let e = wav.write(&s16_chunk(2, 480, 10_000)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Unsupported);
        assert!(e.message.contains("cannot pass 4 GiB"), "{e}");
        assert_eq!(wav.data_bytes, RIFF_MAX - 36 - 1000, "the refused chunk is not counted");
        // One that still fits is written: up to a RIFF size of 2^32 - 1, the pad byte counted.
        wav.data_bytes = RIFF_MAX - 37 - 1920;
        wav.write(&s16_chunk(2, 480, 20_000)).unwrap();
        assert_eq!(wav.data_bytes, RIFF_MAX - 37);
        let h = Wav::header(AudioSampleFormat::S16, 48_000.0, 2, wav.data_bytes);
        assert_eq!(u32_at(&h, 4), u32::MAX - 1);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_write_error_still_finishes_the_wav() {
        let path = temp("changed.wav");
        let g = Generator::new(Kind::Audio);
        let sink = FileSink::open(g.track(), &path).unwrap();
        g.write(chunk(48_000.0, 480, 0)).unwrap();
        g.write(chunk(44_100.0, 441, 10_000)).unwrap();
        g.close();
        assert!(sink.finish().is_err());
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len(), 44 + 480 * 4);
        assert_eq!(u32_at(&bytes, 40), 480 * 4, "the header counts what was written before the error");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn y4m_header_names_range_matrix_and_siting() {
        let path = temp("tags.y4m");
        let g = Generator::new(Kind::Video);
        let sink = FileSink::open(g.track(), &path).unwrap();
        let init = crate::frame::VideoFrameInit {
            format: VideoPixelFormat::I420,
            coded_width: 4,
            coded_height: 2,
            timestamp: 0,
            duration: Some(40_000),
            layout: None,
            visible_rect: None,
            display_size: None,
            color_space: None,
        };
        g.write(Frame::video_copy(&init, &[16u8; 12]).unwrap()).unwrap();
        g.close();
        sink.finish().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let header = "YUV4MPEG2 W4 H2 F25:1 Ip A1:1 C420jpeg XCOLORRANGE=LIMITED XMST_MATRIX=BT709\n";
        assert_eq!(&bytes[..header.len()], header.as_bytes());
        assert_eq!(bytes.len(), header.len() + 6 + 12);
        std::fs::remove_file(&path).unwrap();
    }

    /// A Y4M recording of `frames` written one after another: the file's bytes, and what
    /// finishing the sink returned.
    fn record_y4m(name: &str, frames: &[Frame]) -> (Vec<u8>, Result<FileStats>) {
        let path = temp(name);
        let g = Generator::new(Kind::Video);
        let sink = FileSink::open(g.track(), &path).unwrap();
        for f in frames {
            g.write(f.clone()).unwrap();
        }
        g.close();
        let finished = sink.finish();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        (bytes, finished)
    }

    fn frame_4x2(format: VideoPixelFormat, color_space: Option<crate::frame::VideoColorSpace>, ts: i64) -> Frame {
        let init = crate::frame::VideoFrameInit {
            format,
            coded_width: 4,
            coded_height: 2,
            timestamp: ts,
            duration: Some(40_000),
            layout: None,
            visible_rect: None,
            display_size: None,
            color_space,
        };
        Frame::video_copy(&init, &[90u8; 32]).unwrap()
    }

    #[test]
    fn y4m_header_names_the_first_frames_colour() {
        use crate::frame::VideoColorSpace as Cs;
        let camera = frame_4x2(VideoPixelFormat::Nv12, None, 0).with_color(
            Cs { full_range: Some(false), matrix: Some(crate::frame::MatrixCoefficients::Smpte170m), ..Cs::REC709 },
            ChromaSiting::Left,
        );
        let jpeg = frame_4x2(VideoPixelFormat::I420, Some(Cs::JPEG), 0);
        let bt2020 = frame_4x2(
            VideoPixelFormat::I420,
            Some(Cs { matrix: Some(crate::frame::MatrixCoefficients::Bt2020Ncl), ..Cs::REC709 }),
            0,
        );
        let rgb = frame_4x2(VideoPixelFormat::Rgba, None, 0);
        let i444 = frame_4x2(VideoPixelFormat::I444, Some(Cs::JPEG), 0).with_color(Cs::JPEG, ChromaSiting::Left);
        for (frame, tags) in [
            (&camera, "C420mpeg2 XCOLORRANGE=LIMITED XMST_MATRIX=BT601"),
            (&jpeg, "C420jpeg XCOLORRANGE=FULL XMST_MATRIX=BT601"),
            (&bt2020, "C420jpeg XCOLORRANGE=LIMITED XMST_MATRIX=BT2020"),
            // RGB and I444 are box-averaged into I420 (RGB through libmst's BT.709 limited).
            (&rgb, "C420jpeg XCOLORRANGE=LIMITED XMST_MATRIX=BT709"),
            (&i444, "C420jpeg XCOLORRANGE=FULL XMST_MATRIX=BT601"),
        ] {
            let (bytes, finished) = record_y4m("colour.y4m", std::slice::from_ref(frame));
            finished.unwrap();
            let header = format!("YUV4MPEG2 W4 H2 F25:1 Ip A1:1 {tags}\n");
            assert_eq!(String::from_utf8_lossy(&bytes[..header.len()]), header);
            assert_eq!(bytes.len(), header.len() + 6 + 12);
        }
    }

    #[test]
    fn y4m_refuses_a_frame_of_another_colour_and_keeps_the_ones_before() {
        use crate::frame::VideoColorSpace as Cs;
        let full = frame_4x2(VideoPixelFormat::I420, Some(Cs::JPEG), 0);
        let limited = frame_4x2(VideoPixelFormat::I420, None, 40_000);
        // RGB frames become BT.709 limited, centre-sited: the same as a default I420 frame.
        let rgb = frame_4x2(VideoPixelFormat::Bgrx, None, 80_000);
        let (bytes, finished) = record_y4m("mixed-ok.y4m", &[limited.clone(), rgb, limited.clone()]);
        assert_eq!(finished.unwrap().frames_written, 3);
        assert!(bytes.starts_with(b"YUV4MPEG2 W4 H2 F25:1 Ip A1:1 C420jpeg XCOLORRANGE=LIMITED XMST_MATRIX=BT709\n"));

        let (bytes, finished) = record_y4m("mixed.y4m", &[full, limited]);
        let e = finished.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Unsupported);
        assert!(
            e.message.contains("BT709 limited range") && e.message.contains("BT601 full range"),
            "names both: {}",
            e.message
        );
        let header = "YUV4MPEG2 W4 H2 F25:1 Ip A1:1 C420jpeg XCOLORRANGE=FULL XMST_MATRIX=BT601\n";
        assert!(bytes.starts_with(header.as_bytes()));
        assert_eq!(bytes.len(), header.len() + 6 + 12, "the first frame only");
    }

    #[test]
    fn y4m_frame_rates() {
        assert_eq!(frame_rate_ratio(Some(33_333)), (30, 1));
        assert_eq!(frame_rate_ratio(Some(40_000)), (25, 1));
        assert_eq!(frame_rate_ratio(Some(33_367)), (30000, 1001));
        assert_eq!(frame_rate_ratio(Some(300_000)), (10, 3));
        assert_eq!(frame_rate_ratio(None), (30, 1));
    }
}
