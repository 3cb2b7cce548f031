//! Packed camera formats on libyuv's kernels (exact): YUYV/UYVY to I420, 24-bit RGB to 32-bit.
//! Each function returns false when it has no fast path for its arguments, and the caller runs
//! the reference kernel ([`super::reference`]) instead.

use crate::convert::libyuv::{dims, dst_plane, plane};
use crate::convert::ImageMut;
use crate::frame::format::VideoPixelFormat as F;
use yuv_sys as y;

/// Packed 4:2:2 (`src`, rows `stride` apart) to I420. Same contract as the reference.
pub fn packed422_to_i420(src: &[u8], stride: usize, order: super::Packed422, dst: &mut ImageMut) -> bool {
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
