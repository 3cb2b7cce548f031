//! Sinks: what consumes a track. The processor is the spec's sink; file writers (and, later,
//! device playback and output) are built on the same trait.

pub mod alsa;
pub mod file;
pub mod processor;
pub mod v4l2;

use crate::frame::Frame;

/// A consumer connected to a track. Called on the source's delivering thread: implementations
/// must not block (queue and return).
pub trait Sink: Send + Sync {
    /// A frame the track delivers (already adapted to the track's constraints).
    fn on_frame(&self, frame: &Frame);
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
    /// What the thread returned once joined, which every later `close` returns again.
    outcome: crate::error::Result<()>,
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
        SinkThread { processor, stop, thread: Some(thread), outcome: Ok(()), what }
    }

    /// If the track has ended, `finish`; if it is live, `stop` now (what is queued is dropped).
    /// Once the thread is joined, what it returned.
    pub(crate) fn close(&mut self) -> crate::error::Result<()> {
        if self.thread.is_none() {
            self.outcome.clone()
        } else if self.processor.track().ready_state() == crate::track::ReadyState::Ended {
            self.finish()
        } else {
            self.stop()
        }
    }

    /// Waits for the thread to write out what the ended track delivered, then closes.
    /// Returns at once, with what the thread returned, if it has already been joined.
    pub(crate) fn finish(&mut self) -> crate::error::Result<()> {
        match self.thread.take() {
            Some(t) => self.join(t),
            None => self.outcome.clone(),
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
        self.outcome = r.clone();
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
