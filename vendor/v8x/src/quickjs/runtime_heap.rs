#![cfg_attr(not(target_os = "linux"), allow(dead_code))]
//! fluxbase patch: a heap of its own for every isolate's QuickJS runtime, freed
//! whole when the isolate is disposed.
//!
//! Objects that something still references when the isolate ends (v8x's
//! templates hold their data and cached prototypes, and through them the
//! context) are never freed by `JS_FreeRuntime`. QuickJS frees its small-block
//! arenas wholesale, but every block over 512 bytes those objects reach
//! (bytecode, property tables, long strings, arrays) stayed allocated: about
//! 1.5 MiB per isolate with deno_core and the web extensions.
//!
//! [`new_runtime`] creates the runtime with `JS_NewRuntime2` and allocation
//! functions that put every block the runtime takes from the system allocator
//! on a list of that runtime; [`free_runtime`] lets QuickJS free what it still
//! knows of, then frees every block left on the list. Nothing may use the
//! runtime's memory afterwards, which already held for the arenas.
//!
//! Linux only (it needs `malloc_usable_size`); elsewhere runtimes are created
//! and freed as before.

#[cfg(not(target_os = "linux"))]
use super::quickjs_sys::JS_NewRuntime;
use super::quickjs_sys::{JS_FreeRuntime, JSRuntime};
use std::cell::UnsafeCell;
use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

static ENDED_RUNTIMES: AtomicU64 = AtomicU64::new(0);
static RECLAIMED_BLOCKS: AtomicU64 = AtomicU64::new(0);
static RECLAIMED_BYTES: AtomicU64 = AtomicU64::new(0);

/// Runtimes freed through [`free_runtime`], and the blocks and bytes that
/// `JS_FreeRuntime` left allocated in them, freed here, since the process
/// started.
pub fn reclaimed() -> (u64, u64, u64) {
  (
    ENDED_RUNTIMES.load(Ordering::Relaxed),
    RECLAIMED_BLOCKS.load(Ordering::Relaxed),
    RECLAIMED_BYTES.load(Ordering::Relaxed),
  )
}

/// An isolate's runtime with the heap that holds its blocks.
pub(crate) struct RuntimeHeap {
  heap: *mut Heap,
}

/// Creates a runtime on a heap of its own (a null `heap` where that is not
/// available).
pub(crate) fn new_runtime() -> (*mut JSRuntime, RuntimeHeap) {
  #[cfg(target_os = "linux")]
  {
    let heap = Box::into_raw(Heap::new());
    let rt = unsafe { JS_NewRuntime2(&FUNCTIONS, heap.cast()) };
    if rt.is_null() {
      drop(unsafe { Box::from_raw(heap) });
      return (rt, RuntimeHeap { heap: ptr::null_mut() });
    }
    (rt, RuntimeHeap { heap })
  }
  #[cfg(not(target_os = "linux"))]
  {
    (unsafe { JS_NewRuntime() }, RuntimeHeap { heap: ptr::null_mut() })
  }
}

/// Frees the runtime, then every block of its heap QuickJS left allocated.
///
/// # Safety
/// `rt` came from [`new_runtime`] with `heap`; nothing uses its memory after.
pub(crate) unsafe fn free_runtime(rt: *mut JSRuntime, heap: RuntimeHeap) {
  unsafe { JS_FreeRuntime(rt) };
  if heap.heap.is_null() {
    return;
  }
  let heap = unsafe { Box::from_raw(heap.heap) };
  let (blocks, bytes) = unsafe { heap.free_all() };
  ENDED_RUNTIMES.fetch_add(1, Ordering::Relaxed);
  RECLAIMED_BLOCKS.fetch_add(blocks, Ordering::Relaxed);
  RECLAIMED_BYTES.fetch_add(bytes, Ordering::Relaxed);
}

/// QuickJS's `JSMallocFunctions` (quickjs.h).
#[repr(C)]
struct MallocFunctions {
  calloc: unsafe extern "C" fn(*mut c_void, usize, usize) -> *mut c_void,
  malloc: unsafe extern "C" fn(*mut c_void, usize) -> *mut c_void,
  free: unsafe extern "C" fn(*mut c_void, *mut c_void),
  realloc: unsafe extern "C" fn(*mut c_void, *mut c_void, usize) -> *mut c_void,
  usable_size: unsafe extern "C" fn(*const c_void) -> usize,
}

unsafe extern "C" {
  fn JS_NewRuntime2(
    functions: *const MallocFunctions,
    opaque: *mut c_void,
  ) -> *mut JSRuntime;
  fn malloc(size: usize) -> *mut c_void;
  fn calloc(count: usize, size: usize) -> *mut c_void;
  fn realloc(block: *mut c_void, size: usize) -> *mut c_void;
  fn free(block: *mut c_void);
  #[cfg(target_os = "linux")]
  fn malloc_usable_size(block: *mut c_void) -> usize;
}

#[cfg(target_os = "linux")]
static FUNCTIONS: MallocFunctions = MallocFunctions {
  calloc: heap_calloc,
  malloc: heap_malloc,
  free: heap_free,
  realloc: heap_realloc,
  usable_size: heap_usable_size,
};

/// The link in front of every block: its place on its runtime's list. Sixteen
/// bytes, so the address QuickJS gets keeps the system allocator's alignment.
#[repr(C, align(16))]
struct Link {
  prev: *mut Link,
  next: *mut Link,
}

const LINK: usize = size_of::<Link>();

/// The blocks one runtime holds, as a circular list through `head`.
struct Heap {
  /// QuickJS uses a runtime on one thread at a time; the lock keeps the list
  /// whole even if that were ever broken.
  lock: Mutex<()>,
  head: UnsafeCell<Link>,
}

impl Heap {
  fn new() -> Box<Heap> {
    let heap = Box::new(Heap {
      lock: Mutex::new(()),
      head: UnsafeCell::new(Link {
        prev: ptr::null_mut(),
        next: ptr::null_mut(),
      }),
    });
    let head = heap.head.get();
    unsafe {
      (*head).prev = head;
      (*head).next = head;
    }
    heap
  }

  fn guard(&self) -> MutexGuard<'_, ()> {
    self.lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
  }

  /// Puts a block just allocated on the list; returns the address QuickJS gets.
  unsafe fn attach(&self, link: *mut Link) -> *mut c_void {
    let _guard = self.guard();
    let head = self.head.get();
    unsafe {
      (*link).prev = head;
      (*link).next = (*head).next;
      (*(*head).next).prev = link;
      (*head).next = link;
      link.cast::<u8>().add(LINK).cast()
    }
  }

  /// Takes the block QuickJS knows as `user` off the list; returns the system
  /// allocator's address of it.
  unsafe fn detach(&self, user: *mut c_void) -> *mut Link {
    let _guard = self.guard();
    unsafe {
      let link = user.cast::<u8>().sub(LINK).cast::<Link>();
      (*(*link).prev).next = (*link).next;
      (*(*link).next).prev = (*link).prev;
      link
    }
  }

  /// Frees every block still on the list; returns their number and bytes.
  #[cfg(target_os = "linux")]
  unsafe fn free_all(&self) -> (u64, u64) {
    let _guard = self.guard();
    let head = self.head.get();
    let (mut blocks, mut bytes) = (0, 0);
    unsafe {
      let mut link = (*head).next;
      while link != head {
        let next = (*link).next;
        blocks += 1;
        bytes += malloc_usable_size(link.cast()) as u64;
        free(link.cast());
        link = next;
      }
      (*head).prev = head;
      (*head).next = head;
    }
    (blocks, bytes)
  }

  #[cfg(not(target_os = "linux"))]
  unsafe fn free_all(&self) -> (u64, u64) {
    (0, 0)
  }
}

unsafe extern "C" fn heap_malloc(opaque: *mut c_void, size: usize) -> *mut c_void {
  let Some(total) = size.checked_add(LINK) else {
    return ptr::null_mut();
  };
  let link = unsafe { malloc(total) }.cast::<Link>();
  if link.is_null() {
    return ptr::null_mut();
  }
  unsafe { (*opaque.cast::<Heap>()).attach(link) }
}

unsafe extern "C" fn heap_calloc(
  opaque: *mut c_void,
  count: usize,
  size: usize,
) -> *mut c_void {
  let Some(total) = count.checked_mul(size).and_then(|n| n.checked_add(LINK))
  else {
    return ptr::null_mut();
  };
  let link = unsafe { calloc(1, total) }.cast::<Link>();
  if link.is_null() {
    return ptr::null_mut();
  }
  unsafe { (*opaque.cast::<Heap>()).attach(link) }
}

unsafe extern "C" fn heap_free(opaque: *mut c_void, user: *mut c_void) {
  if user.is_null() {
    return;
  }
  unsafe { free((*opaque.cast::<Heap>()).detach(user).cast()) }
}

unsafe extern "C" fn heap_realloc(
  opaque: *mut c_void,
  user: *mut c_void,
  size: usize,
) -> *mut c_void {
  if user.is_null() {
    return unsafe { heap_malloc(opaque, size) };
  }
  if size == 0 {
    unsafe { heap_free(opaque, user) };
    return ptr::null_mut();
  }
  let Some(total) = size.checked_add(LINK) else {
    return ptr::null_mut();
  };
  let heap = unsafe { &*opaque.cast::<Heap>() };
  let link = unsafe { heap.detach(user) };
  let moved = unsafe { realloc(link.cast(), total) }.cast::<Link>();
  if moved.is_null() {
    // The old block is untouched: it goes back on the list.
    unsafe { heap.attach(link) };
    return ptr::null_mut();
  }
  unsafe { heap.attach(moved) }
}

#[cfg(target_os = "linux")]
unsafe extern "C" fn heap_usable_size(user: *const c_void) -> usize {
  if user.is_null() {
    return 0;
  }
  let link = unsafe { user.cast::<u8>().sub(LINK) };
  unsafe { malloc_usable_size(link.cast_mut().cast()) }.saturating_sub(LINK)
}
