//! libmst's log: what the library would otherwise print (alsa-lib's error messages, above
//! all) goes to one application-set receiver, and nowhere without one. A library that writes
//! to a program's stderr unasked garbles its output and cannot be silenced.
//!
//! The receiver is called on the thread that logs, with no libmst lock held: it is taken out
//! of its slot (an `Arc` clone) before the call, so it may call back into libmst, even to
//! replace itself.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, RwLock};

/// How much a message matters; a lower value is more severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 1,
    Warning = 2,
    Info = 3,
    Debug = 4,
}

/// Where a message comes from: libmst itself, or a library it calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Libmst,
    AlsaLib,
}

impl Origin {
    pub fn name(self) -> &'static CStr {
        match self {
            Origin::Libmst => c"libmst",
            Origin::AlsaLib => c"alsa-lib",
        }
    }
}

/// A message's receiver. Dropping it (when it is replaced, and no message is being delivered
/// to it) drops whatever it owns: the C ABI's destroy-notify.
pub type Receiver = dyn Fn(Level, Origin, &CStr) + Send + Sync;

static RECEIVER: RwLock<Option<Arc<Receiver>>> = RwLock::new(None);
/// The least severe level delivered.
static MAX_LEVEL: AtomicI32 = AtomicI32::new(Level::Warning as i32);

/// Installs `receiver` (None: messages are dropped) and returns the previous one, for the
/// caller to drop outside any lock of its own.
pub fn set_receiver(receiver: Option<Arc<Receiver>>) -> Option<Arc<Receiver>> {
    std::mem::replace(&mut *RECEIVER.write().unwrap_or_else(|p| p.into_inner()), receiver)
}

/// Messages up to `level` are delivered; the default is `Level::Warning`.
pub fn set_max_level(level: Level) {
    MAX_LEVEL.store(level as i32, Ordering::Relaxed);
}

pub fn max_level() -> Level {
    match MAX_LEVEL.load(Ordering::Relaxed) {
        1 => Level::Error,
        2 => Level::Warning,
        3 => Level::Info,
        _ => Level::Debug,
    }
}

/// Whether a message at `level` would reach a receiver: lets a caller skip formatting.
pub fn enabled(level: Level) -> bool {
    level as i32 <= MAX_LEVEL.load(Ordering::Relaxed) && RECEIVER.read().map_or(true, |r| r.is_some())
}

/// Delivers `message` to the receiver, if one is set and `level` is enabled. A NUL inside
/// `message` ends it there.
pub fn log(level: Level, origin: Origin, message: &str) {
    if level as i32 > MAX_LEVEL.load(Ordering::Relaxed) {
        return;
    }
    let Some(receiver) = RECEIVER.read().unwrap_or_else(|p| p.into_inner()).clone() else { return };
    let text: Vec<u8> = message.bytes().take_while(|&b| b != 0).chain([0]).collect();
    let text = CStr::from_bytes_with_nul(&text).expect("one NUL, at the end");
    receiver(level, origin, text);
}

mod alsa_errors {
    use super::*;

    pub(super) type Sink =
        unsafe extern "C" fn(file: *const c_char, line: c_int, func: *const c_char, err: c_int, message: *const c_char);

    extern "C" {
        // src/log/alsa_errors.c, built by build.rs.
        pub(super) fn mst_alsa_errors_quiet(sink: Sink) -> *mut c_void;
        pub(super) fn mst_alsa_errors_restore(previous: *mut c_void);
    }
}

/// alsa-lib's messages are WARNING: what fails, libmst reports itself (a status and
/// mst_last_error_message()); these say why in alsa-lib's words ("Unknown PCM default").
unsafe extern "C" fn from_alsa(
    file: *const c_char,
    line: c_int,
    func: *const c_char,
    err: c_int,
    message: *const c_char,
) {
    // A message is a cold path, but it runs on threads that must never unwind into C.
    let _ = std::panic::catch_unwind(|| {
        if !enabled(Level::Warning) {
            return;
        }
        let text = |p: *const c_char| {
            // SAFETY: alsa-lib passes NUL-terminated strings (or NULL) valid for the call.
            (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy())
        };
        let mut out = format!(
            "{}:{}:({}) {}",
            text(file).unwrap_or_default(),
            line,
            text(func).unwrap_or_default(),
            text(message).unwrap_or_default()
        );
        if err != 0 {
            out += &format!(": {}", std::io::Error::from_raw_os_error(err.abs()));
        }
        log(Level::Warning, Origin::AlsaLib, &out);
    });
}

/// While alive, alsa-lib's messages on this thread go to the log instead of stderr; dropping
/// it restores the thread's previous handler.
pub struct AlsaErrorsToLog {
    previous: *mut c_void,
}

impl AlsaErrorsToLog {
    pub fn new() -> Self {
        // SAFETY: `from_alsa` has the C shim's sink signature and lives for the program.
        AlsaErrorsToLog { previous: unsafe { alsa_errors::mst_alsa_errors_quiet(from_alsa) } }
    }

    /// For threads libmst owns: their alsa-lib messages go to the log for good.
    pub fn for_this_thread() {
        std::mem::forget(Self::new());
    }
}

impl Default for AlsaErrorsToLog {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for AlsaErrorsToLog {
    fn drop(&mut self) {
        // SAFETY: `previous` is what alsa-lib returned for this thread's handler.
        unsafe { alsa_errors::mst_alsa_errors_restore(self.previous) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn messages_reach_the_receiver_up_to_the_level_and_alsa_lib_errors_arrive_formatted() {
        let got = Arc::new(Mutex::new(Vec::new()));
        let sink = got.clone();
        let old = set_receiver(Some(Arc::new(move |level, origin, text: &CStr| {
            sink.lock().unwrap().push((level, origin, text.to_str().unwrap().to_string()));
        })));
        assert!(old.is_none());
        log(Level::Warning, Origin::Libmst, "kept\0cut");
        log(Level::Debug, Origin::Libmst, "above the level");
        {
            let _quiet = AlsaErrorsToLog::new();
            let name = std::ffi::CString::new("mst_no_such_pcm_for_the_log_test").unwrap();
            assert!(alsa::pcm::PCM::open(&name, alsa::Direction::Capture, true).is_err());
        }
        set_receiver(None);
        let got = got.lock().unwrap();
        assert_eq!(got[0], (Level::Warning, Origin::Libmst, "kept".to_string()));
        let alsa: Vec<_> = got[1..].iter().filter(|m| m.1 == Origin::AlsaLib).collect();
        assert!(!alsa.is_empty(), "no alsa-lib message: {got:?}");
        assert!(alsa.iter().any(|m| m.2.contains("mst_no_such_pcm_for_the_log_test")), "{alsa:?}");
        assert!(got.iter().all(|m| m.0 <= Level::Warning), "{got:?}");
    }
}
