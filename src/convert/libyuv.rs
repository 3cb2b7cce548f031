//! libyuv (the `yuv-sys` crate builds it from source, with its SIMD rows chosen at run time
//! for the CPU): the checks that hand it planes, shared by the fast paths that call it
//! (`packed/fast.rs`, `color/fast.rs`, `scale/fast.rs`). libyuv is used for every operation
//! where it computes what [`super::reference`] defines, within a stated error:
//!
//! | operation | libyuv | max error vs reference |
//! | --- | --- | --- |
//! | YUYV/UYVY → I420 | our own (packed/fast.rs); YUY2ToI420, UYVYToI420 without AVX2 | 0 |
//! | NV12 ↔ I420 | NV12ToI420, I420ToNV12 | 0 |
//! | 24-bit RGB → 32-bit | RGB24ToARGB (byte order kept) | 0 |
//! | RGBA ↔ BGRA | ARGBToABGR | 0 |
//! | I420/NV12 → RGBA/RGBX/BGRA/BGRX, BT.709 | our own (color/yuv2rgb.rs) | 1 |
//! | RGBA/RGBX/BGRA/BGRX → I420/NV12, BT.709 | our own (color/rgb2yuv.rs) | 1 |
//! | scale, box (whole factors down) | ScalePlane, UVScale, ARGBScale (kFilterBox) | [`super::scale::fast::BOX_ERROR`] |
//!
//! Each fast path's tests check every row at odd sizes, odd strides and widths that are not a
//! multiple of any SIMD width.
//!
//! Not taken from libyuv, because it does not compute the same thing: YUV -> RGB with BT.709
//! (libyuv clamps the U -> B coefficient, 2.112, to its 6-bit maximum 2.0: blue is up to 13 off
//! where saturated), and box scaling by uneven factors (libyuv puts each box on whole source
//! samples instead of weighting the partly covered ones: up to ~60 off on noise), and
//! bilinear upscaling (libyuv's sample grid is not centre-aligned as the reference's: up to 58
//! off on noise; tracks never scale up, so only sinks that upscale pay the reference's price).

use std::os::raw::c_int;

use super::{Image, ImageMut};

/// A plane as libyuv takes it, after checking that `data` holds `rows` rows of `row_bytes`.
pub(super) fn plane(data: &[u8], stride: usize, row_bytes: usize, rows: usize) -> Option<(*const u8, c_int)> {
    (super::plane_holds(data.len(), stride, row_bytes, rows) && stride <= c_int::MAX as usize)
        .then_some((data.as_ptr(), stride as c_int))
}

pub(super) fn plane_mut(data: &mut [u8], stride: usize, row_bytes: usize, rows: usize) -> Option<(*mut u8, c_int)> {
    (super::plane_holds(data.len(), stride, row_bytes, rows) && stride <= c_int::MAX as usize)
        .then_some((data.as_mut_ptr(), stride as c_int))
}

/// Plane `i` of an image, checked against its format's geometry.
pub(super) fn src_plane(img: &Image, i: usize) -> Option<(*const u8, c_int)> {
    let info = img.format.planes().get(i)?;
    plane(img.planes[i], img.strides[i], info.row_bytes(img.width), info.samples(img.width, img.height).1)
}

pub(super) fn dst_plane(img: &mut ImageMut, i: usize) -> Option<(*mut u8, c_int)> {
    let info = *img.format.planes().get(i)?;
    let (w, h) = (img.width, img.height);
    plane_mut(img.planes[i], img.strides[i], info.row_bytes(w), info.samples(w, h).1)
}

pub(super) fn dims(w: usize, h: usize) -> Option<(c_int, c_int)> {
    Some((c_int::try_from(w).ok()?, c_int::try_from(h).ok()?))
}

/// Test helpers shared by the fast paths' tests.
#[cfg(test)]
pub(super) mod tests {
    use crate::convert::testutil::OwnedImage;

    /// A deterministic pseudo-random fill (xorshift), so every sample differs from its neighbours.
    pub(in crate::convert) fn noise(img: &mut OwnedImage, seed: u32) {
        let mut s = seed.wrapping_mul(2_654_435_761) | 1;
        let yuv = !img.format.is_rgb();
        img.fill_with(|p, _, _, _| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            let v = (s >> 8) as u8;
            // Keep YUV in its legal range, as cameras produce it (libyuv clamps differently
            // outside it).
            if yuv && p < 3 {
                16 + (v as u32 * 219 / 255) as u8
            } else {
                v
            }
        });
    }

    pub(in crate::convert) fn max_diff(a: &OwnedImage, b: &OwnedImage) -> u8 {
        a.diff(b).0
    }

    /// Odd and even sizes, including widths past one and two AVX2 vectors plus a remainder.
    pub(in crate::convert) const SIZES: [(usize, usize); 7] =
        [(1, 1), (3, 5), (17, 9), (33, 7), (64, 4), (71, 13), (130, 31)];
}
