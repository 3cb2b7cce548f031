//! The MJPEG decoder (mst::convert::jpeg::Decoder), differential against libjpeg
//! (jpeg_ref.c): for every frame the same verdict (clean, damaged, failed) and, when it decodes,
//! the same I420 pixels, exactly (libmst documents no tolerance: both of its paths run
//! libjpeg-turbo's fast integer IDCT and the same chroma box average, and so does the
//! reference). The input is a stream: it is cut before every SOI marker after the first byte
//! (at most [`MAX_FRAMES`] frames), and one decoder of each kind decodes them in order, so a
//! frame without tables takes them from the frames before it. Frames of at least
//! SPLIT_MIN_PIXELS reach libmst's own Huffman decoder (src/convert/jpeg/scan.rs); those are decoded twice,
//! with the kernels split over two threads and on one, which must agree.

use std::ffi::c_void;

use mst::convert::jpeg::{Decoded, Decoder};
use mst::convert::{parallel, ImageMut};
use mst::frame::VideoPixelFormat;

/// Frames decoded per input.
pub const MAX_FRAMES: usize = 4;
/// Frames above this many pixels are not decoded (their header is still checked): memory and
/// time per input stay bounded (libFuzzer's -malloc_limit_mb catches the rest).
pub const MAX_PIXELS: usize = 1 << 21;

const REF_CLEAN: i32 = 0;
const REF_DAMAGED: i32 = 1;
const REF_FAILED: i32 = -1;
const REF_UNSUPPORTED: i32 = -2;
const REF_TOO_LARGE: i32 = -3;

extern "C" {
    fn mst_fuzz_ref_new() -> *mut c_void;
    fn mst_fuzz_ref_free(r: *mut c_void);
    fn mst_fuzz_ref_decode(
        r: *mut c_void,
        data: *const u8,
        len: usize,
        max_pixels: usize,
        w: *mut i32,
        h: *mut i32,
        sub: *mut i32,
        out: *mut *const u8,
    ) -> i32;
}

struct Reference(*mut c_void);

impl Drop for Reference {
    fn drop(&mut self) {
        // SAFETY: made by mst_fuzz_ref_new, freed once.
        unsafe { mst_fuzz_ref_free(self.0) }
    }
}

/// What libjpeg made of one frame.
struct RefFrame<'a> {
    verdict: i32,
    w: usize,
    h: usize,
    sub: i32,
    i420: &'a [u8],
}

impl Reference {
    fn new() -> Reference {
        // SAFETY: no arguments.
        let r = unsafe { mst_fuzz_ref_new() };
        assert!(!r.is_null(), "cannot make a libjpeg decompressor");
        Reference(r)
    }

    fn decode(&mut self, jpeg: &[u8]) -> RefFrame<'_> {
        let (mut w, mut h, mut sub, mut out) = (0, 0, 0, std::ptr::null());
        // SAFETY: a live decoder; `jpeg` readable for its length; the outputs are live.
        let verdict = unsafe {
            mst_fuzz_ref_decode(self.0, jpeg.as_ptr(), jpeg.len(), MAX_PIXELS, &mut w, &mut h, &mut sub, &mut out)
        };
        let (w, h) = (w.max(0) as usize, h.max(0) as usize);
        let i420 = if verdict == REF_CLEAN || verdict == REF_DAMAGED {
            // SAFETY: on these verdicts `out` holds w*h + 2*ceil(w/2)*ceil(h/2) bytes, alive
            // until the next call, which needs &mut self.
            unsafe { std::slice::from_raw_parts(out, w * h + 2 * w.div_ceil(2) * h.div_ceil(2)) }
        } else {
            &[]
        };
        RefFrame { verdict, w, h, sub, i420 }
    }
}

/// libmst's verdict on one frame, and the I420 pixels when it decoded.
#[derive(Debug, PartialEq)]
enum Ours {
    Clean(Vec<u8>),
    Damaged(Vec<u8>),
    Failed,
}

fn ours(d: &mut Decoder, jpeg: &[u8], w: usize, h: usize, two_threads: bool) -> Ours {
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    // Filled with a value no decode leaves everywhere, so that rows a decode does not write
    // show up as a difference rather than passing by luck.
    let mut buf = vec![0x5Au8; w * h + 2 * cw * ch];
    let (y, rest) = buf.split_at_mut(w * h);
    let (u, v) = rest.split_at_mut(cw * ch);
    let mut img = ImageMut {
        format: VideoPixelFormat::I420,
        width: w,
        height: h,
        planes: [y, u, v, &mut []],
        strides: [w, cw, cw, 0],
    };
    parallel::set_enabled(two_threads);
    let r = d.decode_i420(jpeg, &mut img);
    match r {
        Ok(Decoded::Clean) => Ours::Clean(buf),
        Ok(Decoded::Damaged) => Ours::Damaged(buf),
        Err(_) => Ours::Failed,
    }
}

/// The frames of a stream: cut before each SOI (FF D8) after the first byte.
pub fn frames(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 1;
    while i + 1 < data.len() && out.len() + 1 < MAX_FRAMES {
        if data[i] == 0xFF && data[i + 1] == 0xD8 {
            out.push(&data[start..i]);
            start = i;
        }
        i += 1;
    }
    out.push(&data[start..]);
    out
}

fn name(v: i32) -> &'static str {
    match v {
        REF_CLEAN => "clean",
        REF_DAMAGED => "damaged",
        REF_FAILED => "failed",
        REF_UNSUPPORTED => "unsupported",
        _ => "too large",
    }
}

fn first_difference(a: &[u8], b: &[u8], w: usize, h: usize) -> String {
    let n = a.iter().zip(b).filter(|(x, y)| x != y).count();
    let i = a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(0);
    let plane = if i < w * h {
        "Y"
    } else if i < w * h + w.div_ceil(2) * h.div_ceil(2) {
        "U"
    } else {
        "V"
    };
    format!("{n} samples differ, the first at byte {i} (plane {plane}): libmst {} libjpeg {}", a[i], b[i])
}

/// Decodes `data` (a stream of up to [`MAX_FRAMES`] frames) with libmst and libjpeg; panics
/// (a libFuzzer crash) at the first frame where they disagree.
pub fn check(data: &[u8]) {
    let mut reference = Reference::new();
    let Ok(mut two) = Decoder::new() else { panic!("libturbojpeg.so.0 is needed") };
    // The one-thread decoder decodes only the frames that take the two-thread route, but every
    // frame before them too, so that it holds the same table history.
    let mut one = Decoder::new().expect("decoder");
    for (k, jpeg) in frames(data).into_iter().enumerate() {
        let r = reference.decode(jpeg);
        let (w, h) = (r.w, r.h);
        let at = format!("frame {k} ({} bytes, {w}x{h}, TJSAMP {})", jpeg.len(), r.sub);
        match r.verdict {
            REF_TOO_LARGE => {
                // Not decoded: the decoder still has to refuse it at a size it is not.
                let got = ours(&mut two, jpeg, 16, 16, true);
                ours(&mut one, jpeg, 16, 16, false);
                assert_eq!(got, Ours::Failed, "{at}: a frame libjpeg says is {w}x{h} decoded at 16x16");
                continue;
            }
            REF_FAILED | REF_UNSUPPORTED if w == 0 || h == 0 => {
                // The header did not read: any size must fail.
                let got = ours(&mut two, jpeg, 16, 16, true);
                ours(&mut one, jpeg, 16, 16, false);
                assert_eq!(got, Ours::Failed, "{at}: libjpeg cannot read the header, libmst decoded it");
                continue;
            }
            _ => {}
        }
        let got = ours(&mut two, jpeg, w, h, true);
        let single = ours(&mut one, jpeg, w, h, false);
        assert_eq!(got, single, "{at}: the decode on two threads differs from the one on one thread");
        match (r.verdict, &got) {
            (REF_CLEAN, Ours::Clean(px)) | (REF_DAMAGED, Ours::Damaged(px)) => {
                if px.as_slice() != r.i420 {
                    panic!("{at}: libmst and libjpeg decode different pixels: {}", first_difference(px, r.i420, w, h));
                }
            }
            (REF_FAILED | REF_UNSUPPORTED, Ours::Failed) => {}
            (v, got) => {
                let got_name = match got {
                    Ours::Clean(_) => "clean",
                    Ours::Damaged(_) => "damaged",
                    Ours::Failed => "failed",
                };
                panic!("{at}: libmst says {got_name}, libjpeg says {}", name(v));
            }
        }
    }
}
