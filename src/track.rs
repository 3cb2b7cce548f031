//! `MediaStreamTrack`: id, kind, label, enabled, muted, readyState, contentHint, constraints,
//! settings, capabilities, clone, stop and the ended / mute callbacks.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::constraints::{aspect_setting, Capabilities, Decimator, Plan, RateEstimator, Settings, VideoConstraints};
use crate::error::{err, Result};
use crate::frame::{Frame, FrameMeta, Kind, Rect};
use crate::sink::{DiscardReason, Sink};
use crate::source::SourceCore;

/// Why a track ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// `stop()` was called on this track (or its last handle was released).
    Stopped,
    /// The source finished (a test pattern reached its frame count, a file ran out).
    SourceEnded,
    /// The generator's writable was closed.
    WritableClosed,
    /// The device disappeared while in use.
    DeviceLost,
    /// The source failed.
    Error,
}

/// `MediaStreamTrackState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadyState {
    Live,
    Ended,
}

/// Shared so a callback can run without any lock held while another thread replaces it, and
/// `Fn` so it may re-enter libmst (even change the state it reports) without deadlocking.
type Callback<T> = Arc<dyn Fn(T) + Send + Sync>;

#[derive(Default)]
struct Callbacks {
    ended: Option<Callback<EndReason>>,
    mute: Option<Callback<bool>>,
}

/// The `contentHint` values a video track accepts ("" = none), in index order.
const VIDEO_CONTENT_HINTS: [&str; 4] = ["", "motion", "detail", "text"];
/// The `contentHint` values an audio track accepts ("" = none), in index order.
const AUDIO_CONTENT_HINTS: [&str; 4] = ["", "speech", "speech-recognition", "music"];

fn content_hints(kind: Kind) -> &'static [&'static str; 4] {
    match kind {
        Kind::Video => &VIDEO_CONTENT_HINTS,
        Kind::Audio => &AUDIO_CONTENT_HINTS,
    }
}

/// Who reports the track's muted changes, and what was last reported.
struct MuteReport {
    /// A thread is calling the mute callback; it reports later changes itself when it returns.
    running: bool,
    /// The value the callback last saw (or the track started with).
    reported: bool,
}

struct Adaptation {
    constraints: VideoConstraints,
    decimator: Decimator,
    rate: RateEstimator,
    settings: Settings,
}

pub(crate) struct TrackInner {
    id: String,
    kind: Kind,
    source: Arc<SourceCore>,
    /// Handles and processors holding this track; at zero the track stops.
    users: AtomicUsize,
    enabled: AtomicBool,
    /// The source's muted state as this track last took it.
    muted: AtomicBool,
    mute_report: Mutex<MuteReport>,
    /// An index into `content_hints(kind)`.
    content_hint: AtomicU8,
    ended: AtomicBool,
    end_reason: Mutex<Option<EndReason>>,
    adaptation: Mutex<Adaptation>,
    sinks: Mutex<Arc<Vec<Arc<dyn Sink>>>>,
    callbacks: Mutex<Callbacks>,
}

fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A random (v4) UUID, as browsers use for track ids.
fn new_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut words = [0u64; 2];
    for w in &mut words {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        *w = h.finish();
    }
    let b = (words[0] as u128) << 64 | words[1] as u128;
    let b = (b & !(0xf << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let s = format!("{b:032x}");
    format!("{}-{}-{}-{}-{}", &s[0..8], &s[8..12], &s[12..16], &s[16..20], &s[20..32])
}

/// Up to 8 adapted frames per delivered source frame, shared by tracks that adapt alike.
#[derive(Default)]
pub(crate) struct AdaptCache {
    entries: [Option<(Plan, bool, Frame)>; 8],
}

impl AdaptCache {
    fn get_or(&mut self, plan: Plan, enabled: bool, make: impl FnOnce() -> Result<Frame>) -> Result<Frame> {
        if let Some((_, _, f)) = self.entries.iter().flatten().find(|(p, e, _)| *p == plan && *e == enabled) {
            return Ok(f.clone());
        }
        let f = make()?;
        if let Some(slot) = self.entries.iter_mut().find(|e| e.is_none()) {
            *slot = Some((plan, enabled, f.clone()));
        }
        Ok(f)
    }
}

/// What the track delivers for `plan`; black of the same geometry when disabled (made
/// directly at the output size: no scaling for a picture nobody sees).
fn adapt(frame: &Frame, plan: Plan, enabled: bool) -> Result<Frame> {
    let v = frame.video().expect("plans are made for video");
    match (plan, enabled) {
        (Plan::PassThrough, true) => Ok(frame.clone()),
        (Plan::PassThrough, false) => frame.blank_like(),
        (Plan::Crop(rect), true) => frame.with_visible_rect(rect, (rect.width, rect.height)),
        (Plan::Crop(Rect { width, height, .. }), false) | (Plan::Scale { width, height, .. }, false) => {
            Frame::black(v, width, height)
        }
        // Scaled when a pixel is first read (a wrapped frame at once: see video_scaled): a
        // consumer that never reads pixels costs none, and tracks that adapt alike share the
        // one frame (AdaptCache). The scaled frame holds its source until then (bounded by the
        // queues' maxBufferSize).
        (Plan::Scale { crop, width, height }, true) => Frame::video_scaled(frame, crop, width, height),
    }
}

impl TrackInner {
    fn new(
        source: &Arc<SourceCore>,
        constraints: VideoConstraints,
        enabled: bool,
        content_hint: u8,
        ended: Option<EndReason>,
    ) -> Arc<TrackInner> {
        let muted = source.is_muted();
        Arc::new(TrackInner {
            id: new_id(),
            kind: source.kind(),
            source: source.clone(),
            users: AtomicUsize::new(0),
            enabled: AtomicBool::new(enabled),
            muted: AtomicBool::new(muted),
            mute_report: Mutex::new(MuteReport { running: false, reported: muted }),
            content_hint: AtomicU8::new(content_hint),
            ended: AtomicBool::new(ended.is_some()),
            end_reason: Mutex::new(ended),
            adaptation: Mutex::new(Adaptation {
                constraints,
                decimator: Decimator::default(),
                rate: RateEstimator::default(),
                settings: source.initial_settings(),
            }),
            sinks: Mutex::new(Arc::new(Vec::new())),
            callbacks: Mutex::new(Callbacks::default()),
        })
    }

    /// The track's part of delivery: decimate, adapt (shared through `cache`), blank when
    /// disabled, update settings, and hand the result to every sink. A frame the track does
    /// not deliver is reported to every sink with its reason (decimated, failed).
    pub(crate) fn deliver(&self, frame: &Frame, cache: &mut AdaptCache) {
        if self.ended.load(Ordering::Acquire) {
            return;
        }
        match self.adapt_and_settle(frame, cache) {
            Ok(out) => {
                let sinks = lock(&self.sinks).clone();
                for s in sinks.iter() {
                    s.on_frame(&out);
                }
            }
            Err(reason) => self.discard(reason),
        }
    }

    /// Tells every sink that a frame meant for it was discarded before reaching it. Runs per
    /// frame on the delivering thread; allocates nothing.
    pub(crate) fn discard(&self, reason: DiscardReason) {
        if self.ended.load(Ordering::Acquire) {
            return;
        }
        let sinks = lock(&self.sinks).clone();
        for s in sinks.iter() {
            s.on_discarded(reason);
        }
    }

    /// What the track makes of `frame` (and the settings it now reports), or why it makes
    /// nothing.
    fn adapt_and_settle(&self, frame: &Frame, cache: &mut AdaptCache) -> std::result::Result<Frame, DiscardReason> {
        let enabled = self.enabled.load(Ordering::Acquire);
        let out = {
            let mut a = lock(&self.adaptation);
            let out = match frame.meta() {
                FrameMeta::Video(v) => {
                    let fps = a.constraints.target_frame_rate();
                    if !a.decimator.admit(v.timestamp, fps) {
                        return Err(DiscardReason::Decimated);
                    }
                    let plan = a.constraints.plan(v);
                    cache.get_or(plan, enabled, || adapt(frame, plan, enabled)).map_err(|_| DiscardReason::Failed)?
                }
                FrameMeta::Audio(_) if enabled => frame.clone(),
                FrameMeta::Audio(_) => {
                    cache.get_or(Plan::PassThrough, false, || frame.blank_like()).map_err(|_| DiscardReason::Failed)?
                }
            };
            let mode = a.constraints.effective_resize_mode();
            let rate = a.rate.update(out.timestamp(), out.video().and_then(|v| v.duration));
            let s = &mut a.settings;
            match out.meta() {
                FrameMeta::Video(v) => {
                    let r = v.visible_rect;
                    s.width = Some(r.width);
                    s.height = Some(r.height);
                    s.aspect_ratio = Some(aspect_setting(r.width, r.height));
                    s.frame_rate = rate;
                    s.resize_mode = Some(mode);
                }
                FrameMeta::Audio(m) => {
                    s.sample_rate = Some(m.sample_rate as f64);
                    s.channel_count = Some(m.number_of_channels);
                    s.sample_size = Some(m.format.bytes_per_sample() as u32 * 8);
                }
            }
            out
        };
        Ok(out)
    }

    /// Ends the track once: disconnects it from its source, ends its sinks, and calls the
    /// ended callback (on this thread, with no lock held).
    pub(crate) fn end(&self, reason: EndReason) {
        if self.ended.swap(true, Ordering::AcqRel) {
            return;
        }
        *lock(&self.end_reason) = Some(reason);
        self.source.detach(self);
        let sinks = std::mem::take(&mut *lock(&self.sinks));
        for s in sinks.iter() {
            s.on_ended();
        }
        let cb = lock(&self.callbacks).ended.take();
        if let Some(cb) = cb {
            cb(reason);
        }
    }

    /// None when no sink is connected, else whether every sink can take a frame now.
    pub(crate) fn sinks_have_room(&self) -> Option<bool> {
        let sinks = lock(&self.sinks).clone();
        (!sinks.is_empty()).then(|| sinks.iter().all(|s| s.has_room()))
    }

    pub(crate) fn sinks_idle(&self) -> bool {
        lock(&self.sinks).iter().all(|s| s.is_idle())
    }

    /// Takes the source's current muted state (not a value passed along, which concurrent
    /// changes could reorder) and reports it to the mute callback once per change of the
    /// settled value. Reports are serialized per track: if a callback is running (on another
    /// thread, or this one when it re-enters), this returns at once and that thread reports
    /// the new value when its callback returns, unless the value came back to what it
    /// reported. So callbacks never nest or overlap, never repeat a value, and the last one
    /// always carries the value that holds.
    pub(crate) fn sync_muted(&self) {
        let mut r = lock(&self.mute_report);
        // Under the lock: the last thread through here stores the latest source state.
        self.muted.store(self.source.is_muted(), Ordering::Release);
        if r.running {
            return;
        }
        loop {
            let muted = self.muted.load(Ordering::Acquire);
            if muted == r.reported || self.ended.load(Ordering::Acquire) {
                r.running = false;
                return;
            }
            r.reported = muted;
            r.running = true;
            drop(r);
            let cb = lock(&self.callbacks).mute.clone();
            if let Some(cb) = cb {
                let unwinding = StopReportingOnUnwind(self);
                cb(muted);
                std::mem::forget(unwinding);
            }
            r = lock(&self.mute_report);
        }
    }
}

/// Hands the reporting of muted changes back if a mute callback panics, so later changes are
/// still reported.
struct StopReportingOnUnwind<'a>(&'a TrackInner);

impl Drop for StopReportingOnUnwind<'_> {
    fn drop(&mut self) {
        lock(&self.0.mute_report).running = false;
    }
}

/// A reference to a `MediaStreamTrack`. `Clone` gives another reference to the same track;
/// the spec's `clone()` is [`Track::clone_track`]. When the last reference (handles and
/// processors alike) goes, the track stops.
pub struct Track {
    inner: Arc<TrackInner>,
}

impl Track {
    fn from_inner(inner: Arc<TrackInner>) -> Track {
        inner.users.fetch_add(1, Ordering::AcqRel);
        Track { inner }
    }

    /// A new track on `source`, ended at once if the source has ended.
    pub fn new(source: &Arc<SourceCore>) -> Track {
        Track::live(source, VideoConstraints::default(), true, 0)
    }

    fn live(source: &Arc<SourceCore>, constraints: VideoConstraints, enabled: bool, content_hint: u8) -> Track {
        let inner = TrackInner::new(source, constraints, enabled, content_hint, None);
        let track = Track::from_inner(inner.clone());
        if source.attach(inner) {
            // A change between `new` and `attach` reached no track: take the state as the one
            // this track starts with (nobody can have registered a callback yet).
            let mut r = lock(&track.inner.mute_report);
            let muted = source.is_muted();
            track.inner.muted.store(muted, Ordering::Release);
            r.reported = muted;
        } else {
            track.inner.ended.store(true, Ordering::Release);
            *lock(&track.inner.end_reason) = Some(EndReason::SourceEnded);
        }
        track
    }

    pub fn id(&self) -> &str {
        &self.inner.id
    }

    pub fn kind(&self) -> Kind {
        self.inner.kind
    }

    pub fn label(&self) -> &str {
        self.inner.source.label()
    }

    pub fn enabled(&self) -> bool {
        self.inner.enabled.load(Ordering::Acquire)
    }

    /// A disabled video track delivers black frames of the same geometry, a disabled audio
    /// track silence; its processors stay open and nothing is discarded (so processors'
    /// `discarded_disabled` stays 0).
    pub fn set_enabled(&self, enabled: bool) {
        self.inner.enabled.store(enabled, Ordering::Release);
    }

    pub fn muted(&self) -> bool {
        self.inner.muted.load(Ordering::Acquire)
    }

    /// `contentHint`: "" when unset, else one of the values `set_content_hint` accepts.
    pub fn content_hint(&self) -> &'static str {
        content_hints(self.kind())[self.inner.content_hint.load(Ordering::Acquire) as usize]
    }

    /// Sets `contentHint` for this track only: for video "", "motion", "detail" or "text",
    /// for audio "", "speech", "speech-recognition" or "music". Any other value (a browser
    /// ignores it) is `ErrorKind::InvalidArg` and changes nothing. libmst itself makes no use
    /// of the hint; it is kept for the application and copied by `clone_track`.
    pub fn set_content_hint(&self, hint: &str) -> Result<()> {
        let hints = content_hints(self.kind());
        let i = hints.iter().position(|h| *h == hint).ok_or_else(|| {
            err!(
                InvalidArg,
                "{hint:?} is not a contentHint of {} tracks (one of {})",
                self.kind().name(),
                hints.iter().map(|h| format!("{h:?}")).collect::<Vec<_>>().join(", ")
            )
        })?;
        self.inner.content_hint.store(i as u8, Ordering::Release);
        Ok(())
    }

    pub fn ready_state(&self) -> ReadyState {
        if self.inner.ended.load(Ordering::Acquire) {
            ReadyState::Ended
        } else {
            ReadyState::Live
        }
    }

    pub fn end_reason(&self) -> Option<EndReason> {
        *lock(&self.inner.end_reason)
    }

    /// `stop()`: ends this track only; the source ends when its last track has.
    pub fn stop(&self) {
        self.inner.end(EndReason::Stopped);
    }

    /// `clone()`: a new track on the same source, with its own id, lifetime, and copies of
    /// this one's constraints, enabled state and contentHint (each track's own from then on).
    pub fn clone_track(&self) -> Track {
        let constraints = lock(&self.inner.adaptation).constraints;
        let hint = self.inner.content_hint.load(Ordering::Acquire);
        match self.end_reason() {
            // The clone of an ended track is ended, for the same reason, and never connected.
            Some(reason) => {
                Track::from_inner(TrackInner::new(&self.inner.source, constraints, self.enabled(), hint, Some(reason)))
            }
            None => Track::live(&self.inner.source, constraints, self.enabled(), hint),
        }
    }

    /// `applyConstraints()`: checks against the capabilities first; on error nothing changes.
    /// Camera controls are set on the device at once (every track of the camera sees them).
    /// A camera reacquired later opens with the constraints last applied to any of its tracks.
    pub fn apply_constraints(&self, c: &VideoConstraints) -> Result<()> {
        self.capabilities().check(c)?;
        if let Some(controls) = self.inner.source.controls() {
            controls.apply(&c.controls)?;
        }
        self.inner.source.constraints_applied(c);
        let mut a = lock(&self.inner.adaptation);
        a.constraints = *c;
        a.decimator = Decimator::default();
        Ok(())
    }

    pub fn constraints(&self) -> VideoConstraints {
        lock(&self.inner.adaptation).constraints
    }

    /// `getSettings()`: what the latest delivered frame was.
    /// A camera's controls: as of its opening or the last applyConstraints.
    pub fn settings(&self) -> Settings {
        let mut s = lock(&self.inner.adaptation).settings;
        if let Some(controls) = self.inner.source.controls() {
            s.controls = controls.settings();
        }
        s
    }

    /// `getCapabilities()`: empty for audio generator tracks.
    pub fn capabilities(&self) -> Capabilities {
        match self.kind() {
            Kind::Video => {
                let mut caps = *self.inner.source.capabilities();
                if let Some(controls) = self.inner.source.controls() {
                    caps.controls = controls.capabilities();
                }
                caps
            }
            Kind::Audio => Capabilities::default(),
        }
    }

    /// Called once, on the thread that ends the track, with no lock held. Replaces (and drops)
    /// the previous callback. A track that has already ended never calls it.
    pub fn set_ended_callback(&self, cb: Option<Box<dyn Fn(EndReason) + Send + Sync>>) {
        let new = cb.map(Callback::<EndReason>::from);
        let old = std::mem::replace(&mut lock(&self.inner.callbacks).ended, new);
        drop(old);
    }

    /// Called with the new muted state, with no lock held, once per change of the settled
    /// value: on the thread that changes it, or, when a callback of this track is running at
    /// that moment (on another thread, or re-entered from the callback itself), on that thread
    /// right after it returns. Calls never nest or overlap and never repeat a value.
    pub fn set_mute_callback(&self, cb: Option<Box<dyn Fn(bool) + Send + Sync>>) {
        let new = cb.map(Callback::<bool>::from);
        let old = std::mem::replace(&mut lock(&self.inner.callbacks).mute, new);
        drop(old);
    }

    /// Connects a sink; false if the track has ended.
    pub(crate) fn add_sink(&self, sink: Arc<dyn Sink>) -> bool {
        let mut sinks = lock(&self.inner.sinks);
        if self.inner.ended.load(Ordering::Acquire) {
            return false;
        }
        let mut list = Vec::with_capacity(sinks.len() + 1);
        list.extend(sinks.iter().cloned());
        list.push(sink);
        *sinks = Arc::new(list);
        true
    }

    pub(crate) fn remove_sink(&self, sink: &dyn Sink) {
        let mut sinks = lock(&self.inner.sinks);
        let list: Vec<_> =
            sinks.iter().filter(|s| !std::ptr::addr_eq(Arc::as_ptr(s), sink as *const dyn Sink)).cloned().collect();
        *sinks = Arc::new(list);
    }

    pub fn source(&self) -> &Arc<SourceCore> {
        &self.inner.source
    }

    /// The ledger's report when the track's last handle goes while frames delivered to its
    /// processors and sinks are still open (each processor reported its own as it was freed:
    /// a processor holds its track, so the track goes after them).
    fn report_held(&self) {
        let holdings = self.inner.source.ledger().holdings_of_track(self.id());
        if holdings.is_empty() {
            return;
        }
        let total: u64 = holdings.iter().map(|h| h.frames).sum();
        crate::log::log(
            crate::log::Level::Warning,
            crate::log::Origin::Libmst,
            &format!(
                "track '{}' ({}) freed with {total} of its frames still open, by holder: {}",
                self.label(),
                self.id(),
                crate::frame::ledger::describe(&holdings)
            ),
        );
    }
}

impl Clone for Track {
    fn clone(&self) -> Track {
        Track::from_inner(self.inner.clone())
    }
}

impl Drop for Track {
    fn drop(&mut self) {
        if self.inner.users.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.inner.end(EndReason::Stopped);
            self.report_held();
        }
    }
}

impl std::fmt::Debug for Track {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Track({} {} {:?})", self.kind().name(), self.id(), self.ready_state())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use super::*;
    use crate::error::ErrorKind;
    use crate::source::generator::Generator;

    /// Records every mute callback and how many ran at once.
    #[derive(Default)]
    struct MuteLog {
        values: Mutex<Vec<bool>>,
        running: AtomicUsize,
        overlapped: AtomicBool,
    }

    impl MuteLog {
        fn install(self: &Arc<Self>, track: &Track, also: impl Fn(bool) + Send + Sync + 'static) {
            let log = self.clone();
            track.set_mute_callback(Some(Box::new(move |muted| {
                if log.running.fetch_add(1, Ordering::SeqCst) != 0 {
                    log.overlapped.store(true, Ordering::SeqCst);
                }
                lock(&log.values).push(muted);
                also(muted);
                std::thread::yield_now();
                log.running.fetch_sub(1, Ordering::SeqCst);
            })));
        }

        fn values(&self) -> Vec<bool> {
            lock(&self.values).clone()
        }
    }

    #[test]
    fn a_mute_callback_that_changes_the_state_is_not_reentered() {
        let g = Arc::new(Generator::new(Kind::Video));
        let log = Arc::new(MuteLog::default());
        let g2 = g.clone();
        log.install(g.track(), move |muted| {
            if muted {
                g2.set_muted(false);
            }
        });
        g.set_muted(true);
        assert_eq!(log.values(), vec![true, false], "each change reported once, in order");
        assert!(!log.overlapped.load(Ordering::SeqCst), "the second call ran inside the first");
        assert!(!g.track().muted());
        g.set_muted(false);
        assert_eq!(log.values(), vec![true, false], "no change, no call");
    }

    #[test]
    fn mute_callbacks_follow_the_settled_value_under_concurrent_changes() {
        for _ in 0..50 {
            let g = Arc::new(Generator::new(Kind::Video));
            let clone = g.track().clone_track();
            let logs = [Arc::new(MuteLog::default()), Arc::new(MuteLog::default())];
            logs[0].install(g.track(), |_| {});
            logs[1].install(&clone, |_| {});
            let go = Arc::new(AtomicBool::new(false));
            let writers: Vec<_> = (0..4)
                .map(|i| {
                    let (g, go) = (g.clone(), go.clone());
                    std::thread::spawn(move || {
                        while !go.load(Ordering::SeqCst) {
                            std::thread::yield_now();
                        }
                        for k in 0..50 {
                            g.set_muted((k + i) % 2 == 0);
                        }
                    })
                })
                .collect();
            go.store(true, Ordering::SeqCst);
            for w in writers {
                w.join().unwrap();
            }
            for (log, track) in logs.iter().zip([g.track(), &clone]) {
                let v = log.values();
                assert!(!log.overlapped.load(Ordering::SeqCst), "two mute callbacks of one track overlapped");
                assert!(v.windows(2).all(|w| w[0] != w[1]), "a value was reported twice in a row: {v:?}");
                assert_ne!(v.first(), Some(&false), "the first report repeats the initial state: {v:?}");
                assert_eq!(v.last().copied().unwrap_or(false), g.muted(), "the last report is not the settled state");
                assert_eq!(track.muted(), g.muted());
            }
        }
    }

    #[test]
    fn content_hint_takes_the_values_of_the_track_kind() {
        let v = Generator::new(Kind::Video);
        let a = Generator::new(Kind::Audio);
        assert_eq!((v.track().content_hint(), a.track().content_hint()), ("", ""));
        for hint in ["motion", "detail", "text", ""] {
            v.track().set_content_hint(hint).unwrap();
            assert_eq!(v.track().content_hint(), hint);
        }
        for hint in ["speech", "speech-recognition", "music", ""] {
            a.track().set_content_hint(hint).unwrap();
            assert_eq!(a.track().content_hint(), hint);
        }
        v.track().set_content_hint("detail").unwrap();
        a.track().set_content_hint("music").unwrap();
        for bad in ["music", "Motion", " motion", "speech", "none", "detail\0"] {
            let e = v.track().set_content_hint(bad).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidArg, "{bad:?}");
            assert!(e.message.contains("\"motion\""), "the message lists the values: {}", e.message);
        }
        for bad in ["motion", "text", "Speech", "speech recognition"] {
            assert_eq!(a.track().set_content_hint(bad).unwrap_err().kind, ErrorKind::InvalidArg, "{bad:?}");
        }
        assert_eq!(
            (v.track().content_hint(), a.track().content_hint()),
            ("detail", "music"),
            "refusals change nothing"
        );
    }

    #[test]
    fn a_clone_copies_the_content_hint_then_keeps_its_own() {
        let g = Generator::new(Kind::Video);
        g.track().set_content_hint("text").unwrap();
        let clone = g.track().clone_track();
        assert_eq!(clone.content_hint(), "text");
        clone.set_content_hint("motion").unwrap();
        assert_eq!((g.track().content_hint(), clone.content_hint()), ("text", "motion"));
        g.track().set_content_hint("").unwrap();
        assert_eq!(clone.content_hint(), "motion");
        // Also the clone of an ended track, which is never connected.
        clone.stop();
        assert_eq!(clone.clone_track().content_hint(), "motion");
    }
}
