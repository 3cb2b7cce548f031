//! Sinks: what consumes a track. The processor is the spec's sink; file writers, device
//! playback and video output each read their own processor on a [`SinkThread`].

pub mod alsa;
pub mod file;
pub mod processor;
pub mod v4l2;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::error::{err, Error, ErrorKind, Result};
use crate::frame::Frame;
use crate::source::worker::StopSignal;
use crate::track::ReadyState;
use processor::Processor;

/// Why a frame meant for a sink never reached a reader. The first three happen in a
/// processor's queue (the frame was counted in its `total`); the others happen before it, in
/// the track or the source, so the frame never reached the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiscardReason {
    /// Evicted, oldest first, by a newer frame when the queue was full (the spec's
    /// handleNewFrame step 1).
    QueueFull,
    /// Replaced by a newer frame before any read took it (a latest-only processor).
    Superseded,
    /// Emptied from the queue when the processor closed or its track ended.
    Closed,
    /// Not sent: the source was muted (a generator's `muted`).
    Muted,
    /// Not sent because the track is disabled. A disabled track delivers black frames or
    /// silence instead, so nothing discards for this reason today.
    Disabled,
    /// Skipped by the track's frame-rate decimation (a `frameRate` constraint below the
    /// source's rate).
    Decimated,
    /// The track could not make the frame it delivers (scaling or blanking failed, e.g. out
    /// of memory).
    Failed,
}

impl DiscardReason {
    /// Every reason, in the order of the counters.
    pub const ALL: [DiscardReason; 7] = [
        DiscardReason::QueueFull,
        DiscardReason::Superseded,
        DiscardReason::Closed,
        DiscardReason::Muted,
        DiscardReason::Disabled,
        DiscardReason::Decimated,
        DiscardReason::Failed,
    ];

    /// True for the reasons that discard a frame already in a processor's queue.
    pub const fn in_queue(self) -> bool {
        matches!(self, DiscardReason::QueueFull | DiscardReason::Superseded | DiscardReason::Closed)
    }
}

// Counters are indexed by `reason as usize`: `ALL` must list the reasons in that order.
const _: () = {
    let mut i = 0;
    while i < DiscardReason::ALL.len() {
        assert!(DiscardReason::ALL[i] as usize == i);
        i += 1;
    }
};

/// A consumer connected to a track. Called on the source's delivering thread: implementations
/// must not block (queue and return).
pub trait Sink: Send + Sync {
    /// A frame the track delivers (already adapted to the track's constraints).
    fn on_frame(&self, frame: &Frame);
    /// A frame the track would have delivered was discarded before reaching the sink, for
    /// `reason` (one of the reasons that are not `in_queue`). Must not allocate: it runs per
    /// frame.
    fn on_discarded(&self, reason: DiscardReason) {
        let _ = reason;
    }
    /// The track has ended; no more frames will come.
    fn on_ended(&self);
    /// False while the sink would have to discard a frame to take another one. Sources that
    /// may wait (the unpaced test pattern and tone) pace themselves by it; live sources don't.
    fn has_room(&self) -> bool {
        true
    }
    /// True when nothing is queued: everything delivered has been consumed.
    fn is_idle(&self) -> bool {
        true
    }
}

/// The thread behind a sink that writes somewhere (a device, a file) and its lifecycle, shared
/// by ALSA playback, V4L2 output and the file sinks: the sink's own (draining) processor feeds
/// a thread that writes until the track ends, the stop signal is raised, or writing fails.
pub(crate) struct SinkThread {
    processor: Arc<Processor>,
    stop: Arc<StopSignal>,
    /// Why the thread stopped early, once it has.
    error: Arc<Mutex<Option<ErrorKind>>>,
    /// Set as the thread returns: from then on its queue is never emptied, so a writer
    /// waiting for room there must stop waiting.
    done: Arc<AtomicBool>,
    /// The thread until it is joined, then what it returned. Only stopping takes this lock, so
    /// reading the processor's counters or the error never waits for a join.
    joined: Mutex<Joined>,
    /// What the sink is, for "… has been closed".
    what: &'static str,
}

impl SinkThread {
    /// Starts `write` on a thread named `name`, reading `processor` and honouring `stop`. A
    /// panic in `write` is contained and becomes its error (Panic, with the panic's message);
    /// either way the error's kind is kept for [`error`](Self::error) as the thread ends.
    /// Errors: NoMemory (no thread).
    pub(crate) fn spawn(
        processor: Arc<Processor>,
        stop: Arc<StopSignal>,
        name: &str,
        what: &'static str,
        write: impl FnOnce(&Processor, &StopSignal) -> Result<()> + Send + 'static,
    ) -> Result<SinkThread> {
        let track = processor.track();
        processor.set_consumer_name(format!("{what} on track '{}' ({})", track.label(), track.id()));
        let error = Arc::new(Mutex::new(None));
        let done = Arc::new(AtomicBool::new(false));
        let (p2, s2, e2, d2) = (processor.clone(), stop.clone(), error.clone(), done.clone());
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                crate::log::libmst_thread();
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| write(&p2, &s2)))
                    .unwrap_or_else(|p| Err(Error::from_panic(p)));
                if let Err(e) = &r {
                    *e2.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.kind);
                }
                d2.store(true, Ordering::Release);
                r
            })
            .map_err(|e| err!(NoMemory, "spawning the {what} thread: {e}"))?;
        Ok(SinkThread {
            processor,
            stop,
            error,
            done,
            joined: Mutex::new(Joined { thread: Some(thread), outcome: Ok(()) }),
            what,
        })
    }

    pub(crate) fn processor(&self) -> &Processor {
        &self.processor
    }

    /// Why the thread stopped early (None while it runs, or when it was stopped or the
    /// track ended).
    pub(crate) fn error(&self) -> Option<ErrorKind> {
        *self.error.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// True once the thread has returned (a write error, the device lost, the ended track
    /// written out, or stopped): nothing more is written. Never waits.
    pub(crate) fn has_stopped(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }

    /// If the track has ended, `finish`; if it is live, `stop` now (what is queued is dropped).
    /// Once the thread is joined, what it returned, every time.
    pub(crate) fn close(&self) -> Result<()> {
        let mut joined = lock(&self.joined);
        if joined.thread.is_some() && self.processor.track().ready_state() != ReadyState::Ended {
            self.raise_stop();
        }
        self.join(&mut joined)
    }

    /// Waits for the thread to write out what the ended track delivered, then closes.
    /// Returns at once, with what the thread returned, if it has already been joined.
    pub(crate) fn finish(&self) -> Result<()> {
        self.join(&mut lock(&self.joined))
    }

    /// Raises the stop signal and joins the thread (what the thread does with what is queued
    /// is the sink's choice); the thread's error, if it failed earlier. InvalidState once it
    /// has been joined.
    pub(crate) fn stop(&self) -> Result<()> {
        let mut joined = lock(&self.joined);
        if joined.thread.is_none() {
            return Err(err!(InvalidState, "the {} has been closed", self.what));
        }
        self.raise_stop();
        self.join(&mut joined)
    }

    fn raise_stop(&self) {
        self.stop.raise();
        self.processor.wakeup();
    }

    fn join(&self, joined: &mut Joined) -> Result<()> {
        if let Some(t) = joined.thread.take() {
            joined.outcome = t.join().unwrap_or_else(|p| Err(Error::from_panic(p)));
            self.processor.close();
        }
        joined.outcome.clone()
    }
}

/// A sink thread until it is joined, then what it returned.
struct Joined {
    thread: Option<JoinHandle<Result<()>>>,
    outcome: Result<()>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Drop for SinkThread {
    fn drop(&mut self) {
        if lock(&self.joined).thread.is_some() {
            let _ = self.stop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Kind;
    use crate::sink::processor::EndPolicy;
    use crate::source::generator::Generator;

    #[test]
    fn a_panic_on_the_sink_thread_is_its_error() {
        let g = Generator::new(Kind::Video);
        let processor = Arc::new(Processor::with_end_policy(g.track(), 4, EndPolicy::Drain));
        let stop = StopSignal::new().unwrap();
        let run = SinkThread::spawn(processor, stop, "mst-test-sink", "test sink", |_, _| panic!("the writer broke"))
            .unwrap();
        let e = run.finish().unwrap_err();
        assert_eq!(e.kind, ErrorKind::Panic);
        assert!(e.message.contains("the writer broke"), "{e}");
        assert_eq!(run.error(), Some(ErrorKind::Panic));
        assert!(run.has_stopped());
        assert!(run.processor().is_closed());
        assert_eq!(run.stop().unwrap_err().kind, ErrorKind::InvalidState, "joined once");
    }
}
