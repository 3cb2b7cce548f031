//! RGBA, RGBX, BGRA, BGRX to I420 or NV12, BT.709 limited range: the reference's arithmetic
//! (convert/video.rs: 16.16 coefficients, luma rounded once per pixel, chroma from the R, G, B
//! sums of each 2x2 block divided once, rounding halves away from zero) with 16 x 16 -> 32-bit
//! multiply-adds (the luma coefficients are even, so halving them to fit 16 bits is exact), so
//! the result is bit-exact with it. AVX2, 16 columns of a row pair a step (32 luma, 8 chroma
//! samples); the remaining columns and an odd last row go to the reference's own kernel.
//! Without AVX2 the reference runs.
//!
//! Not libyuv: its ARGBToI420 is BT.601 only and its coefficients have 7 bits.

use super::video::{rgb_offsets, rgb_to_yuv};
use super::{crop, crop_mut, Image, ImageMut};
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
    let w = dst.width - x;
    if w > 0 && h > 0 {
        rgb_to_yuv(&crop(src, x, y, w, h), &mut crop_mut(dst, x, y, w, h));
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::super::video::{U_B, U_G, U_R, V_B, V_G, V_R, Y_B, Y_G, Y_R};
    use super::*;

    /// The luma coefficients halved (all even: exact) so that they fit 16-bit lanes; luma is
    /// then rounded at 2^15 instead of 2^16, the same value.
    const YH: [i32; 3] = [Y_R / 2, Y_G / 2, Y_B / 2];
    const _: () = assert!(Y_R % 2 == 0 && Y_G % 2 == 0 && Y_B % 2 == 0);

    /// Coefficients for the pixel byte order: (R, G, B) placed at `ro`, 1 and `bo`, 0 for the
    /// fourth byte, repeated per pixel as 16-bit lanes for madd.
    #[inline(always)]
    unsafe fn coef(c: [i32; 3], ro: usize, bo: usize) -> __m256i {
        let mut k = [0i16; 4];
        k[ro] = c[0] as i16;
        k[1] = c[1] as i16;
        k[bo] = c[2] as i16;
        let q = (k[0] as u16 as u64) | (k[1] as u16 as u64) << 16 | (k[2] as u16 as u64) << 32 | (k[3] as u16 as u64) << 48;
        _mm256_set1_epi64x(q as i64)
    }

    /// 16 lanes of 32 bits (two vectors, in order) as 16 bytes, saturated.
    #[inline(always)]
    unsafe fn bytes16(a: __m256i, b: __m256i) -> __m128i {
        let w = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0b11_01_10_00);
        let p = _mm256_packus_epi16(w, w);
        _mm256_castsi256_si128(_mm256_permute4x64_epi64(p, 0b00_00_10_00))
    }

    /// 16 + luma of 8 pixels whose bytes are widened to 16 bits in `lo` (pixels 0, 1 | 4, 5)
    /// and `hi` (2, 3 | 6, 7): 32-bit lanes, in pixel order.
    #[inline(always)]
    unsafe fn luma(lo: __m256i, hi: __m256i, cy: __m256i) -> __m256i {
        let s = _mm256_hadd_epi32(_mm256_madd_epi16(lo, cy), _mm256_madd_epi16(hi, cy));
        _mm256_add_epi32(_mm256_srai_epi32(_mm256_add_epi32(s, _mm256_set1_epi32(1 << 14)), 15), _mm256_set1_epi32(16))
    }

    /// 128 + num / 2^18 rounded halves away from zero (the reference's div_round for a full
    /// 2x2 block: den = 4 << 16).
    #[inline(always)]
    unsafe fn chroma(num: __m256i) -> __m256i {
        let neg = _mm256_srli_epi32(num, 31);
        let q = _mm256_srai_epi32(_mm256_sub_epi32(_mm256_add_epi32(num, _mm256_set1_epi32(1 << 17)), neg), 18);
        _mm256_add_epi32(q, _mm256_set1_epi32(128))
    }

    /// Luma of 8 pixels of each row of a pair (at `p0`, `p1`) and the U, V numerators of their 4
    /// blocks: (Y row 0, Y row 1, [U0 U1 U2 U3 V0 V1 V2 V3]).
    #[inline(always)]
    unsafe fn group(p0: *const u8, p1: *const u8, cy: __m256i, cu: __m256i, cv: __m256i) -> (__m256i, __m256i, __m256i) {
        let z = _mm256_setzero_si256();
        let (a, b) = (_mm256_loadu_si256(p0 as *const __m256i), _mm256_loadu_si256(p1 as *const __m256i));
        let (l0, h0) = (_mm256_unpacklo_epi8(a, z), _mm256_unpackhi_epi8(a, z));
        let (l1, h1) = (_mm256_unpacklo_epi8(b, z), _mm256_unpackhi_epi8(b, z));
        let (y0, y1) = (luma(l0, h0, cy), luma(l1, h1, cy));
        // Per-pixel sums of the two rows, then of adjacent pixels: blocks 0 | 2 from lo, 1 | 3
        // from hi, gathered as [blk0 blk1 | blk2 blk3] (4 x 16-bit R, G, B, A sums each).
        let (sl, sh) = (_mm256_add_epi16(l0, l1), _mm256_add_epi16(h0, h1));
        let bl = _mm256_add_epi16(sl, _mm256_shuffle_epi32(sl, 0b01_00_11_10));
        let bh = _mm256_add_epi16(sh, _mm256_shuffle_epi32(sh, 0b01_00_11_10));
        let blocks = _mm256_unpacklo_epi64(bl, bh);
        // [U0 U1 V0 V1 | U2 U3 V2 V3] -> [U0 U1 U2 U3 V0 V1 V2 V3].
        let uv = _mm256_hadd_epi32(_mm256_madd_epi16(blocks, cu), _mm256_madd_epi16(blocks, cv));
        let uv = _mm256_permutevar8x32_epi32(uv, _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7));
        (y0, y1, uv)
    }

    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn run(src: &Image, dst: &mut ImageMut) {
        let (w, h) = (dst.width, dst.height);
        let [ro, _, bo, _] = rgb_offsets(src.format);
        let (cy, cu, cv) = (coef(YH, ro, bo), coef([U_R, U_G, U_B], ro, bo), coef([V_R, V_G, V_B], ro, bo));
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
                let (ya0, ya1, uva) = group(s0.add(64 * k), s1.add(64 * k), cy, cu, cv);
                let (yb0, yb1, uvb) = group(s0.add(64 * k + 32), s1.add(64 * k + 32), cy, cu, cv);
                _mm_storeu_si128(d0.add(16 * k) as *mut __m128i, bytes16(ya0, yb0));
                _mm_storeu_si128(d1.add(16 * k) as *mut __m128i, bytes16(ya1, yb1));
                let u = chroma(_mm256_permute2x128_si256(uva, uvb, 0x20));
                let v = chroma(_mm256_permute2x128_si256(uva, uvb, 0x31));
                let (u8s, v8s) = (bytes16(u, u), bytes16(v, v));
                if nv12 {
                    _mm_storeu_si128(up.add(16 * k) as *mut __m128i, _mm_unpacklo_epi8(u8s, v8s));
                } else {
                    _mm_storel_epi64(up.add(8 * k) as *mut __m128i, u8s);
                    _mm_storel_epi64(vp.add(8 * k) as *mut __m128i, v8s);
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
