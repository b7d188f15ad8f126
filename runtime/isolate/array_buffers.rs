//! The memory behind an isolate's `ArrayBuffer`s, held to the isolate's heap limit: V8 keeps
//! those bytes outside its heap, so the allocator made here refuses an allocation past the
//! budget, which V8 turns into a catchable `RangeError`. [`BufferBudget::take_refusal`] tells
//! the near-heap-limit callback that such a refusal (not a full heap) is why it was called.
//! Memory accounting only: it never ends an isolate itself.

use std::alloc::Layout;
use std::ffi::c_void;
use std::sync::Arc;
use std::sync::atomic::AtomicU8;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;

use deno_core::v8;

/// No refused allocation is being retried.
const IDLE: u8 = 0;
/// An allocation was refused; V8 is collecting garbage to retry it.
const REFUSING: u8 = 1;
/// The near-heap-limit callback was told of the refusal; V8's last retry is still to come.
const REPORTED: u8 = 2;

/// The bytes one isolate's live array buffers may hold, how many they hold now, and where a
/// refused allocation is in V8's retries (`IDLE`, `REFUSING`, `REPORTED`).
#[derive(Debug)]
struct Budget {
    limit: usize,
    used: AtomicUsize,
    refusal: AtomicU8,
}

impl Budget {
    fn new(limit: usize) -> Self {
        Self {
            limit,
            used: AtomicUsize::new(0),
            refusal: AtomicU8::new(IDLE),
        }
    }

    /// Counts `len` more bytes, unless that would pass the limit.
    ///
    /// V8 retries a refused allocation after collecting garbage, and tries once more after its
    /// last-resort collection (the one that calls the near-heap-limit callback): a refusal after
    /// the callback was told ends the episode.
    fn reserve(&self, len: usize) -> bool {
        let reserved = self
            .used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                used.checked_add(len).filter(|&total| total <= self.limit)
            })
            .is_ok();
        let next = match (reserved, self.refusal.load(Ordering::SeqCst)) {
            (true, _) | (false, REPORTED) => IDLE,
            (false, _) => REFUSING,
        };
        self.refusal.store(next, Ordering::SeqCst);
        reserved
    }

    fn release(&self, len: usize) {
        self.used.fetch_sub(len, Ordering::SeqCst);
    }
}

/// The budget of one isolate's array buffers, as the near-heap-limit callback sees it.
#[derive(Clone, Debug)]
pub struct BufferBudget(Arc<Budget>);

impl BufferBudget {
    /// Whether an array buffer allocation is being refused right now (so the near-heap-limit
    /// callback was called by V8's last-resort collection before it throws a `RangeError`, not
    /// because the heap is full). Answers `true` once per refusal.
    pub fn take_refusal(&self) -> bool {
        self.0
            .refusal
            .compare_exchange(REFUSING, REPORTED, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }
}

/// An array buffer allocator whose live buffers stay within `limit` bytes in all, and the
/// budget it keeps.
pub fn limited(limit: usize) -> (v8::SharedRef<v8::Allocator>, BufferBudget) {
    static VTABLE: v8::RustAllocatorVtable<Budget> = v8::RustAllocatorVtable {
        allocate,
        allocate_uninitialized,
        free,
        drop: drop_budget,
    };
    let budget = Arc::new(Budget::new(limit));
    let handle = Arc::into_raw(budget.clone());
    // SAFETY: the handle is an `Arc<Budget>` turned into a raw pointer, which `drop_budget`
    // turns back once V8 drops the allocator; the vtable's functions take exactly that handle.
    let allocator = unsafe { v8::new_rust_allocator(handle, &VTABLE) }.make_shared();
    (allocator, BufferBudget(budget))
}

/// The layout of a buffer of `len` bytes (at least one byte: the global allocator takes no
/// empty layouts), aligned as V8 expects of any buffer.
fn layout(len: usize) -> Option<Layout> {
    Layout::from_size_align(len.max(1), 16).ok()
}

unsafe extern "C" fn allocate(budget: &Budget, len: usize) -> *mut c_void {
    // SAFETY: `allocate_with` is given a zeroing global allocation function.
    unsafe { allocate_with(budget, len, std::alloc::alloc_zeroed) }
}

unsafe extern "C" fn allocate_uninitialized(budget: &Budget, len: usize) -> *mut c_void {
    // SAFETY: as above; V8 asks for uninitialised memory here and writes it before use.
    unsafe { allocate_with(budget, len, std::alloc::alloc) }
}

/// Allocates `len` bytes with `alloc` if the budget has room; a null pointer otherwise.
///
/// # Safety
/// `alloc` must be `std::alloc::alloc` or `std::alloc::alloc_zeroed`.
unsafe fn allocate_with(
    budget: &Budget,
    len: usize,
    alloc: unsafe fn(Layout) -> *mut u8,
) -> *mut c_void {
    let Some(layout) = layout(len) else {
        return std::ptr::null_mut();
    };
    if !budget.reserve(len) {
        return std::ptr::null_mut();
    }
    // SAFETY: the layout has a non-zero size.
    let data = unsafe { alloc(layout) };
    if data.is_null() {
        budget.release(len);
    }
    data.cast()
}

unsafe extern "C" fn free(budget: &Budget, data: *mut c_void, len: usize) {
    if data.is_null() {
        return;
    }
    let layout = layout(len).expect("the layout of a buffer that was allocated");
    // SAFETY: V8 frees a buffer once, with the length it was allocated with, by this allocator.
    unsafe { std::alloc::dealloc(data.cast(), layout) };
    budget.release(len);
}

unsafe extern "C" fn drop_budget(budget: *const Budget) {
    // SAFETY: the pointer came from `Arc::into_raw` in `limited`, and V8 drops it once.
    drop(unsafe { Arc::from_raw(budget) });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_refuses_what_would_pass_the_limit_and_counts_what_is_freed() {
        let budget = Budget::new(100);
        let first = unsafe { allocate(&budget, 60) };
        assert!(!first.is_null());
        assert!(unsafe { allocate(&budget, 41) }.is_null(), "over the limit");
        let second = unsafe { allocate_uninitialized(&budget, 40) };
        assert!(!second.is_null());
        assert_eq!(budget.used.load(Ordering::SeqCst), 100);
        unsafe { free(&budget, first, 60) };
        unsafe { free(&budget, second, 40) };
        assert_eq!(budget.used.load(Ordering::SeqCst), 0);
        let empty = unsafe { allocate(&budget, 0) };
        assert!(!empty.is_null());
        unsafe { free(&budget, empty, 0) };
    }

    #[test]
    fn a_refusal_is_reported_once_and_ends_with_the_retry_after_the_report() {
        let budget = Arc::new(Budget::new(10));
        let view = BufferBudget(budget.clone());
        assert!(!view.take_refusal(), "nothing refused yet");
        assert!(unsafe { allocate(&budget, 11) }.is_null());
        assert!(
            unsafe { allocate(&budget, 11) }.is_null(),
            "a retry after a collection"
        );
        assert!(view.take_refusal(), "the last-resort collection's callback");
        assert!(!view.take_refusal(), "once per refusal");
        assert!(
            unsafe { allocate(&budget, 11) }.is_null(),
            "the retry after it"
        );
        assert!(!view.take_refusal(), "the refusal is over");
        // A refusal that a collection resolves ends with the allocation that succeeds.
        assert!(unsafe { allocate(&budget, 11) }.is_null());
        let data = unsafe { allocate(&budget, 5) };
        assert!(!view.take_refusal());
        unsafe { free(&budget, data, 5) };
    }
}
