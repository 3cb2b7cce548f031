//! `MediaStreamTrackProcessor`: a sink with its own bounded drop-oldest queue.
//!
//! The queue is a lock-free ring (crossbeam `ArrayQueue`): the track's delivering thread
//! pushes with `force_push`, which evicts (and so closes) the oldest frame when full; readers
//! pop. Sleeping readers park on a condvar; a lost wakeup is impossible because a reader
//! announces itself in `waiters` before its last look at the ring and the producer looks at
//! `waiters` after its push, both sequentially consistent. The eventfd is optional and kept
//! level-triggered ("readable while a frame or the end is ready") under the same small lock.

use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;

use crate::error::{err, Error, Result};
use crate::frame::{Frame, Kind};
use crate::sink::Sink;
use crate::sys::EventFd;
use crate::track::{ReadyState, Track};

/// The default `maxBufferSize` for video tracks (Chromium's as well).
pub const DEFAULT_VIDEO_BUFFER: usize = 1;
/// The default `maxBufferSize` for audio tracks: 100 ms of 10 ms chunks.
pub const DEFAULT_AUDIO_BUFFER: usize = 10;
/// The largest video queue: a bound on memory (32 frames of 4K I420 is 400 MB).
pub const MAX_VIDEO_BUFFER: usize = 32;
/// The largest audio queue: 10 s of 10 ms chunks.
pub const MAX_AUDIO_BUFFER: usize = 1000;

/// A frame as a processor hands it out, with its place in this processor's sequence.
#[derive(Clone, Debug)]
pub struct Delivered {
    pub frame: Frame,
    /// 1 for the first frame the track delivered to this processor; gaps are discarded frames.
    pub sequence: u64,
}

/// How long a read may wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Return `Again` when nothing is queued.
    No,
    For(Duration),
    Forever,
}

/// Counters: every frame the track delivered is delivered to a reader, discarded (evicted by
/// a newer one, or emptied by close), or still queued.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcessorStats {
    pub total: u64,
    pub delivered: u64,
    pub discarded: u64,
    pub queued: u64,
}

#[derive(Default)]
struct WakeState {
    fd_signaled: bool,
    wakeup_pending: bool,
}

struct CallbackRunner {
    thread: Option<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
}

pub(crate) struct Inner {
    ring: ArrayQueue<Delivered>,
    closed: AtomicBool,
    total: AtomicU64,
    delivered: AtomicU64,
    discarded: AtomicU64,
    waiters: AtomicUsize,
    wake: Mutex<WakeState>,
    cond: Condvar,
    eventfd: OnceLock<EventFd>,
    callback_mode: AtomicBool,
    /// What a track's end leaves readable (see `EndPolicy`).
    end_policy: EndPolicy,
    /// Numbering and pushing a frame is one step, so sequence numbers follow queue order even
    /// when several threads deliver. Evicted frames are dropped after it is released.
    push: Mutex<()>,
    /// How many of the oldest frames the end left for readers that were waiting.
    kept_at_end: AtomicUsize,
}

/// What happens to queued frames when the processor's track ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndPolicy {
    /// The spec's processorClose: the queue is emptied, except for the frames that readers
    /// already blocked in `read` (the spec's pending reads) are waiting for.
    Spec,
    /// Everything queued stays readable, then reads return `Ended`: for recorders and
    /// device sinks, which must not lose the tail of a stream.
    Drain,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Inner {
    fn ready(&self) -> bool {
        !self.ring.is_empty() || self.closed.load(Ordering::Acquire)
    }

    /// Brings the eventfd in line with `ready()`; called with `wake` held.
    fn sync_fd(&self, st: &mut WakeState) {
        if let Some(fd) = self.eventfd.get() {
            let ready = self.ready();
            if ready && !st.fd_signaled {
                fd.signal();
                st.fd_signaled = true;
            } else if !ready && st.fd_signaled {
                fd.clear();
                st.fd_signaled = false;
            }
        }
    }

    /// After a push or close: wake sleepers and update the fd, touching the lock only when
    /// someone sleeps or an fd exists.
    fn notify(&self) {
        fence(Ordering::SeqCst);
        if self.waiters.load(Ordering::SeqCst) == 0 && self.eventfd.get().is_none() {
            return;
        }
        let mut st = lock(&self.wake);
        self.sync_fd(&mut st);
        drop(st);
        self.cond.notify_all();
    }

    /// The spec's processorClose: disconnect (done by the caller), mark closed, empty the queue
    /// but for the `keep` oldest frames, which readers already waiting take (as the spec's
    /// pending reads would have).
    fn close(&self, keep: usize) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        self.kept_at_end.store(keep, Ordering::Release);
        self.trim(keep);
        self.notify();
    }

    /// Keeps the `keep` oldest queued frames and discards the rest. Only after close, when no
    /// frame is pushed any more, so the collected frames always fit back. Not a hot path.
    fn trim(&self, keep: usize) {
        if self.ring.len() <= keep {
            return;
        }
        let mut all = Vec::with_capacity(self.ring.len());
        while let Some(d) = self.ring.pop() {
            all.push(d);
        }
        for d in all.drain(..keep.min(all.len())) {
            if self.ring.push(d).is_err() {
                self.discarded.fetch_add(1, Ordering::AcqRel);
            }
        }
        self.discarded.fetch_add(all.len() as u64, Ordering::AcqRel);
    }

    fn pop(&self) -> Option<Delivered> {
        let d = self.ring.pop()?;
        self.delivered.fetch_add(1, Ordering::AcqRel);
        if self.eventfd.get().is_some() {
            let mut st = lock(&self.wake);
            self.sync_fd(&mut st);
        }
        Some(d)
    }

    /// One read. `stop` (the callback runner's own flag) ends a wait with `Interrupted`
    /// without touching the user's pending wakeup.
    fn read(&self, wait: Wait, stop: Option<&AtomicBool>) -> Result<Delivered> {
        let deadline = match wait {
            Wait::For(d) => Some(Instant::now() + d),
            _ => None,
        };
        loop {
            if let Some(d) = self.pop() {
                return Ok(d);
            }
            if self.closed.load(Ordering::Acquire) {
                return Err(err!(Ended, "the processor has ended: its track ended or it was closed"));
            }
            if wait == Wait::No {
                return Err(err!(Again, "no frame is queued"));
            }
            self.waiters.fetch_add(1, Ordering::SeqCst);
            fence(Ordering::SeqCst);
            let mut st = lock(&self.wake);
            let outcome = loop {
                if stop.is_some_and(|s| s.load(Ordering::Acquire)) {
                    break Some(err!(Interrupted, "the callback thread is stopping"));
                }
                if st.wakeup_pending {
                    st.wakeup_pending = false;
                    break Some(err!(Interrupted, "woken by mst_processor_wakeup"));
                }
                if self.ready() {
                    break None;
                }
                match deadline {
                    None => st = self.cond.wait(st).unwrap_or_else(|p| p.into_inner()),
                    Some(d) => {
                        let now = Instant::now();
                        if now >= d {
                            break Some(err!(Timeout, "no frame came within the timeout"));
                        }
                        st = self.cond.wait_timeout(st, d - now).unwrap_or_else(|p| p.into_inner()).0;
                    }
                }
            };
            drop(st);
            self.waiters.fetch_sub(1, Ordering::SeqCst);
            if let Some(e) = outcome {
                return Err(e);
            }
        }
    }

    fn wakeup(&self) {
        lock(&self.wake).wakeup_pending = true;
        self.cond.notify_all();
    }

    /// Wakes waiting readers after `flag` was set (set under `wake`, so no waiter misses it).
    fn raise(&self, flag: &AtomicBool) {
        let st = lock(&self.wake);
        flag.store(true, Ordering::Release);
        drop(st);
        self.cond.notify_all();
    }
}

impl Sink for Inner {
    /// The spec's handleNewFrame: evict the oldest when full, enqueue, let readers know.
    fn on_frame(&self, frame: &Frame) {
        if self.closed.load(Ordering::Acquire) {
            return;
        }
        let evicted = {
            let _numbered_in_queue_order = lock(&self.push);
            let sequence = self.total.fetch_add(1, Ordering::AcqRel) + 1;
            self.ring.force_push(Delivered { frame: frame.clone(), sequence })
        };
        if let Some(old) = evicted {
            self.discarded.fetch_add(1, Ordering::AcqRel);
            // Closing it may run a wrapped frame's release callback: no lock is held here.
            drop(old);
        }
        if self.closed.load(Ordering::Acquire) {
            // Closed while pushing: the close's trim may have run before this push.
            self.trim(self.kept_at_end.load(Ordering::Acquire));
        }
        self.notify();
    }

    fn on_ended(&self) {
        let keep = match self.end_policy {
            EndPolicy::Spec => self.waiters.load(Ordering::SeqCst),
            EndPolicy::Drain => usize::MAX,
        };
        self.close(keep);
    }

    fn has_room(&self) -> bool {
        self.ring.len() < self.ring.capacity() || self.closed.load(Ordering::Acquire)
    }

    fn is_idle(&self) -> bool {
        self.ring.is_empty()
    }
}

/// A processor on a track. Dropping it closes it (the spec's cancel) and stops its callback
/// thread.
pub struct Processor {
    inner: Arc<Inner>,
    track: Track,
    runner: Mutex<Option<CallbackRunner>>,
    /// Serializes set_callback calls; never held while joining a callback thread.
    installing: Mutex<()>,
}

impl Processor {
    /// The spec's constructor: `max_buffer_size` 0 picks the default for the track's kind;
    /// larger than the cap is clamped to it. A processor on an ended track starts ended.
    pub fn new(track: &Track, max_buffer_size: usize) -> Processor {
        Processor::with_end_policy(track, max_buffer_size, EndPolicy::Spec)
    }

    /// A processor whose queue, when the track ends, is treated as `policy` says.
    pub fn with_end_policy(track: &Track, max_buffer_size: usize, policy: EndPolicy) -> Processor {
        let (default, cap) = match track.kind() {
            Kind::Video => (DEFAULT_VIDEO_BUFFER, MAX_VIDEO_BUFFER),
            Kind::Audio => (DEFAULT_AUDIO_BUFFER, MAX_AUDIO_BUFFER),
        };
        let size = if max_buffer_size == 0 { default } else { max_buffer_size.min(cap) };
        let inner = Arc::new(Inner {
            ring: ArrayQueue::new(size),
            closed: AtomicBool::new(false),
            total: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            discarded: AtomicU64::new(0),
            waiters: AtomicUsize::new(0),
            wake: Mutex::new(WakeState::default()),
            cond: Condvar::new(),
            eventfd: OnceLock::new(),
            callback_mode: AtomicBool::new(false),
            end_policy: policy,
            push: Mutex::new(()),
            kept_at_end: AtomicUsize::new(0),
        });
        if track.ready_state() == ReadyState::Ended || !track.add_sink(inner.clone()) {
            inner.close(0);
        }
        Processor { inner, track: track.clone(), runner: Mutex::new(None), installing: Mutex::new(()) }
    }

    pub fn track(&self) -> &Track {
        &self.track
    }

    /// The queue's capacity after defaulting and clamping.
    pub fn max_buffer_size(&self) -> usize {
        self.inner.ring.capacity()
    }

    /// The spec's pull + maybeReadFrame for one read. `Ended` once the processor is closed;
    /// `Again`, `Timeout` or `Interrupted` when no frame came.
    pub fn read(&self, wait: Wait) -> Result<Delivered> {
        if self.inner.callback_mode.load(Ordering::Acquire) {
            return Err(err!(InvalidState, "frames go to the callback; reads are off while it is set"));
        }
        self.inner.read(wait, None)
    }

    /// Makes a blocked `read` (or the next one that would block) return `Interrupted`.
    pub fn wakeup(&self) {
        self.inner.wakeup();
    }

    /// The spec's cancel: disconnects from the track without stopping it, empties the queue.
    pub fn close(&self) {
        self.track.remove_sink(self.inner.as_ref());
        self.inner.close(0);
    }

    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::Acquire)
    }

    pub fn stats(&self) -> ProcessorStats {
        ProcessorStats {
            total: self.inner.total.load(Ordering::Acquire),
            delivered: self.inner.delivered.load(Ordering::Acquire),
            discarded: self.inner.discarded.load(Ordering::Acquire),
            queued: self.inner.ring.len() as u64,
        }
    }

    /// A file descriptor, owned by the processor, readable while a frame or the end is ready.
    pub fn fd(&self) -> Result<RawFd> {
        if let Some(fd) = self.inner.eventfd.get() {
            return Ok(fd.as_raw_fd());
        }
        let fd = EventFd::new().map_err(|e| Error::new(crate::error::ErrorKind::Io, format!("eventfd: {e}")))?;
        let _ = self.inner.eventfd.set(fd);
        let mut st = lock(&self.inner.wake);
        self.inner.sync_fd(&mut st);
        Ok(self.inner.eventfd.get().expect("just set").as_raw_fd())
    }

    /// Callback mode: a library thread reads every frame and calls `on_frame(Some(frame))`,
    /// then `on_frame(None)` once when the processor ends. `None` stops the thread (joining it,
    /// unless called from the callback itself) and turns reads back on. The closure is dropped
    /// on the callback thread when it exits.
    pub fn set_callback(&self, on_frame: Option<Box<dyn FnMut(Option<Delivered>) + Send>>) -> Result<()> {
        let installing = lock(&self.installing);
        let old = lock(&self.runner).take();
        if let Some(old) = &old {
            self.inner.raise(&old.stop);
        }
        let result = match on_frame {
            None => {
                self.inner.callback_mode.store(false, Ordering::Release);
                Ok(())
            }
            Some(cb) => match self.spawn_runner(cb) {
                Ok(runner) => {
                    *lock(&self.runner) = Some(runner);
                    self.inner.callback_mode.store(true, Ordering::Release);
                    Ok(())
                }
                Err(e) => {
                    self.inner.callback_mode.store(false, Ordering::Release);
                    Err(e)
                }
            },
        };
        drop(installing);
        if let Some(t) = old.and_then(|mut o| o.thread.take()) {
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
        result
    }

    fn spawn_runner(&self, mut cb: Box<dyn FnMut(Option<Delivered>) + Send>) -> Result<CallbackRunner> {
        let stop = Arc::new(AtomicBool::new(false));
        let (inner, stop2) = (self.inner.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("mst-processor-cb".into())
            .spawn(move || loop {
                // `read` is library code; a panic in it ends the callback as if the track ended.
                let next =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.read(Wait::Forever, Some(&stop2))))
                        .unwrap_or_else(|p| Err(Error::from_panic(p)));
                match next {
                    Ok(d) => cb(Some(d)),
                    Err(e) if matches!(e.kind, crate::error::ErrorKind::Ended | crate::error::ErrorKind::Panic) => {
                        cb(None);
                        break;
                    }
                    Err(_) if stop2.load(Ordering::Acquire) => break,
                    Err(_) => {}
                }
            })
            .map_err(|e| Error::new(crate::error::ErrorKind::NoMemory, format!("spawning the callback thread: {e}")))?;
        Ok(CallbackRunner { thread: Some(thread), stop })
    }
}

impl Drop for Processor {
    fn drop(&mut self) {
        self.close();
        let _ = self.set_callback(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::frame::{AudioDataInit, AudioSampleFormat};
    use crate::source::generator::Generator;

    fn readable(fd: RawFd) -> bool {
        let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd, timeout 0.
        unsafe { libc::poll(&mut p, 1, 0) == 1 }
    }

    fn chunk(ts: i64) -> Frame {
        let init = AudioDataInit {
            format: AudioSampleFormat::U8,
            sample_rate: 8000.0,
            number_of_frames: 80,
            number_of_channels: 1,
            timestamp: ts,
        };
        Frame::audio_copy(&init, &[128u8; 80]).unwrap()
    }

    #[test]
    fn fd_is_level_triggered_on_frames_and_end() {
        let g = Generator::new(Kind::Audio);
        let p = Processor::new(g.track(), 4);
        let fd = p.fd().unwrap();
        assert_eq!(p.fd().unwrap(), fd);
        assert!(!readable(fd));
        g.write(chunk(0)).unwrap();
        g.write(chunk(1)).unwrap();
        assert!(readable(fd));
        p.read(Wait::No).unwrap();
        assert!(readable(fd), "one frame is still queued");
        p.read(Wait::No).unwrap();
        assert!(!readable(fd));
        g.close();
        assert!(readable(fd), "the end is ready");
        assert_eq!(p.read(Wait::No).unwrap_err().kind, ErrorKind::Ended);
    }

    #[test]
    fn pending_wakeup_interrupts_the_next_blocking_read_once() {
        let g = Generator::new(Kind::Audio);
        let p = Processor::new(g.track(), 4);
        p.wakeup();
        assert_eq!(p.read(Wait::Forever).unwrap_err().kind, ErrorKind::Interrupted);
        assert_eq!(p.read(Wait::For(Duration::from_millis(20))).unwrap_err().kind, ErrorKind::Timeout);
    }

    #[test]
    fn blocked_reader_gets_a_frame_from_another_thread() {
        let g = Arc::new(Generator::new(Kind::Audio));
        let p = Processor::new(g.track(), 1);
        let writer = {
            let g = g.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                g.write(chunk(42)).unwrap();
            })
        };
        assert_eq!(p.read(Wait::Forever).unwrap().frame.timestamp(), 42);
        writer.join().unwrap();
    }

    #[test]
    fn a_reader_blocked_when_the_track_ends_gets_the_frame_it_waits_for() {
        let g = Generator::new(Kind::Audio);
        let p = Arc::new(Processor::new(g.track(), 4));
        let reader = {
            let p = p.clone();
            std::thread::spawn(move || p.read(Wait::Forever).map(|d| d.frame.timestamp()).map_err(|e| e.kind))
        };
        while p.inner.waiters.load(Ordering::SeqCst) == 0 {
            std::thread::yield_now();
        }
        g.write(chunk(5)).unwrap();
        g.close();
        assert_eq!(reader.join().unwrap(), Ok(5));
        assert_eq!(p.read(Wait::No).unwrap_err().kind, ErrorKind::Ended);
        let s = p.stats();
        assert_eq!((s.total, s.delivered, s.discarded), (1, 1, 0));
    }

    #[test]
    fn without_waiting_readers_the_end_empties_the_queue() {
        let g = Generator::new(Kind::Audio);
        let p = Processor::new(g.track(), 4);
        g.write(chunk(1)).unwrap();
        g.write(chunk(2)).unwrap();
        g.close();
        assert_eq!(p.read(Wait::No).unwrap_err().kind, ErrorKind::Ended);
        assert_eq!(p.stats().discarded, 2);
    }

    #[test]
    fn clamps_and_defaults_the_queue() {
        let g = Generator::new(Kind::Audio);
        assert_eq!(Processor::new(g.track(), 0).max_buffer_size(), DEFAULT_AUDIO_BUFFER);
        assert_eq!(Processor::new(g.track(), 100_000).max_buffer_size(), MAX_AUDIO_BUFFER);
        let v = Generator::new(Kind::Video);
        assert_eq!(Processor::new(v.track(), 0).max_buffer_size(), DEFAULT_VIDEO_BUFFER);
        assert_eq!(Processor::new(v.track(), 1000).max_buffer_size(), MAX_VIDEO_BUFFER);
    }

    #[test]
    fn callback_gets_every_frame_then_the_end() {
        let g = Generator::new(Kind::Audio);
        let p = Processor::new(g.track(), 8);
        let (tx, rx) = std::sync::mpsc::channel();
        p.set_callback(Some(Box::new(move |d: Option<Delivered>| tx.send(d.map(|d| d.frame.timestamp())).unwrap())))
            .unwrap();
        assert_eq!(p.read(Wait::No).unwrap_err().kind, ErrorKind::InvalidState);
        for ts in 0..3 {
            g.write(chunk(ts)).unwrap();
            assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), Some(ts));
        }
        g.close();
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), None);
    }
}
