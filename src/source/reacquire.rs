//! Reacquire: a camera or microphone track that outlives its device being unplugged. While the
//! device is gone the track is muted; when a device with the same stable identity is back, it
//! is opened again with the constraints last applied to a track of it (a camera's controls an
//! applyConstraints set are written to it again: it comes back with its defaults), and the
//! track unmutes and goes on; the camera's controls are then the new session's. It ends
//! (DeviceLost) only when a given time passes first, or when the application stops it.
//!
//! The supervisor sits above the sources: a source whose device goes away ends with
//! `EndReason::DeviceLost` as always, and [`SourceCore::end`] asks the supervisor first. The
//! first session's frames reach the tracks directly; a later session is a new source, opened
//! through the same entry point as the first ([`Reopen`]), with one internal track whose sink
//! ([`Relay`]) delivers its frames to the original source, so the application's tracks,
//! processors and their counters never change. A supervisor thread per source waits for the
//! device: it tries to open it when the device watcher ([`crate::device::watch`]) sees device
//! nodes come or go, and every [`FALLBACK`] besides (for a system without inotify, or a device
//! that becomes usable without an event), and not otherwise.
//!
//! Identity ([`identity`]): V4L2 ids already name a node by its device's bus_info, not its
//! /dev number; the driver, card name and bus_info QUERYCAP reports, and the serial of the USB
//! camera itself (never a hub's), must match too. ALSA ids name the card by its id
//! ("hw:CARD=Loopback,DEV=0"); its long name must match too (no serial is read for a sound
//! card). A fake device's label and what it produces must match.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::constraints::{AudioConstraints, VideoConstraints};
use crate::error::{err, Result};
use crate::frame::Frame;
use crate::sink::Sink;
use crate::source::v4l2::CameraOptions;
use crate::source::SourceCore;
use crate::track::{EndReason, Track};

/// How often a supervisor looks for its device while it is gone when nothing wakes it.
pub const FALLBACK: Duration = Duration::from_secs(2);

/// How a device source is opened again: what its constructor was given.
#[derive(Clone, Debug)]
pub(crate) enum Reopen {
    /// Boxed: video constraints (with the camera controls') are large.
    Camera {
        device_id: String,
        constraints: Box<VideoConstraints>,
        options: CameraOptions,
    },
    Microphone {
        device_id: String,
        constraints: AudioConstraints,
    },
}

impl Reopen {
    fn device_id(&self) -> &str {
        match self {
            Reopen::Camera { device_id, .. } | Reopen::Microphone { device_id, .. } => device_id,
        }
    }

    fn open(&self) -> Result<Track> {
        match self {
            Reopen::Camera { device_id, constraints, options } => {
                crate::source::v4l2::camera(device_id, constraints, options)
            }
            Reopen::Microphone { device_id, constraints } => crate::source::alsa::microphone(device_id, constraints),
        }
    }
}

/// What names the device `reopen` opens, whatever node or card number it has now.
/// Errors: NoDevice (no such device now), Unsupported (the "default" camera: which one that is
/// changes with what is plugged in).
fn identity(reopen: &Reopen) -> Result<String> {
    let device_id = reopen.device_id();
    if device_id.starts_with(crate::source::fake::ID_PREFIX) {
        crate::source::fake::identity(device_id)
    } else if let Reopen::Microphone { .. } = reopen {
        alsa_identity(device_id)
    } else if device_id.starts_with("v4l2:") {
        crate::device::v4l2::identity(device_id)
    } else {
        Err(err!(Unsupported, "reacquire needs a camera's own device id, not {device_id:?}"))
    }
}

/// An ALSA PCM's card: its id and long name ("Loopback|Loopback 1"). A PCM name that names no
/// card ("default", a plugin) has none to check: the empty identity, matching what opens.
fn alsa_identity(device_id: &str) -> Result<String> {
    let Some(card) = device_id.split([':', ',']).find_map(|p| p.strip_prefix("CARD=")) else {
        return Ok(String::new());
    };
    let gone = |e: alsa::Error| err!(NoDevice, "no sound card {card:?}: {e}");
    let ctl = alsa::ctl::Ctl::new(&format!("hw:CARD={card}"), false).map_err(gone)?;
    let info = ctl.card_info().map_err(gone)?;
    Ok(format!("{}|{}", info.get_id().unwrap_or_default(), info.get_longname().unwrap_or_default()))
}

/// Records how `track`'s device source opens again; device constructors call it.
pub(crate) fn remember(track: &Track, reopen: Reopen) {
    track.source().set_reopen(reopen);
}

/// The supervisor's side of a source: [`SourceCore`] calls these.
pub(crate) trait LostHandler: Send + Sync {
    /// The device went away: true when the supervisor takes over (the source stays, muted).
    fn device_lost(&self) -> bool;
    /// The source has ended or reacquire was turned off: stop waiting; returns whether the
    /// device was gone.
    fn stop(&self) -> bool;
    /// A new limit for the time the device may stay away.
    fn set_timeout(&self, timeout: Option<Duration>);
}

/// How long a track waits for its device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reacquire {
    /// A lost device ends the track at once (the default).
    Off,
    /// The track waits this long for the device, then ends with DeviceLost.
    For(Duration),
    /// The track waits until the device is back or it is stopped.
    Forever,
}

/// Makes `track`'s source (every track of it, clones included) reacquire its device after it
/// is unplugged, or stop doing so. Turned off while the device is gone, the tracks end with
/// DeviceLost at once.
/// Errors: Unsupported (not a camera or microphone track), InvalidState (the track has
/// ended), NoDevice (turning it on while the device is gone: its identity cannot be read),
/// Io or NoMemory (no supervisor thread).
pub fn set_reacquire(track: &Track, how: Reacquire) -> Result<()> {
    supervise(track, how, FALLBACK)
}

/// [`set_reacquire`], with the supervisor's fallback period (when it starts one).
fn supervise(track: &Track, how: Reacquire, fallback: Duration) -> Result<()> {
    let core = track.source();
    let Some(reopen) = core.reopen() else {
        return Err(err!(Unsupported, "`track` is not a camera or microphone track: only those reacquire a device"));
    };
    if track.end_reason().is_some() {
        return Err(err!(InvalidState, "`track` has ended"));
    }
    let timeout = match how {
        Reacquire::Off => {
            let (_, previous) = core.set_supervisor(None);
            if previous.is_some_and(|p| p.stop()) {
                core.end(EndReason::DeviceLost);
            }
            return Ok(());
        }
        Reacquire::For(t) => Some(t),
        Reacquire::Forever => None,
    };
    {
        let mut slot = SUPERVISORS.lock().unwrap_or_else(|p| p.into_inner());
        slot.retain(|s| s.upgrade().is_some_and(|s| !s.state().stopped));
        let live = slot.iter().filter_map(Weak::upgrade);
        if let Some(s) = live.into_iter().find(|s| std::ptr::eq(s.outer.as_ptr(), Arc::as_ptr(core))) {
            s.set_timeout(timeout);
            return Ok(());
        }
    }
    // Without the lock: reading an ALSA card's identity may log (alsa-lib's messages), and the
    // log receiver may call back into libmst, this function included.
    let identity = identity(&reopen)?;
    let supervisor = Supervisor::start(core, reopen, identity, timeout, fallback)?;
    let (installed, previous) = core.set_supervisor(Some(supervisor.clone()));
    if !installed {
        supervisor.stop();
        return Err(err!(InvalidState, "`track` has ended"));
    }
    // Another call for the same source installed one meanwhile: this one replaces it, and
    // takes over the wait if the device has gone since.
    if previous.is_some_and(|p| p.stop()) {
        supervisor.device_lost();
    }
    SUPERVISORS.lock().unwrap_or_else(|p| p.into_inner()).push(Arc::downgrade(&supervisor));
    Ok(())
}

/// The supervisors (each held by its source), to find one again when its timeout changes.
static SUPERVISORS: Mutex<Vec<Weak<Supervisor>>> = Mutex::new(Vec::new());

struct State {
    /// When the device went away, while it is gone.
    lost_at: Option<Instant>,
    stopped: bool,
    /// The internal track of the current session after the first, relayed to the source.
    inner: Option<Track>,
    timeout: Option<Duration>,
    /// Counts the device watcher's wakes.
    changes: u64,
}

struct Supervisor {
    outer: Weak<SourceCore>,
    reopen: Reopen,
    identity: String,
    /// Numbers sessions, so that the end of a session already left is not a loss.
    session: AtomicU64,
    state: Mutex<State>,
    wake: Condvar,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// How long the thread waits for a device change before it tries anyway.
    fallback: Duration,
    /// How many times the device was looked for (its identity read, then opened if it
    /// matched), for the tests to see that the thread does not spin.
    attempts: AtomicU64,
}

impl Supervisor {
    fn start(
        core: &Arc<SourceCore>,
        reopen: Reopen,
        identity: String,
        timeout: Option<Duration>,
        fallback: Duration,
    ) -> Result<Arc<Supervisor>> {
        let s = Arc::new(Supervisor {
            outer: Arc::downgrade(core),
            reopen,
            identity,
            session: AtomicU64::new(0),
            state: Mutex::new(State { lost_at: None, stopped: false, inner: None, timeout, changes: 0 }),
            wake: Condvar::new(),
            thread: Mutex::new(None),
            fallback,
            attempts: AtomicU64::new(0),
        });
        let me = s.clone();
        let thread = std::thread::Builder::new()
            .name("mst-reacquire".into())
            .spawn(move || {
                crate::log::libmst_thread();
                crate::log::AlsaErrorsToLog::for_this_thread();
                me.run();
            })
            .map_err(|e| err!(NoMemory, "spawning the reacquire thread: {e}"))?;
        *s.thread.lock().unwrap_or_else(|p| p.into_inner()) = Some(thread);
        Ok(s)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A session's device went away: mute and wake the thread. False once stopped.
    fn lost(&self, session: u64) -> bool {
        {
            let mut st = self.state();
            if st.stopped {
                return false;
            }
            if session != self.session.load(Ordering::Acquire) || st.lost_at.is_some() {
                return true;
            }
            st.lost_at = Some(Instant::now());
        }
        self.wake.notify_all();
        if let Some(core) = self.outer.upgrade() {
            core.set_muted(true);
        }
        true
    }

    fn run(self: &Arc<Self>) {
        loop {
            let mut st = self.state();
            while !st.stopped && st.lost_at.is_none() {
                st = self.wake.wait(st).unwrap_or_else(|p| p.into_inner());
            }
            if st.stopped {
                return;
            }
            let left = st.inner.take();
            drop(st);
            drop(left);
            if !self.wait_for_the_device() {
                return;
            }
        }
    }

    /// Tries to open the device until it opens (true) or the supervisor stops or times out
    /// (false; a timeout ends the source): at once, then after each device change the watcher
    /// sees, or [`FALLBACK`] without one. Without a watcher (no eventfd or thread) it tries
    /// every fallback period only.
    fn wait_for_the_device(self: &Arc<Self>) -> bool {
        let me = Arc::downgrade(self);
        let _watching = crate::device::watch::subscribe(Arc::new(move || {
            if let Some(s) = me.upgrade() {
                s.state().changes += 1;
                s.wake.notify_all();
            }
        }))
        .map_err(|e| {
            let why = format!("{}: waiting without the device watcher: {e}", self.reopen.device_id());
            crate::log::log(crate::log::Level::Warning, crate::log::Origin::Libmst, &why);
        });
        crate::log::log(
            crate::log::Level::Info,
            crate::log::Origin::Libmst,
            &format!("{} is gone: its tracks are muted until it is back", self.reopen.device_id()),
        );
        loop {
            let mut st = self.state();
            if st.stopped {
                return false;
            }
            let lost_at = st.lost_at.expect("gone");
            let seen = st.changes;
            if st.timeout.is_some_and(|t| lost_at.elapsed() >= t) {
                st.stopped = true;
                drop(st);
                if let Some(core) = self.outer.upgrade() {
                    crate::log::log(
                        crate::log::Level::Info,
                        crate::log::Origin::Libmst,
                        &format!("{} did not come back in time: its tracks end", self.reopen.device_id()),
                    );
                    core.end(EndReason::DeviceLost);
                }
                return false;
            }
            drop(st);
            let Some(core) = self.outer.upgrade() else { return false };
            if let Some(track) = self.try_open(&core) {
                let session = self.session.fetch_add(1, Ordering::AcqRel) + 1;
                core.add_session(track.source());
                if let Some(now) = track.source().controls() {
                    if let Some(then) = core.controls() {
                        if let Err(e) = now.carry_over(&then) {
                            crate::log::log(crate::log::Level::Warning, crate::log::Origin::Libmst, &e.to_string());
                        }
                    }
                    core.set_controls(now);
                }
                let mut st = self.state();
                if st.stopped {
                    return false;
                }
                st.lost_at = None;
                drop(st);
                core.set_muted(false);
                let relay = Arc::new(Relay { outer: Arc::downgrade(&core), supervisor: Arc::downgrade(self), session });
                if !track.add_sink(relay) {
                    // Gone again already: wait again.
                    self.lost(session);
                }
                let mut st = self.state();
                if st.stopped {
                    drop(st);
                    return false;
                }
                st.inner = Some(track);
                drop(st);
                crate::log::log(
                    crate::log::Level::Info,
                    crate::log::Origin::Libmst,
                    &format!("{} is back: its tracks go on", self.reopen.device_id()),
                );
                return true;
            }
            let tried = Instant::now();
            let mut st = self.state();
            loop {
                if st.stopped || st.changes != seen {
                    break;
                }
                // The limit as it is now: set_timeout may have changed it.
                let deadline = st.timeout.map(|t| lost_at + t);
                let until = deadline.map_or(tried + self.fallback, |d| d.min(tried + self.fallback));
                let now = Instant::now();
                if now >= until {
                    break;
                }
                st = self.wake.wait_timeout(st, until - now).unwrap_or_else(|p| p.into_inner()).0;
            }
        }
    }

    /// The device, opened again as `core`'s opens now, if it is there and the same one.
    fn try_open(&self, core: &SourceCore) -> Option<Track> {
        self.attempts.fetch_add(1, Ordering::Relaxed);
        match identity(&self.reopen) {
            Ok(id) if id == self.identity => {}
            _ => return None,
        }
        let track = core.reopen().unwrap_or_else(|| self.reopen.clone()).open().ok()?;
        // Read again: a different device may have taken the id between the two looks.
        match identity(&self.reopen) {
            Ok(id) if id == self.identity => Some(track),
            _ => None,
        }
    }
}

impl LostHandler for Supervisor {
    fn device_lost(&self) -> bool {
        self.lost(self.session.load(Ordering::Acquire))
    }

    fn stop(&self) -> bool {
        let (was_gone, inner) = {
            let mut st = self.state();
            let was_gone = st.lost_at.is_some() && !st.stopped;
            st.stopped = true;
            (was_gone, st.inner.take())
        };
        self.wake.notify_all();
        drop(inner);
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = thread {
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
        was_gone
    }

    fn set_timeout(&self, timeout: Option<Duration>) {
        self.state().timeout = timeout;
        self.wake.notify_all();
    }
}

/// The sink of a later session's internal track: its frames go to the original source.
struct Relay {
    outer: Weak<SourceCore>,
    supervisor: Weak<Supervisor>,
    session: u64,
}

impl Sink for Relay {
    fn on_frame(&self, frame: &Frame) {
        if let Some(core) = self.outer.upgrade() {
            core.deliver(frame);
        }
    }

    fn on_ended(&self) {
        // The session ended: the device went away (or failed: then too, the supervisor waits
        // for it to open again). A session the supervisor left itself is ignored by number.
        if let Some(s) = self.supervisor.upgrade() {
            s.lost(self.session);
        }
    }

    fn has_room(&self) -> bool {
        // A source that paces itself by its consumers waits for the application's sinks.
        self.outer.upgrade().and_then(|c| c.consumers_have_room()).unwrap_or(false)
    }

    fn is_idle(&self) -> bool {
        self.outer.upgrade().is_none_or(|c| c.consumers_idle())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constraints::VideoConstraints;
    use crate::source::fake::{FakeDevice, FakeInit};

    /// Only to tell a hang from slowness.
    const HANG: Duration = Duration::from_secs(30);

    fn supervisor_of(track: &Track) -> Arc<Supervisor> {
        let slot = SUPERVISORS.lock().unwrap();
        let live = slot.iter().filter_map(Weak::upgrade);
        live.into_iter().find(|s| std::ptr::eq(s.outer.as_ptr(), Arc::as_ptr(track.source()))).expect("supervised")
    }

    /// (attempts to open, device watcher wakes) so far.
    fn counts(s: &Supervisor) -> (u64, u64) {
        (s.attempts.load(Ordering::Relaxed), s.state().changes)
    }

    fn wait_until(what: &str, cond: impl Fn() -> bool) {
        let deadline = Instant::now() + HANG;
        while !cond() {
            assert!(Instant::now() < deadline, "waited {HANG:?} for {what}");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    #[test]
    fn a_supervisor_looks_for_its_device_when_the_watcher_wakes_it_and_not_otherwise() {
        let _turn = crate::device::watch::test_turn();
        let dev = FakeDevice::add(FakeInit::camera("re-wake")).unwrap();
        let track =
            crate::source::v4l2::camera("fake:re-wake", &VideoConstraints::default(), &Default::default()).unwrap();
        // No timer to fall back on: only the watcher can bring the device back.
        supervise(&track, Reacquire::Forever, Duration::from_secs(3600)).unwrap();
        let s = supervisor_of(&track);
        dev.remove();
        assert!(track.muted());
        wait_until("the first look, at the loss", || counts(&s).0 >= 1);

        // While nothing changes the thread sleeps. Other tests add and remove fake devices
        // meanwhile (each a wake): every look must have had a wake of its own.
        let (attempts, wakes) = counts(&s);
        std::thread::sleep(Duration::from_millis(1000));
        let (attempts_now, wakes_now) = counts(&s);
        assert!(
            attempts_now - attempts <= wakes_now - wakes,
            "{} looks for {} wakes in a second",
            attempts_now - attempts,
            wakes_now - wakes
        );

        let back = FakeDevice::add(FakeInit::camera("re-wake")).unwrap();
        wait_until("the re-added device to be taken", || !track.muted());
        assert!(counts(&s).1 > wakes_now, "woken by the watcher");
        track.stop();
        back.remove();
    }

    #[test]
    fn the_timeout_ends_the_track_without_waiting_for_a_wake() {
        let _turn = crate::device::watch::test_turn();
        let dev = FakeDevice::add(FakeInit::camera("re-wake-timeout")).unwrap();
        let track =
            crate::source::v4l2::camera("fake:re-wake-timeout", &VideoConstraints::default(), &Default::default())
                .unwrap();
        // An hour's fallback: only the timeout itself can end the wait.
        supervise(&track, Reacquire::For(Duration::from_millis(200)), Duration::from_secs(3600)).unwrap();
        let gone = Instant::now();
        dev.remove();
        wait_until("the timeout to end the track", || track.end_reason().is_some());
        assert!(gone.elapsed() >= Duration::from_millis(200), "ended before the timeout");
        assert_eq!(track.end_reason(), Some(EndReason::DeviceLost));
    }
}
