//! Two threads for large frames: a kernel over a 1080p or larger frame (and the decode of a
//! 4:2:2 or 4:2:0 MJPEG frame of 640x480 or more, convert/jpeg/) is split into a
//! top and a bottom part,
//! the calling thread does the top while one persistent helper thread ("mst-kernel-helper",
//! started on first use) does the bottom. On 2 cores a single thread does not reach the
//! memory bandwidth the machine has (benches/kernels.rs shows both, at 1080p and 4K).
//!
//! No allocation per call: the job is a pointer to the caller's closure, handed over under a
//! mutex, and the caller waits for it before returning (so the closure outlives its use). If
//! the helper is busy (another thread's frame), the caller does the whole frame itself; if the
//! helper has not started the bottom by the time the caller's top is done (on a loaded
//! machine it may wait long for a core), the caller takes it back and does it too, rather
//! than wait: two threads are then never much slower than one.
//!
//! Hand-over without sleeping where it counts: a thread asleep in a futex takes 40-60 µs to
//! run again on an idle 2-core VM (its vCPU halted), which is 1-2% of a 1080p MJPEG decode at
//! each of its two joins, and more at the end of each half when one waits for the other.
//! So the helper spins for a while ([`SPIN_AFTER_JOB`]) after each job before it sleeps (the
//! MJPEG decode's second join follows its first within microseconds), the caller spins a while
//! ([`SPIN_WAIT`]) for the helper's half before sleeping on it, and [`prewake`] wakes a
//! sleeping helper to spin while the caller prepares a job (the decode's header and
//! unstuffing), so that the first hand-over of a frame does not wait for a wake-up either.
//! The spins are bounded, and yield the core at each turn: spinning without yielding made the
//! two-thread decode a third slower while two compilers ran beside it (our two threads then
//! share a core, and the spinning one took it from the one it waited for); past the bounds
//! both sleep as before. The bounds are well over the gaps they are for: a wake-up here is
//! sometimes far slower than 60 µs (the VM's vCPU waits for the host), and the helper's half
//! of a phase may end a few hundred µs before the caller's; bounds of 20, 50 and 200 µs made
//! the two-thread 1080p 4:2:0 decode 4.2-4.4 ms against 3.3-3.5 ms with these, in alternating
//! runs on the quiet machine (0.54-0.65x of MJPGToI420 against 0.47-0.54x).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Frames with at least this many pixels are split: 1080p and up (benches/kernels.rs, the
/// 2-thread table: 1080p to 720p area scaling takes 0.35 ms on two threads against 0.51 ms on
/// one; the hand-over costs about 10 µs).
pub const MIN_PIXELS: usize = 1920 * 1080;

/// How long the helper spins for the next job after one, before it sleeps: the MJPEG decode's
/// second hand-over follows its first as soon as the caller's half of the first is done.
const SPIN_AFTER_JOB: Duration = Duration::from_micros(100);
/// How long a [`prewake`]d helper spins for its job: a 1080p MJPEG frame's preparation (table
/// history, header, unstuffing) takes about 0.15 ms.
const SPIN_PREWAKE: Duration = Duration::from_micros(500);
/// How long the caller, its half done, spins for the helper's before it sleeps.
const SPIN_WAIT: Duration = Duration::from_micros(200);

static ENABLED: AtomicBool = AtomicBool::new(true);

/// Whether large frames are split over two threads (default true). For benchmarks that show
/// both, and for callers that want every kernel on their own thread.
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// A job: the caller's closure, lifetime erased (the caller waits until it is done).
struct Job(*mut (dyn FnMut() + Send));
// SAFETY: the closure is Send, and the pointer is used only while the caller waits.
unsafe impl Send for Job {}

#[derive(Default)]
struct State {
    job: Option<Job>,
    /// Set by the helper when the job has run (or panicked).
    done: bool,
    /// The helper is asleep on `wake` (a job or a pre-wake must notify it).
    asleep: bool,
    /// The caller is asleep on `finished`.
    waiting: bool,
    /// [`prewake`]: spin for a job instead of sleeping.
    prewake: bool,
}

struct Helper {
    busy: AtomicBool,
    state: Mutex<State>,
    wake: Condvar,
    finished: Condvar,
    /// Mirrors of `state.job.is_some()` and `state.done`, read while spinning.
    posted: AtomicBool,
    done: AtomicBool,
}

/// Spins until `flag` is set or `limit` has passed; whether it was set. Each turn yields the
/// core (sched_yield): on a loaded machine the thread that would set the flag, or any other,
/// may need it, and a spin that kept it would delay the very work it waits for; on an idle
/// one the yield returns at once.
fn spin_for(flag: &AtomicBool, limit: Duration) -> bool {
    let start = Instant::now();
    loop {
        if flag.load(Ordering::Acquire) {
            return true;
        }
        if start.elapsed() >= limit {
            return flag.load(Ordering::Acquire);
        }
        std::thread::yield_now();
    }
}

fn helper() -> Option<&'static Helper> {
    static HELPER: OnceLock<Option<&'static Helper>> = OnceLock::new();
    *HELPER.get_or_init(|| {
        let h: &'static Helper = Box::leak(Box::new(Helper {
            busy: AtomicBool::new(false),
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            finished: Condvar::new(),
            posted: AtomicBool::new(false),
            done: AtomicBool::new(false),
        }));
        std::thread::Builder::new()
            .name("mst-kernel-helper".into())
            .spawn(move || {
                let mut spin = Duration::ZERO;
                loop {
                    if !spin.is_zero() {
                        spin_for(&h.posted, spin);
                    }
                    let job = {
                        let mut s = h.state.lock().unwrap_or_else(|e| e.into_inner());
                        loop {
                            if let Some(j) = s.job.take() {
                                h.posted.store(false, Ordering::Relaxed);
                                break Some(j);
                            }
                            if std::mem::take(&mut s.prewake) {
                                break None;
                            }
                            s.asleep = true;
                            s = h.wake.wait(s).unwrap_or_else(|e| e.into_inner());
                            s.asleep = false;
                        }
                    };
                    let Some(job) = job else {
                        spin = SPIN_PREWAKE;
                        continue;
                    };
                    // A kernel's panic is libmst's: logged, not printed.
                    let _libmst = crate::log::Entry::new();
                    // SAFETY: the caller keeps the closure alive until `done` is seen.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { (*job.0)() }));
                    let mut s = h.state.lock().unwrap_or_else(|e| e.into_inner());
                    s.done = true;
                    h.done.store(true, Ordering::Release);
                    if s.waiting {
                        h.finished.notify_all();
                    }
                    spin = SPIN_AFTER_JOB;
                }
            })
            .ok()
            .map(|_| h)
    })
}

/// Wakes the helper, if it sleeps, to spin for a job the caller is about to [`join`] (within
/// [`SPIN_PREWAKE`]): the job then starts without a wake-up's delay. Nothing when splitting is
/// off or the helper is busy.
pub fn prewake() {
    let Some(h) = helper() else { return };
    if !enabled() || h.busy.load(Ordering::Relaxed) {
        return;
    }
    let mut s = h.state.lock().unwrap_or_else(|e| e.into_inner());
    if s.asleep {
        s.prewake = true;
        h.wake.notify_one();
    }
}

/// Runs `top` on this thread and `bottom` on the helper, returning when both are done; runs
/// both here when splitting is off, the helper cannot start, or it is busy.
pub fn join(top: impl FnOnce(), bottom: impl FnOnce() + Send) {
    let h = match helper() {
        Some(h) if enabled() && !h.busy.swap(true, Ordering::Acquire) => h,
        _ => {
            top();
            bottom();
            return;
        }
    };
    let mut bottom = Some(bottom);
    let mut call = move || {
        if let Some(b) = bottom.take() {
            b()
        }
    };
    let ptr: *mut (dyn FnMut() + Send + '_) = &mut call;
    // SAFETY: lifetime erasure only; this function does not return before the helper has
    // finished with the pointer (`done`), so `call` outlives every use.
    let ptr: *mut (dyn FnMut() + Send + 'static) = unsafe { std::mem::transmute(ptr) };
    {
        let mut s = h.state.lock().unwrap_or_else(|e| e.into_inner());
        s.done = false;
        h.done.store(false, Ordering::Relaxed);
        s.job = Some(Job(ptr));
        s.prewake = false;
        h.posted.store(true, Ordering::Release);
        if s.asleep {
            h.wake.notify_one();
        }
    }
    // Whatever happens in `top`, wait for the helper before `call` goes out of scope.
    let top_result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(top));
    // The helper has not taken the bottom yet (on a loaded machine it may wait for a core):
    // it is done here rather than waited for.
    let reclaimed = {
        let mut s = h.state.lock().unwrap_or_else(|e| e.into_inner());
        h.posted.store(false, Ordering::Relaxed);
        s.job.take().is_some()
    };
    if reclaimed {
        h.busy.store(false, Ordering::Release);
        if let Err(p) = top_result {
            std::panic::resume_unwind(p);
        }
        call();
        return;
    }
    if !spin_for(&h.done, SPIN_WAIT) {
        let mut s = h.state.lock().unwrap_or_else(|e| e.into_inner());
        while !s.done {
            s.waiting = true;
            s = h.finished.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        s.waiting = false;
    }
    h.busy.store(false, Ordering::Release);
    if let Err(p) = top_result {
        std::panic::resume_unwind(p);
    }
}

/// [`join`], and how long each part took, each timed in its own closure (so a helper's late
/// start is not counted as its speed): what [`Balance::learn`] takes.
pub fn join_timed(top: impl FnOnce(), bottom: impl FnOnce() + Send) -> (Duration, Duration) {
    let (mut t_top, mut t_bottom) = (Duration::ZERO, Duration::ZERO);
    join(
        || {
            let t0 = Instant::now();
            top();
            t_top = t0.elapsed();
        },
        || {
            let t0 = Instant::now();
            bottom();
            t_bottom = t0.elapsed();
        },
    );
    (t_top, t_bottom)
}

/// Where to split work that [`join`] runs in two parts of unequal speed: the share of it the
/// caller's part takes, learnt from how long each part took per unit of work in the frames
/// before. Equal halves do not take equal times here: in `cargo bench --bench kernels` on
/// the idle 2-vCPU VM, the helper's half of the 1080p MJPEG decode's IDCT took 1.5-2.2 ms
/// against the caller's 1.2-1.4 ms in most runs, and its Huffman half 1.8-2.0 ms against
/// 1.65-1.7 (why is not pinned down: with the IDCT halves swapped between the threads, both
/// took about 2 ms); cut in the middle, the caller waited for the helper at each join.
#[derive(Clone, Copy, Debug)]
pub struct Balance {
    share: f64,
}

impl Default for Balance {
    fn default() -> Balance {
        Balance { share: 0.5 }
    }
}

impl Balance {
    /// Bounds on the caller's share: a frame or two on a helper that did not get its core
    /// (its part then takes many times the caller's) must not move nearly all the work to one
    /// thread.
    const MIN: f64 = 0.3;
    const MAX: f64 = 0.7;
    /// How far one frame's timing moves the share towards the balance it shows.
    const STEP: f64 = 0.25;

    /// A split that gives the caller `share` of the work until timings move it.
    #[cfg(test)]
    pub fn with_share(share: f64) -> Balance {
        Balance { share: share.clamp(Self::MIN, Self::MAX) }
    }

    /// The caller's part of `units` units of work (the rest is the helper's): half of them
    /// until timings say otherwise; at least 1 and at most `units - 1` when `units` is 2 or
    /// more, else 0 (as `units / 2`).
    pub fn first(&self, units: usize) -> usize {
        if units < 2 {
            return 0;
        }
        ((units as f64 * self.share).round() as usize).clamp(1, units - 1)
    }

    /// Learns from a split: the caller's `mine` units took `t_mine`, the helper's `theirs`
    /// took `t_theirs` (each timed in its own part: a helper's late start is not its speed).
    /// Nothing learnt from a part with no units or no time.
    pub fn learn(&mut self, mine: usize, t_mine: Duration, theirs: usize, t_theirs: Duration) {
        if mine == 0 || theirs == 0 || t_mine.is_zero() || t_theirs.is_zero() {
            return;
        }
        // Time per unit on each thread; the balance gives each thread work in inverse
        // proportion to it.
        let (c, h) = (t_mine.as_secs_f64() / mine as f64, t_theirs.as_secs_f64() / theirs as f64);
        let target = h / (c + h);
        self.share = (self.share + Self::STEP * (target - self.share)).clamp(Self::MIN, Self::MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balance_moves_work_to_the_faster_thread_within_bounds() {
        let mut b = Balance::default();
        assert_eq!((b.first(68), b.first(1), b.first(0), b.first(2)), (34, 0, 0, 1));
        let ms = Duration::from_millis;
        // The helper takes twice as long per unit: the caller's share grows towards 2/3.
        for _ in 0..50 {
            let n = b.first(90);
            b.learn(n, ms(n as u64), 90 - n, ms(2 * (90 - n) as u64));
        }
        assert_eq!(b.first(90), 60);
        // No units or no time on a side: nothing learnt.
        b.learn(0, ms(1), 10, ms(1));
        b.learn(10, Duration::ZERO, 10, ms(1));
        assert_eq!(b.first(90), 60);
        // A helper many times slower: the caller's share stops at its bound.
        for _ in 0..50 {
            b.learn(10, ms(1), 10, ms(100));
        }
        assert_eq!(b.first(100), 70);
        for _ in 0..50 {
            b.learn(10, ms(100), 10, ms(1));
        }
        assert_eq!(b.first(100), 30);
    }

    #[test]
    fn both_halves_run_and_the_helper_is_reused() {
        for _ in 0..100 {
            let (mut a, mut b) = (0, 0);
            join(|| a = 1, || b = 2);
            assert_eq!((a, b), (1, 2));
        }
        // Each way the hand-over can go: the helper's half longer than the caller's spin (the
        // caller sleeps), the caller's longer, the helper asleep at the next job (past its
        // spin), or woken early to spin for it.
        let ms = std::time::Duration::from_millis(2);
        for round in 0..8 {
            let (mut a, mut b) = (0, 0);
            if round % 4 == 3 {
                prewake();
            }
            join(
                || {
                    if round % 4 == 1 {
                        std::thread::sleep(ms);
                    }
                    a = round
                },
                || {
                    if round % 4 == 0 {
                        std::thread::sleep(ms);
                    }
                    b = round + 1
                },
            );
            assert_eq!((a, b), (round, round + 1));
            if round % 4 >= 2 {
                std::thread::sleep(ms);
            }
        }
        // Concurrent callers: one gets the helper, the others run both halves themselves.
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..100 {
                        let (mut a, mut b) = (0u64, 0u64);
                        join(|| a = 3, || b = 4);
                        assert_eq!((a, b), (3, 4));
                    }
                });
            }
        });
    }
}
