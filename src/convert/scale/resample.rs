//! Scaling at any ratio with the reference's arithmetic ([`super::reference`]): the exact area
//! average when a plane shrinks in both dimensions, pixel-centre bilinear otherwise, bit-exact.
//!
//! [`super::boxdown`] has faster kernels for the common ratios (2:1 to 6:1, 8:1, 3:2, 4:3); this
//! is everything else: 1080p -> 1024x576 (15:8), 720p -> 1080p, 640x480 -> 1000x750, sizes
//! with no common factor. Both filters are separable with integer weights (per axis, out of a
//! denominator that sums them), so the reference's single rounding of the full 2-D sum can be
//! kept exactly. Three paths, all AVX2:
//! - [`Plan::box16`] (area averages at small ratios: sums below 2^16, at most 4 taps of at most 127
//!   per output) and [`Plan::up16`] (bilinear upscales with sums below 2^16): horizontal first,
//!   each source row once, as byte shuffles and multiply-adds of byte pairs straight from the
//!   row; then each output row sums its rows' results and divides 16 lanes at a time.
//! - The general path in 32 bits: vertical first into a row of `i32` (the compiler vectorises
//!   it), then up to [`MAX_TAPS`] horizontal taps per output picked by permutes from a
//!   16-sample window (or gathered, past it), divided by a float estimate of the quotient
//!   (off by at most one) corrected with an integer multiply; vertical upscales filter each
//!   source row horizontally once and blend two of them.
//!
//! Every division is exact: the quotient estimates are checked against their remainder. Sums
//! stay below 2^31 as long as 255 x the product of the denominators does; bigger products
//! (reduced ratios beyond about 2900:1 per axis), more than [`MAX_TAPS`] taps (shrinking by
//! more than 15) and machines without AVX2 are left to the reference.
//!
//! The weight tables depend only on the sizes: a thread keeps the last few (one per plane
//! shape of a frame) and its scratch rows, so once warm a frame allocates nothing.

use std::cell::RefCell;

/// Most taps per output sample along one axis.
pub const MAX_TAPS: usize = 16;

/// Largest product of the two axes' denominators (255 x it + it / 2 must fit an `i32`).
const MAX_TOTAL: u64 = 1 << 23;

/// Accumulated samples one group of 8 outputs may span for the permute path.
const WINDOW: usize = 16;

/// How many weight tables a thread keeps (a frame's plane shapes, with room to alternate).
const CACHED: usize = 6;

/// Most source samples one output overlaps when `s` become `d` (reduced): an output spans `s`
/// units starting at any multiple of 1 (mod `d`), source samples span `d`.
fn box_taps(s: u64, d: u64) -> u64 {
    (s + d - 2) / d + 1
}

/// One axis of `src` samples scaled to `dst`: output `i` is the sum over `t < k` of
/// `w[i * k + t]` times source sample `first[i] + t`, divided by `den` (the weights of one
/// output sum to `den`; taps past the last weight are 0).
#[derive(Debug, PartialEq, Eq)]
struct Taps {
    k: usize,
    den: u64,
    first: Vec<u32>,
    w: Vec<u32>,
}

impl Taps {
    /// The reference's weights, reduced by the sizes' common factor (which changes no result:
    /// see `reduced_weights_round_the_same`), or None past [`MAX_TAPS`].
    fn new(src: usize, dst: usize, use_box: bool) -> Option<Taps> {
        let g = crate::convert::gcd(src as u64, dst as u64);
        let (s, d) = (src as u64 / g, dst as u64 / g);
        if use_box {
            // Source sample j covers [j d, (j + 1) d), output i covers [i s, (i + 1) s).
            let k = box_taps(s, d).min(src as u64) as usize;
            if k > MAX_TAPS {
                return None;
            }
            let mut taps = Taps { k, den: s, first: Vec::with_capacity(dst), w: vec![0; dst * k] };
            for i in 0..dst as u64 {
                let (lo, hi) = (i * s, i * s + s);
                let (j0, j1) = (lo / d, (hi - 1) / d);
                debug_assert!(((j1 - j0) as usize) < k);
                taps.first.push(j0 as u32);
                for j in j0..=j1 {
                    let overlap = ((j + 1) * d).min(hi) - (j * d).max(lo);
                    taps.w[i as usize * k + (j - j0) as usize] = overlap as u32;
                }
            }
            Some(taps)
        } else {
            // Centre of output i at (i + 1/2) src / dst - 1/2 source samples, in units of
            // 1 / (2 d); the left tap clamped to the edges.
            let den = 2 * d;
            let mut taps = Taps { k: 2, den, first: Vec::with_capacity(dst), w: vec![0; dst * 2] };
            for i in 0..dst as u64 {
                let pos = ((2 * i + 1) * s).saturating_sub(d);
                let j = pos / den;
                let (first, f) = if j + 1 >= src as u64 { (src as u64 - 1, 0) } else { (j, pos % den) };
                taps.first.push(first as u32);
                taps.w[i as usize * 2] = (den - f) as u32;
                taps.w[i as usize * 2 + 1] = f as u32;
            }
            Some(taps)
        }
    }
}

/// Everything one plane shape needs: the vertical taps, and the horizontal ones laid out for
/// the gathers (per output sample, channels interleaved: the accumulator index of tap 0, and
/// tap t's weights for all outputs in a row of their own).
struct Plan {
    key: (usize, usize, usize, usize, usize, bool),
    v: Taps,
    hk: usize,
    h_index: Vec<i32>,
    h_w: Vec<i32>,
    total: u64,
    /// Whether every group of 8 outputs reads within 16 accumulated samples of its first
    /// output's tap 0 (`h_index[o - o % 8]`): then two loads and in-register permutes replace
    /// the gathers (upscales and shrinks by less than about 1.9, per channel).
    windowed: bool,
    /// The 16-bit path for small bilinear upscales, when it applies.
    up16: Option<ByteTaps>,
    /// The 16-bit path for area averages with small ratios, when it applies.
    box16: Option<ByteTaps>,
    /// The general path with 16-bit vertical sums, when it applies.
    narrow: Option<Narrow>,
}

/// The general vertical-first path for one-byte planes whose vertical sums fit 15 bits
/// (255 x the vertical denominator < 2^15), with at most 4 horizontal taps: the sums are a
/// row of u16 (twice the lanes of i32), and each output's taps are two adjacent pairs of it,
/// picked by dword permutes (from the row and the row shifted by one sample, for pairs that
/// start on an odd sample) and weighted by one i16 multiply-add per pair. Groups of 8 outputs
/// must start their taps within 15 samples of the group's first.
struct Narrow {
    /// Per pair p of taps (2p, 2p + 1), per output: the two weights as the i16 halves of an i32.
    w: Vec<i32>,
    pairs: usize,
}

impl Narrow {
    fn new(first: &[i32], h_w: &[i32], hk: usize, n: usize, v_den: u64) -> Option<Narrow> {
        if 255 * v_den > i16::MAX as u64 || hk > 4 || h_w.iter().any(|&w| w > i16::MAX as i32) {
            return None;
        }
        let pairs = hk.div_ceil(2);
        let reach = 2 * (pairs - 1);
        if !first.chunks_exact(8).all(|g| g.iter().all(|&f| (f - g[0]) as usize + reach <= 14)) {
            return None;
        }
        let mut w = vec![0i32; pairs * n];
        for p in 0..pairs {
            for o in 0..n {
                let lo = h_w[2 * p * n + o];
                let hi = if 2 * p + 1 < hk { h_w[(2 * p + 1) * n + o] } else { 0 };
                w[p * n + o] = (lo & 0xFFFF) | (hi << 16);
            }
        }
        Some(Narrow { w, pairs })
    }
}

/// The tables of the 16-bit horizontal-first paths, whose sums fit 16 bits (255 x total
/// < 2^16): the horizontal taps are byte shuffles straight from the source row and one
/// multiply-add of byte pairs per two taps ((a, b) x (w0, w1), maddubs), 16 bytes a group.
/// - Area averages ([`Plan::box16`]): 4 slots an output (taps past the last weigh 0), so 4
///   outputs a group; at most 4 taps, and each pair's weights at most 128 (maddubs adds a
///   pair's products into i16, saturating: 255 x 128 < 2^15).
/// - Bilinear upscales ([`Plan::up16`]): 2 slots an output, 8 outputs a group; the two
///   weights sum to the horizontal denominator, at most 128 here.
///
/// Each group's taps must lie within 16 source bytes of its first output's first tap.
struct ByteTaps {
    /// Per group: the source byte its window starts at.
    base: Vec<u32>,
    /// Per group: 16 shuffle indices (each output's slots, relative to `base`).
    masks: Vec<u8>,
    /// Per group: 16 weights (each output's slots).
    weights: Vec<i8>,
}

impl ByteTaps {
    fn new(first: &[i32], h_w: &[i32], hk: usize, n: usize, c: usize, total: u64, slots: usize) -> Option<ByteTaps> {
        // Div16 needs 2..=256 (a same-size plane, total 1, is copied by `plane`).
        if !(2..=256).contains(&total) || hk > slots {
            return None;
        }
        let per_group = 16 / slots;
        let groups = n / per_group;
        let mut b = ByteTaps {
            base: Vec::with_capacity(groups),
            masks: Vec::with_capacity(groups * 16),
            weights: Vec::with_capacity(groups * 16),
        };
        for g in 0..groups {
            let base = first[g * per_group];
            b.base.push(base as u32);
            for o in g * per_group..(g + 1) * per_group {
                let at = first[o] - base;
                if at < 0 || at as usize + (hk - 1) * c >= 16 {
                    return None;
                }
                let w = |t: usize| if t < hk { h_w[t * n + o] } else { 0 };
                if (0..slots).step_by(2).any(|t| w(t) + w(t + 1) > 128) {
                    return None;
                }
                for t in 0..slots {
                    b.masks.push((at as usize + if t < hk { t * c } else { 0 }) as u8);
                    b.weights.push(w(t) as i8);
                }
            }
        }
        Some(b)
    }
}

impl Plan {
    fn new(sw: usize, sh: usize, dw: usize, dh: usize, c: usize, use_box: bool) -> Option<Plan> {
        let h = Taps::new(sw, dw, use_box)?;
        let v = Taps::new(sh, dh, use_box)?;
        let total = h.den * v.den;
        if total > MAX_TOTAL {
            return None;
        }
        let n = dw * c;
        let mut h_index = Vec::with_capacity(n);
        let mut h_w = vec![0i32; h.k * n];
        for o in 0..n {
            let (i, ch) = (o / c, o % c);
            h_index.push((h.first[i] as usize * c + ch) as i32);
            for t in 0..h.k {
                h_w[t * n + o] = h.w[i * h.k + t] as i32;
            }
        }
        let c_taps = (h.k - 1) * c;
        let windowed = h_index.chunks_exact(8).all(|g| (g[7] - g[0]) as usize + c_taps < WINDOW);
        let up16 = if !use_box && dh > sh { ByteTaps::new(&h_index, &h_w, h.k, n, c, total, 2) } else { None };
        let box16 = if use_box && v.k <= MAX_TAPS { ByteTaps::new(&h_index, &h_w, h.k, n, c, total, 4) } else { None };
        let narrow = if c == 1 && dh <= sh { Narrow::new(&h_index, &h_w, h.k, n, v.den) } else { None };
        Some(Plan { key: (sw, sh, dw, dh, c, use_box), v, hk: h.k, h_index, h_w, total, windowed, up16, box16, narrow })
    }
}

#[derive(Default)]
struct Scratch {
    /// Most recently used first.
    plans: Vec<Plan>,
    acc: Vec<i32>,
    /// Two horizontally filtered source rows (vertical upscales).
    hrows: Vec<i32>,
    /// The same for [`Plan::up16`], and its padded source row.
    row16: Vec<u16>,
    line: Vec<u8>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Grows a scratch buffer to at least `n` elements (it never shrinks: warm calls allocate
/// nothing).
fn grow<T: Clone + Default>(v: &mut Vec<T>, n: usize) {
    if v.len() < n {
        v.resize(n, T::default());
    }
}

/// Whether this machine and these sizes have the fast path ([`plane`] then returns true
/// unless a plane is too short for its geometry).
pub fn possible(sw: usize, sh: usize, dw: usize, dh: usize, use_box: bool) -> bool {
    if !avx2() || sw == 0 || sh == 0 || dw == 0 || dh == 0 || sw > i32::MAX as usize / 8 {
        return false;
    }
    let axis = |s: usize, d: usize| {
        let g = crate::convert::gcd(s as u64, d as u64);
        let (s, d) = (s as u64 / g, d as u64 / g);
        if use_box {
            (box_taps(s, d).min(s) <= MAX_TAPS as u64).then_some(s)
        } else {
            Some(2 * d)
        }
    };
    matches!((axis(sw, dw), axis(sh, dh)), (Some(a), Some(b)) if a.checked_mul(b).is_some_and(|t| t <= MAX_TOTAL))
}

fn avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// One plane of `c`-byte samples, `sw` x `sh` at `src` into `dw` x `dh` at `dst`: area
/// average when `use_box` (the image shrinks in both dimensions), bilinear otherwise. Returns
/// false, having written nothing, when [`possible`] is false or a plane is too short.
#[allow(clippy::too_many_arguments)]
pub fn plane(
    src: &[u8],
    src_stride: usize,
    sw: usize,
    sh: usize,
    dst: &mut [u8],
    dst_stride: usize,
    dw: usize,
    dh: usize,
    c: usize,
    use_box: bool,
) -> bool {
    if !possible(sw, sh, dw, dh, use_box) || !matches!(c, 1 | 2 | 4) {
        return false;
    }
    if !crate::convert::plane_holds(src.len(), src_stride, sw * c, sh)
        || !crate::convert::plane_holds(dst.len(), dst_stride, dw * c, dh)
    {
        return false;
    }
    if (sw, sh) == (dw, dh) {
        // Both filters reproduce a plane that keeps its size (an I420 frame's chroma can, when
        // its luma does not): the reference copies it too.
        crate::convert::copy_rows(src, src_stride, dst, dst_stride, dw * c, dh);
        return true;
    }
    SCRATCH.with(|s| {
        let mut s = s.borrow_mut();
        let key = (sw, sh, dw, dh, c, use_box);
        match s.plans.iter().position(|p| p.key == key) {
            Some(0) => {}
            Some(at) => {
                let p = s.plans.remove(at);
                s.plans.insert(0, p);
            }
            None => {
                let Some(p) = Plan::new(sw, sh, dw, dh, c, use_box) else { return false };
                if s.plans.len() == CACHED {
                    s.plans.pop();
                }
                s.plans.insert(0, p);
            }
        }
        let Scratch { plans, acc, hrows, row16, line } = &mut *s;
        let plan = &plans[0];
        // The accumulator row, with room for the zero-weight taps and the permute window
        // past its end.
        let need = (sw + plan.hk) * c + WINDOW;
        grow(acc, need);
        let up = dh > sh;
        if up && hrows.len() < 2 * dw * c {
            hrows.resize(2 * dw * c, 0);
        }
        if let Some(box16) = &plan.box16 {
            // A padded source row (as below) and a ring of filtered rows, one per vertical tap.
            let (n, pad) = (dw * c, sw * c + 32);
            grow(row16, plan.v.k * (n + 16));
            grow(line, pad);
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as below.
            unsafe {
                run_box16_avx2(plan, box16, src, src_stride, sw * c, dst, dst_stride, n, dh, c, line, row16);
            }
            return true;
        }
        if let (Some(narrow), None) = (&plan.narrow, &plan.box16) {
            // A u16 row of sums, with room past its end for the last group's shifted load.
            grow(row16, sw + 32);
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as below; each group's loads read row16[first..first + 17], first < sw.
            unsafe {
                run_narrow_avx2(plan, narrow, src, src_stride, sw, dst, dst_stride, dw, dh, row16);
            }
            return true;
        }
        if let Some(up16) = &plan.up16 {
            // A padded copy of a source row (the last group's 16-byte window may pass its end)
            // and two filtered rows of u16.
            let (n, pad) = (dw * c, sw * c + 32);
            grow(row16, 2 * n + 16);
            grow(line, pad);
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as below; every group's window lies in `line` (base + 16 <= sw * c + 16).
            unsafe {
                run_up16_avx2(plan, up16, src, src_stride, sw * c, dst, dst_stride, n, dh, c, line, row16);
            }
            return true;
        }
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `possible` checked for AVX2; the planes hold their rows (checked above) and
        // the accumulator the taps' reach (sized above: every tap is below (sw + hk) * c, and a
        // permute window starts at a tap).
        unsafe {
            if up {
                run_up_avx2(plan, src, src_stride, sw * c, dst, dst_stride, dw * c, dh, c, acc, hrows);
            } else {
                run_avx2(plan, src, src_stride, sw * c, dst, dst_stride, dw * c, dh, c, acc);
            }
        }
        true
    })
}

/// The per-call constants of the division by `total` (see [`Div::apply`]).
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Div {
    half: std::arch::x86_64::__m256i,
    recip: std::arch::x86_64::__m256,
    total: std::arch::x86_64::__m256i,
    top: std::arch::x86_64::__m256i,
}

#[cfg(target_arch = "x86_64")]
impl Div {
    #[target_feature(enable = "avx2")]
    unsafe fn new(total: i32) -> Div {
        use std::arch::x86_64::*;
        Div {
            half: _mm256_set1_epi32(total / 2),
            recip: _mm256_set1_ps(1.0 / total as f32),
            total: _mm256_set1_epi32(total),
            top: _mm256_set1_epi32(total - 1),
        }
    }

    /// (sum + total / 2) / total for 8 sums in [0, 255 total]: the float quotient is within
    /// 1 of the true one, and the remainder's sign and size fix it.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn apply(self, sum: std::arch::x86_64::__m256i) -> std::arch::x86_64::__m256i {
        use std::arch::x86_64::*;
        let sum = _mm256_add_epi32(sum, self.half);
        let q = _mm256_cvttps_epi32(_mm256_mul_ps(_mm256_cvtepi32_ps(sum), self.recip));
        let rem = _mm256_sub_epi32(sum, _mm256_mullo_epi32(q, self.total));
        let q = _mm256_add_epi32(q, _mm256_cmpgt_epi32(_mm256_setzero_si256(), rem));
        _mm256_sub_epi32(q, _mm256_cmpgt_epi32(rem, self.top))
    }
}

/// Packs 4 x 8 quotients (each 0..=255) into 32 bytes in order.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn pack32(q: [std::arch::x86_64::__m256i; 4]) -> std::arch::x86_64::__m256i {
    use std::arch::x86_64::*;
    let ab = _mm256_packus_epi32(q[0], q[1]);
    let cd = _mm256_packus_epi32(q[2], q[3]);
    // Lane-wise packs interleave 4-sample runs: a0 b0 c0 d0 a1 b1 c1 d1 (dwords).
    let bytes = _mm256_packus_epi16(ab, cd);
    _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7))
}

/// 8 quotients (each 0..=255) as 8 bytes.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn store8(out: &mut [u8], q: std::arch::x86_64::__m256i) {
    use std::arch::x86_64::*;
    let b = _mm256_packus_epi16(_mm256_packus_epi32(q, q), _mm256_setzero_si256());
    let lo = _mm_cvtsi128_si32(_mm256_castsi256_si128(b)) as u32 as u64;
    let hi = _mm_cvtsi128_si32(_mm256_extracti128_si256::<1>(b)) as u32 as u64;
    out[..8].copy_from_slice(&(lo | hi << 32).to_le_bytes());
}

/// Horizontal taps for outputs `o..o + 8` of `acc` (unnormalised sums).
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn taps8(plan: &Plan, acc: *const i32, n: usize, c: usize, o: usize) -> std::arch::x86_64::__m256i {
    use std::arch::x86_64::*;
    let index = _mm256_loadu_si256(plan.h_index.as_ptr().add(o) as *const __m256i);
    let mut sum = _mm256_setzero_si256();
    if plan.windowed {
        // The group's taps all lie in acc[first..first + 16]: pick them with permutes.
        let first = *plan.h_index.get_unchecked(o) as usize;
        let lo = _mm256_loadu_si256(acc.add(first) as *const __m256i);
        let hi = _mm256_loadu_si256(acc.add(first + 8) as *const __m256i);
        let local = _mm256_sub_epi32(index, _mm256_set1_epi32(first as i32));
        for t in 0..plan.hk {
            let at = _mm256_add_epi32(local, _mm256_set1_epi32((t * c) as i32));
            let from_hi = _mm256_cmpgt_epi32(at, _mm256_set1_epi32(7));
            let s =
                _mm256_blendv_epi8(_mm256_permutevar8x32_epi32(lo, at), _mm256_permutevar8x32_epi32(hi, at), from_hi);
            let w = _mm256_loadu_si256(plan.h_w.as_ptr().add(t * n + o) as *const __m256i);
            sum = _mm256_add_epi32(sum, _mm256_mullo_epi32(s, w));
        }
    } else {
        for t in 0..plan.hk {
            let at = _mm256_add_epi32(index, _mm256_set1_epi32((t * c) as i32));
            let s = _mm256_i32gather_epi32::<4>(acc, at);
            let w = _mm256_loadu_si256(plan.h_w.as_ptr().add(t * n + o) as *const __m256i);
            sum = _mm256_add_epi32(sum, _mm256_mullo_epi32(s, w));
        }
    }
    sum
}

/// Horizontal taps of one scalar output (the row tails).
#[inline]
fn taps1(plan: &Plan, acc: &[i32], n: usize, c: usize, o: usize) -> i64 {
    let at = plan.h_index[o] as usize;
    (0..plan.hk).map(|t| plan.h_w[t * n + o] as i64 * acc[at + t * c] as i64).sum()
}

/// `acc` = the sum of `rows`' samples times their weights (i32, or u16 when the sums are
/// known to fit).
#[inline(always)]
fn weigh_rows<'a, T>(acc: &mut [T], rows: impl Iterator<Item = (&'a [u8], T)>)
where
    T: Copy + From<u8> + std::ops::Mul<Output = T> + std::ops::AddAssign,
{
    let mut first = true;
    for (line, w) in rows {
        if first {
            for (a, &s) in acc.iter_mut().zip(line) {
                *a = w * T::from(s);
            }
            first = false;
        } else {
            for (a, &s) in acc.iter_mut().zip(line) {
                *a += w * T::from(s);
            }
        }
    }
}

/// Output row `y`'s source rows (`row` bytes each, `ss` apart in `src`) and their vertical
/// weights, the zero ones left out.
#[inline(always)]
fn vertical_rows<'a>(
    v: &'a Taps,
    src: &'a [u8],
    ss: usize,
    row: usize,
    y: usize,
) -> impl Iterator<Item = (&'a [u8], u32)> + 'a {
    (0..v.k).filter_map(move |t| {
        let w = v.w[y * v.k + t];
        (w != 0).then(|| (&src[(v.first[y] as usize + t) * ss..][..row], w))
    })
}

/// Which of two row slots hold which source rows, for the bilinear upscales' horizontal-first
/// passes: output row y needs rows `first` and `first + 1`, and `first` only grows.
struct TwoRows {
    held: [usize; 2],
}

impl TwoRows {
    fn new() -> TwoRows {
        TwoRows { held: [usize::MAX; 2] }
    }

    /// The slot to filter source row `r` into (the one not holding `first`), or None when `r`
    /// is held already.
    fn fill(&mut self, r: usize, first: usize) -> Option<usize> {
        if self.held.contains(&r) {
            return None;
        }
        let slot = if self.held[0] == first { 1 } else { 0 };
        self.held[slot] = r;
        Some(slot)
    }

    /// The (source row, slot) pairs to filter for an output row whose taps are `first` and,
    /// when it weighs anything, `first + 1`: the rows not held yet.
    fn missing(&mut self, first: usize, second_weighted: bool) -> impl Iterator<Item = (usize, usize)> {
        let a = self.fill(first, first).map(|s| (first, s));
        let b = if second_weighted { self.fill(first + 1, first).map(|s| (first + 1, s)) } else { None };
        a.into_iter().chain(b)
    }

    /// The slot holding source row `r` (which `fill` put there).
    fn slot_of(&self, r: usize) -> usize {
        if self.held[0] == r {
            0
        } else {
            1
        }
    }
}

/// Writes one output row from quotients made 8 at a time by `group(o)` (i32 lanes, each
/// 0..=255), the last fewer than 8 by `scalar(o)`.
///
/// Inlined into its AVX2 callers (always: a call would keep the closures from inlining).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn emit8(
    out: &mut [u8],
    mut group: impl FnMut(usize) -> std::arch::x86_64::__m256i,
    scalar: impl Fn(usize) -> u8,
) {
    use std::arch::x86_64::*;
    let n = out.len();
    let mut o = 0;
    while o + 32 <= n {
        let q = [0, 8, 16, 24].map(|i| group(o + i));
        _mm256_storeu_si256(out.as_mut_ptr().add(o) as *mut __m256i, pack32(q));
        o += 32;
    }
    while o + 8 <= n {
        store8(&mut out[o..o + 8], group(o));
        o += 8;
    }
    for (o, px) in out.iter_mut().enumerate().skip(o) {
        *px = scalar(o);
    }
}

/// [`emit8`] for quotients made 16 at a time (u16 lanes, each 0..=255).
///
/// Inlined into its AVX2 callers (always: a call would keep the closures from inlining).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn emit16(out: &mut [u8], group: impl Fn(usize) -> std::arch::x86_64::__m256i, scalar: impl Fn(usize) -> u8) {
    use std::arch::x86_64::*;
    let n = out.len();
    let mut o = 0;
    while o + 32 <= n {
        let bytes = _mm256_packus_epi16(group(o), group(o + 16));
        _mm256_storeu_si256(out.as_mut_ptr().add(o) as *mut __m256i, _mm256_permute4x64_epi64::<0b11_01_10_00>(bytes));
        o += 32;
    }
    for (o, px) in out.iter_mut().enumerate().skip(o) {
        *px = scalar(o);
    }
}

/// Vertical first (the plane does not grow vertically): each output row sums its source rows
/// into `acc`, then the horizontal taps make the outputs.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
unsafe fn run_avx2(
    plan: &Plan,
    src: &[u8],
    ss: usize,
    src_row: usize,
    dst: &mut [u8],
    ds: usize,
    n: usize,
    dh: usize,
    c: usize,
    acc: &mut [i32],
) {
    let total = plan.total as i64;
    let div = Div::new(plan.total as i32);
    for y in 0..dh {
        weigh_rows(&mut acc[..src_row], vertical_rows(&plan.v, src, ss, src_row, y).map(|(l, w)| (l, w as i32)));
        let (acc, base) = (&*acc, acc.as_ptr());
        emit8(
            &mut dst[y * ds..][..n],
            |o| div.apply(taps8(plan, base, n, c, o)),
            |o| ((taps1(plan, acc, n, c, o) + total / 2) / total) as u8,
        );
    }
}

/// [`run_avx2`] with 16-bit vertical sums ([`Narrow`]; one-byte planes).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
unsafe fn run_narrow_avx2(
    plan: &Plan,
    nar: &Narrow,
    src: &[u8],
    ss: usize,
    sw: usize,
    dst: &mut [u8],
    ds: usize,
    n: usize,
    dh: usize,
    acc: &mut [u16],
) {
    use std::arch::x86_64::*;
    let total = plan.total as i64;
    let div = Div::new(plan.total as i32);
    let group = |acc: *const u16, o: usize| {
        let first = *plan.h_index.get_unchecked(o) as usize;
        let even = _mm256_loadu_si256(acc.add(first) as *const __m256i);
        let odd = _mm256_loadu_si256(acc.add(first + 1) as *const __m256i);
        let local = _mm256_sub_epi32(
            _mm256_loadu_si256(plan.h_index.as_ptr().add(o) as *const __m256i),
            _mm256_set1_epi32(first as i32),
        );
        let mut sum = _mm256_setzero_si256();
        for p in 0..nar.pairs {
            let at = _mm256_add_epi32(local, _mm256_set1_epi32(2 * p as i32));
            let dword = _mm256_srli_epi32(at, 1);
            // Pairs starting on an odd sample come from the row shifted by one.
            let from_odd = _mm256_castsi256_ps(_mm256_slli_epi32(at, 31));
            let a = _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(even, dword));
            let b = _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(odd, dword));
            let pair = _mm256_castps_si256(_mm256_blendv_ps(a, b, from_odd));
            let w = _mm256_loadu_si256(nar.w.as_ptr().add(p * n + o) as *const __m256i);
            sum = _mm256_add_epi32(sum, _mm256_madd_epi16(pair, w));
        }
        div.apply(sum)
    };
    for y in 0..dh {
        // Vertical: u16 sums (at most 255 x the vertical denominator < 2^15).
        weigh_rows(&mut acc[..sw], vertical_rows(&plan.v, src, ss, sw, y).map(|(l, w)| (l, w as u16)));
        let (acc, base) = (&*acc, acc.as_ptr());
        let scalar = |o: usize| {
            let at = plan.h_index[o] as usize;
            let sum: i64 = (0..plan.hk).map(|t| plan.h_w[t * n + o] as i64 * acc[at + t] as i64).sum();
            ((sum + total / 2) / total) as u8
        };
        emit8(&mut dst[y * ds..][..n], |o| group(base, o), scalar);
    }
}

/// Horizontal first (the plane grows vertically, so bilinear: each source row feeds several
/// output rows): each source row's horizontal sums are made once into one of two rows of
/// `hrows`, and each output row blends two of them.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
unsafe fn run_up_avx2(
    plan: &Plan,
    src: &[u8],
    ss: usize,
    src_row: usize,
    dst: &mut [u8],
    ds: usize,
    n: usize,
    dh: usize,
    c: usize,
    acc: &mut [i32],
    hrows: &mut [i32],
) {
    use std::arch::x86_64::*;
    let total = plan.total as i64;
    let div = Div::new(plan.total as i32);
    let v = &plan.v;
    debug_assert_eq!(v.k, 2);
    let (h0, h1) = hrows[..2 * n].split_at_mut(n);
    let mut held = TwoRows::new();
    let slots = [h0, h1];
    for y in 0..dh {
        let first = v.first[y] as usize;
        let (w0, w1) = (v.w[2 * y] as i32, v.w[2 * y + 1] as i32);
        // Source rows `first` and (when weighted) `first + 1`, filtered horizontally.
        for (r, slot) in held.missing(first, w1 != 0) {
            weigh_rows(&mut acc[..src_row], std::iter::once((&src[r * ss..][..src_row], 1)));
            let h = &mut *slots[slot];
            let base = acc.as_ptr();
            let mut o = 0;
            while o + 8 <= n {
                _mm256_storeu_si256(h.as_mut_ptr().add(o) as *mut __m256i, taps8(plan, base, n, c, o));
                o += 8;
            }
            for (o, x) in h.iter_mut().enumerate().skip(o) {
                *x = taps1(plan, acc, n, c, o) as i32;
            }
        }
        let top = &*slots[held.slot_of(first)];
        let bottom = if w1 == 0 { top } else { &*slots[held.slot_of(first + 1)] };
        let (wa, wb) = (_mm256_set1_epi32(w0), _mm256_set1_epi32(w1));
        let blend = |o: usize| {
            let a = _mm256_loadu_si256(top.as_ptr().add(o) as *const __m256i);
            let b = _mm256_loadu_si256(bottom.as_ptr().add(o) as *const __m256i);
            div.apply(_mm256_add_epi32(_mm256_mullo_epi32(a, wa), _mm256_mullo_epi32(b, wb)))
        };
        let scalar = |o: usize| ((w0 as i64 * top[o] as i64 + w1 as i64 * bottom[o] as i64 + total / 2) / total) as u8;
        emit8(&mut dst[y * ds..][..n], blend, scalar);
    }
}

/// Division of 16 sums (each at most 255 x `total` + `total` / 2 < 2^16, `total` 2..=256)
/// by `total`, rounding halves up: q = (x * (65536 / total)) >> 16 is q or q - 1; the
/// remainder says which.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Div16 {
    magic: std::arch::x86_64::__m256i,
    total: std::arch::x86_64::__m256i,
    top: std::arch::x86_64::__m256i,
    half: std::arch::x86_64::__m256i,
}

#[cfg(target_arch = "x86_64")]
impl Div16 {
    #[target_feature(enable = "avx2")]
    unsafe fn new(total: u16) -> Div16 {
        use std::arch::x86_64::*;
        Div16 {
            magic: _mm256_set1_epi16((65536 / total as u32) as u16 as i16),
            total: _mm256_set1_epi16(total as i16),
            top: _mm256_set1_epi16(total as i16 - 1),
            half: _mm256_set1_epi16((total / 2) as i16),
        }
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn apply(self, x: std::arch::x86_64::__m256i) -> std::arch::x86_64::__m256i {
        use std::arch::x86_64::*;
        let x = _mm256_add_epi16(x, self.half);
        let q = _mm256_mulhi_epu16(x, self.magic);
        let rem = _mm256_sub_epi16(x, _mm256_mullo_epi16(q, self.total));
        _mm256_sub_epi16(q, _mm256_cmpgt_epi16(rem, self.top))
    }
}

/// [`run_avx2`] in 16 bits, horizontal first ([`Plan::box16`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
unsafe fn run_box16_avx2(
    plan: &Plan,
    b: &ByteTaps,
    src: &[u8],
    ss: usize,
    src_row: usize,
    dst: &mut [u8],
    ds: usize,
    n: usize,
    dh: usize,
    c: usize,
    line: &mut [u8],
    ring: &mut [u16],
) {
    use std::arch::x86_64::*;
    let total = plan.total as u16;
    let div = Div16::new(total);
    let v = &plan.v;
    let slots = v.k;
    let width = n + 16;
    let mut held = [usize::MAX; MAX_TAPS];
    let groups = b.base.len();
    let ones = _mm256_set1_epi16(1);
    for y in 0..dh {
        let first = v.first[y] as usize;
        let taps = (0..v.k).filter(|&t| v.w[y * v.k + t] != 0);
        for t in taps.clone() {
            let r = first + t;
            let slot = r % slots;
            if held[slot] == r {
                continue;
            }
            line[..src_row].copy_from_slice(&src[r * ss..][..src_row]);
            let h = &mut ring[slot * width..][..width];
            let l = line.as_ptr();
            let sums = |g: usize| {
                let a = _mm256_loadu2_m128i(
                    l.add(b.base[g + 1] as usize) as *const __m128i,
                    l.add(b.base[g] as usize) as *const __m128i,
                );
                let m = _mm256_loadu_si256(b.masks.as_ptr().add(g * 16) as *const __m256i);
                let w = _mm256_loadu_si256(b.weights.as_ptr().add(g * 16) as *const __m256i);
                _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_shuffle_epi8(a, m), w), ones)
            };
            let mut g = 0;
            while g + 4 <= groups {
                // Groups g, g + 1 | g + 2, g + 3 as dwords; packed lane-wise, then reordered.
                let packed = _mm256_packus_epi32(sums(g), sums(g + 2));
                _mm256_storeu_si256(
                    h.as_mut_ptr().add(g * 4) as *mut __m256i,
                    _mm256_permute4x64_epi64::<0b11_01_10_00>(packed),
                );
                g += 4;
            }
            while g < groups {
                let a = _mm_loadu_si128(l.add(b.base[g] as usize) as *const __m128i);
                let m = _mm_loadu_si128(b.masks.as_ptr().add(g * 16) as *const __m128i);
                let w = _mm_loadu_si128(b.weights.as_ptr().add(g * 16) as *const __m128i);
                let x = _mm_madd_epi16(_mm_maddubs_epi16(_mm_shuffle_epi8(a, m), w), _mm_set1_epi16(1));
                _mm_storel_epi64(h.as_mut_ptr().add(g * 4) as *mut __m128i, _mm_packus_epi32(x, x));
                g += 1;
            }
            for (o, x) in h[..n].iter_mut().enumerate().skip(groups * 4) {
                let at = plan.h_index[o] as usize;
                *x = (0..plan.hk).map(|t| plan.h_w[t * n + o] as u32 * line[at + t * c] as u32).sum::<u32>() as u16;
            }
            held[slot] = r;
        }
        let out = &mut dst[y * ds..][..n];
        // This output row's filtered source rows and their weights.
        let mut rows = [(std::ptr::null::<u16>(), 0u32); MAX_TAPS];
        let mut count = 0;
        for t in taps {
            rows[count] = (ring.as_ptr().add((first + t) % slots * width), v.w[y * v.k + t]);
            count += 1;
        }
        let rows = &rows[..count];
        let sum16 = |o: usize| {
            let mut acc = _mm256_setzero_si256();
            for &(row, w) in rows {
                let w = _mm256_set1_epi16(w as i16);
                acc = _mm256_add_epi16(acc, _mm256_mullo_epi16(_mm256_loadu_si256(row.add(o) as *const __m256i), w));
            }
            div.apply(acc)
        };
        let scalar = |o: usize| {
            let sum: u32 = rows.iter().map(|&(row, w)| w * *row.add(o) as u32).sum();
            ((sum + total as u32 / 2) / total as u32) as u8
        };
        emit16(out, sum16, scalar);
    }
}

/// [`run_up_avx2`] in 16 bits ([`Plan::up16`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
unsafe fn run_up16_avx2(
    plan: &Plan,
    up: &ByteTaps,
    src: &[u8],
    ss: usize,
    src_row: usize,
    dst: &mut [u8],
    ds: usize,
    n: usize,
    dh: usize,
    c: usize,
    line: &mut [u8],
    rows: &mut [u16],
) {
    use std::arch::x86_64::*;
    let total = plan.total as u16;
    let v = &plan.v;
    let (h0, h1) = rows[..2 * n + 16].split_at_mut(n + 8);
    let mut held = TwoRows::new();
    let slots = [h0, h1];
    let groups = up.base.len();
    let div = Div16::new(total);
    for y in 0..dh {
        let first = v.first[y] as usize;
        let (w0, w1) = (v.w[2 * y] as u16, v.w[2 * y + 1] as u16);
        for (r, slot) in held.missing(first, w1 != 0) {
            line[..src_row].copy_from_slice(&src[r * ss..][..src_row]);
            let h = &mut *slots[slot];
            let l = line.as_ptr();
            let mut g = 0;
            while g + 2 <= groups {
                let a = _mm256_loadu2_m128i(
                    l.add(up.base[g + 1] as usize) as *const __m128i,
                    l.add(up.base[g] as usize) as *const __m128i,
                );
                let m = _mm256_loadu_si256(up.masks.as_ptr().add(g * 16) as *const __m256i);
                let w = _mm256_loadu_si256(up.weights.as_ptr().add(g * 16) as *const __m256i);
                let sums = _mm256_maddubs_epi16(_mm256_shuffle_epi8(a, m), w);
                _mm256_storeu_si256(h.as_mut_ptr().add(g * 8) as *mut __m256i, sums);
                g += 2;
            }
            if g < groups {
                let a = _mm_loadu_si128(l.add(up.base[g] as usize) as *const __m128i);
                let m = _mm_loadu_si128(up.masks.as_ptr().add(g * 16) as *const __m128i);
                let w = _mm_loadu_si128(up.weights.as_ptr().add(g * 16) as *const __m128i);
                _mm_storeu_si128(
                    h.as_mut_ptr().add(g * 8) as *mut __m128i,
                    _mm_maddubs_epi16(_mm_shuffle_epi8(a, m), w),
                );
            }
            for (o, x) in h[..n].iter_mut().enumerate().skip(groups * 8) {
                let at = plan.h_index[o] as usize;
                *x = (plan.h_w[o] as u32 * line[at] as u32 + plan.h_w[n + o] as u32 * line[at + c] as u32) as u16;
            }
        }
        let top = &*slots[held.slot_of(first)];
        let bottom = if w1 == 0 { top } else { &*slots[held.slot_of(first + 1)] };
        let out = &mut dst[y * ds..][..n];
        let (wa, wb) = (_mm256_set1_epi16(w0 as i16), _mm256_set1_epi16(w1 as i16));
        let blend = |o: usize| {
            let a = _mm256_loadu_si256(top.as_ptr().add(o) as *const __m256i);
            let b = _mm256_loadu_si256(bottom.as_ptr().add(o) as *const __m256i);
            div.apply(_mm256_add_epi16(_mm256_mullo_epi16(a, wa), _mm256_mullo_epi16(b, wb)))
        };
        let scalar = |o: usize| {
            ((w0 as u32 * top[o] as u32 + w1 as u32 * bottom[o] as u32 + total as u32 / 2) / total as u32) as u8
        };
        emit16(out, blend, scalar);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_of_every_output_sum_to_the_denominator() {
        for (s, d) in [(1920, 1024), (1080, 576), (7, 3), (5, 5), (3, 7), (720, 1080), (1, 9), (9, 1)] {
            for use_box in [true, false] {
                if use_box && d > s {
                    continue;
                }
                let t = Taps::new(s, d, use_box).unwrap();
                for i in 0..d {
                    let sum: u64 = t.w[i * t.k..][..t.k].iter().map(|&w| w as u64).sum();
                    assert_eq!(sum, t.den, "{s}->{d} box={use_box} output {i}");
                    // Every weighted tap is inside the source.
                    for tap in 0..t.k {
                        if t.w[i * t.k + tap] > 0 {
                            assert!((t.first[i] as usize + tap) < s, "{s}->{d} output {i} tap {tap}");
                        }
                    }
                }
            }
        }
        // 15:8 box: output 0 covers source [0, 15/8): 8 of s0 and 7 of s1 (out of 15).
        let t = Taps::new(1920, 1024, true).unwrap();
        assert_eq!((t.den, t.first[0], &t.w[..2]), (15, 0, &[8, 7][..]));
        // 2x bilinear: output 0 sits at -1/4 (clamped: all s0), output 1 at 1/4.
        let t = Taps::new(2, 4, false).unwrap();
        assert_eq!((t.den, &t.first[..], &t.w[..]), (4, &[0, 0, 0, 1][..], &[4, 0, 3, 1, 1, 3, 4, 0][..]));
    }

    #[test]
    fn small_bilinear_upscales_take_the_16_bit_path() {
        for c in [1, 2, 4] {
            for ((sw, sh), (dw, dh)) in
                [((20, 12), (30, 18)), ((21, 13), (42, 26)), ((7, 5), (21, 15)), ((130, 36), (195, 54))]
            {
                let plan = Plan::new(sw, sh, dw, dh, c, false).unwrap();
                assert!(plan.up16.is_some(), "{sw}x{sh} -> {dw}x{dh} x{c}");
            }
            // Sums past 16 bits (total 4 x 40 x 23), and vertical shrinks, do not.
            assert!(Plan::new(17, 9, 40, 23, c, false).unwrap().up16.is_none());
            assert!(Plan::new(20, 18, 30, 12, c, false).unwrap().up16.is_none());
        }
    }

    #[test]
    fn one_byte_planes_with_small_vertical_sums_take_the_narrow_path() {
        // 1080p -> 1366x768 (960:683 across, too fine for the byte-shuffle path), 720p -> 1000x560, and
        // uneven sizes; 4:2:0 chroma of the first too.
        for ((sw, sh), (dw, dh)) in [
            ((1920, 1080), (1366, 768)),
            ((960, 540), (683, 384)),
            ((1280, 720), (1000, 560)),
            ((90, 54), (64, 29)),
            ((41, 37), (30, 11)),
        ] {
            let plan = Plan::new(sw, sh, dw, dh, 1, true).unwrap();
            assert!(plan.narrow.is_some() && plan.box16.is_none(), "{sw}x{sh} -> {dw}x{dh}");
            // Two-byte samples' taps are not adjacent: not this path.
            assert!(Plan::new(sw, sh, dw, dh, 2, true).unwrap().narrow.is_none());
        }
        // A vertical denominator past 128 (255 x it >= 2^15): the 32-bit path.
        assert!(Plan::new(1920, 1080, 1366, 1079, 1, true).unwrap().narrow.is_none());
    }

    #[test]
    fn limits_leave_the_rest_to_the_reference() {
        assert!(Taps::new(170, 10, true).is_none(), "17 taps");
        assert!(Taps::new(160, 10, true).is_some());
        if avx2() {
            assert!(possible(1920, 1080, 1024, 576, true));
            assert!(possible(1280, 720, 1920, 1080, false));
            // Co-prime sizes: 2 x 3001 x 2 x 3001 > 2^23.
            assert!(!possible(1000, 1000, 3001, 3001, false));
            assert!(!possible(1920, 1080, 100, 1080, true), "more than 16 taps");
        }
    }
}
