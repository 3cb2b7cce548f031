//! Packed camera formats into WebCodecs ones: 4:2:2 YUV (V4L2's YUYV and UYVY) to I420, and
//! 24-bit RGB (V4L2's RGB3 and BGR3) to 32-bit RGBX/BGRX.
//!
//! Each 4-byte macropixel holds two luma samples and one U,V pair shared by both pixels. Luma is
//! copied; chroma is already subsampled horizontally and is box-averaged vertically over each
//! pair of rows (rounding half up; a last odd row stands alone), as the RGB -> YUV path does.

use crate::convert::{row, row_mut, ImageMut};
use crate::frame::format::VideoPixelFormat;

/// The byte order of a packed 4:2:2 macropixel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Packed422 {
    /// Y0 U Y1 V (V4L2_PIX_FMT_YUYV, "YUYV").
    Yuyv,
    /// U Y0 V Y1 (V4L2_PIX_FMT_UYVY, "UYVY").
    Uyvy,
}

impl Packed422 {
    /// Offsets of (Y0, U, Y1, V) in a macropixel.
    fn offsets(self) -> (usize, usize, usize, usize) {
        match self {
            Packed422::Yuyv => (0, 1, 2, 3),
            Packed422::Uyvy => (1, 0, 3, 2),
        }
    }

    /// Bytes in one row of `width` pixels: `ceil(width / 2)` macropixels.
    pub fn row_bytes(width: usize) -> usize {
        width.div_ceil(2) * 4
    }
}

/// Converts a packed 4:2:2 image (`src`, rows `src_stride` bytes apart, `dst.width` x
/// `dst.height` pixels) into the I420 image `dst`. Panics when `dst` is not I420 or `src` is
/// too short for the geometry.
pub fn packed422_to_i420(src: &[u8], src_stride: usize, order: Packed422, dst: &mut ImageMut) {
    assert_eq!(dst.format, VideoPixelFormat::I420, "packed422_to_i420 writes I420");
    let (w, h) = (dst.width, dst.height);
    if w == 0 || h == 0 {
        crate::stats::count_media_bytes(0);
        return;
    }
    let (oy0, ou, oy1, ov) = order.offsets();
    let src_row = Packed422::row_bytes(w);
    let cw = w.div_ceil(2);
    let [yp, up, vp, _] = &mut dst.planes;
    let (ys, us, vs) = (dst.strides[0], dst.strides[1], dst.strides[2]);
    for y in 0..h {
        let s = row(src, src_stride, y, src_row);
        let d = row_mut(yp, ys, y, w);
        for (x, out) in d.iter_mut().enumerate() {
            let m = &s[(x / 2) * 4..(x / 2) * 4 + 4];
            *out = if x % 2 == 0 { m[oy0] } else { m[oy1] };
        }
    }
    for cy in 0..h.div_ceil(2) {
        let a = row(src, src_stride, 2 * cy, src_row);
        let b = if 2 * cy + 1 < h { row(src, src_stride, 2 * cy + 1, src_row) } else { a };
        let du = row_mut(up, us, cy, cw);
        for (cx, out) in du.iter_mut().enumerate() {
            *out = (a[cx * 4 + ou] as u16 + b[cx * 4 + ou] as u16).div_ceil(2) as u8;
        }
        let dv = row_mut(vp, vs, cy, cw);
        for (cx, out) in dv.iter_mut().enumerate() {
            *out = (a[cx * 4 + ov] as u16 + b[cx * 4 + ov] as u16).div_ceil(2) as u8;
        }
    }
    crate::stats::count_media_bytes(crate::convert::image_bytes(VideoPixelFormat::I420, w, h));
}

/// Expands 24-bit pixels (`src`, rows `src_stride` bytes apart) into the 32-bit RGBX or BGRX
/// image `dst`: the three bytes keep their order and the fourth is 255, so V4L2's RGB3 (R, G, B)
/// becomes RGBX and BGR3 (B, G, R) becomes BGRX. Panics when `dst` is not RGBX/BGRX or `src` is
/// too short.
pub fn rgb24_to_rgbx(src: &[u8], src_stride: usize, dst: &mut ImageMut) {
    assert!(matches!(dst.format, VideoPixelFormat::Rgbx | VideoPixelFormat::Bgrx), "rgb24_to_rgbx writes RGBX or BGRX");
    let (w, h) = (dst.width, dst.height);
    let ds = dst.strides[0];
    for y in 0..h {
        let s = row(src, src_stride, y, 3 * w);
        let d = row_mut(dst.planes[0], ds, y, 4 * w);
        for (o, i) in d.chunks_exact_mut(4).zip(s.chunks_exact(3)) {
            o.copy_from_slice(&[i[0], i[1], i[2], 255]);
        }
    }
    crate::stats::count_media_bytes(4 * w * h);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::testutil::OwnedImage;

    /// Pixel (x, y)'s Y, U, V in the test source (U, V per macropixel and row).
    fn yuv(x: usize, y: usize) -> (u8, u8, u8) {
        ((x * 7 + y * 13) as u8, (x / 2 * 11 + y * 29 + 3) as u8, (x / 2 * 17 + y * 5 + 100) as u8)
    }

    fn source(order: Packed422, w: usize, h: usize, stride: usize) -> Vec<u8> {
        let (oy0, ou, oy1, ov) = order.offsets();
        let mut s = vec![0xEEu8; stride * h];
        for y in 0..h {
            for m in 0..w.div_ceil(2) {
                let at = y * stride + m * 4;
                let (y0, u, v) = yuv(2 * m, y);
                // An odd width's last macropixel has a second pixel that is not in the image.
                let y1 = if 2 * m + 1 < w { yuv(2 * m + 1, y).0 } else { 0x55 };
                s[at + oy0] = y0;
                s[at + oy1] = y1;
                s[at + ou] = u;
                s[at + ov] = v;
            }
        }
        s
    }

    #[test]
    fn yuyv_and_uyvy_to_i420_at_odd_and_even_sizes() {
        for order in [Packed422::Yuyv, Packed422::Uyvy] {
            for (w, h) in [(1, 1), (3, 3), (5, 2), (6, 4), (7, 5), (2, 1)] {
                let stride = Packed422::row_bytes(w) + 8;
                let src = source(order, w, h, stride);
                let mut dst = OwnedImage::new(VideoPixelFormat::I420, w, h, 3, 0);
                packed422_to_i420(&src, stride, order, &mut dst.view_mut());
                dst.assert_padding();
                for y in 0..h {
                    for x in 0..w {
                        assert_eq!(dst.get(0, x, y, 0), yuv(x, y).0, "{order:?} {w}x{h} Y({x},{y})");
                    }
                }
                for cy in 0..h.div_ceil(2) {
                    for cx in 0..w.div_ceil(2) {
                        let (y1, y2) = (2 * cy, (2 * cy + 1).min(h - 1));
                        let avg = |f: fn((u8, u8, u8)) -> u8| {
                            (f(yuv(2 * cx, y1)) as u16 + f(yuv(2 * cx, y2)) as u16).div_ceil(2) as u8
                        };
                        assert_eq!(dst.get(1, cx, cy, 0), avg(|p| p.1), "{order:?} {w}x{h} U({cx},{cy})");
                        assert_eq!(dst.get(2, cx, cy, 0), avg(|p| p.2), "{order:?} {w}x{h} V({cx},{cy})");
                    }
                }
            }
        }
    }

    #[test]
    fn rgb24_expands_to_32_bits_keeping_the_order() {
        let (w, h, stride) = (3, 2, 11);
        let src: Vec<u8> = (0..stride * h).map(|i| i as u8).collect();
        for format in [VideoPixelFormat::Rgbx, VideoPixelFormat::Bgrx] {
            let mut dst = OwnedImage::new(format, w, h, 5, 0);
            rgb24_to_rgbx(&src, stride, &mut dst.view_mut());
            dst.assert_padding();
            for y in 0..h {
                for x in 0..w {
                    for c in 0..3 {
                        assert_eq!(dst.get(0, x, y, c), src[y * stride + 3 * x + c], "({x},{y}) byte {c}");
                    }
                    assert_eq!(dst.get(0, x, y, 3), 255);
                }
            }
        }
    }
}
