//! Packed camera formats, exact: YUYV/UYVY to I420 on libmst's own AVX2 kernel (libyuv's
//! where AVX2 is missing), 24-bit RGB to 32-bit on libyuv's. Each function returns false when
//! it has no fast path for its arguments, and the caller runs the reference kernel
//! ([`super::reference`]) instead.
//!
//! Why not libyuv's YUY2ToI420 on AVX2 machines: it reads each row pair twice (once for the
//! luma of each row, once for the chroma of both), and so only tied swscale's (0.30-0.45 ms
//! each at 1080p, either ahead by turns); the kernel here reads each source byte once, and
//! its luma, U and V stores come from the same loads.

use crate::convert::libyuv::{dims, dst_plane, plane};
use crate::convert::ImageMut;
use crate::frame::format::VideoPixelFormat as F;
use yuv_sys as y;

/// Packed 4:2:2 (`src`, rows `stride` apart) to I420. Same contract as the reference.
pub fn packed422_to_i420(src: &[u8], stride: usize, order: super::Packed422, dst: &mut ImageMut) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        let fits = dst.format == F::I420
            && dst.width > 0
            && dst.height > 0
            && plane(src, stride, super::Packed422::row_bytes(dst.width), dst.height).is_some()
            && (0..3).all(|i| dst_plane(dst, i).is_some());
        if !fits {
            return false;
        }
        // SAFETY: the CPU has AVX2; every plane was checked to hold its rows at its stride.
        unsafe { avx2::packed422_to_i420(src, stride, order, dst) };
        return true;
    }
    by_libyuv(src, stride, order, dst)
}

/// [`packed422_to_i420`] on libyuv's YUY2ToI420 / UYVYToI420 (machines without AVX2).
fn by_libyuv(src: &[u8], stride: usize, order: super::Packed422, dst: &mut ImageMut) -> bool {
    if dst.format != F::I420 || dst.width == 0 || dst.height == 0 {
        return false;
    }
    let Some((w, h)) = dims(dst.width, dst.height) else { return false };
    let Some(s) = plane(src, stride, super::Packed422::row_bytes(dst.width), dst.height) else { return false };
    let (Some(py), Some(pu), Some(pv)) = (dst_plane(dst, 0), dst_plane(dst, 1), dst_plane(dst, 2)) else {
        return false;
    };
    let f = match order {
        super::Packed422::Yuyv => y::rs_YUY2ToI420,
        super::Packed422::Uyvy => y::rs_UYVYToI420,
    };
    // SAFETY: every plane was checked to hold its rows at its stride.
    unsafe { f(s.0, s.1, py.0, py.1, pu.0, pu.1, pv.0, pv.1, w, h) == 0 }
}

/// 24-bit pixels to 32-bit with 255 in the fourth byte, byte order kept (RGB24ToARGB reads
/// B, G, R and writes B, G, R, A: the same three bytes in the same order).
pub fn rgb24_to_rgbx(src: &[u8], stride: usize, dst: &mut ImageMut) -> bool {
    if !matches!(dst.format, F::Rgbx | F::Bgrx) || dst.width == 0 || dst.height == 0 {
        return false;
    }
    let Some((w, h)) = dims(dst.width, dst.height) else { return false };
    let Some(s) = plane(src, stride, 3 * dst.width, dst.height) else { return false };
    let Some(d) = dst_plane(dst, 0) else { return false };
    // SAFETY: both planes were checked.
    unsafe { y::rs_RGB24ToARGB(s.0, s.1, d.0, d.1, w, h) == 0 }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::super::Packed422;
    use crate::convert::ImageMut;

    /// [`super::packed422_to_i420`] (its checks made): 32 pixels of a row pair a step, each
    /// macropixel loaded once; the columns past the last whole step as the reference does
    /// them. A last odd row pairs with itself (its chroma is its own).
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn packed422_to_i420(src: &[u8], stride: usize, order: Packed422, dst: &mut ImageMut) {
        let (w, h) = (dst.width, dst.height);
        let (cw, row_bytes) = (w.div_ceil(2), Packed422::row_bytes(w));
        let (ys, us, vs) = (dst.strides[0], dst.strides[1], dst.strides[2]);
        let [yp, up, vp, _] = &mut dst.planes;
        let (yp, up, vp) = (yp.as_mut_ptr(), up.as_mut_ptr(), vp.as_mut_ptr());
        let luma_odd = order == Packed422::Uyvy;
        let m = _mm256_set1_epi16(0x00ff);
        // Luma (the even bytes for YUYV, the odd ones for UYVY) and chroma (the others) of 16
        // pixels, as 16 u16 lanes each.
        let split = |v: __m256i| {
            if luma_odd {
                (_mm256_srli_epi16(v, 8), _mm256_and_si256(v, m))
            } else {
                (_mm256_and_si256(v, m), _mm256_srli_epi16(v, 8))
            }
        };
        let blocks = w / 32;
        for cy in 0..h.div_ceil(2) {
            let pair = if 2 * cy + 1 < h { 2 } else { 1 };
            // The source rows and each destination row, sliced to their lengths (the caller
            // checked the planes hold them); the loop then goes by pointer.
            let a = &src[2 * cy * stride..][..row_bytes];
            let b = &src[(2 * cy + pair - 1) * stride..][..row_bytes];
            let (a, b) = (a.as_ptr(), b.as_ptr());
            let (y0, y1) = (yp.add(2 * cy * ys), yp.add((2 * cy + pair - 1) * ys));
            let (u, v) = (up.add(cy * us), vp.add(cy * vs));
            for k in 0..blocks {
                let (a0, a1) =
                    (_mm256_loadu_si256(a.add(64 * k).cast()), _mm256_loadu_si256(a.add(64 * k + 32).cast()));
                let (b0, b1) =
                    (_mm256_loadu_si256(b.add(64 * k).cast()), _mm256_loadu_si256(b.add(64 * k + 32).cast()));
                let ((ya0, _), (ya1, _)) = (split(a0), split(a1));
                // packus interleaves the lanes: [0-7 16-23 | 8-15 24-31]; the permute restores them.
                let ya = _mm256_permute4x64_epi64(_mm256_packus_epi16(ya0, ya1), 0xD8);
                _mm256_storeu_si256(y0.add(32 * k).cast(), ya);
                if pair == 2 {
                    let ((yb0, _), (yb1, _)) = (split(b0), split(b1));
                    let yb = _mm256_permute4x64_epi64(_mm256_packus_epi16(yb0, yb1), 0xD8);
                    _mm256_storeu_si256(y1.add(32 * k).cast(), yb);
                }
                // Chroma: the two rows averaged rounding half up (pavgb), U V pairs in order.
                let (_, c0) = split(_mm256_avg_epu8(a0, b0));
                let (_, c1) = split(_mm256_avg_epu8(a1, b1));
                let uv = _mm256_permute4x64_epi64(_mm256_packus_epi16(c0, c1), 0xD8);
                let (cu, cv) = (_mm256_and_si256(uv, m), _mm256_srli_epi16(uv, 8));
                // [U 0-7, V 0-7 | U 8-15, V 8-15] -> [U 0-15 | V 0-15].
                let out = _mm256_permute4x64_epi64(_mm256_packus_epi16(cu, cv), 0xD8);
                _mm_storeu_si128(u.add(16 * k).cast(), _mm256_castsi256_si128(out));
                _mm_storeu_si128(v.add(16 * k).cast(), _mm256_extracti128_si256(out, 1));
            }
            let (oy0, ou, oy1, ov) = if luma_odd { (1, 0, 3, 2) } else { (0, 1, 2, 3) };
            for x in 32 * blocks..w {
                let o = (x / 2) * 4 + if x % 2 == 0 { oy0 } else { oy1 };
                *y0.add(x) = *a.add(o);
                if pair == 2 {
                    *y1.add(x) = *b.add(o);
                }
            }
            for cx in 16 * blocks..cw {
                let avg =
                    |off: usize| (u16::from(*a.add(cx * 4 + off)) + u16::from(*b.add(cx * 4 + off))).div_ceil(2) as u8;
                *u.add(cx) = avg(ou);
                *v.add(cx) = avg(ov);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::libyuv::tests::{max_diff, SIZES};
    use crate::convert::reference;
    use crate::convert::testutil::OwnedImage;
    use crate::convert::Packed422;
    use crate::frame::format::VideoPixelFormat as F;

    #[test]
    fn packed_and_rgb24_match_the_reference_exactly() {
        for order in [Packed422::Yuyv, Packed422::Uyvy] {
            for (k, &(w, h)) in SIZES.iter().enumerate() {
                let stride = Packed422::row_bytes(w) + k;
                let src: Vec<u8> = (0..stride * h).map(|i| (i * 37 % 251) as u8).collect();
                let mut fast = OwnedImage::new(F::I420, w, h, 3, 0);
                let mut slow = OwnedImage::new(F::I420, w, h, 0, 0);
                assert!(packed422_to_i420(&src, stride, order, &mut fast.view_mut()));
                reference::packed422_to_i420(&src, stride, order, &mut slow.view_mut());
                fast.assert_padding();
                assert_eq!(max_diff(&fast, &slow), 0, "{order:?} {w}x{h}");
                // The path of machines without AVX2, run here too.
                let mut other = OwnedImage::new(F::I420, w, h, 1, 0);
                assert!(by_libyuv(&src, stride, order, &mut other.view_mut()));
                other.assert_padding();
                assert_eq!(max_diff(&other, &slow), 0, "libyuv {order:?} {w}x{h}");
            }
        }
        for (k, &(w, h)) in SIZES.iter().enumerate() {
            let stride = 3 * w + k;
            let src: Vec<u8> = (0..stride * h).map(|i| (i * 29 % 253) as u8).collect();
            let mut fast = OwnedImage::new(F::Rgbx, w, h, 2, 0);
            let mut slow = OwnedImage::new(F::Rgbx, w, h, 0, 0);
            assert!(rgb24_to_rgbx(&src, stride, &mut fast.view_mut()));
            reference::rgb24_to_rgbx(&src, stride, &mut slow.view_mut());
            fast.assert_padding();
            assert_eq!(max_diff(&fast, &slow), 0, "rgb24 {w}x{h}");
        }
    }
}
