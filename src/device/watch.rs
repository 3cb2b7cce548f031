//! Device changes: the spec's `devicechange` event. One process-wide callback, called when the
//! set of devices [`super::enumerate`] lists has changed; the application enumerates again to
//! learn what changed, as a page does.
//!
//! A watcher thread, started when a callback is set (or libmst subscribes) and stopped and
//! joined when neither remains (see [`set_callback`] for the two cases it is not joined),
//! sleeps in poll(2) on inotify watches of /dev and /dev/snd, and on an eventfd that fake
//! devices ([`crate::source::fake`]) write to when they are added, unplugged or freed.
//!
//! What wakes it: in /dev, a `video*` node or the `snd` directory created, deleted, renamed or
//! given new attributes (udev sets a new node's permissions after creating it); in /dev/snd, a
//! `pcmC*` or `controlC*` node likewise; an inotify queue overflow; a fake device's write.
//! Nothing else: /dev/media*, /dev/v4l-subdev*, /dev/v4l/by-id links, and files anywhere else
//! (the ALSA configuration included) are not watched.
//!
//! When it looks: each wake starts or extends a burst; [`SETTLE`] (100 ms) after the burst's
//! last event, or [`MAX_DELAY`] (1 s) after its first if it never quiets, the watcher
//! enumerates once and compares the result with the list it saw last (each device's kind, id,
//! label and group, in any order). The callback is called, once for the burst however many
//! devices changed, only when the two differ. So a device that appears and goes again (or goes
//! and comes back with the same id and label) between two looks is no change, nor is a node
//! event that leaves the list as it was. Without inotify (no /dev, or out of watches) it
//! enumerates every half second instead, with the same comparison.
//!
//! What counts is what the list shows, and nothing else:
//! - V4L2: one entry per capture or output node that can be opened now. A device whose node
//!   stays while its formats, frame sizes, controls, input signal or name change is no change.
//!   A node that becomes openable without an event (it was busy) shows up at the next look for
//!   another reason; one that gains new permissions is seen (an attribute event).
//! - ALSA: "default" (always listed, whatever the configuration says it is), then each card's
//!   PCM devices ("hw:CARD=id,DEV=n") with a capture or playback stream; a card arriving or
//!   leaving is a change, as its nodes come and go together. Subdevices are not listed (a
//!   change among them is none), nor are the configuration's other PCMs (plugins, sound
//!   servers, dmix), whose changes are never reported.
//! - Fake devices: listed from when they are added until they are unplugged or freed.
//!
//! Changes made before [`set_callback`] returns are not reported to the callback it sets.
//!
//! Calls are made on the watcher thread only, one at a time, with no libmst lock held.
//!
//! libmst's own subscribers ([`subscribe`]; the reacquire supervisors, which wait for a device
//! to come back) keep the watcher running too, callback or not, and are woken after every
//! settled burst of events (even when the list looks the same: a node may only now have
//! become usable) and, without inotify, whenever the list changes.

use std::cell::Cell;
use std::collections::HashSet;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{DeviceInfo, DeviceKind};
use crate::error::{err, Result};
use crate::log::{self, Level, Origin};

/// The device-change callback.
pub type Callback = dyn Fn() + Send + Sync;

/// How long the events of one change must have been quiet before the watcher enumerates.
pub const SETTLE: Duration = Duration::from_millis(100);
/// A burst that never quiets (a flood of nodes) is looked at this long after it began.
pub const MAX_DELAY: Duration = Duration::from_secs(1);
/// The period of the fallback without inotify.
const POLL_PERIOD: Duration = Duration::from_millis(500);

struct Slot {
    callback: Option<Arc<Callback>>,
    /// libmst's own subscribers, by number.
    subscribers: Vec<(u64, Arc<Callback>)>,
    next_subscriber: u64,
    /// Counts set_callback calls: the callback set by call n has generation n.
    generation: u64,
    /// The generations of the callbacks watchers are calling now (a stopped watcher may still
    /// be in its last call while a new one makes its first).
    delivering: Vec<u64>,
    watcher: Option<Watcher>,
    /// Stopped watchers not joined yet: see [`stop_watcher`].
    retired: Vec<JoinHandle<()>>,
    /// A thread is starting a watcher, with this lock released.
    starting: bool,
    /// [`notify`] was called while a watcher was starting: it looks again once installed.
    wake_when_started: bool,
}

struct Watcher {
    thread: JoinHandle<()>,
    shared: Arc<Shared>,
}

/// What a watcher thread shares with the callers.
struct Shared {
    stop: AtomicBool,
    /// An eventfd: a write wakes the thread (a fake device changed, or stop).
    wake: OwnedFd,
}

impl Shared {
    fn wake(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to an eventfd we own. A full counter
        // (EAGAIN) already means a wake is pending.
        unsafe { libc::write(self.wake.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }
}

static SLOT: Mutex<Slot> = Mutex::new(Slot {
    callback: None,
    subscribers: Vec::new(),
    next_subscriber: 0,
    generation: 0,
    delivering: Vec::new(),
    watcher: None,
    retired: Vec::new(),
    starting: false,
    wake_when_started: false,
});
/// Signalled when a watcher finishes a call.
static DELIVERED: Condvar = Condvar::new();
/// Signalled when a thread is done starting a watcher (or failed to).
static STARTED: Condvar = Condvar::new();

thread_local! {
    /// Set on a watcher thread while it calls the callback.
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
    /// Set on a watcher thread during its first enumeration, which the thread starting it
    /// waits for.
    static FIRST_LOOK: Cell<bool> = const { Cell::new(false) };
}

fn lock() -> MutexGuard<'static, Slot> {
    SLOT.lock().unwrap_or_else(|p| p.into_inner())
}

/// Sets the callback (None: removes it) and returns the previous one, for the caller to drop
/// (its destroy-notify) when it likes. When this returns, the previous callback is not running
/// on any thread and will not be called again, except that when this is called from inside the
/// callback, that call runs on until it returns. Changes made before this returns are not
/// reported to the new callback; changes made after it returns are (the watcher has read the
/// list before the first callback is set). Removing the last callback or subscriber stops the
/// watcher and joins its thread, except from that thread itself or while a watcher is calling
/// the callback: those threads end by themselves and the next start joins them.
/// Errors: Io (no watcher thread or eventfd could be made; nothing changes).
pub fn set_callback(callback: Option<Arc<Callback>>) -> Result<Option<Arc<Callback>>> {
    let inside = IN_CALLBACK.with(Cell::get);
    let mut slot = lock();
    if callback.is_some() {
        slot = ensure_watcher(slot)?;
    } else if slot.subscribers.is_empty() {
        stop_watcher(&mut slot);
    }
    let previous = std::mem::replace(&mut slot.callback, callback);
    let replaced = slot.generation;
    slot.generation += 1;
    if !inside {
        while slot.delivering.iter().any(|&g| g <= replaced) {
            slot = DELIVERED.wait(slot).unwrap_or_else(|p| p.into_inner());
        }
    }
    let join = joinable(&mut slot);
    drop(slot);
    join_all(join);
    Ok(previous)
}

/// A libmst subscriber's place among the watcher's: dropping it unsubscribes.
pub(crate) struct Subscription(u64);

/// Calls `wake` (on the watcher thread, with no libmst lock held; it must only signal) after
/// each settled burst of device events, and without inotify whenever the list changes, until
/// the subscription is dropped. Errors: Io (no watcher thread or eventfd could be made).
pub(crate) fn subscribe(wake: Arc<Callback>) -> Result<Subscription> {
    let mut slot = ensure_watcher(lock())?;
    let id = slot.next_subscriber;
    slot.next_subscriber += 1;
    slot.subscribers.push((id, wake));
    Ok(Subscription(id))
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut slot = lock();
        slot.subscribers.retain(|(id, _)| *id != self.0);
        if slot.callback.is_some() || !slot.subscribers.is_empty() {
            return;
        }
        stop_watcher(&mut slot);
        let join = joinable(&mut slot);
        drop(slot);
        join_all(join);
    }
}

/// Stops the watcher, if one runs: it calls no one from now on, and its thread is joined by
/// whoever takes it from `retired` ([`joinable`]).
fn stop_watcher(slot: &mut Slot) {
    if let Some(w) = slot.watcher.take() {
        w.shared.stop.store(true, Ordering::Release);
        w.shared.wake();
        slot.retired.push(w.thread);
    }
}

/// The stopped watchers the caller may join (once it has released the lock): none while a
/// watcher is calling the application's callback, which may be waiting for the caller (a
/// track stopped from inside the callback waits for its reacquire supervisor, whose
/// subscription may be the last), and never the caller's own thread (the last subscription or
/// the callback removed from inside the callback). Those stay in `retired`: they end by
/// themselves once their call returns, and the next caller that may joins them.
fn joinable(slot: &mut Slot) -> Vec<JoinHandle<()>> {
    if !slot.delivering.is_empty() {
        return Vec::new();
    }
    let me = std::thread::current().id();
    let (mine, others) = std::mem::take(&mut slot.retired).into_iter().partition(|t| t.thread().id() == me);
    slot.retired = mine;
    others
}

fn join_all(threads: Vec<JoinHandle<()>>) {
    for t in threads {
        let _ = t.join();
    }
}

/// Wakes libmst's subscribers.
fn wake_subscribers(shared: &Shared) {
    let subscribers: Vec<_> = {
        let slot = lock();
        if shared.stop.load(Ordering::Acquire) {
            return;
        }
        slot.subscribers.iter().map(|(_, s)| s.clone()).collect()
    };
    for s in subscribers {
        s();
    }
}

/// Makes the watcher look again now (after [`SETTLE`]): fake devices call it when they are
/// added or leave the list. Nothing happens without a callback or subscriber.
pub fn notify() {
    let mut slot = lock();
    if let Some(w) = &slot.watcher {
        w.shared.wake();
    } else if slot.starting {
        slot.wake_when_started = true;
    }
}

/// Returns `slot` with a watcher installed, starting one if none is. The start happens with
/// the lock released: the new watcher's first enumeration (which the start waits for, so that
/// changes after it are reported) may call the log receiver, and that may call libmst, this
/// module included. A thread that finds another starting one waits for it, except the new
/// watcher itself (from its log receiver): it returns at once, and the watcher being started
/// is installed when its first enumeration ends. Errors: Io (no watcher thread or eventfd
/// could be made).
fn ensure_watcher(mut slot: MutexGuard<'static, Slot>) -> Result<MutexGuard<'static, Slot>> {
    loop {
        if slot.watcher.is_some() || (slot.starting && FIRST_LOOK.with(Cell::get)) {
            return Ok(slot);
        }
        if slot.starting {
            slot = STARTED.wait(slot).unwrap_or_else(|p| p.into_inner());
            continue;
        }
        slot.starting = true;
        let join = joinable(&mut slot);
        drop(slot);
        join_all(join);
        let started = start();
        let mut slot = lock();
        slot.starting = false;
        STARTED.notify_all();
        let wake = std::mem::take(&mut slot.wake_when_started);
        let watcher = started?;
        if wake {
            watcher.shared.wake();
        }
        slot.watcher = Some(watcher);
        return Ok(slot);
    }
}

fn start() -> Result<Watcher> {
    // SAFETY: eventfd takes no pointers; a valid fd is owned from here on.
    let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    if fd < 0 {
        return Err(err!(Io, "cannot watch devices: eventfd: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: fd was just created and is owned by nobody else.
    let wake = unsafe { OwnedFd::from_raw_fd(fd) };
    let shared = Arc::new(Shared { stop: AtomicBool::new(false), wake });
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let s = shared.clone();
    let thread = std::thread::Builder::new()
        .name("mst-devwatch".into())
        .spawn(move || run(s, ready_tx))
        .map_err(|e| err!(Io, "cannot start the device watcher thread: {e}"))?;
    // The first list is read before the callback is set: changes after that are reported.
    let _ = ready_rx.recv();
    Ok(Watcher { thread, shared })
}

/// What the callback compares: every listed device, whatever the order.
type Snapshot = HashSet<(DeviceKind, String, String, String)>;

fn snapshot() -> Option<Snapshot> {
    match super::enumerate() {
        Ok(list) => Some(list.into_iter().map(|d: DeviceInfo| (d.kind, d.device_id, d.label, d.group_id)).collect()),
        Err(e) => {
            log::log(Level::Warning, Origin::Libmst, &format!("device watcher: cannot enumerate: {e}"));
            None
        }
    }
}

/// When a burst of events is due to be looked at: [`SETTLE`] after its last event, at most
/// [`MAX_DELAY`] after its first.
#[derive(Debug, Default)]
pub struct Burst {
    span: Option<(Instant, Instant)>,
}

impl Burst {
    pub fn event(&mut self, now: Instant) {
        let first = self.span.map_or(now, |(f, _)| f);
        self.span = Some((first, now));
    }

    pub fn due(&self) -> Option<Instant> {
        self.span.map(|(first, last)| (last + SETTLE).min(first + MAX_DELAY))
    }

    pub fn clear(&mut self) {
        self.span = None;
    }
}

/// The inotify watches: /dev, and /dev/snd while it exists.
struct Inotify {
    fd: OwnedFd,
    dev: i32,
    snd: Option<i32>,
}

const MASK: u32 = libc::IN_CREATE | libc::IN_DELETE | libc::IN_ATTRIB | libc::IN_MOVED_FROM | libc::IN_MOVED_TO;

impl Inotify {
    fn new() -> Option<Inotify> {
        // SAFETY: takes no pointers; a valid fd is owned from here on.
        let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        if fd < 0 {
            return None;
        }
        // SAFETY: fd was just created and is owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let dev = add_watch(fd.as_raw_fd(), "/dev")?;
        let mut me = Inotify { fd, dev, snd: None };
        me.watch_snd();
        Some(me)
    }

    fn watch_snd(&mut self) {
        self.snd = add_watch(self.fd.as_raw_fd(), "/dev/snd");
    }

    /// Reads the pending events: whether one may be a device libmst lists.
    fn drain(&mut self) -> bool {
        let mut relevant = false;
        let mut buf = [0u8; 4096];
        loop {
            // SAFETY: reads into a live buffer of its length.
            let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                return relevant;
            }
            let mut at = 0usize;
            let head = std::mem::size_of::<libc::inotify_event>();
            while at + head <= n as usize {
                // SAFETY: the kernel wrote a whole event header here; read_unaligned copes
                // with the byte buffer's alignment.
                let ev: libc::inotify_event = unsafe { std::ptr::read_unaligned(buf[at..].as_ptr().cast()) };
                let name_bytes = &buf[at + head..(at + head + ev.len as usize).min(n as usize)];
                let name = name_bytes.split(|&b| b == 0).next().unwrap_or(&[]);
                at += head + ev.len as usize;
                if ev.mask & libc::IN_Q_OVERFLOW != 0 {
                    relevant = true;
                } else if ev.wd == self.dev {
                    if name == b"snd" {
                        if ev.mask & (libc::IN_CREATE | libc::IN_MOVED_TO) != 0 {
                            self.watch_snd();
                        }
                        relevant = true;
                    }
                    relevant |= name.starts_with(b"video");
                } else if Some(ev.wd) == self.snd {
                    if ev.mask & libc::IN_IGNORED != 0 {
                        self.snd = None;
                    }
                    relevant |= name.starts_with(b"pcmC") || name.starts_with(b"controlC");
                }
            }
        }
    }
}

fn add_watch(fd: RawFd, path: &str) -> Option<i32> {
    let c = CString::new(path).ok()?;
    // SAFETY: fd is an inotify fd; c is a NUL-terminated path.
    let wd = unsafe { libc::inotify_add_watch(fd, c.as_ptr(), MASK) };
    (wd >= 0).then_some(wd)
}

fn run(shared: Arc<Shared>, ready: std::sync::mpsc::Sender<()>) {
    log::libmst_thread();
    log::AlsaErrorsToLog::for_this_thread();
    FIRST_LOOK.with(|f| f.set(true));
    let mut inotify = Inotify::new();
    if inotify.is_none() {
        log::log(Level::Info, Origin::Libmst, "device watcher: no inotify on /dev, enumerating every 0.5 s");
    }
    let mut known = snapshot().unwrap_or_default();
    if log::enabled(Level::Debug) {
        log::log(Level::Debug, Origin::Libmst, &format!("device watcher: started, {} devices listed", known.len()));
    }
    FIRST_LOOK.with(|f| f.set(false));
    let _ = ready.send(());
    drop(ready);
    let mut burst = Burst::default();
    while !shared.stop.load(Ordering::Acquire) {
        let timeout = match (burst.due(), &inotify) {
            (Some(due), _) => due.saturating_duration_since(Instant::now()),
            (None, None) => POLL_PERIOD,
            (None, Some(_)) => Duration::from_secs(3600),
        };
        let mut fds = [
            libc::pollfd { fd: shared.wake.as_raw_fd(), events: libc::POLLIN, revents: 0 },
            libc::pollfd { fd: inotify.as_ref().map_or(-1, |i| i.fd.as_raw_fd()), events: libc::POLLIN, revents: 0 },
        ];
        let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
        // SAFETY: fds is a live array of its length.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
        if n < 0 {
            continue;
        }
        let now = Instant::now();
        if fds[0].revents != 0 {
            let mut count = 0u64;
            // SAFETY: reads the eventfd's 8-byte counter into a live u64.
            unsafe { libc::read(shared.wake.as_raw_fd(), (&mut count as *mut u64).cast(), 8) };
            burst.event(now);
        }
        if let Some(i) = inotify.as_mut() {
            if fds[1].revents != 0 && i.drain() {
                burst.event(now);
            }
        }
        let (looking, settled) = match burst.due() {
            Some(due) => (due <= now, due <= now),
            None => (inotify.is_none() && n == 0, false),
        };
        if !looking || shared.stop.load(Ordering::Acquire) {
            continue;
        }
        burst.clear();
        if settled {
            wake_subscribers(&shared);
        }
        let Some(now_listed) = snapshot() else { continue };
        if now_listed != known {
            known = now_listed;
            if !settled {
                wake_subscribers(&shared);
            }
            deliver(&shared);
        }
    }
}

/// Calls the callback, unless this watcher was stopped or none is set.
fn deliver(shared: &Shared) {
    let mut slot = lock();
    if shared.stop.load(Ordering::Acquire) {
        return;
    }
    let Some(callback) = slot.callback.clone() else { return };
    let generation = slot.generation;
    slot.delivering.push(generation);
    drop(slot);
    IN_CALLBACK.with(|c| c.set(true));
    // A panic in a Rust callback is the application's; it must not kill the watcher.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| callback()));
    IN_CALLBACK.with(|c| c.set(false));
    // Dropped before the call is marked done: a replacing thread's drop is then the last.
    drop(callback);
    let mut slot = lock();
    if let Some(at) = slot.delivering.iter().position(|&g| g == generation) {
        slot.delivering.swap_remove(at);
    }
    drop(slot);
    DELIVERED.notify_all();
}

/// The watcher is process-wide: the unit tests that need to know who keeps it running take
/// turns.
#[cfg(test)]
pub(crate) fn test_turn() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::sync::Weak;

    /// Only to tell a hang from slowness.
    const HANG: Duration = Duration::from_secs(30);

    /// The running watcher's state, which its thread holds until it ends.
    fn running_watcher() -> Weak<Shared> {
        Arc::downgrade(&lock().watcher.as_ref().expect("a watcher").shared)
    }

    #[test]
    fn the_last_unsubscription_stops_the_watcher_and_waits_for_its_thread() {
        let _turn = test_turn();
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let sub = subscribe(Arc::new(move || {
            let _ = tx.lock().unwrap().send(());
            // The thread is busy here: an unsubscription that does not wait for it returns first.
            std::thread::sleep(Duration::from_millis(300));
        }))
        .unwrap();
        let watcher = running_watcher();
        notify();
        rx.recv_timeout(HANG).expect("the subscriber woken");
        drop(sub);
        assert!(watcher.upgrade().is_none(), "the watcher's thread is still running");
        assert!(lock().watcher.is_none());
    }

    #[test]
    fn the_last_unsubscription_may_come_from_the_watcher_thread() {
        let _turn = test_turn();
        let held: Arc<Mutex<Option<Subscription>>> = Arc::default();
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let h = held.clone();
        let sub = subscribe(Arc::new(move || {
            let mine = h.lock().unwrap().take();
            if mine.is_some() {
                drop(mine);
                let _ = tx.lock().unwrap().send(());
            }
        }))
        .unwrap();
        let watcher = running_watcher();
        *held.lock().unwrap() = Some(sub);
        notify();
        rx.recv_timeout(HANG).expect("unsubscribed on the watcher thread");
        let deadline = Instant::now() + HANG;
        while watcher.upgrade().is_some() {
            assert!(Instant::now() < deadline, "the watcher did not end");
            std::thread::sleep(Duration::from_millis(2));
        }
        // The thread could not join itself: the next start does.
        let again = subscribe(Arc::new(|| {})).unwrap();
        assert!(lock().retired.is_empty(), "the stopped watcher was joined");
        drop(again);
        assert!(lock().watcher.is_none());
    }

    #[test]
    fn a_burst_is_due_when_quiet_or_too_long() {
        let t0 = Instant::now();
        let mut b = Burst::default();
        assert_eq!(b.due(), None);
        b.event(t0);
        assert_eq!(b.due(), Some(t0 + SETTLE));
        b.event(t0 + SETTLE / 2);
        assert_eq!(b.due(), Some(t0 + SETTLE / 2 + SETTLE), "each event restarts the wait");
        let mut t = t0;
        while t < t0 + 2 * MAX_DELAY {
            t += SETTLE / 2;
            b.event(t);
        }
        assert_eq!(b.due(), Some(t0 + MAX_DELAY), "a burst that never settles is looked at anyway");
        b.clear();
        assert_eq!(b.due(), None);
    }
}
