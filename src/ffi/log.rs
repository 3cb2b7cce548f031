//! The log (libmst 1.1): where what libmst and the libraries it calls have to say goes,
//! instead of the program's stderr. Without a callback nothing is printed.

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use super::{ffi_call, symver, MstDestroyNotify, MstStatus, UserData};
use crate::error::err;
use crate::log::{self, Level, Origin};

/// How much a log message matters, most severe first. Values are fixed and only ever
/// appended.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum MstLogLevel {
    /// Something failed.
    MST_LOG_ERROR = 1,
    /// Something went wrong that libmst works around or reports through a status as well (an
    /// alsa-lib error message is a warning: the failing call returns its own status).
    MST_LOG_WARNING = 2,
    /// Progress worth knowing.
    MST_LOG_INFO = 3,
    /// Detail for finding a fault.
    MST_LOG_DEBUG = 4,
}

impl MstLogLevel {
    fn from_level(l: Level) -> MstLogLevel {
        match l {
            Level::Error => MstLogLevel::MST_LOG_ERROR,
            Level::Warning => MstLogLevel::MST_LOG_WARNING,
            Level::Info => MstLogLevel::MST_LOG_INFO,
            Level::Debug => MstLogLevel::MST_LOG_DEBUG,
        }
    }
}

/// Receives one log message: its level, its origin ("libmst", or a library libmst calls:
/// "alsa-lib") and its text, one line without a newline. Both strings are valid for the call
/// only.
pub type MstLogCallback = Option<
    unsafe extern "C" fn(user_data: *mut c_void, level: MstLogLevel, origin: *const c_char, message: *const c_char),
>;

/// Sends libmst's log messages to `callback` (NULL: drop them, the default) instead of
/// printing them: alsa-lib's error messages (which alsa-lib would write to stderr) and
/// anything libmst itself has to say. Messages up to the level set with mst_set_log_level()
/// (MST_LOG_WARNING by default) are delivered. The callback runs on the thread that logs
/// (the caller's, or a libmst capture, playback, reacquire or device watcher thread), with no
/// libmst lock held; it may call libmst, this function included (on the device watcher
/// thread, stopping or freeing a reacquiring track does not wait for its reacquire thread,
/// which may be waiting for the watcher). It must not wait for another thread that is inside
/// a libmst call: stopping a track waits for its source's threads (a reacquiring one's,
/// possibly for the device watcher's too), one of which may be the thread logging.
/// alsa-lib's messages on the application's own threads, outside libmst calls, are left to
/// alsa-lib.
///
/// Ownership: libmst keeps `callback` and `user_data` until replaced; `destroy` (may be NULL)
/// is called once with `user_data` when the callback is replaced or removed, on the replacing
/// thread, or after the last message being delivered to it returns; at once when `callback`
/// is NULL.
/// Thread safety: any thread; messages logged after the call go to the new callback.
/// Blocking: no (it does not wait for messages being delivered to the old callback).
/// Errors: none.
/// Spec: libmst extension (since 1.1).
#[no_mangle]
pub extern "C" fn mst_set_log_callback(
    callback: MstLogCallback,
    user_data: *mut c_void,
    destroy: MstDestroyNotify,
) -> MstStatus {
    ffi_call!({
        let data = UserData::new(user_data, destroy);
        let receiver = callback.map(|f| -> Arc<log::Receiver> {
            Arc::new(move |level: Level, origin: Origin, text: &std::ffi::CStr| {
                // SAFETY: the caller registered `f` for messages with this user_data; both
                // strings are NUL-terminated and live for the call.
                unsafe { f(data.ptr(), MstLogLevel::from_level(level), origin.name().as_ptr(), text.as_ptr()) }
            })
        });
        // Without a callback, `data` drops here: destroy runs at once.
        drop(log::set_receiver(receiver));
        Ok(())
    })
}

/// The least severe level delivered to the log callback: MST_LOG_ERROR delivers errors only,
/// MST_LOG_DEBUG everything. The default is MST_LOG_WARNING.
///
/// Ownership: nothing is passed.
/// Thread safety: any thread; messages logged after the call follow it.
/// Blocking: no.
/// Errors: MST_ERR_INVALID_ARG (`level` is not an MstLogLevel; nothing changes).
/// Spec: libmst extension (since 1.1).
#[no_mangle]
pub extern "C" fn mst_set_log_level(level: i32) -> MstStatus {
    ffi_call!({
        log::set_max_level(match level {
            1 => Level::Error,
            2 => Level::Warning,
            3 => Level::Info,
            4 => Level::Debug,
            _ => return Err(err!(InvalidArg, "log level {level}: MST_LOG_ERROR (1) to MST_LOG_DEBUG (4)")),
        });
        Ok(())
    })
}

symver!(version "MST_1.1": mst_set_log_callback, mst_set_log_level);
