//! Warm isolates of the per-function policy: booted for one handler in one namespace, reused
//! for its later executions one at a time, and retired when its file or secrets change, when
//! idle too long, after its maximum executions, or after a timeout or out of memory (not after
//! an uncaught exception). Isolates of two handlers, or of one handler in two namespaces, are
//! never shared. It keeps isolates only: it resolves no secrets and boots nothing itself.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::injection::{Injection, Source};
use crate::handlers::{FileStamp, Handler, HandlerKind};
use crate::isolate::Isolate;
use crate::secrets::Namespace;

/// Which handler, in which namespace, an isolate belongs to.
pub(super) type WarmKey = (HandlerKind, String, Namespace);

/// What an isolate was booted from; any difference retires it.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Fingerprint {
    path: PathBuf,
    stamp: FileStamp,
    secrets: std::sync::Arc<[(String, Source)]>,
}

impl Fingerprint {
    /// The fingerprint of `handler`'s file as it is now, with these secrets.
    pub(super) fn of(handler: &Handler, stamp: FileStamp, injection: &Injection) -> Self {
        Fingerprint {
            path: handler.path.clone(),
            stamp,
            secrets: injection.fingerprint(),
        }
    }
}

/// An isolate with what it was booted from and how it has been used.
pub(super) struct Warm {
    pub(super) isolate: Isolate,
    pub(super) fingerprint: Fingerprint,
    pub(super) executions: u64,
    pub(super) last_used: Instant,
}

/// Limits on how long and how much a warm isolate is used.
#[derive(Debug, Clone, Copy)]
pub(super) struct Retirement {
    pub(super) idle: Duration,
    pub(super) max_executions: u64,
}

/// The idle warm isolates, by handler and namespace (most recently used last).
#[derive(Default)]
pub(super) struct WarmIsolates {
    idle: Mutex<HashMap<WarmKey, Vec<Warm>>>,
}

impl WarmIsolates {
    /// An idle isolate of `key` booted from `fingerprint`, if there is one. Isolates of `key`
    /// that no longer match, or that have outlived their limits, are retired on the way.
    pub(super) fn check_out(
        &self,
        key: &WarmKey,
        fingerprint: &Fingerprint,
        limits: Retirement,
    ) -> Option<Warm> {
        let mut idle = self.idle.lock().expect("warm isolates poisoned");
        let isolates = idle.get_mut(key)?;
        let (current, stale): (Vec<Warm>, Vec<Warm>) = isolates
            .drain(..)
            .partition(|warm| warm.fingerprint == *fingerprint && usable(warm, limits));
        stale
            .into_iter()
            .for_each(|warm| super::retire(warm.isolate));
        *isolates = current;
        let found = isolates.pop();
        if isolates.is_empty() {
            idle.remove(key);
        }
        found
    }

    /// Puts an isolate back after a successful execution, unless it has reached its limits.
    pub(super) fn check_in(&self, key: WarmKey, mut warm: Warm, limits: Retirement) {
        warm.executions += 1;
        warm.last_used = Instant::now();
        if !usable(&warm, limits) {
            super::retire(warm.isolate);
            return;
        }
        self.idle
            .lock()
            .expect("warm isolates poisoned")
            .entry(key)
            .or_default()
            .push(warm);
    }

    /// Retires every isolate idle for longer than the limit. Returns how many.
    pub(super) fn retire_idle(&self, limits: Retirement) -> usize {
        let mut idle = self.idle.lock().expect("warm isolates poisoned");
        let mut count = 0;
        idle.retain(|_, isolates| {
            let (keep, old): (Vec<Warm>, Vec<Warm>) =
                isolates.drain(..).partition(|warm| usable(warm, limits));
            count += old.len();
            old.into_iter().for_each(|warm| super::retire(warm.isolate));
            *isolates = keep;
            !isolates.is_empty()
        });
        count
    }

    /// How many isolates are idle now.
    pub(super) fn len(&self) -> usize {
        self.idle
            .lock()
            .expect("warm isolates poisoned")
            .values()
            .map(Vec::len)
            .sum()
    }
}

fn usable(warm: &Warm, limits: Retirement) -> bool {
    warm.isolate.is_alive()
        && warm.executions < limits.max_executions
        && warm.last_used.elapsed() < limits.idle
}
