//! The WAV parser `mst play` runs on untrusted files (mst::sink::file::parse_wav), on raw
//! bytes, and the WAV sink's header round-tripped through it.

use mst::frame::AudioSampleFormat;
use mst::sink::file::{parse_wav, wav_header};

const FORMATS: [AudioSampleFormat; 8] = [
    AudioSampleFormat::U8,
    AudioSampleFormat::S16,
    AudioSampleFormat::S32,
    AudioSampleFormat::F32,
    AudioSampleFormat::U8Planar,
    AudioSampleFormat::S16Planar,
    AudioSampleFormat::S32Planar,
    AudioSampleFormat::F32Planar,
];

fn interleaved(f: AudioSampleFormat) -> AudioSampleFormat {
    match f {
        AudioSampleFormat::U8Planar => AudioSampleFormat::U8,
        AudioSampleFormat::S16Planar => AudioSampleFormat::S16,
        AudioSampleFormat::S32Planar => AudioSampleFormat::S32,
        AudioSampleFormat::F32Planar => AudioSampleFormat::F32,
        f => f,
    }
}

/// Panics when the parser panics, returns data from outside the file, or does not read back
/// what the sink's header says.
pub fn check(data: &[u8]) {
    if let Ok(w) = parse_wav(data) {
        let (start, end) = (data.as_ptr() as usize, data.as_ptr() as usize + data.len());
        let d = w.data.as_ptr() as usize;
        assert!(d >= start && d + w.data.len() <= end, "the data chunk lies outside the file");
        assert!(!matches!(
            w.format,
            AudioSampleFormat::U8Planar
                | AudioSampleFormat::S16Planar
                | AudioSampleFormat::S32Planar
                | AudioSampleFormat::F32Planar
        ));
    }

    // The round trip: bytes 0..6 choose the format, channels and rate, the rest is the data.
    if data.len() < 6 {
        return;
    }
    let format = FORMATS[data[0] as usize % FORMATS.len()];
    let channels = 1 + (u32::from(u16::from_le_bytes([data[1], data[2]])) % (u32::from(u16::MAX) / 4));
    let rate = u32::from_le_bytes([data[3], data[4], data[5], 0]).max(1);
    // What the sink accepts (a whole rate, a byte rate that fits 32 bits): see Wav::write.
    if rate as u64 * channels as u64 * format.bytes_per_sample() as u64 > u32::MAX as u64 {
        return;
    }
    let body = &data[6..];
    let mut file = wav_header(format, rate as f32, channels, body.len() as u64);
    let header_len = file.len();
    file.extend_from_slice(body);
    if body.len() % 2 == 1 {
        file.push(0);
    }
    let riff = u32::from_le_bytes([file[4], file[5], file[6], file[7]]) as usize;
    assert_eq!(riff, file.len() - 8, "the RIFF size is not the file's length less 8");
    let w = parse_wav(&file).unwrap_or_else(|e| panic!("the sink's own WAV does not parse: {e}"));
    assert_eq!(w.format, interleaved(format));
    assert_eq!((w.rate, w.channels), (rate, channels));
    assert_eq!(w.data, body, "the data chunk read back differs");
    assert_eq!(w.data.as_ptr(), file[header_len..].as_ptr());
}
