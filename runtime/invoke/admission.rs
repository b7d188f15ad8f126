//! Admission: at most `max_concurrent` executions run at once; function invocations beyond that
//! wait in a bounded queue and are refused with [`Error::Busy`] (503) when it is full. Job runs
//! wait without a bound (their workers are a bounded set). It counts permits only: it knows
//! nothing of handlers, secrets or isolates.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::{Error, Result};

/// Whether an execution may be refused when every slot is taken.
#[derive(Debug, Clone, Copy)]
pub(super) enum Wait {
    /// Wait in the bounded queue; refused when it is full.
    Bounded,
    /// Wait as long as it takes.
    Unbounded,
}

/// See the module documentation.
#[derive(Debug)]
pub(super) struct Admission {
    slots: Semaphore,
    max_concurrent: usize,
    queued: AtomicUsize,
    max_queued: usize,
}

impl Admission {
    pub(super) fn new(max_concurrent: usize, max_queued: usize) -> Self {
        let max_concurrent = max_concurrent.max(1);
        Admission {
            slots: Semaphore::new(max_concurrent),
            max_concurrent,
            queued: AtomicUsize::new(0),
            max_queued,
        }
    }

    /// A slot, held until the returned permit is dropped.
    pub(super) async fn enter(&self, wait: Wait) -> Result<SemaphorePermit<'_>> {
        if let Ok(permit) = self.slots.try_acquire() {
            return Ok(permit);
        }
        if let Wait::Unbounded = wait {
            return Ok(self.slots.acquire().await.expect("slots are never closed"));
        }
        // Counted out when it leaves the queue, also when its caller gives up waiting.
        let place = InQueue::join(&self.queued);
        if place.ahead >= self.max_queued {
            return Err(Error::Busy {
                running: self.max_concurrent,
                queued: place.ahead,
            });
        }
        let permit = self.slots.acquire().await;
        drop(place);
        Ok(permit.expect("slots are never closed"))
    }
}

/// A place in the queue, given up on drop.
struct InQueue<'a> {
    count: &'a AtomicUsize,
    ahead: usize,
}

impl<'a> InQueue<'a> {
    fn join(count: &'a AtomicUsize) -> Self {
        let ahead = count.fetch_add(1, Ordering::SeqCst);
        InQueue { count, ahead }
    }
}

impl Drop for InQueue<'_> {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::SeqCst);
    }
}
