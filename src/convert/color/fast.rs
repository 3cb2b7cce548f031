//! Format conversion at equal size on the fast kernels: libmst's own YUV <-> RGB
//! ([`super::yuv2rgb`], [`super::rgb2yuv`], within 1 of the reference) and libyuv's where it has
//! the pair exactly. Each function returns false when it has no fast path for its arguments,
//! and the caller runs the reference kernel ([`super::reference`]) instead.

use std::os::raw::c_int;

use crate::convert::libyuv::{dims, dst_plane, src_plane};
use crate::convert::{Image, ImageMut};
use crate::frame::format::VideoPixelFormat as F;
use yuv_sys as y;

/// Format conversion at equal size, where libyuv has it exactly, or our own YUV -> RGB
/// ([`super::yuv2rgb`], within 1), YUV read as BT.709 limited range.
pub fn convert(src: &Image, dst: &mut ImageMut) -> bool {
    convert_with(src, dst, super::YuvEncoding::BT709_LIMITED)
}

/// [`convert`] with a YUV source read as `yuv` ([`crate::convert::convert_with`]).
pub fn convert_with(src: &Image, dst: &mut ImageMut, yuv: super::YuvEncoding) -> bool {
    if super::yuv2rgb::convert_with(src, dst, yuv) || super::rgb2yuv::convert(src, dst) {
        return true;
    }
    if src.width != dst.width || src.height != dst.height || dst.width == 0 || dst.height == 0 {
        return false;
    }
    let Some((w, h)) = dims(dst.width, dst.height) else { return false };
    // Fixed arrays: this runs per frame and must not allocate.
    let mut s = [(std::ptr::null::<u8>(), 0 as c_int); 4];
    for (i, p) in s.iter_mut().enumerate().take(src.format.planes().len()) {
        let Some(v) = src_plane(src, i) else { return false };
        *p = v;
    }
    let mut d = [(std::ptr::null_mut::<u8>(), 0 as c_int); 4];
    for (i, p) in d.iter_mut().enumerate().take(dst.format.planes().len()) {
        let Some(v) = dst_plane(dst, i) else { return false };
        *p = v;
    }
    // SAFETY: every plane of both images was checked to hold its rows at its stride, and each
    // call gets the planes its formats have. The constants are libyuv's statics.
    let r = unsafe {
        match (src.format, dst.format) {
            (F::Nv12, F::I420) => {
                y::rs_NV12ToI420(s[0].0, s[0].1, s[1].0, s[1].1, d[0].0, d[0].1, d[1].0, d[1].1, d[2].0, d[2].1, w, h)
            }
            (F::I420, F::Nv12) => {
                y::rs_I420ToNV12(s[0].0, s[0].1, s[1].0, s[1].1, s[2].0, s[2].1, d[0].0, d[0].1, d[1].0, d[1].1, w, h)
            }
            // A swap of bytes 0 and 2 that copies byte 3: alpha to alpha. (An X destination
            // must get 255 whatever the source had: the reference does those.)
            (F::Bgra, F::Rgba) | (F::Rgba, F::Bgra) => y::rs_ARGBToABGR(s[0].0, s[0].1, d[0].0, d[0].1, w, h),
            _ => return false,
        }
    };
    r == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::libyuv::tests::{max_diff, noise, SIZES};
    use crate::convert::reference;
    use crate::convert::testutil::OwnedImage;
    use crate::frame::format::VideoPixelFormat as F;

    #[test]
    fn conversions_match_the_reference() {
        let pairs = [(F::Nv12, F::I420, 0), (F::I420, F::Nv12, 0), (F::Bgra, F::Rgba, 0), (F::Rgba, F::Bgra, 0)];
        for (from, to, bound) in pairs {
            for (k, &(w, h)) in SIZES.iter().enumerate() {
                let mut src = OwnedImage::new(from, w, h, 3 + k, 0);
                noise(&mut src, k as u32 + 1);
                let mut fast = OwnedImage::new(to, w, h, 5, 0);
                let mut slow = OwnedImage::new(to, w, h, 1, 0);
                assert!(convert(&src.view(), &mut fast.view_mut()), "{from:?} -> {to:?} has a fast path");
                reference::convert(&src.view(), &mut slow.view_mut());
                fast.assert_padding();
                let d = max_diff(&fast, &slow);
                assert!(d <= bound, "{from:?} -> {to:?} {w}x{h}: max error {d} > {bound}");
            }
        }
        // Alpha from an X source has no fast path (X need not be 255).
        let src = OwnedImage::new(F::Bgrx, 4, 4, 0, 7);
        let mut dst = OwnedImage::new(F::Rgba, 4, 4, 0, 0);
        assert!(!convert(&src.view(), &mut dst.view_mut()));
    }
}
