//! Scaling on the fast kernels: libmst's own area scaler for the common ratios
//! ([`super::boxdown`]), its any-ratio area and bilinear scaler ([`super::resample`]), both
//! bit-exact, or libyuv's box at other whole factors (within [`BOX_ERROR`]). [`scale`] returns
//! false when some plane has no fast path, and the caller runs the reference
//! ([`super::reference`]) instead.

use crate::convert::libyuv::{dims, dst_plane, src_plane};
use crate::convert::{Image, ImageMut};
use yuv_sys as y;

/// Largest per-sample difference of libyuv's box scaling (2x and more down) from the exact
/// area average.
pub const BOX_ERROR: u8 = 1;

/// The reduced ratio P:Q when a plane shrinks by the same one in both dimensions, whole
/// periods, and [`super::boxdown`] has a kernel for it.
fn own_ratio(sw: usize, sh: usize, dw: usize, dh: usize, bps: usize) -> Option<(usize, usize)> {
    if dw == 0 || dh == 0 {
        return None;
    }
    let g = crate::convert::gcd(sw as u64, dw as u64) as usize;
    let (p, q) = (sw / g, dw / g);
    // 2:1 of one-byte planes: libyuv's ScaleRowDown2Box (a horizontal multiply-add of byte
    // pairs) is exact and faster than ours (0.39 vs 0.65 ms for 4K -> 1080p).
    if (p, q, bps) == (2, 1, 1) {
        return None;
    }
    (sh * q == dh * p && sh.is_multiple_of(p) && super::boxdown::handles(p, q, bps)).then_some((p, q))
}

/// How libyuv can box-scale one plane exactly (an area average), if it can.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum PlaneBox {
    /// ScalePlane / UVScale / ARGBScale directly.
    Direct,
    /// An interleaved UV plane whose factors only ScalePlane boxes: split, scale, merge.
    Split,
}

/// libyuv boxes exactly when a plane shrinks by whole factors and its scaler takes the box
/// path for them: one-byte planes (ScalePlane) at 2x2, 4x4, or both factors over 2 with an
/// area of at most 128; two- and four-byte planes (UVScale, ARGBScale) only at 2x2 (4x4
/// rounds twice, other factors point-sample), so UV planes at other factors are split into U
/// and V. Anything else (uneven factors, which libyuv boxes on whole samples only, or four-byte
/// planes at other factors) is not taken.
fn plane_box(bps: usize, sw: usize, sh: usize, dw: usize, dh: usize) -> Option<PlaneBox> {
    if dw == 0 || dh == 0 || !sw.is_multiple_of(dw) || !sh.is_multiple_of(dh) {
        return None;
    }
    let (fx, fy) = (sw / dw, sh / dh);
    let even = fx == fy && (fx == 2 || fx == 4);
    // ScalePlaneBox boxes only when both axes shrink by more than 2 (libyuv turns a box
    // bilinear otherwise), sums columns in u16 (a box at most 257 tall) and divides by a
    // truncated 65536 / area (exact to within 1 up to an area of 128).
    let one_byte = (fx > 2 && fy > 2 && fx * fy <= 128) || even;
    match bps {
        1 if one_byte => Some(PlaneBox::Direct),
        // UVScale's and ARGBScale's 4x4 box rounds twice (2x2 of 2x2): up to 2 off.
        2 | 4 if fx == 2 && fy == 2 => Some(PlaneBox::Direct),
        2 if one_byte => Some(PlaneBox::Split),
        _ => None,
    }
}

/// How one plane is scaled fast: a box by libmst's own kernel for its ratios, else by
/// libyuv's at whole factors (exact at 2x2, else within [`BOX_ERROR`]; faster than the
/// any-ratio scaler's gathers at large factors: 0.32 vs 0.46 ms at 6:1, measured before
/// boxdown took 6:1), else
/// libmst's any-ratio scaler (box or bilinear, exact).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Method {
    Own(usize, usize),
    Libyuv(PlaneBox),
    Any,
}

/// Whether the reference would area-average (the image shrinks in both dimensions) rather
/// than interpolate.
fn is_box(src: &Image, dst: &ImageMut) -> bool {
    dst.width <= src.width && dst.height <= src.height
}

/// Plane `i`'s fast method, if it has one.
fn method(src: &Image, dst: &ImageMut, i: usize) -> Option<Method> {
    let info = src.format.planes().get(i)?;
    let (sw, sh) = info.samples(src.width, src.height);
    let (dw, dh) = info.samples(dst.width, dst.height);
    let bps = info.bytes_per_sample;
    let use_box = is_box(src, dst);
    let any = || super::resample::possible(sw, sh, dw, dh, use_box).then_some(Method::Any);
    if !use_box {
        return any();
    }
    let libyuv = || plane_box(bps, sw, sh, dw, dh).map(Method::Libyuv);
    own_ratio(sw, sh, dw, dh, bps).map(|(p, q)| Method::Own(p, q)).or_else(libyuv).or_else(any)
}

thread_local! {
    /// Split U and V planes (source and scaled) for [`PlaneBox::Split`]; grows once, then reused.
    static SPLIT: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Whether [`scale`] has a fast method for every plane of these images (it asks the same, and
/// writes nothing when it has not).
pub fn scale_possible(src: &Image, dst: &ImageMut) -> bool {
    src.format == dst.format
        && src.width > 0
        && src.height > 0
        && dst.width > 0
        && dst.height > 0
        && (0..src.format.planes().len()).all(|i| method(src, dst, i).is_some())
}

/// Scaling, same format, when every plane has a fast method ([`scale_possible`]): libmst's
/// own area scaler for its ratios (bit-exact), libyuv's box where it is exact ([`plane_box`]),
/// else libmst's any-ratio box or bilinear (`resample`, bit-exact). The reference
/// runs otherwise (no AVX2; ratios past the any-ratio scaler's limits).
pub fn scale(src: &Image, dst: &mut ImageMut) -> bool {
    if !scale_possible(src, dst) {
        return false;
    }
    // Check every plane's extent before writing anything.
    let planes = src.format.planes();
    let fits = |i: usize, dst: &mut ImageMut| {
        let info = planes[i];
        let (sw, sh) = info.samples(src.width, src.height);
        let (dw, dh) = info.samples(dst.width, dst.height);
        src_plane(src, i).is_some() && dst_plane(dst, i).is_some() && dims(sw, sh).is_some() && dims(dw, dh).is_some()
    };
    if !(0..planes.len()).all(|i| fits(i, dst)) {
        return false;
    }
    let filter = y::FilterMode_kFilterBox;
    for (i, info) in planes.iter().enumerate() {
        let bps = info.bytes_per_sample;
        let (dw, dh) = info.samples(dst.width, dst.height);
        let how = method(src, dst, i).expect("scale_possible checked every plane");
        let (sw, sh) = info.samples(src.width, src.height);
        match how {
            // Our own kernels (super::boxdown, super::resample): exact, and no malloc per call.
            Method::Own(p, q) => {
                if super::boxdown::box_plane(
                    src.planes[i],
                    src.strides[i],
                    dst.planes[i],
                    dst.strides[i],
                    dw,
                    dh,
                    bps,
                    p,
                    q,
                ) {
                    continue;
                }
                return false;
            }
            Method::Any => {
                let use_box = is_box(src, dst);
                if super::resample::plane(
                    src.planes[i],
                    src.strides[i],
                    sw,
                    sh,
                    dst.planes[i],
                    dst.strides[i],
                    dw,
                    dh,
                    bps,
                    use_box,
                ) {
                    continue;
                }
                return false;
            }
            Method::Libyuv(_) => {}
        }
        let (Some(s), Some(d), Some((sw, sh)), Some((dw, dh))) =
            (src_plane(src, i), dst_plane(dst, i), dims(sw, sh), dims(dw, dh))
        else {
            return false;
        };
        // SAFETY: each plane was checked to hold its rows at its stride; the split planes are
        // sized for theirs below.
        let r = unsafe {
            match (bps, how) {
                (1, _) => y::rs_ScalePlane(s.0, s.1, sw, sh, d.0, d.1, dw, dh, filter),
                (2, Method::Libyuv(PlaneBox::Direct)) => y::rs_UVScale(s.0, s.1, sw, sh, d.0, d.1, dw, dh, filter),
                (4, _) => y::rs_ARGBScale(s.0, s.1, sw, sh, d.0, d.1, dw, dh, filter),
                (2, Method::Libyuv(PlaneBox::Split)) => SPLIT.with(|buf| {
                    let mut buf = buf.borrow_mut();
                    let (src_n, dst_n) = (sw as usize * sh as usize, dw as usize * dh as usize);
                    if buf.len() < 2 * (src_n + dst_n) {
                        buf.resize(2 * (src_n + dst_n), 0);
                    }
                    let (su, rest) = buf.split_at_mut(src_n);
                    let (sv, rest) = rest.split_at_mut(src_n);
                    let (du, rest) = rest.split_at_mut(dst_n);
                    let dv = &mut rest[..dst_n];
                    y::rs_SplitUVPlane(s.0, s.1, su.as_mut_ptr(), sw, sv.as_mut_ptr(), sw, sw, sh);
                    let a = y::rs_ScalePlane(su.as_ptr(), sw, sw, sh, du.as_mut_ptr(), dw, dw, dh, filter);
                    let b = y::rs_ScalePlane(sv.as_ptr(), sw, sw, sh, dv.as_mut_ptr(), dw, dw, dh, filter);
                    y::rs_MergeUVPlane(du.as_ptr(), dw, dv.as_ptr(), dw, d.0, d.1, dw, dh);
                    a | b
                }),
                _ => -1,
            }
        };
        if r != 0 {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::libyuv::tests::{max_diff, noise};
    use crate::convert::reference;
    use crate::convert::testutil::OwnedImage;
    use crate::frame::format::VideoPixelFormat as F;

    #[test]
    fn scaling_matches_the_reference() {
        let cases = [
            // (source, destination, bound): box at whole factors (every plane's: so 4:2:0
            // sizes are multiples of 2 x the factor).
            ((64, 36), (32, 18), BOX_ERROR),
            ((96, 36), (32, 12), BOX_ERROR),
            ((128, 72), (32, 18), BOX_ERROR),
            ((120, 72), (40, 12), BOX_ERROR),
            // Our own kernels' ratios (boxdown): 2:1, 3:1, 4:1, 5:1, 6:1, 8:1, 3:2, 4:3, at
            // widths that leave SIMD remainders, bit-exact.
            ((102, 66), (68, 44), 0),
            ((100, 60), (20, 12), 0),
            ((420, 48), (70, 8), 0),
            ((160, 96), (20, 12), 0),
            ((104, 56), (78, 42), 0),
            ((390, 54), (130, 18), 0),
            ((76, 44), (38, 22), 0),
        ];
        for format in [F::I420, F::Nv12, F::I444, F::Bgra] {
            for (k, &((sw, sh), (dw, dh), bound)) in cases.iter().enumerate() {
                let mut src = OwnedImage::new(format, sw, sh, 1 + k, 0);
                noise(&mut src, 99 + k as u32);
                let mut fast = OwnedImage::new(format, dw, dh, 3, 0);
                let mut slow = OwnedImage::new(format, dw, dh, 0, 0);
                // ARGBScale boxes exactly only at 2x2 (and 4-byte samples have no boxdown
                // kernel): the other ratios take the any-ratio scaler, given AVX2.
                let libyuv_argb = format == F::Bgra && sw == 2 * dw && sh == 2 * dh;
                let expect = format != F::Bgra || libyuv_argb || super::super::resample::possible(sw, sh, dw, dh, true);
                assert_eq!(
                    scale(&src.view(), &mut fast.view_mut()),
                    expect,
                    "{format:?} {sw}x{sh} -> {dw}x{dh}: fast path?"
                );
                if !expect {
                    continue;
                }
                // Four-byte planes at 2x2 go to libyuv's ARGBScale (within BOX_ERROR).
                let bound = if libyuv_argb {
                    BOX_ERROR
                } else if format == F::Bgra {
                    0
                } else {
                    bound
                };
                reference::scale(&src.view(), &mut slow.view_mut());
                fast.assert_padding();
                let d = max_diff(&fast, &slow);
                assert!(d <= bound, "{format:?} {sw}x{sh} -> {dw}x{dh}: max error {d} > {bound}");
            }
        }
    }

    /// Everything libyuv does not box exactly (uneven factors, mixed and upscales) goes to
    /// libmst's any-ratio scaler, bit-exact with the reference, at odd sizes and strides.
    #[test]
    fn any_ratio_matches_the_reference_exactly() {
        // (64x48 -> 64x16 and -> 32x12: libyuv would go bilinear on the axis shrinking by 2 or
        // less, up to 157 off; 200x200 -> 30x30: 20:3, 8 taps a side.)
        let cases = [
            ((30, 20), (20, 14)),
            ((99, 33), (33, 11)),
            ((120, 24), (40, 12)),
            ((64, 48), (64, 16)),
            ((64, 48), (32, 12)),
            ((200, 200), (30, 30)),
            ((96, 54), (51, 29)),
            ((41, 37), (13, 11)),
            ((17, 9), (40, 23)),
            ((16, 10), (50, 31)),
            ((40, 10), (21, 30)),
            ((33, 35), (67, 35)),
            ((1, 1), (9, 5)),
            ((21, 13), (42, 26)),
            ((20, 12), (30, 18)),
            ((7, 5), (21, 15)),
            ((130, 36), (195, 54)),
            ((9, 5), (4, 1)),
            // Found by a review's fuzzing: planes that keep their size (all of them, or only
            // the chroma of 66 -> 65); horizontal weights whose pairs pass 128 (i16 saturation).
            ((8, 1), (8, 1)),
            ((66, 66), (65, 65)),
            ((151, 1), (100, 1)),
            ((348, 27), (242, 27)),
            ((174, 54), (113, 54)),
            // The narrow path (u16 sums, pair permutes): 960:683 across, at a width with
            // every tail (8-wide groups and single samples).
            ((1920, 108), (1366, 77)),
            ((300, 80), (197, 61)),
            ((90, 54), (64, 29)),
            ((41, 37), (30, 11)),
        ];
        let any = super::super::resample::possible(2, 2, 3, 3, false);
        for format in [F::I420, F::Nv12, F::I444, F::Bgra, F::Rgbx] {
            for (k, &((sw, sh), (dw, dh))) in cases.iter().enumerate() {
                let mut src = OwnedImage::new(format, sw, sh, 1 + k % 5, 0);
                noise(&mut src, 7 + k as u32);
                let mut fast = OwnedImage::new(format, dw, dh, 3 + k % 3, 0x5A);
                let mut slow = OwnedImage::new(format, dw, dh, 0, 0);
                assert_eq!(
                    scale(&src.view(), &mut fast.view_mut()),
                    any,
                    "{format:?} {sw}x{sh} -> {dw}x{dh}: fast path?"
                );
                if !any {
                    continue;
                }
                reference::scale(&src.view(), &mut slow.view_mut());
                fast.assert_padding();
                assert_eq!(max_diff(&fast, &slow), 0, "{format:?} {sw}x{sh} -> {dw}x{dh}");
            }
        }
        // Past the any-ratio scaler's limits (100 taps; co-prime sizes whose weights'
        // denominators multiply past 2^23): the reference's.
        for ((sw, sh), (dw, dh)) in [((200, 200), (20, 2)), ((1000, 1000), (3001, 3001))] {
            let src = OwnedImage::new(F::I420, sw, sh, 0, 9);
            let mut dst = OwnedImage::new(F::I420, dw, dh, 0, 0);
            assert!(!scale(&src.view(), &mut dst.view_mut()), "{sw}x{sh} -> {dw}x{dh}");
        }
        // Extreme values: all 255 through the largest sums, all 0.
        for ((sw, sh), (dw, dh)) in
            [((100, 36), (13, 34)), ((151, 1), (100, 1)), ((348, 27), (242, 27)), ((40, 40), (40, 40))]
        {
            for fill in [0u8, 255] {
                for format in [F::I444, F::Bgra] {
                    let src = OwnedImage::new(format, sw, sh, 0, fill);
                    let mut dst = OwnedImage::new(format, dw, dh, 0, 1);
                    assert_eq!(scale(&src.view(), &mut dst.view_mut()), any, "{sw}x{sh} -> {dw}x{dh}");
                    assert!(
                        !any || dst.packed().iter().all(|p| p.iter().all(|&v| v == fill)),
                        "{format:?} {sw}x{sh} -> {dw}x{dh} fill {fill}"
                    );
                }
            }
        }
    }
}
