//! `MediaStreamTrackProcessor`: a sink with its own bounded drop-oldest queue.
//!
//! The queue is a lock-free ring (crossbeam `ArrayQueue`): the track's delivering thread
//! pushes with `force_push`, which evicts (and so closes) the oldest frame when full; readers
//! pop. A read that finds a frame while no reader is blocked takes it without a lock.
//!
//! Readers that must wait line up, as a ReadableStream's read requests do: each takes a ticket
//! in `WakeState::line` and only the oldest ticket may take a frame, so blocked readers get
//! frames in the order they blocked, and a later read (blocking or not) never jumps ahead of
//! them. A reader leaving the line for any reason (a frame, a timeout, a wakeup) wakes the
//! others, so the next in line never stalls behind it. A lost wakeup is impossible because a
//! reader announces itself in `waiters` before its last look at the ring and the producer
//! looks at `waiters` after its push, both sequentially consistent. The eventfd is optional and
//! kept level-triggered ("a read would not return `Again`") under the same small lock.
//!
//! Every frame meant for the processor is delivered to a reader, still queued, or discarded
//! for a [`DiscardReason`]; each is counted, and each delivered frame says how many were
//! discarded since the one delivered before it (`Delivered::discarded_before`).

use std::collections::VecDeque;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;

use crate::error::{err, Error, Result};
use crate::frame::ledger::Consumer;
use crate::frame::{Frame, Kind};
use crate::sink::{DiscardReason, Sink};
use crate::sys::EventFd;
use crate::track::{ReadyState, Track};

/// The default `maxBufferSize` for video tracks (Chromium's as well).
pub const DEFAULT_VIDEO_BUFFER: usize = 1;
/// The default `maxBufferSize` for audio tracks: 100 ms of 10 ms chunks.
pub const DEFAULT_AUDIO_BUFFER: usize = 10;
/// The largest video queue: a bound on memory (32 frames of 4K I420 is 400 MB). A larger
/// `maxBufferSize` (up to 65535) is accepted and clamped to it.
pub const MAX_VIDEO_BUFFER: usize = 32;
/// The largest audio queue: 10 s of 10 ms chunks. A larger `maxBufferSize` (up to 65535) is
/// accepted and clamped to it.
pub const MAX_AUDIO_BUFFER: usize = 1000;

/// A frame as a processor hands it out, with its place in this processor's sequence.
#[derive(Clone, Debug)]
pub struct Delivered {
    pub frame: Frame,
    /// 1 for the first frame that reached this processor's queue, then one more per frame that
    /// did; a gap is a frame discarded in the queue (or taken by another reader).
    pub sequence: u64,
    /// How many frames meant for this processor were discarded, for any [`DiscardReason`],
    /// between the frame it handed out before this one and this one, in stream order: the
    /// frames a reader missed just before this one. Exact while reads do not race each other
    /// (one reader, or readers blocked in line); when several threads read without waiting at
    /// the same moment, a frame handed to one of them may be counted in a neighbour's number.
    pub discarded_before: u64,
}

/// How long a read may wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Return `Again` when no frame is ready for this read.
    No,
    For(Duration),
    Forever,
}

/// How a processor is made (`MediaStreamTrackProcessorInit`, and libmst's extension).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcessorOptions {
    /// The spec's `maxBufferSize`, an `[EnforceRange] unsigned short`: 0 picks the default for
    /// the track's kind (`DEFAULT_*_BUFFER`), 1..=65535 is the queue's length, clamped to
    /// `MAX_*_BUFFER`; 65536 and above are refused with `ErrorKind::Type` (the TypeError that
    /// EnforceRange throws).
    pub max_buffer_size: u32,
    /// libmst extension: a read returns the newest frame and never a frame twice; older frames
    /// are discarded (`DiscardReason::Superseded`) when a newer one arrives, and a read blocks
    /// only until something new arrives. The queue then holds one frame whatever
    /// `max_buffer_size` says (which is still range-checked).
    pub latest_only: bool,
}

/// Counters. Every frame that reached the queue (`total`) is delivered to a reader,
/// discarded in the queue (queue full, superseded, closed) or still queued:
/// `total == delivered + discarded_in_queue() + queued`. Frames the track or source discarded
/// before the queue (muted, disabled, decimated, failed) are not in `total`; `discarded` is
/// the sum over every reason, before and in the queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcessorStats {
    pub total: u64,
    pub delivered: u64,
    /// The sum of the `discarded_*` counters.
    pub discarded: u64,
    pub queued: u64,
    /// Reads blocked now, waiting for a frame (the spec's `[[numPendingReads]]`).
    pub pending_reads: u64,
    /// In the queue: evicted by a newer frame when full.
    pub discarded_queue_full: u64,
    /// In the queue: replaced by a newer frame (latest-only processors).
    pub discarded_superseded: u64,
    /// In the queue: emptied when the processor closed or its track ended.
    pub discarded_closed: u64,
    /// Before the queue: the source was muted.
    pub discarded_muted: u64,
    /// Before the queue: the track was disabled. Stays 0 today: a disabled track delivers
    /// black frames or silence instead of discarding.
    pub discarded_disabled: u64,
    /// Before the queue: skipped by the track's frame-rate decimation.
    pub discarded_decimated: u64,
    /// Before the queue: the track could not make the frame (scaling or blanking failed).
    pub discarded_failed: u64,
    /// The frames delivered to this processor that are open now: queued, with readers, with
    /// the application, clones included (each open handle counts; see `frame::ledger`).
    /// `held - queued` is what readers hold (the two are read at slightly different moments
    /// while frames arrive). Not a counter: it still falls after close, as they close.
    pub held: u64,
}

impl ProcessorStats {
    /// The frames discarded after reaching the queue (full, superseded, closed).
    pub fn discarded_in_queue(&self) -> u64 {
        self.discarded_queue_full + self.discarded_superseded + self.discarded_closed
    }
}

/// A queued frame with its numbers in this processor.
struct Queued {
    frame: Frame,
    sequence: u64,
    /// Its place among every frame meant for this processor, those discarded before the queue
    /// included: the difference of two positions less one is what was discarded between them.
    position: u64,
}

/// What the queue keeps once the processor is closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Retain {
    /// Everything (while open, and after a draining end).
    Everything,
    /// One frame per reader in line at the end (the spec's pending reads), and fewer as they
    /// leave: a reader that leaves without a frame gives its frame up.
    ForPending,
    /// Nothing: an explicit close (the spec's cancel).
    Nothing,
}

struct WakeState {
    fd_signaled: bool,
    wakeup_pending: bool,
    /// The tickets of the blocked readers, oldest first. Keeps its capacity, so a warm
    /// processor's blocking reads do not allocate.
    line: VecDeque<u64>,
    next_ticket: u64,
    retain: Retain,
}

struct CallbackRunner {
    thread: Option<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
}

pub(crate) struct Inner {
    ring: ArrayQueue<Queued>,
    latest_only: bool,
    closed: AtomicBool,
    total: AtomicU64,
    delivered: AtomicU64,
    /// One counter per `DiscardReason`, indexed by its discriminant.
    discards: [AtomicU64; DiscardReason::ALL.len()],
    /// Frames discarded before the queue so far: the positions of queued frames count them.
    before_queue: AtomicU64,
    /// The position of the latest frame handed to a reader.
    last_position: AtomicU64,
    /// How many readers are in line (`WakeState::line.len()`), for lock-free looks.
    waiters: AtomicUsize,
    wake: Mutex<WakeState>,
    cond: Condvar,
    eventfd: OnceLock<EventFd>,
    callback_mode: AtomicBool,
    /// What a track's end leaves readable (see `EndPolicy`).
    end_policy: EndPolicy,
    /// Numbering and pushing a frame is one step, so sequence numbers follow queue order even
    /// when several threads deliver; `settle` holds it so nothing is pushed while it sorts the
    /// queue. Evicted frames are dropped after it is released.
    push: Mutex<()>,
    /// This processor in its source's ledger: every frame it queues is attributed to it.
    consumer: Arc<Consumer>,
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

/// Processors are numbered from 1 in the order they are made, for the ledger's reports.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn ended() -> Error {
    err!(Ended, "the processor has ended: its track ended or it was closed")
}

/// The queue length for a requested `maxBufferSize` (0 = the default).
fn queue_length(kind: Kind, max_buffer_size: usize) -> usize {
    let (default, cap) = match kind {
        Kind::Video => (DEFAULT_VIDEO_BUFFER, MAX_VIDEO_BUFFER),
        Kind::Audio => (DEFAULT_AUDIO_BUFFER, MAX_AUDIO_BUFFER),
    };
    if max_buffer_size == 0 {
        default
    } else {
        max_buffer_size.min(cap)
    }
}

impl Inner {
    fn count(&self, reason: DiscardReason, n: u64) {
        self.discards[reason as usize].fetch_add(n, Ordering::AcqRel);
    }

    fn discarded(&self, reason: DiscardReason) -> u64 {
        self.discards[reason as usize].load(Ordering::Acquire)
    }

    /// Whether a read without a ticket would not get `Again`: a frame nobody in line is owed,
    /// or the end. Called with `wake` held.
    fn ready(&self, st: &WakeState) -> bool {
        self.closed.load(Ordering::SeqCst) || (!self.ring.is_empty() && st.line.is_empty())
    }

    /// Brings the eventfd in line with `ready()`; called with `wake` held.
    fn sync_fd(&self, st: &mut WakeState) {
        if let Some(fd) = self.eventfd.get() {
            let ready = self.ready(st);
            if ready && !st.fd_signaled {
                fd.signal();
                st.fd_signaled = true;
            } else if !ready && st.fd_signaled {
                fd.clear();
                st.fd_signaled = false;
            }
        }
    }

    /// After a push: wake the readers in line and update the fd, touching the lock only when
    /// someone is in line or an fd exists.
    fn notify(&self) {
        fence(Ordering::SeqCst);
        if self.waiters.load(Ordering::SeqCst) == 0 && self.eventfd.get().is_none() {
            return;
        }
        let mut st = lock(&self.wake);
        self.sync_fd(&mut st);
        let waiting = !st.line.is_empty();
        drop(st);
        if waiting {
            self.cond.notify_all();
        }
    }

    /// Counts a frame handed to a reader and says how many were discarded before it.
    fn hand_out(&self, q: Queued) -> Delivered {
        self.delivered.fetch_add(1, Ordering::AcqRel);
        let previous = self.last_position.fetch_max(q.position, Ordering::AcqRel);
        let discarded_before = q.position.saturating_sub(previous).saturating_sub(1);
        Delivered { frame: q.frame, sequence: q.sequence, discarded_before }
    }

    /// The spec's processorClose, after the caller disconnected it: mark closed and empty the
    /// queue but for what `retain` keeps. An explicit close (`Retain::Nothing`) after an end
    /// still empties what the end kept: after it, every read returns `Ended`.
    fn close(&self, retain: Retain) {
        let mut st = lock(&self.wake);
        let first = !self.closed.swap(true, Ordering::SeqCst);
        // A push that saw the processor open before the swap finishes (its frame is in the
        // queue for `settle`) before this returns, and later pushes see it closed: once
        // close returns, the counters change no more for frames from the track.
        drop(lock(&self.push));
        if !first && retain != Retain::Nothing {
            return;
        }
        st.retain = retain;
        let gone = self.settle(&st);
        self.sync_fd(&mut st);
        drop(st);
        self.cond.notify_all();
        // Closing them may run wrapped frames' release callbacks: no lock is held here.
        drop(gone);
    }

    /// Once closed: discards (reason `Closed`) the queued frames that `retain` does not keep,
    /// the newest first, and returns them for the caller to drop after unlocking. Called with
    /// `wake` held, whenever the line or the queue of a closed processor may have changed.
    /// Not a hot path.
    fn settle(&self, st: &WakeState) -> Vec<Queued> {
        let keep = match st.retain {
            Retain::Everything => return Vec::new(),
            Retain::ForPending => st.line.len(),
            Retain::Nothing => 0,
        };
        if self.ring.len() <= keep {
            return Vec::new();
        }
        let _no_push = lock(&self.push);
        let mut all = Vec::with_capacity(self.ring.len());
        while let Some(q) = self.ring.pop() {
            all.push(q);
        }
        let mut gone = all.split_off(keep.min(all.len()));
        for q in all {
            // Nothing else pushes while `push` is held, so what was taken out fits back.
            if let Err(q) = self.ring.push(q) {
                gone.push(q);
            }
        }
        self.count(DiscardReason::Closed, gone.len() as u64);
        gone
    }

    /// One read: the spec's pull + maybeReadFrame. `stop` (the callback runner's own flag)
    /// ends a wait with `Interrupted` without touching the user's pending wakeup.
    fn read(&self, wait: Wait, stop: Option<&AtomicBool>) -> Result<Delivered> {
        // A removed or replaced callback gets no more frames, however full the queue is.
        if stop.is_some_and(|s| s.load(Ordering::Acquire)) {
            return Err(err!(Interrupted, "the callback thread is stopping"));
        }
        // Nobody in line and open: the oldest frame is this read's, taken without the lock
        // (which only an fd needs).
        if self.waiters.load(Ordering::SeqCst) == 0 && !self.closed.load(Ordering::SeqCst) {
            if let Some(q) = self.ring.pop() {
                if self.eventfd.get().is_some() {
                    let mut st = lock(&self.wake);
                    self.sync_fd(&mut st);
                }
                return Ok(self.hand_out(q));
            }
        }
        self.read_in_line(wait, stop)
    }

    /// A read that found nothing on the fast path: takes a frame now if none is owed to a
    /// reader in line, else (unless `Wait::No`) joins the line and waits for its turn.
    fn read_in_line(&self, wait: Wait, stop: Option<&AtomicBool>) -> Result<Delivered> {
        let deadline = match wait {
            Wait::For(d) => Some(Instant::now() + d),
            _ => None,
        };
        let mut st = lock(&self.wake);
        let closed = self.closed.load(Ordering::SeqCst);
        // After the end, only a draining processor has frames for reads that were not pending.
        if closed && st.retain != Retain::Everything {
            return Err(ended());
        }
        if st.line.is_empty() {
            if let Some(q) = self.ring.pop() {
                self.sync_fd(&mut st);
                return Ok(self.hand_out(q));
            }
            if closed {
                return Err(ended());
            }
        }
        if wait == Wait::No {
            return Err(err!(Again, "no frame is ready for this read (none is queued, or blocked reads come first)"));
        }

        let me = st.next_ticket;
        st.next_ticket += 1;
        st.line.push_back(me);
        self.waiters.store(st.line.len(), Ordering::SeqCst);
        fence(Ordering::SeqCst);
        self.sync_fd(&mut st);
        let outcome = loop {
            if stop.is_some_and(|s| s.load(Ordering::Acquire)) {
                break Err(err!(Interrupted, "the callback thread is stopping"));
            }
            let closed = self.closed.load(Ordering::SeqCst);
            if closed && st.retain == Retain::Nothing {
                break Err(ended());
            }
            if st.line.front() == Some(&me) {
                if st.wakeup_pending {
                    st.wakeup_pending = false;
                    break Err(err!(Interrupted, "woken by mst_processor_wakeup"));
                }
                if let Some(q) = self.ring.pop() {
                    // Handed out in line order: the next in line cannot take one before this.
                    break Ok(self.hand_out(q));
                }
            }
            if closed && self.ring.is_empty() {
                break Err(ended());
            }
            match deadline {
                None => st = self.cond.wait(st).unwrap_or_else(|p| p.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        break Err(err!(Timeout, "no frame came within the timeout"));
                    }
                    st = self.cond.wait_timeout(st, d - now).unwrap_or_else(|p| p.into_inner()).0;
                }
            }
        };
        if let Some(i) = st.line.iter().position(|&t| t == me) {
            st.line.remove(i);
        }
        self.waiters.store(st.line.len(), Ordering::SeqCst);
        // A reader that leaves without a frame after the end gives up the frame kept for it.
        let gone = if self.closed.load(Ordering::SeqCst) { self.settle(&st) } else { Vec::new() };
        self.sync_fd(&mut st);
        let others = !st.line.is_empty();
        drop(st);
        if others {
            // The next in line may now take a frame (or the next wakeup).
            self.cond.notify_all();
        }
        drop(gone);
        outcome
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
        if self.closed.load(Ordering::SeqCst) {
            return;
        }
        let evicted = {
            let _numbered_in_queue_order = lock(&self.push);
            // Closed since the check above: `close` is past its barrier, nothing is counted.
            if self.closed.load(Ordering::SeqCst) {
                return;
            }
            let sequence = self.total.fetch_add(1, Ordering::AcqRel) + 1;
            let position = sequence + self.before_queue.load(Ordering::Acquire);
            let evicted = self.ring.force_push(Queued { frame: frame.attributed(&self.consumer), sequence, position });
            // Counted with `total`, under the lock `close` waits for: once close returns, the
            // counters add up and stay put.
            if evicted.is_some() {
                let reason = if self.latest_only { DiscardReason::Superseded } else { DiscardReason::QueueFull };
                self.count(reason, 1);
            }
            evicted
        };
        // Closing it may run a wrapped frame's release callback: no lock is held here.
        drop(evicted);
        self.notify();
    }

    /// Counts a frame the track or source discarded before the queue. A closed processor
    /// is no longer the track's sink: what it would not have received is not counted.
    fn on_discarded(&self, reason: DiscardReason) {
        if self.closed.load(Ordering::Acquire) {
            return;
        }
        self.count(reason, 1);
        if !reason.in_queue() {
            self.before_queue.fetch_add(1, Ordering::AcqRel);
        }
    }

    fn on_ended(&self) {
        self.close(match self.end_policy {
            EndPolicy::Spec => Retain::ForPending,
            EndPolicy::Drain => Retain::Everything,
        });
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
    /// A processor with `max_buffer_size` queued frames at most (0 = the default for the
    /// track's kind; anything above `MAX_*_BUFFER` is clamped to it). Never fails: for Rust
    /// callers and libmst's own sinks. [`Processor::with_options`] is the spec's constructor,
    /// with its range check. A processor on an ended track starts ended.
    pub fn new(track: &Track, max_buffer_size: usize) -> Processor {
        Processor::with_end_policy(track, max_buffer_size, EndPolicy::Spec)
    }

    /// The spec's constructor (`new MediaStreamTrackProcessor({track, maxBufferSize})`) with
    /// libmst's options. A `max_buffer_size` above 65535 is `ErrorKind::Type` (EnforceRange
    /// on an unsigned short) and nothing is created. A processor on an ended track starts
    /// ended.
    pub fn with_options(track: &Track, options: ProcessorOptions) -> Result<Processor> {
        if options.max_buffer_size > u32::from(u16::MAX) {
            return Err(err!(
                Type,
                "maxBufferSize {} is outside unsigned short (0..=65535): [EnforceRange] refuses it",
                options.max_buffer_size
            ));
        }
        let length = if options.latest_only { 1 } else { queue_length(track.kind(), options.max_buffer_size as usize) };
        Ok(Processor::build(track, length, options.latest_only, EndPolicy::Spec))
    }

    /// A processor whose queue, when the track ends, is treated as `policy` says.
    pub fn with_end_policy(track: &Track, max_buffer_size: usize, policy: EndPolicy) -> Processor {
        Processor::build(track, queue_length(track.kind(), max_buffer_size), false, policy)
    }

    fn build(track: &Track, length: usize, latest_only: bool, policy: EndPolicy) -> Processor {
        let inner = Arc::new(Inner {
            ring: ArrayQueue::new(length),
            latest_only,
            closed: AtomicBool::new(false),
            total: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            discards: Default::default(),
            before_queue: AtomicU64::new(0),
            last_position: AtomicU64::new(0),
            waiters: AtomicUsize::new(0),
            wake: Mutex::new(WakeState {
                fd_signaled: false,
                wakeup_pending: false,
                line: VecDeque::with_capacity(4),
                next_ticket: 0,
                retain: Retain::Everything,
            }),
            cond: Condvar::new(),
            eventfd: OnceLock::new(),
            callback_mode: AtomicBool::new(false),
            end_policy: policy,
            push: Mutex::new(()),
            consumer: Consumer::new(
                format!(
                    "processor #{} on track '{}' ({})",
                    NEXT_ID.fetch_add(1, Ordering::Relaxed),
                    track.label(),
                    track.id()
                ),
                track.id(),
            ),
        });
        track.source().add_consumer(&inner.consumer);
        if track.ready_state() == ReadyState::Ended || !track.add_sink(inner.clone()) {
            inner.close(Retain::Nothing);
        }
        Processor { inner, track: track.clone(), runner: Mutex::new(None), installing: Mutex::new(()) }
    }

    pub fn track(&self) -> &Track {
        &self.track
    }

    /// The queue's capacity after defaulting and clamping (1 for a latest-only processor).
    pub fn max_buffer_size(&self) -> usize {
        self.inner.ring.capacity()
    }

    /// Whether reads return only the newest frame (`ProcessorOptions::latest_only`).
    pub fn latest_only(&self) -> bool {
        self.inner.latest_only
    }

    /// The spec's pull + maybeReadFrame for one read. Reads blocked at the same time are
    /// served in the order they blocked, and a read that arrives while some are blocked never
    /// takes a frame before them (with `Wait::No` it returns `Again`). `Ended` once the
    /// processor is closed, except that reads already blocked when the track ended get the
    /// frames they were waiting for; `Again`, `Timeout` or `Interrupted` when no frame came.
    pub fn read(&self, wait: Wait) -> Result<Delivered> {
        if self.inner.callback_mode.load(Ordering::Acquire) {
            return Err(err!(InvalidState, "frames go to the callback; reads are off while it is set"));
        }
        self.inner.read(wait, None)
    }

    /// Makes the oldest blocked `read` (or the next one that would block) return
    /// `Interrupted`.
    pub fn wakeup(&self) {
        self.inner.wakeup();
    }

    /// The spec's cancel: disconnects from the track without stopping it and empties the
    /// queue, also of frames its track's end kept for blocked reads; every read from now on
    /// (blocked ones included) returns `Ended`.
    /// Frames delivered to it that are still open are reported through the log (a warning
    /// naming the processor and how many).
    pub fn close(&self) {
        self.shut();
        self.report_held("closed");
    }

    /// `close` without its report (for callers that drop the processor next, which reports).
    pub(crate) fn shut(&self) {
        self.track.remove_sink(self.inner.as_ref());
        self.inner.close(Retain::Nothing);
    }

    /// The ledger's report when the processor closes or is freed while frames it received are
    /// still open: they keep their buffers (a camera's, for lent frames) until they close.
    fn report_held(&self, what: &str) {
        let held = self.inner.consumer.held();
        if held > 0 {
            crate::log::log(
                crate::log::Level::Warning,
                crate::log::Origin::Libmst,
                &format!(
                    "{} {what} with {held} of its frames still open (held by readers or the application, clones \
                     included); they keep their buffers until they close",
                    self.inner.consumer.name()
                ),
            );
        }
    }

    /// This processor's entry in its source's ledger.
    pub fn consumer(&self) -> &Arc<Consumer> {
        &self.inner.consumer
    }

    /// Names this processor in the ledger's reports (a sink's own processor is named after
    /// the sink).
    pub(crate) fn set_consumer_name(&self, name: String) {
        self.inner.consumer.rename(name);
    }

    /// Disconnects from the track without stopping it, keeping what is queued: reads take
    /// it, then return `Ended`. How a recorder finishes with a live track: it writes what it
    /// has, and no source, however fast, can keep it writing.
    pub(crate) fn detach(&self) {
        self.track.remove_sink(self.inner.as_ref());
        self.inner.close(Retain::Everything);
    }

    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::Acquire)
    }

    pub fn stats(&self) -> ProcessorStats {
        use DiscardReason as R;
        let i = &self.inner;
        let mut s = ProcessorStats {
            total: i.total.load(Ordering::Acquire),
            delivered: i.delivered.load(Ordering::Acquire),
            discarded: 0,
            queued: i.ring.len() as u64,
            pending_reads: i.waiters.load(Ordering::SeqCst) as u64,
            discarded_queue_full: i.discarded(R::QueueFull),
            discarded_superseded: i.discarded(R::Superseded),
            discarded_closed: i.discarded(R::Closed),
            discarded_muted: i.discarded(R::Muted),
            discarded_disabled: i.discarded(R::Disabled),
            discarded_decimated: i.discarded(R::Decimated),
            discarded_failed: i.discarded(R::Failed),
            held: i.consumer.held(),
        };
        s.discarded = s.discarded_in_queue()
            + s.discarded_muted
            + s.discarded_disabled
            + s.discarded_decimated
            + s.discarded_failed;
        s
    }

    /// A file descriptor, owned by the processor, readable while a `read(Wait::No)` would not
    /// return `Again`: a frame is queued and no read is blocked (blocked reads are owed the
    /// queued frames first), or the processor has ended.
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
                // `read` is library code; a panic in it ends the callback as if the track ended
                // (and is logged; the callback is the application's and keeps its own reports).
                let next = {
                    let _libmst = crate::log::Entry::new();
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.read(Wait::Forever, Some(&stop2))))
                        .unwrap_or_else(|p| Err(Error::from_panic(p)))
                };
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
        self.shut();
        let _ = self.set_callback(None);
        self.report_held("freed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    use crate::source::generator::Generator;

    fn readable(fd: RawFd) -> bool {
        let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd, timeout 0.
        unsafe { libc::poll(&mut p, 1, 0) == 1 }
    }

    fn chunk(ts: i64) -> Frame {
        crate::frame::test_chunk(ts)
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
        while p.stats().pending_reads == 0 {
            std::thread::yield_now();
        }
        g.write(chunk(5)).unwrap();
        g.close();
        assert_eq!(reader.join().unwrap(), Ok(5));
        assert_eq!(p.read(Wait::No).unwrap_err().kind, ErrorKind::Ended);
        let s = p.stats();
        assert_eq!((s.total, s.delivered, s.discarded, s.queued), (1, 1, 0, 0));
    }

    #[test]
    fn without_waiting_readers_the_end_empties_the_queue() {
        let g = Generator::new(Kind::Audio);
        let p = Processor::new(g.track(), 4);
        g.write(chunk(1)).unwrap();
        g.write(chunk(2)).unwrap();
        g.close();
        assert_eq!(p.read(Wait::No).unwrap_err().kind, ErrorKind::Ended);
        let s = p.stats();
        assert_eq!((s.discarded, s.discarded_closed), (2, 2));
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

    fn options(max_buffer_size: u32) -> ProcessorOptions {
        ProcessorOptions { max_buffer_size, latest_only: false }
    }

    #[test]
    fn max_buffer_size_is_an_enforce_range_unsigned_short() {
        for kind in [Kind::Audio, Kind::Video] {
            let g = Generator::new(kind);
            let cap = match kind {
                Kind::Audio => MAX_AUDIO_BUFFER,
                Kind::Video => MAX_VIDEO_BUFFER,
            };
            let size = |n| Processor::with_options(g.track(), options(n)).unwrap().max_buffer_size();
            assert_eq!(size(0), queue_length(kind, 0), "0 is the default");
            assert_eq!(size(1), 1);
            assert_eq!(size(65535), cap, "the largest unsigned short is accepted and clamped");
            for n in [65536, 100_000, u32::MAX] {
                for latest_only in [false, true] {
                    let e = Processor::with_options(g.track(), ProcessorOptions { max_buffer_size: n, latest_only })
                        .err()
                        .expect("refused");
                    assert_eq!(e.kind, ErrorKind::Type, "{n}: {}", e.message);
                    assert!(e.message.contains(&n.to_string()), "{}", e.message);
                }
            }
            assert_eq!(g.track().source().consumers_have_room(), None, "a refused processor connected nothing");
        }
    }

    fn vframe(ts: i64) -> Frame {
        Frame::video_with(crate::frame::VideoPixelFormat::I420, 16, 16, ts, None, |_| {}).unwrap()
    }

    /// Waits until `n` reads are blocked on `p` (no timing: the count is exact).
    fn until_pending(p: &Processor, n: u64) {
        while p.stats().pending_reads != n {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn blocked_read(p: &Arc<Processor>, wait: Wait) -> std::thread::JoinHandle<std::result::Result<i64, ErrorKind>> {
        let p = p.clone();
        std::thread::spawn(move || p.read(wait).map(|d| d.frame.timestamp()).map_err(|e| e.kind))
    }

    #[test]
    fn blocked_reads_are_served_in_the_order_they_blocked() {
        const READERS: usize = 4;
        let g = Generator::new(Kind::Video);
        let p = Arc::new(Processor::with_options(g.track(), options(8)).unwrap());
        let mut ts = 0;
        for _round in 0..100 {
            let readers: Vec<_> = (0..READERS)
                .map(|i| {
                    let r = blocked_read(&p, Wait::Forever);
                    until_pending(&p, i as u64 + 1);
                    r
                })
                .collect();
            let first = ts;
            for _ in 0..READERS {
                g.write(vframe(ts)).unwrap();
                ts += 1;
            }
            let got: Vec<_> = readers.into_iter().map(|r| r.join().unwrap()).collect();
            let want: Vec<_> = (first..first + READERS as i64).map(Ok).collect();
            assert_eq!(got, want, "the n-th reader to block gets the n-th frame");
        }
        let s = p.stats();
        assert_eq!((s.total, s.delivered, s.discarded, s.queued, s.pending_reads), (400, 400, 0, 0, 0));
    }

    #[test]
    fn a_read_that_does_not_wait_never_takes_a_frame_owed_to_a_blocked_one() {
        let g = Generator::new(Kind::Video);
        let p = Arc::new(Processor::with_options(g.track(), options(4)).unwrap());
        let fd = p.fd().unwrap();
        for ts in 0..200 {
            let r = blocked_read(&p, Wait::Forever);
            until_pending(&p, 1);
            g.write(vframe(ts)).unwrap();
            // Whether or not the blocked reader has woken yet, the frame is its.
            assert_eq!(p.read(Wait::No).unwrap_err().kind, ErrorKind::Again);
            assert_eq!(r.join().unwrap(), Ok(ts));
            assert!(!readable(fd), "the fd does not announce a frame owed to a blocked read");
        }
    }

    /// Waits until `done` holds (no timing: every condition here comes true by itself).
    fn until(done: impl Fn() -> bool) {
        while !done() {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn a_blocked_read_that_leaves_hands_its_turn_to_the_next() {
        let g = Generator::new(Kind::Audio);
        let p = Arc::new(Processor::with_options(g.track(), options(8)).unwrap());
        // A timeout in the middle of the line: the readers before and after it take the next
        // two frames in order. (If the machine is so slow that the middle one timed out before
        // the last one blocked, the outcome is the same.)
        let a = blocked_read(&p, Wait::Forever);
        until_pending(&p, 1);
        let b = blocked_read(&p, Wait::For(Duration::from_millis(50)));
        until(|| p.stats().pending_reads == 2 || b.is_finished());
        let c = blocked_read(&p, Wait::Forever);
        until(|| b.is_finished() && p.stats().pending_reads == 2);
        assert_eq!(b.join().unwrap(), Err(ErrorKind::Timeout));
        g.write(chunk(1)).unwrap();
        g.write(chunk(2)).unwrap();
        assert_eq!((a.join().unwrap(), c.join().unwrap()), (Ok(1), Ok(2)));

        // A timeout at the head of the line: the next in line takes the frame.
        let a = blocked_read(&p, Wait::For(Duration::from_millis(50)));
        until(|| p.stats().pending_reads == 1 || a.is_finished());
        let b = blocked_read(&p, Wait::Forever);
        until(|| a.is_finished() && p.stats().pending_reads == 1);
        assert_eq!(a.join().unwrap(), Err(ErrorKind::Timeout));
        g.write(chunk(3)).unwrap();
        assert_eq!(b.join().unwrap(), Ok(3));

        // Wakeup: the oldest blocked read is interrupted, the next gets the frame; none is lost.
        let a = blocked_read(&p, Wait::Forever);
        until_pending(&p, 1);
        let b = blocked_read(&p, Wait::Forever);
        until_pending(&p, 2);
        p.wakeup();
        assert_eq!(a.join().unwrap(), Err(ErrorKind::Interrupted));
        g.write(chunk(4)).unwrap();
        assert_eq!(b.join().unwrap(), Ok(4));
        let s = p.stats();
        assert_eq!((s.total, s.delivered, s.discarded, s.queued), (4, 4, 0, 0));
    }

    /// Issue 12's sequence: blocked read, wakeup, write, track stop, join, close, read. With the
    /// reader known to be blocked before the wakeup (the case that failed most), and without.
    #[test]
    fn close_empties_the_queue_even_after_an_interrupted_pending_read() {
        for trial in 0..2000 {
            let g = Generator::new(Kind::Video);
            let p = Arc::new(Processor::with_options(g.track(), options(4)).unwrap());
            let reader = blocked_read(&p, Wait::Forever);
            if trial % 2 == 0 {
                until_pending(&p, 1);
            }
            p.wakeup();
            g.write(vframe(trial)).unwrap();
            g.track().stop();
            let got = reader.join().unwrap();
            assert!(matches!(got, Ok(_) | Err(ErrorKind::Interrupted) | Err(ErrorKind::Ended)), "{got:?}");
            assert_eq!(p.stats().queued, 0, "trial {trial}: a frame outlived the pending read it was kept for");
            p.close();
            let after = p.read(Wait::No).map(|d| d.frame.timestamp()).map_err(|e| e.kind);
            assert_eq!(after, Err(ErrorKind::Ended), "trial {trial}: the reader got {got:?}");
            let s = p.stats();
            assert_eq!(s.queued, 0);
            assert_eq!(s.total, s.delivered + s.discarded_in_queue());
            assert_eq!(s.total, 1);
        }
    }

    /// Once close returns, the counters add up and stay put, although a writer on another
    /// thread is still evicting a frame from the full queue with every write: issue 14's
    /// stress program saw, under TSAN, a queue-full count land after the close had returned.
    #[test]
    fn the_counters_add_up_as_soon_as_close_returns() {
        for trial in 0..300 {
            let g = Arc::new(Generator::new(Kind::Audio));
            let p = Processor::with_options(g.track(), options(1)).unwrap();
            let writing = Arc::new(AtomicBool::new(true));
            let writer = {
                let (g, writing) = (g.clone(), writing.clone());
                std::thread::spawn(move || {
                    let mut n = 0;
                    while writing.load(Ordering::Acquire) {
                        g.write(chunk(n)).unwrap();
                        n += 1;
                    }
                })
            };
            while p.stats().total < 3 {
                std::thread::yield_now();
            }
            p.close();
            let s = p.stats();
            writing.store(false, Ordering::Release);
            writer.join().unwrap();
            assert_eq!(s.total, s.delivered + s.discarded_in_queue() + s.queued, "trial {trial}: {s:?}");
            // `held` is not a counter but the frames open now: an evicted frame the writer
            // drops just after close returned still closes.
            let counters = |s: ProcessorStats| ProcessorStats { held: 0, ..s };
            assert_eq!(counters(p.stats()), counters(s), "trial {trial}: the counters moved after close returned");
        }
    }

    #[test]
    fn close_drops_what_the_end_kept_for_a_blocked_read() {
        let g = Generator::new(Kind::Audio);
        let p = Processor::with_options(g.track(), options(4)).unwrap();
        // A stand-in for a reader blocked in line (a real one would take the frame at once).
        {
            lock(&p.inner.wake).line.push_back(u64::MAX);
            p.inner.waiters.store(1, Ordering::SeqCst);
        }
        g.write(chunk(7)).unwrap();
        g.write(chunk(8)).unwrap();
        g.close();
        let s = p.stats();
        assert_eq!((s.queued, s.discarded_closed), (1, 1), "the end keeps one frame per pending read");
        assert_eq!(p.read(Wait::No).unwrap_err().kind, ErrorKind::Ended, "a new read is not owed it");
        p.close();
        let s = p.stats();
        assert_eq!((s.queued, s.discarded_closed, s.total), (0, 2, 2), "close empties what the end kept");
    }

    #[test]
    fn a_blocked_read_returns_ended_on_close() {
        let g = Generator::new(Kind::Audio);
        let p = Arc::new(Processor::new(g.track(), 4));
        let r = blocked_read(&p, Wait::Forever);
        until_pending(&p, 1);
        p.close();
        assert_eq!(r.join().unwrap(), Err(ErrorKind::Ended));
        g.write(chunk(1)).unwrap();
        assert_eq!(p.read(Wait::No).unwrap_err().kind, ErrorKind::Ended);
        assert_eq!(p.stats().total, 0, "a closed processor is no longer a sink");
    }

    #[test]
    fn latest_only_returns_the_newest_frame_once() {
        let g = Generator::new(Kind::Audio);
        let p = Arc::new(
            Processor::with_options(g.track(), ProcessorOptions { max_buffer_size: 8, latest_only: true }).unwrap(),
        );
        assert!(p.latest_only());
        assert_eq!(p.max_buffer_size(), 1);
        for ts in 1..=5 {
            g.write(chunk(ts)).unwrap();
        }
        let d = p.read(Wait::No).unwrap();
        assert_eq!((d.frame.timestamp(), d.sequence, d.discarded_before), (5, 5, 4));
        assert_eq!(p.read(Wait::No).unwrap_err().kind, ErrorKind::Again, "never the same frame twice");
        assert_eq!(p.read(Wait::For(Duration::from_millis(10))).unwrap_err().kind, ErrorKind::Timeout);
        // A blocked read returns as soon as something new arrives.
        let r = blocked_read(&p, Wait::Forever);
        until_pending(&p, 1);
        g.write(chunk(6)).unwrap();
        assert_eq!(r.join().unwrap(), Ok(6));
        g.write(chunk(7)).unwrap();
        g.write(chunk(8)).unwrap();
        let d = p.read(Wait::Forever).unwrap();
        assert_eq!((d.frame.timestamp(), d.discarded_before), (8, 1));
        let s = p.stats();
        assert_eq!((s.total, s.delivered, s.discarded_superseded, s.discarded_queue_full, s.queued), (8, 3, 5, 0, 0));
        assert_eq!(s.discarded, 5);
    }

    #[test]
    fn discards_are_counted_by_reason_and_reported_with_the_next_frame() {
        let g = Generator::new(Kind::Video);
        let p = Processor::with_options(g.track(), options(2)).unwrap();
        // Queue full: 5 frames into 2 places.
        for ts in 1..=5 {
            g.write(vframe(ts)).unwrap();
        }
        let d = p.read(Wait::No).unwrap();
        assert_eq!((d.frame.timestamp(), d.sequence, d.discarded_before), (4, 4, 3));
        let d = p.read(Wait::No).unwrap();
        assert_eq!((d.frame.timestamp(), d.discarded_before), (5, 0));
        // Muted: not sent, not numbered, counted before the next frame.
        g.set_muted(true);
        g.write(vframe(6)).unwrap();
        g.write(vframe(7)).unwrap();
        g.set_muted(false);
        g.write(vframe(8)).unwrap();
        let d = p.read(Wait::No).unwrap();
        assert_eq!((d.frame.timestamp(), d.sequence, d.discarded_before), (8, 6, 2));
        // Disabled: black frames are delivered, nothing is discarded.
        g.track().set_enabled(false);
        g.write(vframe(9)).unwrap();
        let d = p.read(Wait::No).unwrap();
        assert_eq!((d.frame.timestamp(), d.discarded_before), (9, 0));
        g.track().set_enabled(true);
        // Decimated: at most 10 fps from frames 1/30 s apart keeps one in three.
        let c = crate::constraints::VideoConstraints {
            frame_rate: crate::constraints::ConstrainRange { exact: Some(10.0), ..Default::default() },
            ..Default::default()
        };
        g.track().apply_constraints(&c).unwrap();
        let mut got = Vec::new();
        for i in 0..6 {
            g.write(vframe(1_000_000 + i * 33_333)).unwrap();
            if let Ok(d) = p.read(Wait::No) {
                got.push((d.frame.timestamp(), d.discarded_before));
            }
        }
        assert_eq!(got, vec![(1_000_000, 0), (1_099_999, 2)]);
        // Both frames left after frame 1_099_999 were decimated; they come before the next one.
        g.track().apply_constraints(&Default::default()).unwrap();
        g.write(vframe(2_000_000)).unwrap();
        g.write(vframe(2_000_001)).unwrap();
        p.close();
        let s = p.stats();
        assert_eq!(
            (
                s.discarded_queue_full,
                s.discarded_muted,
                s.discarded_disabled,
                s.discarded_decimated,
                s.discarded_closed
            ),
            (3, 2, 0, 4, 2)
        );
        assert_eq!((s.discarded_superseded, s.discarded_failed), (0, 0));
        assert_eq!(s.discarded, 11);
        assert_eq!((s.total, s.delivered, s.queued), (11, 6, 0));
        assert_eq!(s.total, s.delivered + s.discarded_in_queue() + s.queued);
    }

    #[test]
    fn each_processor_counts_only_what_its_own_track_discarded() {
        let g = Generator::new(Kind::Video);
        let slow = g.track().clone_track();
        let c = crate::constraints::VideoConstraints {
            frame_rate: crate::constraints::ConstrainRange { exact: Some(10.0), ..Default::default() },
            ..Default::default()
        };
        slow.apply_constraints(&c).unwrap();
        let (pf, ps) = (Processor::new(g.track(), 8), Processor::new(&slow, 8));
        for i in 0..6 {
            g.write(vframe(i * 33_333)).unwrap();
        }
        let (f, s) = (pf.stats(), ps.stats());
        assert_eq!((f.total, f.discarded), (6, 0));
        assert_eq!((s.total, s.discarded_decimated, s.discarded), (2, 4, 4));
        g.set_muted(true);
        g.write(vframe(1_000_000)).unwrap();
        assert_eq!((pf.stats().discarded_muted, ps.stats().discarded_muted), (1, 1));
    }

    #[test]
    fn a_callback_removed_while_frames_are_queued_is_not_called_again() {
        let g = Generator::new(Kind::Audio);
        let p = Arc::new(Processor::new(g.track(), 100));
        for ts in 0..100 {
            g.write(chunk(ts)).unwrap();
        }
        let calls = Arc::new(AtomicUsize::new(0));
        let (p2, calls2) = (Arc::downgrade(&p), calls.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        p.set_callback(Some(Box::new(move |d: Option<Delivered>| {
            if calls2.fetch_add(1, Ordering::SeqCst) == 0 {
                // Removed from inside the callback, with 99 frames still queued.
                p2.upgrade().unwrap().set_callback(None).unwrap();
                tx.send(d.is_some()).unwrap();
            }
        })))
        .unwrap();
        assert_eq!(rx.recv_timeout(Duration::from_secs(60)), Ok(true));
        // The callback thread has exited once it dropped its closure (and with it `tx`).
        assert!(rx.recv_timeout(Duration::from_secs(60)).is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1, "the removed callback was called again");
        assert_eq!(p.read(Wait::No).unwrap().frame.timestamp(), 1, "the queued frames are the reader's again");
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
