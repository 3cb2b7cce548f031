//! Sources: what feeds tracks. A source delivers on its own thread (the generator on the
//! writer's thread) to every live track connected to it.

pub mod alsa;
pub mod fake;
pub mod generator;
pub mod reacquire;
pub mod synthetic;
pub mod v4l2;
pub(crate) mod worker;

use std::any::Any;
use std::sync::{Arc, Mutex, OnceLock};

use crate::constraints::{Capabilities, Settings};
use crate::error::Error;
use crate::frame::ledger::{Consumer, Holding, Ledger};
use crate::frame::{Frame, Kind};
use crate::sink::DiscardReason;
use crate::track::{AdaptCache, EndReason, TrackInner};

/// The seam for device backends (V4L2, ALSA) and synthetic sources: the part of a source that
/// produces. It pushes frames with `SourceCore::deliver` and ends with `SourceCore::end`.
pub trait SourceBackend: Send + Sync {
    /// The last track has ended: stop producing and release the device. May run on any
    /// thread, including the backend's own producing thread.
    fn stop(&self);
}

struct Connected {
    /// Replaced (never mutated) on connect/disconnect, so delivery iterates a snapshot
    /// without holding the lock and without allocating.
    tracks: Arc<Vec<Arc<TrackInner>>>,
    ended: bool,
}

/// The shared part of every source: its connected tracks and its ended state.
pub struct SourceCore {
    kind: Kind,
    label: String,
    capabilities: Capabilities,
    connected: Mutex<Connected>,
    backend: OnceLock<Box<dyn SourceBackend>>,
    muted: std::sync::atomic::AtomicBool,
    /// What new tracks report before their first frame (a device's negotiated mode).
    initial_settings: OnceLock<Settings>,
    /// The backend's own counters (capture statistics), for whoever holds a track.
    counters: OnceLock<Arc<dyn Any + Send + Sync>>,
    /// Why the source failed, when it ended with `EndReason::Error` and knew why.
    error: OnceLock<Error>,
    /// A camera's controls (Media Capture Image's properties), shared by all its tracks: the
    /// current session's, replaced when reacquire opens the device again.
    controls: Mutex<Option<Arc<crate::v4l2::controls::Controls>>>,
    /// Reacquire: asked before the tracks end because the device went away.
    supervisor: Mutex<Option<Arc<dyn reacquire::LostHandler>>>,
    /// Reacquire: how to open the device again, set by the device's constructor; a camera's
    /// constraints follow applyConstraints.
    reopen: Mutex<Option<reacquire::Reopen>>,
    /// Reacquire: the counters of the sources of the device's later sessions, whose frames
    /// this one relays; they add to this one's in the capture statistics. (Only the counters
    /// are kept, not the sources and their finished threads.)
    sessions: Mutex<Vec<Arc<dyn Any + Send + Sync>>>,
    /// The consumers of this source's frames (its tracks' processors and sinks). A later
    /// session of a reacquired device shares its outer source's, where the tracks are.
    ledger: Mutex<Arc<Ledger>>,
}

impl SourceCore {
    pub fn new(kind: Kind, label: impl Into<String>, capabilities: Capabilities) -> Arc<SourceCore> {
        Arc::new(SourceCore {
            kind,
            label: label.into(),
            capabilities,
            connected: Mutex::new(Connected { tracks: Arc::new(Vec::new()), ended: false }),
            backend: OnceLock::new(),
            muted: Default::default(),
            initial_settings: OnceLock::new(),
            counters: OnceLock::new(),
            error: OnceLock::new(),
            controls: Mutex::new(None),
            supervisor: Mutex::new(None),
            reopen: Mutex::new(None),
            sessions: Mutex::new(Vec::new()),
            ledger: Mutex::new(Arc::default()),
        })
    }

    /// Attaches a camera's controls: the first session's before its first track is handed
    /// out, a reacquired session's when it takes over.
    pub(crate) fn set_controls(&self, controls: Arc<crate::v4l2::controls::Controls>) {
        *self.controls.lock().unwrap_or_else(|p| p.into_inner()) = Some(controls);
    }

    pub(crate) fn controls(&self) -> Option<Arc<crate::v4l2::controls::Controls>> {
        self.controls.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Installs the producing backend (once); it is told to stop when the last track ends.
    pub fn set_backend(&self, backend: Box<dyn SourceBackend>) {
        if self.backend.set(backend).is_err() {
            debug_assert!(false, "a source gets one backend");
        }
    }

    /// Sets what tracks created from now on report as settings before their first frame, as
    /// browsers report a device's mode from the start. Once; later frames update each track.
    pub fn set_initial_settings(&self, settings: Settings) {
        let _ = self.initial_settings.set(settings);
    }

    /// Attaches the backend's counters (once), so they can be found from any of its tracks.
    pub(crate) fn set_counters(&self, counters: Arc<dyn Any + Send + Sync>) {
        let _ = self.counters.set(counters);
    }

    /// The counters a backend attached, if they are of type `T`.
    pub(crate) fn counters<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.counters.get().cloned().and_then(|c| c.downcast::<T>().ok())
    }

    pub(crate) fn initial_settings(&self) -> Settings {
        self.initial_settings.get().copied().unwrap_or_default()
    }

    /// Registers a consumer of this source's frames, in the ledger.
    pub(crate) fn add_consumer(&self, consumer: &Arc<Consumer>) {
        self.ledger().register(consumer);
    }

    pub(crate) fn ledger(&self) -> Arc<Ledger> {
        self.ledger.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The ledger: which consumers (processors, sinks) hold how many of this source's frames
    /// now, counting the frames delivered to each and its handles' clones; a freed processor
    /// whose frames are still open is listed until they close.
    pub fn holdings(&self) -> Vec<Holding> {
        self.ledger().holdings()
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connected> {
        self.connected.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn is_ended(&self) -> bool {
        self.lock().ended
    }

    pub fn is_muted(&self) -> bool {
        self.muted.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Connects a track; false when the source has already ended.
    pub(crate) fn attach(&self, track: Arc<TrackInner>) -> bool {
        let mut c = self.lock();
        if c.ended {
            return false;
        }
        let mut list = Vec::with_capacity(c.tracks.len() + 1);
        list.extend(c.tracks.iter().cloned());
        list.push(track);
        c.tracks = Arc::new(list);
        true
    }

    /// Disconnects a track. When it was the last one, the source ends (a generator's writable
    /// closes, a device is released).
    pub(crate) fn detach(&self, track: &TrackInner) {
        let stop = {
            let mut c = self.lock();
            let list: Vec<_> = c.tracks.iter().filter(|t| !std::ptr::eq(t.as_ref(), track)).cloned().collect();
            c.tracks = Arc::new(list);
            let last = c.tracks.is_empty() && !c.ended;
            if last {
                c.ended = true;
            }
            last
        };
        if stop {
            self.release();
            self.stop_supervisor();
        }
    }

    /// Stops the backend and lets go of the device's controls.
    fn release(&self) {
        if let Some(b) = self.backend.get() {
            b.stop();
        }
        if let Some(c) = self.controls() {
            c.close();
        }
    }

    /// None when no track has a sink, else whether every sink can take a frame without
    /// discarding one. For sources that may wait for their consumers.
    pub fn consumers_have_room(&self) -> Option<bool> {
        let tracks = self.lock().tracks.clone();
        tracks.iter().filter_map(|t| t.sinks_have_room()).reduce(|a, b| a && b)
    }

    /// True when every sink of every track has consumed what it was given.
    pub fn consumers_idle(&self) -> bool {
        let tracks = self.lock().tracks.clone();
        tracks.iter().all(|t| t.sinks_idle())
    }

    /// Sends a frame to every live connected track. Runs on the producer's thread. While
    /// muted the frame goes nowhere, and each track's sinks count it as discarded (muted).
    pub fn deliver(&self, frame: &Frame) {
        let tracks = self.lock().tracks.clone();
        if self.is_muted() {
            for t in tracks.iter() {
                t.discard(DiscardReason::Muted);
            }
            return;
        }
        let mut cache = AdaptCache::default();
        for t in tracks.iter() {
            t.deliver(frame, &mut cache);
        }
    }

    /// The source has ended: every connected track ends with `reason`. A device lost while a
    /// reacquire supervisor watches the source does not end it: the supervisor mutes it and
    /// waits for the device to come back, and the lost session's backend and controls are
    /// released.
    pub fn end(&self, reason: EndReason) {
        if reason == EndReason::DeviceLost {
            let supervisor = self.supervisor.lock().unwrap_or_else(|p| p.into_inner()).clone();
            if supervisor.is_some_and(|s| s.device_lost()) {
                self.release();
                return;
            }
        }
        let tracks = {
            let mut c = self.lock();
            c.ended = true;
            std::mem::take(&mut c.tracks)
        };
        for t in tracks.iter() {
            t.end(reason);
        }
        self.release();
        self.stop_supervisor();
    }

    fn stop_supervisor(&self) {
        let supervisor = self.supervisor.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(s) = supervisor {
            s.stop();
        }
    }

    /// Installs (Some) or removes (None) the reacquire supervisor, returning the previous one;
    /// false in .0 when the source has ended already.
    pub(crate) fn set_supervisor(
        &self,
        supervisor: Option<Arc<dyn reacquire::LostHandler>>,
    ) -> (bool, Option<Arc<dyn reacquire::LostHandler>>) {
        let c = self.lock();
        if c.ended && supervisor.is_some() {
            return (false, None);
        }
        let previous = std::mem::replace(&mut *self.supervisor.lock().unwrap_or_else(|p| p.into_inner()), supervisor);
        drop(c);
        (true, previous)
    }

    /// Records how to open this source's device again (its constructor calls it, once).
    pub(crate) fn set_reopen(&self, reopen: reacquire::Reopen) {
        let mut slot = self.reopen.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(reopen);
        }
    }

    /// How this source's device opens again now: a camera with the constraints a track of it
    /// last applied.
    pub(crate) fn reopen(&self) -> Option<reacquire::Reopen> {
        self.reopen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// A track of this source applied `constraints`: a reacquired camera opens with them.
    pub(crate) fn constraints_applied(&self, constraints: &crate::constraints::VideoConstraints) {
        if let Some(reacquire::Reopen::Camera { constraints: c, .. }) =
            self.reopen.lock().unwrap_or_else(|p| p.into_inner()).as_mut()
        {
            **c = *constraints;
        }
    }

    /// Adds the counters of `core`, a later session of this source's device (reacquire).
    /// Its ledger becomes this one's: its frames go to this source's tracks.
    pub(crate) fn add_session(&self, core: &SourceCore) {
        *core.ledger.lock().unwrap_or_else(|p| p.into_inner()) = self.ledger();
        if let Some(c) = core.counters.get() {
            self.sessions.lock().unwrap_or_else(|p| p.into_inner()).push(c.clone());
        }
    }

    /// The counters of type `T` of this source and of its device's later sessions
    /// (reacquire), first to last.
    pub(crate) fn session_counters<T: Send + Sync + 'static>(&self) -> Vec<Arc<T>> {
        let later = self.sessions.lock().unwrap_or_else(|p| p.into_inner()).clone();
        self.counters::<T>().into_iter().chain(later.into_iter().filter_map(|c| c.downcast::<T>().ok())).collect()
    }

    /// The source failed: it keeps `error` and every connected track ends with
    /// `EndReason::Error`.
    pub(crate) fn fail(&self, error: Error) {
        let _ = self.error.set(error);
        self.end(EndReason::Error);
    }

    /// Why the source failed (a caught panic's message), if it ended with `EndReason::Error`
    /// for a known reason.
    pub fn error(&self) -> Option<&Error> {
        self.error.get()
    }

    /// Mutes or unmutes every connected track (a source that cannot produce for a while).
    pub fn set_muted(&self, muted: bool) {
        if self.muted.swap(muted, std::sync::atomic::Ordering::AcqRel) == muted {
            return;
        }
        let tracks = self.lock().tracks.clone();
        for t in tracks.iter() {
            t.sync_muted();
        }
    }
}
