//! Decrypted secrets per namespace, kept while the store generation they were read at is still
//! current and none of them has reached its expiry.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::ResolvedSecrets;
use crate::time::Timestamp;

/// Namespaces kept at most; past that the cache starts over (namespaces come from handler
/// files, so this is only a guard).
const MAX_NAMESPACES: usize = 1024;

/// See the module documentation. `Debug` shows how many namespaces are cached, never a value.
#[derive(Default)]
pub(super) struct ResolutionCache {
    entries: Mutex<HashMap<String, Entry>>,
}

struct Entry {
    generation: i64,
    resolved: Arc<ResolvedSecrets>,
}

impl ResolutionCache {
    /// The cached set of `namespace`, if it was read at `generation` and is still unexpired.
    pub(super) fn get(
        &self,
        namespace: &str,
        generation: i64,
        now: Timestamp,
    ) -> Option<Arc<ResolvedSecrets>> {
        let entries = self.entries.lock().expect("secrets cache poisoned");
        let entry = entries.get(namespace)?;
        let current = entry.generation == generation
            && entry.resolved.valid_until.is_none_or(|until| now < until);
        current.then(|| entry.resolved.clone())
    }

    /// Keeps `resolved`, read at `generation`, unless a newer read is already cached.
    pub(super) fn put(&self, namespace: &str, generation: i64, resolved: Arc<ResolvedSecrets>) {
        let mut entries = self.entries.lock().expect("secrets cache poisoned");
        if entries
            .get(namespace)
            .is_some_and(|entry| entry.generation > generation)
        {
            return;
        }
        if entries.len() >= MAX_NAMESPACES && !entries.contains_key(namespace) {
            entries.clear();
        }
        entries.insert(
            namespace.to_owned(),
            Entry {
                generation,
                resolved,
            },
        );
    }
}

impl std::fmt::Debug for ResolutionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let entries = self.entries.lock().map(|e| e.len()).unwrap_or_default();
        f.debug_struct("ResolutionCache")
            .field("namespaces", &entries)
            .finish()
    }
}
