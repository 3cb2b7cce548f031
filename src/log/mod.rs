//! libmst's log: what the library would otherwise print (alsa-lib's error messages, above
//! all) goes to one application-set receiver, and nowhere without one. A library that writes
//! to a program's stderr unasked garbles its output and cannot be silenced.
//!
//! The receiver is called on the thread that logs, with no libmst lock held: it is taken out
//! of its slot (an `Arc` clone) before the call, so it may call back into libmst, even to
//! replace itself.

use std::cell::Cell;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Once, RwLock};

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

thread_local! {
    /// Above 0: a panic on this thread is libmst's (inside a C entry point, or on a thread
    /// libmst owns), and goes to the log instead of the panic hook's stderr.
    static LIBMST_CODE: Cell<u32> = const { Cell::new(0) };
}

static PANIC_HOOK: Once = Once::new();

/// Wraps the panic hook once: libmst's panics (bugs, caught at the C boundary and reported as
/// MST_ERR_PANIC or a track ended by an error) are logged at ERROR; any other panic goes to
/// the hook there was, so a Rust program using the crate keeps its own reports.
fn install_panic_hook() {
    // The hook cannot be changed while this thread unwinds; the next entry installs it.
    if PANIC_HOOK.is_completed() || std::thread::panicking() {
        return;
    }
    PANIC_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !LIBMST_CODE.try_with(|c| c.get() > 0).unwrap_or(false) {
                return previous(info);
            }
            let payload = info.payload();
            let what = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("unknown panic");
            let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
            log(Level::Error, Origin::Libmst, &format!("internal error (please report): {what}{at}"));
        }));
    });
}

/// For the threads libmst owns: a panic on them is a libmst bug, logged, never printed.
pub fn libmst_thread() {
    install_panic_hook();
    LIBMST_CODE.with(|c| c.set(c.get() + 1));
}

/// While alive (around a C entry point's body, or libmst code a libmst thread runs between
/// the application's callbacks), what goes wrong is libmst's to report: a panic is logged, not
/// printed, and so is what alsa-lib says on this thread.
pub struct Entry {
    _alsa: AlsaErrorsToLog,
}

impl Entry {
    pub fn new() -> Self {
        install_panic_hook();
        LIBMST_CODE.with(|c| c.set(c.get() + 1));
        Entry { _alsa: AlsaErrorsToLog::new() }
    }
}

impl Default for Entry {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        let _ = LIBMST_CODE.try_with(|c| c.set(c.get() - 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// The receiver is global: the tests that set one take turns.
    static RECEIVER_TURN: Mutex<()> = Mutex::new(());

    #[test]
    fn messages_reach_the_receiver_up_to_the_level_and_alsa_lib_errors_arrive_formatted() {
        let _turn = RECEIVER_TURN.lock().unwrap_or_else(|p| p.into_inner());
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
        // Other tests' caught panics (at ERROR) may be logged meanwhile: look for ours.
        assert!(got.contains(&(Level::Warning, Origin::Libmst, "kept".to_string())), "{got:?}");
        assert!(!got.iter().any(|m| m.2.contains("above the level")), "{got:?}");
        let alsa: Vec<_> = got.iter().filter(|m| m.1 == Origin::AlsaLib).collect();
        assert!(
            alsa.iter().any(|m| m.0 == Level::Warning && m.2.contains("mst_no_such_pcm_for_the_log_test")),
            "{got:?}"
        );
    }

    /// Inside libmst code a panic's report goes to the log (at ERROR, with its message and
    /// place); outside, the previous hook still has it (the log gets nothing).
    #[test]
    fn libmst_panics_are_logged_and_others_left_to_the_previous_hook() {
        let _turn = RECEIVER_TURN.lock().unwrap_or_else(|p| p.into_inner());
        static GOT: Mutex<Vec<(Level, String)>> = Mutex::new(Vec::new());
        let _old = set_receiver(Some(Arc::new(|level, _origin, text: &CStr| {
            GOT.lock().unwrap().push((level, text.to_str().unwrap().to_string()));
        })));
        std::thread::spawn(|| {
            let _libmst = Entry::new();
            let _ = std::panic::catch_unwind(|| panic!("mst-log-test inside"));
        })
        .join()
        .unwrap();
        std::thread::spawn(|| {
            let _ = std::panic::catch_unwind(|| panic!("mst-log-test outside"));
        })
        .join()
        .unwrap();
        set_receiver(None);
        let got = GOT.lock().unwrap();
        let ours: Vec<_> = got.iter().filter(|m| m.1.contains("mst-log-test")).collect();
        assert_eq!(ours.len(), 1, "{got:?}");
        assert_eq!(ours[0].0, Level::Error);
        assert!(ours[0].1.contains("mst-log-test inside") && ours[0].1.contains("src/log/mod.rs:"), "{ours:?}");
    }
}
