//! File sinks: Y4M for video tracks and WAV for audio tracks, written on a library thread
//! from the sink's own processor, so the source's thread never waits for the disk.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::convert::{self, ImageMut};
use crate::error::{err, Error, ErrorKind, Result};
use crate::frame::{AudioCopyOptions, AudioSampleFormat, Frame, Kind, PlaneLayout, Rect, VideoPixelFormat};
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
        let file = File::create(path).map_err(|e| io_err(path, e))?;
        let out = BufWriter::with_capacity(1 << 20, file);
        let p = path.to_path_buf();
        let (writer, queue): (Box<dyn Writer>, usize) = match track.kind() {
            Kind::Video => (Box::new(Y4m { out, path: p, size: None, buf: Vec::new(), bytes: 0 }), 8),
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
fn record(mut writer: Box<dyn Writer>, processor: &Processor, stop: &StopSignal, counters: &Counters) -> Result<()> {
    loop {
        let wait = if stop.is_raised() { Wait::No } else { Wait::Forever };
        match processor.read(wait) {
            Ok(d) => {
                writer.write(&d.frame)?;
                counters.bytes.store(writer.bytes(), Ordering::Relaxed);
                counters.frames.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) if e.kind == ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    counters.bytes.store(writer.finish()?, Ordering::Relaxed);
    Ok(())
}

struct Y4m {
    out: BufWriter<File>,
    path: std::path::PathBuf,
    size: Option<(u32, u32)>,
    buf: Vec<u8>,
    bytes: u64,
}

impl Writer for Y4m {
    fn write(&mut self, frame: &Frame) -> Result<()> {
        let v = *frame.video().ok_or_else(|| err!(Type, "a Y4M sink takes video frames"))?;
        let r = v.visible_rect;
        let (w, h) = match self.size {
            Some(s) => s,
            None => {
                let (num, den) = frame_rate_ratio(v.duration);
                let header = format!("YUV4MPEG2 W{} H{} F{num}:{den} Ip A1:1 C420jpeg\n", r.width, r.height);
                self.out.write_all(header.as_bytes()).map_err(|e| io_err(&self.path, e))?;
                self.bytes += header.len() as u64;
                self.size = Some((r.width, r.height));
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

fn interleaved(f: AudioSampleFormat) -> AudioSampleFormat {
    match f {
        AudioSampleFormat::U8Planar => AudioSampleFormat::U8,
        AudioSampleFormat::S16Planar => AudioSampleFormat::S16,
        AudioSampleFormat::S32Planar => AudioSampleFormat::S32,
        AudioSampleFormat::F32Planar => AudioSampleFormat::F32,
        f => f,
    }
}

impl Wav {
    fn header(format: AudioSampleFormat, rate: f32, channels: u32, data_bytes: u64) -> [u8; 44] {
        let bits = format.bytes_per_sample() as u32 * 8;
        let tag: u16 = if format == AudioSampleFormat::F32 { 3 } else { 1 };
        let block = channels * bits / 8;
        let data = data_bytes.min(u32::MAX as u64 - 36) as u32;
        let mut h = [0u8; 44];
        h[0..4].copy_from_slice(b"RIFF");
        h[4..8].copy_from_slice(&(36 + data).to_le_bytes());
        h[8..16].copy_from_slice(b"WAVEfmt ");
        h[16..20].copy_from_slice(&16u32.to_le_bytes());
        h[20..22].copy_from_slice(&tag.to_le_bytes());
        h[22..24].copy_from_slice(&(channels as u16).to_le_bytes());
        h[24..28].copy_from_slice(&(rate as u32).to_le_bytes());
        h[28..32].copy_from_slice(&(rate as u32 * block).to_le_bytes());
        h[32..34].copy_from_slice(&(block as u16).to_le_bytes());
        h[34..36].copy_from_slice(&(bits as u16).to_le_bytes());
        h[36..40].copy_from_slice(b"data");
        h[40..44].copy_from_slice(&data.to_le_bytes());
        h
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
                let f = (interleaved(a.format), a.sample_rate, a.number_of_channels);
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
        self.out.write_all(&self.buf[..n]).map_err(|e| io_err(&self.path, e))?;
        self.data_bytes += n as u64;
        Ok(())
    }

    fn finish(&mut self) -> Result<u64> {
        let e = |e| io_err(&self.path, e);
        if let Some((f, r, c)) = self.format {
            self.out.seek(SeekFrom::Start(0)).map_err(e)?;
            self.out.write_all(&Wav::header(f, r, c, self.data_bytes)).map_err(|e| io_err(&self.path, e))?;
        }
        self.out.flush().map_err(|e| io_err(&self.path, e))?;
        Ok(self.bytes())
    }

    fn bytes(&self) -> u64 {
        if self.format.is_some() {
            44 + self.data_bytes
        } else {
            0
        }
    }
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

    fn temp(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("mst-file-sink-{}-{name}", std::process::id()))
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
        };
        let frame = Frame::video_copy(&init, &vec![16u8; 1920 * 1080 * 3 / 2]).unwrap();
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (g2, done2) = (g.clone(), done.clone());
        // A producer far faster than the disk (a frame is a refcount; writing it is 3 MB), which
        // never lets the sink's queue run dry until told to stop, or after a minute (a guard
        // against a hang, not a speed check).
        let producer = std::thread::spawn(move || {
            let start = std::time::Instant::now();
            while !done2.load(Ordering::Acquire) && start.elapsed() < std::time::Duration::from_secs(60) {
                g2.write(frame.clone()).unwrap();
            }
            start.elapsed() < std::time::Duration::from_secs(60)
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

    #[test]
    fn y4m_frame_rates() {
        assert_eq!(frame_rate_ratio(Some(33_333)), (30, 1));
        assert_eq!(frame_rate_ratio(Some(40_000)), (25, 1));
        assert_eq!(frame_rate_ratio(Some(33_367)), (30000, 1001));
        assert_eq!(frame_rate_ratio(Some(300_000)), (10, 3));
        assert_eq!(frame_rate_ratio(None), (30, 1));
    }
}
