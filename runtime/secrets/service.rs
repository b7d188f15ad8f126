//! [`SecretsService`]: set, read, list, version, roll back and verify secrets, and resolve a
//! namespace's secrets for the invoker. Deletion and its undoing live in `deletion.rs`, the cap on
//! kept versions in `pruning.rs`: the same service, split by role. Each change is one store
//! transaction with its audit row. It returns metadata, never a value, except to the invoker
//! through `resolve`; it writes no SQL, formats no output and does not re-key (that is
//! [`crate::key_rotation`]).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::cache::ResolutionCache;

use crate::crypto::{Aad, CryptoError, DigestKey, Envelope, Keyring, MasterKey};
use crate::secrets::{
    ResolvedSecret, ResolvedSecrets, Scope, SecretMetadata, SecretRef, SecretValue,
};
use crate::store::{
    AuditEntry, ListFilter, MetadataChange, NewVersion, SecretRecord, Store, StoredVersion,
    VersionRecord, WriteTx, is_retryable,
};
use crate::time::Timestamp;
use crate::{Error, Result};

/// How many times a transaction that lost a race is tried again.
const MAX_ATTEMPTS: u32 = 50;

/// How long a deleted secret is kept (and can be undeleted) unless configured otherwise.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 24 * 60 * 60);

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
    /// Refuse with [`Error::NotFound`] instead of creating a missing secret (or bringing back a
    /// deleted one).
    pub must_exist: bool,
    /// A new cap on kept versions: `None` keeps the current one, `Some(None)` removes it.
    pub max_versions: Option<Option<i64>>,
}

/// A change to a secret's metadata that writes no new version.
#[derive(Debug, Clone, Default)]
pub struct MetadataUpdate {
    /// A new description, or `Some(None)` to remove it; `None` keeps it.
    pub description: Option<Option<String>>,
    /// A new expiry, or `Some(None)` to remove it; `None` keeps it.
    pub expires_at: Option<Option<Timestamp>>,
    /// A new cap on kept versions, or `Some(None)` to remove it; `None` keeps it.
    pub max_versions: Option<Option<i64>>,
}

/// The life cycle of secrets, over a store and a keyring.
#[derive(Debug)]
pub struct SecretsService {
    pub(super) store: Store,
    keyring: Keyring,
    pub(super) actor: String,
    resolved: ResolutionCache,
    digests: DigestKey,
    pub(super) retention: Duration,
}

impl SecretsService {
    /// A service acting as `actor` (recorded in the audit log). Refuses a keyring that cannot
    /// open what the store holds.
    pub async fn new(store: Store, keyring: Keyring, actor: impl Into<String>) -> Result<Self> {
        keyring.check_opens(store.key_ids().await?)?;
        Ok(SecretsService {
            digests: DigestKey::derive(keyring.active()),
            store,
            keyring,
            actor: actor.into(),
            resolved: ResolutionCache::default(),
            retention: DEFAULT_RETENTION,
        })
    }

    /// The same service keeping deleted secrets for `retention` (default
    /// [`DEFAULT_RETENTION`]) before they are destroyed for good.
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
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
        let now = Timestamp::now();
        let mut tx = self.store.begin_write().await?;
        let purged = self.purge_due(&mut tx, now).await?;
        let (meta, pruned) = self.set_in(&mut tx, request, now).await?;
        tx.commit().await?;
        self.after_wipe(purged || pruned).await;
        Ok(meta)
    }

    /// Writes several values in one transaction, in order: all of them or, on any error, none.
    /// A secret given twice gets two versions.
    pub async fn set_many(&self, requests: &[SetRequest]) -> Result<Vec<SecretMetadata>> {
        retrying(|| async {
            let now = Timestamp::now();
            let mut tx = self.store.begin_write().await?;
            let mut wiped = self.purge_due(&mut tx, now).await?;
            let mut written = Vec::with_capacity(requests.len());
            for request in requests {
                let (meta, pruned) = self.set_in(&mut tx, request, now).await?;
                wiped |= pruned;
                written.push(meta);
            }
            tx.commit().await?;
            self.after_wipe(wiped).await;
            Ok(written)
        })
        .await
    }

    /// The steps of one `set` inside the write `tx`: the new version, its audit record, the
    /// pruning it calls for. Returns the metadata and whether versions were destroyed.
    async fn set_in(
        &self,
        tx: &mut WriteTx,
        request: &SetRequest,
        now: Timestamp,
    ) -> Result<(SecretMetadata, bool)> {
        super::check_description(request.description.as_deref())?;
        super::pruning::check_max_versions(request.max_versions)?;
        let change = MetadataChange {
            description: request.description.clone(),
            expires_at: request.expires_at,
            max_versions: request.max_versions,
        };
        let (mut record, revived) = match tx
            .advance_version(&request.secret, Some(&change), now)
            .await?
        {
            Some(record) if record.deleted_at.is_some() && request.must_exist => {
                return Err(deleted(record));
            }
            Some(mut record) if record.deleted_at.is_some() => {
                // A new value brings a deleted secret back, with its earlier versions.
                tx.revive(record.id).await?;
                record.deleted_at = None;
                record.purge_at = None;
                (record, true)
            }
            Some(record) => (record, false),
            None if request.must_exist => return Err(Error::NotFound(request.secret.clone())),
            None => (
                tx.create_secret(&request.secret, &change, now).await?,
                false,
            ),
        };
        // A deleted secret counts as absent for check-and-set.
        let previous = if revived {
            0
        } else {
            record.current_version - 1
        };
        check_expected(&request.secret, request.if_version, previous)?;
        let envelope = self.seal(&request.secret, record.current_version, &request.value);
        tx.insert_version(self.new_version(&record, &envelope, None), now)
            .await?;
        let detail = revived.then(|| "brought back from deletion by a new value".to_owned());
        tx.record(self.audit("set", &record, detail), now).await?;
        let pruned = self.prune(tx, &mut record, now).await?;
        let digest = self.digests.digest(request.value.expose().as_bytes());
        Ok((
            SecretMetadata::from_record(record, now).with_digest(Some(digest)),
            pruned,
        ))
    }

    /// Changes a secret's description, expiry or cap on kept versions without writing a new
    /// version.
    pub async fn update_metadata(
        &self,
        secret: &SecretRef,
        update: &MetadataUpdate,
    ) -> Result<SecretMetadata> {
        super::check_description(update.description.as_ref().and_then(Option::as_deref))?;
        super::pruning::check_max_versions(update.max_versions)?;
        retrying(|| async {
            let now = Timestamp::now();
            let mut tx = self.store.begin_write().await?;
            let mut wiped = self.purge_due(&mut tx, now).await?;
            let mut record = tx
                .update_metadata(
                    secret,
                    update.description.clone(),
                    update.expires_at.map(|e| e.map(Timestamp::millis)),
                    update.max_versions,
                    now,
                )
                .await?
                .ok_or_else(|| Error::NotFound(secret.clone()))?;
            if record.deleted_at.is_some() {
                return Err(deleted(record));
            }
            tx.record(self.audit("update", &record, Some("metadata".into())), now)
                .await?;
            wiped |= self.prune(&mut tx, &mut record, now).await?;
            tx.commit().await?;
            self.after_wipe(wiped).await;
            self.with_digest(record, now).await
        })
        .await
    }

    /// The metadata of one live secret, with the digest of its value.
    pub async fn get(&self, secret: &SecretRef) -> Result<SecretMetadata> {
        let record = self.find(secret).await?;
        self.with_digest(record, Timestamp::now()).await
    }

    /// The metadata of every secret matching `filter`, with the digest of each value.
    pub async fn list(&self, filter: &ListFilter) -> Result<Vec<SecretMetadata>> {
        let now = Timestamp::now();
        Ok(self
            .store
            .list_secrets(filter)
            .await?
            .into_iter()
            .map(|(record, envelope)| {
                let digest = self.digest(&record, envelope);
                SecretMetadata::from_record(record, now).with_digest(digest)
            })
            .collect())
    }

    /// A live secret's metadata and all its kept versions, oldest first.
    pub async fn history(
        &self,
        secret: &SecretRef,
    ) -> Result<(SecretMetadata, Vec<VersionRecord>)> {
        let record = self.find(secret).await?;
        let versions = self.store.versions(record.id).await?;
        Ok((self.with_digest(record, Timestamp::now()).await?, versions))
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
        let mut wiped = self.purge_due(&mut tx, now).await?;
        let mut record = tx
            .advance_version(secret, None, now)
            .await?
            .ok_or_else(|| Error::NotFound(secret.clone()))?;
        if record.deleted_at.is_some() {
            return Err(deleted(record));
        }
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
        if version <= record.pruned_through {
            return Err(Error::VersionDestroyed {
                secret: secret.clone(),
                version,
            });
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
        wiped |= self.prune(&mut tx, &mut record, now).await?;
        tx.commit().await?;
        self.after_wipe(wiped).await;
        let digest = self.digests.digest(value.expose().as_bytes());
        Ok(SecretMetadata::from_record(record, now).with_digest(Some(digest)))
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
                    expires_at: record.expires_at,
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

    /// The live secret at `secret`: [`Error::Deleted`] for a deleted one.
    async fn find(&self, secret: &SecretRef) -> Result<SecretRecord> {
        match self.store.find_secret(secret).await? {
            Some(record) if record.deleted_at.is_some() => Err(deleted(record)),
            Some(record) => Ok(record),
            None => Err(Error::NotFound(secret.clone())),
        }
    }

    /// The metadata of `record` with the digest of its current value.
    pub(super) async fn with_digest(
        &self,
        record: SecretRecord,
        now: Timestamp,
    ) -> Result<SecretMetadata> {
        let envelope = self
            .store
            .envelope(record.id, record.current_version)
            .await?;
        let digest = envelope.and_then(|envelope| self.digest(&record, envelope));
        Ok(SecretMetadata::from_record(record, now).with_digest(digest))
    }

    /// The digest of the current value of `record`, whose ciphertext is `envelope`; `None` when
    /// it does not decrypt (`verify` reports that).
    fn digest(&self, record: &SecretRecord, envelope: Vec<u8>) -> Option<String> {
        let stored = StoredVersion {
            secret: record.secret.clone(),
            secret_id: record.id,
            version: record.current_version,
            envelope,
        };
        let value = self.open(&stored).ok()?;
        Some(self.digests.digest(value.expose().as_bytes()))
    }

    /// After a commit that destroyed values: see [`Store::truncate_log`]. A failure there leaves
    /// the log to SQLite's next checkpoint; the change itself is committed, so it is logged, not
    /// returned.
    pub(super) async fn after_wipe(&self, wiped: bool) {
        if wiped && let Err(error) = self.store.truncate_log().await {
            tracing::warn!(
                "could not truncate the write-ahead log after destroying values: {error}"
            );
        }
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

    pub(super) fn audit<'a>(
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

/// The error for a deleted secret where a live one is needed.
pub(super) fn deleted(record: SecretRecord) -> Error {
    Error::Deleted {
        purge_at: record.purge_at.unwrap_or(record.updated_at),
        secret: record.secret,
    }
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
pub(super) async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T>
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
