//! Sinks: what consumes a track. The processor is the spec's sink; file writers (and, later,
//! device playback and output) are built on the same trait.

pub mod alsa;
pub mod file;
pub mod processor;
pub mod v4l2;

use crate::frame::Frame;

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

/// The thread behind a device sink and its lifecycle, shared by ALSA playback and V4L2 output:
/// the sink's own (draining) processor feeds a thread that writes to the device until the
/// track ends, the stop signal is raised, or the device fails.
pub(crate) struct SinkThread {
    processor: std::sync::Arc<processor::Processor>,
    stop: std::sync::Arc<crate::source::worker::StopSignal>,
    thread: Option<std::thread::JoinHandle<crate::error::Result<()>>>,
    /// What the sink is, for "… has been closed".
    what: &'static str,
}

impl SinkThread {
    pub(crate) fn new(
        processor: std::sync::Arc<processor::Processor>,
        stop: std::sync::Arc<crate::source::worker::StopSignal>,
        thread: std::thread::JoinHandle<crate::error::Result<()>>,
        what: &'static str,
    ) -> SinkThread {
        SinkThread { processor, stop, thread: Some(thread), what }
    }

    pub(crate) fn processor(&self) -> &processor::Processor {
        &self.processor
    }

    /// If the track has ended, `finish`; if it is live, `stop` now (what is queued is dropped).
    pub(crate) fn close(&mut self) -> crate::error::Result<()> {
        if self.processor.track().ready_state() == crate::track::ReadyState::Ended {
            self.finish()
        } else {
            self.stop()
        }
    }

    /// Waits for the thread to write out what the ended track delivered, then closes.
    /// Returns at once (Ok) if the thread has already been joined.
    pub(crate) fn finish(&mut self) -> crate::error::Result<()> {
        match self.thread.take() {
            Some(t) => self.join(t),
            None => Ok(()),
        }
    }

    /// Stops the thread now and joins it; the thread's error, if it failed earlier.
    pub(crate) fn stop(&mut self) -> crate::error::Result<()> {
        self.stop.raise();
        self.processor.wakeup();
        let t =
            self.thread.take().ok_or_else(|| crate::error::err!(InvalidState, "the {} has been closed", self.what))?;
        self.join(t)
    }

    fn join(&mut self, t: std::thread::JoinHandle<crate::error::Result<()>>) -> crate::error::Result<()> {
        let r = t.join().unwrap_or_else(|p| Err(crate::error::Error::from_panic(p)));
        self.processor.close();
        r
    }
}

impl Drop for SinkThread {
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.stop();
        }
    }
}
