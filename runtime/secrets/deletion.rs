//! Deletion and its undoing, as rules of the secrets service: `delete` is a soft delete that keeps
//! every version for the retention period, `undelete` brings the secret back as it was, `destroy`
//! removes it and wipes its values for good, and a deleted secret past its retention is destroyed
//! by the next write or by the server's periodic purge. A deleted secret is never injected and is
//! listed only on request. Every change here is audited in its own transaction, which bumps the
//! store generation (and so the change signal) with it.

use std::time::Duration;

use super::service::{SecretsService, deleted, retrying};
use crate::secrets::{SecretMetadata, SecretRef};
use crate::store::{AuditEntry, SecretRecord, WriteTx};
use crate::time::Timestamp;
use crate::{Error, Result};

/// Who the audit log names for a destruction at the end of a retention period.
const RETENTION_ACTOR: &str = "fluxbase:retention";

/// What a soft delete did.
#[derive(Debug, Clone, Copy)]
pub struct Deletion {
    /// The version the secret was at.
    pub version: i64,
    /// How many versions are kept with it.
    pub kept_versions: i64,
    /// When it is destroyed for good unless undeleted.
    pub purge_at: Timestamp,
}

impl SecretsService {
    /// Deletes a live secret softly: it stops being injected and listed, and keeps every
    /// version until its retention period ends.
    pub async fn delete(&self, secret: &SecretRef) -> Result<Deletion> {
        retrying(|| async {
            let now = Timestamp::now();
            let mut tx = self.store.begin_write().await?;
            let wiped = self.purge_due(&mut tx, now).await?;
            let purge_at = after(now, self.retention);
            let Some(record) = tx.soft_delete(secret, now, purge_at).await? else {
                return Err(match tx.secret(secret).await? {
                    Some(record) => deleted(record),
                    None => Error::NotFound(secret.clone()),
                });
            };
            let kept = kept_versions(&record);
            let entry = AuditEntry {
                actor: &self.actor,
                action: "delete",
                secret: Some(secret),
                version: Some(record.current_version),
                detail: Some(format!("kept {kept} version(s) until {purge_at}")),
            };
            tx.record(entry, now).await?;
            tx.commit().await?;
            self.after_wipe(wiped).await;
            Ok(Deletion {
                version: record.current_version,
                kept_versions: kept,
                purge_at,
            })
        })
        .await
    }

    /// Brings a deleted secret back as it was: every version, description, expiry and cap.
    pub async fn undelete(&self, secret: &SecretRef) -> Result<SecretMetadata> {
        retrying(|| async {
            let now = Timestamp::now();
            let mut tx = self.store.begin_write().await?;
            let wiped = self.purge_due(&mut tx, now).await?;
            let Some(record) = tx.undelete(secret, now).await? else {
                return Err(match tx.secret(secret).await? {
                    Some(_) => Error::NotDeleted(secret.clone()),
                    None => Error::NotFound(secret.clone()),
                });
            };
            let kept = kept_versions(&record);
            tx.record(
                self.audit(
                    "undelete",
                    &record,
                    Some(format!("restored with {kept} version(s)")),
                ),
                now,
            )
            .await?;
            tx.commit().await?;
            self.after_wipe(wiped).await;
            self.with_digest(record, now).await
        })
        .await
    }

    /// Removes a secret, live or deleted, for good: every version's ciphertext is deleted (and
    /// on SQLite its bytes zeroed). Returns how many versions were destroyed.
    pub async fn destroy(&self, secret: &SecretRef) -> Result<i64> {
        retrying(|| async {
            let now = Timestamp::now();
            let mut tx = self.store.begin_write().await?;
            self.purge_due(&mut tx, now).await?;
            let record = tx
                .destroy_secret(secret)
                .await?
                .ok_or_else(|| Error::NotFound(secret.clone()))?;
            let destroyed = kept_versions(&record);
            let entry = AuditEntry {
                actor: &self.actor,
                action: "destroy",
                secret: Some(secret),
                version: Some(record.current_version),
                detail: Some(format!(
                    "destroyed {destroyed} version(s); their values are wiped"
                )),
            };
            tx.record(entry, now).await?;
            tx.commit().await?;
            self.after_wipe(true).await;
            Ok(destroyed)
        })
        .await
    }

    /// Destroys every deleted secret whose retention has ended; returns how many. The server
    /// calls it periodically; every write does the same in its own transaction.
    pub async fn purge_expired(&self) -> Result<usize> {
        retrying(|| async {
            let now = Timestamp::now();
            let mut tx = self.store.begin_write().await?;
            let due = tx.due_for_purge(now).await?;
            if due.is_empty() {
                return Ok(0);
            }
            self.destroy_all(&mut tx, &due, now).await?;
            tx.commit().await?;
            self.after_wipe(true).await;
            Ok(due.len())
        })
        .await
    }

    /// Within a write: destroys the deleted secrets whose retention has ended; whether any was.
    pub(super) async fn purge_due(&self, tx: &mut WriteTx, now: Timestamp) -> Result<bool> {
        let due = tx.due_for_purge(now).await?;
        self.destroy_all(tx, &due, now).await?;
        Ok(!due.is_empty())
    }

    async fn destroy_all(
        &self,
        tx: &mut WriteTx,
        due: &[SecretRecord],
        now: Timestamp,
    ) -> Result<()> {
        for record in due {
            tx.destroy_secret(&record.secret).await?;
            let deleted_at = record.deleted_at.unwrap_or(record.updated_at);
            let entry = AuditEntry {
                actor: RETENTION_ACTOR,
                action: "purge",
                secret: Some(&record.secret),
                version: Some(record.current_version),
                detail: Some(format!(
                    "destroyed {} version(s): deleted at {deleted_at}, its retention has ended",
                    kept_versions(record)
                )),
            };
            tx.record(entry, now).await?;
        }
        Ok(())
    }
}

/// How many versions of `record` are stored (those before `pruned_through` are gone).
fn kept_versions(record: &SecretRecord) -> i64 {
    record.current_version - record.pruned_through
}

/// `now` plus `retention`, held to the latest time a timestamp can print.
fn after(now: Timestamp, retention: Duration) -> Timestamp {
    /// 9999-12-31T23:59:59.999Z.
    const LATEST_MILLIS: i64 = 253_402_300_799_999;
    let millis = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
    Timestamp::from_millis(now.millis().saturating_add(millis).min(LATEST_MILLIS))
}
