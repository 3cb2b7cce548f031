//! Process-wide counters that prove the zero-copy claims in tests and benchmarks.

use std::sync::atomic::{AtomicU64, Ordering};

static PIXEL_BYTES_COPIED: AtomicU64 = AtomicU64::new(0);

/// Records that `n` bytes of pixel or sample data were copied or converted.
/// Every routine that moves media bytes calls this once per call (not per row).
pub fn count_media_bytes(n: usize) {
    PIXEL_BYTES_COPIED.fetch_add(n as u64, Ordering::Relaxed);
}

/// Total media bytes copied by the library since the process started.
pub fn media_bytes_copied() -> u64 {
    PIXEL_BYTES_COPIED.load(Ordering::Relaxed)
}
