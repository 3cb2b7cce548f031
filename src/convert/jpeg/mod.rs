//! MJPEG decoding, for cameras that send JPEG frames (V4L2's MJPG/JPEG), into I420.
//!
//! The decoder is libjpeg-turbo, through its TurboJPEG API, loaded at run time
//! (`dlopen("libturbojpeg.so.0")`, Debian's package libturbojpeg0). Why libjpeg-turbo:
//! - webcams send MJPEG frames without Huffman tables (no DHT segment); libjpeg-turbo's decoder
//!   falls back to the standard tables of JPEG Annex K, as the MJPEG convention expects, where
//!   the pure-Rust decoders reject the frame unless those tables are patched in;
//! - it decodes straight to planar YUV (`tjDecompressToYUVPlanes`): no colour conversion to RGB
//!   and back, and a 4:2:0 frame lands in the I420 frame's own planes with no copy;
//! - it is SIMD-accelerated, maintained, and already on nearly every Linux system (Chromium,
//!   GStreamer and FFmpeg users have it).
//!
//! Why dlopen and not a link-time dependency: MJPEG is one camera format among many. A machine
//! without libturbojpeg still captures every other format; the camera source then does not offer
//! MJPEG modes, and asking for MJPEG says what to install. libmst itself links only libc and
//! libasound, and static users need no extra `-l`.
//!
//! The TurboJPEG 2.x API is used (Debian 12 ships 2.1.5; 3.x keeps these functions).
//!
//! 4:2:2 and 4:2:0 frames, what webcams send, take a second route when it is there: libjpeg's
//! raw-data interface (`raw.c`, `libjpeg.so.62` loaded at run time), one MCU row at a
//! time, luma straight into the frame, 4:2:0 chroma too, and 4:2:2 chroma halved while the
//! strip is in cache. TurboJPEG can only decode a whole 4:2:2 frame, whose two full-size chroma
//! planes then take a second pass through memory; and only libjpeg can be fed the coefficients
//! of libmst's two-thread Huffman decode (`scan.rs`). Both routes run libjpeg-turbo's fast
//! integer IDCT, and their output is identical (a unit test holds them to it).
//!
//! Three rules hold whatever path (TurboJPEG, libjpeg in strips, libmst's own Huffman decode in
//! `scan.rs`) a frame takes, for every subsampling (tests/mjpeg_repro.rs holds them):
//! - **A failed decode is an error**, never a frame: no pixel of the caller's buffer or of the
//!   decoder's scratch from an earlier frame is passed off as this one. (TurboJPEG 2.1 reports
//!   its warning code for a fatal error that followed a warning, when nothing was decoded: such
//!   a frame is decoded again by libjpeg, whose report is exact, or is an error without it.)
//!   A camera's lazily decoded frame exists before its decode: one sure to fail as its decode
//!   starts (a table missing or refused) is dropped when it arrives, as one decoded at once
//!   is; one that fails under way is black.
//! - **Damage is what one libjpeg decode, read through to the EOI marker, warns about**:
//!   corrupt entropy-coded data it worked around, data that ends early (a missing EOI
//!   included), bytes it has to skip before the EOI marker (junk between the scan and EOI; as
//!   libjpeg-turbo counts them, a few bytes right after the last MCU, read ahead by its
//!   Huffman decoder, go unnoticed), or a marker after the scan it skips. A fatal error there
//!   (a second SOF or scan after a single-scan frame) fails the frame. Such a frame is
//!   [`Decoded::Damaged`] on every path; libmst's Huffman decode takes only scans that end
//!   within the last MCU's final byte right before EOI, and leaves the rest to libjpeg.
//! - **One table history per stream**: libjpeg keeps the quantization and Huffman tables a
//!   frame defines for the frames after it that leave them out: those after its scan too
//!   (read on the way to EOI), and those a failed frame defined before the point it failed
//!   at (none after a second SOF, say). A [`Decoder`] keeps that
//!   history itself and gives each frame, before any path sees it, the tables it leaves out
//!   (segments inserted after SOI), so every path decodes it with the tables one libjpeg
//!   decoder given the same frames in the same order would use.

use std::ffi::{c_char, c_int, c_uchar, c_ulong, c_void, CStr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use super::parallel::Balance;
use super::{row, row_mut, ImageMut};
use crate::error::{err, Error, Result};
use crate::frame::format::VideoPixelFormat;

pub(crate) mod scan;

type Handle = *mut c_void;

/// The functions of libturbojpeg.so.0 libmst uses.
struct Api {
    init_decompress: unsafe extern "C" fn() -> Handle,
    decompress_header3:
        unsafe extern "C" fn(Handle, *const c_uchar, c_ulong, *mut c_int, *mut c_int, *mut c_int, *mut c_int) -> c_int,
    decompress_to_yuv_planes: unsafe extern "C" fn(
        Handle,
        *const c_uchar,
        c_ulong,
        *mut *mut c_uchar,
        c_int,
        *mut c_int,
        c_int,
        c_int,
    ) -> c_int,
    destroy: unsafe extern "C" fn(Handle) -> c_int,
    get_error_str2: unsafe extern "C" fn(Handle) -> *mut c_char,
    get_error_code: unsafe extern "C" fn(Handle) -> c_int,
}

/// The library's soname.
pub const LIBRARY: &str = "libturbojpeg.so.0";

static API: OnceLock<std::result::Result<Api, String>> = OnceLock::new();

fn load() -> std::result::Result<Api, String> {
    // SAFETY: dlopen/dlsym with NUL-terminated names; the handle is never closed, so the
    // function pointers stay valid for the life of the process. Each symbol is cast to the
    // signature turbojpeg.h declares for it.
    unsafe {
        let lib = libc::dlopen(c"libturbojpeg.so.0".as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
        if lib.is_null() {
            let why = libc::dlerror();
            let why = if why.is_null() { String::new() } else { CStr::from_ptr(why).to_string_lossy().into_owned() };
            return Err(format!("MJPEG needs {LIBRARY} (Debian: apt-get install libturbojpeg0): {why}"));
        }
        let sym = |name: &CStr| {
            let p = libc::dlsym(lib, name.as_ptr());
            if p.is_null() {
                Err(format!(
                    "{LIBRARY} has no {}: too old (libmst needs TurboJPEG 1.4 or later)",
                    name.to_string_lossy()
                ))
            } else {
                Ok(p)
            }
        };
        Ok(Api {
            init_decompress: std::mem::transmute::<*mut c_void, unsafe extern "C" fn() -> Handle>(sym(
                c"tjInitDecompress",
            )?),
            decompress_header3: std::mem::transmute::<
                *mut c_void,
                unsafe extern "C" fn(
                    Handle,
                    *const c_uchar,
                    c_ulong,
                    *mut c_int,
                    *mut c_int,
                    *mut c_int,
                    *mut c_int,
                ) -> c_int,
            >(sym(c"tjDecompressHeader3")?),
            decompress_to_yuv_planes: std::mem::transmute::<
                *mut c_void,
                unsafe extern "C" fn(
                    Handle,
                    *const c_uchar,
                    c_ulong,
                    *mut *mut c_uchar,
                    c_int,
                    *mut c_int,
                    c_int,
                    c_int,
                ) -> c_int,
            >(sym(c"tjDecompressToYUVPlanes")?),
            destroy: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(Handle) -> c_int>(sym(c"tjDestroy")?),
            get_error_str2: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(Handle) -> *mut c_char>(sym(
                c"tjGetErrorStr2",
            )?),
            get_error_code: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(Handle) -> c_int>(sym(
                c"tjGetErrorCode",
            )?),
        })
    }
}

fn api() -> Result<&'static Api> {
    API.get_or_init(load).as_ref().map_err(|why| err!(Unsupported, "{why}"))
}

/// Whether MJPEG can be decoded here (libturbojpeg.so.0 loads).
pub fn available() -> bool {
    api().is_ok()
}

/// Ok when MJPEG can be decoded here, else Unsupported saying which package to install.
pub fn require() -> Result<()> {
    api().map(|_| ())
}

/// TJSAMP_*: the JPEG's chroma subsampling.
const TJSAMP_444: c_int = 0;
const TJSAMP_422: c_int = 1;
const TJSAMP_420: c_int = 2;
const TJSAMP_GRAY: c_int = 3;
const TJSAMP_440: c_int = 4;
/// TJFLAG_FASTDCT: the fast integer IDCT, as libyuv's MJPGToI420 and Chromium use for camera
/// frames (within a level or two of the accurate one on real pictures, and faster).
const TJFLAG_FASTDCT: c_int = 2048;
/// TJCS_*: the JPEG's colour space.
const TJCS_RGB: c_int = 0;
const TJCS_YCBCR: c_int = 1;
const TJCS_GRAY: c_int = 2;
/// TJERR_WARNING: the frame decoded, but its data were damaged (a truncated or padded frame).
const TJERR_WARNING: c_int = 0;

/// How a frame decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoded {
    Clean,
    /// Decoded with a warning (corrupt or truncated data, which cameras do send): the image is
    /// complete but may show the damage.
    Damaged,
}

/// libjpeg's raw-data interface for 4:2:2 and 4:2:0 frames, strip by strip (`raw.c`;
/// libjpeg.so.62 is loaded at run time).
mod raw {
    use std::ffi::{c_char, c_int, c_void};

    extern "C" {
        pub fn mst_jpeg_raw_new() -> *mut c_void;
        pub fn mst_jpeg_raw_free(d: *mut c_void);
        pub fn mst_jpeg_raw_message(d: *const c_void) -> *const c_char;
        #[allow(clippy::too_many_arguments)]
        /// `feed`: None for libjpeg's own Huffman decoding.
        pub fn mst_jpeg_raw_decode(
            d: *mut c_void,
            jpeg: *const u8,
            len: usize,
            y: *mut u8,
            ys: usize,
            u: *mut u8,
            us: usize,
            v: *mut u8,
            vs: usize,
            w: usize,
            h: usize,
            rows: usize,
            feed: Option<extern "C" fn(*mut c_void, *mut *mut i16, c_int) -> c_int>,
            ctx: *mut c_void,
        ) -> c_int;
        pub fn mst_jpeg_raw_copy_tables(dst: *mut c_void, src: *const c_void) -> c_int;
        pub fn mst_jpeg_raw_verdict(d: *mut c_void, jpeg: *const u8, len: usize, out: *mut u8, out_len: usize)
            -> c_int;
        pub fn mst_jpeg_raw_scratch_bytes(d: *const c_void) -> usize;
        pub fn mst_jpeg_raw_scan_tables(
            d: *mut c_void,
            jpeg: *const u8,
            len: usize,
            w: usize,
            h: usize,
            bits: *mut [u8; 17],
            vals: *mut [u8; 256],
        ) -> c_int;
    }

    pub const OK: c_int = 0;
    pub const DAMAGED: c_int = 1;
    pub const NOT_TAKEN: c_int = -2;
}

/// A TurboJPEG decompressor and its scratch planes, and for 4:2:2 and 4:2:0 frames a libjpeg one that
/// decodes in strips (NULL when libjpeg.so.62 is missing), with a second one and
/// a buffer (the bottom's header) for the bottom half of frames split over two threads (made
/// on first use). One thread at a time.
pub struct Decoder {
    api: &'static Api,
    handle: Handle,
    scratch: Vec<u8>,
    raw: *mut c_void,
    /// Whether 4:2:2 and 4:2:0 frames take `raw` (always, but in tests of the TurboJPEG route).
    strips: bool,
    raw_bottom: *mut c_void,
    bottom: Vec<u8>,
    /// libmst's Huffman decode of 4:2:2 and 4:2:0 scans (scan.rs), and its tables (kept while
    /// frames bring the same ones).
    scan: scan::Scratch,
    scan_tables: Option<ScanTables>,
    /// The stream's tables, and the segments of them the current frame leaves out.
    history: History,
    /// A frame with those segments inserted.
    completed: Vec<u8>,
    /// The scratch bytes counted in [`LIVE_SCRATCH_BYTES`] for this decoder.
    counted: usize,
    /// Where a split frame's IDCT is cut: the top thread's share of its MCU rows.
    idct_balance: Balance,
    /// Where a frame with restart markers is cut (each thread decodes its part whole:
    /// [`Decoder::decode_parts`]): the top thread's share of its MCU rows.
    parts_balance: Balance,
    /// For tests: how the last frame through [`Decoder::decode_resync`] on two threads split.
    last_split: Split,
}

/// How a frame was split over two threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
enum Split {
    #[default]
    None,
    /// Each thread decoded its part whole ([`Decoder::decode_parts`]).
    Parts,
    /// Huffman decode first, its coefficients stored, then the IDCT (scan.rs's [`scan::decode`]).
    Coefficients,
}

/// Decoders alive in this process, and the bytes of scratch they hold ([`live_decoders`]).
static LIVE_DECODERS: AtomicUsize = AtomicUsize::new(0);
static LIVE_SCRATCH_BYTES: AtomicUsize = AtomicUsize::new(0);

/// The MJPEG decoders alive in this process and the scratch bytes they hold (planes, the
/// unstuffed scan and its coefficients, strips, the table history; not the libraries' own
/// per-frame allocations, freed after each frame), for tests and diagnostics: a camera's
/// decoders, and the ones its lazily decoded frames share, are freed when the camera's stream
/// and the last of its frames are.
pub fn live_decoders() -> (usize, usize) {
    (LIVE_DECODERS.load(Ordering::Relaxed), LIVE_SCRATCH_BYTES.load(Ordering::Relaxed))
}

/// The quantization and Huffman tables of a stream as one libjpeg decoder would hold them after
/// the frames so far: each slot's last definition, as its segment's bytes (DQT: Pq/Tq and the
/// values; DHT: Tc/Th, the 16 counts and the symbols).
#[derive(Default)]
struct History {
    dqt: [Vec<u8>; 4],
    /// DC tables 0..4, then AC tables 0..4.
    dht: [Vec<u8>; 8],
    /// The DQT and DHT segments the last frame given to [`History::update`] leaves out.
    splice: Vec<u8>,
    /// Whether libjpeg must fail that frame as it starts: its first scan uses a table
    /// missing from the history or one libjpeg refuses ([`History::refused`]).
    fails_at_start: bool,
}

/// Appends to `out` the table of ITU T.81 Annex K.3 libjpeg puts in Huffman slot `slot` (DC 0,
/// DC 1, AC 0, AC 1: luma and chroma) when a stream defines none there (jstdhuff.c), as a DHT
/// entry; nothing for the other slots.
fn standard_table(slot: usize, out: &mut Vec<u8>) {
    const DC_VALS: [u8; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    let (class_id, counts, vals): (u8, [u8; 16], &[u8]) = match slot {
        0 => (0x00, [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], &DC_VALS),
        1 => (0x01, [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], &DC_VALS),
        4 => (0x10, [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d], &AC_LUMA),
        5 => (0x11, [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77], &AC_CHROMA),
        _ => return,
    };
    out.push(class_id);
    out.extend_from_slice(&counts);
    out.extend_from_slice(vals);
}

impl History {
    /// Reads `jpeg`'s DQT and DHT segments into the history as one libjpeg decode of it does:
    /// in order, up to the EOI marker or the first segment libjpeg fails on (a frame that
    /// fails keeps the tables it defined before that point), those after a sequential
    /// frame's scan included (libjpeg reads the markers that follow it, up to EOI). Fills
    /// `splice` with the segments for the slots the history holds that the frame does not
    /// define before its first scan (with `standard`, also the Annex K tables for the Huffman
    /// slots libjpeg fills with them that neither defines: for frames decoded later by a
    /// decoder that may hold other tables). Returns the length of `splice`. A frame that is
    /// not a JPEG gets nothing.
    fn update(&mut self, jpeg: &[u8], standard: bool) -> usize {
        self.splice.clear();
        self.fails_at_start = false;
        if jpeg.get(..2) != Some(&[0xFF, 0xD8][..]) {
            return 0;
        }
        let (mut q_defined, mut h_defined) = ([false; 4], [false; 8]);
        let (mut i, mut scans) = (2, 0u32);
        // Whether the frame has had its SOF: libjpeg fails on a second one.
        let mut saw_sof = false;
        // A sequential frame's components: a scan of them all is its only one, and another
        // scan after it fails the frame.
        let mut sequential_components = None;
        let mut single_scan = false;
        // A sequential frame's SOF components (id, sampling, quantization table).
        let mut sof: Option<&[u8]> = None;
        let mut spliced = false;
        'segments: while i + 1 < jpeg.len() {
            // The next marker, as libjpeg finds it: past other bytes (damage, or a scan's
            // data), stuffed zeros, fill bytes and, after a scan, restart markers.
            if jpeg[i] != 0xFF {
                // A scan's data: on to its next 0xFF at once (a frame's scan is most of it).
                i += find_ff(&jpeg[i..]).unwrap_or(jpeg.len() - i);
                continue;
            }
            let m = jpeg[i + 1];
            if m == 0x00 || m == 0xFF || (scans > 0 && (0xD0..=0xD7).contains(&m)) {
                i += 1;
                continue;
            }
            match m {
                0xD8 | 0xD9 => break,
                // No length: libjpeg passes over them.
                0x01 | 0xD0..=0xD7 => {
                    i += 2;
                    continue;
                }
                // A second SOF, or one libjpeg-turbo does not decode (lossless, hierarchical,
                // JPG extensions), fails the frame as libjpeg reads it.
                0xC0..=0xCF if m != 0xC4 && m != 0xC8 && m != 0xCC => {
                    if saw_sof || !matches!(m, 0xC0 | 0xC1 | 0xC2 | 0xC9 | 0xCA) {
                        break;
                    }
                    saw_sof = true;
                }
                // A scan before the SOF, or after a single-scan frame's scan, fails the frame.
                0xDA if !saw_sof || single_scan => break,
                // A marker libjpeg does not know (RESn, DHP, EXP, JPGn) fails the frame as it
                // reads it, after a scan too: the tables after it are never read.
                0x02..=0xBF | 0xDE | 0xDF | 0xF0..=0xFD => break,
                _ => {}
            }
            let Some(len) = be16(jpeg, i + 2) else { break };
            let Some(seg) = jpeg.get(i + 4..i + 2 + len.max(2)) else { break };
            match m {
                0xDB => {
                    let mut k = 0;
                    while k < seg.len() {
                        let (pq, tq) = (seg[k] >> 4, usize::from(seg[k] & 15));
                        let n = if pq != 0 { 128 } else { 64 };
                        if tq >= 4 || k + 1 + n > seg.len() {
                            break 'segments;
                        }
                        set(&mut self.dqt[tq], &seg[k..k + 1 + n]);
                        q_defined[tq] |= scans == 0;
                        k += 1 + n;
                    }
                }
                0xC4 => {
                    let mut k = 0;
                    while k < seg.len() {
                        let class_id = seg[k];
                        let Some(counts) = seg.get(k + 1..k + 17) else { break 'segments };
                        let n: usize = counts.iter().map(|&c| usize::from(c)).sum();
                        if class_id & !0x13 != 0 || n > 256 || k + 17 + n > seg.len() {
                            break 'segments;
                        }
                        let slot = usize::from(class_id >> 4) * 4 + usize::from(class_id & 3);
                        set(&mut self.dht[slot], &seg[k..k + 17 + n]);
                        h_defined[slot] |= scans == 0;
                        k += 17 + n;
                    }
                }
                0xC0 | 0xC1 => {
                    sequential_components = seg.get(5).copied();
                    sof = seg.get(6..);
                }
                0xDA => {
                    scans += 1;
                    if scans == 1 {
                        // The frame's tables as its first scan starts: later ones (after a
                        // scan) are the next frames' history, not this frame's.
                        self.fill_splice(q_defined, h_defined, standard);
                        spliced = true;
                        if sequential_components.is_some() {
                            self.fails_at_start = self.refused(sof.unwrap_or_default(), seg);
                            if self.fails_at_start {
                                break;
                            }
                        }
                    }
                    single_scan |= sequential_components.is_some() && seg.first().copied() == sequential_components;
                }
                _ => {}
            }
            i += 2 + len.max(2);
        }
        if !spliced {
            self.fill_splice(q_defined, h_defined, standard);
        }
        self.splice.len()
    }

    /// Fills `splice` (see [`History::update`]) from the history as it is now, for a frame that
    /// defines the slots `q_defined` and `h_defined` itself.
    fn fill_splice(&mut self, q_defined: [bool; 4], h_defined: [bool; 8], standard: bool) {
        let out = &mut self.splice;
        out.clear();
        // A segment's marker and length, the length filled in (or the segment dropped) once
        // its entries are there.
        let segment = |out: &mut Vec<u8>, marker: u8, fill: &mut dyn FnMut(&mut Vec<u8>)| {
            let at = out.len();
            out.extend_from_slice(&[0xFF, marker, 0, 0]);
            fill(out);
            let len = out.len() - at - 2;
            if len == 2 {
                out.truncate(at);
            } else {
                out[at + 2..at + 4].copy_from_slice(&(len as u16).to_be_bytes());
            }
        };
        segment(out, 0xDB, &mut |out| {
            for (t, defined) in self.dqt.iter().zip(q_defined) {
                if !defined {
                    out.extend_from_slice(t);
                }
            }
        });
        segment(out, 0xC4, &mut |out| {
            for (slot, (t, defined)) in self.dht.iter().zip(h_defined).enumerate() {
                if defined {
                    continue;
                }
                if !t.is_empty() {
                    out.extend_from_slice(t);
                } else if standard {
                    standard_table(slot, out);
                }
            }
        });
    }

    /// Whether libjpeg refuses to start the sequential scan `sos` (an SOS segment's bytes after
    /// its length) of a frame whose SOF components are `sof`, with the tables now in the
    /// history: a component's quantization table undefined, or a Huffman table undefined
    /// (slots 0 and 1 have the Annex K tables then) or invalid (jpeg_make_d_derived_tbl: more
    /// than 256 codes, codes that do not fit their length, DC symbols above 15). Other
    /// inconsistencies are left to the decode.
    fn refused(&self, sof: &[u8], sos: &[u8]) -> bool {
        let n = usize::from(sos.first().copied().unwrap_or(0));
        for c in sos.get(1..1 + 2 * n).unwrap_or_default().chunks_exact(2) {
            let Some(comp) = sof.chunks_exact(3).find(|f| f[0] == c[0]) else { continue };
            let tq = usize::from(comp[2]);
            if tq >= 4 || self.dqt[tq].is_empty() {
                return true;
            }
            let (td, ta) = (usize::from(c[1] >> 4), usize::from(c[1] & 15));
            if td >= 4 || ta >= 4 {
                return true;
            }
            for (slot, dc) in [(td, true), (4 + ta, false)] {
                let t = &self.dht[slot];
                let refused = if t.is_empty() { slot % 4 > 1 } else { !huffman_valid(t, dc) };
                if refused {
                    return true;
                }
            }
        }
        false
    }

    fn bytes(&self) -> usize {
        self.dqt.iter().chain(&self.dht).map(Vec::capacity).sum::<usize>() + self.splice.capacity()
    }
}

/// The AC symbols of the Annex K.3 tables, luma then chroma.
pub(crate) const AC_LUMA: [u8; 162] = [
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14,
    0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09,
    0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a,
    0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65,
    0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88,
    0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9,
    0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca,
    0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea,
    0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
];
pub(crate) const AC_CHROMA: [u8; 162] = [
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13, 0x22, 0x32,
    0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0, 0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16,
    0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39,
    0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64,
    0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86,
    0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
    0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8,
    0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9,
    0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
];

/// Whether libjpeg builds a decoding table from the DHT entry `t` (Tc/Th, 16 counts, symbols):
/// at most 256 codes, each length's codes fitting in it, DC symbols at most 15
/// (jpeg_make_d_derived_tbl).
fn huffman_valid(t: &[u8], dc: bool) -> bool {
    let counts = &t[1..17];
    let n: usize = counts.iter().map(|&c| usize::from(c)).sum();
    // Lengths up to the longest code's: the codes of each, after the shorter ones', must fit.
    let longest = counts.iter().rposition(|&c| c > 0).map_or(0, |l| l + 1);
    let mut code = 0u32;
    for (len, &c) in counts[..longest].iter().enumerate() {
        code += u32::from(c);
        if code >= 1 << (len + 1) {
            return false;
        }
        code <<= 1;
    }
    n <= 256 && !(dc && t[17..17 + n].iter().any(|&v| v > 15))
}

/// `dst` made a copy of `src`, reusing its allocation.
fn set(dst: &mut Vec<u8>, src: &[u8]) {
    if dst[..] != *src {
        dst.clear();
        dst.extend_from_slice(src);
    }
}

/// A scan's Huffman tables as libjpeg reports them, and made ready for decoding.
struct ScanTables {
    bits: [[u8; 17]; 6],
    vals: [[u8; 256]; 6],
    tables: scan::Tables,
}

// SAFETY: a TurboJPEG handle may move between threads; `&mut self` keeps its use to one.
unsafe impl Send for Decoder {}

impl Drop for Decoder {
    fn drop(&mut self) {
        LIVE_DECODERS.fetch_sub(1, Ordering::Relaxed);
        LIVE_SCRATCH_BYTES.fetch_sub(self.counted, Ordering::Relaxed);
        // SAFETY: the handle came from tjInitDecompress and is destroyed once.
        unsafe { (self.api.destroy)(self.handle) };
        // SAFETY: NULL or made by mst_jpeg_raw_new, freed once.
        unsafe {
            raw::mst_jpeg_raw_free(self.raw);
            raw::mst_jpeg_raw_free(self.raw_bottom);
        };
    }
}

impl Decoder {
    /// Errors: Unsupported (libturbojpeg.so.0 missing; the message says which package), NoMemory.
    pub fn new() -> Result<Decoder> {
        let api = api()?;
        // SAFETY: no arguments; NULL on failure.
        let handle = unsafe { (api.init_decompress)() };
        if handle.is_null() {
            return Err(err!(NoMemory, "tjInitDecompress failed"));
        }
        // SAFETY: no arguments; NULL when libjpeg.so.62 is missing or does not match.
        let raw = unsafe { raw::mst_jpeg_raw_new() };
        LIVE_DECODERS.fetch_add(1, Ordering::Relaxed);
        Ok(Decoder {
            api,
            handle,
            scratch: Vec::new(),
            raw,
            strips: true,
            raw_bottom: std::ptr::null_mut(),
            bottom: Vec::new(),
            scan: Default::default(),
            scan_tables: None,
            history: History::default(),
            completed: Vec::new(),
            counted: 0,
            idct_balance: Balance::default(),
            parts_balance: Balance::default(),
            last_split: Split::None,
        })
    }

    /// Brings this decoder's count in [`LIVE_SCRATCH_BYTES`] up to date.
    fn account(&mut self) {
        // SAFETY: NULL or live decoders of this one's.
        let c = unsafe { raw::mst_jpeg_raw_scratch_bytes(self.raw) + raw::mst_jpeg_raw_scratch_bytes(self.raw_bottom) }
            + self.scan.bytes();
        let now =
            c + self.scratch.capacity() + self.bottom.capacity() + self.completed.capacity() + self.history.bytes();
        if now != self.counted {
            LIVE_SCRATCH_BYTES.fetch_add(now, Ordering::Relaxed);
            LIVE_SCRATCH_BYTES.fetch_sub(self.counted, Ordering::Relaxed);
            self.counted = now;
        }
    }

    /// Records `jpeg`'s quantization and Huffman tables in this stream's history, and returns
    /// the DQT and DHT segments to insert right after its SOI marker (empty when it needs none)
    /// for it to decode with the tables one libjpeg decoder given the stream would use, on any
    /// decoder ([`Decoder::decode_i420_complete`]): the history's tables for the slots the frame
    /// leaves out, and the Annex K Huffman tables for the slots no frame has defined yet (a
    /// decoder that decodes frames out of order, or another stream's, may hold others).
    ///
    /// None when the frame is sure to fail as its decode starts (a table it uses is missing
    /// from its stream, or libjpeg refuses it): a frame to be decoded later is dropped now, as
    /// one decoded at once is.
    pub(crate) fn stream_tables(&mut self, jpeg: &[u8]) -> Option<&[u8]> {
        let n = self.history.update(jpeg, true);
        (!self.history.fails_at_start).then(|| &self.history.splice[..n])
    }

    /// Ok when `jpeg`'s header says a `width` x `height` frame this decoder takes (a cheap
    /// check, for frames decoded later: see `Frame::video_from_jpeg_lazily`).
    /// Errors: Io (not a JPEG, another size), Unsupported (a subsampling not decoded).
    pub fn check(&mut self, jpeg: &[u8], width: usize, height: usize) -> Result<()> {
        self.geometry(jpeg, width, height).map(|_| ())
    }

    /// The TJSAMP_* subsampling of a JPEG whose header [`Decoder::check`] accepts.
    fn geometry(&mut self, jpeg: &[u8], width: usize, height: usize) -> Result<c_int> {
        let (w, h, sub) = self.header(jpeg)?;
        if (w, h) != (width, height) {
            return Err(err!(Io, "the JPEG frame is {w}x{h}, the stream {width}x{height}"));
        }
        if !matches!(sub, TJSAMP_420 | TJSAMP_422 | TJSAMP_440 | TJSAMP_444 | TJSAMP_GRAY) {
            return Err(err!(
                Unsupported,
                "JPEG chroma subsampling {sub} (TJSAMP) is not decoded; 4:2:0, 4:2:2, 4:4:0, 4:4:4 and greyscale are"
            ));
        }
        Ok(sub)
    }

    /// Whether 4:2:2 and 4:2:0 frames decode strip by strip (libjpeg's raw-data interface)
    /// rather than through TurboJPEG.
    pub fn strips(&self) -> bool {
        self.strips && !self.raw.is_null()
    }

    /// A 4:2:2 or 4:2:0 frame through libjpeg in strips; None when that path does not take it
    /// (no libjpeg.so.62, not YCbCr 4:2:2 or 4:2:0, or planes it cannot write
    /// directly).
    ///
    /// A frame of at least [`SPLIT_MIN_PIXELS`] has its scan Huffman-decoded by libmst (on two
    /// threads when kernels may split) and fed to libjpeg ([`Decoder::decode_resync`]); one
    /// that path declines (damage) is decoded by libjpeg alone, as are smaller frames.
    ///
    /// (Until that path took frames with restart markers, those were cut at a marker and
    /// decoded by two libjpeg decoders; for damaged frames that cut could not report all the
    /// damage one decode reports, libjpeg reporting stray bytes before a marker only at a
    /// later one, so damaged frames now go to one decode.)
    fn decode_strips(&mut self, jpeg: &[u8], dst: &mut ImageMut) -> Option<Result<Decoded>> {
        if !self.strips() {
            return None;
        }
        let (w, h) = (dst.width, dst.height);
        if w * h >= SPLIT_MIN_PIXELS {
            if let Some(l) = layout(jpeg, w, h) {
                let two = super::parallel::enabled();
                if let Some(r) = self.decode_resync(jpeg, &l, dst, two) {
                    return Some(r);
                }
            }
        }
        raw_decode(self.raw, jpeg, h, dst)
    }

    /// A frame on two threads. With restart intervals of at most an MCU row, each thread
    /// decodes its part whole ([`Decoder::decode_parts`]). Otherwise the scan is
    /// Huffman-decoded by [`scan::decode`] (which splits it at the restart marker nearest its
    /// middle or, without restart markers, splits the one bitstream where the decodes from its
    /// start and from its middle fall into step), then the top and bottom halves' IDCT and
    /// output (both phases cut where the threads' times on the frames before say the two
    /// parts take as long: [`super::parallel::Balance`]) by two libjpeg decoders fed those
    /// coefficients (the bottom one given a JPEG of its own: the header, with the bottom's
    /// height, and an empty scan). The output and the
    /// report of damage are libjpeg's: None (the caller decodes the frame with libjpeg alone)
    /// whenever the scan is anything but clean (see scan.rs's module doc), or libjpeg
    /// reports an error in either half. With `two` false, all on this thread: one libjpeg
    /// decoder for the whole frame, each MCU Huffman-decoded by libmst (faster than libjpeg's)
    /// straight into libjpeg's blocks as it asks for them ([`scan::Stream`]: no coefficients
    /// stored and read back, 6% of the decode); a scan that does not end clean is then decoded
    /// again by libjpeg alone.
    fn decode_resync(&mut self, jpeg: &[u8], l: &Layout, dst: &mut ImageMut, two: bool) -> Option<Result<Decoded>> {
        use self::scan::Tables;
        let (w, h) = (dst.width, dst.height);
        let mut bits = [[0u8; 17]; 6];
        let mut vals = [[0u8; 256]; 6];
        // SAFETY: a live decoder used by this thread only; `jpeg` is readable for its length;
        // the tables are the sizes the C side fills.
        let luma = unsafe {
            raw::mst_jpeg_raw_scan_tables(
                self.raw,
                jpeg.as_ptr(),
                jpeg.len(),
                w,
                h,
                bits.as_mut_ptr(),
                vals.as_mut_ptr(),
            )
        };
        // The luma blocks per MCU, as libjpeg lays them out; the header parsed here must agree.
        let luma = usize::try_from(luma).ok()?;
        if luma != 2 * l.v {
            return None;
        }
        if !self.scan_tables.as_ref().is_some_and(|t| t.bits == bits && t.vals == vals && t.tables.luma == luma) {
            let tables = Tables::new(&bits, &vals, luma)?;
            self.scan_tables = Some(ScanTables { bits, vals, tables });
        }
        // After scan_tables, which read this frame's header: the bottom decoder takes the
        // table history as of this frame.
        if two {
            self.bottom_decoder()?;
        }
        let tables = &self.scan_tables.as_ref()?.tables;
        // MCUs: 16 x 8 (4:2:2) or 16 x 16 (4:2:0) pixels.
        let mcu_rows = 8 * l.v;
        let (across, down) = (w.div_ceil(16), h.div_ceil(mcu_rows));
        if !two {
            // Straight into libjpeg's blocks; an error or a scan that does not end clean: the
            // whole decode says what it is.
            let mut stream = scan::stream(&jpeg[l.data_at..], tables, across * down, l.interval, &mut self.scan)?;
            let r = decode_rows(self.raw, jpeg, h, dst, Some(&mut stream))?.ok()?;
            let clean = stream.finish();
            self.scan.last_sync = (across * down, 0);
            return clean.then_some(Ok(r));
        }
        if l.interval > 0 {
            // With restart markers, each thread decodes its part whole when the cut is no
            // more than an MCU row's worth of MCUs into an interval (the bottom thread
            // decodes and drops that many before its part): always with intervals of up to
            // a row, sometimes with longer ones.
            let top_rows = self.parts_balance.first(down);
            let at = top_rows * across;
            if top_rows > 0 && at % l.interval <= across {
                self.last_split = Split::Parts;
                return self.decode_parts(jpeg, l, dst, top_rows);
            }
        }
        self.last_split = Split::Coefficients;
        let coefficients = scan::decode(&jpeg[l.data_at..], tables, across * down, l.interval, two, &mut self.scan)?;
        // Cut where the threads' timings of the frames before say their halves take as long.
        let top_rows = self.idct_balance.first(down);
        let rows = mcu_rows * top_rows;
        let rest = h - rows;
        let bottom = bottom_header(&mut self.bottom, jpeg, l, rest);

        let (mut top, mut low) = super::split_mut(dst, rows);
        let (a, b) = (RawPtr(self.raw), RawPtr(self.raw_bottom));
        let c = &coefficients;
        let (mut top_result, mut bottom_result) = (None, None);
        let (t_top, t_bottom) = super::parallel::join_timed(
            || top_result = decode_rows(a.0, jpeg, h, &mut top, Some(&mut Fed { c, next: 0 })),
            || {
                // Moves the whole RawPtr (Send) in, not just its raw pointer field.
                let b = b;
                let mut fed = Fed { c, next: top_rows * across };
                bottom_result = decode_rows(b.0, bottom, rest, &mut low, Some(&mut fed));
            },
        );
        // A half that failed stopped early: its time says nothing of its thread's speed.
        if matches!((&top_result, &bottom_result), (Some(Ok(_)), Some(Ok(_)))) {
            self.idct_balance.learn(top_rows, t_top, down - top_rows, t_bottom);
        }
        match (top_result?, bottom_result?) {
            (Ok(Decoded::Clean), Ok(Decoded::Clean)) => Some(Ok(Decoded::Clean)),
            (Ok(_), Ok(_)) => Some(Ok(Decoded::Damaged)),
            // An error in either half: the whole decode says what it is.
            _ => None,
        }
    }

    /// A frame with restart markers on two threads, cut after MCU row `top_rows`: each
    /// thread Huffman-decodes its part of the scan (the bottom one from the restart marker
    /// at or before its first MCU) straight into its own libjpeg decoder's blocks, as one
    /// thread does the whole frame ([`scan::split_streams`]): no coefficients stored and
    /// read back, one hand-over. The cut moves with the threads' timings
    /// ([`Decoder::parts_balance`]). None (the caller decodes the frame with libjpeg alone)
    /// whenever either part is anything but clean, as on one thread: the frame's rows may
    /// have been written by then, and are all written again.
    fn decode_parts(
        &mut self,
        jpeg: &[u8],
        l: &Layout,
        dst: &mut ImageMut,
        top_rows: usize,
    ) -> Option<Result<Decoded>> {
        let (w, h) = (dst.width, dst.height);
        let (across, down) = (w.div_ceil(16), h.div_ceil(8 * l.v));
        let (mcus, at) = (across * down, top_rows * across);
        let rows = 8 * l.v * top_rows;
        let bottom = bottom_header(&mut self.bottom, jpeg, l, h - rows);
        let tables = &self.scan_tables.as_ref()?.tables;
        let (mut top_stream, mut bottom_stream) =
            scan::split_streams(&jpeg[l.data_at..], tables, mcus, l.interval, at, &mut self.scan)?;
        let skip = at % l.interval;
        let (mut top, mut low) = super::split_mut(dst, rows);
        let (a, b) = (RawPtr(self.raw), RawPtr(self.raw_bottom));
        let (mut top_result, mut bottom_result) = (None, None);
        let (t_top, t_bottom) = super::parallel::join_timed(
            || top_result = decode_rows(a.0, jpeg, h, &mut top, Some(&mut top_stream)),
            || {
                // Moves the whole RawPtr (Send) in, not just its raw pointer field.
                let b = b;
                if bottom_stream.skip(skip) {
                    bottom_result = decode_rows(b.0, bottom, h - rows, &mut low, Some(&mut bottom_stream));
                }
            },
        );
        let clean = top_stream.finish_part() && bottom_stream.finish();
        // A part that failed stopped early: its time says nothing of its thread's speed.
        if clean && matches!((&top_result, &bottom_result), (Some(Ok(_)), Some(Ok(_)))) {
            self.scan.last_sync = (at, skip);
            // (The bottom's time includes the MCUs it skipped, fewer than a row's.)
            self.parts_balance.learn(top_rows, t_top, down - top_rows, t_bottom);
        }
        match (top_result?, bottom_result?) {
            (Ok(Decoded::Clean), Ok(Decoded::Clean)) if clean => Some(Ok(Decoded::Clean)),
            (Ok(_), Ok(_)) if clean => Some(Ok(Decoded::Damaged)),
            _ => None,
        }
    }

    /// For tests: every two-thread cut at `share` of the work on the top thread, as if the
    /// frames before had taught it.
    #[cfg(test)]
    fn pin_cuts(&mut self, share: f64) {
        let pinned = Balance::with_share(share);
        (self.scan.balance, self.idct_balance, self.parts_balance) = (pinned, pinned, pinned);
    }

    /// The decoder for the bottom half of a split frame, made on first use, holding the
    /// quantization and Huffman tables the main decoder holds now (libjpeg keeps them from
    /// frame to frame, and frames may leave them out: see mst_jpeg_raw_copy_tables). None
    /// when it cannot be made.
    fn bottom_decoder(&mut self) -> Option<()> {
        if self.raw_bottom.is_null() {
            // SAFETY: no arguments; NULL when it cannot be made.
            self.raw_bottom = unsafe { raw::mst_jpeg_raw_new() };
            if self.raw_bottom.is_null() {
                return None;
            }
        }
        // SAFETY: two live decoders, distinct, used by this thread only.
        (unsafe { raw::mst_jpeg_raw_copy_tables(self.raw_bottom, self.raw) } == raw::OK).then_some(())
    }

    /// Whether a frame TurboJPEG reported a warning for (`warning`, its message) decoded:
    /// Damaged when libjpeg decodes it with warnings only, else an error (libjpeg's, or
    /// `warning` when libjpeg is not here to tell).
    fn verdict(&mut self, jpeg: &[u8], warning: Error) -> Result<Decoded> {
        if !self.raw.is_null() {
            // SAFETY: a live decoder used by this thread only; `jpeg` is readable for its length.
            let r = unsafe { raw::mst_jpeg_raw_verdict(self.raw, jpeg.as_ptr(), jpeg.len(), std::ptr::null_mut(), 0) };
            if r == raw::OK || r == raw::DAMAGED {
                return Ok(Decoded::Damaged);
            }
            // SAFETY: a live decoder; the message is a NUL-terminated buffer inside it.
            let msg = unsafe { CStr::from_ptr(raw::mst_jpeg_raw_message(self.raw)) }.to_string_lossy().into_owned();
            return Err(err!(Io, "decoding a JPEG frame: {msg}"));
        }
        Err(err!(
            Io,
            "{} (TurboJPEG cannot tell a damaged frame from a failed one here without libjpeg.so.62)",
            warning.message
        ))
    }

    fn error(&self, what: &str) -> Error {
        // SAFETY: a live handle; the string is owned by the handle and copied at once.
        let msg = unsafe { CStr::from_ptr((self.api.get_error_str2)(self.handle)) }.to_string_lossy().into_owned();
        err!(Io, "{what}: {msg}")
    }

    /// Width, height and TJSAMP_* subsampling of a JPEG; an Unsupported error for colour
    /// spaces other than YCbCr and greyscale (Adobe RGB, CMYK, YCCK), whose components are not
    /// Y, U and V.
    fn header(&mut self, jpeg: &[u8]) -> Result<(usize, usize, c_int)> {
        let (mut w, mut h, mut sub, mut cs) = (0, 0, 0, 0);
        // SAFETY: `jpeg` is readable for its length; the outputs are live ints.
        let r = unsafe {
            (self.api.decompress_header3)(
                self.handle,
                jpeg.as_ptr(),
                jpeg.len() as c_ulong,
                &mut w,
                &mut h,
                &mut sub,
                &mut cs,
            )
        };
        // A warning (junk before a marker, say) is no failure: the header was read, and the
        // decode, which warns again, reports the frame damaged.
        // SAFETY: a live handle.
        let warned = r != 0 && unsafe { (self.api.get_error_code)(self.handle) } == TJERR_WARNING;
        if (r != 0 && !warned) || w <= 0 || h <= 0 {
            let e = self.error("not a JPEG frame");
            // TurboJPEG 2.x leaves a header that failed half-way inside the decompressor (it
            // does not abort it), and the next frame's header then fails too ("two SOI
            // markers", "missing SOS"): one damaged frame would stop the stream. A fresh handle
            // starts clean; if none can be made, the old one is kept.
            // SAFETY: no arguments; NULL on failure. The old handle is destroyed once.
            unsafe {
                let fresh = (self.api.init_decompress)();
                if !fresh.is_null() {
                    (self.api.destroy)(self.handle);
                    self.handle = fresh;
                }
            }
            return Err(e);
        }
        if !matches!(cs, TJCS_YCBCR | TJCS_GRAY) {
            let name = match cs {
                TJCS_RGB => "RGB (an Adobe APP14 marker)",
                3 => "CMYK",
                4 => "YCCK",
                _ => "unknown",
            };
            return Err(err!(Unsupported, "JPEG colour space {name} is not decoded; YCbCr and greyscale are"));
        }
        Ok((w as usize, h as usize, sub))
    }

    /// Decodes `jpeg` into the I420 image `dst`, whose size must be the JPEG's. 4:2:0 decodes
    /// into `dst`'s planes; 4:2:2, 4:4:0 and 4:4:4 chroma is box-averaged down to 4:2:0 (rounding
    /// half up, as libmst's other conversions); greyscale gets neutral chroma (128).
    ///
    /// The frames of a stream go to one decoder in their order: it keeps the stream's tables
    /// (see the module doc). On an error, `dst` holds no frame: its pixels are not to be used.
    ///
    /// Errors: InvalidArg (`dst` not I420), Io (not a JPEG, a size other than `dst`'s, or data the
    /// decoder gave up on), Unsupported (4:1:1 and other rare subsamplings).
    pub fn decode_i420(&mut self, jpeg: &[u8], dst: &mut ImageMut) -> Result<Decoded> {
        self.prewake(dst);
        if self.history.update(jpeg, false) == 0 {
            return self.decode_i420_complete(jpeg, dst);
        }
        let mut completed = std::mem::take(&mut self.completed);
        completed.clear();
        completed.extend_from_slice(&jpeg[..2]);
        completed.extend_from_slice(&self.history.splice);
        completed.extend_from_slice(&jpeg[2..]);
        let r = self.decode_i420_complete(&completed, dst);
        self.completed = completed;
        self.account();
        r
    }

    /// [`Decoder::decode_i420`] of a frame its stream has completed with the tables it leaves
    /// out ([`Decoder::stream_tables`]): this decoder's own history is not used.
    pub(crate) fn decode_i420_complete(&mut self, jpeg: &[u8], dst: &mut ImageMut) -> Result<Decoded> {
        self.prewake(dst);
        let r = self.decode_any(jpeg, dst);
        self.account();
        r
    }

    /// Wakes the helper thread to spin while this frame's header and scan are prepared, when
    /// the frame is one [`Decoder::decode_strips`] may split (see parallel.rs's module doc).
    fn prewake(&self, dst: &ImageMut) {
        if self.strips() && dst.width * dst.height >= SPLIT_MIN_PIXELS {
            super::parallel::prewake();
        }
    }

    fn decode_any(&mut self, jpeg: &[u8], dst: &mut ImageMut) -> Result<Decoded> {
        if dst.format != VideoPixelFormat::I420 {
            return Err(err!(InvalidArg, "MJPEG decodes into I420, not {:?}", dst.format));
        }
        // 4:2:2 and 4:2:0 (what webcams send) in strips, when that path is here: it reads the header itself
        // and hands back any other frame (nothing written) to TurboJPEG below.
        if let Some(result) = self.decode_strips(jpeg, dst) {
            if result.is_ok() {
                crate::stats::count_media_bytes(super::image_bytes(VideoPixelFormat::I420, dst.width, dst.height));
            }
            return result;
        }
        let (w, h) = (dst.width, dst.height);
        let sub = self.geometry(jpeg, w, h)?;
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        // Chroma planes as decoded: their size and how many decoded samples make one I420 one.
        let (pw, ph) = match sub {
            TJSAMP_420 | TJSAMP_GRAY => (cw, ch),
            TJSAMP_422 => (cw, h),
            TJSAMP_440 => (w, ch),
            TJSAMP_444 => (w, h),
            other => unreachable!("geometry() admits no subsampling {other}"),
        };

        // TurboJPEG writes whole subsampling blocks: the luma plane padded to even width (4:2:0,
        // 4:2:2) and height (4:2:0, 4:4:0) (tjPlaneWidth/tjPlaneHeight of component 0).
        let (lw, lh) = match sub {
            TJSAMP_420 => (2 * cw, 2 * ch),
            TJSAMP_422 => (2 * cw, h),
            TJSAMP_440 => (w, 2 * ch),
            _ => (w, h),
        };
        // A plane takes C's writes directly when its stride (which must fit a C int) covers the
        // padded row and its slice the padded rows; else the plane goes through scratch.
        let fits = |len: usize, stride: usize, rows: usize, row: usize| {
            super::plane_holds(len, stride, row, rows) && stride <= c_int::MAX as usize
        };
        let [yp, up, vp, _] = &mut dst.planes;
        let (ys, us, vs) = (dst.strides[0], dst.strides[1], dst.strides[2]);
        let luma_direct = fits(yp.len(), ys, lh, lw);
        let chroma_direct =
            (sub == TJSAMP_420 || sub == TJSAMP_GRAY) && fits(up.len(), us, ch, cw) && fits(vp.len(), vs, ch, cw);
        // Scratch: [luma lw x lh if not direct][U pw x ph][V pw x ph if chroma not direct].
        let luma_n = if luma_direct { 0 } else { lw * lh };
        let chroma_n = if chroma_direct { 0 } else { pw * ph };
        // Taken out for the decode, so the verdict below may use the decoder.
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.resize(luma_n + 2 * chroma_n, 0);
        let (sy, rest) = scratch.split_at_mut(luma_n);
        let (su, sv) = rest.split_at_mut(chroma_n);
        let mut strides: [c_int; 3] = [ys as c_int, us as c_int, vs as c_int];
        let mut planes: [*mut c_uchar; 3] = [yp.as_mut_ptr(), up.as_mut_ptr(), vp.as_mut_ptr()];
        if !luma_direct {
            planes[0] = sy.as_mut_ptr();
            strides[0] = lw as c_int;
        }
        if !chroma_direct {
            planes[1] = su.as_mut_ptr();
            planes[2] = sv.as_mut_ptr();
            strides[1] = pw as c_int;
            strides[2] = pw as c_int;
        }
        // SAFETY: each plane pointer addresses a buffer holding the padded rows TurboJPEG writes
        // at its stride (`fits` above, or scratch of exactly that size); greyscale writes only
        // the first.
        let r = unsafe {
            (self.api.decompress_to_yuv_planes)(
                self.handle,
                jpeg.as_ptr(),
                jpeg.len() as c_ulong,
                planes.as_mut_ptr(),
                w as c_int,
                strides.as_mut_ptr(),
                h as c_int,
                TJFLAG_FASTDCT,
            )
        };
        // SAFETY: a live handle.
        let outcome = if r == 0 {
            Ok(Decoded::Clean)
        } else if unsafe { (self.api.get_error_code)(self.handle) } == TJERR_WARNING {
            // Maybe a fatal error after a warning, with nothing decoded (TurboJPEG 2.1).
            let e = self.error("decoding a JPEG frame");
            self.verdict(jpeg, e)
        } else {
            Err(self.error("decoding a JPEG frame"))
        };
        if outcome.is_err() {
            self.scratch = scratch;
            return outcome;
        }
        if !luma_direct {
            super::copy_rows(sy, lw, yp, ys, w, h);
        }
        if sub == TJSAMP_GRAY {
            for (plane, stride) in [(&mut **up, us), (&mut **vp, vs)] {
                for y in 0..ch {
                    row_mut(plane, stride, y, cw).fill(128);
                }
            }
        } else if !chroma_direct {
            downsample_to_420(su, pw, ph, up, us, cw, ch);
            downsample_to_420(sv, pw, ph, vp, vs, cw, ch);
        }
        self.scratch = scratch;
        crate::stats::count_media_bytes(super::image_bytes(VideoPixelFormat::I420, w, h));
        outcome
    }
}

/// Into `buf`, and returned: the JPEG the bottom decoder of a split frame is given: `jpeg`'s
/// header with the bottom's height (`rows`), and a scan of no data (its coefficients are fed).
fn bottom_header<'b>(buf: &'b mut Vec<u8>, jpeg: &[u8], l: &Layout, rows: usize) -> &'b [u8] {
    buf.clear();
    buf.extend_from_slice(&jpeg[..l.data_at]);
    buf[l.height_at..l.height_at + 2].copy_from_slice(&(rows as u16).to_be_bytes());
    buf.extend_from_slice(&[0xFF, 0xD9]);
    buf
}

/// A libjpeg decoder handed to the helper thread for the bottom half of a split frame.
struct RawPtr(*mut c_void);
// SAFETY: each decoder is used by one thread at a time: `decode_resync` gives the top decoder
// to this thread and the bottom one to the helper, and waits for both.
unsafe impl Send for RawPtr {}

/// The first `dst.height` rows of the 4:2:2 or 4:2:0 frame `jpeg` (`dst.width` x `jpeg_h`) through the
/// libjpeg decoder `raw`, into `dst`; None when the strip path does not take it (another
/// subsampling or colour space, or planes that do not hold the rows: nothing written).
fn raw_decode(raw: *mut c_void, jpeg: &[u8], jpeg_h: usize, dst: &mut ImageMut) -> Option<Result<Decoded>> {
    decode_rows(raw, jpeg, jpeg_h, dst, None)
}

/// [`raw_decode`], or with `feed` libjpeg takes its coefficients from it, MCU by MCU (for
/// the bottom of a frame, `jpeg` is the bottom's own header: [`Decoder::decode_resync`]).
fn decode_rows(
    raw: *mut c_void,
    jpeg: &[u8],
    jpeg_h: usize,
    dst: &mut ImageMut,
    mut feed: Option<&mut dyn Feed>,
) -> Option<Result<Decoded>> {
    let (w, rows) = (dst.width, dst.height);
    let (cw, ch) = (w.div_ceil(2), rows.div_ceil(2));
    let [yp, up, vp, _] = &mut dst.planes;
    let (ys, us, vs) = (dst.strides[0], dst.strides[1], dst.strides[2]);
    let holds = super::plane_holds(yp.len(), ys, w, rows)
        && super::plane_holds(up.len(), us, cw, ch)
        && super::plane_holds(vp.len(), vs, cw, ch);
    if raw.is_null() || !holds || rows > jpeg_h {
        return None;
    }
    let ctx = feed.as_mut().map_or(std::ptr::null_mut(), |f| (f as *mut &mut dyn Feed).cast());
    // SAFETY: a live decoder used by this thread only; `jpeg` is readable for its length;
    // each plane holds its rows at its stride (checked above), and the C side writes only
    // those rows' first w or cw bytes. `feed` outlives the call, and the C side calls
    // `feed_mcu` with it on this thread only, with `n` pointers to zeroed 64-coefficient
    // blocks.
    let r = unsafe {
        raw::mst_jpeg_raw_decode(
            raw,
            jpeg.as_ptr(),
            jpeg.len(),
            yp.as_mut_ptr(),
            ys,
            up.as_mut_ptr(),
            us,
            vp.as_mut_ptr(),
            vs,
            w,
            jpeg_h,
            rows,
            feed.is_some().then_some(feed_mcu),
            ctx,
        )
    };
    match r {
        raw::OK => Some(Ok(Decoded::Clean)),
        raw::DAMAGED => Some(Ok(Decoded::Damaged)),
        raw::NOT_TAKEN => None,
        _ => {
            // SAFETY: a live decoder; the message is a NUL-terminated buffer inside it.
            let msg = unsafe { CStr::from_ptr(raw::mst_jpeg_raw_message(raw)) }.to_string_lossy().into_owned();
            Some(Err(err!(Io, "decoding a JPEG frame: {msg}")))
        }
    }
}

/// What libjpeg is fed in place of its own Huffman decoding: each MCU's blocks in turn.
trait Feed {
    /// Blocks per MCU (4 or 6).
    fn blocks(&self) -> usize;
    /// Writes the next MCU into `out` ([`Feed::blocks`] zeroed blocks of 64 coefficients);
    /// false when there is none or it does not decode.
    fn next(&mut self, out: &mut [i16]) -> bool;
}

/// The two-thread decode's MCUs, from `next` on.
struct Fed<'a, 'c> {
    c: &'a scan::Coefficients<'c>,
    next: usize,
}

impl Feed for Fed<'_, '_> {
    fn blocks(&self) -> usize {
        self.c.blocks
    }

    fn next(&mut self, out: &mut [i16]) -> bool {
        if self.next >= self.c.mcus {
            return false;
        }
        self.c.mcu(self.next, out);
        self.next += 1;
        true
    }
}

impl Feed for scan::Stream<'_> {
    fn blocks(&self) -> usize {
        self.blocks
    }

    fn next(&mut self, out: &mut [i16]) -> bool {
        self.mcu(out)
    }
}

/// libjpeg's decode_mcu, fed (raw.c): the next MCU's blocks (4 or 6) into `blocks`; 0 when
/// there is none or libjpeg asks for another number of blocks (then the decode fails).
extern "C" fn feed_mcu(ctx: *mut c_void, blocks: *mut *mut i16, n: c_int) -> c_int {
    std::panic::catch_unwind(|| {
        // SAFETY: `ctx` is the `&mut dyn Feed` decode_rows passed, alive for the call.
        let f = unsafe { &mut **ctx.cast::<&mut dyn Feed>() };
        if usize::try_from(n).ok() != Some(f.blocks()) {
            return 0;
        }
        let n = f.blocks();
        // SAFETY: libjpeg passes `n` pointers to distinct, aligned 64-coefficient blocks,
        // zeroed; libjpeg-turbo's are one array (checked: else they are filled one by one
        // from a copy).
        let p = unsafe { std::slice::from_raw_parts(blocks, n) };
        if (1..n).all(|b| p[b] == p[0].wrapping_add(64 * b)) {
            // SAFETY: n contiguous blocks of 64 coefficients.
            return c_int::from(f.next(unsafe { std::slice::from_raw_parts_mut(p[0], 64 * n) }));
        }
        let mut all = [0i16; 64 * scan::BLOCKS_MAX];
        if !f.next(&mut all[..64 * n]) {
            return 0;
        }
        for (b, &q) in p.iter().enumerate() {
            // SAFETY: as above: a block of 64 coefficients.
            unsafe { std::ptr::copy_nonoverlapping(all[64 * b..].as_ptr(), q, 64) };
        }
        1
    })
    .unwrap_or(0)
}

/// 4:2:2 and 4:2:0 frames with at least this many pixels go through libmst's Huffman decoder, on two
/// threads when kernels may split (a 640x480 frame takes about 1.5 ms to decode; the
/// hand-over to the helper thread about 10 µs); smaller ones to libjpeg alone.
pub const SPLIT_MIN_PIXELS: usize = 640 * 480;

fn be16(b: &[u8], i: usize) -> Option<usize> {
    Some(usize::from(*b.get(i)?) << 8 | usize::from(*b.get(i + 1)?))
}

/// Offset of the first 0xFF byte of `b`: the scan data has one every few hundred bytes
/// (stuffing and restart markers), found by libc's memchr, which reads 32 or 64 bytes a step
/// (scan.rs's unstuffing; the table history's walk over the scan to the markers after it).
pub(super) fn find_ff(b: &[u8]) -> Option<usize> {
    // SAFETY: memchr reads at most b.len() bytes from b's start; the result, when not NULL,
    // points into b.
    let p = unsafe { libc::memchr(b.as_ptr().cast(), 0xFF, b.len()) };
    (!p.is_null()).then(|| p as usize - b.as_ptr() as usize)
}

/// Where the parts of a single-scan baseline YCbCr 4:2:2 or 4:2:0 `w` x `h` frame are.
struct Layout {
    /// The luma's vertical sampling factor: 1 (4:2:2) or 2 (4:2:0).
    v: usize,
    /// Offset of the SOF segment's height field.
    height_at: usize,
    /// End of the SOS segment: the scan's entropy-coded data starts here.
    data_at: usize,
    /// The restart interval in MCUs (0: no restart markers).
    interval: usize,
}

/// The [`Layout`] of `jpeg`'s header; None when it is not a single-scan baseline (or
/// extended sequential) Huffman-coded YCbCr 4:2:2 or 4:2:0 `w` x `h` frame with its scan's three
/// components in one scan.
fn layout(jpeg: &[u8], w: usize, h: usize) -> Option<Layout> {
    if jpeg.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let (mut i, mut height_at, mut interval, mut v) = (2, None, 0, 0);
    let data_at = loop {
        if *jpeg.get(i)? != 0xFF {
            return None;
        }
        let m = *jpeg.get(i + 1)?;
        if m == 0xFF {
            i += 1; // fill byte
            continue;
        }
        // 0xFF 0x00 is no marker: libjpeg skips it and what follows up to the next marker
        // (with a warning), so the segments it reads need not be the ones parsed here.
        if m == 0x00 {
            return None;
        }
        let len = be16(jpeg, i + 2)?;
        let seg = jpeg.get(i + 4..(i + 2 + len).max(i + 4))?;
        match m {
            // Baseline or extended sequential, Huffman: P, Y, X, Nf, then C, HV, Tq each.
            0xC0 | 0xC1 => {
                if seg.len() < 15
                    || seg[0] != 8
                    || seg[5] != 3
                    || (be16(seg, 3)?, be16(seg, 1)?) != (w, h)
                    || !matches!(seg[7], 0x21 | 0x22)
                    || (seg[10], seg[13]) != (0x11, 0x11)
                {
                    return None;
                }
                v = usize::from(seg[7] & 0x0F);
                height_at = Some(i + 5);
            }
            // Progressive, lossless, arithmetic-coded: not cut.
            0xC2 | 0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return None,
            0xDD => interval = be16(seg, 0)?,
            // One scan of the three components.
            0xDA => {
                if seg.first() != Some(&3) {
                    return None;
                }
                break i + 2 + len;
            }
            0x01 | 0xD0..=0xD9 => return None,
            _ => {}
        }
        i += 2 + len;
    };
    Some(Layout { v, height_at: height_at?, data_at, interval })
}

/// Box-averages a `pw` x `ph` plane (tightly packed) whose size is `cw` or twice it across and
/// `ch` or twice it down into the `cw` x `ch` plane `dst`; a last odd row or column averages
/// with itself.
fn downsample_to_420(src: &[u8], pw: usize, ph: usize, dst: &mut [u8], dst_stride: usize, cw: usize, ch: usize) {
    let fx = if pw > cw { 2 } else { 1 };
    let fy = if ph > ch { 2 } else { 1 };
    if fx == 1 && fy == 2 {
        // 4:2:2, the usual webcam MJPEG: the average of two rows, rounding half up (the
        // general formula's (2a + 2b + 2) / 4), in a form the compiler vectorises (pavgb).
        for cy in 0..ch {
            let r0 = row(src, pw, 2 * cy, cw);
            let r1 = row(src, pw, (2 * cy + 1).min(ph - 1), cw);
            let d = row_mut(dst, dst_stride, cy, cw);
            for ((o, &a), &b) in d.iter_mut().zip(r0).zip(r1) {
                *o = ((a as u16 + b as u16 + 1) >> 1) as u8;
            }
        }
        return;
    }
    for cy in 0..ch {
        let r0 = row(src, pw, (cy * fy).min(ph - 1), pw);
        let r1 = row(src, pw, (cy * fy + fy - 1).min(ph - 1), pw);
        let d = row_mut(dst, dst_stride, cy, cw);
        for (cx, out) in d.iter_mut().enumerate() {
            let (x0, x1) = ((cx * fx).min(pw - 1), (cx * fx + fx - 1).min(pw - 1));
            let sum = r0[x0] as u32 + r0[x1] as u32 + r1[x0] as u32 + r1[x1] as u32;
            *out = ((sum + 2) / 4) as u8;
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    #[test]
    fn downsampling_averages_with_rounding_half_up() {
        // 4:2:2 chroma of a 4x3 image (2x3) to 2x2: vertical pairs, the odd last row alone.
        let src = [10, 20, 11, 21, 50, 60];
        let mut dst = [0u8; 4];
        downsample_to_420(&src, 2, 3, &mut dst, 2, 2, 2);
        assert_eq!(dst, [11, 21, 50, 60]);
        // 4:4:4 of a 3x1 image to 2x1: (1+2+1+2+2)/4 = 2, the odd last column alone.
        let src = [1, 2, 7];
        let mut dst = [0u8; 2];
        downsample_to_420(&src, 3, 1, &mut dst, 2, 2, 1);
        assert_eq!(dst, [2, 7]);
    }

    /// JPEG-compresses an RGB picture with TurboJPEG (the same library, loaded here too).
    pub(crate) fn compress(rgb: &[u8], w: usize, h: usize, subsamp: c_int) -> Vec<u8> {
        type Init = unsafe extern "C" fn() -> Handle;
        type Compress = unsafe extern "C" fn(
            Handle,
            *const u8,
            c_int,
            c_int,
            c_int,
            c_int,
            *mut *mut u8,
            *mut c_ulong,
            c_int,
            c_int,
            c_int,
        ) -> c_int;
        // SAFETY: the library is loaded (api() succeeded in the caller); signatures as in
        // turbojpeg.h; the output buffer is allocated by TurboJPEG, copied, then freed by it.
        unsafe {
            let lib = libc::dlopen(c"libturbojpeg.so.0".as_ptr(), libc::RTLD_NOW);
            assert!(!lib.is_null());
            let init: Init = std::mem::transmute(libc::dlsym(lib, c"tjInitCompress".as_ptr()));
            let comp: Compress = std::mem::transmute(libc::dlsym(lib, c"tjCompress2".as_ptr()));
            let free: unsafe extern "C" fn(*mut u8) = std::mem::transmute(libc::dlsym(lib, c"tjFree".as_ptr()));
            let destroy: unsafe extern "C" fn(Handle) -> c_int =
                std::mem::transmute(libc::dlsym(lib, c"tjDestroy".as_ptr()));
            let h_ = init();
            let (mut out, mut len) = (std::ptr::null_mut(), 0 as c_ulong);
            // TJPF_RGB = 0, quality 90, no flags.
            assert_eq!(comp(h_, rgb.as_ptr(), w as c_int, 0, h as c_int, 0, &mut out, &mut len, subsamp, 90, 0), 0);
            let v = std::slice::from_raw_parts(out, len as usize).to_vec();
            free(out);
            destroy(h_);
            v
        }
    }

    /// The strip path (libjpeg raw data) decodes 4:2:2 and 4:2:0 exactly as TurboJPEG (and
    /// for 4:2:2 the separate chroma pass) does, at sizes that are and are not whole MCUs, into
    /// padded strides.
    #[test]
    fn strips_decode_exactly_as_the_whole_frame_path() {
        if !available() {
            eprintln!("libturbojpeg.so.0 missing: scripts/test.sh installs it; nothing to compare");
            return;
        }
        let mut strips = Decoder::new().unwrap();
        let mut whole = Decoder::new().unwrap();
        // On a machine that has libjpeg.so.62 (scripts/test.sh checks), the strip path must be
        // there: its absence would hide every check below.
        assert!(strips.strips(), "libjpeg.so.62 did not load");
        // Its libjpeg decoder stays, for the verdict on frames TurboJPEG warns about.
        whole.strips = false;
        let sizes = [(16, 8), (64, 48), (37, 21), (17, 9), (1, 1), (2, 3), (100, 7), (48, 130), (33, 17), (48, 16)];
        for (sub, (w, h)) in [TJSAMP_422, TJSAMP_420].into_iter().flat_map(|s| sizes.map(|z| (s, z))) {
            let rgb: Vec<u8> = (0..w * h * 3).map(|i| ((i * 37 + i / (3 * w) * 11) % 251) as u8).collect();
            let jpeg = compress(&rgb, w, h, sub);
            let mut a = super::super::testutil::OwnedImage::new(VideoPixelFormat::I420, w, h, 5, 0x5A);
            let mut b = super::super::testutil::OwnedImage::new(VideoPixelFormat::I420, w, h, 0, 0);
            assert_eq!(strips.decode_i420(&jpeg, &mut a.view_mut()).unwrap(), Decoded::Clean, "{w}x{h}");
            assert_eq!(whole.decode_i420(&jpeg, &mut b.view_mut()).unwrap(), Decoded::Clean, "{w}x{h}");
            a.assert_padding();
            assert_eq!(a.packed(), b.packed(), "{w}x{h}");
            // A truncated frame decodes with a warning on both paths (cameras do send them).
            let sos = jpeg.windows(2).position(|m| m == [0xFF, 0xDA]).expect("an SOS marker");
            let cut = &jpeg[..sos + 20 + (jpeg.len() - sos - 20) / 2];
            assert_eq!(strips.decode_i420(cut, &mut a.view_mut()).unwrap(), Decoded::Damaged, "{w}x{h} truncated");
            assert_eq!(whole.decode_i420(cut, &mut b.view_mut()).unwrap(), Decoded::Damaged, "{w}x{h} truncated");
            a.assert_padding();
        }
        // Not JPEG data past a valid header's start: an error with a message, nothing fatal,
        // and the decoder still works afterwards.
        let jpeg = compress(&[9; 16 * 8 * 3], 16, 8, TJSAMP_422);
        let mut bad = jpeg.clone();
        for b in bad.iter_mut().skip(300) {
            *b = 0xFF;
        }
        for d in [&mut strips, &mut whole] {
            let mut img = super::super::testutil::OwnedImage::new(VideoPixelFormat::I420, 16, 8, 0, 0);
            let e = d.decode_i420(&bad, &mut img.view_mut()).unwrap_err();
            assert!(e.message.contains("JPEG"), "{e:?}");
            assert_eq!(d.decode_i420(&jpeg, &mut img.view_mut()).unwrap(), Decoded::Clean, "the frame after a bad one");
            let y = &img.packed()[0];
            assert!(y.iter().all(|&v| v.abs_diff(y[0]) <= 1), "a flat frame after a bad one");
        }
    }

    /// Frames without restart markers, Huffman-decoded on two threads (scan.rs) and fed
    /// to libjpeg.
    mod resync {
        use super::super::*;
        use crate::convert::jpeg::scan::tests::frame;
        use crate::convert::testutil::OwnedImage;

        /// cjpeg's VGA frame rewritten by `jpegtran -optimize`: Huffman tables of its own, no
        /// restart markers (tests/data/mjpeg/README.md).
        const OPTIMIZED: &[u8] = include_bytes!("../../../tests/data/mjpeg/optimized-640x480.jpg");

        /// A decoder with the strip path (which scripts/test.sh's machine must have).
        pub(super) fn decoder() -> Decoder {
            let d = Decoder::new().expect("libturbojpeg.so.0 (scripts/test.sh installs it)");
            assert!(d.strips(), "libjpeg.so.62 did not load");
            d
        }

        /// The whole frame on one libjpeg decoder, as reference.
        pub(super) fn whole(d: &mut Decoder, jpeg: &[u8], w: usize, h: usize) -> (Result<Decoded>, OwnedImage) {
            let mut img = OwnedImage::new(VideoPixelFormat::I420, w, h, 0, 0);
            let r = raw_decode(d.raw, jpeg, h, &mut img.view_mut()).expect("the strip path takes 4:2:2");
            (r, img)
        }

        /// 200 mutations of the 640x480 frame `good`, each made by `mutate(i, at, frame,
        /// next)` (`at`: a random offset in the scan's data; `next(n)`: a random number below
        /// n), decoded by one libjpeg decode and by decode_i420: the same outcome (error,
        /// damaged or clean) and, decoded, the same pixels. Returns how many decode_i420 split
        /// and how many decoded damaged.
        ///
        /// Each frame is cut where a share pinned by the mutation's number says (0.3 to 0.7 of
        /// the work on the top thread), not where the timings of the frames before would move
        /// it, so what a run covers does not depend on the machine's load. Also returns how
        /// many frames taken by [`Decoder::decode_parts`] had their bottom part start inside an
        /// interval.
        pub(super) fn mutations_decode_as_one_decode(
            good: &[u8],
            mutate: impl Fn(usize, usize, &mut Vec<u8>, &mut dyn FnMut(usize) -> usize),
        ) -> (usize, usize, usize) {
            let mut d = decoder();
            let data_at = layout(good, 640, 480).unwrap().data_at;
            let mut s = 0x2545_f491u64;
            let mut next = |n: usize| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s % n as u64) as usize
            };
            let (mut split, mut damaged, mut skipped) = (0, 0, 0);
            for i in 0..200 {
                let mut bad = good.to_vec();
                let at = data_at + next(bad.len() - data_at - 2);
                mutate(i, at, &mut bad, &mut next);
                let (whole_result, reference) = whole(&mut d, &bad, 640, 480);
                let share = [0.3, 0.42, 0.5, 0.58, 0.7][i % 5];
                d.pin_cuts(share);
                (d.scan.last_sync, d.last_split) = ((0, 0), Split::None);
                let mut img = OwnedImage::new(VideoPixelFormat::I420, 640, 480, 0, 0);
                match (whole_result, d.decode_i420(&bad, &mut img.view_mut())) {
                    (Err(_), Err(_)) => {}
                    (Ok(a), Ok(b)) => {
                        assert_eq!(a, b, "mutation {i} at {at}");
                        assert!(img.packed() == reference.packed(), "mutation {i} at {at}: pixels differ");
                        damaged += (a == Decoded::Damaged) as usize;
                    }
                    (a, b) => panic!("mutation {i} at {at}: whole {a:?}, split {b:?}"),
                }
                split += (d.scan.last_sync.0 > 0) as usize;
                skipped += (d.last_split == Split::Parts && d.scan.last_sync.1 > 0) as usize;
            }
            (split, damaged, skipped)
        }

        /// `jpeg` with each header segment of type `marker` passed through `edit` (its bytes
        /// after the length), which drops it by returning false.
        fn edit_segments(jpeg: &[u8], marker: u8, mut edit: impl FnMut(&mut [u8]) -> bool) -> Vec<u8> {
            let (mut out, mut i) = (jpeg[..2].to_vec(), 2);
            loop {
                let len = be16(jpeg, i + 2).unwrap();
                if jpeg[i + 1] == 0xDA {
                    out.extend_from_slice(&jpeg[i..]);
                    return out;
                }
                let mut seg = jpeg[i..i + 2 + len].to_vec();
                if jpeg[i + 1] != marker || edit(&mut seg[4..]) {
                    out.extend_from_slice(&seg);
                }
                i += 2 + len;
            }
        }

        fn without_dht(jpeg: &[u8]) -> Vec<u8> {
            edit_segments(jpeg, 0xC4, |_| false)
        }

        /// libjpeg keeps a decoder's quantization and Huffman tables from frame to frame, and a
        /// frame without DQT or DHT decodes with the last ones seen. The decoder of a split
        /// frame's bottom half sees only the split frames, so it must take them from the main
        /// decoder: frames that leave tables out decode as one decoder given the same frames
        /// does (the reference here), on both two-thread paths.
        #[test]
        fn table_history_is_one_decoders() {
            let (f1, _, _) = frame(640, 480, TJSAMP_422);
            let (f420, _, _) = frame(640, 480, TJSAMP_420);
            let mut truncated = edit_segments(&f1, 0xDB, |q| {
                for v in &mut q[1..] {
                    *v = v.saturating_mul(2).max(1);
                }
                true
            });
            truncated.truncate(truncated.len() - 1000);
            let vga_restart: &[u8] = include_bytes!("../../../tests/data/mjpeg/restart/r1-640x480-nodht.jpg");
            let sequences: [(&str, Vec<Vec<u8>>); 3] = [
                // Frame 1 split; frame 2 (other quantization tables, truncated) decoded by
                // libjpeg alone; frame 3 (frame 1 without DQT) split: with frame 2's tables.
                (
                    "no restart markers, DQT left out",
                    vec![f1.clone(), truncated.clone(), edit_segments(&f1, 0xDB, |_| false)],
                ),
                // Optimized Huffman tables, then the standard ones (libjpeg alone), then a
                // frame with restart markers and no DHT: the standard tables (libmst's decoder
                // reads the tables libjpeg would use).
                (
                    "restart markers, DHT left out",
                    vec![OPTIMIZED.to_vec(), edit_segments(&truncated, 0xDB, |_| true), vga_restart.to_vec()],
                ),
                // 4:2:2 and 4:2:0 in one stream (frame 1 the truncated one, as above), each
                // leaving out the DQT another brought.
                (
                    "4:2:2 and 4:2:0, DQT left out",
                    vec![
                        f420.clone(),
                        truncated.clone(),
                        edit_segments(&f420, 0xDB, |_| false),
                        edit_segments(&f1, 0xDB, |_| false),
                    ],
                ),
            ];
            for (what, frames) in sequences {
                let (mut d, mut reference) = (decoder(), decoder());
                for (i, jpeg) in frames.iter().enumerate() {
                    let (r, expected) = whole(&mut reference, jpeg, 640, 480);
                    let mut img = OwnedImage::new(VideoPixelFormat::I420, 640, 480, 0, 0);
                    d.scan.last_sync = (0, 0);
                    let got = d.decode_i420(jpeg, &mut img.view_mut());
                    assert_eq!(got.is_ok(), r.is_ok(), "{what}, frame {i}");
                    if let (Ok(a), Ok(b)) = (got, r) {
                        assert_eq!(a, b, "{what}, frame {i}");
                        let (largest, n, _) = img.diff(&expected);
                        assert_eq!(n, 0, "{what}, frame {i}: {n} samples differ, by up to {largest}");
                    }
                    if i != 1 {
                        assert!(d.scan.last_sync.0 > 0, "{what}, frame {i} was split");
                    }
                }
            }
        }

        #[test]
        fn split_scans_decode_exactly_as_the_whole_frame() {
            let mut d = decoder();
            let mut frames: Vec<(Vec<u8>, usize, usize)> = Vec::new();
            for (sub, (w, h)) in [TJSAMP_422, TJSAMP_420]
                .into_iter()
                .flat_map(|s| [(640, 480), (1000, 600), (642, 490), (1920, 1080), (650, 497)].map(|z| (s, z)))
            {
                let (jpeg, _, _) = frame(w, h, sub);
                frames.push((without_dht(&jpeg), w, h));
                frames.push((jpeg, w, h));
            }
            // Last: libjpeg keeps a decoder's Huffman tables from frame to frame, so a frame
            // without DHT after this one would decode with its tables (both paths alike).
            frames.push((OPTIMIZED.to_vec(), 640, 480));
            assert!(!OPTIMIZED.windows(2).any(|m| m == [0xFF, 0xDD]), "no restart interval");
            for (jpeg, w, h) in &frames {
                let (w, h) = (*w, *h);
                let (r, reference) = whole(&mut d, jpeg, w, h);
                assert_eq!(r.unwrap(), Decoded::Clean);
                let l = layout(jpeg, w, h).expect("a 4:2:2 or 4:2:0 frame");
                let mcus = w.div_ceil(16) * h.div_ceil(8 * l.v);
                // Cut in the middle, and off it as the threads' timings may move the cuts
                // (the decode learns from each frame: set before each).
                for share in [0.5, 0.3, 0.7] {
                    d.idct_balance = crate::convert::parallel::Balance::with_share(share);
                    d.scan.balance = crate::convert::parallel::Balance::with_share(1.0 - share);
                    let mut img = OwnedImage::new(VideoPixelFormat::I420, w, h, 7, 0x5A);
                    assert_eq!(
                        d.decode_resync(jpeg, &l, &mut img.view_mut(), true).expect("taken").unwrap(),
                        Decoded::Clean,
                        "{w}x{h}"
                    );
                    img.assert_padding();
                    assert!(img.packed() == reference.packed(), "{w}x{h} (v {}, {share}): pixels differ", l.v);
                    let (sync, tail) = d.scan.last_sync;
                    assert!(
                        sync < mcus && tail < 20,
                        "{w}x{h}: synced at MCU {sync} of {mcus}, {tail} past the middle"
                    );
                }
                // On one thread: the same, the Huffman decode from the start to the end.
                let mut one = OwnedImage::new(VideoPixelFormat::I420, w, h, 3, 0xA5);
                assert_eq!(
                    d.decode_resync(jpeg, &l, &mut one.view_mut(), false).expect("taken").unwrap(),
                    Decoded::Clean,
                    "{w}x{h}"
                );
                assert_eq!(d.scan.last_sync.0, mcus);
                one.assert_padding();
                assert!(one.packed() == reference.packed(), "{w}x{h}, one thread: pixels differ");
            }
            // decode_i420 takes this path for frames of SPLIT_MIN_PIXELS and more.
            const { assert!(640 * 480 >= SPLIT_MIN_PIXELS) };
            let (jpeg, w, h) = &frames[1]; // with its DHT: the tables are the ones it brings
            let (_, reference) = whole(&mut d, jpeg, *w, *h);
            d.scan.last_sync = (0, 0);
            let mut img = OwnedImage::new(VideoPixelFormat::I420, *w, *h, 0, 0);
            assert_eq!(d.decode_i420(jpeg, &mut img.view_mut()).unwrap(), Decoded::Clean);
            assert!(d.scan.last_sync.0 > 0, "decode_i420 split the scan");
            assert!(img.packed() == reference.packed());
        }

        /// A header that libjpeg reads differently from a plain walk of its segments (0xFF 0x00
        /// hides a DRI from the walk: libjpeg skips to the next marker and reads it) decodes
        /// as libjpeg decodes it: libmst's decoder declines it.
        #[test]
        fn headers_read_differently_go_to_libjpeg() {
            let mut d = decoder();
            let (good, _, _) = frame(640, 480, TJSAMP_422);
            let sos = good.windows(2).position(|m| m == [0xFF, 0xDA]).unwrap();
            let mut bad = good[..sos].to_vec();
            bad.extend_from_slice(&[0xFF, 0x00, 0x00, 0x08, 0xFF, 0xDD, 0x00, 0x04, 0x00, 0x07]);
            bad.extend_from_slice(&good[sos..]);
            let (r, reference) = whole(&mut d, &bad, 640, 480);
            let mut img = OwnedImage::new(VideoPixelFormat::I420, 640, 480, 0, 0);
            d.scan.last_sync = (0, 0);
            assert_eq!(d.decode_i420(&bad, &mut img.view_mut()).unwrap(), r.unwrap());
            assert_eq!(d.scan.last_sync.0, 0, "not split");
            let (largest, n, _) = img.diff(&reference);
            assert_eq!(n, 0, "{n} samples differ, by up to {largest}");
        }

        /// Frames with restart markers: each thread decodes whole restart intervals, split at
        /// the marker nearest the share of the data the threads' balance gives the top (any
        /// marker: libjpeg is fed MCU by MCU, so the split need not end a row), with the output
        /// of one libjpeg decode wherever the balance has moved the cut (its bounds and the
        /// middle are pinned, so a learned share cannot decide what the test sees).
        #[test]
        fn restart_intervals_split_at_a_marker() {
            let skipped: usize = [0.3, 0.5, 0.7].into_iter().map(restart_intervals_split_at_a_marker_with).sum();
            assert!(skipped > 0, "a bottom part started inside an interval (r3b's at 0.5 and 0.7)");
        }

        /// The MCUs bottom parts skipped (see below).
        fn restart_intervals_split_at_a_marker_with(share: f64) -> usize {
            use crate::convert::parallel::Balance;
            let mut d = decoder();
            let r1: &[u8] = include_bytes!("../../../tests/data/mjpeg/restart/r1-100x128.jpg");
            let r3b: &[u8] = include_bytes!("../../../tests/data/mjpeg/restart/r3b-99x317.jpg");
            let vga: &[u8] = include_bytes!("../../../tests/data/mjpeg/restart/r1-640x480-nodht.jpg");
            let s420: &[u8] = include_bytes!("../../../tests/data/mjpeg/restart/r1-420-100x128.jpg");
            let long: &[u8] = include_bytes!("../../../tests/data/mjpeg/restart/r500b-640x480.jpg");
            let frames = [(r1, 100, 128), (r3b, 99, 317), (vga, 640, 480), (s420, 100, 128), (long, 640, 480)];
            let mut skipped = 0;
            for (jpeg, w, h) in frames {
                let (r, reference) = whole(&mut d, jpeg, w, h);
                assert_eq!(r.unwrap(), Decoded::Clean);
                let l = layout(jpeg, w, h).expect("a 4:2:2 or 4:2:0 frame");
                assert!(l.interval > 0);
                let mut img = OwnedImage::new(VideoPixelFormat::I420, w, h, 7, 0x5A);
                d.scan.last_sync = (0, 0);
                d.pin_cuts(share);
                assert_eq!(
                    d.decode_resync(jpeg, &l, &mut img.view_mut(), true).expect("taken").unwrap(),
                    Decoded::Clean,
                    "{w}x{h}, share {share}"
                );
                img.assert_padding();
                assert!(img.packed() == reference.packed(), "{w}x{h}, share {share}: pixels differ");
                // A cut at most a row's MCUs into an interval (always so with intervals of up
                // to a row): each thread decodes its part whole, the top one whole rows, the
                // bottom one from the marker before its first MCU, dropping fewer than an
                // interval's MCUs. Otherwise (r500b here): split at a marker, a whole number of
                // intervals above, near the share's MCU (the share is of the scan's bytes, and
                // bytes per MCU vary: 0.7 of the VGA frame's bytes end at 82% of its MCUs).
                let (across, down) = (w.div_ceil(16), h.div_ceil(8 * l.v));
                let ((split, skip), mcus) = (d.scan.last_sync, across * down);
                let at = Balance::with_share(share).first(down) * across;
                if at % l.interval <= across {
                    assert!(l.interval <= across, "{w}x{h}: the shares pinned here cut r500b's intervals");
                    assert_eq!(d.last_split, Split::Parts, "{w}x{h}");
                    assert_eq!((split, skip), (at, at % l.interval), "{w}x{h}");
                    skipped += skip;
                } else {
                    assert_eq!(d.last_split, Split::Coefficients, "{w}x{h}");
                    assert_eq!((split % l.interval, skip), (0, 0), "{w}x{h}");
                }
                assert!(
                    10 * split > mcus && 10 * split < 9 * mcus,
                    "{w}x{h}, share {share}: split at MCU {split} of {mcus}"
                );
                let mut one = OwnedImage::new(VideoPixelFormat::I420, w, h, 3, 0xA5);
                assert_eq!(
                    d.decode_resync(jpeg, &l, &mut one.view_mut(), false).expect("taken").unwrap(),
                    Decoded::Clean,
                    "{w}x{h}"
                );
                assert_eq!(d.scan.last_sync.0, mcus, "{w}x{h}: one thread decodes every interval");
                assert!(one.packed() == reference.packed(), "{w}x{h}, one thread: pixels differ");
            }
            // An extra byte before a marker (damage libjpeg reports) or a marker out of
            // sequence: declined, for the paths that decode damage as libjpeg does.
            let l = layout(vga, 640, 480).unwrap();
            let at = l.data_at + vga[l.data_at..].windows(2).position(|m| m == [0xFF, 0xD3]).unwrap();
            let mut img = OwnedImage::new(VideoPixelFormat::I420, 640, 480, 0, 0);
            let mut stray = vga.to_vec();
            stray.insert(at, 0x5A);
            assert!(d.decode_resync(&stray, &l, &mut img.view_mut(), true).is_none(), "a stray byte");
            let mut swapped = vga.to_vec();
            swapped[at + 1] = 0xD4;
            assert!(d.decode_resync(&swapped, &l, &mut img.view_mut(), true).is_none(), "a marker out of sequence");
            let (r, reference) = whole(&mut d, &stray, 640, 480);
            assert_eq!(r.unwrap(), Decoded::Damaged);
            assert_eq!(d.decode_i420(&stray, &mut img.view_mut()).unwrap(), Decoded::Damaged);
            assert!(img.packed() == reference.packed());
            // Split into parts at row 30 of 60: a stray byte before the marker that ends the
            // top part (its check is the top stream's), and before one in the bottom part.
            let markers: Vec<usize> =
                (l.data_at..vga.len() - 1).filter(|&j| vga[j] == 0xFF && (0xD0..=0xD7).contains(&vga[j + 1])).collect();
            for (n, what) in [(30, "the cut"), (45, "the bottom part")] {
                let mut stray = vga.to_vec();
                stray.insert(markers[n - 1], 0x5A);
                d.parts_balance = Balance::with_share(0.5);
                (d.scan.last_sync, d.last_split) = ((0, 0), Split::None);
                assert!(d.decode_resync(&stray, &l, &mut img.view_mut(), true).is_none(), "a stray byte before {what}");
                // Declined by the parts path (cut at MCU 1200), which notes no split.
                assert_eq!((d.last_split, d.scan.last_sync), (Split::Parts, (0, 0)), "{what}");
                assert_eq!(d.decode_resync(vga, &l, &mut img.view_mut(), true).unwrap().unwrap(), Decoded::Clean);
                assert_eq!((d.last_split, d.scan.last_sync), (Split::Parts, (1200, 0)), "{what}");
            }
            skipped
        }

        /// Damaged frames (bit flips, bytes inserted or removed, markers, truncation): the same
        /// pixels and the same report as one libjpeg decode, whether the split path takes them
        /// (a flipped bit mostly leaves valid codes) or hands them to libjpeg alone.
        #[test]
        fn damaged_frames_decode_as_one_decode_does() {
            for sub in [TJSAMP_422, TJSAMP_420] {
                let (good, _, _) = frame(640, 480, sub);
                let (split, damaged, _) = mutations_decode_as_one_decode(&good, |i, at, bad, next| match i % 6 {
                    0 | 1 => bad[at] ^= 1 << next(8),
                    2 => {
                        bad.remove(at);
                    }
                    3 => bad.insert(at, next(256) as u8),
                    4 => bad[at..at + 2].copy_from_slice(&[0xFF, 0xD0 + next(8) as u8]),
                    _ => bad.truncate(at),
                });
                // The mutations must exercise both the split path and damage, or this proves
                // nothing.
                assert!(split > 40, "TJSAMP {sub}: only {split} of 200 frames were split");
                assert!(damaged > 40, "TJSAMP {sub}: only {damaged} of 200 decoded damaged");
            }
        }
    }

    /// The frames the decoder once answered wrongly (tests/data/mjpeg/README.md, `repro/`),
    /// and the rules of the module doc, on every path: TurboJPEG (a decoder with `strips` off
    /// takes 4:2:2 there too), libjpeg in strips, libmst's Huffman decode on one and two
    /// threads, each held to one libjpeg decode read through to EOI ([`reference`]).
    mod repro {
        use super::super::*;
        use super::compress;
        use crate::convert::testutil::OwnedImage;

        const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/mjpeg/");

        fn file(name: &str) -> Vec<u8> {
            std::fs::read(format!("{DIR}{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
        }

        fn decoder(strips: bool) -> Decoder {
            let mut d = super::resync::decoder();
            d.strips = strips;
            d
        }

        /// What a decode reports, for comparing paths.
        fn report(r: &Result<Decoded>) -> &'static str {
            match r {
                Ok(Decoded::Clean) => "clean",
                Ok(Decoded::Damaged) => "damaged",
                Err(_) => "error",
            }
        }

        /// One libjpeg decode of `jpeg` by `d`'s libjpeg decoder (whose table history it uses
        /// and extends), read through to EOI, as an I420 image (chroma as decode_i420 makes
        /// it: libjpeg replicates it to full size, averaged here 2x2 rounding half up).
        fn reference(d: &mut Decoder, jpeg: &[u8], w: usize, h: usize) -> (&'static str, OwnedImage) {
            let mut out = vec![0u8; w * h * 3];
            // SAFETY: a live decoder; `jpeg` readable for its length, `out` writable for its.
            let r = unsafe { raw::mst_jpeg_raw_verdict(d.raw, jpeg.as_ptr(), jpeg.len(), out.as_mut_ptr(), out.len()) };
            let sof = jpeg.windows(2).position(|m| m == [0xFF, 0xC0]).expect("a baseline frame");
            let grey = jpeg[sof + 9] == 1;
            let n = if grey { 1 } else { 3 };
            let mut img = OwnedImage::new(VideoPixelFormat::I420, w, h, 0, 0);
            let v = img.view_mut();
            let [yp, up, vp, _] = v.planes;
            for y in 0..h {
                for x in 0..w {
                    yp[y * w + x] = out[(y * w + x) * n];
                }
            }
            let cw = w.div_ceil(2);
            for cy in 0..h.div_ceil(2) {
                for cx in 0..cw {
                    for (c, plane) in [(1, &mut *up), (2, &mut *vp)] {
                        plane[cy * cw + cx] = if grey {
                            128
                        } else {
                            let at = |x: usize, y: usize| out[(y.min(h - 1) * w + x.min(w - 1)) * 3 + c] as u32;
                            let sum = at(2 * cx, 2 * cy)
                                + at(2 * cx + 1, 2 * cy)
                                + at(2 * cx, 2 * cy + 1)
                                + at(2 * cx + 1, 2 * cy + 1);
                            ((sum + 2) / 4) as u8
                        };
                    }
                }
            }
            let r = match r {
                raw::OK => "clean",
                raw::DAMAGED => "damaged",
                _ => "error",
            };
            (r, img)
        }

        /// A picture with detail, 640x480, JPEG-compressed at subsampling `sub` (TJSAMP_*).
        fn picture(sub: c_int) -> Vec<u8> {
            let (w, h) = (640, 480);
            let rgb: Vec<u8> =
                (0..w * h * 3).map(|i| ((i * 37 + i / (3 * w) * 11 + (i * i) % 7) % 251) as u8).collect();
            compress(&rgb, w, h, sub)
        }

        /// `jpeg` edited as the `sos-al-bogus-dht` frames are: a warning (Ah/Al not 0 in its
        /// SOS) then a fatal error (its first DC Huffman table's codes do not fit their
        /// lengths), both at start-up.
        fn bogus(jpeg: &[u8]) -> Vec<u8> {
            let mut b = jpeg.to_vec();
            let dht = b.windows(5).position(|m| m[..2] == [0xFF, 0xC4] && m[4] == 0x00).expect("a DC DHT") + 5;
            assert!(b[dht] == 0 && b[dht + 1] > 0, "standard DC luma counts");
            b[dht] += 1;
            b[dht + 1] -= 1;
            let sos = b.windows(2).position(|m| m == [0xFF, 0xDA]).unwrap();
            let len = be16(&b, sos + 2).unwrap();
            b[sos + 1 + len] = 0x02;
            b
        }

        /// A failed decode is an error on every path, whatever came before into the same
        /// buffers and decoder: the frames that TurboJPEG 2.1 reported with its warning code
        /// (4:2:0, 4:4:4, and the same edit made here on 4:4:0 and greyscale), and 4:2:2.
        #[test]
        fn failed_decodes_are_errors_on_every_path() {
            let mut frames = vec![
                ("sos-al-bogus-dht-420", file("repro/sos-al-bogus-dht-420.jpg"), TJSAMP_420),
                ("sos-al-bogus-dht-422", file("repro/sos-al-bogus-dht-422.jpg"), TJSAMP_422),
                ("sos-al-bogus-dht-444", file("repro/sos-al-bogus-dht-444.jpg"), TJSAMP_444),
            ];
            for (what, sub) in
                [("4:4:0 edited", TJSAMP_440), ("greyscale edited", TJSAMP_GRAY), ("4:2:0 edited", TJSAMP_420)]
            {
                frames.push((what, bogus(&picture(sub)), sub));
            }
            for (what, bad, sub) in &frames {
                for strips in [true, false] {
                    let mut d = decoder(strips);
                    let mut img = OwnedImage::new(VideoPixelFormat::I420, 640, 480, 3, 0);
                    let good = picture(*sub);
                    assert_eq!(d.decode_i420(&good, &mut img.view_mut()).unwrap(), Decoded::Clean, "{what}");
                    let e = d.decode_i420(bad, &mut img.view_mut()).expect_err(what);
                    assert!(e.message.contains("JPEG"), "{what}: {e:?}");
                    // Known before decoding (a table libjpeg refuses): lazy frames are dropped.
                    assert!(decoder(strips).stream_tables(bad).is_none(), "{what}");
                    assert!(decoder(strips).stream_tables(&good).is_some(), "{what}");
                    assert_eq!(reference(&mut decoder(true), bad, 640, 480).0, "error", "{what}: libjpeg fails it");
                    // And the decoder goes on: the good frame again decodes.
                    assert_eq!(d.decode_i420(&good, &mut img.view_mut()).unwrap(), Decoded::Clean, "{what}");
                }
            }
        }

        /// `jpeg` (which ends in EOI) damaged after its scan in the ways cameras and the
        /// fuzzer damage frames, and as it is.
        fn trailers(jpeg: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
            assert_eq!(jpeg[jpeg.len() - 2..], [0xFF, 0xD9]);
            let body = &jpeg[..jpeg.len() - 2];
            let with = |tail: &[u8]| [body, tail].concat();
            vec![
                ("as it is", jpeg.to_vec()),
                ("junk between the scan and EOI", with(&[&[0x5A; 40][..], &[0xFF, 0xD9]].concat())),
                ("no EOI", body.to_vec()),
                ("a restart marker after the scan", with(&[0xFF, 0xD5, 0xFF, 0xD9])),
                ("an unknown marker after the scan", with(&[0xFF, 0x02, 0xFF, 0xD9])),
                ("a second SOS after the scan", with(&[0xFF, 0xDA, 0x00, 0x08, 1, 1, 0, 0, 0x3F, 0, 0xFF, 0xD9])),
            ]
        }

        /// One damage rule: each kind of damage after the scan gets the same report on every
        /// path, for every subsampling, as one libjpeg decode read through to EOI.
        #[test]
        fn one_damage_rule_for_every_subsampling_and_path() {
            let frames: Vec<(&str, Vec<u8>, usize, usize)> = vec![
                ("quad-420", file("quad-420.jpg"), 64, 32),
                ("quad-422", file("quad-422.jpg"), 64, 32),
                ("quad-440", file("quad-440.jpg"), 64, 32),
                ("quad-444", file("quad-444.jpg"), 64, 32),
                ("quad-gray-nodht", file("quad-gray-nodht.jpg"), 64, 32),
                ("optimized-640x480 (4:2:2, no restart markers)", file("optimized-640x480.jpg"), 640, 480),
                ("restart/r1-640x480-nodht (4:2:2)", file("restart/r1-640x480-nodht.jpg"), 640, 480),
                ("restart/r1-420-100x128 (4:2:0)", file("restart/r1-420-100x128.jpg"), 100, 128),
                ("a 640x480 4:2:0 frame", crate::convert::jpeg::scan::tests::frame(640, 480, TJSAMP_420).0, 640, 480),
                (
                    "repro/gray-junk-before-eoi, its junk removed",
                    without_junk(&file("repro/gray-junk-before-eoi.jpg")),
                    640,
                    480,
                ),
            ];
            let mut rule: Vec<(&str, &str)> = Vec::new();
            for (name, jpeg, w, h) in &frames {
                for (i, (damage, bad)) in trailers(jpeg).into_iter().enumerate() {
                    let what = format!("{name}, {damage}");
                    let (expected, reference_img) = reference(&mut decoder(true), &bad, *w, *h);
                    let mut reports = Vec::new();
                    for strips in [true, false] {
                        let mut img = OwnedImage::new(VideoPixelFormat::I420, *w, *h, 0, 0);
                        let r = decoder(strips).decode_i420(&bad, &mut img.view_mut());
                        reports.push((if strips { "decode_i420" } else { "TurboJPEG" }, report(&r)));
                        if r.is_ok() {
                            let (largest, n, _) = img.diff(&reference_img);
                            assert_eq!(n, 0, "{what}: {n} samples differ from libjpeg's, by up to {largest}");
                        }
                    }
                    if let Some(l) = layout(&bad, *w, *h) {
                        let mut d = decoder(true);
                        let mut img = OwnedImage::new(VideoPixelFormat::I420, *w, *h, 0, 0);
                        let r = raw_decode(d.raw, &bad, *h, &mut img.view_mut()).unwrap();
                        reports.push(("libjpeg in strips", report(&r)));
                        for two in [false, true] {
                            // libmst's Huffman decode takes the frame, or leaves it to libjpeg.
                            if let Some(r) = d.decode_resync(&bad, &l, &mut img.view_mut(), two) {
                                reports.push((if two { "two threads" } else { "one thread" }, report(&r)));
                            }
                        }
                    }
                    for (path, got) in reports {
                        assert_eq!(got, expected, "{what}: {path}");
                    }
                    if rule.len() <= i {
                        rule.push((damage, expected));
                    }
                    assert_eq!(rule[i], (damage, expected), "{what}: another report than on {}", frames[0].0);
                }
            }
            // The rule itself (what makes this test able to fail on a path that skips EOI).
            let rule: Vec<&str> = rule.iter().map(|r| r.1).collect();
            assert_eq!(rule, ["clean", "damaged", "damaged", "clean", "error", "error"]);
            // The frame found by the fuzzer, as it is: damaged, as libjpeg says.
            let junk = file("repro/gray-junk-before-eoi.jpg");
            let mut img = OwnedImage::new(VideoPixelFormat::I420, 640, 480, 0, 0);
            for strips in [true, false] {
                assert_eq!(decoder(strips).decode_i420(&junk, &mut img.view_mut()).unwrap(), Decoded::Damaged);
            }
            assert_eq!(reference(&mut decoder(true), &junk, 640, 480).0, "damaged");
        }

        /// The repro frame's scan with the junk before its EOI removed: the bytes after the
        /// last MCU (found as where libjpeg stops reporting damage when they are cut).
        fn without_junk(jpeg: &[u8]) -> Vec<u8> {
            let body = &jpeg[..jpeg.len() - 2];
            for cut in 1..200 {
                let f = [&body[..body.len() - cut], &[0xFF, 0xD9][..]].concat();
                if reference(&mut decoder(true), &f, 640, 480).0 == "clean" {
                    return f;
                }
            }
            panic!("no clean frame under the junk");
        }

        /// A frame made whole for a decoder that may hold other tables (lazy frames are
        /// decoded by any of their stream's decoders, in any order): a frame without DHT, in a
        /// stream that has defined none, takes the Annex K tables, and decodes as it does in a
        /// fresh decoder, even in one that has decoded a frame with tables of its own.
        #[test]
        fn frames_made_whole_decode_as_in_their_stream() {
            let plain = file("quad-422-nodht.jpg");
            let tables = decoder(true).stream_tables(&plain).unwrap().to_vec();
            // One DHT segment: DC and AC, luma and chroma.
            assert_eq!(tables[..2], [0xFF, 0xC4]);
            assert_eq!(tables.len(), 4 + 4 * 17 + 2 * 12 + 2 * 162);
            let whole = [&plain[..2], &tables, &plain[2..]].concat();
            let mut fresh = OwnedImage::new(VideoPixelFormat::I420, 64, 32, 0, 0);
            assert_eq!(decoder(true).decode_i420(&plain, &mut fresh.view_mut()).unwrap(), Decoded::Clean);
            let used = || {
                let mut d = decoder(true);
                let mut vga = OwnedImage::new(VideoPixelFormat::I420, 640, 480, 0, 0);
                d.decode_i420(&file("optimized-640x480.jpg"), &mut vga.view_mut()).unwrap();
                d
            };
            let mut img = OwnedImage::new(VideoPixelFormat::I420, 64, 32, 0, 0);
            assert_eq!(used().decode_i420_complete(&whole, &mut img.view_mut()).unwrap(), Decoded::Clean);
            assert_eq!(img.diff(&fresh).1, 0);
            // Not made whole, the frame takes the other frame's tables there.
            let r = used().decode_i420_complete(&plain, &mut img.view_mut());
            assert!(r.is_err() || img.diff(&fresh).1 > 0, "{r:?}");
            // A frame that defines every table it uses needs nothing.
            assert_eq!(decoder(true).stream_tables(&file("quad-422.jpg")), Some(&[][..]));
        }

        /// One table history per stream: frame 3 (4:2:0, no DQT) after frame 2 (4:2:2, its
        /// own tables) decodes with frame 2's tables, as one libjpeg decoder given the three
        /// frames does, though 4:2:0 and 4:2:2 take different paths.
        #[test]
        fn one_table_history_per_stream() {
            let frames =
                [file("repro/1-s420-dqtA.jpg"), file("repro/2-s422-dqtB.jpg"), file("repro/3-s420-no-dqt.jpg")];
            let mut libjpeg = decoder(true);
            let expected: Vec<_> = frames.iter().map(|f| reference(&mut libjpeg, f, 640, 480)).collect();
            assert!(expected.iter().all(|e| e.0 == "clean"));
            // Frame 3 after frame 1 alone (table A): what the paths' separate histories gave.
            let mut one = decoder(true);
            reference(&mut one, &frames[0], 640, 480);
            let (_, with_a) = reference(&mut one, &frames[2], 640, 480);
            let (_, differ, _) = with_a.diff(&expected[2].1);
            assert!(differ > 10_000, "tables A and B give frames 3 apart ({differ} samples)");
            for strips in [true, false] {
                let mut d = decoder(strips);
                for (i, f) in frames.iter().enumerate() {
                    let mut img = OwnedImage::new(VideoPixelFormat::I420, 640, 480, 0, 0);
                    assert_eq!(d.decode_i420(f, &mut img.view_mut()).unwrap(), Decoded::Clean, "frame {}", i + 1);
                    let (largest, n, _) = img.diff(&expected[i].1);
                    assert_eq!(n, 0, "strips {strips}, frame {}: {n} samples differ, by up to {largest}", i + 1);
                }
            }
            // A frame made whole for another decoder (a lazy frame's): the same pixels.
            let mut stream = decoder(true);
            let mut img = OwnedImage::new(VideoPixelFormat::I420, 640, 480, 0, 0);
            for f in &frames[..2] {
                stream.stream_tables(f).unwrap();
            }
            let tables = stream.stream_tables(&frames[2]).unwrap().to_vec();
            assert!(!tables.is_empty());
            let whole = [&frames[2][..2], &tables, &frames[2][2..]].concat();
            let mut other = decoder(true);
            other.decode_i420(&frames[0], &mut img.view_mut()).unwrap();
            assert_eq!(other.decode_i420_complete(&whole, &mut img.view_mut()).unwrap(), Decoded::Clean);
            assert_eq!(img.diff(&expected[2].1).1, 0);
        }

        /// A warning as the header is read (junk bytes before a DQT or the SOF) is damage, not
        /// a failure, on the TurboJPEG path (4:4:4, 4:4:0) too: libjpeg decodes the frame,
        /// damaged, and so must every path (it once failed as "not a JPEG frame").
        #[test]
        fn header_warnings_are_damage() {
            for name in ["repro/444-junk-before-dqt.jpg", "repro/440-header-warning.jpg"] {
                let jpeg = file(name);
                let (w, h, _) = decoder(true).header(&jpeg).unwrap_or_else(|e| panic!("{name}: {e}"));
                let (verdict, expected) = reference(&mut decoder(true), &jpeg, w, h);
                assert_eq!(verdict, "damaged", "{name}");
                for strips in [true, false] {
                    let mut img = OwnedImage::new(VideoPixelFormat::I420, w, h, 0, 0);
                    let r = decoder(strips).decode_i420(&jpeg, &mut img.view_mut());
                    assert_eq!(report(&r), "damaged", "{name}, strips {strips}: {r:?}");
                    // Luma as libjpeg decodes it (the reference's chroma is upsampled, then
                    // averaged: exact for 4:2:2 only).
                    assert!(img.packed()[0] == expected.packed()[0], "{name}, strips {strips}: luma differs");
                }
            }
        }

        /// What a failed frame leaves behind is one libjpeg decoder's history: the tables it
        /// defined up to the point it failed, after its scan included (a bogus DHT after the
        /// scan), and none after it failed (a second SOF). The 640x480 4:2:2 frame after it,
        /// which defines no Huffman table, decodes with those, on every path (it once took
        /// the first frame's tables from before its scan, or from after its second SOF).
        #[test]
        fn failed_frames_leave_the_tables_libjpeg_keeps() {
            for name in [
                "repro/stream-422-after-bogus-dht",
                "repro/stream-422-after-two-sof",
                "repro/stream-422-after-unknown-marker",
            ] {
                let stream = file(name);
                let second = stream.windows(2).skip(1).position(|m| m == [0xFF, 0xD8]).expect("two frames") + 1;
                let frames = [&stream[..second], &stream[second..]];
                let mut libjpeg = decoder(true);
                let expected: Vec<_> = frames.iter().map(|f| reference(&mut libjpeg, f, 640, 480)).collect();
                assert_eq!(expected[0].0, "error", "{name}");
                assert_ne!(expected[1].0, "error", "{name}");
                for strips in [true, false] {
                    let mut d = decoder(strips);
                    let mut img = OwnedImage::new(VideoPixelFormat::I420, 640, 480, 0, 0);
                    assert!(d.decode_i420(frames[0], &mut img.view_mut()).is_err(), "{name}");
                    let r = d.decode_i420(frames[1], &mut img.view_mut());
                    assert_eq!(report(&r), expected[1].0, "{name}, strips {strips}: {r:?}");
                    let (largest, n, _) = img.diff(&expected[1].1);
                    assert_eq!(n, 0, "{name}, strips {strips}: {n} samples differ, by up to {largest}");
                }
            }
        }
    }

    /// Restart-marker frames made by libjpeg-turbo's cjpeg (tests/data/mjpeg/README.md).
    mod restart {
        use super::super::*;

        const R1: &[u8] = include_bytes!("../../../tests/data/mjpeg/restart/r1-100x128.jpg");
        const VGA: &[u8] = include_bytes!("../../../tests/data/mjpeg/restart/r1-640x480-nodht.jpg");
        const VGA_R3B: &[u8] = include_bytes!("../../../tests/data/mjpeg/restart/r3b-640x480.jpg");
        const VGA_R500B: &[u8] = include_bytes!("../../../tests/data/mjpeg/restart/r500b-640x480.jpg");
        const NONE: &[u8] = include_bytes!("../../../tests/data/mjpeg/restart/none-100x128.jpg");
        const PROGRESSIVE: &[u8] = include_bytes!("../../../tests/data/mjpeg/restart/prog-100x128.jpg");
        const S420: &[u8] = include_bytes!("../../../tests/data/mjpeg/restart/r1-420-100x128.jpg");

        /// The header parse that decides which frames libmst's Huffman decoder takes: single-
        /// scan sequential 4:2:2 or 4:2:0 of the stream's size, restart interval read; anything libjpeg
        /// might read differently refused.
        #[test]
        fn layout_takes_sequential_422_and_420_only() {
            let l = layout(R1, 100, 128).expect("baseline 4:2:2");
            assert_eq!(l.v, 1);
            assert!(l.interval > 0 && R1[l.data_at - 2..l.data_at] != [0xFF, 0xDA]);
            assert_eq!(&R1[l.height_at..l.height_at + 2], &128u16.to_be_bytes());
            assert_eq!(layout(NONE, 100, 128).map(|l| l.interval), Some(0));
            assert!(layout(PROGRESSIVE, 100, 128).is_none());
            let l = layout(S420, 100, 128).expect("baseline 4:2:0");
            assert!(l.v == 2 && l.interval > 0);
            // 4:4:0 and 4:4:4 (the SOF's sampling factors edited): not taken.
            let sof = R1.windows(2).position(|m| m == [0xFF, 0xC0]).expect("a baseline SOF");
            for hv in [0x12, 0x11, 0x42] {
                let mut other = R1.to_vec();
                other[sof + 11] = hv;
                assert!(layout(&other, 100, 128).is_none(), "sampling {hv:#x}");
            }
            assert!(layout(R1, 100, 120).is_none(), "another size");
            assert!(layout(&R1[4..], 100, 128).is_none(), "no SOI");
            // 0xFF 0x00 between segments (libjpeg skips it, and what follows, to the next
            // marker): refused, since a DRI hidden behind it would be read by libjpeg only.
            let sos = R1.windows(2).position(|m| m == [0xFF, 0xDA]).unwrap();
            let mut hidden = R1[..sos].to_vec();
            hidden.extend_from_slice(&[0xFF, 0x00, 0x00, 0x08]);
            hidden.extend_from_slice(&R1[sos..]);
            assert!(layout(&hidden, 100, 128).is_none());
        }

        #[test]
        fn find_ff_finds_the_first_at_every_offset() {
            for len in 0..40 {
                for at in 0..=len {
                    let mut b = vec![0xFEu8; len];
                    if at < len {
                        b[at] = 0xFF;
                        if at + 3 < len {
                            b[at + 3] = 0xFF;
                        }
                    }
                    assert_eq!(find_ff(&b), (at < len).then_some(at), "{len} {at}");
                }
            }
        }

        /// Damaged frames with restart markers decode as one libjpeg decode does: 200
        /// mutations of the VGA frame's data (a byte changed, a marker or byte deleted, a byte
        /// inserted, the end cut off), each decoded by libjpeg alone and through decode_i420
        /// (which splits the clean ones, a changed byte mostly leaving valid codes): the same
        /// outcome (error, damaged or clean) and, decoded, the same pixels.
        #[test]
        fn damaged_frames_decode_as_one_decode_does() {
            // A marker every MCU row, every 3 MCUs (the bottom part starting inside an
            // interval), every 500 MCUs (most cuts split at a marker, coefficients stored).
            for (name, jpeg) in [("r1", VGA), ("r3b", VGA_R3B), ("r500b", VGA_R500B)] {
                damaged_frames_decode_as_one_decode_does_with(name, jpeg);
            }
        }

        fn damaged_frames_decode_as_one_decode_does_with(name: &str, jpeg: &[u8]) {
            let (split, damaged, skipped) =
                super::resync::mutations_decode_as_one_decode(jpeg, |i, at, bad, next| match i % 5 {
                    0 => bad[at] ^= 1 << next(8),
                    1 => {
                        // A restart marker at or after `at`, deleted.
                        if let Some(m) =
                            (at..bad.len() - 1).find(|&j| bad[j] == 0xFF && (0xD0..=0xD7).contains(&bad[j + 1]))
                        {
                            bad.drain(m..m + 2);
                        }
                    }
                    2 => {
                        bad.remove(at);
                    }
                    3 => bad.insert(at, next(256) as u8),
                    _ => bad.truncate(at),
                });
            // The mutations must exercise the split path and damage, or this proves nothing.
            assert!(split > 20, "{name}: only {split} of 200 frames were split");
            assert!(damaged > 50, "{name}: only {damaged} of 200 decoded damaged");
            eprintln!("{name}: {split} split, {damaged} damaged, {skipped} skipped");
            assert_eq!(skipped > 0, name == "r3b", "{name}: {skipped} bottom parts started inside an interval");
        }
    }
}
