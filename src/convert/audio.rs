//! Audio sample-format conversion and (de)interleaving, as WebCodecs `AudioData.copyTo`.
//!
//! Value mapping (as Chromium):
//!
//! * integer -> float: u8 `(x - 128) / 128`, s16 `x / 32768`, s32 `x / 2147483648`;
//! * float -> integer: clamp to [-1, 1], multiply by 2^(bits-1), round to nearest (halves away
//!   from zero), clamp to the integer range (so 1.0 becomes the maximum), offset by 128 for u8;
//!   NaN becomes silence;
//! * integer -> integer: shifts only, no floats: s16 -> s32 `x << 16`, s32 -> s16 `x >> 16`,
//!   u8 -> s16 `(x - 128) << 8`, s16 -> u8 `(x >> 8) + 128`, and likewise for u8 <-> s32 with 24;
//! * same type: copied bit for bit (f32 -> f32 is not clamped).
//!
//! Samples are in native byte order.

use crate::frame::format::AudioSampleFormat;

/// Copies `frame_count` frames starting at `frame_offset` out of an AudioData buffer into `dst`,
/// converting to `dst_format`. The source has `channels` channels and `total_frames` frames in
/// `src_format`; a planar source stores its planes one after another, each `total_frames`
/// samples long. For an interleaved `dst_format` every channel is written interleaved and
/// `plane_index` is 0; for a planar `dst_format` only channel `plane_index` is written.
/// The caller has validated every range (WebCodecs' checks live in the caller) and
/// dst.len() >= frame_count * (interleaved ? channels : 1) * dst_format.bytes_per_sample().
#[allow(clippy::too_many_arguments)]
pub fn copy_audio(
    src: &[u8],
    src_format: AudioSampleFormat,
    channels: usize,
    total_frames: usize,
    dst: &mut [u8],
    dst_format: AudioSampleFormat,
    plane_index: usize,
    frame_offset: usize,
    frame_count: usize,
) {
    let job = Job {
        src_planar: src_format.is_planar(),
        channels,
        total_frames,
        dst_planar: dst_format.is_planar(),
        plane_index,
        frame_offset,
        frame_count,
    };
    debug_assert!(job.dst_planar || plane_index == 0, "interleaved destination: plane_index must be 0");
    debug_assert!(plane_index < channels.max(1));
    debug_assert!(frame_offset + frame_count <= total_frames);
    let out_len = job.dst_samples() * dst_format.bytes_per_sample();
    debug_assert!(dst.len() >= out_len);
    let dst = &mut dst[..out_len];

    use SampleType::*;
    match (sample_type(src_format), sample_type(dst_format)) {
        (U8, U8) => job.run::<u8, u8>(src, dst),
        (U8, S16) => job.run::<u8, i16>(src, dst),
        (U8, S32) => job.run::<u8, i32>(src, dst),
        (U8, F32) => job.run::<u8, f32>(src, dst),
        (S16, U8) => job.run::<i16, u8>(src, dst),
        (S16, S16) => job.run::<i16, i16>(src, dst),
        (S16, S32) => job.run::<i16, i32>(src, dst),
        (S16, F32) => job.run::<i16, f32>(src, dst),
        (S32, U8) => job.run::<i32, u8>(src, dst),
        (S32, S16) => job.run::<i32, i16>(src, dst),
        (S32, S32) => job.run::<i32, i32>(src, dst),
        (S32, F32) => job.run::<i32, f32>(src, dst),
        (F32, U8) => job.run::<f32, u8>(src, dst),
        (F32, S16) => job.run::<f32, i16>(src, dst),
        (F32, S32) => job.run::<f32, i32>(src, dst),
        (F32, F32) => job.run::<f32, f32>(src, dst),
    }
    crate::stats::count_media_bytes(out_len);
}

/// Fills dst with silence in `format` (0x80 for u8 formats, zero bytes otherwise).
pub fn fill_silence(dst: &mut [u8], format: AudioSampleFormat) {
    let byte = match sample_type(format) {
        SampleType::U8 => 0x80,
        _ => 0, // 0 for the integers, +0.0 for f32
    };
    dst.fill(byte);
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum SampleType {
    U8,
    S16,
    S32,
    F32,
}

fn sample_type(format: AudioSampleFormat) -> SampleType {
    use AudioSampleFormat as A;
    match format {
        A::U8 | A::U8Planar => SampleType::U8,
        A::S16 | A::S16Planar => SampleType::S16,
        A::S32 | A::S32Planar => SampleType::S32,
        A::F32 | A::F32Planar => SampleType::F32,
    }
}

/// A sample type stored in native byte order.
trait Sample: Copy + 'static {
    const BYTES: usize;
    fn read(b: &[u8]) -> Self;
    fn write(self, b: &mut [u8]);
}

macro_rules! impl_sample {
    ($($t:ty),*) => {$(
        impl Sample for $t {
            const BYTES: usize = std::mem::size_of::<$t>();
            #[inline]
            fn read(b: &[u8]) -> Self {
                let mut a = [0u8; std::mem::size_of::<$t>()];
                a.copy_from_slice(&b[..Self::BYTES]);
                <$t>::from_ne_bytes(a)
            }
            #[inline]
            fn write(self, b: &mut [u8]) {
                b[..Self::BYTES].copy_from_slice(&self.to_ne_bytes());
            }
        }
    )*};
}
impl_sample!(u8, i16, i32, f32);

/// Conversion from sample type `S`, per the rules in the module documentation.
trait FromSample<S> {
    fn from_sample(s: S) -> Self;
}

macro_rules! from_sample {
    ($($s:ty => $d:ty: |$x:ident| $e:expr;)*) => {$(
        impl FromSample<$s> for $d {
            #[inline]
            fn from_sample($x: $s) -> $d { $e }
        }
    )*};
}

from_sample! {
    u8 => u8: |x| x;
    u8 => i16: |x| (x as i16 - 128) << 8;
    u8 => i32: |x| (x as i32 - 128) << 24;
    u8 => f32: |x| (x as i32 - 128) as f32 / 128.0;
    i16 => u8: |x| ((x >> 8) + 128) as u8;
    i16 => i16: |x| x;
    i16 => i32: |x| (x as i32) << 16;
    i16 => f32: |x| x as f32 / 32768.0;
    i32 => u8: |x| ((x >> 24) + 128) as u8;
    i32 => i16: |x| (x >> 16) as i16;
    i32 => i32: |x| x;
    i32 => f32: |x| x as f32 / 2_147_483_648.0;
    f32 => u8: |x| (float_to_int(x, 8) + 128) as u8;
    f32 => i16: |x| float_to_int(x, 16) as i16;
    f32 => i32: |x| float_to_int(x, 32) as i32;
    f32 => f32: |x| x;
}

/// A float sample as a signed `bits`-bit integer: clamp to [-1, 1], scale by 2^(bits-1),
/// round to nearest, clamp to [-2^(bits-1), 2^(bits-1) - 1]. NaN gives 0.
#[inline]
fn float_to_int(x: f32, bits: u32) -> i64 {
    if x.is_nan() {
        return 0;
    }
    let scale = (1i64 << (bits - 1)) as f64;
    // f64 holds every f32 and every 32-bit product exactly, so only `round` rounds.
    let v = (x.clamp(-1.0, 1.0) as f64 * scale).round() as i64;
    v.clamp(-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1)
}

/// The layout parameters of one `copy_audio` call.
struct Job {
    src_planar: bool,
    channels: usize,
    total_frames: usize,
    dst_planar: bool,
    plane_index: usize,
    frame_offset: usize,
    frame_count: usize,
}

impl Job {
    /// Samples written to the destination.
    fn dst_samples(&self) -> usize {
        if self.dst_planar {
            self.frame_count
        } else {
            self.frame_count * self.channels
        }
    }

    /// Index (in samples) of the source sample of `channel` at absolute frame `frame`.
    #[inline]
    fn src_index(&self, channel: usize, frame: usize) -> usize {
        if self.src_planar {
            channel * self.total_frames + frame
        } else {
            frame * self.channels + channel
        }
    }

    fn run<S: Sample, D: Sample + FromSample<S>>(&self, src: &[u8], dst: &mut [u8]) {
        let same_type = std::any::TypeId::of::<S>() == std::any::TypeId::of::<D>();
        let first = self.frame_offset;
        if self.dst_planar {
            let c = self.plane_index;
            if same_type && (self.src_planar || self.channels == 1) {
                // One contiguous run of samples: a plain copy.
                let start = self.src_index(c, first) * S::BYTES;
                dst.copy_from_slice(&src[start..start + dst.len()]);
                return;
            }
            for (f, out) in dst.chunks_exact_mut(D::BYTES).enumerate() {
                let i = self.src_index(c, first + f) * S::BYTES;
                D::from_sample(S::read(&src[i..])).write(out);
            }
        } else if self.src_planar && self.channels > 1 {
            // Interleave: frame by frame, one sample per channel.
            for (f, frame) in dst.chunks_exact_mut(D::BYTES * self.channels).enumerate() {
                for (c, out) in frame.chunks_exact_mut(D::BYTES).enumerate() {
                    let i = self.src_index(c, first + f) * S::BYTES;
                    D::from_sample(S::read(&src[i..])).write(out);
                }
            }
        } else {
            // Interleaved (or mono) to interleaved: the samples are contiguous in both.
            let start = self.src_index(0, first) * S::BYTES;
            let src = &src[start..start + dst.len() / D::BYTES * S::BYTES];
            if same_type {
                dst.copy_from_slice(src);
            } else {
                for (out, s) in dst.chunks_exact_mut(D::BYTES).zip(src.chunks_exact(S::BYTES)) {
                    D::from_sample(S::read(s)).write(out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AudioSampleFormat as A;

    /// The known signal, as each sample type represents -1, -0.5, 0, 0.5 and ~1.
    const U8_SIG: [u8; 5] = [0, 64, 128, 192, 255];
    const S16_SIG: [i16; 5] = [-32768, -16384, 0, 16384, 32767];
    const S32_SIG: [i32; 5] = [i32::MIN, -(1 << 30), 0, 1 << 30, i32::MAX];
    const F32_SIG: [f32; 5] = [-1.0, -0.5, 0.0, 0.5, 1.0];

    /// A test sample value, with its expected conversions written out by hand.
    #[derive(Clone, Copy, Debug, PartialEq)]
    enum V {
        U8(u8),
        S16(i16),
        S32(i32),
        F32(f32),
    }

    impl V {
        fn encode(self) -> Vec<u8> {
            match self {
                V::U8(x) => vec![x],
                V::S16(x) => x.to_ne_bytes().to_vec(),
                V::S32(x) => x.to_ne_bytes().to_vec(),
                V::F32(x) => x.to_ne_bytes().to_vec(),
            }
        }

        fn decode(t: SampleType, b: &[u8]) -> V {
            match t {
                SampleType::U8 => V::U8(b[0]),
                SampleType::S16 => V::S16(i16::read(b)),
                SampleType::S32 => V::S32(i32::read(b)),
                SampleType::F32 => V::F32(f32::read(b)),
            }
        }
    }

    fn signal(t: SampleType) -> [V; 5] {
        match t {
            SampleType::U8 => U8_SIG.map(V::U8),
            SampleType::S16 => S16_SIG.map(V::S16),
            SampleType::S32 => S32_SIG.map(V::S32),
            SampleType::F32 => F32_SIG.map(V::F32),
        }
    }

    /// The expected conversion of `signal(from)` to `to`, by hand.
    fn expected(from: SampleType, to: SampleType) -> [V; 5] {
        use SampleType::*;
        match (from, to) {
            (a, b) if a == b => signal(a),
            // u8: 255 is 127/128 of full scale.
            (U8, S16) => [-32768, -16384, 0, 16384, 127 << 8].map(V::S16),
            (U8, S32) => [i32::MIN, -(1 << 30), 0, 1 << 30, 127 << 24].map(V::S32),
            (U8, F32) => [-1.0, -0.5, 0.0, 0.5, 0.9921875].map(V::F32),
            // s16: 32767 >> 8 is 127.
            (S16, U8) => [0, 64, 128, 192, 255].map(V::U8),
            (S16, S32) => [i32::MIN, -(1 << 30), 0, 1 << 30, 32767 << 16].map(V::S32),
            (S16, F32) => [-1.0, -0.5, 0.0, 0.5, 32767.0 / 32768.0].map(V::F32),
            (S32, U8) => [0, 64, 128, 192, 255].map(V::U8),
            (S32, S16) => [-32768, -16384, 0, 16384, 32767].map(V::S16),
            // i32::MAX rounds to 2^31 in f32.
            (S32, F32) => [-1.0, -0.5, 0.0, 0.5, 1.0].map(V::F32),
            // float 1.0 scales to 2^(bits-1), clamped to the maximum.
            (F32, U8) => [0, 64, 128, 192, 255].map(V::U8),
            (F32, S16) => [-32768, -16384, 0, 16384, 32767].map(V::S16),
            (F32, S32) => [i32::MIN, -(1 << 30), 0, 1 << 30, i32::MAX].map(V::S32),
            _ => unreachable!(),
        }
    }

    /// Encodes `channels` channels of `frames[f][c]` in `format`.
    fn encode(format: A, frames: &[Vec<V>]) -> Vec<u8> {
        let channels = frames.first().map_or(0, |f| f.len());
        let mut out = Vec::new();
        if format.is_planar() {
            for c in 0..channels {
                for f in frames {
                    out.extend(f[c].encode());
                }
            }
        } else {
            for f in frames {
                for v in f {
                    out.extend(v.encode());
                }
            }
        }
        out
    }

    fn decode(format: A, bytes: &[u8]) -> Vec<V> {
        bytes.chunks_exact(format.bytes_per_sample()).map(|b| V::decode(sample_type(format), b)).collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn copy(
        src: &[u8],
        sf: A,
        channels: usize,
        total: usize,
        df: A,
        plane: usize,
        offset: usize,
        count: usize,
    ) -> Vec<V> {
        let n = count * if df.is_planar() { 1 } else { channels } * df.bytes_per_sample();
        // A canary byte after the destination range must survive.
        let mut dst = vec![0xEE; n + 1];
        copy_audio(src, sf, channels, total, &mut dst[..n], df, plane, offset, count);
        assert_eq!(dst[n], 0xEE);
        decode(df, &dst[..n])
    }

    #[test]
    fn every_format_pair_converts_the_known_signal() {
        for sf in A::ALL {
            for df in A::ALL {
                let (st, dt) = (sample_type(sf), sample_type(df));
                let sig = signal(st);
                let want = expected(st, dt);
                // Three channels: the signal forwards, backwards, and rotated by two.
                let perm = |c: usize, f: usize| match c {
                    0 => f,
                    1 => 4 - f,
                    _ => (f + 2) % 5,
                };
                let frames: Vec<Vec<V>> = (0..5).map(|f| (0..3).map(|c| sig[perm(c, f)]).collect()).collect();
                let src = encode(sf, &frames);
                let ctx = format!("{} -> {}", sf.name(), df.name());
                if df.is_planar() {
                    for c in 0..3 {
                        let got = copy(&src, sf, 3, 5, df, c, 0, 5);
                        let exp: Vec<V> = (0..5).map(|f| want[perm(c, f)]).collect();
                        assert_eq!(got, exp, "{ctx} plane {c}");
                    }
                } else {
                    let got = copy(&src, sf, 3, 5, df, 0, 0, 5);
                    let exp: Vec<V> = (0..5).flat_map(|f| (0..3).map(move |c| want[perm(c, f)])).collect();
                    assert_eq!(got, exp, "{ctx}");
                }
            }
        }
    }

    #[test]
    fn offset_and_count_slice_frames() {
        // 4 channels x 10 frames of s16, sample value = 100 * channel + frame.
        let frames: Vec<Vec<V>> = (0..10).map(|f| (0..4).map(|c| V::S16(100 * c + f)).collect()).collect();
        for sf in [A::S16, A::S16Planar] {
            let src = encode(sf, &frames);
            for df in [A::S16, A::S16Planar, A::S32, A::S32Planar] {
                for (offset, count) in [(0, 10), (3, 4), (9, 1), (0, 0), (10, 0), (2, 8)] {
                    let scale =
                        |v: i16| if sample_type(df) == SampleType::S32 { V::S32((v as i32) << 16) } else { V::S16(v) };
                    if df.is_planar() {
                        for c in 0..4 {
                            let got = copy(&src, sf, 4, 10, df, c as usize, offset, count);
                            let exp: Vec<V> = (offset..offset + count).map(|f| scale(100 * c + f as i16)).collect();
                            assert_eq!(got, exp, "{} -> {} c{c} {offset}+{count}", sf.name(), df.name());
                        }
                    } else {
                        let got = copy(&src, sf, 4, 10, df, 0, offset, count);
                        let exp: Vec<V> = (offset..offset + count)
                            .flat_map(|f| (0..4).map(move |c| scale(100 * c + f as i16)))
                            .collect();
                        assert_eq!(got, exp, "{} -> {} {offset}+{count}", sf.name(), df.name());
                    }
                }
            }
        }
    }

    #[test]
    fn mono_works_in_every_layout() {
        let frames: Vec<Vec<V>> = (0..6).map(|f| vec![V::F32(f as f32 / 8.0)]).collect();
        for sf in [A::F32, A::F32Planar] {
            let src = encode(sf, &frames);
            for df in [A::F32, A::F32Planar, A::S16, A::U8Planar] {
                let got = copy(&src, sf, 1, 6, df, 0, 1, 4);
                let exp: Vec<V> = (1..5)
                    .map(|f| match sample_type(df) {
                        SampleType::F32 => V::F32(f as f32 / 8.0),
                        SampleType::S16 => V::S16(f * 4096),
                        _ => V::U8(128 + f as u8 * 16),
                    })
                    .collect();
                assert_eq!(got, exp, "{} -> {}", sf.name(), df.name());
            }
        }
    }

    #[test]
    fn integer_float_round_trips_are_exact() {
        let all_s16: Vec<u8> = (i16::MIN..=i16::MAX).flat_map(|x| x.to_ne_bytes()).collect();
        let n = all_s16.len() / 2;
        let mut f = vec![0u8; n * 4];
        copy_audio(&all_s16, A::S16, 1, n, &mut f, A::F32, 0, 0, n);
        let mut back = vec![0u8; n * 2];
        copy_audio(&f, A::F32, 1, n, &mut back, A::S16, 0, 0, n);
        assert_eq!(back, all_s16);

        let all_u8: Vec<u8> = (0..=255).collect();
        let mut f = vec![0u8; 256 * 4];
        copy_audio(&all_u8, A::U8Planar, 1, 256, &mut f, A::F32Planar, 0, 0, 256);
        let mut back = vec![0u8; 256];
        copy_audio(&f, A::F32Planar, 1, 256, &mut back, A::U8, 0, 0, 256);
        assert_eq!(back, all_u8);

        // s16 -> s32 -> s16 and u8 -> s16 -> u8 are exact too.
        let mut wide = vec![0u8; n * 4];
        copy_audio(&all_s16, A::S16, 1, n, &mut wide, A::S32Planar, 0, 0, n);
        let mut back = vec![0u8; n * 2];
        copy_audio(&wide, A::S32Planar, 1, n, &mut back, A::S16, 0, 0, n);
        assert_eq!(back, all_s16);
        let mut s16 = vec![0u8; 512];
        copy_audio(&all_u8, A::U8, 1, 256, &mut s16, A::S16, 0, 0, 256);
        let mut back = vec![0u8; 256];
        copy_audio(&s16, A::S16, 1, 256, &mut back, A::U8, 0, 0, 256);
        assert_eq!(back, all_u8);
    }

    #[test]
    fn float_to_int_clamps_and_rounds() {
        let src: Vec<u8> = [
            2.0f32,
            -3.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            0.6 / 32768.0,
            -0.5 / 32768.0,
            0.4 / 32768.0,
            1.4 / 128.0,
            1.6 / 128.0,
        ]
        .iter()
        .flat_map(|x| x.to_ne_bytes())
        .collect();
        let s16 = copy(&src, A::F32, 1, 10, A::S16, 0, 0, 10);
        assert_eq!(s16, [32767, -32768, 32767, -32768, 0, 1, -1, 0, 358, 410].map(V::S16));
        let u8s = copy(&src, A::F32, 1, 10, A::U8, 0, 0, 10);
        assert_eq!(u8s, [255, 0, 255, 0, 128, 128, 128, 128, 129, 130].map(V::U8));
        let s32 = copy(&src, A::F32, 1, 10, A::S32, 0, 0, 10);
        assert_eq!(&s32[..5], &[i32::MAX, i32::MIN, i32::MAX, i32::MIN, 0].map(V::S32));
        // f32 -> f32 is a plain copy: no clamping.
        assert_eq!(copy(&src, A::F32, 1, 10, A::F32Planar, 0, 0, 2), [2.0, -3.0].map(V::F32));
    }

    #[test]
    fn integer_narrowing_truncates_by_shifting() {
        // s32 -> s16 is x >> 16 (floor), s16 -> u8 is (x >> 8) + 128.
        let s32: Vec<u8> = [0x0001_FFFFi32, -1, -0x0001_0001].iter().flat_map(|x| x.to_ne_bytes()).collect();
        assert_eq!(copy(&s32, A::S32, 1, 3, A::S16, 0, 0, 3), [1, -1, -2].map(V::S16));
        let s16: Vec<u8> = [255i16, 256, -1, -257].iter().flat_map(|x| x.to_ne_bytes()).collect();
        assert_eq!(copy(&s16, A::S16Planar, 1, 4, A::U8Planar, 0, 0, 4), [128, 129, 127, 126].map(V::U8));
    }

    #[test]
    fn fill_silence_per_format() {
        for f in A::ALL {
            let mut buf = vec![0x33u8; 12];
            fill_silence(&mut buf, f);
            let want = if sample_type(f) == SampleType::U8 { 0x80 } else { 0 };
            assert!(buf.iter().all(|&b| b == want), "{}", f.name());
            // Silence decodes to zero amplitude.
            let zero = copy(&buf, f, 1, 12 / f.bytes_per_sample(), A::F32, 0, 0, 1);
            assert_eq!(zero, [V::F32(0.0)]);
        }
    }

    #[test]
    fn copy_audio_counts_destination_bytes() {
        let src = vec![0u8; 2 * 8 * 4];
        let mut dst = vec![0u8; 8 * 2];
        let before = crate::stats::media_bytes_copied();
        copy_audio(&src, A::F32Planar, 2, 8, &mut dst, A::S16Planar, 1, 0, 8);
        assert!(crate::stats::media_bytes_copied() - before >= 16);
    }
}
