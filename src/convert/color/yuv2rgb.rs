//! I420 and NV12 to 32-bit RGB (RGBA, RGBX, BGRA, BGRX) in any of the reference's matrices
//! and ranges ([`YuvEncoding`]): the reference's conversion (color/reference.rs) in 16-bit fixed
//! point with AVX2 (32 pixels a step: multiply-high of 16-bit lanes, saturating packs, byte
//! interleaves); the columns left over go to the reference's own kernel. Without AVX2 the
//! reference runs.
//!
//! Each term of R = Cy (Y - Yo) + Rv (V - 128), G = ... - Gu (U - 128) - Gv (V - 128) and
//! B = ... + Bu (U - 128) (BT.709 limited range: Yo = 16, Cy = 1.164, Rv = 1.793, Gu = 0.213,
//! Gv = 0.533, Bu = 2.112) is computed in units of 1/16 by a 16x16 -> high-16 multiply (the
//! inputs pre-shifted by 6 or 7 bits, the factors scaled by 2^14 or 2^13 to fit 16 bits), the
//! terms added, and the sum rounded to a whole value and clamped. Each multiply floors at most
//! 1/16, so the result is within 1 of the reference's 16.16 arithmetic ([`MAX_ERROR`]; the test
//! below checks every Y, U, V combination's worst case on a grid, in every encoding). The
//! factors are loaded once per image: every encoding runs the same instructions.
//! Chroma is upsampled by nearest sample, as in the reference.
//!
//! libyuv's I420ToARGBMatrix is not used: it clamps the 2.112 coefficient to 2.0 (blue up to 13
//! off where saturated).

use super::reference::{yuv_to_rgb_by, YuvToRgb};
use crate::convert::{Image, ImageMut, YuvEncoding};
use crate::frame::format::VideoPixelFormat as F;

/// Largest per-sample difference from the reference.
pub const MAX_ERROR: u8 = 1;

/// The reference's 16.16 factors rescaled: x 2^14 / 2^16 for the ones applied to values
/// pre-shifted by 6, x 2^13 / 2^16 for Bu (pre-shift 7). Every encoding's fit 16 bits (the
/// largest, BT.709 limited's Rv, is 29372).
#[derive(Clone, Copy)]
struct Factors {
    y_offset: i16,
    y: i16,
    rv: i16,
    gu: i16,
    gv: i16,
    bu: i16,
}

impl Factors {
    fn of(k: &YuvToRgb) -> Factors {
        let q = |v: i32, shift: u32| ((v + (1 << (shift - 1))) >> shift) as i16;
        Factors {
            y_offset: k.y_offset as i16,
            y: q(k.c_y, 2),
            rv: q(k.r_v, 2),
            gu: q(k.g_u, 2),
            gv: q(k.g_v, 2),
            bu: q(k.b_u, 3),
        }
    }
}

/// Converts `src` (I420 or NV12) into `dst` (RGBA, RGBX, BGRA or BGRX; alpha and X are 255),
/// same size, YUV read as BT.709 limited range ([`convert_with`]).
pub fn convert(src: &Image, dst: &mut ImageMut) -> bool {
    convert_with(src, dst, YuvEncoding::BT709_LIMITED)
}

/// Converts `src` (I420 or NV12, encoded as `yuv`) into `dst` (RGBA, RGBX, BGRA or BGRX; alpha
/// and X are 255), same size. False (nothing written) for other formats or sizes, or without
/// AVX2 (the reference then runs).
pub fn convert_with(src: &Image, dst: &mut ImageMut, yuv: YuvEncoding) -> bool {
    let (w, h) = (dst.width, dst.height);
    if src.width != w || src.height != h || w == 0 || h == 0 || !matches!(src.format, F::I420 | F::Nv12) {
        return false;
    }
    let bgr = match dst.format {
        F::Bgra | F::Bgrx => true,
        F::Rgba | F::Rgbx => false,
        _ => return false,
    };
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            let k = YuvToRgb::new(yuv);
            // SAFETY: the CPU has AVX2 (checked just above).
            unsafe {
                if bgr {
                    avx2::rows::<true>(src, dst, &k)
                } else {
                    avx2::rows::<false>(src, dst, &k)
                }
            };
            return true;
        }
    }
    let _ = (bgr, yuv);
    false
}

/// Columns `x..` of rows `y..y + h` by the reference's own kernel (`x` and `y` even).
fn rest(src: &Image, dst: &mut ImageMut, x: usize, y: usize, h: usize, k: &YuvToRgb) {
    crate::convert::tail(src, dst, x, y, h, |s, d| yuv_to_rgb_by(s, d, k));
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::*;

    /// The factors broadcast to every lane, made once per image.
    #[derive(Clone, Copy)]
    struct Vectors {
        y_offset: __m256i,
        y: __m256i,
        rv: __m256i,
        gu: __m256i,
        gv: __m256i,
        bu: __m256i,
    }

    #[inline(always)]
    unsafe fn vectors(f: Factors) -> Vectors {
        Vectors {
            y_offset: _mm256_set1_epi16(f.y_offset),
            y: _mm256_set1_epi16(f.y),
            rv: _mm256_set1_epi16(f.rv),
            gu: _mm256_set1_epi16(f.gu),
            gv: _mm256_set1_epi16(f.gv),
            bu: _mm256_set1_epi16(f.bu),
        }
    }

    /// R, G and B terms (units of 1/16) of 16 chroma samples (U and V as 16 i16 lanes), with
    /// the rounding 8 of the final shift folded in (R + 8, G - 8, B + 8: G's term is
    /// subtracted), so the luma of each of the two rows that share them needs no add.
    #[inline(always)]
    unsafe fn terms(k: &Vectors, u: __m256i, v: __m256i) -> [__m256i; 3] {
        let c128 = _mm256_set1_epi16(128);
        let c8 = _mm256_set1_epi16(8);
        let (u, v) = (_mm256_sub_epi16(u, c128), _mm256_sub_epi16(v, c128));
        let r = _mm256_add_epi16(_mm256_mulhi_epi16(_mm256_slli_epi16(v, 6), k.rv), c8);
        let g = _mm256_sub_epi16(
            _mm256_add_epi16(
                _mm256_mulhi_epi16(_mm256_slli_epi16(u, 6), k.gu),
                _mm256_mulhi_epi16(_mm256_slli_epi16(v, 6), k.gv),
            ),
            c8,
        );
        let b = _mm256_add_epi16(_mm256_mulhi_epi16(_mm256_slli_epi16(u, 7), k.bu), c8);
        [r, g, b]
    }

    /// Each of 16 lanes twice, in order: (lanes 0-7 doubled, lanes 8-15 doubled).
    #[inline(always)]
    unsafe fn doubled(t: __m256i) -> (__m256i, __m256i) {
        let lo = _mm256_unpacklo_epi16(t, t); // 0-3 | 8-11
        let hi = _mm256_unpackhi_epi16(t, t); // 4-7 | 12-15
        (_mm256_permute2x128_si256(lo, hi, 0x20), _mm256_permute2x128_si256(lo, hi, 0x31))
    }

    /// Luma term (units of 1/16; the rounding is in the chroma terms) of 16 Y bytes.
    #[inline(always)]
    unsafe fn luma(k: &Vectors, y: __m128i) -> __m256i {
        let y = _mm256_sub_epi16(_mm256_cvtepu8_epi16(y), k.y_offset);
        _mm256_mulhi_epi16(_mm256_slli_epi16(y, 6), k.y)
    }

    /// Two vectors of 16 i16 lanes (pixels 0-15 and 16-31) saturated to bytes, lane-interleaved:
    /// [0-7 16-23 | 8-15 24-31] (the stores put them back in order).
    #[inline(always)]
    unsafe fn bytes(a: __m256i, b: __m256i) -> __m256i {
        _mm256_packus_epi16(a, b)
    }

    /// 32 pixels of one row: Y at `ys` (32 bytes), their chroma terms doubled, out at `o`
    /// (128 bytes), B first with `BGR`, else R.
    #[inline(always)]
    unsafe fn emit<const BGR: bool>(
        k: &Vectors,
        ys: *const __m128i,
        o: *mut __m256i,
        rt: (__m256i, __m256i),
        gt: (__m256i, __m256i),
        bt: (__m256i, __m256i),
    ) {
        let (y0, y1) = (luma(k, _mm_loadu_si128(ys)), luma(k, _mm_loadu_si128(ys.add(1))));
        let r =
            bytes(_mm256_srai_epi16(_mm256_add_epi16(y0, rt.0), 4), _mm256_srai_epi16(_mm256_add_epi16(y1, rt.1), 4));
        let g =
            bytes(_mm256_srai_epi16(_mm256_sub_epi16(y0, gt.0), 4), _mm256_srai_epi16(_mm256_sub_epi16(y1, gt.1), 4));
        let b =
            bytes(_mm256_srai_epi16(_mm256_add_epi16(y0, bt.0), 4), _mm256_srai_epi16(_mm256_add_epi16(y1, bt.1), 4));
        let (first, third) = if BGR { (b, r) } else { (r, b) };
        let ff = _mm256_set1_epi8(-1);
        // Bytes are [0-7 16-23 | 8-15 24-31] (see `bytes`).
        let fg_lo = _mm256_unpacklo_epi8(first, g); // px 0-7 | 8-15
        let fg_hi = _mm256_unpackhi_epi8(first, g); // px 16-23 | 24-31
        let ta_lo = _mm256_unpacklo_epi8(third, ff);
        let ta_hi = _mm256_unpackhi_epi8(third, ff);
        let p0 = _mm256_unpacklo_epi16(fg_lo, ta_lo); // 0-3 | 8-11
        let p1 = _mm256_unpackhi_epi16(fg_lo, ta_lo); // 4-7 | 12-15
        let p2 = _mm256_unpacklo_epi16(fg_hi, ta_hi); // 16-19 | 24-27
        let p3 = _mm256_unpackhi_epi16(fg_hi, ta_hi); // 20-23 | 28-31
        _mm256_storeu_si256(o, _mm256_permute2x128_si256(p0, p1, 0x20));
        _mm256_storeu_si256(o.add(1), _mm256_permute2x128_si256(p0, p1, 0x31));
        _mm256_storeu_si256(o.add(2), _mm256_permute2x128_si256(p2, p3, 0x20));
        _mm256_storeu_si256(o.add(3), _mm256_permute2x128_si256(p2, p3, 0x31));
    }

    /// The whole image, B first in each pixel with `BGR` (a constant, so the loop has no
    /// branch on the order).
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn rows<const BGR: bool>(src: &Image, dst: &mut ImageMut, factors: &YuvToRgb) {
        let (w, h) = (dst.width, dst.height);
        let k = &vectors(Factors::of(factors));
        let nv12 = src.format == F::Nv12;
        let cw = w.div_ceil(2);
        let blocks = w / 32;
        let mask = _mm256_set1_epi16(0x00ff);
        // Row pairs share their chroma: its terms are computed once for both rows.
        for cy in 0..h.div_ceil(2) {
            let pair = if 2 * cy + 1 < h { 2 } else { 1 };
            // Each block reads 32 Y bytes per row and 16 U and V (32 UV) bytes and writes 128
            // bytes per row, inside the rows (blocks * 32 <= w): the slicing checks it.
            let y0 = &src.planes[0][2 * cy * src.strides[0]..][..w];
            let y1 = &src.planes[0][(2 * cy + pair - 1) * src.strides[0]..][..w];
            let (ur, vr): (&[u8], &[u8]) = if nv12 {
                (&src.planes[1][cy * src.strides[1]..][..2 * cw], &[])
            } else {
                (&src.planes[1][cy * src.strides[1]..][..cw], &src.planes[2][cy * src.strides[2]..][..cw])
            };
            // Both output rows from one pointer (two &mut reborrows would invalidate the first),
            // after checking that the second row ends inside the plane.
            let last = (2 * cy + pair - 1) * dst.strides[0];
            assert!(dst.planes[0].len() >= last + 4 * w && dst.strides[0] >= 4 * w);
            let base = dst.planes[0].as_mut_ptr();
            let (o0, o1) = (base.add(2 * cy * dst.strides[0]), base.add(last));
            // The rows were sliced to their lengths above (blocks * 32 <= w), so the loop
            // indexes them by pointer, without a bounds check per load.
            let (y0, y1, ur, vr) = (y0.as_ptr(), y1.as_ptr(), ur.as_ptr(), vr.as_ptr());
            for b in 0..blocks {
                let (u, v) = if nv12 {
                    let uv = _mm256_loadu_si256(ur.add(32 * b) as *const __m256i);
                    (_mm256_and_si256(uv, mask), _mm256_srli_epi16(uv, 8))
                } else {
                    (
                        _mm256_cvtepu8_epi16(_mm_loadu_si128(ur.add(16 * b) as *const __m128i)),
                        _mm256_cvtepu8_epi16(_mm_loadu_si128(vr.add(16 * b) as *const __m128i)),
                    )
                };
                let [rt, gt, bt] = terms(k, u, v);
                let (rt, gt, bt) = (doubled(rt), doubled(gt), doubled(bt));
                emit::<BGR>(k, y0.add(32 * b) as *const __m128i, o0.add(128 * b) as *mut __m256i, rt, gt, bt);
                if pair == 2 {
                    emit::<BGR>(k, y1.add(32 * b) as *const __m128i, o1.add(128 * b) as *mut __m256i, rt, gt, bt);
                }
            }
            rest(src, dst, blocks * 32, 2 * cy, pair, factors);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::testutil::{OwnedImage, ENCODINGS};

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn within_one_of_the_reference_for_every_yuv_on_a_grid() {
        // Every (Y, U, V) with Y, U, V on a step-3 grid over 0..=255, one pixel each: 86^3.
        let vals: Vec<u8> = (0..=255u8).step_by(3).collect();
        let n = vals.len();
        // One row per (U, V) pair; each row holds every Y twice (a chroma sample covers two).
        let (w, h) = (2 * n, 2 * n * n);
        let mut src = OwnedImage::new(F::I420, w, h, 3, 0);
        src.fill_with(|p, x, y, _| match p {
            0 => vals[(x / 2) % n],
            1 => vals[(y / n) % n],
            _ => vals[y % n],
        });
        // Every matrix and range: the same instructions with other factors.
        for (format, enc) in ENCODINGS.iter().enumerate().map(|(i, e)| ([F::Bgra, F::Rgbx][i % 2], *e)) {
            let mut fast = OwnedImage::new(format, w, h, 5, 0);
            let mut slow = OwnedImage::new(format, w, h, 0, 0);
            if !convert_with(&src.view(), &mut fast.view_mut(), enc) {
                assert!(!std::arch::is_x86_feature_detected!("avx2"), "no fast path with AVX2");
                return;
            }
            crate::convert::reference::convert_with(&src.view(), &mut slow.view_mut(), enc);
            fast.assert_padding();
            let mut worst = 0;
            for y in 0..h {
                for x in 0..w {
                    for c in 0..4 {
                        worst = worst.max(fast.get(0, x, y, c).abs_diff(slow.get(0, x, y, c)));
                    }
                }
            }
            assert!(worst <= MAX_ERROR, "{format:?} {enc:?}: max error {worst}");
        }
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn odd_sizes_strides_and_nv12() {
        for (w, h) in [(1, 1), (3, 3), (33, 5), (65, 2), (130, 7)] {
            for from in [F::I420, F::Nv12] {
                for to in [F::Rgba, F::Bgrx] {
                    let mut src = OwnedImage::new(from, w, h, 7, 0);
                    let mut s = 7u32;
                    src.fill_with(|_, _, _, _| {
                        s = s.wrapping_mul(1_103_515_245).wrapping_add(12345);
                        (s >> 16) as u8
                    });
                    let mut fast = OwnedImage::new(to, w, h, 9, 0);
                    let mut slow = OwnedImage::new(to, w, h, 0, 0);
                    if !convert(&src.view(), &mut fast.view_mut()) {
                        assert!(!std::arch::is_x86_feature_detected!("avx2"), "no fast path with AVX2");
                        return;
                    }
                    crate::convert::reference::convert(&src.view(), &mut slow.view_mut());
                    fast.assert_padding();
                    for y in 0..h {
                        for x in 0..w {
                            for c in 0..4 {
                                let (a, b) = (fast.get(0, x, y, c), slow.get(0, x, y, c));
                                assert!(
                                    a.abs_diff(b) <= MAX_ERROR,
                                    "{from:?}->{to:?} {w}x{h} ({x},{y}).{c}: {a} vs {b}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
