//! The producing thread behind a device or synthetic source, and how it is stopped: one
//! implementation of "signal, then join unless we are that thread", shared by every source.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::source::SourceBackend;
use crate::sys::EventFd;

/// Tells a producing thread to stop: a flag to check, and an eventfd that becomes readable, so
/// a thread waiting in poll() on its device wakes at once. Threads that park are unparked too.
pub(crate) struct StopSignal {
    flag: AtomicBool,
    fd: EventFd,
}

impl StopSignal {
    pub(crate) fn new() -> io::Result<Arc<StopSignal>> {
        Ok(Arc::new(StopSignal { flag: AtomicBool::new(false), fd: EventFd::new()? }))
    }

    pub(crate) fn is_raised(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }

    pub(crate) fn raise(&self) {
        self.flag.store(true, Ordering::Release);
        self.fd.signal();
    }

    /// Readable once the signal is raised: poll it beside the device.
    pub(crate) fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// A source's producing thread. Stopping raises the signal and joins the thread, except from
/// the thread itself (a source that ends on its own, or a device lost): then the handle stays
/// for the next stop, or the drop, to join from another thread.
pub(crate) struct Worker {
    stop: Arc<StopSignal>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Worker {
    pub(crate) fn new(stop: Arc<StopSignal>, thread: JoinHandle<()>) -> Worker {
        Worker { stop, thread: Mutex::new(Some(thread)) }
    }
}

impl SourceBackend for Worker {
    fn stop(&self) {
        self.stop.raise();
        let mut slot = self.thread.lock().unwrap_or_else(|p| p.into_inner());
        let Some(t) = slot.as_ref() else { return };
        t.thread().unpark();
        if t.thread().id() == std::thread::current().id() {
            return;
        }
        let t = slot.take().expect("checked above");
        drop(slot);
        let _ = t.join();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// CLOCK_MONOTONIC in microseconds: the clock capture timestamps use.
pub(crate) fn monotonic_us() -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec into a live local.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec * 1_000_000 + ts.tv_nsec / 1_000
}
