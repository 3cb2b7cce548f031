//! The WAV parser `mst play` runs on untrusted files (mst::sink::file::parse_wav), on raw
//! bytes, and the WAV sink's header round-tripped through it.

use mst::frame::AudioSampleFormat;
use std::io::Cursor;

use mst::sink::file::{parse_wav as parse_header, wav_header};

/// The parser over bytes in memory, as `mst play` runs it over a file: the header, and the
/// data chunk it locates.
pub fn parse_wav(bytes: &[u8]) -> Result<(mst::sink::file::WavHeader, &[u8]), String> {
    let h = parse_header(&mut Cursor::new(bytes), bytes.len() as u64)?;
    let start = usize::try_from(h.data_start).expect("an offset inside the file");
    let end = start + usize::try_from(h.data_len).expect("a length inside the file");
    assert!(end <= bytes.len(), "the data chunk ({start}..{end}) lies outside the file ({} bytes)", bytes.len());
    Ok((h, &bytes[start..end]))
}

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

/// Panics when the parser panics, returns data from outside the file, or does not read back
/// what the sink's header says.
pub fn check(data: &[u8]) {
    if let Ok((w, _)) = parse_wav(data) {
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
    let (w, read) = parse_wav(&file).unwrap_or_else(|e| panic!("the sink's own WAV does not parse: {e}"));
    assert_eq!(w.format, format.interleaved());
    assert_eq!((w.rate, w.channels), (rate, channels));
    assert_eq!(read, body, "the data chunk read back differs");
    assert_eq!(w.data_start as usize, header_len);
}
