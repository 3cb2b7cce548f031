//! What every header section's functions share: the handle tables, the checked conversions of
//! C arguments (pointers, buffers, strings, size-prefixed structs) and callback user data.
//! No exported function converts a raw pointer any other way.

use std::ffi::{c_void, CStr};
use std::sync::{Mutex, MutexGuard};

use crate::error::{err, Result};

/// An out-parameter as a mutable reference, or MST_ERR_NULL_ARG naming it. Take it before any
/// work and write it last, so that nothing is written on an error.
macro_rules! out {
    ($p:expr, $name:literal) => {
        // SAFETY: NULL is refused; anything else is, per every function's contract in mst.h,
        // a live, aligned, writable object of this type.
        match unsafe { $p.as_mut() } {
            Some(r) => r,
            None => return Err($crate::error::err!(NullArg, concat!("`", $name, "` is NULL"))),
        }
    };
}
pub(crate) use out;

/// `len` bytes at `p` as a slice: MST_ERR_NULL_ARG for NULL, MST_ERR_INVALID_ARG for a length
/// above isize::MAX (no object can be that large; Rust slices cannot be either).
macro_rules! bytes {
    ($p:expr, $len:expr, $name:literal) => {{
        let (p, len): (*const u8, usize) = ($p, $len);
        $crate::ffi::support::check_buffer(p.is_null(), len, $name)?;
        // SAFETY: non-NULL, at most isize::MAX, and per the contract `len` readable bytes that
        // stay valid and unmodified for the call.
        unsafe { std::slice::from_raw_parts(p, len) }
    }};
}
pub(crate) use bytes;

/// As `bytes!`, writable: the caller's `len` writable bytes, not aliased during the call.
macro_rules! bytes_mut {
    ($p:expr, $len:expr, $name:literal) => {{
        let (p, len): (*mut u8, usize) = ($p, $len);
        $crate::ffi::support::check_buffer(p.is_null(), len, $name)?;
        // SAFETY: as for `bytes!`, and the caller lends the bytes exclusively for the call.
        unsafe { std::slice::from_raw_parts_mut(p, len) }
    }};
}
pub(crate) use bytes_mut;

pub(crate) fn check_buffer(null: bool, len: usize, name: &'static str) -> Result<()> {
    if null {
        return Err(err!(NullArg, "`{name}` is NULL"));
    }
    if len > isize::MAX as usize {
        return Err(err!(InvalidArg, "the length of `{name}`, {len}, is above PTRDIFF_MAX: no buffer is that large"));
    }
    Ok(())
}

/// A NUL-terminated C string as `&CStr`, or None for NULL.
macro_rules! opt_c_str {
    ($p:expr) => {{
        let p: *const std::ffi::c_char = $p;
        // SAFETY: per the contract a non-NULL string is NUL-terminated and valid for the call.
        (!p.is_null()).then(|| unsafe { std::ffi::CStr::from_ptr(p) })
    }};
}
pub(crate) use opt_c_str;

/// A NUL-terminated C string as `&CStr`, or MST_ERR_NULL_ARG naming it.
macro_rules! c_str {
    ($p:expr, $name:literal) => {
        match $crate::ffi::support::opt_c_str!($p) {
            Some(s) => s,
            None => return Err($crate::error::err!(NullArg, concat!("`", $name, "` is NULL"))),
        }
    };
}
pub(crate) use c_str;

/// A string argument as UTF-8.
pub(crate) fn utf8<'a>(s: &'a CStr, name: &str) -> Result<&'a str> {
    s.to_str().map_err(|_| err!(InvalidArg, "`{name}` is not UTF-8"))
}

/// A struct of the C ABI that starts with `uint32_t struct_size` (the caller's `sizeof`), so it
/// can grow at its end in 1.x without breaking binaries built against a smaller one.
///
/// # Safety
/// The implementor is `#[repr(C)]` and its first field is that `u32`.
pub(crate) unsafe trait SizedStruct: Copy {
    /// The C name, for messages.
    const NAME: &'static str;
    /// `sizeof` the struct in the release that added it: the least a caller may pass. It never
    /// changes; the struct itself may grow past it.
    const FIRST_SIZE: usize;
    /// That release ("1.0", "1.2"), for messages.
    const SINCE: &'static str;
}

/// A size-prefixed struct the caller passes in (options, constraints, inits).
///
/// # Safety
/// The all-zero bit pattern is a valid value (zero means "default" in every in-struct: its
/// enums are plain i32s), so a shorter caller's missing tail can read as zero.
pub(crate) unsafe trait InStruct: SizedStruct {}

/// Declares size-prefixed structs and their sizes in the release that added them (1.0, or the
/// one `since` names), each `in` (callers pass it in: see `InStruct`; in-and-out structs too) or
/// `out` (libmst fills it).
macro_rules! sized_struct {
    (@since) => {
        "1.0"
    };
    (@since $v:literal) => {
        $v
    };
    (@dir in $t:ident) => {
        // SAFETY: `$t` is integers, floats, bools and i32 enum values: all-zero is valid.
        unsafe impl $crate::ffi::support::InStruct for $t {}
    };
    (@dir out $t:ident) => {};
    ($($dir:ident $t:ident = $size:literal $(since $v:literal)?),+ $(,)?) => {$(
        // SAFETY: `$t` is #[repr(C)] and starts with `struct_size: u32`.
        unsafe impl $crate::ffi::support::SizedStruct for $t {
            const NAME: &'static str = stringify!($t);
            const FIRST_SIZE: usize = $size;
            const SINCE: &'static str = $crate::ffi::support::sized_struct!(@since $($v)?);
        }
        $crate::ffi::support::sized_struct!(@dir $dir $t);
        const _: () = assert!(std::mem::size_of::<$t>() >= $size, concat!(stringify!($t), " shrank below its first size"));
    )+};
}
pub(crate) use sized_struct;

/// The largest `struct_size` accepted: past it the value is taken for uninitialized memory
/// rather than a struct of some future libmst (whose structs are far smaller).
const MAX_STRUCT_SIZE: u32 = 4096;

fn caller_size<T: SizedStruct>(p: *const T, name: &str) -> Result<usize> {
    // SAFETY: non-NULL (checked by the callers) and, per the contract, a struct of at least
    // 4 bytes (struct_size) aligned for T.
    let size = unsafe { p.cast::<u32>().read() };
    if (size as usize) < T::FIRST_SIZE {
        return Err(err!(
            InvalidArg,
            "`{name}`->struct_size is {size}, below sizeof({}) in libmst {} ({}): initialize it with MST_STRUCT_INIT({})",
            T::NAME,
            T::SINCE,
            T::FIRST_SIZE,
            T::NAME
        ));
    }
    if size > MAX_STRUCT_SIZE {
        return Err(err!(
            InvalidArg,
            "`{name}`->struct_size is {size}, not the size of any {} (uninitialized? use MST_STRUCT_INIT({}))",
            T::NAME,
            T::NAME
        ));
    }
    Ok(size as usize)
}

/// Reads an in-struct (options, constraints, init) the caller sized: bytes past the caller's
/// size read as zero (default); a tail past libmst's own size must be zero, else
/// MST_ERR_UNSUPPORTED (the caller asks for something this version does not have).
/// `None` for NULL.
pub(crate) fn read_in<T: InStruct>(p: *const T, name: &str) -> Result<Option<T>> {
    if p.is_null() {
        return Ok(None);
    }
    let size = caller_size(p, name)?;
    let ours = std::mem::size_of::<T>();
    // SAFETY: the caller promises `size` readable bytes at `p` for the call.
    let caller = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), size) };
    if let Some(at) = caller.get(ours..).and_then(|tail| tail.iter().position(|&b| b != 0)) {
        return Err(err!(
            Unsupported,
            "`{name}` ({}, struct_size {size}) has a nonzero byte at offset {}, past the {ours} bytes libmst {} knows: it asks for something this version does not have",
            T::NAME,
            ours + at,
            env!("CARGO_PKG_VERSION")
        ));
    }
    let mut value = std::mem::MaybeUninit::<T>::zeroed();
    // SAFETY: min(size, ours) bytes fit both; all-zero is a valid T (InStruct's contract)
    // and the copied prefix is the caller's T, field for field.
    unsafe {
        std::ptr::copy_nonoverlapping(caller.as_ptr(), value.as_mut_ptr().cast::<u8>(), size.min(ours));
        Ok(Some(value.assume_init()))
    }
}

/// As `read_in`, NULL being MST_ERR_NULL_ARG.
pub(crate) fn read_in_required<T: InStruct>(p: *const T, name: &'static str) -> Result<T> {
    read_in(p, name)?.ok_or_else(|| err!(NullArg, "`{name}` is NULL"))
}

/// An out-struct the caller sized, checked before any work; `write` fills it last.
pub(crate) struct OutStruct<T> {
    p: *mut T,
    size: usize,
}

impl<T: SizedStruct> OutStruct<T> {
    /// MST_ERR_NULL_ARG for NULL, MST_ERR_INVALID_ARG for a struct_size below its first size.
    pub(crate) fn new(p: *mut T, name: &'static str) -> Result<Self> {
        Self::optional(p, name)?.ok_or_else(|| err!(NullArg, "`{name}` is NULL"))
    }

    /// As `new`; None for NULL (an out-struct the caller does not want).
    pub(crate) fn optional(p: *mut T, name: &'static str) -> Result<Option<Self>> {
        if p.is_null() {
            return Ok(None);
        }
        Ok(Some(OutStruct { p, size: caller_size(p, name)? }))
    }

    /// Writes min(caller's size, libmst's size) bytes of `value`, never more, leaving
    /// struct_size as the caller set it.
    pub(crate) fn write(self, value: T) {
        let n = self.size.min(std::mem::size_of::<T>());
        let skip = std::mem::size_of::<u32>();
        // SAFETY: the caller promises `size` writable bytes at `p`; `value` has
        // size_of::<T>() bytes; the two do not overlap. A byte copy, as memcpy.
        unsafe {
            std::ptr::copy_nonoverlapping(
                (&value as *const T).cast::<u8>().add(skip),
                self.p.cast::<u8>().add(skip),
                n - skip,
            )
        }
    }
}

/// Gives the listed functions the symbol version MST_1.0, or with `version "MST_1.x":` first
/// that node (see build.rs, abi/libmst.map): a function added after 1.0 gets the version of
/// the release that added it. It must be in the file that defines them: `.symver` applies to a
/// definition in its own object file, and a module's items stay in one.
macro_rules! symver {
    (version $v:literal: $($f:ident),+ $(,)?) => {
        #[cfg(mst_symver)]
        std::arch::global_asm!($(concat!(".symver ", stringify!($f), ", ", stringify!($f), "@@@", $v, ", remove")),+);
    };
    ($($f:ident),+ $(,)?) => {
        $crate::ffi::support::symver!(version "MST_1.0": $($f),+);
    };
}
pub(crate) use symver;

/// A table of live handles of one type.
pub(crate) struct Table<T> {
    tag: u64,
    name: &'static str,
    slots: Mutex<Slots<T>>,
}

struct Slots<T> {
    entries: Vec<(u32, Option<T>)>,
    /// First in, first out: a freed slot is reused as late as possible, so a stale handle
    /// meets a new generation only after 2^32 reuses of its slot.
    free: std::collections::VecDeque<u32>,
}

// A handle is tag (8 bits) | generation (32 bits) | index + 1 (24 bits), in a pointer.
const _: () = assert!(usize::BITS == 64, "libmst handles need 64-bit pointers");
const INDEX_BITS: u32 = 24;
const INDEX_MASK: u64 = (1 << INDEX_BITS) - 1;
const GEN_MASK: u64 = u32::MAX as u64;

impl<T> Table<T> {
    pub(crate) const fn new(tag: u64, name: &'static str) -> Self {
        Table { tag, name, slots: Mutex::new(Slots { entries: Vec::new(), free: std::collections::VecDeque::new() }) }
    }

    fn lock(&self) -> MutexGuard<'_, Slots<T>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new handle for `value`; MST_ERR_NO_MEMORY past 16 million live handles of a type.
    pub(crate) fn insert<H>(&self, value: T) -> Result<*mut H> {
        let mut s = self.lock();
        let index = match s.free.pop_front() {
            Some(i) => i,
            None if (s.entries.len() as u64) < INDEX_MASK => {
                s.entries.push((0, None));
                (s.entries.len() - 1) as u32
            }
            None => return Err(err!(NoMemory, "16777215 {}s are open: free some", self.name)),
        };
        let e = &mut s.entries[index as usize];
        e.1 = Some(value);
        let raw = (self.tag << 56) | ((e.0 as u64 & GEN_MASK) << INDEX_BITS) | (index as u64 + 1);
        Ok(raw as usize as *mut H)
    }

    fn locate<'a>(&self, s: &'a mut Slots<T>, h: usize) -> Result<&'a mut Option<T>> {
        let raw = h as u64;
        if raw == 0 {
            return Err(err!(NullArg, "the {} handle is NULL", self.name));
        }
        if raw >> 56 != self.tag {
            return Err(err!(InvalidArg, "the handle {h:#x} is not a {}", self.name));
        }
        let index = (raw & INDEX_MASK) as usize;
        let gen = (raw >> INDEX_BITS) & GEN_MASK;
        match s.entries.get_mut(index.wrapping_sub(1)) {
            Some((g, v @ Some(_))) if *g as u64 & GEN_MASK == gen => Ok(v),
            Some(_) => Err(err!(InvalidState, "the {} {h:#x} was already freed", self.name)),
            None => Err(err!(InvalidArg, "the handle {h:#x} is not a {}", self.name)),
        }
    }

    /// Ends the handle and returns its value (to be dropped by the caller, outside the
    /// table's lock); the slot's next handle gets a new generation.
    pub(crate) fn remove<H>(&self, h: *const H) -> Result<T> {
        let mut s = self.lock();
        let value = self.locate(&mut s, h as usize)?.take().expect("located entries are live");
        let index = (h as usize as u64 & INDEX_MASK) as usize - 1;
        s.entries[index].0 = s.entries[index].0.wrapping_add(1);
        s.free.push_back(index as u32);
        Ok(value)
    }

    /// `_free`: NULL is MST_OK; otherwise `remove`, dropping the value outside the lock.
    pub(crate) fn free<H>(&self, h: *const H) -> Result<()> {
        if !h.is_null() {
            drop(self.remove(h)?);
        }
        Ok(())
    }

    /// Runs `f` on the handle's value under the table's lock: `f` must not block or call back
    /// into C. What it returns is dropped by the caller, outside the lock.
    pub(crate) fn update<H, R>(&self, h: *const H, f: impl FnOnce(&mut T) -> R) -> Result<R> {
        let mut s = self.lock();
        Ok(f(self.locate(&mut s, h as usize)?.as_mut().expect("located entries are live")))
    }
}

impl<T: Clone> Table<T> {
    /// A clone of the handle's value.
    pub(crate) fn get<H>(&self, h: *const H) -> Result<T> {
        let mut s = self.lock();
        Ok(self.locate(&mut s, h as usize)?.clone().expect("located entries are live"))
    }
}

/// Destroy-notify for callback `user_data`: called once, when the callback is replaced,
/// removed, or its object is freed, on the thread that does so (for a processor callback:
/// the callback thread). Never called under an internal lock.
pub type MstDestroyNotify = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

/// Wraps a C callback's user data so Rust closures can carry it across threads; the
/// destroy-notify runs when the wrapper drops.
pub(crate) struct UserData {
    ptr: *mut c_void,
    destroy: MstDestroyNotify,
}

// SAFETY: the C contract of every callback registration says user_data may be used from the
// library thread named in its doc; libmst only passes the pointer back, never dereferences it.
unsafe impl Send for UserData {}
// SAFETY: as above; shared access only copies the pointer value.
unsafe impl Sync for UserData {}

impl UserData {
    pub(crate) fn new(ptr: *mut c_void, destroy: MstDestroyNotify) -> Self {
        UserData { ptr, destroy }
    }

    pub(crate) fn ptr(&self) -> *mut c_void {
        self.ptr
    }
}

impl Drop for UserData {
    fn drop(&mut self) {
        if let Some(d) = self.destroy {
            // SAFETY: the caller registered `d` to be called once with this user_data.
            unsafe { d(self.ptr) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    struct H;

    #[test]
    fn handles_detect_null_foreign_and_stale_values() {
        static A: Table<u32> = Table::new(0x11, "A");
        static B: Table<u32> = Table::new(0x12, "B");
        let h: *mut H = A.insert(5).unwrap();
        assert_eq!(A.get(h).unwrap(), 5);
        assert_eq!(B.get(h as *const H).unwrap_err().kind, ErrorKind::InvalidArg);
        assert_eq!(A.get(std::ptr::null::<H>()).unwrap_err().kind, ErrorKind::NullArg);
        assert_eq!(A.update(h, |v| std::mem::replace(v, 7)).unwrap(), 5);
        assert_eq!(A.remove(h).unwrap(), 7);
        assert_eq!(A.get(h).unwrap_err().kind, ErrorKind::InvalidState);
        assert_eq!(A.update(h, |_| ()).unwrap_err().kind, ErrorKind::InvalidState);
        assert_eq!(A.free(h).unwrap_err().kind, ErrorKind::InvalidState);
        assert!(A.free(std::ptr::null::<H>()).is_ok());
        let reused: *mut H = A.insert(6).unwrap();
        assert_ne!(reused, h, "a reused slot gets a new generation");
        assert_eq!(A.get(h).unwrap_err().kind, ErrorKind::InvalidState);
        assert_eq!(A.get(reused).unwrap(), 6);
        assert_eq!(A.get((0x11usize << 56 | 999) as *const H).unwrap_err().kind, ErrorKind::InvalidArg);
    }

    #[test]
    fn buffers_above_isize_max_are_invalid_arguments() {
        assert_eq!(check_buffer(true, 0, "data").unwrap_err().kind, ErrorKind::NullArg);
        assert_eq!(check_buffer(false, usize::MAX, "data").unwrap_err().kind, ErrorKind::InvalidArg);
        assert_eq!(check_buffer(false, isize::MAX as usize + 1, "data").unwrap_err().kind, ErrorKind::InvalidArg);
        assert!(check_buffer(false, isize::MAX as usize, "data").is_ok());
    }

    #[repr(C)]
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Grown {
        struct_size: u32,
        a: u32,
        b: u64,
    }
    sized_struct!(in Grown = 8);

    #[test]
    fn sized_structs_read_prefixes_and_refuse_unknown_tails() {
        // A caller built against the 1.0 struct (8 bytes): `b` reads as zero.
        let old = [8u32, 5, 0xdead, 0xbeef];
        let v = read_in(old.as_ptr().cast::<Grown>(), "options").unwrap().unwrap();
        assert_eq!((v.a, v.b), (5, 0));
        // A newer caller: a zero tail is fine, a nonzero one names its offset.
        let mut newer = [24u32, 5, 1, 0, 0, 0];
        assert_eq!(read_in(newer.as_ptr().cast::<Grown>(), "options").unwrap().unwrap().b, 1);
        newer[5] = 1;
        let e = read_in(newer.as_ptr().cast::<Grown>(), "options").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Unsupported);
        assert!(e.message.contains("offset 20"), "{}", e.message);
        let small = [4u32, 5];
        assert_eq!(read_in(small.as_ptr().cast::<Grown>(), "options").unwrap_err().kind, ErrorKind::InvalidArg);
        assert!(read_in(std::ptr::null::<Grown>(), "options").unwrap().is_none());
        assert_eq!(read_in_required(std::ptr::null::<Grown>(), "init").unwrap_err().kind, ErrorKind::NullArg);

        // Out: only the caller's size is written, struct_size is kept.
        let mut buf = [8u32, 0, 0x5e5e, 0x5e5e];
        OutStruct::new(buf.as_mut_ptr().cast::<Grown>(), "out").unwrap().write(Grown { struct_size: 99, a: 7, b: 9 });
        assert_eq!(buf, [8, 7, 0x5e5e, 0x5e5e]);
        let mut buf = [3u32, 0];
        assert_eq!(OutStruct::new(buf.as_mut_ptr().cast::<Grown>(), "out").err().unwrap().kind, ErrorKind::InvalidArg);
        assert_eq!(buf, [3, 0]);
    }
}
