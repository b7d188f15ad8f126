//! Key rotation, in one place: every data key of the store, of function secrets and of settings
//! secrets alike, re-wrapped from the current master key to a new one in one transaction, so
//! the store is never left half under one key and half under the other. How each domain binds
//! and re-wraps its ciphertexts stays in `secrets` and `settings`; this module owns the
//! transaction, its audit row, and the key file's part in it (`master.key.next` written before
//! the transaction and moved into place after the commit). It parses no arguments and prints
//! nothing.

use crate::config::{KeySource, NEW_ENCRYPTION_KEY_ENV};
use crate::crypto::MasterKey;
use crate::store::{AuditEntry, Store};
use crate::time::Timestamp;
use crate::{Error, Result};

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

    /// Rotates to `given` (or, with a key file and none given, a new random key), where the
    /// current key comes from `source`. With a key file, the new key is written beside it as
    /// `master.key.next` before the transaction and moved into place after it commits, so a
    /// crash at any point leaves a key that opens the store (the next start finishes or drops
    /// it). With a key from the environment, the new key must be given, and the operator swaps
    /// the variables afterwards.
    pub async fn rotate_to(
        &self,
        given: Option<MasterKey>,
        source: &KeySource,
    ) -> Result<RotationReport> {
        match source {
            KeySource::Environment => {
                let new_key = given.ok_or_else(|| {
                    Error::MasterKey(format!(
                        "the master key comes from FLUXBASE_ENCRYPTION_KEY: put the new key in \
                         {NEW_ENCRYPTION_KEY_ENV}, run rotate-key, then set \
                         FLUXBASE_ENCRYPTION_KEY to the new key"
                    ))
                })?;
                self.rotate(&new_key).await
            }
            KeySource::Ephemeral => {
                Err(Error::MasterKey("there is no master key to rotate".into()))
            }
            KeySource::File(file) => {
                let next = file.next();
                next.create(&given.unwrap_or_else(MasterKey::generate))?;
                match self.rotate(&next.load()?).await {
                    Ok(report) => {
                        file.replace_with(&next)?;
                        Ok(report)
                    }
                    Err(error) => {
                        next.remove()?;
                        Err(error)
                    }
                }
            }
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
