//! [`SecretsService`]: set, read, list, version, roll back, delete and verify secrets, and
//! resolve a namespace's secrets for the invoker. Each change is one store transaction with its
//! audit row. It returns metadata, never a value, except to the invoker through `resolve`; it
//! writes no SQL, formats no output and does not re-key (that is [`crate::key_rotation`]).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::cache::ResolutionCache;

use crate::crypto::{Aad, CryptoError, Envelope, Keyring, MasterKey};
use crate::secrets::{
    ResolvedSecret, ResolvedSecrets, Scope, SecretMetadata, SecretRef, SecretValue,
};
use crate::store::{
    AuditEntry, ListFilter, MetadataChange, NewVersion, SecretRecord, Store, StoredVersion,
    VersionRecord, is_retryable,
};
use crate::time::Timestamp;
use crate::{Error, Result};

/// How many times a transaction that lost a race is tried again.
const MAX_ATTEMPTS: u32 = 50;

/// A request to write a new value.
#[derive(Debug)]
pub struct SetRequest {
    /// The secret to write.
    pub secret: SecretRef,
    /// The new value.
    pub value: SecretValue,
    /// A new description; `None` keeps the current one.
    pub description: Option<String>,
    /// When the new value expires; `None` means never.
    pub expires_at: Option<Timestamp>,
    /// Check-and-set: refuse unless this is the current version (0: the secret must not exist).
    pub if_version: Option<i64>,
    /// Refuse with [`Error::NotFound`] instead of creating a missing secret.
    pub must_exist: bool,
}

/// A change to a secret's metadata that writes no new version.
#[derive(Debug, Clone, Default)]
pub struct MetadataUpdate {
    /// A new description, or `Some(None)` to remove it; `None` keeps it.
    pub description: Option<Option<String>>,
    /// A new expiry, or `Some(None)` to remove it; `None` keeps it.
    pub expires_at: Option<Option<Timestamp>>,
}

/// The life cycle of secrets, over a store and a keyring.
#[derive(Debug)]
pub struct SecretsService {
    store: Store,
    keyring: Keyring,
    actor: String,
    resolved: ResolutionCache,
}

impl SecretsService {
    /// A service acting as `actor` (recorded in the audit log). Refuses a keyring that cannot
    /// open what the store holds.
    pub async fn new(store: Store, keyring: Keyring, actor: impl Into<String>) -> Result<Self> {
        keyring.check_opens(store.key_ids().await?)?;
        Ok(SecretsService {
            store,
            keyring,
            actor: actor.into(),
            resolved: ResolutionCache::default(),
        })
    }

    /// The store generation: a counter every secret and settings write bumps, so a resolved set
    /// read at the same generation is still current.
    pub async fn generation(&self) -> Result<i64> {
        self.store.secrets_generation().await
    }

    /// Whether the store answers (for health checks).
    pub async fn ping(&self) -> Result<()> {
        self.store.ping().await
    }

    /// Closes the store's connections (at the end of a command).
    pub async fn close(&self) {
        self.store.close().await;
    }

    /// Writes a new value: version 1 of a new secret, or the next version of an existing one.
    pub async fn set(&self, request: &SetRequest) -> Result<SecretMetadata> {
        retrying(|| self.try_set(request)).await
    }

    async fn try_set(&self, request: &SetRequest) -> Result<SecretMetadata> {
        super::check_description(request.description.as_deref())?;
        let now = Timestamp::now();
        let change = MetadataChange {
            description: request.description.clone(),
            expires_at: request.expires_at,
        };
        let mut tx = self.store.begin_write().await?;
        let record = match tx
            .advance_version(&request.secret, Some(&change), now)
            .await?
        {
            Some(record) => record,
            None if request.must_exist => return Err(Error::NotFound(request.secret.clone())),
            None => tx.create_secret(&request.secret, &change, now).await?,
        };
        check_expected(
            &request.secret,
            request.if_version,
            record.current_version - 1,
        )?;
        let envelope = self.seal(&request.secret, record.current_version, &request.value);
        tx.insert_version(self.new_version(&record, &envelope, None), now)
            .await?;
        tx.record(self.audit("set", &record, None), now).await?;
        tx.commit().await?;
        Ok(SecretMetadata::from_record(record, now))
    }

    /// Changes a secret's description or expiry without writing a new version.
    pub async fn update_metadata(
        &self,
        secret: &SecretRef,
        update: &MetadataUpdate,
    ) -> Result<SecretMetadata> {
        super::check_description(update.description.as_ref().and_then(Option::as_deref))?;
        retrying(|| async {
            let now = Timestamp::now();
            let mut tx = self.store.begin_write().await?;
            let record = tx
                .update_metadata(
                    secret,
                    update.description.clone(),
                    update.expires_at.map(|e| e.map(Timestamp::millis)),
                    now,
                )
                .await?
                .ok_or_else(|| Error::NotFound(secret.clone()))?;
            tx.record(self.audit("update", &record, Some("metadata".into())), now)
                .await?;
            tx.commit().await?;
            Ok(SecretMetadata::from_record(record, now))
        })
        .await
    }

    /// The metadata of one secret.
    pub async fn get(&self, secret: &SecretRef) -> Result<SecretMetadata> {
        Ok(SecretMetadata::from_record(
            self.find(secret).await?,
            Timestamp::now(),
        ))
    }

    /// The metadata of every secret matching `filter`.
    pub async fn list(&self, filter: &ListFilter) -> Result<Vec<SecretMetadata>> {
        let now = Timestamp::now();
        Ok(self
            .store
            .list_secrets(filter)
            .await?
            .into_iter()
            .map(|record| SecretMetadata::from_record(record, now))
            .collect())
    }

    /// A secret's metadata and all its versions, oldest first.
    pub async fn history(
        &self,
        secret: &SecretRef,
    ) -> Result<(SecretMetadata, Vec<VersionRecord>)> {
        let record = self.find(secret).await?;
        let versions = self.store.versions(record.id).await?;
        Ok((
            SecretMetadata::from_record(record, Timestamp::now()),
            versions,
        ))
    }

    /// Writes the value of `version` again as a new version. Description and expiry stay.
    pub async fn rollback(
        &self,
        secret: &SecretRef,
        version: i64,
        if_version: Option<i64>,
    ) -> Result<SecretMetadata> {
        retrying(|| self.try_rollback(secret, version, if_version)).await
    }

    async fn try_rollback(
        &self,
        secret: &SecretRef,
        version: i64,
        if_version: Option<i64>,
    ) -> Result<SecretMetadata> {
        let now = Timestamp::now();
        let mut tx = self.store.begin_write().await?;
        let record = tx
            .advance_version(secret, None, now)
            .await?
            .ok_or_else(|| Error::NotFound(secret.clone()))?;
        let previous = record.current_version - 1;
        check_expected(secret, if_version, previous)?;
        if version == previous {
            return Err(Error::invalid(format!(
                "version {version} is already the current version of {secret}; nothing to roll back"
            )));
        }
        if version > previous || version < 1 {
            return Err(unknown_version(secret, version));
        }
        let old = tx
            .version(record.id, version)
            .await?
            .ok_or_else(|| unknown_version(secret, version))?;
        let value = self.open(&old)?;
        let envelope = self.seal(secret, record.current_version, &value);
        tx.insert_version(self.new_version(&record, &envelope, Some(version)), now)
            .await?;
        tx.record(
            self.audit(
                "rollback",
                &record,
                Some(format!("restored version {version}")),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(SecretMetadata::from_record(record, now))
    }

    /// Deletes a secret and every version of it; returns the version it was at.
    pub async fn delete(&self, secret: &SecretRef) -> Result<i64> {
        retrying(|| async {
            let now = Timestamp::now();
            let mut tx = self.store.begin_write().await?;
            let last = tx
                .delete_secret(secret)
                .await?
                .ok_or_else(|| Error::NotFound(secret.clone()))?;
            let entry = AuditEntry {
                actor: &self.actor,
                action: "delete",
                secret: Some(secret),
                version: Some(last),
                detail: Some(format!("deleted versions 1 to {last}")),
            };
            tx.record(entry, now).await?;
            tx.commit().await?;
            Ok(last)
        })
        .await
    }

    /// Decrypts every version of `secret` (or of every secret) to prove each ciphertext is intact
    /// and opens under the configured key; returns how many versions were checked.
    pub async fn verify(&self, secret: Option<&SecretRef>) -> Result<usize> {
        if let Some(secret) = secret {
            self.find(secret).await?;
        }
        // Rolled back at the end: taking the write lock only gives a consistent view.
        let mut tx = self.store.begin_write().await?;
        let versions = tx.lock_all_versions().await?;
        let mut checked = 0;
        for stored in versions
            .iter()
            .filter(|v| secret.is_none_or(|s| &v.secret == s))
        {
            self.open(stored)?;
            checked += 1;
        }
        Ok(checked)
    }

    /// The current, unexpired secrets visible in `namespace`: a namespace secret wins over a
    /// global one of the same name, and an expired namespace secret gives way to the global one.
    ///
    /// Decrypted sets are cached per namespace and reused while the store generation is the
    /// same and none of their secrets has reached its expiry, so the cost of a hit is one
    /// small query; any change, made by any process or host, is seen by the next call.
    pub async fn resolve(&self, namespace: &str) -> Result<Arc<ResolvedSecrets>> {
        // Read before the secrets: what is cached is then at least as new as its generation.
        let generation = self.store.secrets_generation().await?;
        self.resolve_at(namespace, generation).await
    }

    /// Like [`SecretsService::resolve`] with the store generation already read (by the caller,
    /// before this call), so that one read serves several caches.
    pub async fn resolve_at(
        &self,
        namespace: &str,
        generation: i64,
    ) -> Result<Arc<ResolvedSecrets>> {
        let now = Timestamp::now();
        if let Some(hit) = self.resolved.get(namespace, generation, now) {
            return Ok(hit);
        }
        let resolved = Arc::new(self.resolve_uncached(namespace).await?);
        self.resolved.put(namespace, generation, resolved.clone());
        Ok(resolved)
    }

    /// Like [`SecretsService::resolve`], but always reads and decrypts.
    pub async fn resolve_uncached(&self, namespace: &str) -> Result<ResolvedSecrets> {
        let now = Timestamp::now();
        let mut resolved = ResolvedSecrets::default();
        let mut expired_namespace = Vec::new();
        // Ordered by name, then scope: `global` before `namespace`, so the namespace one wins.
        for (record, envelope) in self.store.current_versions(namespace).await? {
            if record.expires_at.is_some_and(|at| at <= now) {
                if record.secret.location.scope() == Scope::Namespace {
                    expired_namespace.push(record.secret.name.clone());
                }
                continue;
            }
            let stored = StoredVersion {
                secret: record.secret.clone(),
                secret_id: record.id,
                version: record.current_version,
                envelope,
            };
            let value = self.open(&stored)?;
            if let Some(at) = record.expires_at {
                resolved.valid_until = Some(resolved.valid_until.map_or(at, |v| v.min(at)));
            }
            resolved.secrets.insert(
                record.secret.name.clone(),
                ResolvedSecret {
                    scope: record.secret.location.scope(),
                    version: record.current_version,
                    value,
                },
            );
        }
        for name in expired_namespace {
            let note = match resolved.secrets.get(&name) {
                Some(_) => format!(
                    "secret {name} of namespace {namespace} has expired; using the global {name}"
                ),
                None => format!("secret {name} of namespace {namespace} has expired"),
            };
            resolved.notes.push(note);
        }
        Ok(resolved)
    }

    async fn find(&self, secret: &SecretRef) -> Result<SecretRecord> {
        self.store
            .find_secret(secret)
            .await?
            .ok_or_else(|| Error::NotFound(secret.clone()))
    }

    fn seal(&self, secret: &SecretRef, version: i64, value: &SecretValue) -> EncodedEnvelope {
        let envelope = self
            .keyring
            .seal(value.expose().as_bytes(), &identity(secret, version));
        EncodedEnvelope {
            bytes: envelope.encode(),
            key_id: envelope.key_id,
        }
    }

    fn open(&self, stored: &StoredVersion) -> Result<SecretValue> {
        let envelope = decode(stored)?;
        let plaintext = self
            .keyring
            .open(&envelope, &identity(&stored.secret, stored.version))
            .map_err(|e| self.open_error(stored, e))?;
        SecretValue::from_plaintext(plaintext).ok_or_else(|| Error::Tampered {
            secret: stored.secret.clone(),
            version: stored.version,
        })
    }

    fn open_error(&self, stored: &StoredVersion, error: CryptoError) -> Error {
        open_error(stored, error, self.keyring.active())
    }

    fn new_version<'a>(
        &'a self,
        record: &SecretRecord,
        envelope: &'a EncodedEnvelope,
        restored_from: Option<i64>,
    ) -> NewVersion<'a> {
        NewVersion {
            secret_id: record.id,
            version: record.current_version,
            key_id: &envelope.key_id,
            envelope: &envelope.bytes,
            actor: &self.actor,
            restored_from,
        }
    }

    fn audit<'a>(
        &'a self,
        action: &'a str,
        record: &'a SecretRecord,
        detail: Option<String>,
    ) -> AuditEntry<'a> {
        AuditEntry {
            actor: &self.actor,
            action,
            secret: Some(&record.secret),
            version: Some(record.current_version),
            detail,
        }
    }
}

/// An envelope with its encoding, ready to store.
struct EncodedEnvelope {
    key_id: crate::crypto::KeyId,
    bytes: Vec<u8>,
}

/// The associated data that binds a ciphertext to one version of one secret.
/// The associated data a secret's version is sealed with: its scope, namespace, name and
/// version, so a ciphertext moved to another row does not open.
pub(super) fn identity(secret: &SecretRef, version: i64) -> Aad {
    Aad::new("fluxbase secret v1")
        .part(secret.location.scope().as_str().as_bytes())
        .part(secret.location.stored_namespace().as_bytes())
        .part(secret.name.as_str().as_bytes())
        .part(&version.to_be_bytes())
}

/// Why `stored` did not open under `configured`: another master key, or tampering.
pub(super) fn open_error(
    stored: &StoredVersion,
    error: CryptoError,
    configured: &MasterKey,
) -> Error {
    match error {
        CryptoError::UnknownKey(id) => Error::WrongMasterKey {
            stored: id.to_string(),
            configured: configured.id().to_string(),
        },
        CryptoError::Malformed(_) | CryptoError::Authentication => Error::Tampered {
            secret: stored.secret.clone(),
            version: stored.version,
        },
    }
}

/// The envelope of a stored version; one that does not decode has been tampered with.
pub(super) fn decode(stored: &StoredVersion) -> Result<Envelope> {
    Envelope::decode(&stored.envelope).map_err(|_| Error::Tampered {
        secret: stored.secret.clone(),
        version: stored.version,
    })
}

fn unknown_version(secret: &SecretRef, version: i64) -> Error {
    Error::UnknownVersion {
        secret: secret.clone(),
        version,
    }
}

fn check_expected(secret: &SecretRef, expected: Option<i64>, actual: i64) -> Result<()> {
    match expected {
        Some(expected) if expected != actual => Err(Error::VersionConflict {
            secret: secret.clone(),
            expected,
            actual,
        }),
        _ => Ok(()),
    }
}

/// Runs `attempt` again while it fails on a lost race (see [`is_retryable`]), with a short,
/// growing, jittered pause.
async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut tries = 0;
    loop {
        match attempt().await {
            Err(error) if is_retryable(&error) && tries < MAX_ATTEMPTS => {
                tries += 1;
                let jitter = u64::from(std::process::id() % 7 + tries);
                tokio::time::sleep(Duration::from_millis(2 * jitter)).await;
            }
            outcome => return outcome,
        }
    }
}
