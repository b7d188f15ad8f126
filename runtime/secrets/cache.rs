//! Decrypted secrets per namespace, kept while the store generation they were read at is still
//! current and none of them has reached its expiry. It only keeps what the service hands it:
//! it never reads the store or decrypts, and is never given to anything outside the service.

use std::sync::Arc;

use super::ResolvedSecrets;
use crate::bounded_cache::BoundedCache;
use crate::time::Timestamp;

/// See the module documentation. `Debug` shows how many namespaces are cached, never a value.
#[derive(Debug, Default)]
pub(super) struct ResolutionCache {
    entries: BoundedCache<String, Entry>,
}

#[derive(Clone)]
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
        self.entries
            .get_if(namespace, |entry| {
                entry.generation == generation
                    && entry.resolved.valid_until.is_none_or(|until| now < until)
            })
            .map(|entry| entry.resolved)
    }

    /// Keeps `resolved`, read at `generation`, unless a newer read is already cached.
    pub(super) fn put(&self, namespace: &str, generation: i64, resolved: Arc<ResolvedSecrets>) {
        self.entries.insert_unless(
            namespace.to_owned(),
            Entry {
                generation,
                resolved,
            },
            |kept| kept.generation > generation,
        );
    }
}
