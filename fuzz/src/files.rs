//! The file writers, their output parsed back: the Y4M and WAV file sinks (through a generator
//! track, as `mst record` and mst_file_sink_open use them) and PNG (the png crate, as `mst
//! snapshot` writes it, from a frame converted to RGBA). Byte 0 picks which; the next bytes
//! the sizes and formats; the rest is the pixels or samples, repeated as needed.

use std::path::PathBuf;

use mst::frame::{AudioDataInit, VideoCopyOptions, VideoFrameInit};
use mst::sink::file::FileSink;
use mst::{AudioSampleFormat, Frame, Generator, Kind, VideoPixelFormat};

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else { return 0 };
        self.0 = rest;
        b
    }
    /// `n` bytes: the rest of the input, repeated (a counter when there is none).
    fn fill(&self, n: usize) -> Vec<u8> {
        if self.0.is_empty() {
            return (0..n).map(|i| i as u8).collect();
        }
        self.0.iter().copied().cycle().take(n).collect()
    }
}

/// A file of this process's own in the temporary directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(ext: &str) -> Scratch {
        Scratch(std::env::temp_dir().join(format!("mst-fuzz-{}.{ext}", std::process::id())))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

pub fn check(data: &[u8]) {
    let mut b = Bytes(data);
    match b.u8() % 3 {
        0 => y4m(&mut b),
        1 => wav(&mut b),
        _ => png(&mut b),
    }
}

const VIDEO: [VideoPixelFormat; 6] = [
    VideoPixelFormat::I420,
    VideoPixelFormat::I420A,
    VideoPixelFormat::I444,
    VideoPixelFormat::Nv12,
    VideoPixelFormat::Rgba,
    VideoPixelFormat::Bgrx,
];

/// A video frame of the format and size the next bytes choose, its pixels the rest; None when
/// libmst refuses the init (odd sizes of subsampled formats).
fn video_frame(b: &mut Bytes, ts: i64) -> Option<(Frame, VideoPixelFormat, u32, u32)> {
    let format = VIDEO[b.u8() as usize % VIDEO.len()];
    let (w, h) = (1 + u32::from(b.u8() % 40), 1 + u32::from(b.u8() % 40));
    let len: usize = format
        .planes()
        .iter()
        .map(|p| {
            let (pw, ph) = ((w as usize).div_ceil(p.sub_x), (h as usize).div_ceil(p.sub_y));
            pw * ph * p.bytes_per_sample
        })
        .sum();
    let init = VideoFrameInit {
        format,
        coded_width: w,
        coded_height: h,
        timestamp: ts,
        duration: Some(33_333),
        layout: None,
        visible_rect: None,
        display_size: None,
        color_space: None,
    };
    Frame::video_copy(&init, &b.fill(len)).ok().map(|f| (f, format, w, h))
}

fn y4m(b: &mut Bytes) {
    let Some((first, format, w, h)) = video_frame(b, 0) else { return };
    let n = 1 + b.u8() % 4;
    let generator = Generator::new(Kind::Video);
    let file = Scratch::new("y4m");
    let sink = FileSink::open(generator.track(), &file.0).expect("opening a Y4M sink");
    let mut frames = vec![first];
    for k in 1..n {
        // Later frames may have another size: the sink scales them to the first one's.
        match video_frame(b, 33_333 * k as i64) {
            Some((f, ..)) => frames.push(f),
            None => break,
        }
    }
    for f in &frames {
        generator.write(f.clone()).unwrap_or_else(|(e, _)| panic!("writing a frame: {e}"));
    }
    let stats = sink.finish().expect("finishing the Y4M file");
    // The sink's queue holds 8 frames: none of these 4 may be lost.
    assert_eq!(stats.frames_written, frames.len() as u64, "frames written");
    let bytes = std::fs::read(&file.0).expect("reading the Y4M file");
    assert_eq!(bytes.len() as u64, stats.bytes_written, "the file's size is not bytes_written");
    let end = bytes.iter().position(|&c| c == b'\n').expect("a Y4M header line");
    let header = std::str::from_utf8(&bytes[..end]).expect("an ASCII header");
    let fields: Vec<&str> = header.split(' ').collect();
    assert_eq!(fields[0], "YUV4MPEG2");
    assert!(fields.contains(&format!("W{w}").as_str()) && fields.contains(&format!("H{h}").as_str()), "{header}");
    assert!(fields.iter().any(|f| f.starts_with("F30:1")), "{header}: 33333 us is 30 fps");
    let (w, h) = (w as usize, h as usize);
    let frame_len = w * h + 2 * w.div_ceil(2) * h.div_ceil(2);
    let mut at = end + 1;
    for (k, f) in frames.iter().enumerate() {
        assert!(bytes[at..].starts_with(b"FRAME\n"), "frame {k}: no FRAME line");
        at += 6;
        let pixels = &bytes[at..at + frame_len];
        at += frame_len;
        // I420 (and I420A's YUV) at the first frame's size is written as it is.
        let v = f.video().expect("video");
        if matches!(format, VideoPixelFormat::I420 | VideoPixelFormat::I420A)
            && v.format == format
            && (v.coded_width as usize, v.coded_height as usize) == (w, h)
        {
            let planes = &f.data()[..frame_len];
            assert_eq!(pixels, planes, "frame {k}: the Y4M frame is not the I420 frame written");
        }
    }
    assert_eq!(at, bytes.len(), "bytes after the last frame");
}

const AUDIO: [AudioSampleFormat; 8] = AudioSampleFormat::ALL;

fn wav(b: &mut Bytes) {
    let format = AUDIO[b.u8() as usize % AUDIO.len()];
    let channels = 1 + u32::from(b.u8() % 8);
    let rate = 1 + u32::from(u16::from_le_bytes([b.u8(), b.u8()])) * 4;
    let n = 1 + b.u8() % 4;
    let generator = Generator::new(Kind::Audio);
    let file = Scratch::new("wav");
    let sink = FileSink::open(generator.track(), &file.0).expect("opening a WAV sink");
    let mut expected = Vec::new();
    let interleaved = !format.name().ends_with("planar");
    for k in 0..n {
        let frames = 1 + u32::from(b.u8());
        let init = AudioDataInit {
            format,
            sample_rate: rate as f32,
            number_of_frames: frames,
            number_of_channels: channels,
            timestamp: i64::from(k) * 1000,
        };
        let bytes = b.fill(frames as usize * channels as usize * format.bytes_per_sample());
        let frame = Frame::audio_copy(&init, &bytes).expect("a valid audio init");
        if interleaved {
            expected.extend_from_slice(&bytes);
        }
        generator.write(frame).unwrap_or_else(|(e, _)| panic!("writing audio: {e}"));
    }
    let stats = sink.finish().expect("finishing the WAV file");
    assert_eq!(stats.frames_written, u64::from(n));
    let bytes = std::fs::read(&file.0).expect("reading the WAV file");
    let (w, samples) =
        crate::wav::parse_wav(&bytes).unwrap_or_else(|e| panic!("the WAV sink's file does not parse: {e}"));
    assert_eq!((w.rate, w.channels), (rate, channels));
    assert_eq!(w.format.bytes_per_sample(), format.bytes_per_sample());
    if interleaved {
        assert_eq!(w.format, format);
        assert_eq!(samples, expected.as_slice(), "the samples read back differ");
    }
}

fn png(b: &mut Bytes) {
    let Some((frame, _, w, h)) = video_frame(b, 0) else { return };
    let opts = VideoCopyOptions { rect: None, layout: None, format: Some(VideoPixelFormat::Rgba) };
    let mut rgba = vec![0u8; frame.video_allocation_size(&opts).expect("RGBA size")];
    frame.video_copy_to(&mut rgba, &opts).expect("converting to RGBA");
    let mut encoded = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut encoded, w, h);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_source_srgb(png::SrgbRenderingIntent::Perceptual);
        let mut writer = enc.write_header().expect("PNG header");
        writer.write_image_data(&rgba).expect("PNG data");
    }
    let decoder = png::Decoder::new(std::io::Cursor::new(&encoded));
    let mut reader = decoder.read_info().expect("reading the PNG back");
    let mut back = vec![0u8; reader.output_buffer_size().expect("PNG size")];
    let info = reader.next_frame(&mut back).expect("decoding the PNG");
    assert_eq!((info.width, info.height), (w, h));
    assert_eq!(&back[..info.buffer_size()], rgba.as_slice(), "the PNG's pixels differ");
}
