//! The producing thread behind a device or synthetic source, and how it is stopped: one
//! implementation of "signal, then join unless we are that thread", shared by every source.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;

use crate::error::{err, Error, Result};
use crate::source::{SourceBackend, SourceCore};
use crate::sys::EventFd;
use crate::track::EndReason;

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

/// Starts the producing thread of `core`'s source, named `name`, and makes it the source's
/// backend (stopped and joined when the last track ends). `produce` runs on it with the
/// source (weak: the thread does not keep it alive) and the stop signal, until it returns
/// Ok(None) (stopped, or the source is gone) or the reason the source ended for. Then the
/// source ends with that reason, unless it was stopped meanwhile. An error, or a panic (which
/// is contained here), ends it with `EndReason::Error` and is kept ([`SourceCore::error`]).
/// Errors: Io (no eventfd), NoMemory (no thread).
pub(crate) fn spawn_producer(
    core: &Arc<SourceCore>,
    name: &str,
    produce: impl FnOnce(&Weak<SourceCore>, &StopSignal) -> Result<Option<EndReason>> + Send + 'static,
) -> Result<()> {
    let stop = StopSignal::new().map_err(|e| err!(Io, "creating an eventfd for the {name} thread: {e}"))?;
    let weak = Arc::downgrade(core);
    let stop2 = stop.clone();
    let thread = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            crate::log::libmst_thread();
            let ended = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| produce(&weak, &stop2)));
            let Some(core) = weak.upgrade() else { return };
            if stop2.is_raised() {
                return;
            }
            match ended {
                Ok(Ok(None)) => {}
                Ok(Ok(Some(reason))) => core.end(reason),
                Ok(Err(e)) => core.fail(e),
                Err(panic) => core.fail(Error::from_panic(panic)),
            }
        })
        .map_err(|e| err!(NoMemory, "spawning the {name} thread: {e}"))?;
    core.set_backend(Box::new(Worker::new(stop, thread)));
    Ok(())
}

/// CLOCK_MONOTONIC in microseconds: the clock capture timestamps use.
pub(crate) fn monotonic_us() -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec into a live local.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec * 1_000_000 + ts.tv_nsec / 1_000
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constraints::Capabilities;
    use crate::error::ErrorKind;
    use crate::frame::Kind;
    use crate::sink::processor::{Processor, Wait};
    use crate::track::Track;

    /// A track of a new source whose producer is `produce`, with a processor to wait on.
    fn run(
        produce: impl FnOnce(&Weak<SourceCore>, &StopSignal) -> Result<Option<EndReason>> + Send + 'static,
    ) -> (Arc<SourceCore>, Track, Processor) {
        let core = SourceCore::new(Kind::Video, "test", Capabilities::default());
        let track = Track::new(&core);
        let p = Processor::new(&track, 1);
        spawn_producer(&core, "mst-test-producer", produce).unwrap();
        (core, track, p)
    }

    fn wait_for_the_end(p: &Processor) {
        assert_eq!(p.read(Wait::Forever).unwrap_err().kind, ErrorKind::Ended);
    }

    #[test]
    fn a_panicking_producer_ends_its_tracks_with_error_and_keeps_the_message() {
        let (core, track, p) = run(|_, _| panic!("the producer broke"));
        wait_for_the_end(&p);
        assert_eq!(track.end_reason(), Some(EndReason::Error));
        let e = core.error().expect("the panic is kept");
        assert_eq!(e.kind, ErrorKind::Panic);
        assert!(e.message.contains("the producer broke"), "{e}");
    }

    #[test]
    fn a_failing_producer_keeps_its_error_and_a_finished_one_ends_the_source() {
        let (core, track, p) = run(|_, _| Err(err!(Io, "the disk is on fire")));
        wait_for_the_end(&p);
        assert_eq!(track.end_reason(), Some(EndReason::Error));
        assert_eq!(core.error().map(|e| (e.kind, e.message.as_ref())), Some((ErrorKind::Io, "the disk is on fire")));

        let (core, track, p) = run(|_, _| Ok(Some(EndReason::SourceEnded)));
        wait_for_the_end(&p);
        assert_eq!(track.end_reason(), Some(EndReason::SourceEnded));
        assert!(core.error().is_none());
    }

    #[test]
    fn what_a_producer_returns_after_a_stop_changes_nothing() {
        let (core, track, _p) = run(|_, stop| {
            while !stop.is_raised() {
                std::thread::park();
            }
            Err(err!(Io, "failed while stopping"))
        });
        track.stop();
        assert_eq!(track.end_reason(), Some(EndReason::Stopped));
        assert!(core.error().is_none(), "stop joins the thread, so its result is in");
    }
}
