//! RGBA, RGBX, BGRA, BGRX to I420 or NV12, BT.709 limited range: the reference's arithmetic
//! (convert/video.rs: 16.16 coefficients, luma rounded once per pixel, chroma from the R, G, B
//! sums of each 2x2 block divided once, rounding halves away from zero), so the result is
//! bit-exact with it. AVX2, 16 columns of a row pair a step (32 luma, 8 chroma samples); the
//! remaining columns and an odd last row go to the reference's own kernel. Without AVX2 the
//! reference runs.
//! - Luma: byte x byte multiply-adds (pmaddubsw) straight on the pixels, with each 16-bit
//!   coefficient (halved: they are even) split into a high and a low byte whose partial sums
//!   fit 16 bits; the exact 32-bit sum's rounding is then resolved in 16 bits (`luma16`).
//! - Chroma: each channel's 2x2 block sum by a shuffle and a multiply-add with ones per row,
//!   then 16 x 16 -> 32-bit multiply-adds with the full coefficients.
//!
//! Not libyuv: its ARGBToI420 is BT.601 only and its coefficients have 7 bits.

use super::video::{rgb_offsets, rgb_to_yuv};
use super::{Image, ImageMut};
use crate::frame::format::VideoPixelFormat as F;

/// Converts `src` (RGBA/RGBX/BGRA/BGRX) into `dst` (I420 or NV12), same size; false (nothing
/// written) for other formats or without AVX2.
pub fn convert(src: &Image, dst: &mut ImageMut) -> bool {
    let (w, h) = (dst.width, dst.height);
    if src.width != w || src.height != h || w == 0 || h == 0 || !src.format.is_rgb() || !matches!(dst.format, F::I420 | F::Nv12) {
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
    super::tail(src, dst, x, y, h, rgb_to_yuv);
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::super::video::{U_B, U_G, U_R, V_B, V_G, V_R, Y_B, Y_G, Y_R};
    use super::*;

    /// The luma coefficients halved (all even: exact), luma then rounding at 2^15 instead of
    /// 2^16 (the same value), and each split as c = 256 hi + lo with hi in 0..=127 and lo in
    /// -128..=127: bytes that pmaddubsw multiplies pixels by.
    const YH: [i32; 3] = [Y_R / 2, Y_G / 2, Y_B / 2];
    const _: () = assert!(Y_R % 2 == 0 && Y_G % 2 == 0 && Y_B % 2 == 0);
    const fn hi(c: i32) -> i32 {
        (c + 128) >> 8
    }
    const fn lo(c: i32) -> i32 {
        c - 256 * hi(c)
    }
    const YHI: [i32; 3] = [hi(YH[0]), hi(YH[1]), hi(YH[2])];
    const YLO: [i32; 3] = [lo(YH[0]), lo(YH[1]), lo(YH[2])];
    // pmaddubsw adds the products of two neighbouring bytes into an i16, saturating: every
    // pair it can form (a pixel's first two bytes, and its last two, in any of the four byte
    // orders) must stay inside i16 for any pixel, and so must the pixel's whole sum (phaddw
    // wraps). Any sum of some of the terms lies in [255 x (negative coefficients' sum),
    // 255 x (positive coefficients' sum)], so bounding the two sums bounds them all.
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
        255 * pos <= i16::MAX as i32 && 255 * neg <= -(i16::MIN as i32)
    }
    const _: () = assert!(fits(YHI) && fits(YLO));

    /// Coefficients for the pixel byte order: (R, G, B) placed at `ro`, 1 and `bo`, 0 for the
    /// fourth byte.
    #[inline(always)]
    fn placed(c: [i32; 3], ro: usize, bo: usize) -> [i32; 4] {
        let mut k = [0; 4];
        k[ro] = c[0];
        k[1] = c[1];
        k[bo] = c[2];
        k
    }

    /// [`placed`] coefficients repeated per pixel as 16-bit lanes (for madd).
    #[inline(always)]
    unsafe fn coef(c: [i32; 3], ro: usize, bo: usize) -> __m256i {
        let k = placed(c, ro, bo).map(|v| v as i16 as u16 as u64);
        _mm256_set1_epi64x((k[0] | k[1] << 16 | k[2] << 32 | k[3] << 48) as i64)
    }

    /// [`placed`] coefficients repeated per pixel as bytes (for pmaddubsw).
    #[inline(always)]
    unsafe fn coef8(c: [i32; 3], ro: usize, bo: usize) -> __m256i {
        _mm256_set1_epi32(i32::from_le_bytes(placed(c, ro, bo).map(|v| v as i8 as u8)))
    }

    /// Luma of 16 pixels (8 at `p`, 8 at `q`) as 16-bit lanes, in the order
    /// [p 0-3, q 0-3 | p 4-7, q 4-7]. With S = sum of YH x channel = 256 HI + LO (HI and LO
    /// the split coefficients' sums, each an i16 here), Y = ((S + 2^14) >> 15) + 16, which is
    /// ((HI + 64 + (LO >> 8)) >> 7) + 16: LO's low byte cannot carry across a multiple of 2^15.
    #[inline(always)]
    unsafe fn luma16(p: __m256i, q: __m256i, khi: __m256i, klo: __m256i) -> __m256i {
        let hi = _mm256_hadd_epi16(_mm256_maddubs_epi16(p, khi), _mm256_maddubs_epi16(q, khi));
        let lo = _mm256_hadd_epi16(_mm256_maddubs_epi16(p, klo), _mm256_maddubs_epi16(q, klo));
        let k = _mm256_add_epi16(_mm256_add_epi16(hi, _mm256_set1_epi16(64)), _mm256_srai_epi16(lo, 8));
        _mm256_add_epi16(_mm256_srai_epi16(k, 7), _mm256_set1_epi16(16))
    }

    /// 128 + num / 2^18 rounded halves away from zero (the reference's div_round for a full
    /// 2x2 block: den = 4 << 16).
    #[inline(always)]
    unsafe fn chroma(num: __m256i) -> __m256i {
        let neg = _mm256_srli_epi32(num, 31);
        let q = _mm256_srai_epi32(_mm256_sub_epi32(_mm256_add_epi32(num, _mm256_set1_epi32(1 << 17)), neg), 18);
        _mm256_add_epi32(q, _mm256_set1_epi32(128))
    }

    /// The U, V numerators of the 4 blocks of 8 pixels of a row pair (at `a` and `b`, loaded):
    /// [U0 U1 U2 U3 V0 V1 V2 V3].
    #[inline(always)]
    unsafe fn block_uv(a: __m256i, b: __m256i, cu: __m256i, cv: __m256i) -> __m256i {
        // Each channel of two neighbouring pixels side by side, then summed by a multiply-add
        // with ones, and the rows added: [blk0 blk1 | blk2 blk3] (4 x 16-bit R, G, B, A sums).
        let pairs = _mm256_setr_epi8(0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15, 0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15);
        let ones = _mm256_set1_epi8(1);
        let sum = |x: __m256i| _mm256_maddubs_epi16(_mm256_shuffle_epi8(x, pairs), ones);
        let blocks = _mm256_add_epi16(sum(a), sum(b));
        // [U0 U1 V0 V1 | U2 U3 V2 V3] -> [U0 U1 U2 U3 V0 V1 V2 V3].
        let uv = _mm256_hadd_epi32(_mm256_madd_epi16(blocks, cu), _mm256_madd_epi16(blocks, cv));
        _mm256_permutevar8x32_epi32(uv, _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7))
    }

    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn run(src: &Image, dst: &mut ImageMut) {
        let (w, h) = (dst.width, dst.height);
        let [ro, _, bo, _] = rgb_offsets(src.format);
        let (khi, klo) = (coef8(YHI, ro, bo), coef8(YLO, ro, bo));
        let (cu, cv) = (coef([U_R, U_G, U_B], ro, bo), coef([V_R, V_G, V_B], ro, bo));
        let nv12 = dst.format == F::Nv12;
        let blocks = w / 16;
        for pair in 0..h / 2 {
            let (y0, y1) = (2 * pair, 2 * pair + 1);
            // Bounds: each step reads 64 bytes of each row and writes 16 luma bytes per row and
            // 8 U and 8 V (16 UV) bytes, inside the rows (16 * blocks <= w): the slicing checks
            // the rows' extents.
            let s0 = src.planes[0][y0 * src.strides[0]..][..4 * w].as_ptr();
            let s1 = src.planes[0][y1 * src.strides[0]..][..4 * w].as_ptr();
            let ys = dst.strides[0];
            assert!(dst.planes[0].len() >= y1 * ys + w && ys >= w);
            let yp = dst.planes[0].as_mut_ptr();
            let (d0, d1) = (yp.add(y0 * ys), yp.add(y1 * ys));
            let cw = w.div_ceil(2);
            let (up, vp) = if nv12 {
                (dst.planes[1][pair * dst.strides[1]..][..2 * cw].as_mut_ptr(), std::ptr::null_mut())
            } else {
                (dst.planes[1][pair * dst.strides[1]..][..cw].as_mut_ptr(), dst.planes[2][pair * dst.strides[2]..][..cw].as_mut_ptr())
            };
            for k in 0..blocks {
                let ld = |p: *const u8| _mm256_loadu_si256(p as *const __m256i);
                let (a0, a1) = (ld(s0.add(64 * k)), ld(s0.add(64 * k + 32)));
                let (b0, b1) = (ld(s1.add(64 * k)), ld(s1.add(64 * k + 32)));
                // Both rows' 16 luma bytes: packed as dwords [r0 a0 0-3, a1 0-3, r1 b0 0-3,
                // b1 0-3 | the same for pixels 4-7], put in order row by row.
                let ys = _mm256_packus_epi16(luma16(a0, a1, khi, klo), luma16(b0, b1, khi, klo));
                let ys = _mm256_permutevar8x32_epi32(ys, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
                _mm_storeu_si128(d0.add(16 * k) as *mut __m128i, _mm256_castsi256_si128(ys));
                _mm_storeu_si128(d1.add(16 * k) as *mut __m128i, _mm256_extracti128_si256::<1>(ys));
                let (uva, uvb) = (block_uv(a0, b0, cu, cv), block_uv(a1, b1, cu, cv));
                let u = chroma(_mm256_permute2x128_si256(uva, uvb, 0x20));
                let v = chroma(_mm256_permute2x128_si256(uva, uvb, 0x31));
                // [U0-3 V0-3 | U4-7 V4-7] as words, then bytes, then dwords in order: U0-7 V0-7.
                let words = _mm256_packus_epi32(u, v);
                let b = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(words, words), _mm256_setr_epi32(0, 4, 1, 5, 0, 4, 1, 5));
                let uv = _mm256_castsi256_si128(b);
                if nv12 {
                    _mm_storeu_si128(up.add(16 * k) as *mut __m128i, _mm_unpacklo_epi8(uv, _mm_unpackhi_epi64(uv, uv)));
                } else {
                    _mm_storel_epi64(up.add(8 * k) as *mut __m128i, uv);
                    _mm_storel_epi64(vp.add(8 * k) as *mut __m128i, _mm_unpackhi_epi64(uv, uv));
                }
            }
            rest(src, dst, 16 * blocks, y0, 2);
        }
        if h % 2 == 1 {
            rest(src, dst, 0, h - 1, 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::testutil::OwnedImage;

    /// Every (R, G, B) on a grid that includes 0 and 255, one per pixel (in 2x2 blocks of one
    /// colour and of mixed colours), through every byte order: the luma split and the block
    /// sums at their extremes.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn bit_exact_for_every_colour_on_a_grid() {
        let vals: Vec<u8> = (0..=255u8).step_by(17).collect(); // 0, 17, ..., 255
        let n = vals.len();
        let (w, h) = (2 * n * n, 2 * n);
        for from in [F::Rgba, F::Bgra, F::Rgbx, F::Bgrx] {
            let mut src = OwnedImage::new(from, w, h, 0, 0);
            let [ro, go, bo, _] = crate::convert::video::rgb_offsets(from);
            src.fill_with(|_, x, y, c| {
                let (r, g, b) = (vals[(x / 2) % n], vals[(x / 2 / n) % n], vals[(y / 2 + x % 2 * 3 + y % 2 * 5) % n]);
                match c {
                    _ if c == ro => r,
                    _ if c == go => g,
                    _ if c == bo => b,
                    _ => 255,
                }
            });
            let mut fast = OwnedImage::new(F::I420, w, h, 0, 0);
            let mut slow = OwnedImage::new(F::I420, w, h, 0, 0);
            if !convert(&src.view(), &mut fast.view_mut()) {
                assert!(!std::arch::is_x86_feature_detected!("avx2"));
                return;
            }
            crate::convert::reference::convert(&src.view(), &mut slow.view_mut());
            assert_eq!(fast.packed(), slow.packed(), "{from:?}");
        }
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn bit_exact_with_the_reference_at_odd_sizes_and_strides() {
        for (w, h) in [(1, 1), (2, 2), (15, 3), (16, 2), (17, 5), (33, 4), (64, 9), (130, 7)] {
            for from in [F::Rgba, F::Bgrx] {
                for to in [F::I420, F::Nv12] {
                    let mut src = OwnedImage::new(from, w, h, 5, 0);
                    let mut s = 99u32 + w as u32;
                    src.fill_with(|_, _, _, _| {
                        s = s.wrapping_mul(1_103_515_245).wrapping_add(12345);
                        (s >> 16) as u8
                    });
                    let mut fast = OwnedImage::new(to, w, h, 3, 0);
                    let mut slow = OwnedImage::new(to, w, h, 0, 0);
                    if !convert(&src.view(), &mut fast.view_mut()) {
                        assert!(!std::arch::is_x86_feature_detected!("avx2"), "no fast path with AVX2");
                        return;
                    }
                    crate::convert::reference::convert(&src.view(), &mut slow.view_mut());
                    fast.assert_padding();
                    for (p, info) in to.planes().iter().enumerate() {
                        let (pw, ph) = info.samples(w, h);
                        for y in 0..ph {
                            for x in 0..pw {
                                for c in 0..info.bytes_per_sample {
                                    assert_eq!(fast.get(p, x, y, c), slow.get(p, x, y, c), "{from:?}->{to:?} {w}x{h} plane {p} ({x},{y}).{c}");
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
