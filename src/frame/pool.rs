//! Recycling of frame objects and media buffers, so a warm pipeline allocates nothing per frame.
//!
//! A `Pooled<T>` is an `Arc<T>` that, when its last reference drops, resets the value and puts
//! the allocation back into its type's recycler instead of freeing it. Uniqueness is decided by
//! `Arc::get_mut`, which is exact: when two holders drop at once and neither sees itself as the
//! last, the allocation is simply freed, never reused while shared.

use std::ops::Deref;
use std::sync::{Arc, Mutex};

pub(crate) trait Recyclable: Send + Sync + Sized + 'static {
    fn recycler() -> &'static Recycler<Self>;
    /// Drops what the value refers to (buffers, external memory) but keeps its allocations.
    fn reset(&mut self);
    /// How many bytes this value keeps allocated while it waits in the recycler.
    fn retained_bytes(&self) -> usize {
        0
    }
}

/// A bounded free list: at most `max_items` values and `max_bytes` retained bytes.
pub(crate) struct Recycler<T> {
    state: Mutex<FreeList<T>>,
    max_items: usize,
    max_bytes: usize,
}

struct FreeList<T> {
    items: Vec<Arc<T>>,
    bytes: usize,
}

impl<T: Recyclable> Recycler<T> {
    pub(crate) const fn new(max_items: usize, max_bytes: usize) -> Self {
        Recycler { state: Mutex::new(FreeList { items: Vec::new(), bytes: 0 }), max_items, max_bytes }
    }

    /// Takes the free value `rank` ranks lowest (`None`: does not fit).
    fn take(&self, rank: impl Fn(&T) -> Option<usize>) -> Option<Arc<T>> {
        let mut list = self.state.lock().unwrap_or_else(|p| p.into_inner());
        // The newest items first (they are the warmest in cache); rank 0 is a perfect fit.
        let mut best: Option<(usize, usize)> = None;
        for (i, v) in list.items.iter().enumerate().rev() {
            if let Some(r) = rank(v) {
                if best.is_none_or(|(b, _)| r < b) {
                    best = Some((r, i));
                }
                if r == 0 {
                    break;
                }
            }
        }
        let (_, best) = best?;
        let item = list.items.swap_remove(best);
        list.bytes -= item.retained_bytes();
        Some(item)
    }

    /// The values waiting for reuse that keep bytes, and those bytes.
    pub(crate) fn idle(&self) -> (usize, usize) {
        let list = self.state.lock().unwrap_or_else(|p| p.into_inner());
        (list.items.iter().filter(|v| v.retained_bytes() > 0).count(), list.bytes)
    }

    fn give(&self, item: Arc<T>) {
        let bytes = item.retained_bytes();
        let mut list = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if list.items.len() < self.max_items && list.bytes + bytes <= self.max_bytes {
            if list.items.capacity() == list.items.len() {
                list.items.reserve(self.max_items);
            }
            list.bytes += bytes;
            list.items.push(item);
        }
    }
}

/// A bounded stack of spare boxes, for `ExternalMemory` wrappers that give themselves back in
/// `ExternalMemory::recycle`: wrapping caller memory per frame then allocates nothing once warm.
pub(crate) struct SpareBoxes<T> {
    spare: Mutex<Vec<Box<T>>>,
    max: usize,
}

impl<T> SpareBoxes<T> {
    pub(crate) const fn new(max: usize) -> Self {
        SpareBoxes { spare: Mutex::new(Vec::new()), max }
    }

    pub(crate) fn take(&self) -> Option<Box<T>> {
        self.spare.lock().unwrap_or_else(|p| p.into_inner()).pop()
    }

    /// Keeps `item` for a later `take`, unless `max` are kept already (then it is freed).
    pub(crate) fn give(&self, item: Box<T>) {
        let mut spare = self.spare.lock().unwrap_or_else(|p| p.into_inner());
        if spare.len() < self.max {
            if spare.capacity() == 0 {
                spare.reserve_exact(self.max);
            }
            spare.push(item);
        }
    }
}

pub(crate) struct Pooled<T: Recyclable>(Option<Arc<T>>);

impl<T: Recyclable> Pooled<T> {
    /// A recycled value accepted by `rank` (lowest rank wins), or `make()` when none fits.
    /// `prepare` runs on the value while it is still unique.
    pub(crate) fn take_or(
        rank: impl Fn(&T) -> Option<usize>,
        make: impl FnOnce() -> T,
        prepare: impl FnOnce(&mut T),
    ) -> Self {
        let mut arc = T::recycler().take(rank).unwrap_or_else(|| Arc::new(make()));
        prepare(Arc::get_mut(&mut arc).expect("a recycled or new Arc is unique"));
        Pooled(Some(arc))
    }
}

#[cfg(test)]
impl<T: Recyclable> Pooled<T> {
    /// How many handles share this value.
    pub(crate) fn strong_count(&self) -> usize {
        self.0.as_ref().map_or(0, Arc::strong_count)
    }
}

impl<T: Recyclable> Clone for Pooled<T> {
    fn clone(&self) -> Self {
        Pooled(self.0.clone())
    }
}

impl<T: Recyclable> Deref for Pooled<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.0.as_ref().expect("only Drop takes the Arc out")
    }
}

impl<T: Recyclable> Drop for Pooled<T> {
    fn drop(&mut self) {
        if let Some(mut arc) = self.0.take() {
            if let Some(value) = Arc::get_mut(&mut arc) {
                value.reset();
                T::recycler().give(arc);
            }
        }
    }
}

impl<T: Recyclable> Pooled<T> {
    pub(crate) fn ptr_eq(a: &Self, b: &Self) -> bool {
        match (&a.0, &b.0) {
            (Some(x), Some(y)) => Arc::ptr_eq(x, y),
            _ => false,
        }
    }
}
