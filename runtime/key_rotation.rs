//! Key rotation, in one place: every data key of the store, of function secrets and of settings
//! secrets alike, re-wrapped from the current master key to a new one in one transaction, so
//! the store is never left half under one key and half under the other. How each domain binds
//! and re-wraps its ciphertexts stays in `secrets` and `settings`; this module owns the
//! transaction and its audit row. It never touches a key file: the CLI keeps the new key in
//! `master.key.next` around the call and moves it into place after the commit.

use crate::Result;
use crate::crypto::MasterKey;
use crate::store::{AuditEntry, Store};
use crate::time::Timestamp;

/// What a rotation re-wrapped.
#[derive(Debug, Clone)]
pub struct RotationReport {
    /// Function secret versions whose data key was re-wrapped.
    pub versions: usize,
    /// Settings secrets whose data key was re-wrapped.
    pub settings: usize,
    /// Id of the key that now wraps them.
    pub key_id: String,
}

/// Re-wraps every data key of a store; see the module documentation.
pub struct KeyRotation {
    store: Store,
    current: MasterKey,
    actor: String,
}

impl KeyRotation {
    /// A rotation of `store` away from `current` (the key that opens it today), recorded in the
    /// audit log as done by `actor`.
    pub fn new(store: Store, current: MasterKey, actor: impl Into<String>) -> Self {
        KeyRotation {
            store,
            current,
            actor: actor.into(),
        }
    }

    /// Re-wraps every data key under `new_key` in one transaction, after checking that each
    /// opens under the current key. Values and their ciphertexts are unchanged; on any error
    /// nothing is changed.
    pub async fn rotate(&self, new_key: &MasterKey) -> Result<RotationReport> {
        let mut tx = self.store.begin_write().await?;
        let versions = crate::secrets::rewrap_secrets(&mut tx, &self.current, new_key).await?;
        let settings =
            crate::settings::rewrap_settings(&mut tx, &self.current, new_key, &self.actor).await?;
        let entry = AuditEntry {
            actor: &self.actor,
            action: "rotate-key",
            secret: None,
            version: None,
            detail: Some(format!(
                "re-wrapped {versions} data keys from key {} to key {}",
                self.current.id(),
                new_key.id()
            )),
        };
        tx.record(entry, Timestamp::now()).await?;
        tx.commit().await?;
        Ok(RotationReport {
            versions,
            settings,
            key_id: new_key.id().to_string(),
        })
    }

    /// Closes the store's connections (at the end of the command).
    pub async fn close(&self) {
        self.store.close().await;
    }
}
