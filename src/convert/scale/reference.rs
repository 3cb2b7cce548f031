//! Image scaling, plane by plane.
//!
//! Each plane is scaled on its own with as many channels as its sample has bytes (NV12's UV
//! plane has 2, RGBA 4); chroma planes go from the source's chroma dimensions to those of the
//! destination size. When the destination is no larger than the source in either dimension
//! the filter is an exact area average (box), otherwise bilinear with pixel-centre alignment.
//!
//! Both filters compute in exact integer arithmetic: the weights are rationals with a common
//! denominator, the weighted sum is accumulated in `u64` and divided once, rounding to nearest
//! (halves up). So scaling to the same size reproduces the image and a constant plane stays
//! exactly constant.

use crate::convert::{copy_rows, gcd, image_bytes, row, row_mut, Image, ImageMut};

/// Scales src into dst: same format, any sizes >= 1. Box (area-averaging) filter when the
/// destination is no larger than the source in both dimensions, bilinear otherwise.
pub fn scale(src: &Image, dst: &mut ImageMut) {
    debug_assert_eq!(src.format, dst.format, "scale: formats differ");
    debug_assert!(src.width >= 1 && src.height >= 1, "scale: empty source");
    if src.width == 0 || src.height == 0 || dst.width == 0 || dst.height == 0 {
        crate::stats::count_media_bytes(0);
        return;
    }
    let use_box = dst.width <= src.width && dst.height <= src.height;
    for (i, info) in dst.format.planes().iter().enumerate() {
        let (sw, sh) = info.samples(src.width, src.height);
        let (dw, dh) = info.samples(dst.width, dst.height);
        let s = PlaneRef { data: src.planes[i], stride: src.strides[i], width: sw, height: sh };
        let d = PlaneMut { data: &mut *dst.planes[i], stride: dst.strides[i], width: dw, height: dh };
        if sw == dw && sh == dh {
            let row_bytes = info.row_bytes(dst.width);
            copy_rows(s.data, s.stride, d.data, d.stride, row_bytes, dh);
            continue;
        }
        match (use_box, info.bytes_per_sample) {
            (true, 1) => box_plane::<1>(&s, d),
            (true, 2) => box_plane::<2>(&s, d),
            (true, 4) => box_plane::<4>(&s, d),
            (false, 1) => bilinear_plane::<1>(&s, d),
            (false, 2) => bilinear_plane::<2>(&s, d),
            (false, 4) => bilinear_plane::<4>(&s, d),
            (_, n) => unreachable!("no pixel format has {n}-byte samples"),
        }
    }
    crate::stats::count_media_bytes(image_bytes(dst.format, dst.width, dst.height));
}

/// One plane to read: `width` x `height` samples.
struct PlaneRef<'a> {
    data: &'a [u8],
    stride: usize,
    width: usize,
    height: usize,
}

/// One plane to write: `width` x `height` samples.
struct PlaneMut<'a> {
    data: &'a mut [u8],
    stride: usize,
    width: usize,
    height: usize,
}

/// Area-average weights along one axis of `src` samples scaled to `dst` (<= `src`) samples.
///
/// Both grids are laid on one integer line: source sample j covers
/// [j * src_len, (j + 1) * src_len), destination sample i covers [i * dst_len, (i + 1) * dst_len)
/// (src_len * src = dst_len * dst), and the weight of j in i is the length of their overlap.
/// The weights of i sum to `dst_len`.
#[derive(Clone, Copy)]
struct BoxAxis {
    /// Length of one source sample (the destination count, reduced).
    src_len: u64,
    /// Length of one destination sample (the source count, reduced).
    dst_len: u64,
}

impl BoxAxis {
    fn new(src: usize, dst: usize) -> Self {
        let g = gcd(src as u64, dst as u64);
        BoxAxis { src_len: dst as u64 / g, dst_len: src as u64 / g }
    }

    /// First and last source sample overlapping destination sample `i`.
    #[inline]
    fn span(&self, i: usize) -> (usize, usize) {
        let lo = i as u64 * self.dst_len;
        let hi = lo + self.dst_len;
        ((lo / self.src_len) as usize, ((hi - 1) / self.src_len) as usize)
    }

    /// Overlap of source sample `j` with destination sample `i`.
    #[inline]
    fn weight(&self, i: usize, j: usize) -> u64 {
        let (i, j) = (i as u64, j as u64);
        let end = ((j + 1) * self.src_len).min((i + 1) * self.dst_len);
        let start = (j * self.src_len).max(i * self.dst_len);
        end - start
    }
}

/// Exact area-average downscale of a `C`-channel plane.
fn box_plane<const C: usize>(src: &PlaneRef, dst: PlaneMut) {
    let ax = BoxAxis::new(src.width, dst.width);
    let ay = BoxAxis::new(src.height, dst.height);
    let total = ax.dst_len * ay.dst_len;
    let src_row_bytes = src.width * C;
    for dy in 0..dst.height {
        let (y0, y1) = ay.span(dy);
        let out = row_mut(dst.data, dst.stride, dy, dst.width * C);
        for (dx, px) in out.chunks_exact_mut(C).enumerate() {
            let (x0, x1) = ax.span(dx);
            let mut acc = [0u64; C];
            for sy in y0..=y1 {
                let r = row(src.data, src.stride, sy, src_row_bytes);
                let mut row_acc = [0u64; C];
                for (sx, sample) in r[x0 * C..(x1 + 1) * C].chunks_exact(C).enumerate() {
                    let wx = ax.weight(dx, x0 + sx);
                    for (a, &v) in row_acc.iter_mut().zip(sample) {
                        *a += wx * v as u64;
                    }
                }
                let wy = ay.weight(dy, sy);
                for (a, r) in acc.iter_mut().zip(row_acc) {
                    *a += wy * r;
                }
            }
            for (p, a) in px.iter_mut().zip(acc) {
                *p = ((a + total / 2) / total) as u8;
            }
        }
    }
}

/// Bilinear taps along one axis of `src` samples scaled to `dst` samples, pixel-centre
/// aligned: `src_x = (dst_x + 0.5) * src / dst - 0.5`, clamped to [0, src - 1]. Positions are
/// measured in units of 1 / (2 dst) source samples, so every tap is exact.
#[derive(Clone, Copy)]
struct LinearAxis {
    src: u64,
    dst: u64,
}

impl LinearAxis {
    fn new(src: usize, dst: usize) -> Self {
        LinearAxis { src: src as u64, dst: dst as u64 }
    }

    /// The weights' denominator.
    #[inline]
    fn den(&self) -> u64 {
        2 * self.dst
    }

    /// For destination sample `i`: the left source sample j and the weight (out of `den`) of
    /// sample j + 1; the weight is 0 whenever j is the last sample.
    #[inline]
    fn tap(&self, i: usize) -> (usize, u64) {
        let pos = ((2 * i as u64 + 1) * self.src).saturating_sub(self.dst);
        let j = pos / self.den();
        if j + 1 >= self.src {
            ((self.src - 1) as usize, 0)
        } else {
            (j as usize, pos % self.den())
        }
    }
}

/// Bilinear scale of a `C`-channel plane.
fn bilinear_plane<const C: usize>(src: &PlaneRef, dst: PlaneMut) {
    let ax = LinearAxis::new(src.width, dst.width);
    let ay = LinearAxis::new(src.height, dst.height);
    let (den_x, den_y) = (ax.den(), ay.den());
    let total = den_x * den_y;
    let src_row_bytes = src.width * C;
    for dy in 0..dst.height {
        let (y0, fy) = ay.tap(dy);
        let y1 = if fy > 0 { y0 + 1 } else { y0 };
        let top = row(src.data, src.stride, y0, src_row_bytes);
        let bottom = row(src.data, src.stride, y1, src_row_bytes);
        let (wy0, wy1) = (den_y - fy, fy);
        let out = row_mut(dst.data, dst.stride, dy, dst.width * C);
        for (dx, px) in out.chunks_exact_mut(C).enumerate() {
            let (x0, fx) = ax.tap(dx);
            let x1 = if fx > 0 { x0 + 1 } else { x0 };
            let (wx0, wx1) = (den_x - fx, fx);
            for (c, p) in px.iter_mut().enumerate() {
                let t = wx0 * top[x0 * C + c] as u64 + wx1 * top[x1 * C + c] as u64;
                let b = wx0 * bottom[x0 * C + c] as u64 + wx1 * bottom[x1 * C + c] as u64;
                *p = ((wy0 * t + wy1 * b + total / 2) / total) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::testutil::OwnedImage;
    use crate::frame::format::VideoPixelFormat as F;

    fn noise(p: usize, x: usize, y: usize, c: usize) -> u8 {
        let mut h = (p * 0x1F35 + x * 0x9E37 + y * 0x632B + c * 0x4F1B + 7) as u32;
        h = h.wrapping_mul(0x2C1B_3C6D);
        h ^= h >> 15;
        h = h.wrapping_mul(0x297A_2D39);
        (h >> 20) as u8
    }

    fn run(src: &OwnedImage, w: usize, h: usize, pad: usize) -> OwnedImage {
        let mut dst = OwnedImage::new(src.format, w, h, pad, 0x5A);
        scale(&src.view(), &mut dst.view_mut());
        dst.assert_padding();
        dst
    }

    /// Runs a kernel directly on plane `p` of `src` into plane `p` of a new image (so the
    /// same-size fast path of `scale` is bypassed).
    fn kernel(src: &OwnedImage, p: usize, w: usize, h: usize, use_box: bool) -> OwnedImage {
        let mut dst = OwnedImage::new(src.format, w, h, 3, 0x5A);
        let info = src.format.planes()[p];
        let (sw, sh) = info.samples(src.width, src.height);
        let (dw, dh) = info.samples(w, h);
        let view = src.view();
        let s = PlaneRef { data: view.planes[p], stride: src.strides[p], width: sw, height: sh };
        let stride = dst.strides[p];
        let out = dst.view_mut();
        let d = PlaneMut { data: &mut *out.planes[p], stride, width: dw, height: dh };
        match (use_box, info.bytes_per_sample) {
            (true, 1) => box_plane::<1>(&s, d),
            (true, 2) => box_plane::<2>(&s, d),
            (true, _) => box_plane::<4>(&s, d),
            (false, 1) => bilinear_plane::<1>(&s, d),
            (false, 2) => bilinear_plane::<2>(&s, d),
            (false, _) => bilinear_plane::<4>(&s, d),
        }
        dst.assert_padding();
        dst
    }

    #[test]
    fn identity_is_exact_for_both_kernels() {
        for format in F::ALL {
            let mut src = OwnedImage::new(format, 7, 5, 2, 0);
            src.fill_with(noise);
            for (p, _) in format.planes().iter().enumerate() {
                for use_box in [true, false] {
                    let out = kernel(&src, p, 7, 5, use_box);
                    assert_eq!(out.packed()[p], src.packed()[p], "{} plane {p} box={use_box}", format.name());
                }
            }
            assert_eq!(run(&src, 7, 5, 1).packed(), src.packed(), "{}", format.name());
        }
    }

    #[test]
    fn one_axis_identity_is_exact() {
        // Only one dimension changes: the other axis must not blur.
        let mut src = OwnedImage::new(F::I444, 6, 4, 0, 0);
        src.fill_with(noise);
        let half_height = run(&src, 6, 2, 1);
        for y in 0..2 {
            for x in 0..6 {
                let (a, b) = (src.get(0, x, 2 * y, 0) as u32, src.get(0, x, 2 * y + 1, 0) as u32);
                assert_eq!(half_height.get(0, x, y, 0) as u32, (a + b).div_ceil(2));
            }
        }
        let double_width = run(&src, 12, 4, 1);
        for y in 0..4 {
            for x in 0..6 {
                // Bilinear 1:2: outputs 2x and 2x+1 sit a quarter sample either side of x.
                let c = src.get(0, x, y, 0) as u32;
                let l = src.get(0, x.saturating_sub(1), y, 0) as u32;
                let r = src.get(0, (x + 1).min(5), y, 0) as u32;
                assert_eq!(double_width.get(0, 2 * x, y, 0) as u32, (3 * c + l + 2) / 4, "({x},{y})");
                assert_eq!(double_width.get(0, 2 * x + 1, y, 0) as u32, (3 * c + r + 2) / 4, "({x},{y})");
            }
        }
    }

    #[test]
    fn constant_colour_is_preserved_at_any_size() {
        let sizes = [(1, 1), (2, 2), (3, 7), (7, 5), (16, 9), (33, 17), (641, 359)];
        for format in F::ALL {
            let mut src = OwnedImage::new(format, 13, 11, 3, 0);
            src.fill_with(|p, _, _, c| {
                [[16, 0, 0, 0], [131, 77, 0, 0], [250, 0, 0, 0], [201, 0, 0, 0]][p][c] + c as u8 * 9
            });
            let want = src.fill_value_per_plane();
            for (w, h) in sizes {
                let dst = run(&src, w, h, 5);
                for (p, plane) in dst.packed().iter().enumerate() {
                    let bps = format.planes()[p].bytes_per_sample;
                    assert!(plane.chunks(bps).all(|s| s == &want[p][..]), "{} {w}x{h} plane {p}", format.name());
                }
            }
        }
    }

    impl OwnedImage {
        /// The first sample of each plane.
        fn fill_value_per_plane(&self) -> Vec<Vec<u8>> {
            self.format
                .planes()
                .iter()
                .enumerate()
                .map(|(p, info)| (0..info.bytes_per_sample).map(|c| self.get(p, 0, 0, c)).collect())
                .collect()
        }
    }

    #[test]
    fn box_2_to_1_is_the_rounded_2x2_average() {
        let mut src = OwnedImage::new(F::Rgba, 8, 6, 4, 0);
        src.fill_with(noise);
        let dst = run(&src, 4, 3, 2);
        for y in 0..3 {
            for x in 0..4 {
                for c in 0..4 {
                    let s: u32 = [(0, 0), (1, 0), (0, 1), (1, 1)]
                        .iter()
                        .map(|(i, j)| src.get(0, 2 * x + i, 2 * y + j, c) as u32)
                        .sum();
                    assert_eq!(dst.get(0, x, y, c) as u32, (s + 2) / 4, "({x},{y}) c{c}");
                }
            }
        }
        // I420 at 8x6 -> 4x3: chroma goes 4x3 -> 2x2, a 2:1 by 3:2 box.
        let mut yuv = OwnedImage::new(F::I420, 8, 6, 1, 0);
        yuv.fill_with(noise);
        let half = run(&yuv, 4, 3, 1);
        for y in 0..3 {
            for x in 0..4 {
                let s: u32 = [(0, 0), (1, 0), (0, 1), (1, 1)]
                    .iter()
                    .map(|(i, j)| yuv.get(0, 2 * x + i, 2 * y + j, 0) as u32)
                    .sum();
                assert_eq!(half.get(0, x, y, 0) as u32, (s + 2) / 4);
            }
        }
    }

    /// Float area average of plane `p` channel `c` of `src` for destination sample (dx, dy).
    fn area_average(
        src: &OwnedImage,
        p: usize,
        c: usize,
        (sw, sh): (usize, usize),
        (dw, dh): (usize, usize),
        dx: usize,
        dy: usize,
    ) -> f64 {
        let (fx, fy) = (sw as f64 / dw as f64, sh as f64 / dh as f64);
        let (x0, x1, y0, y1) = (dx as f64 * fx, (dx + 1) as f64 * fx, dy as f64 * fy, (dy + 1) as f64 * fy);
        let mut sum = 0.0;
        for sy in (y0.floor() as usize)..(y1.ceil() as usize).min(sh) {
            let wy = ((sy + 1) as f64).min(y1) - (sy as f64).max(y0);
            for sx in (x0.floor() as usize)..(x1.ceil() as usize).min(sw) {
                let wx = ((sx + 1) as f64).min(x1) - (sx as f64).max(x0);
                if wx > 0.0 && wy > 0.0 {
                    sum += wx * wy * src.get(p, sx, sy, c) as f64;
                }
            }
        }
        sum / (fx * fy)
    }

    #[test]
    fn box_non_integer_ratios_match_float_area_average() {
        for (format, (sw, sh), (dw, dh)) in [
            (F::I444, (9, 6), (6, 4)),  // 3:2 both ways
            (F::Nv12, (12, 9), (8, 6)), // 3:2, UV plane 6x5 -> 4x3
            (F::Bgrx, (10, 7), (3, 5)), // 10:3 by 7:5
            (F::I420, (641, 359), (427, 239)),
        ] {
            let mut src = OwnedImage::new(format, sw, sh, 3, 0);
            src.fill_with(noise);
            let dst = run(&src, dw, dh, 2);
            for (p, info) in format.planes().iter().enumerate() {
                let (ss, ds) = (info.samples(sw, sh), info.samples(dw, dh));
                for dy in 0..ds.1 {
                    for dx in 0..ds.0 {
                        for c in 0..info.bytes_per_sample {
                            let want = area_average(&src, p, c, ss, ds, dx, dy);
                            let got = dst.get(p, dx, dy, c) as f64;
                            assert!(
                                (got - want).abs() <= 0.5 + 1e-9,
                                "{} p{p} ({dx},{dy}) c{c}: {got} vs {want}",
                                format.name()
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn box_3_to_2_by_hand() {
        // One row 3 -> 2: outputs are (a + b/2) / 1.5 and (b/2 + c) / 1.5.
        let mut src = OwnedImage::new(F::I444, 3, 1, 0, 0);
        src.fill_with(|_, x, _, _| [10, 40, 100][x]);
        let dst = run(&src, 2, 1, 0);
        assert_eq!(dst.get(0, 0, 0, 0), 20); // (10 + 20) / 1.5
        assert_eq!(dst.get(0, 1, 0, 0), 80); // (20 + 100) / 1.5
    }

    /// Float bilinear reference for plane `p` channel `c`.
    fn bilinear_ref(
        src: &OwnedImage,
        p: usize,
        c: usize,
        (sw, sh): (usize, usize),
        (dw, dh): (usize, usize),
        dx: usize,
        dy: usize,
    ) -> f64 {
        let pos =
            |d: usize, s: usize, dn: usize| ((d as f64 + 0.5) * s as f64 / dn as f64 - 0.5).clamp(0.0, (s - 1) as f64);
        let (x, y) = (pos(dx, sw, dw), pos(dy, sh, dh));
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(sw - 1), (y0 + 1).min(sh - 1));
        let (fx, fy) = (x - x0 as f64, y - y0 as f64);
        let g = |x, y| src.get(p, x, y, c) as f64;
        (g(x0, y0) * (1.0 - fx) + g(x1, y0) * fx) * (1.0 - fy) + (g(x0, y1) * (1.0 - fx) + g(x1, y1) * fx) * fy
    }

    #[test]
    fn bilinear_matches_float_reference() {
        for (format, (sw, sh), (dw, dh)) in [
            (F::I444, (4, 3), (11, 7)),
            (F::Rgba, (5, 5), (8, 13)),
            (F::Nv12, (7, 5), (16, 9)),
            (F::I420A, (9, 3), (5, 8)), // downscale in x, upscale in y: bilinear
            (F::I422, (320, 180), (641, 359)),
        ] {
            let mut src = OwnedImage::new(format, sw, sh, 2, 0);
            src.fill_with(noise);
            let dst = run(&src, dw, dh, 3);
            for (p, info) in format.planes().iter().enumerate() {
                let (ss, ds) = (info.samples(sw, sh), info.samples(dw, dh));
                for dy in 0..ds.1 {
                    for dx in 0..ds.0 {
                        for c in 0..info.bytes_per_sample {
                            let want = bilinear_ref(&src, p, c, ss, ds, dx, dy);
                            let got = dst.get(p, dx, dy, c) as f64;
                            assert!(
                                (got - want).abs() <= 0.5 + 1e-9,
                                "{} p{p} ({dx},{dy}) c{c}: {got} vs {want}",
                                format.name()
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn bilinear_ramp_is_monotonic_and_hits_endpoints() {
        let mut src = OwnedImage::new(F::I444, 5, 2, 1, 0);
        src.fill_with(|_, x, _, _| [0, 60, 100, 200, 255][x]);
        for dw in [6, 9, 17, 100, 1001] {
            let dst = run(&src, dw, 3, 2);
            for y in 0..3 {
                let r: Vec<u8> = (0..dw).map(|x| dst.get(0, x, y, 0)).collect();
                assert!(r.windows(2).all(|w| w[0] <= w[1]), "{dw}: {r:?}");
                assert_eq!((r[0], r[dw - 1]), (0, 255), "{dw}");
            }
        }
    }

    #[test]
    fn odd_sizes_and_padding_for_every_format() {
        for format in F::ALL {
            // Full size for one format of each plane layout (debug builds are slow).
            let (sw, sh) = if matches!(format, F::I420A | F::Nv12 | F::Bgrx) { (641, 359) } else { (65, 37) };
            let mut src = OwnedImage::new(format, sw, sh, 5, 0);
            src.fill_with(noise);
            for (w, h) in [(320, 180), (7, 5), (1, 1), (641, 1), (1, 359), (643, 361), (1000, 200), (64, 37), (65, 36)]
            {
                let dst = run(&src, w, h, 3);
                // The chroma planes have the destination's chroma dimensions.
                let packed = dst.packed();
                for (p, info) in format.planes().iter().enumerate() {
                    let (cw, ch) = info.samples(w, h);
                    assert_eq!(packed[p].len(), cw * ch * info.bytes_per_sample);
                }
            }
        }
    }

    #[test]
    fn downscale_to_one_pixel_is_the_mean() {
        let mut src = OwnedImage::new(F::Bgra, 5, 3, 2, 0);
        src.fill_with(noise);
        let dst = run(&src, 1, 1, 0);
        for c in 0..4 {
            let s: u32 =
                (0..3).flat_map(|y| (0..5).map(move |x| (x, y))).map(|(x, y)| src.get(0, x, y, c) as u32).sum();
            assert_eq!(dst.get(0, 0, 0, c) as u32, (s * 2 + 15) / 30, "c{c}");
        }
    }

    #[test]
    fn scale_counts_destination_bytes() {
        let src = OwnedImage::new(F::I420, 8, 6, 0, 50);
        let mut dst = OwnedImage::new(F::I420, 3, 3, 2, 0);
        let before = crate::stats::media_bytes_copied();
        scale(&src.view(), &mut dst.view_mut());
        assert!(crate::stats::media_bytes_copied() - before >= (9 + 2 * 4) as u64);
    }
}
