//! Two threads for large frames: a kernel over a 1080p or larger frame (and the decode of a
//! 4:2:2 or 4:2:0 MJPEG frame of 640x480 or more, convert/jpeg/) is split into a
//! top and a bottom part,
//! the calling thread does the top while one persistent helper thread ("mst-kernel-helper",
//! started on first use) does the bottom. On 2 cores a single thread does not reach the
//! memory bandwidth the machine has (benches/kernels.rs shows both, at 1080p and 4K).
//!
//! No allocation per call: the job is a pointer to the caller's closure, handed over under a
//! mutex, and the caller waits for it before returning (so the closure outlives its use). If
//! the helper is busy (another thread's frame), the caller does the whole frame itself.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};

/// Frames with at least this many pixels are split: 1080p and up (benches/kernels.rs, the
/// 2-thread table: 1080p to 720p area scaling takes 0.35 ms on two threads against 0.51 ms on
/// one; the hand-over costs about 10 µs).
pub const MIN_PIXELS: usize = 1920 * 1080;

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
}

struct Helper {
    busy: AtomicBool,
    state: Mutex<State>,
    wake: Condvar,
    finished: Condvar,
}

fn helper() -> Option<&'static Helper> {
    static HELPER: OnceLock<Option<&'static Helper>> = OnceLock::new();
    *HELPER.get_or_init(|| {
        let h: &'static Helper = Box::leak(Box::new(Helper {
            busy: AtomicBool::new(false),
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            finished: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("mst-kernel-helper".into())
            .spawn(move || loop {
                let job = {
                    let mut s = h.state.lock().unwrap_or_else(|e| e.into_inner());
                    loop {
                        if let Some(j) = s.job.take() {
                            break j;
                        }
                        s = h.wake.wait(s).unwrap_or_else(|e| e.into_inner());
                    }
                };
                // A kernel's panic is libmst's: logged, not printed.
                let _libmst = crate::log::Entry::new();
                // SAFETY: the caller keeps the closure alive until `done` is seen.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { (*job.0)() }));
                let mut s = h.state.lock().unwrap_or_else(|e| e.into_inner());
                s.done = true;
                h.finished.notify_all();
            })
            .ok()
            .map(|_| h)
    })
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
        s.job = Some(Job(ptr));
        h.wake.notify_one();
    }
    // Whatever happens in `top`, wait for the helper before `call` goes out of scope.
    let top_result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(top));
    {
        let mut s = h.state.lock().unwrap_or_else(|e| e.into_inner());
        while !s.done {
            s = h.finished.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }
    h.busy.store(false, Ordering::Release);
    if let Err(p) = top_result {
        std::panic::resume_unwind(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_halves_run_and_the_helper_is_reused() {
        for _ in 0..100 {
            let (mut a, mut b) = (0, 0);
            join(|| a = 1, || b = 2);
            assert_eq!((a, b), (1, 2));
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
