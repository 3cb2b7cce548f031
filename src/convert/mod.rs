//! Pixel-format conversion, scaling and audio sample conversion.
//!
//! Arranged by operation, each with its plain reference implementation and its fast paths side
//! by side: `scale/` (`reference.rs`; `fast.rs` over `boxdown.rs`, `resample.rs` and
//! libyuv), `color/` (`reference.rs`; `fast.rs` over `yuv2rgb.rs`, `rgb2yuv.rs` and libyuv),
//! `packed/` (camera formats: `reference.rs`, `fast.rs`), [`jpeg`] (MJPEG: `mod.rs`,
//! `scan.rs`, `raw.c`; its reference is one libjpeg decode), and `audio.rs`; `libyuv.rs` holds the plane checks every
//! libyuv call shares, `parallel.rs` the helper thread.
//!
//! The plain, safe-Rust reference implementation ([`reference`](mod@reference)) works row by row on
//! caller-provided buffers and never allocates; it defines what the fast kernels compute, and
//! the tests hold them to it. The functions here pick the fast kernel when there is one.
//!
//! Image layout: plane `i` of an [`Image`] starts at the first sample of the image's top-left
//! pixel and row `y` of that plane starts at byte `y * strides[i]`. Only the first
//! `PlaneInfo::row_bytes(width)` bytes of each row are read or written, so a destination's
//! stride padding is left untouched and the last row does not need to be padded.

mod audio;
mod color;
pub mod jpeg;
mod libyuv;
mod packed;
pub mod parallel;
mod scale;

pub use audio::{copy_audio, fill_silence};
pub use color::{rgb2yuv, yuv2rgb, YuvEncoding, YuvMatrix};
pub use packed::Packed422;

/// Every fast path, by the names they had in one module before `convert` was arranged by
/// operation.
pub mod fast {
    pub use super::color::fast::{convert, convert_with};
    pub use super::packed::fast::{packed422_to_i420, rgb24_to_rgbx};
    pub use super::scale::fast::{scale, scale_possible, BOX_ERROR};
}

/// The plain implementations: portable Rust, exact integer arithmetic, written for clarity.
/// They define what the fast kernels compute; tests and `benches/kernels.rs` hold the fast
/// ones to them (with a stated maximum per-sample error).
pub mod reference {
    pub use super::color::reference::{convert, convert_with};
    pub use super::packed::reference::{packed422_to_i420, rgb24_to_rgbx};
    pub use super::scale::reference::scale;
}

/// Scales `src` into `dst` (same format, any sizes >= 1): box (area average) when the
/// destination is no larger in either dimension, bilinear otherwise ([`reference::scale`]),
/// on the fast kernels where they compute the same ([`fast::scale`]: libmst's own area
/// scaler for the common ratios and any-ratio area/bilinear scaler, bit-exact, or libyuv's
/// box within [`fast::BOX_ERROR`] at other whole factors); downscales of sources of
/// [`parallel::MIN_PIXELS`] or more are split over two threads.
pub fn scale(src: &Image, dst: &mut ImageMut) {
    let big = parallel::enabled() && src.width * src.height >= parallel::MIN_PIXELS;
    if (big && scale_split(src, dst)) || fast::scale(src, dst) {
        crate::stats::count_media_bytes(image_bytes(dst.format, dst.width, dst.height));
    } else {
        reference::scale(src, dst);
    }
}

/// A fast downscale split into top and bottom parts on two threads ([`parallel`]): the split
/// falls on a whole period of the vertical ratio (and an even row, for 4:2:0 chroma), so each
/// part is the same area average. False (nothing written) when there is no such split or no
/// fast path.
fn scale_split(src: &Image, dst: &mut ImageMut) -> bool {
    if dst.width > src.width || dst.height > src.height {
        return false;
    }
    let g = gcd(src.height as u64, dst.height as u64) as usize;
    let (p, q) = (src.height / g, dst.height / g);
    let unit = 2 * q;
    let mid = dst.height / 2 / unit * unit;
    if mid == 0 {
        return false;
    }
    let (src_top, src_bottom) = split(src, mid * p / q);
    let (mut dst_top, mut dst_bottom) = split_mut(dst, mid);
    // Check both parts have a fast path before writing anything.
    if !fast::scale_possible(&src_top, &dst_top) || !fast::scale_possible(&src_bottom, &dst_bottom) {
        return false;
    }
    let (mut a, mut b) = (false, false);
    parallel::join(|| a = fast::scale(&src_top, &mut dst_top), || b = fast::scale(&src_bottom, &mut dst_bottom));
    // (Both true unless a plane is shorter than its geometry: then the caller redoes it all.)
    a && b
}

/// Greatest common divisor (for reducing ratios).
pub(crate) fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Columns `x..x + w` of rows `y..y + h` of `img` as an image of its own (`x` and `y` even, so
/// subsampled planes start on a whole sample; the region inside `img`).
pub(crate) fn crop<'a>(img: &Image<'a>, x: usize, y: usize, w: usize, h: usize) -> Image<'a> {
    debug_assert!(x.is_multiple_of(2) && y.is_multiple_of(2) && x + w <= img.width && y + h <= img.height);
    let mut out = Image { width: w, height: h, ..*img };
    for (i, info) in img.format.planes().iter().enumerate() {
        let at = (y / info.sub_y * img.strides[i] + x / info.sub_x * info.bytes_per_sample).min(img.planes[i].len());
        out.planes[i] = &img.planes[i][at..];
    }
    out
}

/// [`crop`] for a writable image.
pub(crate) fn crop_mut<'a>(img: &'a mut ImageMut, x: usize, y: usize, w: usize, h: usize) -> ImageMut<'a> {
    debug_assert!(x.is_multiple_of(2) && y.is_multiple_of(2) && x + w <= img.width && y + h <= img.height);
    let (format, strides) = (img.format, img.strides);
    let infos = format.planes();
    let mut planes: [&mut [u8]; 4] = Default::default();
    for (i, plane) in img.planes.iter_mut().enumerate() {
        let at = infos
            .get(i)
            .map_or(0, |info| (y / info.sub_y * strides[i] + x / info.sub_x * info.bytes_per_sample).min(plane.len()));
        planes[i] = &mut plane[at..];
    }
    ImageMut { format, width: w, height: h, planes, strides }
}

/// Columns `x..` of rows `y..y + h` of `src` into `dst` by `kernel` (`x` and `y` even): the
/// SIMD kernels hand the columns and rows they leave over to the reference's own kernel.
pub(crate) fn tail(
    src: &Image,
    dst: &mut ImageMut,
    x: usize,
    y: usize,
    h: usize,
    kernel: impl FnOnce(&Image, &mut ImageMut),
) {
    let w = dst.width - x;
    if w > 0 && h > 0 {
        kernel(&crop(src, x, y, w, h), &mut crop_mut(dst, x, y, w, h));
    }
}

/// `img` as rows `0..rows` and `rows..` (`rows` even: 4:2:0 chroma splits at `rows / 2`).
fn split<'a>(img: &Image<'a>, rows: usize) -> (Image<'a>, Image<'a>) {
    (crop(img, 0, 0, img.width, rows), crop(img, 0, rows, img.width, img.height - rows))
}

/// [`split`] for a writable image: the top part's planes end where the bottom's begin.
fn split_mut<'a>(img: &'a mut ImageMut, rows: usize) -> (ImageMut<'a>, ImageMut<'a>) {
    debug_assert!(rows.is_multiple_of(2) && rows <= img.height);
    let (format, width, height, strides) = (img.format, img.width, img.height, img.strides);
    let mut tops: [&mut [u8]; 4] = Default::default();
    let mut bottoms: [&mut [u8]; 4] = Default::default();
    let infos = format.planes();
    for (i, plane) in img.planes.iter_mut().enumerate() {
        let at = infos.get(i).map_or(0, |info| (rows / info.sub_y * strides[i]).min(plane.len()));
        let (a, b) = plane.split_at_mut(at);
        tops[i] = a;
        bottoms[i] = b;
    }
    (
        ImageMut { format, width, height: rows, planes: tops, strides },
        ImageMut { format, width, height: height - rows, planes: bottoms, strides },
    )
}

/// Converts `src` into `dst` (same size, any of the nine formats to any other;
/// [`reference::convert`]), YUV read as BT.709 limited range ([`convert_with`]).
pub fn convert(src: &Image, dst: &mut ImageMut) {
    convert_with(src, dst, YuvEncoding::BT709_LIMITED)
}

/// Converts `src` into `dst` (same size, any of the nine formats to any other;
/// [`reference::convert_with`]), a YUV source read as `yuv` (RGB -> YUV always writes BT.709
/// limited range), on libyuv's kernels where it has the pair exactly and libmst's own for
/// YUV <-> RGB; frames of [`parallel::MIN_PIXELS`] or more are split over two threads.
pub fn convert_with(src: &Image, dst: &mut ImageMut, yuv: YuvEncoding) {
    let (w, h) = (dst.width, dst.height);
    if parallel::enabled() && w * h >= parallel::MIN_PIXELS && src.width == w && src.height == h && h >= 4 {
        // Conversions are row-local (4:2:0 chroma rows pair up at even rows): each part is
        // the same conversion.
        let mid = h / 2 / 2 * 2;
        let (src_top, src_bottom) = split(src, mid);
        let (mut dst_top, mut dst_bottom) = split_mut(dst, mid);
        // Each part counts its bytes (the reference counts its own).
        let one = |s: &Image, d: &mut ImageMut| {
            if fast::convert_with(s, d, yuv) {
                crate::stats::count_media_bytes(image_bytes(d.format, d.width, d.height));
            } else {
                reference::convert_with(s, d, yuv);
            }
        };
        parallel::join(|| one(&src_top, &mut dst_top), || one(&src_bottom, &mut dst_bottom));
    } else if fast::convert_with(src, dst, yuv) {
        crate::stats::count_media_bytes(image_bytes(dst.format, dst.width, dst.height));
    } else {
        reference::convert_with(src, dst, yuv);
    }
}

/// Packed 4:2:2 to I420 ([`reference::packed422_to_i420`]), on libyuv's kernels (exact).
pub fn packed422_to_i420(src: &[u8], src_stride: usize, order: Packed422, dst: &mut ImageMut) {
    if fast::packed422_to_i420(src, src_stride, order, dst) {
        crate::stats::count_media_bytes(image_bytes(dst.format, dst.width, dst.height));
    } else {
        reference::packed422_to_i420(src, src_stride, order, dst);
    }
}

/// 24-bit RGB to RGBX/BGRX, byte order kept ([`reference::rgb24_to_rgbx`]), on libyuv (exact).
pub fn rgb24_to_rgbx(src: &[u8], src_stride: usize, dst: &mut ImageMut) {
    if fast::rgb24_to_rgbx(src, src_stride, dst) {
        crate::stats::count_media_bytes(image_bytes(dst.format, dst.width, dst.height));
    } else {
        reference::rgb24_to_rgbx(src, src_stride, dst);
    }
}

use crate::frame::format::{PlaneInfo, VideoPixelFormat};

/// Read-only view of an image: `planes[i]` starts at plane i's first sample of the image's
/// top-left pixel, `strides[i]` is that plane's row pitch in bytes. Unused planes are empty slices.
pub struct Image<'a> {
    pub format: VideoPixelFormat,
    pub width: usize,
    pub height: usize,
    pub planes: [&'a [u8]; 4],
    pub strides: [usize; 4],
}

/// The same, writable.
pub struct ImageMut<'a> {
    pub format: VideoPixelFormat,
    pub width: usize,
    pub height: usize,
    pub planes: [&'a mut [u8]; 4],
    pub strides: [usize; 4],
}

/// Fills dst with opaque black (Y=16, U=V=128, A=255 / R=G=B=0, A or X = 255): limited
/// range's black ([`fill_black_in`]).
pub fn fill_black(dst: &mut ImageMut) {
    fill_black_in(dst, false)
}

/// Fills dst with opaque black in YUV of `full_range` or not (Y = 0 or 16, U = V = 128, A =
/// 255) or in RGB (R = G = B = 0, A or X = 255).
pub fn fill_black_in(dst: &mut ImageMut, full_range: bool) {
    let (width, height) = (dst.width, dst.height);
    for (i, info) in dst.format.planes().iter().enumerate() {
        let rows = info.samples(width, height).1;
        let row_bytes = info.row_bytes(width);
        let stride = dst.strides[i];
        let plane = &mut *dst.planes[i];
        match black_sample(dst.format, i, full_range) {
            BlackSample::Byte(value) => {
                for y in 0..rows {
                    row_mut(plane, stride, y, row_bytes).fill(value);
                }
            }
            BlackSample::Rgb => {
                for y in 0..rows {
                    for px in row_mut(plane, stride, y, row_bytes).chunks_exact_mut(4) {
                        // R, G, B (in either order) are 0; A or X is 255.
                        px.copy_from_slice(&[0, 0, 0, 255]);
                    }
                }
            }
        }
    }
}

enum BlackSample {
    Byte(u8),
    Rgb,
}

fn black_sample(format: VideoPixelFormat, plane: usize, full_range: bool) -> BlackSample {
    if format.is_rgb() {
        BlackSample::Rgb
    } else {
        match plane {
            0 => BlackSample::Byte(if full_range { 0 } else { 16 }),
            3 => BlackSample::Byte(255),
            // U, V, or NV12's interleaved UV.
            _ => BlackSample::Byte(128),
        }
    }
}

/// Copies `rows` rows of `row_bytes` bytes between two strided planes.
pub fn copy_plane(src: &[u8], src_stride: usize, dst: &mut [u8], dst_stride: usize, row_bytes: usize, rows: usize) {
    copy_rows(src, src_stride, dst, dst_stride, row_bytes, rows);
    crate::stats::count_media_bytes(row_bytes * rows);
}

/// [`copy_plane`] without the byte accounting, for use inside functions that count once.
pub(crate) fn copy_rows(
    src: &[u8],
    src_stride: usize,
    dst: &mut [u8],
    dst_stride: usize,
    row_bytes: usize,
    rows: usize,
) {
    if row_bytes == 0 {
        return;
    }
    for y in 0..rows {
        row_mut(dst, dst_stride, y, row_bytes).copy_from_slice(row(src, src_stride, y, row_bytes));
    }
}

/// Whether a plane of `len` bytes holds `rows` rows of `row_bytes` bytes `stride` apart (the
/// last row unpadded), with checked arithmetic: the test every kernel that hands a plane to C
/// or indexes it by hand makes first.
pub(crate) fn plane_holds(len: usize, stride: usize, row_bytes: usize, rows: usize) -> bool {
    stride >= row_bytes
        && (rows == 0
            || (rows - 1).checked_mul(stride).and_then(|n| n.checked_add(row_bytes)).is_some_and(|n| n <= len))
}

/// Row `y` (its first `len` bytes) of a strided plane.
#[inline]
pub(crate) fn row(plane: &[u8], stride: usize, y: usize, len: usize) -> &[u8] {
    let start = y * stride;
    &plane[start..start + len]
}

/// Row `y` (its first `len` bytes) of a strided plane, writable.
#[inline]
pub(crate) fn row_mut(plane: &mut [u8], stride: usize, y: usize, len: usize) -> &mut [u8] {
    let start = y * stride;
    &mut plane[start..start + len]
}

/// Number of bytes that make up an image of `format` at `width` x `height` (rows only, no
/// stride padding): what a conversion or scale into it writes.
pub(crate) fn image_bytes(format: VideoPixelFormat, width: usize, height: usize) -> usize {
    format.planes().iter().map(|p: &PlaneInfo| p.row_bytes(width) * p.samples(width, height).1).sum()
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Owned, padded images for the tests of this module.

    use super::{Image, ImageMut};
    use crate::frame::format::VideoPixelFormat;

    /// Value written into every stride-padding byte; checked by [`OwnedImage::assert_padding`].
    pub const PAD: u8 = 0xA5;

    /// Every matrix and range YUV -> RGB reads.
    pub const ENCODINGS: [super::YuvEncoding; 6] = {
        use super::{YuvEncoding as E, YuvMatrix as M};
        [
            E { matrix: M::Bt709, full_range: false },
            E { matrix: M::Bt709, full_range: true },
            E { matrix: M::Bt601, full_range: false },
            E { matrix: M::Bt601, full_range: true },
            E { matrix: M::Bt2020, full_range: false },
            E { matrix: M::Bt2020, full_range: true },
        ]
    };

    /// An image with `pad` bytes of padding after every row of every plane.
    #[derive(Clone, Debug)]
    pub struct OwnedImage {
        pub format: VideoPixelFormat,
        pub width: usize,
        pub height: usize,
        pub planes: [Vec<u8>; 4],
        pub strides: [usize; 4],
    }

    impl OwnedImage {
        /// Every sample is `fill`, every padding byte is [`PAD`].
        pub fn new(format: VideoPixelFormat, width: usize, height: usize, pad: usize, fill: u8) -> Self {
            let mut planes: [Vec<u8>; 4] = Default::default();
            let mut strides = [0; 4];
            for (i, info) in format.planes().iter().enumerate() {
                let row_bytes = info.row_bytes(width);
                let rows = info.samples(width, height).1;
                strides[i] = row_bytes + pad;
                let mut data = vec![PAD; strides[i] * rows];
                for y in 0..rows {
                    data[y * strides[i]..y * strides[i] + row_bytes].fill(fill);
                }
                planes[i] = data;
            }
            OwnedImage { format, width, height, planes, strides }
        }

        /// A read-only view. The last row's padding is left out of the slice, so an
        /// implementation that reads past `row_bytes` on the last row panics.
        pub fn view(&self) -> Image<'_> {
            let mut planes: [&[u8]; 4] = [&[]; 4];
            for (i, info) in self.format.planes().iter().enumerate() {
                planes[i] = &self.planes[i][..self.used_len(i, info.row_bytes(self.width))];
            }
            Image { format: self.format, width: self.width, height: self.height, planes, strides: self.strides }
        }

        /// A writable view; as [`Self::view`], the last row's padding is outside the slice.
        pub fn view_mut(&mut self) -> ImageMut<'_> {
            let lens: Vec<usize> = (0..4)
                .map(|i| match self.format.planes().get(i) {
                    Some(info) => self.used_len(i, info.row_bytes(self.width)),
                    None => 0,
                })
                .collect();
            let [p0, p1, p2, p3] = &mut self.planes;
            let planes = [&mut p0[..lens[0]], &mut p1[..lens[1]], &mut p2[..lens[2]], &mut p3[..lens[3]]];
            ImageMut { format: self.format, width: self.width, height: self.height, planes, strides: self.strides }
        }

        fn used_len(&self, i: usize, row_bytes: usize) -> usize {
            let len = self.planes[i].len();
            if len == 0 {
                0
            } else {
                len - (self.strides[i] - row_bytes)
            }
        }

        /// Sample `c` (byte within the sample) at sample position (x, y) of plane `p`.
        pub fn get(&self, p: usize, x: usize, y: usize, c: usize) -> u8 {
            let bps = self.format.planes()[p].bytes_per_sample;
            self.planes[p][y * self.strides[p] + x * bps + c]
        }

        pub fn set(&mut self, p: usize, x: usize, y: usize, c: usize, v: u8) {
            let bps = self.format.planes()[p].bytes_per_sample;
            self.planes[p][y * self.strides[p] + x * bps + c] = v;
        }

        /// Fills every sample byte with `f(plane, x, y, byte_in_sample)`.
        pub fn fill_with(&mut self, mut f: impl FnMut(usize, usize, usize, usize) -> u8) {
            for (p, info) in self.format.planes().iter().enumerate() {
                let (w, h) = info.samples(self.width, self.height);
                for y in 0..h {
                    for x in 0..w {
                        for c in 0..info.bytes_per_sample {
                            let v = f(p, x, y, c);
                            self.set(p, x, y, c, v);
                        }
                    }
                }
            }
        }

        /// Panics if any stride-padding byte is not [`PAD`].
        pub fn assert_padding(&self) {
            for (p, info) in self.format.planes().iter().enumerate() {
                let row_bytes = info.row_bytes(self.width);
                if self.strides[p] == 0 {
                    continue;
                }
                for (y, r) in self.planes[p].chunks(self.strides[p]).enumerate() {
                    assert!(
                        r[row_bytes..].iter().all(|&b| b == PAD),
                        "{} plane {p} row {y}: padding overwritten",
                        self.format.name()
                    );
                }
            }
        }

        /// Against `other` (same format and size), over every sample inside the image: the
        /// largest difference, how many samples differ, and how many there are.
        pub fn diff(&self, other: &OwnedImage) -> (u8, usize, usize) {
            let (mut worst, mut off, mut n) = (0u8, 0usize, 0usize);
            for (p, info) in self.format.planes().iter().enumerate() {
                let (w, h) = info.samples(self.width, self.height);
                for y in 0..h {
                    for x in 0..w {
                        for c in 0..info.bytes_per_sample {
                            let d = self.get(p, x, y, c).abs_diff(other.get(p, x, y, c));
                            worst = worst.max(d);
                            off += (d != 0) as usize;
                            n += 1;
                        }
                    }
                }
            }
            (worst, off, n)
        }

        /// The image's samples without padding, plane by plane.
        pub fn packed(&self) -> Vec<Vec<u8>> {
            self.format
                .planes()
                .iter()
                .enumerate()
                .map(|(p, info)| {
                    let row_bytes = info.row_bytes(self.width);
                    self.planes[p].chunks(self.strides[p].max(1)).flat_map(|r| r[..row_bytes].to_vec()).collect()
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn frames_split_over_two_threads_equal_one_thread() {
        use super::testutil::OwnedImage;
        let (w, h) = (3840, 2160);
        let noise = |img: &mut OwnedImage| {
            let mut s = 1u32;
            img.fill_with(|_, _, _, _| {
                s = s.wrapping_mul(1_103_515_245).wrapping_add(12345);
                16 + ((s >> 16) as u8 % 200)
            });
        };
        let mut src = OwnedImage::new(F::I420, w, h, 4, 0);
        noise(&mut src);
        // Scaling: 2:1 and 3:2, split (the dispatcher) against the fast kernel on one thread.
        for (dw, dh) in [(1920, 1080), (2560, 1440)] {
            let mut split = OwnedImage::new(F::I420, dw, dh, 0, 0);
            let mut one = OwnedImage::new(F::I420, dw, dh, 0, 0);
            scale(&src.view(), &mut split.view_mut());
            assert!(fast::scale(&src.view(), &mut one.view_mut()));
            assert!(split.planes == one.planes, "scale to {dw}x{dh} differs when split");
        }
        // Conversions, both directions.
        let mut rgb_split = OwnedImage::new(F::Bgra, w, h, 0, 0);
        let mut rgb_one = OwnedImage::new(F::Bgra, w, h, 0, 0);
        convert(&src.view(), &mut rgb_split.view_mut());
        assert!(fast::convert(&src.view(), &mut rgb_one.view_mut()));
        assert!(rgb_split.planes == rgb_one.planes, "I420 -> BGRA differs when split");
        let mut back_split = OwnedImage::new(F::Nv12, w, h, 0, 0);
        let mut back_one = OwnedImage::new(F::Nv12, w, h, 0, 0);
        convert(&rgb_one.view(), &mut back_split.view_mut());
        assert!(fast::convert(&rgb_one.view(), &mut back_one.view_mut()));
        assert!(back_split.planes == back_one.planes, "BGRA -> NV12 differs when split");
    }

    use super::testutil::{OwnedImage, PAD};
    use super::*;
    use crate::frame::format::VideoPixelFormat as F;

    #[test]
    fn fill_black_every_format_odd_size_padded() {
        for format in F::ALL {
            let mut img = OwnedImage::new(format, 7, 5, 3, 0x42);
            fill_black(&mut img.view_mut());
            img.assert_padding();
            for (p, info) in format.planes().iter().enumerate() {
                let (w, h) = info.samples(7, 5);
                for y in 0..h {
                    for x in 0..w {
                        for c in 0..info.bytes_per_sample {
                            let expected = match (format.is_rgb(), p) {
                                (true, _) => [0, 0, 0, 255][c],
                                (false, 0) => 16,
                                (false, 3) => 255,
                                _ => 128,
                            };
                            assert_eq!(img.get(p, x, y, c), expected, "{} p{p} ({x},{y}) c{c}", format.name());
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn copy_plane_respects_strides_and_counts() {
        let (row_bytes, rows, src_stride, dst_stride) = (5, 4, 8, 7);
        let src: Vec<u8> = (0..(src_stride * rows) as u8).collect();
        let mut dst = vec![PAD; dst_stride * rows];
        let before = crate::stats::media_bytes_copied();
        // The last row's padding is not part of either slice.
        let src_len = src_stride * (rows - 1) + row_bytes;
        let dst_len = dst_stride * (rows - 1) + row_bytes;
        copy_plane(&src[..src_len], src_stride, &mut dst[..dst_len], dst_stride, row_bytes, rows);
        // Other tests count concurrently: only a lower bound can be asserted.
        assert!(crate::stats::media_bytes_copied() - before >= (row_bytes * rows) as u64);
        for y in 0..rows {
            assert_eq!(
                &dst[y * dst_stride..y * dst_stride + row_bytes],
                &src[y * src_stride..y * src_stride + row_bytes]
            );
            assert!(dst[y * dst_stride + row_bytes..(y + 1) * dst_stride].iter().all(|&b| b == PAD));
        }
    }

    #[test]
    fn copy_plane_zero_sized() {
        copy_plane(&[], 0, &mut [], 0, 0, 0);
        copy_plane(&[], 4, &mut [], 4, 0, 3);
    }

    #[test]
    fn image_bytes_matches_planes() {
        assert_eq!(image_bytes(F::I420, 7, 5), 35 + 2 * 4 * 3);
        assert_eq!(image_bytes(F::I420A, 7, 5), 2 * 35 + 2 * 4 * 3);
        assert_eq!(image_bytes(F::I422, 7, 5), 35 + 2 * 4 * 5);
        assert_eq!(image_bytes(F::I444, 7, 5), 3 * 35);
        assert_eq!(image_bytes(F::Nv12, 7, 5), 35 + 8 * 3);
        assert_eq!(image_bytes(F::Bgrx, 7, 5), 4 * 35);
    }
}
