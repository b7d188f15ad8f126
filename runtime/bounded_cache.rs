//! The one cache type of the host: a map behind a mutex with a bound on its entries. Past the
//! bound it starts over rather than tracking use: what is cached (namespaces, users, handler
//! files, transpiled modules) is small and cheap to read again; the bound only guards against a
//! caller that makes up keys without end. It knows nothing of what it holds: freshness
//! (generation, expiry, file stamp) is checked by each caller.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// Entries a cache keeps unless it is made with another bound.
pub const DEFAULT_MAX_ENTRIES: usize = 1024;

/// See the module documentation. `Debug` shows the number of entries only, never one.
pub struct BoundedCache<K, V> {
    entries: Mutex<HashMap<K, V>>,
    max_entries: usize,
}

impl<K, V> Default for BoundedCache<K, V> {
    fn default() -> Self {
        Self::with_max_entries(DEFAULT_MAX_ENTRIES)
    }
}

impl<K, V> std::fmt::Debug for BoundedCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoundedCache")
            .field("entries", &self.len())
            .finish_non_exhaustive()
    }
}

impl<K, V> BoundedCache<K, V> {
    /// A cache that keeps at most `max_entries` entries.
    pub fn with_max_entries(max_entries: usize) -> Self {
        BoundedCache {
            entries: Mutex::new(HashMap::new()),
            max_entries,
        }
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.lock_entries().len()
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock_entries(&self) -> std::sync::MutexGuard<'_, HashMap<K, V>> {
        // A panic while the lock was held cannot leave a half-written map behind (every
        // change is one insert or clear), so a poisoned lock is still a sound cache.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl<K: Hash + Eq, V: Clone> BoundedCache<K, V> {
    /// The entry of `key`, if there is one and `fresh` accepts it.
    pub fn get_if<Q>(&self, key: &Q, fresh: impl FnOnce(&V) -> bool) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.lock_entries()
            .get(key)
            .filter(|value| fresh(value))
            .cloned()
    }

    /// Keeps `value` for `key`, unless `keep` says the entry already there should stay (a
    /// newer one, say). Starts over first when the cache is full and `key` is new.
    pub fn insert_unless(&self, key: K, value: V, keep: impl FnOnce(&V) -> bool) {
        let mut entries = self.lock_entries();
        if entries.get(&key).is_some_and(keep) {
            return;
        }
        if entries.len() >= self.max_entries && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, value);
    }

    /// Keeps `value` for `key`.
    pub fn insert(&self, key: K, value: V) {
        self.insert_unless(key, value, |_| false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_entries_up_to_its_bound_then_starts_over() {
        let cache = BoundedCache::with_max_entries(2);
        cache.insert("a", 1);
        cache.insert("b", 2);
        cache.insert("b", 3);
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get_if("b", |_| true), Some(3));
        assert_eq!(cache.get_if("b", |v| *v > 3), None);
        cache.insert("c", 4);
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.get_if("a", |_| true), None);
        cache.insert_unless("c", 1, |kept| *kept > 1);
        assert_eq!(cache.get_if("c", |_| true), Some(4));
        assert_eq!(format!("{cache:?}"), "BoundedCache { entries: 1, .. }");
    }
}
