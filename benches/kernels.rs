//! libmst's pixel kernels side by side with libyuv and swscale (and, for MJPEG, libyuv's
//! MJPGToI420 over libjpeg-turbo), in one process, interleaved, single thread, hot cache (each
//! timed call right after an untimed one of the same contender, see `race_hot`):
//!
//!     bash scripts/bench.sh kernels      (installs the peers, then cargo bench --bench kernels)
//!
//! Each row runs the same operation on the same 1080p input: libmst through the functions the
//! library itself calls for frames (`mst::convert::*`, the camera's `Converter`), the peers
//! through their C APIs (Debian's libyuv.so and libswscale.so: bench-only dependencies, never
//! needed by the library). Rounds call every contender once in turn, so machine noise hits all
//! alike; the table shows each one's median, the ratio libmst / the faster peer, and the
//! largest per-sample difference of each output from libmst's plain reference implementation
//! (`mst::convert::reference`: exact integer arithmetic, the definition the fast kernels are
//! held to; its own row shows its speed).

use std::ffi::{c_int, c_uint, c_ulong, c_void, CStr};
use std::hint::black_box;
use std::time::Instant;

use mst::convert::{Image, ImageMut};
use mst::frame::VideoPixelFormat as F;

// ---------------------------------------------------------------------------------------------
// The peers' C APIs (the few functions used).

#[allow(non_upper_case_globals)]
mod peers {
    use super::*;

    #[repr(C)]
    pub struct YuvConstants {
        _opaque: [u8; 0],
    }

    pub const K_FILTER_BILINEAR: c_uint = 2;
    pub const K_FILTER_BOX: c_uint = 3;

    // By file name: yuv-sys's own static libyuv.a (symbols prefixed rs_) sits earlier on the
    // search path and would shadow Debian's libyuv.so, the peer.
    #[link(name = "libyuv.so.0", kind = "dylib", modifiers = "+verbatim")]
    extern "C" {
        pub static kYuvH709Constants: YuvConstants;
        #[allow(clippy::too_many_arguments)]
        pub fn I420Scale(
            sy: *const u8,
            ssy: c_int,
            su: *const u8,
            ssu: c_int,
            sv: *const u8,
            ssv: c_int,
            sw: c_int,
            sh: c_int,
            dy: *mut u8,
            dsy: c_int,
            du: *mut u8,
            dsu: c_int,
            dv: *mut u8,
            dsv: c_int,
            dw: c_int,
            dh: c_int,
            filter: c_uint,
        ) -> c_int;
        #[allow(clippy::too_many_arguments)]
        pub fn YUY2ToI420(
            s: *const u8,
            ss: c_int,
            dy: *mut u8,
            dsy: c_int,
            du: *mut u8,
            dsu: c_int,
            dv: *mut u8,
            dsv: c_int,
            w: c_int,
            h: c_int,
        ) -> c_int;
        #[allow(clippy::too_many_arguments)]
        pub fn NV12ToI420(
            sy: *const u8,
            ssy: c_int,
            suv: *const u8,
            ssuv: c_int,
            dy: *mut u8,
            dsy: c_int,
            du: *mut u8,
            dsu: c_int,
            dv: *mut u8,
            dsv: c_int,
            w: c_int,
            h: c_int,
        ) -> c_int;
        #[allow(clippy::too_many_arguments)]
        pub fn I420ToARGBMatrix(
            sy: *const u8,
            ssy: c_int,
            su: *const u8,
            ssu: c_int,
            sv: *const u8,
            ssv: c_int,
            d: *mut u8,
            ds: c_int,
            m: *const YuvConstants,
            w: c_int,
            h: c_int,
        ) -> c_int;
        #[allow(clippy::too_many_arguments)]
        pub fn ARGBToI420(
            s: *const u8,
            ss: c_int,
            dy: *mut u8,
            dsy: c_int,
            du: *mut u8,
            dsu: c_int,
            dv: *mut u8,
            dsv: c_int,
            w: c_int,
            h: c_int,
        ) -> c_int;
        #[allow(clippy::too_many_arguments)]
        pub fn I420ToNV12(
            sy: *const u8,
            ssy: c_int,
            su: *const u8,
            ssu: c_int,
            sv: *const u8,
            ssv: c_int,
            dy: *mut u8,
            dsy: c_int,
            duv: *mut u8,
            dsuv: c_int,
            w: c_int,
            h: c_int,
        ) -> c_int;
        #[allow(clippy::too_many_arguments)]
        pub fn MJPGToI420(
            s: *const u8,
            n: usize,
            dy: *mut u8,
            dsy: c_int,
            du: *mut u8,
            dsu: c_int,
            dv: *mut u8,
            dsv: c_int,
            sw: c_int,
            sh: c_int,
            dw: c_int,
            dh: c_int,
        ) -> c_int;
    }

    pub const AV_PIX_FMT_YUV420P: c_int = 0;
    pub const AV_PIX_FMT_YUYV422: c_int = 1;
    pub const AV_PIX_FMT_NV12: c_int = 23;
    pub const AV_PIX_FMT_BGRA: c_int = 28;
    pub const SWS_BILINEAR: c_int = 2;
    pub const SWS_AREA: c_int = 0x20;
    pub const SWS_CS_ITU709: c_int = 1;

    #[link(name = "swscale")]
    extern "C" {
        #[allow(clippy::too_many_arguments)]
        pub fn sws_getContext(
            sw: c_int,
            sh: c_int,
            sf: c_int,
            dw: c_int,
            dh: c_int,
            df: c_int,
            flags: c_int,
            a: *mut c_void,
            b: *mut c_void,
            p: *const f64,
        ) -> *mut c_void;
        pub fn sws_scale(
            c: *mut c_void,
            src: *const *const u8,
            ss: *const c_int,
            y: c_int,
            h: c_int,
            dst: *const *mut u8,
            ds: *const c_int,
        ) -> c_int;
        pub fn sws_freeContext(c: *mut c_void);
        pub fn sws_getCoefficients(colorspace: c_int) -> *const c_int;
        #[allow(clippy::too_many_arguments)]
        pub fn sws_setColorspaceDetails(
            c: *mut c_void,
            inv: *const c_int,
            src_range: c_int,
            table: *const c_int,
            dst_range: c_int,
            brightness: c_int,
            contrast: c_int,
            saturation: c_int,
        ) -> c_int;
    }

    #[link(name = "avutil")]
    extern "C" {
        pub fn av_get_pix_fmt_name(f: c_int) -> *const std::ffi::c_char;
    }

    #[link(name = "turbojpeg")]
    extern "C" {
        pub fn tjInitCompress() -> *mut c_void;
        #[allow(clippy::too_many_arguments)]
        pub fn tjCompress2(
            h: *mut c_void,
            src: *const u8,
            w: c_int,
            pitch: c_int,
            height: c_int,
            pf: c_int,
            out: *mut *mut u8,
            size: *mut c_ulong,
            subsamp: c_int,
            quality: c_int,
            flags: c_int,
        ) -> c_int;
        pub fn tjFree(buf: *mut u8);
        pub fn tjDestroy(h: *mut c_void) -> c_int;
        pub fn tjInitDecompress() -> *mut c_void;
        pub fn tjDecompressToYUVPlanes(
            h: *mut c_void,
            src: *const u8,
            size: c_ulong,
            dst: *mut *mut u8,
            w: c_int,
            strides: *mut c_int,
            height: c_int,
            flags: c_int,
        ) -> c_int;
    }
}

// ---------------------------------------------------------------------------------------------
// Images

/// An image in its own planes, rows `pad` bytes longer than needed (odd strides on purpose).
struct Img {
    format: F,
    w: usize,
    h: usize,
    planes: Vec<Vec<u8>>,
    strides: Vec<usize>,
}

impl Img {
    fn new(format: F, w: usize, h: usize, pad: usize) -> Img {
        let mut planes = Vec::new();
        let mut strides = Vec::new();
        for info in format.planes() {
            let stride = info.row_bytes(w) + pad;
            planes.push(vec![0u8; stride * info.samples(w, h).1]);
            strides.push(stride);
        }
        Img { format, w, h, planes, strides }
    }

    /// A smooth picture with fine detail, the same whatever the format's layout.
    fn picture(format: F, w: usize, h: usize, pad: usize) -> Img {
        let mut img = Img::new(format, w, h, pad);
        for (p, info) in format.planes().iter().enumerate() {
            let (pw, ph) = info.samples(w, h);
            let bps = info.bytes_per_sample;
            for y in 0..ph {
                for x in 0..pw {
                    for c in 0..bps {
                        let v = (x * 255 / pw.max(1)) ^ ((y * 7 + c * 50 + p * 80) & 0x3f) ^ ((x * y) >> 9 & 0x1f);
                        let v = if format.is_rgb() || p == 3 {
                            v
                        } else if p == 0 {
                            16 + v * 219 / 255
                        } else {
                            16 + v * 224 / 255
                        };
                        img.planes[p][y * img.strides[p] + x * bps + c] = v as u8;
                    }
                }
            }
        }
        img
    }

    fn view(&self) -> Image<'_> {
        let mut planes: [&[u8]; 4] = [&[]; 4];
        let mut strides = [0; 4];
        for i in 0..self.planes.len() {
            planes[i] = &self.planes[i];
            strides[i] = self.strides[i];
        }
        Image { format: self.format, width: self.w, height: self.h, planes, strides }
    }

    fn view_mut(&mut self) -> ImageMut<'_> {
        let mut strides = [0; 4];
        strides[..self.strides.len()].copy_from_slice(&self.strides);
        let mut it = self.planes.iter_mut();
        let mut next = || it.next().map_or(&mut [][..], |p| &mut p[..]);
        let planes = [next(), next(), next(), next()];
        ImageMut { format: self.format, width: self.w, height: self.h, planes, strides }
    }

    fn ptr(&self, p: usize) -> *const u8 {
        self.planes[p].as_ptr()
    }

    fn mptr(&mut self, p: usize) -> *mut u8 {
        self.planes[p].as_mut_ptr()
    }

    fn stride(&self, p: usize) -> c_int {
        self.strides[p] as c_int
    }

    /// The largest per-sample difference from `other` (same format and size).
    fn max_diff(&self, other: &Img) -> u8 {
        let mut m = 0;
        for (p, info) in self.format.planes().iter().enumerate() {
            let (pw, ph) = info.samples(self.w, self.h);
            let n = pw * info.bytes_per_sample;
            for y in 0..ph {
                let a = &self.planes[p][y * self.strides[p]..][..n];
                let b = &other.planes[p][y * other.strides[p]..][..n];
                for (&x, &y) in a.iter().zip(b) {
                    m = m.max(x.abs_diff(y));
                }
            }
        }
        m
    }
}

// ---------------------------------------------------------------------------------------------
// Timing

type Run<'a> = Box<dyn FnMut() + 'a>;

/// Blocks of consecutive rounds a race is cut into for its spread ([`Times::spread`]).
const BLOCKS: usize = 7;

/// A race's times: indexing gives each contender's median (ms) over all rounds; the rounds
/// are also cut into [`BLOCKS`] blocks of consecutive rounds, each with its own medians.
struct Times {
    medians: Vec<f64>,
    /// By block, each contender's median in it.
    blocks: Vec<Vec<f64>>,
}

impl std::ops::Index<usize> for Times {
    type Output = f64;
    fn index(&self, i: usize) -> &f64 {
        &self.medians[i]
    }
}

impl Times {
    /// The ratio of contender `ours` to the fastest of `peers` in each block: its smallest,
    /// median and largest. On a shared machine one median over all rounds hides how far the
    /// ratio moves; the blocks are runs of the same interleaved race minutes apart at most,
    /// so their spread is what a reader sees between runs.
    fn spread(&self, ours: usize, peers: &[usize]) -> (f64, f64, f64) {
        let mut r: Vec<f64> =
            self.blocks.iter().map(|b| b[ours] / peers.iter().map(|&p| b[p]).fold(f64::INFINITY, f64::min)).collect();
        r.sort_by(|a, b| a.partial_cmp(b).unwrap());
        (r[0], r[r.len() / 2], r[r.len() - 1])
    }
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Medians (ms) of `runs`, called in turn for `rounds` rounds after a warm-up.
fn race(runs: &mut [Run], rounds: usize) -> Times {
    race_with(runs, rounds, false)
}

/// [`race`] with a hot cache for each call: every timed call comes right after an untimed call
/// of the same contender, so its input and its own output are in cache as the call starts
/// (interleaved, the other contenders' 8 MB outputs would have evicted them: every row would
/// time DRAM write-allocation instead of the kernel).
fn race_hot(runs: &mut [Run], rounds: usize) -> Times {
    race_with(runs, rounds, true)
}

fn race_with(runs: &mut [Run], rounds: usize, hot: bool) -> Times {
    for r in runs.iter_mut() {
        for _ in 0..3 {
            r();
        }
    }
    let mut times = vec![Vec::with_capacity(rounds); runs.len()];
    let n = runs.len();
    for round in 0..rounds {
        // Each round starts with the next contender, so none always runs first or after the
        // same one (a fixed order showed as a bias of up to 20% between rows that run the very
        // same libyuv function on this shared machine).
        for i in (0..n).map(|k| (k + round) % n) {
            let r = &mut runs[i];
            if hot {
                r();
            }
            let t = Instant::now();
            r();
            times[i].push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    let per = rounds.div_ceil(BLOCKS);
    Times {
        medians: times.iter().map(|t| median(t)).collect(),
        blocks: (0..rounds.div_ceil(per))
            .map(|b| times.iter().map(|t| median(&t[b * per..((b + 1) * per).min(rounds)])).collect())
            .collect(),
    }
}

struct Row {
    op: String,
    mst: f64,
    reference: f64,
    libyuv: Option<f64>,
    swscale: Option<f64>,
    err_mst: u8,
    err_libyuv: Option<u8>,
    err_swscale: Option<u8>,
    /// [`Times::spread`] of libmst against the faster peer.
    spread: (f64, f64, f64),
}

fn print(rows: &[Row]) {
    let ms = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.3}"));
    let e = |v: Option<u8>| v.map_or("–".to_string(), |v| v.to_string());
    println!("| operation (1080p source, 1 thread) | libmst ms | libyuv ms | swscale ms | libmst / faster peer | min / median / max of {BLOCKS} blocks | max error vs reference: libmst / libyuv / swscale | plain reference ms |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |");
    for r in rows {
        let best = [r.libyuv, r.swscale].into_iter().flatten().fold(f64::INFINITY, f64::min);
        println!(
            "| {} | {:.3} | {} | {} | **{:.2}×** | {:.2} / {:.2} / {:.2} | {} / {} / {} | {} |",
            r.op,
            r.mst,
            ms(r.libyuv),
            ms(r.swscale),
            r.mst / best,
            r.spread.0,
            r.spread.1,
            r.spread.2,
            r.err_mst,
            e(r.err_libyuv),
            e(r.err_swscale),
            ms(Some(r.reference).filter(|v| v.is_finite()))
        );
    }
}

// ---------------------------------------------------------------------------------------------
// swscale

struct Sws(*mut c_void);

impl Sws {
    fn new(sw: usize, sh: usize, sf: c_int, dw: usize, dh: usize, df: c_int, flags: c_int) -> Sws {
        // SAFETY: plain constructor; NULL checked.
        let c = unsafe {
            peers::sws_getContext(
                sw as c_int,
                sh as c_int,
                sf,
                dw as c_int,
                dh as c_int,
                df,
                flags,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null(),
            )
        };
        assert!(!c.is_null(), "sws_getContext failed");
        Sws(c)
    }

    /// BT.709, limited range in and out (libmst's colour), for YUV <-> RGB.
    fn bt709(self) -> Sws {
        // SAFETY: a live context; the coefficient table is static in libswscale.
        unsafe {
            let t = peers::sws_getCoefficients(peers::SWS_CS_ITU709);
            peers::sws_setColorspaceDetails(self.0, t, 0, t, 0, 0, 1 << 16, 1 << 16);
        }
        self
    }

    fn run(&self, src: &Img, dst: &mut Img) {
        let sp: Vec<*const u8> =
            (0..4).map(|i| if i < src.planes.len() { src.ptr(i) } else { std::ptr::null() }).collect();
        let ss: Vec<c_int> = (0..4).map(|i| if i < src.planes.len() { src.stride(i) } else { 0 }).collect();
        let ds: Vec<c_int> = (0..4).map(|i| if i < dst.planes.len() { dst.stride(i) } else { 0 }).collect();
        let dp: Vec<*mut u8> =
            (0..4).map(|i| if i < dst.planes.len() { dst.mptr(i) } else { std::ptr::null_mut() }).collect();
        // SAFETY: planes and strides describe live buffers of the sizes the context was made for.
        let h =
            unsafe { peers::sws_scale(self.0, sp.as_ptr(), ss.as_ptr(), 0, src.h as c_int, dp.as_ptr(), ds.as_ptr()) };
        assert_eq!(h as usize, dst.h, "sws_scale");
    }
}

impl Drop for Sws {
    fn drop(&mut self) {
        // SAFETY: made by sws_getContext, freed once.
        unsafe { peers::sws_freeContext(self.0) }
    }
}

// ---------------------------------------------------------------------------------------------

const W: usize = 1920;
const H: usize = 1080;
const PAD: usize = 0;

fn scale_row(op: &str, dw: usize, dh: usize, yuv_filter: c_uint, sws_flags: c_int, rounds: usize) -> Row {
    scale_row_from(op, (W, H), dw, dh, yuv_filter, sws_flags, rounds)
}

fn scale_row_from(
    op: &str,
    (sw, sh): (usize, usize),
    dw: usize,
    dh: usize,
    yuv_filter: c_uint,
    sws_flags: c_int,
    rounds: usize,
) -> Row {
    let src = Img::picture(F::I420, sw, sh, PAD);
    let (mut a, mut r, mut y, mut s) = (
        Img::new(F::I420, dw, dh, PAD),
        Img::new(F::I420, dw, dh, PAD),
        Img::new(F::I420, dw, dh, PAD),
        Img::new(F::I420, dw, dh, PAD),
    );
    let sws = Sws::new(sw, sh, peers::AV_PIX_FMT_YUV420P, dw, dh, peers::AV_PIX_FMT_YUV420P, sws_flags);
    let t = {
        let mut runs: Vec<Run> = vec![
            Box::new(|| mst::convert::scale(&src.view(), &mut a.view_mut())),
            Box::new(|| mst::convert::reference::scale(&src.view(), &mut r.view_mut())),
            // SAFETY: live planes of the declared sizes.
            Box::new(|| unsafe {
                let d = &mut y;
                let (d0, d1, d2) = (d.mptr(0), d.mptr(1), d.mptr(2));
                peers::I420Scale(
                    src.ptr(0),
                    src.stride(0),
                    src.ptr(1),
                    src.stride(1),
                    src.ptr(2),
                    src.stride(2),
                    sw as c_int,
                    sh as c_int,
                    d0,
                    d.stride(0),
                    d1,
                    d.stride(1),
                    d2,
                    d.stride(2),
                    dw as c_int,
                    dh as c_int,
                    yuv_filter,
                );
            }),
            Box::new(|| sws.run(&src, &mut s)),
        ];
        race_hot(&mut runs, rounds)
    };
    Row {
        op: op.into(),
        mst: t[0],
        reference: t[1],
        libyuv: Some(t[2]),
        swscale: Some(t[3]),
        err_mst: a.max_diff(&r),
        err_libyuv: Some(y.max_diff(&r)),
        err_swscale: Some(s.max_diff(&r)),
        spread: t.spread(0, &[2, 3]),
    }
}

/// A 1080p YUY2 (YUYV) frame, rows W * 2 bytes apart, made from an I420 picture's samples; the
/// chroma of the two rows of a pair differs slightly, so 4:2:2 -> 4:2:0 really averages.
fn yuy2_frame() -> Vec<u8> {
    let pic = Img::picture(F::I420, W, H, 0);
    let stride = W * 2;
    let mut yuy2 = vec![0u8; stride * H];
    for y in 0..H {
        for x in 0..W / 2 {
            let o = y * stride + x * 4;
            yuy2[o] = pic.planes[0][y * W + 2 * x];
            yuy2[o + 1] = pic.planes[1][(y / 2) * (W / 2) + x] ^ (y as u8 & 3);
            yuy2[o + 2] = pic.planes[0][y * W + 2 * x + 1];
            yuy2[o + 3] = pic.planes[2][(y / 2) * (W / 2) + x] ^ (y as u8 & 5);
        }
    }
    yuy2
}

fn yuy2_row(rounds: usize) -> Row {
    let stride = W * 2;
    let yuy2 = yuy2_frame();
    let (mut a, mut r, mut y, mut s) = (
        Img::new(F::I420, W, H, PAD),
        Img::new(F::I420, W, H, PAD),
        Img::new(F::I420, W, H, PAD),
        Img::new(F::I420, W, H, PAD),
    );
    let sws = Sws::new(W, H, peers::AV_PIX_FMT_YUYV422, W, H, peers::AV_PIX_FMT_YUV420P, peers::SWS_BILINEAR);
    // The YUY2 bytes as one plane, for the peers (swscale reads W x H of it by its format).
    let src_sws = Img { format: F::Bgra, w: W, h: H, planes: vec![yuy2.clone()], strides: vec![stride] };
    let t = {
        let mut runs: Vec<Run> = vec![
            Box::new(|| {
                mst::convert::packed422_to_i420(&yuy2, stride, mst::convert::Packed422::Yuyv, &mut a.view_mut())
            }),
            Box::new(|| {
                mst::convert::reference::packed422_to_i420(
                    &yuy2,
                    stride,
                    mst::convert::Packed422::Yuyv,
                    &mut r.view_mut(),
                )
            }),
            // SAFETY: live planes of the declared sizes.
            Box::new(|| unsafe {
                let d = &mut y;
                let (d0, d1, d2) = (d.mptr(0), d.mptr(1), d.mptr(2));
                peers::YUY2ToI420(
                    src_sws.ptr(0),
                    stride as c_int,
                    d0,
                    d.stride(0),
                    d1,
                    d.stride(1),
                    d2,
                    d.stride(2),
                    W as c_int,
                    H as c_int,
                );
            }),
            Box::new(|| sws.run(&src_sws, &mut s)),
        ];
        race_hot(&mut runs, rounds)
    };
    Row {
        op: "YUY2 → I420".into(),
        mst: t[0],
        reference: t[1],
        libyuv: Some(t[2]),
        swscale: Some(t[3]),
        err_mst: a.max_diff(&r),
        err_libyuv: Some(y.max_diff(&r)),
        err_swscale: Some(s.max_diff(&r)),
        spread: t.spread(0, &[2, 3]),
    }
}

fn convert_row(op: &str, from: F, to: F, sws_from: c_int, sws_to: c_int, rounds: usize) -> Row {
    let src = Img::picture(from, W, H, PAD);
    let (mut a, mut r, mut y, mut s) =
        (Img::new(to, W, H, PAD), Img::new(to, W, H, PAD), Img::new(to, W, H, PAD), Img::new(to, W, H, PAD));
    let sws = Sws::new(W, H, sws_from, W, H, sws_to, peers::SWS_BILINEAR).bt709();
    let t = {
        let mut runs: Vec<Run> = vec![
            Box::new(|| mst::convert::convert(&src.view(), &mut a.view_mut())),
            Box::new(|| mst::convert::reference::convert(&src.view(), &mut r.view_mut())),
            // SAFETY: live planes of the declared sizes.
            Box::new(|| unsafe {
                let d = &mut y;
                match (from, to) {
                    (F::Nv12, F::I420) => {
                        let (d0, d1, d2) = (d.mptr(0), d.mptr(1), d.mptr(2));
                        peers::NV12ToI420(
                            src.ptr(0),
                            src.stride(0),
                            src.ptr(1),
                            src.stride(1),
                            d0,
                            d.stride(0),
                            d1,
                            d.stride(1),
                            d2,
                            d.stride(2),
                            W as c_int,
                            H as c_int,
                        );
                    }
                    (F::I420, F::Nv12) => {
                        let (d0, d1) = (d.mptr(0), d.mptr(1));
                        peers::I420ToNV12(
                            src.ptr(0),
                            src.stride(0),
                            src.ptr(1),
                            src.stride(1),
                            src.ptr(2),
                            src.stride(2),
                            d0,
                            d.stride(0),
                            d1,
                            d.stride(1),
                            W as c_int,
                            H as c_int,
                        );
                    }
                    (F::Bgra, F::I420) => {
                        let (d0, d1, d2) = (d.mptr(0), d.mptr(1), d.mptr(2));
                        peers::ARGBToI420(
                            src.ptr(0),
                            src.stride(0),
                            d0,
                            d.stride(0),
                            d1,
                            d.stride(1),
                            d2,
                            d.stride(2),
                            W as c_int,
                            H as c_int,
                        );
                    }
                    (F::I420, F::Bgra) => {
                        let d0 = d.mptr(0);
                        peers::I420ToARGBMatrix(
                            src.ptr(0),
                            src.stride(0),
                            src.ptr(1),
                            src.stride(1),
                            src.ptr(2),
                            src.stride(2),
                            d0,
                            d.stride(0),
                            &peers::kYuvH709Constants,
                            W as c_int,
                            H as c_int,
                        );
                    }
                    _ => unreachable!(),
                }
            }),
            Box::new(|| sws.run(&src, &mut s)),
        ];
        race_hot(&mut runs, rounds)
    };
    Row {
        op: op.into(),
        mst: t[0],
        reference: t[1],
        libyuv: Some(t[2]),
        swscale: Some(t[3]),
        err_mst: a.max_diff(&r),
        err_libyuv: Some(y.max_diff(&r)),
        err_swscale: Some(s.max_diff(&r)),
        spread: t.spread(0, &[2, 3]),
    }
}

/// TJSAMP_*: 4:2:2 and 4:2:0, the subsamplings webcams send.
const TJSAMP_422: c_int = 1;
const TJSAMP_420: c_int = 2;

fn sub_name(sub: c_int) -> &'static str {
    if sub == TJSAMP_420 {
        "4:2:0"
    } else {
        "4:2:2"
    }
}

/// A 1080p MJPEG frame (TJSAMP_422 or TJSAMP_420) as webcams send it (no DHT), 400-600 KB.
fn mjpeg_frame(sub: c_int) -> Vec<u8> {
    without_dht(&tj_frame(sub))
}

/// The same frame with a restart marker after every row of MCUs, as hardware encoders often
/// write them (losslessly rewritten by libjpeg-turbo's jpegtran: the same coefficients), no DHT.
fn mjpeg_frame_restart(sub: c_int) -> Vec<u8> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("jpegtran")
        .args(["-restart", "1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("jpegtran (scripts/deps.sh bench installs libjpeg-turbo-progs)");
    child.stdin.take().unwrap().write_all(&tj_frame(sub)).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "jpegtran failed");
    without_dht(&out.stdout)
}

/// The 1080p frame as TurboJPEG compresses it (quality 85, with DHT), subsampled as `sub`.
fn tj_frame(sub: c_int) -> Vec<u8> {
    let mut rgb = vec![0u8; W * H * 3];
    for y in 0..H {
        for x in 0..W {
            let o = (y * W + x) * 3;
            let n = ((x * 7919 + y * 104_729) >> 3) as u8 & 0x1f;
            rgb[o] = ((x * 255 / W) as u8).wrapping_add(n);
            rgb[o + 1] = ((y * 255 / H) as u8).wrapping_add(n / 2);
            rgb[o + 2] = (((x + y) * 255 / (W + H)) as u8) ^ n;
        }
    }
    // SAFETY: TurboJPEG's documented use; the output buffer is freed with tjFree.
    let jpeg = unsafe {
        let h = peers::tjInitCompress();
        let mut out: *mut u8 = std::ptr::null_mut();
        let mut size: c_ulong = 0;
        // TJPF_RGB = 0.
        let r = peers::tjCompress2(
            h,
            rgb.as_ptr(),
            W as c_int,
            (W * 3) as c_int,
            H as c_int,
            0,
            &mut out,
            &mut size,
            sub,
            85,
            0,
        );
        assert_eq!(r, 0, "tjCompress2");
        let v = std::slice::from_raw_parts(out, size as usize).to_vec();
        peers::tjFree(out);
        peers::tjDestroy(h);
        v
    };
    jpeg
}

/// `jpeg` without its DHT segments, as webcams send frames.
fn without_dht(jpeg: &[u8]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    let mut i = 2;
    loop {
        let (m, n) = (jpeg[i + 1], ((jpeg[i + 2] as usize) << 8) | jpeg[i + 3] as usize);
        if m == 0xDA {
            out.extend_from_slice(&jpeg[i..]);
            return out;
        }
        if m != 0xC4 {
            out.extend_from_slice(&jpeg[i..i + 2 + n]);
        }
        i += 2 + n;
    }
}

fn mjpeg_row(rounds: usize, sub: c_int) -> Row {
    use mst::source::v4l2::{CameraFormat, Converter};
    let jpeg = mjpeg_frame(sub);
    let mut conv = Converter::new(CameraFormat::Mjpeg, W as u32, H as u32, 0).expect("libturbojpeg.so.0");
    let mut y = Img::new(F::I420, W, H, 0);
    let mut last = None;
    let t = {
        let mut runs: Vec<Run> = vec![
            Box::new(|| last = Some(conv.frame(&jpeg, 0, None, None).unwrap().unwrap())),
            Box::new(|| libyuv_mjpeg(&jpeg, &mut y)),
        ];
        race_hot(&mut runs, rounds)
    };
    // The reference for a JPEG is the peer's decode (both are libjpeg-turbo's IDCT).
    let f = last.unwrap();
    let mut m = 0u8;
    for p in 0..3 {
        let (data, stride) = f.plane(p).unwrap();
        let (pw, ph) = if p == 0 { (W, H) } else { (W / 2, H / 2) };
        for row in 0..ph {
            for x in 0..pw {
                m = m.max(data[row * stride + x].abs_diff(y.planes[p][row * y.strides[p] + x]));
            }
        }
    }
    let op =
        format!("MJPEG {} → I420 decode ({} KB frame, no DHT; peer: MJPGToI420)", sub_name(sub), jpeg.len() / 1024);
    Row {
        op,
        mst: t[0],
        reference: f64::NAN,
        libyuv: Some(t[1]),
        swscale: None,
        err_mst: m,
        err_libyuv: Some(0),
        err_swscale: None,
        spread: t.spread(0, &[1]),
    }
}

/// The fused/shared case: one camera frame (1080p YUYV, or MJPEG 4:2:2) that two
/// clones want at 640x360 and 1280x720. libmst: the camera's own Converter makes the frame,
/// a generator delivers it to a track and its clone constrained to the two sizes (each scaled
/// once, straight from the converted frame, into pooled frames), two processors read them.
/// The obvious libyuv pipeline: convert to I420, then I420Scale once per size (box down to
/// 360p, bilinear to 720p, libyuv's usual choices).
fn pipeline_rows(rounds: usize) -> Vec<(String, f64, f64, f64)> {
    use mst::constraints::ConstrainRange;
    use mst::source::v4l2::{CameraFormat, Converter};
    use mst::{Generator, Kind, Processor, VideoConstraints, Wait};
    let exact = |v: f64| ConstrainRange { exact: Some(v), ..Default::default() };
    let yuy2 = yuy2_frame();
    let jpeg = mjpeg_frame(TJSAMP_422);
    let mut out = Vec::new();
    let jpeg_rst = mjpeg_frame_restart(TJSAMP_422);
    let cases = [
        ("YUYV", CameraFormat::Yuyv, &yuy2, true),
        ("MJPEG 4:2:2", CameraFormat::Mjpeg, &jpeg, true),
        ("MJPEG 4:2:2 (a restart marker every MCU row)", CameraFormat::Mjpeg, &jpeg_rst, true),
        ("YUYV", CameraFormat::Yuyv, &yuy2, false),
        ("MJPEG 4:2:2", CameraFormat::Mjpeg, &jpeg, false),
    ];
    for (name, format, input, read_pixels) in cases {
        let g = Generator::new(Kind::Video);
        let small = g.track().clone_track();
        let large = g.track().clone_track();
        small
            .apply_constraints(&VideoConstraints { width: exact(640.0), height: exact(360.0), ..Default::default() })
            .unwrap();
        large
            .apply_constraints(&VideoConstraints { width: exact(1280.0), height: exact(720.0), ..Default::default() })
            .unwrap();
        let (ps, pl) = (Processor::new(&small, 2), Processor::new(&large, 2));
        g.track().stop();
        let mut conv = Converter::new(format, W as u32, H as u32, 0).unwrap();
        // As the camera source runs it: MJPEG decodes on first pixel access.
        conv.set_lazy(true);
        let mut ts = 0;
        let (mut i420, mut s360, mut s720) =
            (Img::new(F::I420, W, H, 0), Img::new(F::I420, 640, 360, 0), Img::new(F::I420, 1280, 720, 0));
        let mut one_frame = |two_threads: bool| {
            mst::convert::parallel::set_enabled(two_threads);
            ts += 1;
            let f = conv.frame(input, ts, None, None).unwrap().unwrap();
            g.write(f).map_err(|(e, _)| e).unwrap();
            let (a, b) = (ps.read(Wait::No).unwrap(), pl.read(Wait::No).unwrap());
            assert_eq!((a.frame.video().unwrap().coded_width, b.frame.video().unwrap().coded_width), (640, 1280));
            if read_pixels {
                // Both outputs made: what the obvious pipeline computes.
                black_box((a.frame.plane(0).unwrap().0[0], b.frame.plane(0).unwrap().0[0]));
            }
            assert_eq!(a.frame.pixels_made(), read_pixels);
            black_box((a, b));
        };
        let one_frame = std::cell::RefCell::new(&mut one_frame);
        let t = {
            let mut runs: Vec<Run> = vec![
                Box::new(|| (one_frame.borrow_mut())(false)),
                Box::new(|| (one_frame.borrow_mut())(true)),
                Box::new(|| obvious_pipeline(format, input, &mut i420, &mut s360, &mut s720)),
            ];
            race(&mut runs, rounds)
        };
        let lazy = if format == CameraFormat::Mjpeg { "decoded and scaled" } else { "scaled" };
        let readers = if read_pixels {
            "both read pixels".to_string()
        } else {
            format!("neither reads a pixel ({lazy} on first access: never)")
        };
        out.push((format!("1080p {name} camera frame → clones at 640x360 and 1280x720, {readers}"), t[0], t[1], t[2]));
    }
    mst::convert::parallel::set_enabled(true);
    // The floor under any MJPEG pipeline built on libjpeg-turbo: a decode scaled to 1/8 does
    // a DC-only IDCT and writes 1/64 of the pixels, but still Huffman-decodes every
    // coefficient. Against the obvious pipeline of the same run.
    let (w8, h8) = (W / 8, H / 8);
    let (mut y8, mut u8p, mut v8) = (vec![0u8; w8 * h8], vec![0u8; w8 * h8], vec![0u8; w8 * h8]);
    let mut i420 = Img::new(F::I420, W, H, 0);
    let (mut s360, mut s720) = (Img::new(F::I420, 640, 360, 0), Img::new(F::I420, 1280, 720, 0));
    // SAFETY: a TurboJPEG handle for this bench, destroyed below.
    let tj = unsafe { peers::tjInitDecompress() };
    let t = {
        let mut runs: Vec<Run> = vec![
            // SAFETY: planes sized for the 1/8 decode (chroma 4:2:2 is narrower than this).
            Box::new(|| unsafe {
                let mut planes = [y8.as_mut_ptr(), u8p.as_mut_ptr(), v8.as_mut_ptr()];
                let mut strides = [w8 as c_int, w8 as c_int, w8 as c_int];
                let r = peers::tjDecompressToYUVPlanes(
                    tj,
                    jpeg.as_ptr(),
                    jpeg.len() as c_ulong,
                    planes.as_mut_ptr(),
                    w8 as c_int,
                    strides.as_mut_ptr(),
                    h8 as c_int,
                    2048,
                );
                assert_eq!(r, 0, "tjDecompressToYUVPlanes at 1/8");
            }),
            Box::new(|| obvious_pipeline(CameraFormat::Mjpeg, &jpeg, &mut i420, &mut s360, &mut s720)),
        ];
        race(&mut runs, rounds)
    };
    // SAFETY: made above, destroyed once.
    unsafe { peers::tjDestroy(tj) };
    out.push((
        "floor: Huffman decoding alone (TurboJPEG decode at 1/8 scale, DC-only IDCT) of the MJPEG frame, 1 thread"
            .into(),
        t[0],
        f64::NAN,
        t[1],
    ));
    out
}

/// libyuv's MJPGToI420 of the 1080p frame `jpeg` into `d` (the peer's decode, in every MJPEG
/// row).
fn libyuv_mjpeg(jpeg: &[u8], d: &mut Img) {
    let (d0, d1, d2) = (d.mptr(0), d.mptr(1), d.mptr(2));
    // SAFETY: live planes of the declared sizes.
    let r = unsafe {
        peers::MJPGToI420(
            jpeg.as_ptr(),
            jpeg.len(),
            d0,
            d.stride(0),
            d1,
            d.stride(1),
            d2,
            d.stride(2),
            W as c_int,
            H as c_int,
            W as c_int,
            H as c_int,
        )
    };
    assert_eq!(r, 0, "MJPGToI420");
}

/// The obvious libyuv pipeline for a 1080p camera buffer (YUYV or MJPEG): convert or decode
/// to I420, then I420Scale to 640x360 (box) and 1280x720 (bilinear).
fn obvious_pipeline(
    format: mst::source::v4l2::CameraFormat,
    input: &[u8],
    i420: &mut Img,
    s360: &mut Img,
    s720: &mut Img,
) {
    use mst::source::v4l2::CameraFormat;
    match format {
        CameraFormat::Yuyv => {
            let (d0, d1, d2) = (i420.mptr(0), i420.mptr(1), i420.mptr(2));
            // SAFETY: live planes of the declared sizes.
            let r = unsafe {
                peers::YUY2ToI420(
                    input.as_ptr(),
                    (W * 2) as c_int,
                    d0,
                    i420.stride(0),
                    d1,
                    i420.stride(1),
                    d2,
                    i420.stride(2),
                    W as c_int,
                    H as c_int,
                )
            };
            assert_eq!(r, 0, "YUY2ToI420");
        }
        CameraFormat::Mjpeg => libyuv_mjpeg(input, i420),
        other => panic!("no obvious pipeline for {other:?}"),
    }
    // SAFETY: live planes of the declared sizes.
    unsafe {
        let src = &*i420;
        for (out, dw, dh, filter) in
            [(s360, 640, 360, peers::K_FILTER_BOX), (s720, 1280, 720, peers::K_FILTER_BILINEAR)]
        {
            let (o0, o1, o2) = (out.mptr(0), out.mptr(1), out.mptr(2));
            peers::I420Scale(
                src.ptr(0),
                src.stride(0),
                src.ptr(1),
                src.stride(1),
                src.ptr(2),
                src.stride(2),
                W as c_int,
                H as c_int,
                o0,
                out.stride(0),
                o1,
                out.stride(1),
                o2,
                out.stride(2),
                dw,
                dh,
                filter,
            );
        }
    }
}

/// The kernels that split over two threads ([`mst::convert::parallel`]: sources of 1080p and
/// more, and MJPEG frames with restart markers), libmst on one thread and on two.
/// With `only`, just the groups of rows whose name contains it.
fn threads_rows(rounds: usize, only: Option<&str>) -> Vec<String> {
    type Make = Box<dyn Fn() -> Vec<String>>;
    let mut groups: Vec<(String, Make)> = Vec::new();
    for (w, h, dw, dh, name) in [(W, H, 1280, 720, "1080p"), (3840, 2160, 1920, 1080, "4K")] {
        groups.push((
            format!("{name} I420 scale, I420 → BGRA, BGRA → I420"),
            Box::new(move || split_rows(w, h, dw, dh, name, rounds)),
        ));
    }
    for sub in [TJSAMP_422, TJSAMP_420] {
        groups.push((
            format!("MJPEG {} no restart markers", sub_name(sub)),
            Box::new(move || vec![mjpeg_threads_row(&mjpeg_frame(sub), sub, "no restart markers", rounds)]),
        ));
        groups.push((
            format!("MJPEG {} restart markers", sub_name(sub)),
            Box::new(move || {
                vec![mjpeg_threads_row(&mjpeg_frame_restart(sub), sub, "a restart marker every MCU row", rounds)]
            }),
        ));
    }
    let out =
        groups.iter().filter(|(name, _)| only.is_none_or(|o| name.contains(o))).flat_map(|(_, make)| make()).collect();
    mst::convert::parallel::set_enabled(true);
    out
}

/// A 1080p MJPEG frame (`sub`: TJSAMP_422 or TJSAMP_420): libmst's decode on 1 and 2
/// threads, and libyuv's MJPGToI420 (one thread: no other peer decodes JPEG), whose output
/// libmst's must equal. The spread is of the two-thread decode against MJPGToI420.
fn mjpeg_threads_row(jpeg: &[u8], sub: c_int, kind: &str, rounds: usize) -> String {
    use mst::convert::parallel::set_enabled;
    use mst::source::v4l2::{CameraFormat, Converter};
    let mut conv = Converter::new(CameraFormat::Mjpeg, W as u32, H as u32, 0).expect("libturbojpeg.so.0");
    let conv = std::cell::RefCell::new(&mut conv);
    let mut y = Img::new(F::I420, W, H, 0);
    let (mut one, mut two) = (None, None);
    let t = {
        let mut runs: Vec<Run> = vec![
            Box::new(|| {
                set_enabled(false);
                one = Some(conv.borrow_mut().frame(jpeg, 0, None, None).unwrap().unwrap());
            }),
            Box::new(|| {
                set_enabled(true);
                two = Some(conv.borrow_mut().frame(jpeg, 0, None, None).unwrap().unwrap());
            }),
            Box::new(|| libyuv_mjpeg(jpeg, &mut y)),
        ];
        race_hot(&mut runs, rounds)
    };
    let (one, two) = (one.unwrap(), two.unwrap());
    for p in 0..3 {
        assert_eq!(one.plane(p).unwrap(), two.plane(p).unwrap(), "1- and 2-thread decodes differ");
        let (data, stride) = two.plane(p).unwrap();
        let (pw, ph) = if p == 0 { (W, H) } else { (W / 2, H / 2) };
        for row in 0..ph {
            assert_eq!(
                &data[row * stride..][..pw],
                &y.planes[p][row * y.strides[p]..][..pw],
                "libmst's and MJPGToI420's decodes differ"
            );
        }
    }
    let (lo, mid, hi) = t.spread(1, &[2]);
    format!(
        "| 1080p MJPEG {} → I420 decode, {kind} (peer: MJPGToI420) | {:.3} | {:.3} | {:.3} | – | **{:.2}×** | {lo:.2} / {mid:.2} / {hi:.2} |",
        sub_name(sub),
        t[0],
        t[1],
        t[2],
        t[0].min(t[1]) / t[2]
    )
}

/// Scale and YUV <-> RGB on a `w4` x `h4` source, libmst on one thread and split over two
/// ([`mst::convert::parallel`]), against the peers (one thread each: libyuv has no
/// threading, swscale's slice threads are not used by sws_scale).
fn split_rows(w4: usize, h4: usize, dw: usize, dh: usize, name: &str, rounds: usize) -> Vec<String> {
    use mst::convert::parallel::set_enabled;
    let mut out = Vec::new();
    // Scale (area).
    {
        let src = Img::picture(F::I420, w4, h4, 0);
        let (mut a, mut b, mut y, mut s) = (
            Img::new(F::I420, dw, dh, 0),
            Img::new(F::I420, dw, dh, 0),
            Img::new(F::I420, dw, dh, 0),
            Img::new(F::I420, dw, dh, 0),
        );
        let sws = Sws::new(w4, h4, peers::AV_PIX_FMT_YUV420P, dw, dh, peers::AV_PIX_FMT_YUV420P, peers::SWS_AREA);
        let mut runs: Vec<Run> = vec![
            Box::new(|| {
                set_enabled(false);
                mst::convert::scale(&src.view(), &mut a.view_mut())
            }),
            Box::new(|| {
                set_enabled(true);
                mst::convert::scale(&src.view(), &mut b.view_mut())
            }),
            // SAFETY: live planes of the declared sizes.
            Box::new(|| unsafe {
                let d = &mut y;
                let (d0, d1, d2) = (d.mptr(0), d.mptr(1), d.mptr(2));
                peers::I420Scale(
                    src.ptr(0),
                    src.stride(0),
                    src.ptr(1),
                    src.stride(1),
                    src.ptr(2),
                    src.stride(2),
                    w4 as c_int,
                    h4 as c_int,
                    d0,
                    d.stride(0),
                    d1,
                    d.stride(1),
                    d2,
                    d.stride(2),
                    dw as c_int,
                    dh as c_int,
                    peers::K_FILTER_BOX,
                );
            }),
            Box::new(|| sws.run(&src, &mut s)),
        ];
        let t = race(&mut runs, rounds);
        drop(runs);
        assert_eq!(a.max_diff(&b), 0, "split and single-thread scaling differ");
        let (lo, mid, hi) = t.spread(1, &[2, 3]);
        out.push(format!(
            "| {name} I420 scale → {dw}x{dh}, area | {:.3} | {:.3} | {:.3} | {:.3} | **{:.2}×** | {lo:.2} / {mid:.2} / {hi:.2} |",
            t[0],
            t[1],
            t[2],
            t[3],
            t[0].min(t[1]) / t[2].min(t[3])
        ));
    }
    // I420 -> BGRA and BGRA -> I420.
    for (from, to, sf, df, op) in [
        (F::I420, F::Bgra, peers::AV_PIX_FMT_YUV420P, peers::AV_PIX_FMT_BGRA, "I420 → BGRA, BT.709"),
        (F::Bgra, F::I420, peers::AV_PIX_FMT_BGRA, peers::AV_PIX_FMT_YUV420P, "BGRA → I420, BT.709 (libyuv: BT.601)"),
    ] {
        let src = Img::picture(from, w4, h4, 0);
        let (mut a, mut b, mut y, mut s) =
            (Img::new(to, w4, h4, 0), Img::new(to, w4, h4, 0), Img::new(to, w4, h4, 0), Img::new(to, w4, h4, 0));
        let sws = Sws::new(w4, h4, sf, w4, h4, df, peers::SWS_BILINEAR).bt709();
        let mut runs: Vec<Run> = vec![
            Box::new(|| {
                set_enabled(false);
                mst::convert::convert(&src.view(), &mut a.view_mut())
            }),
            Box::new(|| {
                set_enabled(true);
                mst::convert::convert(&src.view(), &mut b.view_mut())
            }),
            // SAFETY: live planes of the declared sizes.
            Box::new(|| unsafe {
                let d = &mut y;
                if from == F::I420 {
                    let d0 = d.mptr(0);
                    peers::I420ToARGBMatrix(
                        src.ptr(0),
                        src.stride(0),
                        src.ptr(1),
                        src.stride(1),
                        src.ptr(2),
                        src.stride(2),
                        d0,
                        d.stride(0),
                        &peers::kYuvH709Constants,
                        w4 as c_int,
                        h4 as c_int,
                    );
                } else {
                    let (d0, d1, d2) = (d.mptr(0), d.mptr(1), d.mptr(2));
                    peers::ARGBToI420(
                        src.ptr(0),
                        src.stride(0),
                        d0,
                        d.stride(0),
                        d1,
                        d.stride(1),
                        d2,
                        d.stride(2),
                        w4 as c_int,
                        h4 as c_int,
                    );
                }
            }),
            Box::new(|| sws.run(&src, &mut s)),
        ];
        let t = race(&mut runs, rounds);
        drop(runs);
        assert_eq!(a.max_diff(&b), 0, "split and single-thread conversion differ");
        let (lo, mid, hi) = t.spread(1, &[2, 3]);
        out.push(format!(
            "| {name} {op} | {:.3} | {:.3} | {:.3} | {:.3} | **{:.2}×** | {lo:.2} / {mid:.2} / {hi:.2} |",
            t[0],
            t[1],
            t[2],
            t[3],
            t[0].min(t[1]) / t[2].min(t[3])
        ));
    }
    out
}

/// The third table's header.
fn threads_header() -> String {
    format!("| 2 threads: 1080p and 4K | libmst 1 thread ms | libmst 2 threads ms | libyuv ms | swscale ms | faster libmst / faster peer | 2 threads / faster peer: min / median / max of {BLOCKS} blocks |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
}

fn main() {
    // The swscale pixel-format numbers are FFmpeg 5's; check them against the library.
    for (f, name) in [
        (peers::AV_PIX_FMT_YUV420P, "yuv420p"),
        (peers::AV_PIX_FMT_YUYV422, "yuyv422"),
        (peers::AV_PIX_FMT_NV12, "nv12"),
        (peers::AV_PIX_FMT_BGRA, "bgra"),
    ] {
        // SAFETY: returns a static string or NULL.
        let got = unsafe { peers::av_get_pix_fmt_name(f) };
        assert!(
            !got.is_null() && unsafe { CStr::from_ptr(got) }.to_str() == Ok(name),
            "AVPixelFormat {f} is not {name}"
        );
    }
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = if quick { 5 } else { 41 };
    // The load says how far to trust the two-thread rows: on 2 cores, anything else running
    // takes the helper thread's core.
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split_whitespace().next().unwrap_or("?");
    println!("kernels: {W}x{H} source, {rounds} interleaved rounds, medians; load {load}\n");
    // `--only TEXT`: just the kernel rows whose operation contains TEXT (no other tables).
    let only = std::env::args().skip_while(|a| a != "--only").nth(1);
    type MakeRow = Box<dyn Fn(usize) -> Row>;
    let table: Vec<(&str, MakeRow)> = vec![
        (
            "I420 scale → 640x360, box / area",
            Box::new(|n| {
                scale_row("I420 scale → 640x360, box / area", 640, 360, peers::K_FILTER_BOX, peers::SWS_AREA, n)
            }),
        ),
        (
            "I420 scale → 1280x720 (libmst: area; peers: bilinear)",
            Box::new(|n| {
                scale_row(
                    "I420 scale → 1280x720 (libmst: area; peers: bilinear)",
                    1280,
                    720,
                    peers::K_FILTER_BILINEAR,
                    peers::SWS_BILINEAR,
                    n,
                )
            }),
        ),
        (
            "I420 scale → 1280x720, box / area",
            Box::new(|n| {
                scale_row("I420 scale → 1280x720, box / area", 1280, 720, peers::K_FILTER_BOX, peers::SWS_AREA, n)
            }),
        ),
        (
            "I420 scale → 1024x576 (15:8), box / area",
            Box::new(|n| {
                scale_row(
                    "I420 scale → 1024x576 (15:8), box / area",
                    1024,
                    576,
                    peers::K_FILTER_BOX,
                    peers::SWS_AREA,
                    n,
                )
            }),
        ),
        (
            "I420 scale → 1366x768, box / area",
            Box::new(|n| {
                scale_row("I420 scale → 1366x768, box / area", 1366, 768, peers::K_FILTER_BOX, peers::SWS_AREA, n)
            }),
        ),
        (
            "I420 scale → 320x180 (6:1), box / area",
            Box::new(|n| {
                scale_row("I420 scale → 320x180 (6:1), box / area", 320, 180, peers::K_FILTER_BOX, peers::SWS_AREA, n)
            }),
        ),
        (
            "I420 scale 1280x720 → 1920x1080, bilinear",
            Box::new(|n| {
                scale_row_from(
                    "I420 scale 1280x720 → 1920x1080, bilinear",
                    (1280, 720),
                    1920,
                    1080,
                    peers::K_FILTER_BILINEAR,
                    peers::SWS_BILINEAR,
                    n,
                )
            }),
        ),
        (
            "I420 scale 640x360 → 1920x1080, bilinear",
            Box::new(|n| {
                scale_row_from(
                    "I420 scale 640x360 → 1920x1080, bilinear",
                    (640, 360),
                    1920,
                    1080,
                    peers::K_FILTER_BILINEAR,
                    peers::SWS_BILINEAR,
                    n,
                )
            }),
        ),
        ("YUY2 → I420", Box::new(yuy2_row)),
        (
            "NV12 → I420",
            Box::new(|n| {
                convert_row("NV12 → I420", F::Nv12, F::I420, peers::AV_PIX_FMT_NV12, peers::AV_PIX_FMT_YUV420P, n)
            }),
        ),
        (
            "I420 → NV12",
            Box::new(|n| {
                convert_row("I420 → NV12", F::I420, F::Nv12, peers::AV_PIX_FMT_YUV420P, peers::AV_PIX_FMT_NV12, n)
            }),
        ),
        (
            "I420 → BGRA (libyuv ARGB), BT.709",
            Box::new(|n| {
                convert_row(
                    "I420 → BGRA (libyuv ARGB), BT.709",
                    F::I420,
                    F::Bgra,
                    peers::AV_PIX_FMT_YUV420P,
                    peers::AV_PIX_FMT_BGRA,
                    n,
                )
            }),
        ),
        (
            "BGRA → I420, BT.709 (libyuv ARGBToI420 has only BT.601)",
            Box::new(|n| {
                convert_row(
                    "BGRA → I420, BT.709 (libyuv ARGBToI420 has only BT.601)",
                    F::Bgra,
                    F::I420,
                    peers::AV_PIX_FMT_BGRA,
                    peers::AV_PIX_FMT_YUV420P,
                    n,
                )
            }),
        ),
        ("MJPEG 4:2:2 → I420 decode", Box::new(|n| mjpeg_row(n.min(21), TJSAMP_422))),
        ("MJPEG 4:2:0 → I420 decode", Box::new(|n| mjpeg_row(n.min(21), TJSAMP_420))),
    ];
    // The kernel table is single-thread (the figures are): no splitting over the
    // helper thread, which the 2-thread table shows.
    mst::convert::parallel::set_enabled(false);
    let rows: Vec<Row> = table
        .iter()
        .filter(|(op, _)| only.as_ref().is_none_or(|o| op.contains(o.as_str())))
        .map(|(_, make)| make(rounds))
        .collect();
    print(&rows);
    black_box(rows);
    if let Some(only) = &only {
        let rows = threads_rows(rounds.min(21), Some(only));
        if !rows.is_empty() {
            println!("\n{}", threads_header());
            for row in rows {
                println!("{row}");
            }
        }
        return;
    }
    println!();
    println!("| pipeline, per frame | libmst 1 thread ms | libmst 2 threads ms | obvious libyuv pipeline ms (1 thread) | ratio 1 thread | ratio 2 threads |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (op, a, b, c) in pipeline_rows(rounds.min(21)) {
        if b.is_nan() {
            println!("| {op} | {a:.3} | – | {c:.3} | **{:.2}×** | – |", a / c);
        } else {
            println!("| {op} | {a:.3} | {b:.3} | {c:.3} | **{:.2}×** | **{:.2}×** |", a / c, b / c);
        }
    }
    println!();
    println!("{}", threads_header());
    for row in threads_rows(rounds.min(21), None) {
        println!("{row}");
    }
}
