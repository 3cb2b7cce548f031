//! Huffman decoding of a baseline 4:2:2 or 4:2:0 JPEG scan on two threads, for the libjpeg
//! decode in `mod.rs` (which does the IDCT and output, fed with these coefficients:
//! `raw.c`, `mst_jpeg_raw_decode` with a feed). An MCU is 2 (4:2:2) or 4 (4:2:0) luma
//! blocks, then Cb and Cr ([`Tables::luma`]). libjpeg-turbo's Huffman decoding is most of a frame's
//! decode (benches/kernels.rs, the floor row), and this decoder is also faster than it (codes
//! and values of up to 10 bits in one table read).
//!
//! On one thread ([`Stream`]) each MCU is decoded as libjpeg asks for it, straight into its
//! blocks. Split over two, the coefficients are stored (packed) by both threads first: the
//! bottom thread's DC values are right only once the top thread has decoded up to where the
//! bottom one started, so the IDCT of the bottom half follows the Huffman decode of both
//! (and the top half's with it: one hand-over, halves of equal work).
//!
//! With restart markers each restart interval starts at a byte with DC predictors 0, so no
//! thread needs the other's decode: when the intervals are at most an MCU row long, each
//! thread decodes its part of the frame whole, Huffman straight into its own libjpeg
//! decoder's blocks as on one thread ([`split_streams`]: no coefficients stored, one
//! hand-over); longer intervals split at the marker nearest the middle of the data, their
//! coefficients stored as above ([`decode_intervals`]).
//!
//! Without them, the entropy-coded data is one bitstream whose every code depends on where
//! the one before it ended. It can still be split, because JPEG's Huffman codes
//! resynchronise: a decoder started at an arbitrary bit decodes garbage for a few blocks,
//! then falls into step with the true decode, and from a bit where both are at the start of
//! an MCU they decode the same codes to the end. So:
//!
//! 1. the top thread decodes MCUs from the start of the scan up to the middle byte `m`;
//!    meanwhile the bottom thread decodes from byte `m` to the end as if an MCU started there,
//!    recording where each of its MCUs starts ([`Entry`]), with DC predictors counted from 0;
//! 2. the top thread then decodes on, MCU by MCU, until it starts one at a bit where the
//!    bottom thread also started one. From that MCU on, the bottom thread's decode is the true
//!    one (the same bit, the same state: the rest is determined), except that its DC values
//!    are off by the difference of the two threads' DC predictors there, a constant per
//!    component, added when the coefficients are handed to libjpeg ([`Coefficients`]).
//!
//! The sync is proved, not guessed: it is taken only where the true decode (the top thread's,
//! from the start of the scan) and the bottom thread's start an MCU at the same bit, and the
//! bottom thread's decode from there runs unbroken to the scan's last MCU (else the frame
//! goes to libjpeg alone). If they never meet, the top thread decodes the whole scan. Anything libjpeg would treat differently
//! (an invalid code, data that ends early, a marker out of place, a DC predictor that could
//! overflow) makes [`decode`] return None, and the caller decodes the frame with libjpeg
//! alone, so the output and its report of damage are libjpeg's in every case.
//!
//! Memory, kept from frame to frame: the unstuffed scan, and each thread's MCUs packed (about
//! 40% of the JBLOCKs they stand for: 3.3 MB for a 600 KB 1080p frame).

use crate::convert::parallel::Balance;

/// Bits looked up at once: codes up to this long decode in one table read (10: the tables
/// of a scan, 6 KB each, stay in L1).
const LOOK: u32 = 10;
/// In a fast AC entry: the code is end-of-block.
const FAST_EOB: i32 = 1 << 12;

/// libjpeg's jpeg_natural_order: zigzag position to natural (row-major) position, with 16
/// extra entries so a run that overshoots position 63 lands on 63, as in libjpeg (which then
/// ends the block).
const NATURAL: [u8; 80] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21,
    28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54,
    47, 55, 62, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
];

/// Decoded MCUs are kept packed: per MCU a count n, then n entries of value << 16 | 64 x
/// block + natural position, each block's DC value first and always there. A frame's MCUs
/// take about 40% of what JBLOCKs would (and need no zeroing); libjpeg's zeroed blocks are
/// filled from them ([`Coefficients::mcu`]) in one loop per MCU (a loop per block costs a
/// mispredicted exit per block). Positions go up to 6 x 64 (4:2:0), so take 9 bits.
const MCU_MAX: usize = 1 + BLOCKS_MAX * 64;
/// Blocks in an MCU: 4:2:0's four luma blocks, Cb and Cr.
pub const BLOCKS_MAX: usize = 6;

#[inline(always)]
fn packed(value: i16, position: u32) -> u32 {
    u32::from(value as u16) << 16 | position
}

/// A Huffman table made ready for decoding (libjpeg's d_derived_tbl, plus a table that
/// decodes short AC codes with their value in one read).
pub struct Table {
    /// By the next LOOK bits: code length << 8 | symbol; 0 for a code longer than LOOK bits.
    look: [u16; 1 << LOOK],
    /// By the next LOOK bits, for AC tables: value << 16 | run << 8 | bits used (code and
    /// value together), when both fit in LOOK bits; FAST_EOB | code length for the
    /// end-of-block code; else 0.
    fast_ac: [i32; 1 << LOOK],
    /// Largest code of each length (-1: none); index 17 is a sentinel.
    maxcode: [i32; 18],
    /// Symbol index of a code of each length: code + valoff.
    valoff: [i32; 17],
    vals: [u8; 256],
}

impl Table {
    /// From a DHT's counts of codes of each length (`bits[1..=16]`; `bits[0]` unused) and
    /// symbols. None for a table libjpeg refuses (jpeg_make_d_derived_tbl: more than 256
    /// codes, codes that do not fit their length, DC symbols above 15).
    pub fn new(bits: &[u8; 17], vals: &[u8; 256], dc: bool) -> Option<Box<Table>> {
        let mut t = Box::new(Table {
            look: [0; 1 << LOOK],
            fast_ac: [0; 1 << LOOK],
            maxcode: [-1; 18],
            valoff: [0; 17],
            vals: *vals,
        });
        let count: usize = bits[1..].iter().map(|&b| b as usize).sum();
        if count > 256 {
            return None;
        }
        if dc && vals[..count].iter().any(|&v| v > 15) {
            return None;
        }
        let (mut code, mut p) = (0i32, 0usize);
        for len in 1..=16u32 {
            let n = bits[len as usize] as usize;
            if n > 0 {
                t.valoff[len as usize] = p as i32 - code;
                for _ in 0..n {
                    if len <= LOOK {
                        let shift = LOOK - len;
                        let first = (code as usize) << shift;
                        for idx in first..first + (1 << shift) {
                            t.look[idx] = (len as u16) << 8 | u16::from(vals[p]);
                        }
                    }
                    code += 1;
                    p += 1;
                }
                t.maxcode[len as usize] = code - 1;
            }
            // The codes of this length must fit in it (the all-ones code stays unused).
            if code >= 1 << len {
                return None;
            }
            code <<= 1;
        }
        t.maxcode[17] = i32::MAX;
        if !dc {
            for idx in 0..1usize << LOOK {
                let e = t.look[idx];
                let (len, rs) = (u32::from(e >> 8), (e & 0xFF) as u32);
                let (run, size) = (rs >> 4, rs & 15);
                if len != 0 && size != 0 && len + size <= LOOK {
                    let v = ((idx >> (LOOK - len - size)) & ((1 << size) - 1)) as i32;
                    t.fast_ac[idx] = extend(v, size) << 16 | (run << 8 | (len + size)) as i32;
                } else if len != 0 && rs == 0 {
                    t.fast_ac[idx] = FAST_EOB | len as i32;
                }
            }
        }
        Some(t)
    }
}

/// A coefficient's value from its `size` extra bits `v` (HUFF_EXTEND).
#[inline(always)]
fn extend(v: i32, size: u32) -> i32 {
    if v < 1 << (size - 1) {
        v - (1 << size) + 1
    } else {
        v
    }
}

/// A code longer than LOOK bits at the top of `acc`: its symbol and length. (A function of
/// values, not of the reader, so the reader's state can stay in registers.)
#[cold]
fn symbol_long(acc: u64, t: &Table) -> Result<(u8, u32), Bad> {
    for len in LOOK + 1..=16 {
        let code = (acc >> (64 - len)) as i32;
        if code <= t.maxcode[len as usize] {
            return Ok((t.vals[((code + t.valoff[len as usize]) & 0xFF) as usize], len));
        }
    }
    Err(Bad)
}

/// An invalid Huffman code (or, for the top thread, any other reason to stop).
#[derive(Debug, PartialEq)]
pub struct Bad;

/// A bit reader over unstuffed entropy-coded data followed by at least [`SLACK`] zero bytes.
#[derive(Clone, Copy)]
struct Reader<'a> {
    d: &'a [u8],
    /// Next byte to load.
    pos: usize,
    /// Bits not yet used, from the top.
    acc: u64,
    /// How many of acc's top bits are valid.
    n: u32,
}

/// Zero bytes after the data, so a reader that runs past the end (damaged or garbage data)
/// reads zeros (and past these, `refill` gives zeros too); an MCU reads at most about 1 KB.
/// Overruns are checked after each MCU, or each restart interval, and decline the frame.
const SLACK: usize = 4096;

impl<'a> Reader<'a> {
    fn at(d: &'a [u8], bit: usize) -> Reader<'a> {
        let mut r = Reader { d, pos: bit / 8, acc: 0, n: 0 };
        r.refill();
        let skip = (bit % 8) as u32;
        r.acc <<= skip;
        r.n -= skip;
        r
    }

    /// The bit position of the next unused bit.
    #[inline(always)]
    fn bit(&self) -> usize {
        self.pos * 8 - self.n as usize
    }

    /// At least 56 valid bits after this (while the slack lasts; callers stop before).
    #[inline(always)]
    fn refill(&mut self) {
        let w = match self.d.get(self.pos..self.pos + 8) {
            Some(b) => u64::from_be_bytes(b.try_into().expect("8 bytes")),
            None => 0,
        };
        self.acc |= w >> self.n;
        self.pos += ((63 - self.n) >> 3) as usize;
        self.n |= 56;
    }

    #[inline(always)]
    fn peek(&self, k: u32) -> usize {
        (self.acc >> (64 - k)) as usize
    }

    #[inline(always)]
    fn consume(&mut self, k: u32) {
        self.acc <<= k;
        self.n -= k;
    }

    /// The next `k` (1..=16) bits as a number.
    #[inline(always)]
    fn take(&mut self, k: u32) -> i32 {
        let v = self.peek(k) as i32;
        self.consume(k);
        v
    }

    /// The next Huffman symbol (with at least 16 valid bits).
    #[inline(always)]
    fn symbol(&mut self, t: &Table) -> Result<u8, Bad> {
        let e = t.look[self.peek(LOOK)];
        if e != 0 {
            self.consume(u32::from(e >> 8));
            return Ok(e as u8);
        }
        let (symbol, len) = symbol_long(self.acc, t)?;
        self.consume(len);
        Ok(symbol)
    }

    /// One block, the MCU's block `base / 64`, packed into `out` at `at` (which holds 64
    /// more): DC difference added to `pred`, then the AC coefficients. Returns where the
    /// next block goes.
    #[inline(always)]
    fn block(
        &mut self,
        dc: &Table,
        ac: &Table,
        pred: &mut i32,
        out: &mut [u32],
        at: usize,
        base: u32,
    ) -> Result<usize, Bad> {
        let out: &mut [u32; 64] = (&mut out[at..at + 64]).try_into().expect("64 entries");
        // At most 64 coefficients: q < 64 (the mask only spares the bounds check).
        let q = self.coefficients(dc, ac, pred, |q, position, value| out[q & 63] = packed(value, base + position))?;
        Ok(at + q)
    }

    /// One block straight into libjpeg's zeroed block `out`, in natural order.
    #[inline(always)]
    fn block_into(&mut self, dc: &Table, ac: &Table, pred: &mut i32, out: &mut [i16; 64]) -> Result<(), Bad> {
        self.coefficients(dc, ac, pred, |_, position, value| out[position as usize & 63] = value).map(|_| ())
    }

    /// Decodes one block: DC difference added to `pred`, then the AC coefficients, each given
    /// to `put` with its index among the block's coefficients, its natural position and
    /// its value. Returns how many there were.
    #[inline(always)]
    fn coefficients(
        &mut self,
        dc: &Table,
        ac: &Table,
        pred: &mut i32,
        mut put: impl FnMut(usize, u32, i16),
    ) -> Result<usize, Bad> {
        self.refill();
        let s = u32::from(self.symbol(dc)?);
        if s != 0 {
            let v = self.take(s);
            // Where this would overflow an int, libjpeg-turbo 2.1 wraps (C's undefined
            // behaviour) and later versions may stop with an error: such a frame (only made
            // ones have DC values that add up that far) goes to libjpeg alone.
            *pred = pred.checked_add(extend(v, s)).ok_or(Bad)?;
        }
        put(0, 0, *pred as i16);
        let mut q = 1;
        let mut k = 1usize;
        while k < 64 {
            // A fast entry needs LOOK bits; the slow path refills for its own.
            if self.n < LOOK {
                self.refill();
            }
            let f = ac.fast_ac[self.peek(LOOK)];
            if f != 0 {
                if f & FAST_EOB != 0 {
                    self.consume((f & 0xFF) as u32);
                    break;
                }
                k += ((f >> 8) & 15) as usize;
                self.consume((f & 0xFF) as u32);
                put(q, u32::from(NATURAL[k]), (f >> 16) as i16);
                q += 1;
                k += 1;
                continue;
            }
            if self.n < 32 {
                self.refill();
            }
            let rs = u32::from(self.symbol(ac)?);
            let (run, size) = (rs >> 4, rs & 15);
            if size != 0 {
                k += run as usize;
                let v = self.take(size);
                put(q, u32::from(NATURAL[k]), extend(v, size) as i16);
                q += 1;
            } else if run == 15 {
                k += 15;
            } else {
                break;
            }
            k += 1;
        }
        Ok(q)
    }

    /// One MCU straight into libjpeg's `blocks` (`t.luma` luma blocks, then Cb and Cr;
    /// zeroed).
    #[inline(always)]
    fn mcu_into(&mut self, t: &Tables, pred: &mut [i32; 3], blocks: &mut [i16]) -> Result<(), Bad> {
        let mut blocks = blocks.chunks_exact_mut(64).map(|b| <&mut [i16; 64]>::try_from(b).expect("64"));
        for _ in 0..t.luma {
            self.block_into(t.dc(0), t.ac(0), &mut pred[0], blocks.next().ok_or(Bad)?)?;
        }
        self.block_into(t.dc(1), t.ac(1), &mut pred[1], blocks.next().ok_or(Bad)?)?;
        self.block_into(t.dc(2), t.ac(2), &mut pred[2], blocks.next().ok_or(Bad)?)
    }

    /// One MCU (`t.luma` luma blocks, then Cb and Cr) packed into `out` at `at`, which grows
    /// when it has not MCU_MAX more (only while warming up). Returns where the next MCU goes.
    #[inline(always)]
    fn mcu(&mut self, t: &Tables, pred: &mut [i32; 3], out: &mut Vec<u32>, at: usize) -> Result<usize, Bad> {
        if out.len() < at + MCU_MAX {
            out.resize((2 * out.len()).max(at + MCU_MAX), 0);
        }
        let first = at + 1;
        let mut next = first;
        let mut base = 0;
        for _ in 0..t.luma {
            next = self.block(t.dc(0), t.ac(0), &mut pred[0], out, next, base)?;
            base += 64;
        }
        let next = self.block(t.dc(1), t.ac(1), &mut pred[1], out, next, base)?;
        let next = self.block(t.dc(2), t.ac(2), &mut pred[2], out, next, base + 64)?;
        out[at] = (next - first) as u32;
        Ok(next)
    }
}

/// The scan's tables, by component (Y, Cb, Cr); components that share a table (Cb and Cr,
/// nearly always) share it here too, so it is in cache once.
pub struct Tables {
    list: Vec<Table>,
    dc: [usize; 3],
    ac: [usize; 3],
    /// Luma blocks per MCU: 2 (4:2:2) or 4 (4:2:0).
    pub luma: usize,
}

impl Tables {
    /// From the DC then AC table (DHT counts and symbols, as [`Table::new`] takes them) of Y,
    /// Cb and Cr, for a scan whose MCUs hold `luma` luma blocks (2 or 4); None when libjpeg
    /// would refuse one.
    pub fn new(bits: &[[u8; 17]; 6], vals: &[[u8; 256]; 6], luma: usize) -> Option<Tables> {
        if luma != 2 && luma != 4 {
            return None;
        }
        let mut list: Vec<Table> = Vec::with_capacity(6);
        let mut made: Vec<usize> = Vec::with_capacity(6);
        let mut index = [0usize; 6];
        for k in 0..6 {
            let same = made.iter().position(|&j| j % 2 == k % 2 && bits[j] == bits[k] && vals[j] == vals[k]);
            index[k] = match same {
                Some(i) => i,
                None => {
                    list.push(*Table::new(&bits[k], &vals[k], k % 2 == 0)?);
                    made.push(k);
                    list.len() - 1
                }
            };
        }
        Some(Tables { list, dc: [index[0], index[2], index[4]], ac: [index[1], index[3], index[5]], luma })
    }

    #[inline(always)]
    fn dc(&self, c: usize) -> &Table {
        &self.list[self.dc[c]]
    }

    #[inline(always)]
    fn ac(&self, c: usize) -> &Table {
        &self.list[self.ac[c]]
    }
}

/// Where the bottom thread started an MCU, and its DC predictors there (counted from 0 at
/// the start of its run).
#[derive(Clone, Copy, Debug)]
struct Entry {
    bit: usize,
    /// Where its blocks are in the bottom thread's packed blocks.
    at: usize,
    /// Which run: the bottom thread starts a new one after an invalid code (it was out of
    /// step), so entries of one run are one continuous decode.
    run: u32,
    pred: [i32; 3],
}

/// Buffers kept between frames (no allocation per frame once warm).
#[derive(Default)]
pub struct Scratch {
    /// The scan's entropy-coded data with its stuffed zero bytes removed, then SLACK zeros.
    data: Vec<u8>,
    /// The top thread's packed blocks, and where each of its MCUs starts in them.
    top: Vec<u32>,
    top_at: Vec<usize>,
    /// The bottom thread's packed blocks (where each MCU starts: its [`Entry`]).
    bottom: Vec<u32>,
    entries: Vec<Entry>,
    /// Where each restart marker was in `data`.
    markers: Vec<usize>,
    /// Where the two threads split the scan: the top thread's share of its bytes.
    pub balance: Balance,
    /// For tests and the benchmark: the MCU the last decode synced at (its MCU count when
    /// the top thread decoded the whole scan), and how many MCUs the top thread decoded
    /// past the middle before that.
    pub last_sync: (usize, usize),
}

impl Scratch {
    /// The bytes these buffers hold.
    pub fn bytes(&self) -> usize {
        use std::mem::size_of;
        self.data.capacity()
            + (self.top.capacity() + self.bottom.capacity()) * size_of::<u32>()
            + (self.top_at.capacity() + self.markers.capacity()) * size_of::<usize>()
            + self.entries.capacity() * size_of::<Entry>()
    }

    /// Unstuffs `scan` ([`unstuff`]: its length, None to decline the frame) and readies the
    /// buffers for `mcus` MCUs, the bottom thread's for `entries` of them.
    fn prepare(&mut self, scan: &[u8], mcus: usize, entries: usize) -> Option<usize> {
        let len = unstuff(scan, &mut self.data, &mut self.markers)?;
        // A first guess at each thread's packed MCUs (about half the scan's): camera frames
        // have about 1.3 coefficients per byte. Either grows if it needs more (while warming
        // up).
        let guess = len + 2 * mcus;
        for v in [&mut self.top, &mut self.bottom] {
            if v.len() < guess {
                v.resize(guess, 0);
            }
        }
        self.top_at.resize(mcus, 0);
        self.entries.clear();
        self.entries.reserve(entries);
        Some(len)
    }
}

/// The decoded scan: the coefficient blocks of MCU t ([`Coefficients::blocks`] each) by
/// [`Coefficients::mcu`].
pub struct Coefficients<'a> {
    top: &'a [u32],
    top_at: &'a [usize],
    bottom: &'a [u32],
    entries: &'a [Entry],
    /// MCUs below this come from `top`, the rest from `bottom`, shifted.
    sync: usize,
    /// The bottom thread's MCU (its index in `bottom`) that is MCU `sync`.
    sync_bottom: usize,
    /// Added to the bottom thread's DC values, by component.
    offset: [i16; 3],
    pub mcus: usize,
    /// Blocks per MCU: 4 (4:2:2) or 6 (4:2:0).
    pub blocks: usize,
}

impl Coefficients<'_> {
    /// Writes MCU `t`'s blocks into `out` (libjpeg's MCU buffer: [`Coefficients::blocks`]
    /// zeroed blocks, 64 coefficients each).
    pub fn mcu(&self, t: usize, out: &mut [i16]) {
        let out = &mut out[..64 * self.blocks];
        let (packed, at, offset) = if t < self.sync {
            (self.top, self.top_at[t], [0; 3])
        } else {
            (self.bottom, self.entries[t - self.sync + self.sync_bottom].at, self.offset)
        };
        // The next MCUs' data on its way to the cache meanwhile (each block's count says where
        // the next starts, a chain of loads the prefetcher cannot run ahead of).
        #[cfg(target_arch = "x86_64")]
        if let Some(ahead) = packed.get(at + 512) {
            // SAFETY: a prefetch of an address inside the slice; it reads nothing.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>((ahead as *const u32).cast())
            };
        }
        let n = packed[at] as usize;
        let entries = &packed[at + 1..at + 1 + n];
        // 4:2:2's 256 coefficients take a mask that needs no bounds check per store, as
        // before 4:2:0 took this path; 4:2:0's 384 keep the check.
        if let Ok(out) = <&mut [i16; 256]>::try_from(&mut *out) {
            for &e in entries {
                out[(e & 255) as usize] = (e >> 16) as i16;
            }
        } else {
            for &e in entries {
                out[(e & 0x1FF) as usize] = (e >> 16) as i16;
            }
        }
        if offset != [0; 3] {
            let luma = self.blocks - 2;
            for b in 0..self.blocks {
                let c = b.saturating_sub(luma - 1);
                out[64 * b] = out[64 * b].wrapping_add(offset[c]);
            }
        }
    }
}

/// The scan decoded on one thread as libjpeg asks for its MCUs, each straight into
/// libjpeg's blocks: no packed coefficients written and read back in between (the two-thread
/// decode needs them; one thread does not). Its end is checked as [`decode`] checks it, but
/// only after every MCU has been handed over: a scan that [`Stream::finish`] rejects has been
/// decoded into the frame all the same, so the caller then decodes the frame again with
/// libjpeg alone, as it does whenever [`decode`] returns None.
pub struct Stream<'a> {
    data: &'a [u8],
    /// The unstuffed data's length (before the slack).
    len: usize,
    r: Reader<'a>,
    t: &'a Tables,
    pred: [i32; 3],
    /// The next MCU.
    next: usize,
    pub mcus: usize,
    /// Blocks per MCU: 4 (4:2:2) or 6 (4:2:0).
    pub blocks: usize,
    /// The restart interval in MCUs (0: none), and where each restart marker was.
    interval: usize,
    markers: &'a [usize],
    /// An MCU failed to decode, or an interval did not end in its last byte.
    bad: bool,
}

/// Whether a decode that stopped at `bit` ended in the last byte before byte `to` (padding
/// only): whole bytes before a marker or EOI are damage libjpeg may report (see [`decode`]).
fn ends_at(bit: usize, to: usize) -> bool {
    bit <= 8 * to && bit + 8 > 8 * to
}

/// [`Stream`] over `scan` (as [`decode`] takes it); None when libjpeg alone must decode the
/// frame (markers missing, out of sequence or out of place, or no EOI).
pub fn stream<'a>(scan: &[u8], t: &'a Tables, mcus: usize, interval: usize, s: &'a mut Scratch) -> Option<Stream<'a>> {
    let len = unstuff_checked(scan, mcus, interval, s)?;
    Some(Stream::part(&s.data, len, &s.markers, t, 0, mcus, interval))
}

/// [`unstuff`] into `s`, and the restart markers are as many as a scan of `mcus` MCUs in
/// intervals of `interval` has (0: no restart markers): the data's length, or None.
fn unstuff_checked(scan: &[u8], mcus: usize, interval: usize, s: &mut Scratch) -> Option<usize> {
    let len = unstuff(scan, &mut s.data, &mut s.markers)?;
    let intervals = if interval > 0 { mcus.div_ceil(interval) } else { 1 };
    (s.markers.len() + 1 == intervals).then_some(len)
}

/// A scan with restart markers as two [`Stream`]s, one for each of two threads, each fed to
/// its own libjpeg decoder at once (no coefficients stored: each interval starts at a known
/// byte with DC predictors 0, so no thread waits for the other's decode): the top one gives
/// MCUs `0..at`, the bottom one MCUs from the start of the interval holding MCU `at` to the
/// end (its caller skips the MCUs before `at`, fewer than an interval). The top one's end is
/// checked by [`Stream::finish_part`], the bottom one's by [`Stream::finish`]; between them
/// they check every interval [`stream`]'s one stream checks. None as [`stream`] gives None,
/// or for a scan without restart markers or an `at` not inside it.
pub fn split_streams<'a>(
    scan: &[u8],
    t: &'a Tables,
    mcus: usize,
    interval: usize,
    at: usize,
    s: &'a mut Scratch,
) -> Option<(Stream<'a>, Stream<'a>)> {
    if interval == 0 || at == 0 || at >= mcus {
        return None;
    }
    let len = unstuff_checked(scan, mcus, interval, s)?;
    let (data, markers) = (&s.data[..], &s.markers[..]);
    let top = Stream::part(data, len, markers, t, 0, at, interval);
    let bottom = Stream::part(data, len, markers, t, at / interval * interval, mcus, interval);
    Some((top, bottom))
}

impl<'a> Stream<'a> {
    /// MCUs `from..to` of the unstuffed scan `data` (`len` bytes before the slack, restart
    /// markers at `markers`), `from` the first MCU of a restart interval (or 0).
    fn part(
        data: &'a [u8],
        len: usize,
        markers: &'a [usize],
        t: &'a Tables,
        from: usize,
        to: usize,
        interval: usize,
    ) -> Stream<'a> {
        // An interval after the first starts right after its marker, at a byte (the check
        // mcu() makes when an interval starts then holds at once).
        let byte = if from == 0 { 0 } else { markers[from / interval - 1] };
        Stream {
            data,
            len,
            r: Reader::at(data, 8 * byte),
            t,
            pred: [0; 3],
            next: from,
            mcus: to,
            blocks: t.luma + 2,
            interval,
            markers,
            bad: false,
        }
    }
}

impl Stream<'_> {
    /// Decodes the next MCU into `blocks` (libjpeg's: [`Stream::blocks`] zeroed blocks of 64
    /// coefficients); false when there is none or it does not decode.
    pub fn mcu(&mut self, blocks: &mut [i16]) -> bool {
        if self.bad || self.next >= self.mcus {
            return false;
        }
        if self.interval > 0 && self.next > 0 && self.next.is_multiple_of(self.interval) {
            // A new interval: the last one must end right before its marker; this one starts
            // after it, at a byte, with DC predictors 0.
            let to = self.markers[self.next / self.interval - 1];
            if !ends_at(self.r.bit(), to) {
                self.bad = true;
                return false;
            }
            self.r = Reader::at(self.data, 8 * to);
            self.pred = [0; 3];
        }
        // The reader and predictors in locals while decoding, so they stay in registers (as
        // fields behind `self` they were stored back at every coefficient).
        let (mut r, mut pred) = (self.r, self.pred);
        let ok = r.mcu_into(self.t, &mut pred, blocks).is_ok();
        (self.r, self.pred) = (r, pred);
        // Past the data: the rest is the slack's zeros (intervals are checked at their end).
        if !ok || (self.interval == 0 && self.r.bit() > 8 * self.len) {
            self.bad = true;
            return false;
        }
        self.next += 1;
        true
    }

    /// Whether every MCU decoded and the scan ended in its last byte.
    pub fn finish(&self) -> bool {
        !self.bad && self.next == self.mcus && ends_at(self.r.bit(), self.len)
    }

    /// Decodes the next `n` MCUs and drops them (the bottom one of [`split_streams`] skips
    /// those before its part); false when one does not decode.
    pub fn skip(&mut self, n: usize) -> bool {
        let mut blocks = [0i16; 64 * BLOCKS_MAX];
        let blocks = &mut blocks[..64 * self.blocks];
        (0..n).all(|_| self.mcu(blocks))
    }

    /// For the top one of [`split_streams`]: whether every one of its MCUs decoded and, when
    /// its last one ends a restart interval, that interval ended in the last byte before its
    /// marker (an interval it ends part-way, the bottom stream decodes whole and checks).
    pub fn finish_part(&self) -> bool {
        let whole = self.interval > 0 && self.mcus.is_multiple_of(self.interval);
        !self.bad
            && self.next == self.mcus
            && (!whole || ends_at(self.r.bit(), self.markers[self.mcus / self.interval - 1]))
    }
}

/// Removes the stuffed zero after each 0xFF of the entropy-coded data `scan` (which starts
/// right after SOS) into `out`, up to the EOI marker, then appends SLACK zeros; the restart
/// markers are left out, and where each was goes in `markers`. None when another marker comes
/// first (a restart marker out of sequence, or damage) or there is no EOI (a truncated frame):
/// libjpeg alone then decodes the frame.
fn unstuff(scan: &[u8], out: &mut Vec<u8>, markers: &mut Vec<usize>) -> Option<usize> {
    out.clear();
    markers.clear();
    let mut p = 0;
    loop {
        let f = super::find_ff(scan.get(p..)?)?;
        out.extend_from_slice(&scan[p..p + f]);
        p += f;
        match *scan.get(p + 1)? {
            0x00 => {
                out.push(0xFF);
                p += 2;
            }
            // Restart markers in their sequence: where each is in the data.
            m @ 0xD0..=0xD7 if usize::from(m - 0xD0) == markers.len() % 8 => {
                markers.push(out.len());
                p += 2;
            }
            0xD9 => break,
            _ => return None,
        }
    }
    let len = out.len();
    out.resize(len + SLACK, 0);
    Some(len)
}

/// Huffman-decodes the 4:2:2 scan `scan` (its entropy-coded data, from right after SOS to the
/// EOI marker) of `mcus` MCUs on two threads ([`crate::convert::parallel::join`]: both on this one when
/// the helper is busy). None when libjpeg alone must decode the frame (see the module doc),
/// and whenever a whole byte lies between the last MCU and EOI: libjpeg, reading on to EOI,
/// may report those bytes as damage or not (as far as its Huffman decoder read ahead), so
/// only a scan that ends in the last MCU's final byte is sure to be clean.
/// With `two` false, the top thread's part is the whole scan and the bottom's nothing: one
/// thread, no sync.
pub fn decode<'s>(
    scan: &[u8],
    t: &Tables,
    mcus: usize,
    interval: usize,
    two: bool,
    s: &'s mut Scratch,
) -> Option<Coefficients<'s>> {
    if interval > 0 {
        return decode_intervals(scan, t, mcus, interval, two, s);
    }
    decode_at(scan, t, mcus, s, if two { None } else { Some(usize::MAX) })
}

/// [`decode`] of a scan with restart markers every `interval` MCUs: no sync needed, each
/// interval starts afresh (at a byte, DC predictors 0). The top thread decodes the intervals
/// before the marker nearest the middle of the data, the bottom thread the rest. None for
/// anything but a clean scan: markers missing or out of sequence, an interval whose data ends
/// early, or whole bytes between an interval's last MCU and its marker (libjpeg reports those
/// as damage); the caller's other paths then decode it as libjpeg does.
fn decode_intervals<'s>(
    scan: &[u8],
    t: &Tables,
    mcus: usize,
    interval: usize,
    two: bool,
    s: &'s mut Scratch,
) -> Option<Coefficients<'s>> {
    let len = s.prepare(scan, mcus, mcus)?;
    let count = mcus.div_ceil(interval);
    if s.markers.len() + 1 != count {
        return None;
    }
    let (data, markers) = (&s.data[..], &s.markers[..]);
    // Interval i's data: from the marker before it (or the start) to the marker after it
    // (or the end), in bytes.
    let bounds = |i: usize| (if i == 0 { 0 } else { markers[i - 1] }, markers.get(i).copied().unwrap_or(len));
    let mid = s.balance.first(len);
    let split = if two { (1..count).min_by_key(|&i| markers[i - 1].abs_diff(mid)).unwrap_or(count) } else { count };
    let sync = (split * interval).min(mcus);
    // Intervals `range` decoded into `out`, noting where each MCU starts.
    let run =
        |range: std::ops::Range<usize>, out: &mut Vec<u32>, note: &mut dyn FnMut(usize, usize)| -> Result<(), Bad> {
            let mut at = 0;
            for i in range {
                let (from, to) = bounds(i);
                let mut r = Reader::at(data, 8 * from);
                let mut pred = [0; 3];
                for t_mcu in i * interval..((i + 1) * interval).min(mcus) {
                    note(t_mcu, at);
                    at = r.mcu(t, &mut pred, out, at)?;
                }
                // Ends in its last byte (padding): whole bytes before a marker are damage
                // libjpeg may report, before EOI too (see [`decode`]).
                if r.bit() > 8 * to || r.bit() + 8 <= 8 * to {
                    return Err(Bad);
                }
            }
            Ok(())
        };
    let (top, top_at, bottom, entries) = (&mut s.top, &mut s.top_at, &mut s.bottom, &mut s.entries);
    let (mut a, mut b) = (Err(Bad), Err(Bad));
    let (ta, tb) = crate::convert::parallel::join_timed(
        || a = run(0..split, top, &mut |t_mcu, at| top_at[t_mcu] = at),
        || b = run(split..count, bottom, &mut |_, at| entries.push(Entry { bit: 0, at, run: 0, pred: [0; 3] })),
    );
    a.ok()?;
    b.ok()?;
    if two && split < count {
        let at = bounds(split).0;
        s.balance.learn(at, ta, len - at, tb);
    }
    s.last_sync = (sync, 0);
    Some(Coefficients {
        top: &s.top,
        top_at: &s.top_at,
        bottom: &s.bottom,
        entries: &s.entries,
        sync,
        sync_bottom: 0,
        offset: [0; 3],
        mcus,
        blocks: t.luma + 2,
    })
}

/// [`decode`], the bottom thread starting at byte `middle` of the unstuffed data (None: its
/// middle).
fn decode_at<'s>(
    scan: &[u8],
    t: &Tables,
    mcus: usize,
    s: &'s mut Scratch,
    middle: Option<usize>,
) -> Option<Coefficients<'s>> {
    // The bottom thread needs at most this many MCUs (the rest of the scan, and a few out of
    // step at its start).
    let cap = mcus + 64;
    let len = s.prepare(scan, mcus, cap)?;
    if !s.markers.is_empty() {
        // Restart markers without a restart interval: damage.
        return None;
    }
    let data = &s.data[..];
    let end = len * 8;
    let middle = middle.unwrap_or_else(|| s.balance.first(len)).min(len);

    // Phase 1: the top thread up to the middle, the bottom thread from it.
    let (top, top_at, bottom, entries) = (&mut s.top, &mut s.top_at, &mut s.bottom, &mut s.entries);
    let mut top_state: Result<(usize, usize, [i32; 3], usize), Bad> = Err(Bad);
    let mut bottom_state = None;
    let (ta, tb) = crate::convert::parallel::join_timed(
        || {
            let mut r = Reader::at(data, 0);
            let mut pred = [0; 3];
            let (mut t_mcu, mut at) = (0, 0);
            top_state = (|| {
                while t_mcu < mcus && r.bit() < 8 * middle {
                    top_at[t_mcu] = at;
                    at = r.mcu(t, &mut pred, top, at)?;
                    if r.bit() > end {
                        return Err(Bad);
                    }
                    t_mcu += 1;
                }
                Ok((t_mcu, r.bit(), pred, at))
            })();
        },
        || bottom_state = Some(decode_bottom(data, end, 8 * middle, t, cap, bottom, entries)),
    );
    // A half that failed stopped early: its time says nothing of its thread's speed.
    if middle < len && top_state.is_ok() && bottom_state.is_some() {
        s.balance.learn(middle, ta, len - middle, tb);
    }
    let (mut t_mcu, bit, mut pred, mut at) = top_state.ok()?;

    // None only if the bottom thread panicked (parallel::join does not pass that on).
    let (final_run, max_pred, _) = bottom_state?;

    // Phase 2: the top thread on until it starts an MCU where the bottom thread started one.
    let mut r = Reader::at(data, bit);
    let mut cursor = 0;
    let entries = &s.entries;
    let stopped = t_mcu;
    while t_mcu < mcus {
        let b = r.bit();
        while cursor < entries.len() && entries[cursor].bit < b {
            cursor += 1;
        }
        if let Some(e) = entries.get(cursor).filter(|e| e.bit == b) {
            // The bottom thread's run must go on, unbroken, through the scan's last MCU; and it
            // must be its last run, the one `max_pred` is about.
            let last = cursor + (mcus - t_mcu) - 1;
            let whole = entries.get(last).is_some_and(|l| l.run == e.run) && e.run == final_run;
            if !whole {
                return None;
            }
            // Where the last MCU ends: decoded again (its start and predictors are known) past
            // the top thread's blocks, whose room beyond `at` is free.
            let l = entries[last];
            let (mut tail, mut p) = (Reader::at(data, l.bit), l.pred);
            tail.mcu(t, &mut p, &mut s.top, at).ok()?;
            if tail.bit() > end || tail.bit() + 8 <= end {
                return None;
            }
            let mut offset = [0i16; 3];
            for c in 0..3 {
                let d = i64::from(pred[c]) - i64::from(e.pred[c]);
                // Every DC value below the sync is the bottom thread's plus d: none may leave
                // an int (see Reader::block).
                if i64::from(max_pred[c]) + d.abs() > i64::from(i32::MAX) {
                    return None;
                }
                offset[c] = d as i16;
            }
            s.last_sync = (t_mcu, t_mcu - stopped);
            return Some(Coefficients {
                top: &s.top,
                top_at: &s.top_at,
                bottom: &s.bottom,
                entries: &s.entries,
                sync: t_mcu,
                sync_bottom: cursor,
                offset,
                mcus,
                blocks: t.luma + 2,
            });
        }
        s.top_at[t_mcu] = at;
        at = r.mcu(t, &mut pred, &mut s.top, at).ok()?;
        if r.bit() > end {
            return None;
        }
        t_mcu += 1;
    }
    if r.bit() + 8 <= end {
        return None;
    }
    s.last_sync = (mcus, mcus - stopped);
    Some(Coefficients {
        top: &s.top,
        top_at: &s.top_at,
        bottom: &s.bottom,
        entries: &s.entries,
        sync: mcus,
        sync_bottom: 0,
        offset: [0; 3],
        mcus,
        blocks: t.luma + 2,
    })
}

/// The bottom thread: decodes MCUs from bit `from` to the end of the data as if one started
/// there, into `out`, recording each one's start in `entries` (at most `cap`). Returns the
/// last run's number, the largest DC predictor magnitude seen in it by component, and the
/// bits it decoded in vain (in attempts that ended in an invalid code).
fn decode_bottom(
    data: &[u8],
    end: usize,
    from: usize,
    t: &Tables,
    cap: usize,
    out: &mut Vec<u32>,
    entries: &mut Vec<Entry>,
) -> (u32, [u32; 3], usize) {
    let mut r = Reader::at(data, from);
    let (mut run, mut pred, mut max, mut at) = (0u32, [0i32; 3], [0u32; 3], 0);
    // Bits decoded in attempts that ended in an invalid code. Out of step, the thread starts
    // again one bit on, usually within a few bits of the last try; data made to fail an MCU
    // after every start would cost an MCU's decode per bit, so once the wasted bits reach the
    // thread's share it gives up (the top thread then decodes the whole scan).
    let mut wasted = 0;
    // An MCU has at least 8 bits; fewer left are the final byte's padding.
    while entries.len() < cap && r.bit() + 8 <= end && wasted <= end - from {
        let start = r.bit();
        let before = pred;
        let ok = r.mcu(t, &mut pred, out, at);
        if r.bit() > end {
            break;
        }
        let Ok(next) = ok else {
            // Out of step: start again one bit on, with a new run.
            wasted += r.bit() - start;
            run += 1;
            max = [0; 3];
            r = Reader::at(data, start + 1);
            continue;
        };
        entries.push(Entry { bit: start, at, run, pred: before });
        at = next;
        for c in 0..3 {
            max[c] = max[c].max(before[c].unsigned_abs()).max(pred[c].unsigned_abs());
        }
    }
    (run, max, wasted)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::convert::jpeg::{AC_CHROMA, AC_LUMA};

    /// The tables of ITU T.81 Annex K.3, which libjpeg uses when a frame has no DHT, for a
    /// scan of `luma` luma blocks per MCU.
    pub(crate) fn standard_tables(luma: usize) -> Tables {
        let mut bits = [[0u8; 17]; 6];
        let mut vals = [[0u8; 256]; 6];
        let dc = |b: &mut [u8; 17], v: &mut [u8; 256], counts: &[u8; 16]| {
            b[1..].copy_from_slice(counts);
            v[..12].copy_from_slice(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        };
        for c in 0..3 {
            let [b_dc, b_ac] = &mut bits[2 * c..2 * c + 2] else { unreachable!() };
            let [v_dc, v_ac] = &mut vals[2 * c..2 * c + 2] else { unreachable!() };
            if c == 0 {
                dc(b_dc, v_dc, &[0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
                b_ac[1..].copy_from_slice(&[0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d]);
                v_ac[..162].copy_from_slice(&AC_LUMA);
            } else {
                dc(b_dc, v_dc, &[0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
                b_ac[1..].copy_from_slice(&[0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77]);
                v_ac[..162].copy_from_slice(&AC_CHROMA);
            }
        }
        let t = Tables::new(&bits, &vals, luma).expect("valid tables");
        assert_eq!((t.list.len(), t.dc, t.ac), (4, [0, 2, 2], [1, 3, 3]), "Cb and Cr share their tables");
        t
    }

    /// The byte after the SOS segment of a JPEG.
    pub(crate) fn scan_start(jpeg: &[u8]) -> usize {
        let mut i = 2;
        loop {
            assert_eq!(jpeg[i], 0xFF);
            let len = (jpeg[i + 2] as usize) << 8 | jpeg[i + 3] as usize;
            if jpeg[i + 1] == 0xDA {
                return i + 2 + len;
            }
            i += 2 + len;
        }
    }

    /// A JPEG (TJSAMP_422 or TJSAMP_420: `sub`) of a picture with smooth and busy parts (the
    /// busy part at the bottom, so the middle byte is not the middle row), its scan data, and
    /// its MCU count.
    pub(crate) fn frame(w: usize, h: usize, sub: std::ffi::c_int) -> (Vec<u8>, usize, usize) {
        let mut rgb = vec![0u8; w * h * 3];
        let mut n = 0x9E37_79B9u32;
        for y in 0..h {
            for x in 0..w {
                n ^= n << 13;
                n ^= n >> 17;
                n ^= n << 5;
                let busy = if y > h / 3 { (n % 64) as usize } else { 0 };
                let o = (y * w + x) * 3;
                rgb[o] = ((x * 255 / w + busy) % 256) as u8;
                rgb[o + 1] = ((y * 255 / h + (x / 7 % 3) * 40) % 256) as u8;
                rgb[o + 2] = (((x ^ y) & 0x3F) * 3 + busy / 2) as u8;
            }
        }
        let jpeg = crate::convert::jpeg::tests::compress(&rgb, w, h, sub);
        let at = scan_start(&jpeg);
        (jpeg, at, w.div_ceil(16) * h.div_ceil(if sub == 2 { 16 } else { 8 }))
    }

    fn serial(scan: &[u8], t: &Tables, mcus: usize) -> Vec<[i16; 64 * BLOCKS_MAX]> {
        let mut s = Scratch::default();
        let c = decode_at(scan, t, mcus, &mut s, Some(usize::MAX)).expect("a clean scan");
        assert_eq!(c.sync, mcus, "the top thread decodes it all");
        all(&c)
    }

    fn all(c: &Coefficients) -> Vec<[i16; 64 * BLOCKS_MAX]> {
        let mut v = vec![[0i16; 64 * BLOCKS_MAX]; c.mcus];
        for (t, m) in v.iter_mut().enumerate() {
            c.mcu(t, m);
        }
        v
    }

    /// Wherever the bottom thread starts, the coefficients are the serial decode's, and the
    /// top thread syncs within a few MCUs of the middle: 4:2:2 and 4:2:0.
    #[test]
    fn every_start_gives_the_serial_decode() {
        for (sub, luma) in [(1, 2), (2, 4)] {
            every_start_gives_the_serial_decode_of(sub, luma);
        }
    }

    fn every_start_gives_the_serial_decode_of(sub: std::ffi::c_int, luma: usize) {
        let (jpeg, at, mcus) = frame(320, 240, sub);
        let t = standard_tables(luma);
        let scan = &jpeg[at..];
        let reference = serial(scan, &t, mcus);
        assert!(
            reference.iter().flat_map(|m| m.chunks_exact(64)).filter(|b| b[1..].iter().any(|&c| c != 0)).count()
                > 3 * mcus,
            "a picture with detail"
        );
        let mut s = Scratch::default();
        let len = scan.len();
        let (mut synced, mut longest) = (0, 0);
        let starts: Vec<usize> = (0..400).map(|i| i * len / 400).chain(len / 2..len / 2 + 200).collect();
        for &m in &starts {
            let c = decode_at(scan, &t, mcus, &mut s, Some(m)).expect("a clean scan");
            assert!(all(&c) == reference, "bottom thread from byte {m}: coefficients differ");
            if c.sync < mcus {
                synced += 1;
            }
            longest = longest.max(s.last_sync.1);
        }
        // Starting near the end leaves too little to sync on, rarely; elsewhere it must.
        assert!(synced * 100 >= starts.len() * 95, "synced {synced} of {}", starts.len());
        assert!(longest < 20, "the top thread went {longest} MCUs past the middle");
    }

    /// One thread's stream hands libjpeg the serial decode's blocks, MCU by MCU, none past the
    /// last, and finds the end clean; with a byte more before EOI every MCU still decodes, but
    /// the end is not clean (the caller then decodes the frame with libjpeg alone).
    #[test]
    fn the_stream_gives_the_serial_decode_and_checks_the_end() {
        for (sub, luma) in [(1, 2), (2, 4)] {
            let (jpeg, at, mcus) = frame(320, 240, sub);
            let t = standard_tables(luma);
            let scan = &jpeg[at..];
            let reference = serial(scan, &t, mcus);
            let mut s = Scratch::default();
            let n = 64 * (luma + 2);
            let mut st = stream(scan, &t, mcus, 0, &mut s).expect("a clean scan");
            for (i, m) in reference.iter().enumerate() {
                let mut b = [0i16; 64 * BLOCKS_MAX];
                assert!(st.mcu(&mut b[..n]), "MCU {i}");
                assert!(b == *m, "MCU {i} differs");
            }
            assert!(!st.mcu(&mut [0; 64 * BLOCKS_MAX][..n]), "an MCU past the last");
            assert!(st.finish());
            assert_eq!(&scan[scan.len() - 2..], [0xFF, 0xD9]);
            let mut longer = scan.to_vec();
            longer.insert(scan.len() - 2, 0);
            let mut st = stream(&longer, &t, mcus, 0, &mut s).expect("a scan");
            for i in 0..mcus {
                assert!(st.mcu(&mut [0; 64 * BLOCKS_MAX][..n]), "MCU {i}");
            }
            assert!(!st.finish(), "a whole byte before EOI");
            // Restart markers without a restart interval: not taken.
            let mut marked = scan.to_vec();
            marked.splice(scan.len() / 2..scan.len() / 2, [0xFF, 0xD0]);
            assert!(stream(&marked, &t, mcus, 0, &mut s).is_none());
        }
    }

    /// Data made so that a decode from any bit fails an MCU later (the standard tables would
    /// need luck; these make it certain): the bottom thread gives up once it has decoded its
    /// share in vain, instead of an MCU per bit of its share.
    #[test]
    fn the_bottom_thread_gives_up_on_data_that_never_syncs() {
        let mut bits = [[0u8; 17]; 6];
        let mut vals = [[0u8; 256]; 6];
        for c in 0..3 {
            bits[2 * c][1] = 1; // DC: 0 -> category 0
            bits[2 * c + 1][1] = 1; // AC: 0 -> run 0 size 15, 10 -> end of block, 11 invalid
            bits[2 * c + 1][2] = 1;
            vals[2 * c + 1][..2].copy_from_slice(&[0x0F, 0x00]);
        }
        let t = Tables::new(&bits, &vals, 2).expect("valid tables");
        // 3996 zero bits (about one MCU: 4 blocks of 63 16-bit coefficients), then 32 ones.
        let mut data = Vec::new();
        let (mut acc, mut n) = (0u64, 0);
        while data.len() < 20_000 {
            for bit in std::iter::repeat_n(0, 3996).chain(std::iter::repeat_n(1, 32)) {
                acc = acc << 1 | bit;
                n += 1;
                if n == 8 {
                    data.push(acc as u8);
                    (acc, n) = (0, 0);
                }
            }
        }
        let end = data.len() * 8;
        data.resize(data.len() + SLACK, 0);
        let from = end / 2;
        let (mut out, mut entries) = (Vec::new(), Vec::new());
        let (run, _, wasted) = decode_bottom(&data, end, from, &t, 1000, &mut out, &mut entries);
        assert!(run > 10, "it failed and started again ({run} runs)");
        // It stops within an attempt (an MCU's bits) of its share.
        assert!(wasted <= (end - from) + 4100, "{wasted} bits decoded in vain for a share of {}", end - from);
        assert!(entries.len() < 50, "{} MCUs", entries.len());
    }

    /// Invalid tables are refused as libjpeg refuses them; short AC codes decode with their
    /// value in one read.
    #[test]
    fn tables() {
        let mut bits = [0u8; 17];
        let vals = [0u8; 256];
        bits[1] = 2; // two 1-bit codes: 0 and 1, the all-ones code used
        assert!(Table::new(&bits, &vals, true).is_none());
        bits[1] = 1;
        bits[2] = 1;
        let mut v = vals;
        v[0] = 16; // DC category 16
        assert!(Table::new(&bits, &v, true).is_none());
        assert!(Table::new(&bits, &v, false).is_some());
        assert!(Tables::new(&[[0; 17]; 6], &[[0; 256]; 6], 3).is_none(), "2 or 4 luma blocks");
        let t = standard_tables(2);
        // Luma AC: 0x01 (run 0, size 1) is code 00; then value bit 0 is -1, 1 is +1. The
        // index is the next LOOK bits.
        let next = |code: &str| usize::from_str_radix(&format!("{code:0<w$}", w = LOOK as usize), 2).unwrap();
        let ac = t.ac(0);
        assert_eq!(ac.fast_ac[next("000")], -1 << 16 | 3);
        assert_eq!(ac.fast_ac[next("001")], 1 << 16 | 3);
        // 0x11 (run 1, size 1) is code 1100; end-of-block is 1010.
        assert_eq!(ac.fast_ac[next("11001")], 1 << 16 | 1 << 8 | 5);
        assert_eq!(ac.fast_ac[next("1010")], FAST_EOB | 4);
        // 0xF0 (ZRL, 11111111001) is longer than LOOK: not fast.
        assert_eq!(ac.fast_ac[next("1111111100")], 0);
        assert_eq!(
            [extend(0, 1), extend(1, 1), extend(0, 3), extend(3, 3), extend(4, 3), extend(7, 3)],
            [-1, 1, -7, -4, 4, 7]
        );
    }

    /// Markers inside the scan and a missing EOI send the frame to libjpeg alone.
    #[test]
    fn unstuffing() {
        let (mut out, mut m) = (Vec::new(), Vec::new());
        assert_eq!(unstuff(&[1, 0xFF, 0, 2, 0xFF, 0xD9, 7], &mut out, &mut m), Some(3));
        assert_eq!(&out[..3], [1, 0xFF, 2]);
        assert_eq!(out.len(), 3 + SLACK);
        assert!(m.is_empty());
        // Restart markers in sequence are noted and left out; one out of sequence is damage.
        assert_eq!(unstuff(&[1, 0xFF, 0xD0, 2, 0xFF, 0xD1, 3, 0xFF, 0xD9], &mut out, &mut m), Some(3));
        assert_eq!((&out[..3], &m[..]), (&[1, 2, 3][..], &[1, 2][..]));
        assert_eq!(unstuff(&[1, 0xFF, 0xD1, 2, 0xFF, 0xD9], &mut out, &mut m), None);
        assert_eq!(unstuff(&[1, 0xFF, 0xC4, 2, 0xFF, 0xD9], &mut out, &mut m), None);
        assert_eq!(unstuff(&[1, 2, 3], &mut out, &mut m), None);
        assert_eq!(unstuff(&[1, 0xFF], &mut out, &mut m), None);
    }
}
