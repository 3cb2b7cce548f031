//! Box (area-average) downscaling at the ratios cameras and constraints use most, the same in
//! both dimensions: 2:1, 3:1, 4:1 (1080p -> 540p, 360p, 270p), 5:1, 6:1, 8:1 (thumbnails:
//! 1080p -> 320x180 is 6:1), 3:2 (1080p -> 720p) and 4:3,
//! in portable Rust that the compiler vectorises (compiled a second time for AVX2, chosen at
//! run time).
//!
//! P source samples make Q destination samples; destination sample j covers [jP, jP+P) and
//! source sample k [kQ, kQ+Q) on one integer line, and k's weight in j is their overlap (the
//! weights of j sum to P). Each output row sums its source rows, weighted, into a row of u16
//! (vector multiply-adds), then each period of P accumulated samples makes Q outputs (constant
//! offsets and weights: the vectoriser turns them into shuffles) divided by P x P rounding
//! halves up (a constant division: a multiply and a shift). These are the reference's exact
//! area weights with its single rounding, so the result is bit-exact with it.
//!
//! This replaces libyuv's box scaler for these factors: libyuv's ScalePlaneBox is generic over
//! the factor (slower than swscale at 3x) and mallocs a row buffer on every call; here the row
//! is a thread's own, grown once.

use std::cell::RefCell;

thread_local! {
    static ACC: RefCell<Vec<u16>> = const { RefCell::new(Vec::new()) };
}

/// Overlap of destination sample `j` ([jP, jP+P)) and source sample `k` ([kQ, kQ+Q)) when P
/// source samples become Q: the weight of k in j, out of P (per axis).
#[inline(always)]
const fn weight(p: usize, q: usize, j: usize, k: usize) -> u16 {
    let lo = if j * p > k * q { j * p } else { k * q };
    let hi = if (j + 1) * p < (k + 1) * q { (j + 1) * p } else { (k + 1) * q };
    if hi > lo {
        (hi - lo) as u16
    } else {
        0
    }
}

/// One plane: `dw` x `dh` samples of `bps` bytes into `dst` from `src`, which is `p`/`q` times
/// as large in both dimensions (`dw` and `dh` multiples of `q`). Returns false (nothing
/// written) when the ratio or sample size is not one this handles, or a plane is too short.
#[allow(clippy::too_many_arguments)]
pub fn box_plane(
    src: &[u8],
    src_stride: usize,
    dst: &mut [u8],
    dst_stride: usize,
    dw: usize,
    dh: usize,
    bps: usize,
    p: usize,
    q: usize,
) -> bool {
    if dw == 0 || dh == 0 {
        return true;
    }
    if q == 0 || !dw.is_multiple_of(q) || !dh.is_multiple_of(q) {
        return false;
    }
    let row = dw / q * p * bps;
    if !crate::convert::plane_holds(src.len(), src_stride, row, dh / q * p)
        || !crate::convert::plane_holds(dst.len(), dst_stride, dw * bps, dh)
    {
        return false;
    }
    macro_rules! go {
        ($p:literal, $q:literal, $b:literal) => {
            ACC.with(|acc| {
                let mut acc = acc.borrow_mut();
                if acc.len() < row {
                    acc.resize(row, 0);
                }
                run::<$p, $q, $b>(src, src_stride, dst, dst_stride, dw, dh, &mut acc[..row])
            })
        };
    }
    match (p, q, bps) {
        (2, 1, 1) => go!(2, 1, 1),
        (3, 1, 1) => go!(3, 1, 1),
        (4, 1, 1) => go!(4, 1, 1),
        (3, 2, 1) => go!(3, 2, 1),
        (4, 3, 1) => go!(4, 3, 1),
        (2, 1, 2) => go!(2, 1, 2),
        (3, 1, 2) => go!(3, 1, 2),
        (4, 1, 2) => go!(4, 1, 2),
        (3, 2, 2) => go!(3, 2, 2),
        (4, 3, 2) => go!(4, 3, 2),
        (5, 1, 1) => go!(5, 1, 1),
        (6, 1, 1) => go!(6, 1, 1),
        (8, 1, 1) => go!(8, 1, 1),
        (5, 1, 2) => go!(5, 1, 2),
        (6, 1, 2) => go!(6, 1, 2),
        (8, 1, 2) => go!(8, 1, 2),
        _ => return false,
    }
    true
}

/// The (p, q) ratios [`box_plane`] has kernels for, reduced.
pub fn handles(p: usize, q: usize, bps: usize) -> bool {
    matches!((p, q), (2, 1) | (3, 1) | (4, 1) | (5, 1) | (6, 1) | (8, 1) | (3, 2) | (4, 3)) && (bps == 1 || bps == 2)
}

#[allow(clippy::too_many_arguments)]
fn run<const P: usize, const Q: usize, const B: usize>(
    src: &[u8],
    ss: usize,
    dst: &mut [u8],
    ds: usize,
    dw: usize,
    dh: usize,
    acc: &mut [u16],
) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            unsafe { run_avx2::<P, Q, B>(src, ss, dst, ds, dw, dh, acc) };
            return;
        }
    }
    rows::<P, Q, B>(src, ss, dst, ds, dw, dh, acc);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
unsafe fn run_avx2<const P: usize, const Q: usize, const B: usize>(
    src: &[u8],
    ss: usize,
    dst: &mut [u8],
    ds: usize,
    dw: usize,
    dh: usize,
    acc: &mut [u16],
) {
    rows::<P, Q, B>(src, ss, dst, ds, dw, dh, acc);
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn rows<const P: usize, const Q: usize, const B: usize>(
    src: &[u8],
    ss: usize,
    dst: &mut [u8],
    ds: usize,
    dw: usize,
    dh: usize,
    acc: &mut [u16],
) {
    let n = acc.len();
    let area = (P * P) as u32;
    for r in 0..dh {
        // Vertical: the source rows of output row r, weighted (P rows of a period; the ones
        // with weight 0 are skipped).
        let (period, j) = (r / Q, r % Q);
        let mut first = true;
        for k in 0..P {
            let w = weight(P, Q, j, k);
            if w == 0 {
                continue;
            }
            let line = &src[(period * P + k) * ss..][..n];
            if first {
                for (a, &s) in acc.iter_mut().zip(line) {
                    *a = s as u16 * w;
                }
                first = false;
            } else {
                for (a, &s) in acc.iter_mut().zip(line) {
                    *a += s as u16 * w;
                }
            }
        }
        // Horizontal: each period of P accumulated samples makes Q outputs.
        let out = &mut dst[r * ds..][..dw * B];
        for (o, a) in out.chunks_exact_mut(Q * B).zip(acc.chunks_exact(P * B)) {
            for jx in 0..Q {
                for c in 0..B {
                    let mut sum = 0u32;
                    for k in 0..P {
                        sum += weight(P, Q, jx, k) as u32 * a[k * B + c] as u32;
                    }
                    o[jx * B + c] = ((sum + area / 2) / area) as u8;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_of_a_destination_sample_sum_to_the_ratio() {
        for (p, q) in [(2, 1), (3, 1), (4, 1), (3, 2), (4, 3)] {
            for j in 0..q {
                let total: u16 = (0..p).map(|k| weight(p, q, j, k)).sum();
                assert_eq!(total as usize, p, "{p}:{q} phase {j}");
            }
        }
        // 3 -> 2: 2/3 of s0 and 1/3 of s1, then 1/3 of s1 and 2/3 of s2.
        assert_eq!([weight(3, 2, 0, 0), weight(3, 2, 0, 1), weight(3, 2, 0, 2)], [2, 1, 0]);
        assert_eq!([weight(3, 2, 1, 0), weight(3, 2, 1, 1), weight(3, 2, 1, 2)], [0, 1, 2]);
    }
}
