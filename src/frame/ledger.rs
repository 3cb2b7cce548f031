//! The frame ledger: per source, how many frames each consumer holds.
//!
//! A consumer (a processor, and so each sink that reads through one: file sink, playback,
//! video output) is a [`Consumer`] registered with its track's source. Every frame delivered
//! to it is a handle attributed to it ([`Frame::attributed`](super::Frame::attributed)), and
//! its `held` counts those handles while they are open: in its queue, with a reader, with the
//! application. A clone of an attributed handle (`Frame::clone`, `mst_frame_clone`) is
//! attributed to the same consumer, since it keeps the same buffer open; a frame made from
//! one (a crop, a copy) is a new frame and attributed to nobody. Counting is one atomic add
//! per handle opened or closed, no allocation.
//!
//! The ledger keeps its consumers weakly: a consumer lives as long as its processor or any
//! handle attributed to it, so a freed processor whose frames are still open stays listed.
//!
//! Reports (warnings through `crate::log`), each naming the holders and their counts: a
//! processor closed or freed with frames it received still open (`Processor`); a track whose
//! last handle goes while its consumers' frames are open (`Track`); a camera whose capture
//! ends with frames open over its driver buffers (`source::v4l2`). The per-source breakdown
//! is `SourceCore::holdings`; through the C ABI, `MstProcessorStats.held` per processor and
//! `MstCameraStats.held` (the buffers, not the handles) per camera.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// One consumer of a source's frames and the frames it holds.
#[derive(Debug)]
pub struct Consumer {
    name: Mutex<String>,
    /// The id of the track it consumes, for the track's report.
    track: String,
    held: AtomicU64,
}

impl Consumer {
    pub(crate) fn new(name: String, track: &str) -> Arc<Consumer> {
        Arc::new(Consumer { name: Mutex::new(name), track: track.to_owned(), held: AtomicU64::new(0) })
    }

    /// How it is named in reports, e.g. "processor #3 on track 'Camera' (id ...)".
    pub fn name(&self) -> String {
        self.name.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn rename(&self, name: String) {
        *self.name.lock().unwrap_or_else(|p| p.into_inner()) = name;
    }

    /// The frame handles attributed to it that are open now.
    pub fn held(&self) -> u64 {
        self.held.load(Ordering::Acquire)
    }
}

/// A frame handle's consumer, if any: counted open while this lives.
pub(crate) struct Hold(Option<Arc<Consumer>>);

impl Hold {
    pub(crate) const NONE: Hold = Hold(None);

    pub(crate) fn on(consumer: &Arc<Consumer>) -> Hold {
        consumer.held.fetch_add(1, Ordering::AcqRel);
        Hold(Some(consumer.clone()))
    }

    pub(crate) fn consumer(&self) -> Option<&Arc<Consumer>> {
        self.0.as_ref()
    }
}

impl Clone for Hold {
    fn clone(&self) -> Hold {
        match &self.0 {
            Some(c) => Hold::on(c),
            None => Hold::NONE,
        }
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        if let Some(c) = &self.0 {
            c.held.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// One line of a source's ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holding {
    /// The consumer's name ([`Consumer::name`]).
    pub consumer: String,
    /// The frames it holds open.
    pub frames: u64,
}

/// A source's consumers.
#[derive(Default)]
pub(crate) struct Ledger {
    consumers: Mutex<Vec<Weak<Consumer>>>,
}

impl Ledger {
    /// Adds `consumer` (once per processor, never per frame), forgetting consumers gone since.
    pub(crate) fn register(&self, consumer: &Arc<Consumer>) {
        let mut list = self.consumers.lock().unwrap_or_else(|p| p.into_inner());
        list.retain(|w| w.strong_count() > 0);
        list.push(Arc::downgrade(consumer));
    }

    /// Who holds how many frames now, in the order they started consuming; consumers holding
    /// none are left out.
    pub(crate) fn holdings(&self) -> Vec<Holding> {
        self.holdings_where(|_| true)
    }

    /// [`holdings`](Self::holdings) of the consumers of the track with this id.
    pub(crate) fn holdings_of_track(&self, track: &str) -> Vec<Holding> {
        self.holdings_where(|c| c.track == track)
    }

    fn holdings_where(&self, keep: impl Fn(&Consumer) -> bool) -> Vec<Holding> {
        let list: Vec<Arc<Consumer>> =
            self.consumers.lock().unwrap_or_else(|p| p.into_inner()).iter().filter_map(Weak::upgrade).collect();
        list.iter()
            .filter(|c| keep(c))
            .filter_map(|c| {
                let frames = c.held();
                (frames > 0).then(|| Holding { consumer: c.name(), frames })
            })
            .collect()
    }
}

/// "processor #3 on track 'x' (id …): 2, file sink on …: 1", for reports.
pub(crate) fn describe(holdings: &[Holding]) -> String {
    holdings.iter().map(|h| format!("{}: {}", h.consumer, h.frames)).collect::<Vec<_>>().join(", ")
}
