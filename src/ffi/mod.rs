//! The C ABI. One file per header section; each function checks its arguments, converts,
//! calls the safe core and maps the result. Every body runs inside `ffi_call!`, so no panic
//! reaches C.
//!
//! Handles are not pointers to Rust objects: a handle encodes a type tag, a generation and a
//! slot index in that type's table. A NULL, foreign or freed handle is therefore detected and
//! reported (MST_ERR_NULL_ARG, MST_ERR_INVALID_ARG, MST_ERR_INVALID_STATE) in release builds
//! too, never dereferenced. Arguments are converted only through `support`'s checked macros
//! and struct readers.
//!
//! This file is the header's first section: status codes, error detail, version, kernel
//! threads.
//!
//! The exported functions are C entry points: C has no `unsafe`, and each one's pointer
//! contract (NULL checked, the rest valid for the call) is stated in mst.h. Marking them
//! `unsafe fn` would only move that contract into Rust callers' `unsafe` blocks, hence:
#![allow(clippy::not_unsafe_ptr_arg_deref)]

pub mod camera;
pub mod device;
pub mod fake;
pub mod file_sink;
pub mod frame;
pub mod generator;
pub mod log;
pub mod microphone;
pub mod playback;
pub mod processor;
pub mod reacquire;
pub mod source;
pub(crate) mod support;
pub mod track;
pub mod video_output;

use std::cell::RefCell;
use std::ffi::c_char;

use crate::error::{Error, ErrorKind};
pub use support::MstDestroyNotify;
pub(crate) use support::{bytes, bytes_mut, c_str, opt_c_str, out, sized_struct, symver, OutStruct, Table, UserData};

/// Status codes: `MST_OK` (0) or a negative error. Values are fixed and only ever appended.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum MstStatus {
    /// Success.
    MST_OK = 0,
    /// Nothing available now (a non-blocking read found no frame).
    MST_ERR_AGAIN = -1,
    /// A blocking call's timeout passed.
    MST_ERR_TIMEOUT = -2,
    /// The track or processor has ended; no more frames will come.
    MST_ERR_ENDED = -3,
    /// mst_processor_wakeup() interrupted a blocking read.
    MST_ERR_INTERRUPTED = -4,
    /// A required pointer argument was NULL.
    MST_ERR_NULL_ARG = -10,
    /// An argument is outside its domain, or a handle is of another type.
    MST_ERR_INVALID_ARG = -11,
    /// The spec's TypeError: a frame of the wrong kind, an unknown kind, a closed frame
    /// written to a generator, a write to a closed or errored writable, an invalid track given
    /// to a processor, a maxBufferSize outside unsigned short.
    MST_ERR_TYPE = -12,
    /// The object's state forbids the call (a closed frame, a freed handle, a read while a
    /// processor callback is set).
    MST_ERR_INVALID_STATE = -13,
    /// WebCodecs' RangeError: an offset, count, plane index or buffer size out of range.
    MST_ERR_RANGE = -14,
    /// No such device.
    MST_ERR_NO_DEVICE = -20,
    /// The device is in use.
    MST_ERR_BUSY = -21,
    /// An I/O error (file, device, system call).
    MST_ERR_IO = -22,
    /// The spec's OverconstrainedError; mst_last_error_constraint() names the property.
    MST_ERR_OVERCONSTRAINED = -23,
    /// Valid but not supported by this build or device.
    MST_ERR_UNSUPPORTED = -24,
    /// Out of memory or threads.
    MST_ERR_NO_MEMORY = -25,
    /// A bug: a panic inside libmst was caught at the boundary. The object involved may be
    /// unusable; the process is not.
    MST_ERR_PANIC = -30,
}

use MstStatus::*;

impl MstStatus {
    pub(crate) fn from_kind(kind: ErrorKind) -> MstStatus {
        match kind {
            ErrorKind::Again => MST_ERR_AGAIN,
            ErrorKind::Timeout => MST_ERR_TIMEOUT,
            ErrorKind::Ended => MST_ERR_ENDED,
            ErrorKind::Interrupted => MST_ERR_INTERRUPTED,
            ErrorKind::NullArg => MST_ERR_NULL_ARG,
            ErrorKind::InvalidArg => MST_ERR_INVALID_ARG,
            ErrorKind::Type => MST_ERR_TYPE,
            ErrorKind::InvalidState => MST_ERR_INVALID_STATE,
            ErrorKind::Range => MST_ERR_RANGE,
            ErrorKind::NoDevice => MST_ERR_NO_DEVICE,
            ErrorKind::Busy => MST_ERR_BUSY,
            ErrorKind::Io => MST_ERR_IO,
            ErrorKind::Overconstrained => MST_ERR_OVERCONSTRAINED,
            ErrorKind::Unsupported => MST_ERR_UNSUPPORTED,
            ErrorKind::NoMemory => MST_ERR_NO_MEMORY,
            ErrorKind::Panic => MST_ERR_PANIC,
        }
    }

    const ALL: [MstStatus; 17] = [
        MST_OK,
        MST_ERR_AGAIN,
        MST_ERR_TIMEOUT,
        MST_ERR_ENDED,
        MST_ERR_INTERRUPTED,
        MST_ERR_NULL_ARG,
        MST_ERR_INVALID_ARG,
        MST_ERR_TYPE,
        MST_ERR_INVALID_STATE,
        MST_ERR_RANGE,
        MST_ERR_NO_DEVICE,
        MST_ERR_BUSY,
        MST_ERR_IO,
        MST_ERR_OVERCONSTRAINED,
        MST_ERR_UNSUPPORTED,
        MST_ERR_NO_MEMORY,
        MST_ERR_PANIC,
    ];

    fn text(self) -> &'static std::ffi::CStr {
        match self {
            MST_OK => c"MST_OK: success",
            MST_ERR_AGAIN => c"MST_ERR_AGAIN: nothing available now",
            MST_ERR_TIMEOUT => c"MST_ERR_TIMEOUT: timed out",
            MST_ERR_ENDED => c"MST_ERR_ENDED: ended",
            MST_ERR_INTERRUPTED => c"MST_ERR_INTERRUPTED: interrupted by a wakeup",
            MST_ERR_NULL_ARG => c"MST_ERR_NULL_ARG: a required pointer was NULL",
            MST_ERR_INVALID_ARG => c"MST_ERR_INVALID_ARG: invalid argument",
            MST_ERR_TYPE => c"MST_ERR_TYPE: type error",
            MST_ERR_INVALID_STATE => c"MST_ERR_INVALID_STATE: invalid state",
            MST_ERR_RANGE => c"MST_ERR_RANGE: out of range",
            MST_ERR_NO_DEVICE => c"MST_ERR_NO_DEVICE: no such device",
            MST_ERR_BUSY => c"MST_ERR_BUSY: device busy",
            MST_ERR_IO => c"MST_ERR_IO: input/output error",
            MST_ERR_OVERCONSTRAINED => c"MST_ERR_OVERCONSTRAINED: constraints cannot be satisfied",
            MST_ERR_UNSUPPORTED => c"MST_ERR_UNSUPPORTED: not supported",
            MST_ERR_NO_MEMORY => c"MST_ERR_NO_MEMORY: out of memory",
            MST_ERR_PANIC => c"MST_ERR_PANIC: internal error (panic caught)",
        }
    }
}

struct LastError {
    /// The message with its NUL, reused across failures.
    message: Vec<u8>,
    constraint: Option<&'static std::ffi::CStr>,
}

thread_local! {
    static LAST_ERROR: RefCell<LastError> = RefCell::new(LastError { message: b"no error\0".to_vec(), constraint: None });
}

fn constraint_cstr(name: &str) -> Option<&'static std::ffi::CStr> {
    [
        c"width",
        c"height",
        c"frameRate",
        c"aspectRatio",
        c"resizeMode",
        c"sampleRate",
        c"channelCount",
        c"sampleSize",
        c"brightness",
        c"contrast",
        c"saturation",
        c"sharpness",
        c"exposureTime",
        c"colorTemperature",
        c"focusDistance",
        c"zoom",
        c"pan",
        c"tilt",
        c"exposureMode",
        c"whiteBalanceMode",
        c"focusMode",
    ]
    .into_iter()
    .find(|c| c.to_bytes() == name.as_bytes())
}

/// Records `e` as this thread's last error and returns its status.
pub(crate) fn fail(e: Error) -> MstStatus {
    let _ = LAST_ERROR.try_with(|l| {
        let mut l = l.borrow_mut();
        l.message.clear();
        l.message.extend(e.message.bytes().filter(|&b| b != 0));
        l.message.push(0);
        l.constraint = e.constraint.and_then(constraint_cstr);
    });
    MstStatus::from_kind(e.kind)
}

/// As `fail`, the message starting with the exported function that failed ("mst_track_stop:
/// the track handle is NULL"), so a message read later, or logged far from the call, still says
/// which call it explains. `here` is the type name of a function item declared inside it.
pub(crate) fn fail_in(here: &str, mut e: Error) -> MstStatus {
    let function = here.rsplit("::").nth(1).unwrap_or(here);
    e.message = format!("{function}: {}", e.message).into();
    fail(e)
}

/// Runs an exported function's body: `Ok(())` is MST_OK, `Err` records the message (prefixed
/// with the function's name), a panic becomes MST_ERR_PANIC. A panic's report and what
/// alsa-lib says meanwhile go to the log, not stderr.
macro_rules! ffi_call {
    ($body:block) => {{
        // Its type name is "mst::ffi::<file>::<exported function>::here": Rust has no __func__.
        fn here() {}
        match {
            let _entry = $crate::log::Entry::new();
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> $crate::error::Result<()> { $body }))
        } {
            Ok(Ok(())) => $crate::ffi::MstStatus::MST_OK,
            Ok(Err(e)) => $crate::ffi::fail_in(std::any::type_name_of_val(&here), e),
            Err(p) => $crate::ffi::fail_in(std::any::type_name_of_val(&here), $crate::error::Error::from_panic(p)),
        }
    }};
}
pub(crate) use ffi_call;

/// The library version, "MAJOR.MINOR.PATCH"; equals MST_VERSION_STRING of the header it was
/// built with (a program may compare the two to detect a library older than its header).
///
/// Ownership: a static string; never free it.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: none; never NULL.
/// Spec: libmst extension.
#[no_mangle]
pub extern "C" fn mst_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// A human-readable name and meaning of a status code ("MST_ERR_RANGE: out of range");
/// "MST_ERR_UNKNOWN: not a status code" for a value that is not an MstStatus.
///
/// Ownership: a static string; never free it.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: none; never NULL.
/// Spec: libmst extension.
#[no_mangle]
pub extern "C" fn mst_status_str(status: i32) -> *const c_char {
    MstStatus::ALL
        .iter()
        .find(|s| **s as i32 == status)
        .map_or(c"MST_ERR_UNKNOWN: not a status code".as_ptr(), |s| s.text().as_ptr())
}

/// Why the last failing call on this thread failed: a readable sentence with the value, path
/// or errno involved, after the failing function's name ("mst_track_stop: the MstTrack handle
/// is NULL"); "no error" before any failure. Successful calls leave it unchanged.
///
/// Ownership: owned by libmst, valid until the next failing call on this thread.
/// Thread safety: any thread; each thread has its own.
/// Blocking: no.
/// Errors: none; never NULL.
/// Spec: libmst extension (the message of the spec's exception).
#[no_mangle]
pub extern "C" fn mst_last_error_message() -> *const c_char {
    // try_with: during thread teardown the thread-local may be gone; never panic here.
    LAST_ERROR.try_with(|l| l.borrow().message.as_ptr().cast()).unwrap_or(c"no error".as_ptr())
}

/// After MST_ERR_OVERCONSTRAINED: the constrainable property that could not be satisfied
/// ("width", "height", "frameRate", "aspectRatio", "resizeMode", "sampleRate",
/// "channelCount", "sampleSize"; since 1.3 the camera controls: "brightness", "contrast",
/// "saturation", "sharpness", "exposureTime", "colorTemperature", "focusDistance", "zoom",
/// "pan", "tilt", "exposureMode", "whiteBalanceMode", "focusMode"); NULL after any other
/// failure. This thread's last failure
/// only.
///
/// Ownership: a static string; never free it.
/// Thread safety: any thread; each thread has its own.
/// Blocking: no.
/// Errors: none (NULL means "no constraint").
/// Spec: OverconstrainedError.constraint.
#[no_mangle]
pub extern "C" fn mst_last_error_constraint() -> *const c_char {
    LAST_ERROR.try_with(|l| l.borrow().constraint.map_or(std::ptr::null(), |c| c.as_ptr())).unwrap_or(std::ptr::null())
}

/// How many threads libmst's pixel kernels may use: 2 (the default) splits frames of 1080p
/// and more (scaling and YUV <-> RGB conversion), and the decode of MJPEG frames with restart
/// markers, between the calling thread and one helper thread ("mst-kernel-helper", started
/// on first use, idle otherwise); 1 keeps every kernel on the thread that runs it (the helper,
/// once started, then sleeps). Results are identical either way.
///
/// Ownership: nothing is passed.
/// Thread safety: any thread; kernels that start after the call follow it.
/// Blocking: no.
/// Errors: MST_ERR_RANGE (`threads` is neither 1 nor 2; nothing changes).
/// Spec: libmst extension.
#[no_mangle]
pub extern "C" fn mst_set_kernel_threads(threads: u32) -> MstStatus {
    ffi_call!({
        match threads {
            1 | 2 => {
                crate::convert::parallel::set_enabled(threads == 2);
                Ok(())
            }
            _ => Err(crate::error::err!(Range, "kernel threads {threads}: 1 or 2")),
        }
    })
}

/// The number of threads the pixel kernels may use (see mst_set_kernel_threads()): 1 or 2.
///
/// Ownership: `*out` is written on MST_OK only.
/// Thread safety: any thread.
/// Blocking: no.
/// Errors: MST_ERR_NULL_ARG (`out` is NULL).
/// Spec: libmst extension.
#[no_mangle]
pub extern "C" fn mst_get_kernel_threads(out: *mut u32) -> MstStatus {
    ffi_call!({
        *out!(out, "out") = if crate::convert::parallel::enabled() { 2 } else { 1 };
        Ok(())
    })
}

symver!(
    mst_version,
    mst_status_str,
    mst_last_error_message,
    mst_last_error_constraint,
    mst_set_kernel_threads,
    mst_get_kernel_threads
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_strings_and_last_error() {
        for s in MstStatus::ALL {
            // SAFETY: mst_status_str returns a static NUL-terminated string.
            let text = unsafe { std::ffi::CStr::from_ptr(mst_status_str(s as i32)) }.to_str().unwrap();
            assert!(text.starts_with(&format!("{s:?}")), "{text}");
        }
        assert_eq!(fail(crate::error::err!(Range, "plane {} of {}", 9, 3)), MST_ERR_RANGE);
        // SAFETY: never NULL, valid until the next failure on this thread.
        let msg = unsafe { std::ffi::CStr::from_ptr(mst_last_error_message()) };
        assert_eq!(msg.to_str().unwrap(), "plane 9 of 3");
        assert!(mst_last_error_constraint().is_null());
        let status = ffi_call!({ panic!("boom") });
        assert_eq!(status, MST_ERR_PANIC);
    }

    #[test]
    fn every_camera_control_can_be_named_to_c() {
        use crate::constraints::{Control, ModeControl};
        let names =
            Control::ALL.map(|c| c.property().name()).into_iter().chain(ModeControl::ALL.map(|m| m.property().name()));
        for name in names {
            assert_eq!(constraint_cstr(name).map(|c| c.to_str().unwrap()), Some(name));
        }
    }
}
