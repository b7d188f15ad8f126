//! The pre-booted pool: blank isolates (runtime restored from the snapshot, no user code, no
//! secrets) kept ready so that a cold invocation only loads its module. Taking one starts the
//! boot of its replacement in the background. It never gives a pooled isolate secrets or code.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::isolate::{BlankIsolate, BootOptions};

/// See the module documentation.
#[derive(Debug)]
pub struct PrebootPool {
    ready: Mutex<Vec<BlankIsolate>>,
    /// Boots under way.
    booting: AtomicUsize,
    target: usize,
    options: BootOptions,
}

impl PrebootPool {
    /// A pool that keeps `target` blank isolates booted with `options` (none when 0).
    pub fn new(target: usize, options: BootOptions) -> Arc<Self> {
        Arc::new(PrebootPool {
            ready: Mutex::new(Vec::with_capacity(target)),
            booting: AtomicUsize::new(0),
            target,
            options,
        })
    }

    /// A ready blank isolate, if one is; either way the pool is topped up in the background.
    pub fn take(self: &Arc<Self>) -> Option<BlankIsolate> {
        let blank = self.ready.lock().expect("preboot pool poisoned").pop();
        self.fill();
        blank
    }

    /// Blank isolates ready now.
    pub fn ready(&self) -> usize {
        self.ready.lock().expect("preboot pool poisoned").len()
    }

    /// Starts as many boots as the pool is short of its target. Needs a tokio runtime; without
    /// one it does nothing.
    pub fn fill(self: &Arc<Self>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        loop {
            let booting = self.booting.load(Ordering::SeqCst);
            if self.ready() + booting >= self.target {
                return;
            }
            if self
                .booting
                .compare_exchange(booting, booting + 1, Ordering::SeqCst, Ordering::SeqCst)
                .is_err()
            {
                continue;
            }
            let pool = self.clone();
            runtime.spawn(async move {
                let booted = BlankIsolate::boot(pool.options.clone()).await;
                match booted {
                    Ok(blank) => pool
                        .ready
                        .lock()
                        .expect("preboot pool poisoned")
                        .push(blank),
                    Err(error) => tracing::error!("pre-booting an isolate failed: {error}"),
                }
                pool.booting.fetch_sub(1, Ordering::SeqCst);
            });
        }
    }
}
