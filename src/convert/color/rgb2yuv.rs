//! RGBA, RGBX, BGRA, BGRX to I420 or NV12, BT.709 limited range, within [`MAX_ERROR`] of the
//! reference (color/reference.rs: 16.16 coefficients, luma rounded once per pixel, chroma from
//! each 2x2 block's summed R, G, B divided once). AVX2, 32 columns of a row pair a step (64
//! luma, 16 U and 16 V samples); the last step of a row overlaps the one before it (same
//! values written twice), and an odd width's last column goes to the reference's own kernel.
//! Widths under 32 and machines without AVX2 run the reference.
//!
//! The arithmetic is chosen for speed over the last bit, as libyuv's and swscale's are; the
//! bound holds for every input, and the tests check it (every colour for luma):
//! - Luma: one byte x byte multiply-add (pmaddubsw) per pixel with the coefficients x 256 as
//!   unsigned bytes (47, 157, 16) against the pixel's bytes minus 128 as signed bytes, summed
//!   in 16 bits. Measured over all 2^24 colours: at most 1 off, 8.8% of colours 1 off.
//! - Chroma: each channel averaged over the 2x2 block with two rounding-up byte averages
//!   (pavgb, rows then columns: up to 1.0 above the true mean, as 0, 1 over 1, 2 averages to
//!   2, never below), then one pmaddubsw with the coefficients x 256 as signed bytes. The
//!   coefficients add to 0, as the reference's do, so grey stays exactly 128 and a bias
//!   common to the three channels cancels. What is left before rounding: at most the positive
//!   (or the negative) coefficients' sum times 1.0 from the averages, 113/256 = 0.441 (U) or
//!   112/256 = 0.438 (V), plus at most 255 x 0.0022 = 0.56 (U) or 255 x 0.0017 = 0.44 (V)
//!   from the rounded coefficients; both cannot peak at once, and the largest sum over every
//!   block is 0.9995 (U of a blue block 253, 254 over 254, 255: 241 for the reference's 240;
//!   `tightest_chroma_block` holds it). Under 1, so at most 1 off after rounding; a change of
//!   coefficient can break that, and that test would fail.
//!
//! Not libyuv: its ARGBToI420 is BT.601 only and its coefficients have 7 bits.

use super::reference::{rgb_offsets, rgb_to_yuv};
use crate::convert::{Image, ImageMut};
use crate::frame::format::VideoPixelFormat as F;

/// Largest per-sample difference from the reference.
pub const MAX_ERROR: u8 = 1;

/// Converts `src` (RGBA/RGBX/BGRA/BGRX) into `dst` (I420 or NV12), same size; false (nothing
/// written) for other formats, widths under 32 or without AVX2.
pub fn convert(src: &Image, dst: &mut ImageMut) -> bool {
    let (w, h) = (dst.width, dst.height);
    if src.width != w
        || src.height != h
        || w < 32
        || h == 0
        || !src.format.is_rgb()
        || !matches!(dst.format, F::I420 | F::Nv12)
    {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            unsafe { avx2::run(src, dst) };
            return true;
        }
    }
    false
}

/// Columns `x..` of rows `y..y + h` by the reference's own kernel (`x` and `y` even).
fn rest(src: &Image, dst: &mut ImageMut, x: usize, y: usize, h: usize) {
    crate::convert::tail(src, dst, x, y, h, rgb_to_yuv);
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::*;

    /// Luma coefficients (R, G, B) x 256, applied to the pixel bytes minus 128: unsigned bytes.
    const KY: [i32; 3] = [47, 157, 16];
    /// Added to the 16-bit sum S = sum KY x (channel - 128): 128 x sum KY brings back the
    /// offset, 110 rounds (the best constant over all colours), 16 x 256 is the black level;
    /// S + Y_ADD lies in 4206..=60306, so a logical shift by 8 gives the luma.
    const Y_ADD: i32 = 128 * (KY[0] + KY[1] + KY[2]) + 110 + 16 * 256;
    const _: () =
        assert!(Y_ADD - 128 * (KY[0] + KY[1] + KY[2]) >= 0 && Y_ADD + 127 * (KY[0] + KY[1] + KY[2]) <= u16::MAX as i32);
    // pmaddubsw's pair sums and phaddw's total stay inside i16: |KY pair| x 128 and sum x 128.
    const _: () = assert!((KY[0] + KY[1] + KY[2]) * 128 <= i16::MAX as i32);

    /// Chroma coefficients (R, G, B) x 256 as signed bytes, each triple adding to 0 (the
    /// reference's add to 0: U_R + U_G + U_B = 0 = V_R + V_G + V_B).
    const KU: [i32; 3] = [-26, -87, 113];
    const KV: [i32; 3] = [112, -102, -10];
    const _: () = assert!(KU[0] + KU[1] + KU[2] == 0 && KV[0] + KV[1] + KV[2] == 0);
    /// Added to the 16-bit sum T = sum K x average: 128 x 256 the chroma offset, 128 rounds;
    /// T lies in -255 x (negative coefficients) ..= 255 x (positive ones), so T + UV_ADD is
    /// an unsigned 16-bit value.
    const UV_ADD: i32 = 128 * 256 + 128;

    // pmaddubsw adds the products of two neighbouring bytes into an i16, saturating, and
    // phaddw wraps: every partial sum of a pixel's terms (any pair, in any byte order, and
    // the whole) must stay inside i16 and T + UV_ADD inside u16. Any partial sum lies in
    // [-255 x (negative coefficients' sum), 255 x (positive coefficients' sum)].
    const fn fits(k: [i32; 3]) -> bool {
        let (mut pos, mut neg, mut i) = (0, 0, 0);
        while i < 3 {
            if k[i] < -128 || k[i] > 127 {
                return false;
            }
            if k[i] > 0 {
                pos += k[i];
            } else {
                neg -= k[i];
            }
            i += 1;
        }
        255 * pos <= i16::MAX as i32
            && 255 * neg <= -(i16::MIN as i32)
            && UV_ADD - 255 * neg >= 0
            && UV_ADD + 255 * pos <= u16::MAX as i32
    }
    const _: () = assert!(fits(KU) && fits(KV));

    /// Coefficients for the pixel byte order, (R, G, B) placed at `ro`, 1 and `bo` and 0 for
    /// the fourth byte, repeated per pixel as bytes (for pmaddubsw).
    #[inline(always)]
    unsafe fn coef8(c: [i32; 3], ro: usize, bo: usize) -> __m256i {
        let mut k = [0u8; 4];
        k[ro] = c[0] as i8 as u8;
        k[1] = c[1] as i8 as u8;
        k[bo] = c[2] as i8 as u8;
        _mm256_set1_epi32(i32::from_le_bytes(k))
    }

    struct Coefs {
        y: __m256i,
        u: __m256i,
        v: __m256i,
    }

    /// Luma of 16 pixels (8 at `p`, 8 at `q`) as 16-bit lanes, in the order
    /// [p 0-3, q 0-3 | p 4-7, q 4-7].
    #[inline(always)]
    unsafe fn luma(p: __m256i, q: __m256i, k: __m256i) -> __m256i {
        let flip = _mm256_set1_epi8(-128);
        let s = _mm256_hadd_epi16(
            _mm256_maddubs_epi16(k, _mm256_xor_si256(p, flip)),
            _mm256_maddubs_epi16(k, _mm256_xor_si256(q, flip)),
        );
        _mm256_srli_epi16::<8>(_mm256_add_epi16(s, _mm256_set1_epi16(Y_ADD as i16)))
    }

    /// 32 luma bytes of one row (pixels at `p0`..`p3`, 8 each), in order.
    #[inline(always)]
    unsafe fn luma_row(p0: __m256i, p1: __m256i, p2: __m256i, p3: __m256i, k: __m256i) -> __m256i {
        // Dwords [0-3, 8-11, 16-19, 24-27 | 4-7, 12-15, 20-23, 28-31].
        let b = _mm256_packus_epi16(luma(p0, p1, k), luma(p2, p3, k));
        _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7))
    }

    /// The 2x2 block averages of 16 pixels of a row pair, from the row averages `v0`, `v1`
    /// (8 pixels each): blocks [0 1 4 5 | 2 3 6 7].
    #[inline(always)]
    unsafe fn blocks(v0: __m256i, v1: __m256i) -> __m256i {
        let (a, b) = (_mm256_castsi256_ps(v0), _mm256_castsi256_ps(v1));
        let even = _mm256_castps_si256(_mm256_shuffle_ps::<0x88>(a, b));
        let odd = _mm256_castps_si256(_mm256_shuffle_ps::<0xdd>(a, b));
        _mm256_avg_epu8(even, odd)
    }

    /// U (or V) of the blocks of `m0` and `m1` ([`blocks`]) as 16-bit lanes:
    /// [0 1 4 5 8 9 12 13 | 2 3 6 7 10 11 14 15].
    #[inline(always)]
    unsafe fn chroma(m0: __m256i, m1: __m256i, k: __m256i) -> __m256i {
        let t = _mm256_hadd_epi16(_mm256_maddubs_epi16(m0, k), _mm256_maddubs_epi16(m1, k));
        _mm256_srli_epi16::<8>(_mm256_add_epi16(t, _mm256_set1_epi16(UV_ADD as u16 as i16)))
    }

    /// Columns `x..x + 32` of the row pair at `s0`, `s1` (the same row for an odd last row):
    /// luma into `d0`, `d1`, chroma (columns `x / 2..x / 2 + 16`) into `u`, `v` or, for NV12,
    /// interleaved into `u`.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn step(
        s0: *const u8,
        s1: *const u8,
        d0: *mut u8,
        d1: *mut u8,
        u: *mut u8,
        v: *mut u8,
        x: usize,
        k: &Coefs,
    ) {
        let ld = |p: *const u8| _mm256_loadu_si256(p.add(4 * x) as *const __m256i);
        let (a0, a1, a2, a3) = (ld(s0), ld(s0.add(32)), ld(s0.add(64)), ld(s0.add(96)));
        let (b0, b1, b2, b3) = (ld(s1), ld(s1.add(32)), ld(s1.add(64)), ld(s1.add(96)));
        _mm256_storeu_si256(d0.add(x) as *mut __m256i, luma_row(a0, a1, a2, a3, k.y));
        _mm256_storeu_si256(d1.add(x) as *mut __m256i, luma_row(b0, b1, b2, b3, k.y));
        let m0 = blocks(_mm256_avg_epu8(a0, b0), _mm256_avg_epu8(a1, b1));
        let m1 = blocks(_mm256_avg_epu8(a2, b2), _mm256_avg_epu8(a3, b3));
        // Bytes [U 0 1 4 5 8 9 12 13, V the same | U 2 3 6 7 10 11 14 15, V the same]; the
        // quadwords regrouped U | V, then the byte pairs put in order.
        let uv = _mm256_packus_epi16(chroma(m0, m1, k.u), chroma(m0, m1, k.v));
        let uv = _mm256_permute4x64_epi64::<0b11_01_10_00>(uv);
        let order = _mm256_setr_epi8(
            0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15, 0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15,
        );
        let uv = _mm256_shuffle_epi8(uv, order);
        let (us, vs) = (_mm256_castsi256_si128(uv), _mm256_extracti128_si256::<1>(uv));
        if v.is_null() {
            _mm_storeu_si128(u.add(x) as *mut __m128i, _mm_unpacklo_epi8(us, vs));
            _mm_storeu_si128(u.add(x + 16) as *mut __m128i, _mm_unpackhi_epi8(us, vs));
        } else {
            _mm_storeu_si128(u.add(x / 2) as *mut __m128i, us);
            _mm_storeu_si128(v.add(x / 2) as *mut __m128i, vs);
        }
    }

    /// Needs `dst.width >= 32` (and the caller's format checks).
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn run(src: &Image, dst: &mut ImageMut) {
        let (w, h) = (dst.width, dst.height);
        debug_assert!(w >= 32);
        let [ro, _, bo, _] = rgb_offsets(src.format);
        let k = Coefs { y: coef8(KY, ro, bo), u: coef8(KU, ro, bo), v: coef8(KV, ro, bo) };
        let nv12 = dst.format == F::Nv12;
        // Whole 2x2 blocks: columns 0..even (an odd width's last column is the reference's),
        // in steps of 32, the last one ending at `even`.
        let even = w & !1;
        let last = even - 32;
        let cw = w.div_ceil(2);
        for pair in 0..h.div_ceil(2) {
            let y0 = 2 * pair;
            let y1 = (y0 + 1).min(h - 1);
            // Bounds: a step at x reads 4 x 32 bytes from 4x of each row and writes 32 luma
            // bytes from x of each row and 16 U and 16 V (or 32 UV) bytes from x / 2 (or x),
            // with x + 32 <= even <= w: the slicing checks the rows' extents.
            let s0 = src.planes[0][y0 * src.strides[0]..][..4 * w].as_ptr();
            let s1 = src.planes[0][y1 * src.strides[0]..][..4 * w].as_ptr();
            // Both luma rows from one pointer (two &mut reborrows of the plane would invalidate
            // the first, and for an odd last row they are the same row), after checking that
            // the second row ends inside the plane.
            let ys = dst.strides[0];
            assert!(ys >= w && dst.planes[0].len() >= y1 * ys + w);
            let yp = dst.planes[0].as_mut_ptr();
            let (d0, d1) = (yp.add(y0 * ys), yp.add(y1 * ys));
            let (u, v) = if nv12 {
                (dst.planes[1][pair * dst.strides[1]..][..2 * cw].as_mut_ptr(), std::ptr::null_mut())
            } else {
                (
                    dst.planes[1][pair * dst.strides[1]..][..cw].as_mut_ptr(),
                    dst.planes[2][pair * dst.strides[2]..][..cw].as_mut_ptr(),
                )
            };
            let mut x = 0;
            while x < last {
                step(s0, s1, d0, d1, u, v, x, &k);
                x += 32;
            }
            step(s0, s1, d0, d1, u, v, last, &k);
            if w % 2 == 1 {
                rest(src, dst, w - 1, y0, y1 + 1 - y0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::testutil::OwnedImage;

    /// Runs the fast kernel and the reference on `src`; None without AVX2.
    fn both(src: &OwnedImage, to: F, pad: usize) -> Option<(OwnedImage, OwnedImage)> {
        let (w, h) = (src.width, src.height);
        let mut fast = OwnedImage::new(to, w, h, pad, 0);
        let mut slow = OwnedImage::new(to, w, h, 0, 0);
        if !convert(&src.view(), &mut fast.view_mut()) {
            assert!(!std::arch::is_x86_feature_detected!("avx2"), "no fast path with AVX2 at {w}x{h}");
            return None;
        }
        crate::convert::reference::convert(&src.view(), &mut slow.view_mut());
        fast.assert_padding();
        Some((fast, slow))
    }

    /// All 2^24 colours, one per pixel (4096 x 4096, so each 2x2 block mixes four): luma is
    /// at most 1 off and exact for over 90% of colours (measured: 91.2%), chroma at most 1 off.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn every_colour_within_one() {
        let n = 4096;
        let mut src = OwnedImage::new(F::Bgrx, n, n, 0, 0);
        // BGRX bytes: B, G, R, X.
        src.fill_with(|_, x, y, c| {
            let i = y * n + x;
            [(i & 255) as u8, (i >> 8 & 255) as u8, (i >> 16) as u8, 0][c]
        });
        let Some((fast, slow)) = both(&src, F::I420, 0) else { return };
        let (worst, off, total) = fast.diff(&slow);
        assert!(worst <= MAX_ERROR, "off by {worst}");
        let (mut luma_off, mut grey_off) = (0, 0);
        for y in 0..n {
            for x in 0..n {
                luma_off += (fast.get(0, x, y, 0) != slow.get(0, x, y, 0)) as usize;
            }
        }
        // Grey stays grey: black, white and every level with R = G = B.
        let mut g = OwnedImage::new(F::Rgba, 512, 2, 0, 0);
        g.fill_with(|_, x, _, c| if c == 3 { 255 } else { (x / 2) as u8 });
        let Some((gf, gs)) = both(&g, F::I420, 0) else { return };
        for x in 0..512 {
            grey_off += (gf.get(0, x, 0, 0) != gs.get(0, x, 0, 0)) as usize;
        }
        for x in 0..256 {
            assert_eq!((gf.get(1, x, 0, 0), gf.get(2, x, 0, 0)), (128, 128), "grey {x}");
        }
        assert_eq!((gf.get(0, 0, 0, 0), gf.get(0, 511, 0, 0)), (16, 235), "black and white levels");
        assert!(luma_off * 10 < n * n, "luma off for {luma_off} of {} colours", n * n);
        assert!(grey_off <= 512 / 10, "grey luma off for {grey_off} of 512");
        assert!(off < total / 5, "{off} of {total} samples off");
    }

    /// Chroma's worst cases: 2x2 blocks whose channels are 0 or 255 (the coefficient error
    /// at its largest) or random (the averages' rounding), mixed, through every byte order.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn extreme_blocks_within_one() {
        let (w, h) = (512, 256);
        for from in [F::Rgba, F::Bgra, F::Rgbx, F::Bgrx] {
            let mut s = 0x9e37_79b9u32 ^ from as u32;
            let mut next = || {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                s
            };
            let mut src = OwnedImage::new(from, w, h, 0, 0);
            src.fill_with(|_, x, y, _| {
                let r = next();
                match (x / 2 + y / 2 * 7) % 3 {
                    0 => 255 * (r & 1) as u8,
                    1 => r as u8,
                    _ => [0, 1, 127, 128, 254, 255][(r % 6) as usize],
                }
            });
            let Some((fast, slow)) = both(&src, F::I420, 0) else { return };
            let (worst, off, total) = fast.diff(&slow);
            assert!(worst <= MAX_ERROR, "{from:?}: off by {worst}");
            assert!(off < total / 3, "{from:?}: {off} of {total} samples off");
        }
    }

    /// The block where the chroma bound is tightest (see the module doc): blue 253, 254 over
    /// 254, 255 with red and green 0, whose U is 0.9995 above the reference's before rounding.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn tightest_chroma_block() {
        for from in [F::Rgba, F::Bgra, F::Rgbx, F::Bgrx] {
            let [_, _, bo, _] = crate::convert::color::reference::rgb_offsets(from);
            let mut src = OwnedImage::new(from, 32, 2, 0, 0);
            src.fill_with(|_, x, y, c| if c == bo { [[253, 254], [254, 255]][y][x % 2] } else { 0 });
            let Some((fast, slow)) = both(&src, F::I420, 0) else { return };
            assert_eq!(slow.get(1, 0, 0, 0), 240, "{from:?}: the reference's U");
            assert_eq!(fast.get(1, 0, 0, 0), 241, "{from:?}: 1 above, at the bound");
            let (worst, _, _) = fast.diff(&slow);
            assert!(worst <= MAX_ERROR, "{from:?}");
        }
    }

    /// Widths around the step (32) and its overlap, odd widths and heights (the last column
    /// and row), padded strides on both sides, I420 and NV12: within 1, the padding untouched;
    /// under 32 columns the kernel declines and the reference runs.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn odd_sizes_and_strides_within_one() {
        for (w, h) in [(32, 2), (33, 1), (34, 3), (47, 5), (63, 4), (64, 9), (65, 2), (95, 7), (130, 7), (1366, 3)] {
            for from in [F::Rgba, F::Bgrx] {
                for to in [F::I420, F::Nv12] {
                    let mut src = OwnedImage::new(from, w, h, 5, 0);
                    let mut s = 99u32 + w as u32;
                    src.fill_with(|_, _, _, _| {
                        s = s.wrapping_mul(1_103_515_245).wrapping_add(12345);
                        (s >> 16) as u8
                    });
                    let Some((fast, slow)) = both(&src, to, 3) else { return };
                    let (worst, _, _) = fast.diff(&slow);
                    assert!(worst <= MAX_ERROR, "{from:?}->{to:?} {w}x{h}: off by {worst}");
                    if w % 2 == 1 {
                        // The odd column is the reference's own.
                        let info = to.planes()[1];
                        for y in 0..h.div_ceil(2) {
                            for c in 0..info.bytes_per_sample {
                                assert_eq!(
                                    fast.get(1, w / 2, y, c),
                                    slow.get(1, w / 2, y, c),
                                    "{to:?} {w}x{h} last chroma column"
                                );
                            }
                        }
                    }
                }
            }
        }
        let src = OwnedImage::new(F::Bgra, 31, 4, 0, 7);
        let mut dst = OwnedImage::new(F::I420, 31, 4, 0, 0);
        assert!(!convert(&src.view(), &mut dst.view_mut()), "31 columns: the reference's");
    }
}
