//! Queries on `secrets` and `secret_versions`: find, list, versions, create, insert, lock and
//! re-wrap envelopes, delete. It stores and returns envelopes as bytes and decides nothing:
//! decryption, check-and-set, expiry and the audit row belong to the secrets service.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::records::{
    ListFilter, MetadataChange, NewVersion, SecretCounts, SecretRecord, StoredVersion,
    VersionRecord, secret_ref,
};
use super::{Backend, Store, WriteTx};
use crate::Result;
use crate::crypto::KeyId;
use crate::secrets::SecretRef;
use crate::time::Timestamp;

/// The columns of `secrets` that [`secret_record`] reads, in a `concat!`-able form.
macro_rules! secret_columns {
    () => {
        "id, scope, namespace, name, description, expires_at, current_version, created_at, \
         updated_at, deleted_at, purge_at, max_versions, pruned_through"
    };
}

impl Store {
    /// The secret at `secret`, live or deleted, if it exists.
    pub async fn find_secret(&self, secret: &SecretRef) -> Result<Option<SecretRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            secret_columns!(),
            " FROM secrets WHERE scope = $1 AND namespace = $2 AND name = $3"
        ))
        .bind(secret.location.scope().as_str())
        .bind(secret.location.stored_namespace())
        .bind(secret.name.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| secret_record(&row)).transpose()
    }

    /// Secrets matching `filter`, ordered by scope, namespace and name, each with the
    /// ciphertext of its current version.
    pub async fn list_secrets(&self, filter: &ListFilter) -> Result<Vec<(SecretRecord, Vec<u8>)>> {
        let rows = sqlx::query(
            "SELECT s.id, s.scope, s.namespace, s.name, s.description, s.expires_at, \
             s.current_version, s.created_at, s.updated_at, s.deleted_at, s.purge_at, \
             s.max_versions, s.pruned_through, v.envelope \
             FROM secrets s JOIN secret_versions v \
               ON v.secret_id = s.id AND v.version = s.current_version \
             WHERE ($1 = '' OR s.scope = $1) AND ($2 = '' OR s.namespace = $2) \
               AND (($3 = 1 AND s.deleted_at IS NOT NULL) OR ($3 = 0 AND s.deleted_at IS NULL)) \
               AND ($4 = 0 OR (s.expires_at IS NOT NULL AND s.expires_at <= $5)) \
             ORDER BY s.scope, s.namespace, s.name",
        )
        .bind(filter.scope.map_or("", |s| s.as_str()))
        .bind(filter.namespace.as_ref().map_or("", |n| n.as_str()))
        .bind(i64::from(filter.deleted))
        .bind(i64::from(filter.expiring_before.is_some()))
        .bind(filter.expiring_before.map_or(0, Timestamp::millis))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((secret_record(row)?, row.try_get("envelope")?)))
            .collect()
    }

    /// Counts of secrets: live ones, live ones whose value has expired, live ones expiring after
    /// `now` and at or before `soon`, and deleted ones.
    pub async fn secret_counts(&self, now: Timestamp, soon: Timestamp) -> Result<SecretCounts> {
        let row = sqlx::query(
            "SELECT \
               COALESCE(SUM(CASE WHEN deleted_at IS NULL THEN 1 ELSE 0 END), 0) AS live, \
               COALESCE(SUM(CASE WHEN deleted_at IS NULL AND expires_at <= $1 \
                 THEN 1 ELSE 0 END), 0) AS expired, \
               COALESCE(SUM(CASE WHEN deleted_at IS NULL AND expires_at > $1 \
                 AND expires_at <= $2 THEN 1 ELSE 0 END), 0) AS expiring, \
               COALESCE(SUM(CASE WHEN deleted_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS deleted \
             FROM secrets",
        )
        .bind(now.millis())
        .bind(soon.millis())
        .fetch_one(&self.pool)
        .await?;
        Ok(SecretCounts {
            live: row.try_get("live")?,
            expired: row.try_get("expired")?,
            expiring: row.try_get("expiring")?,
            deleted: row.try_get("deleted")?,
        })
    }

    /// The ciphertext of one version of a secret, if that version is stored.
    pub async fn envelope(&self, secret_id: i64, version: i64) -> Result<Option<Vec<u8>>> {
        let row = sqlx::query(
            "SELECT envelope FROM secret_versions WHERE secret_id = $1 AND version = $2",
        )
        .bind(secret_id)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| Ok(row.try_get("envelope")?)).transpose()
    }

    /// Every version of a secret, oldest first.
    pub async fn versions(&self, secret_id: i64) -> Result<Vec<VersionRecord>> {
        let rows = sqlx::query(
            "SELECT version, key_id, created_at, created_by, restored_from FROM secret_versions \
             WHERE secret_id = $1 ORDER BY version",
        )
        .bind(secret_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(VersionRecord {
                    version: row.try_get("version")?,
                    key_id: KeyId::from_stored(row.try_get("key_id")?),
                    created_at: Timestamp::from_millis(row.try_get("created_at")?),
                    created_by: row.try_get("created_by")?,
                    restored_from: row.try_get("restored_from")?,
                })
            })
            .collect()
    }

    /// The current version of every live secret visible in `namespace` (its own and the global
    /// ones), with their ciphertexts. Deleted secrets are left out.
    pub async fn current_versions(&self, namespace: &str) -> Result<Vec<(SecretRecord, Vec<u8>)>> {
        let rows = sqlx::query(
            "SELECT s.id, s.scope, s.namespace, s.name, s.description, s.expires_at, \
             s.current_version, s.created_at, s.updated_at, s.deleted_at, s.purge_at, \
             s.max_versions, s.pruned_through, v.envelope \
             FROM secrets s JOIN secret_versions v \
               ON v.secret_id = s.id AND v.version = s.current_version \
             WHERE s.deleted_at IS NULL \
               AND (s.scope = 'global' OR (s.scope = 'namespace' AND s.namespace = $1)) \
             ORDER BY s.name, s.scope",
        )
        .bind(namespace)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((secret_record(row)?, row.try_get("envelope")?)))
            .collect()
    }

    /// The ids of every master key that wraps some stored version.
    pub async fn key_ids(&self) -> Result<Vec<KeyId>> {
        let rows = sqlx::query("SELECT DISTINCT key_id FROM secret_versions ORDER BY key_id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok(KeyId::from_stored(row.try_get("key_id")?)))
            .collect()
    }
}

impl WriteTx {
    /// Moves an existing secret (live or deleted) to its next version, writing `change` if given,
    /// and returns the updated row; `None` if the secret does not exist.
    pub async fn advance_version(
        &mut self,
        secret: &SecretRef,
        change: Option<&MetadataChange>,
        now: Timestamp,
    ) -> Result<Option<SecretRecord>> {
        let query = match change {
            Some(change) => sqlx::query(concat!(
                "UPDATE secrets SET current_version = current_version + 1, updated_at = $1, \
                 description = COALESCE($2, description), expires_at = $3, \
                 max_versions = CASE WHEN $4 = 1 THEN $5 ELSE max_versions END \
                 WHERE scope = $6 AND namespace = $7 AND name = $8 RETURNING ",
                secret_columns!()
            ))
            .bind(now.millis())
            .bind(change.description.clone())
            .bind(change.expires_at.map(Timestamp::millis))
            .bind(i64::from(change.max_versions.is_some()))
            .bind(change.max_versions.flatten()),
            None => sqlx::query(concat!(
                "UPDATE secrets SET current_version = current_version + 1, updated_at = $1 \
                 WHERE scope = $2 AND namespace = $3 AND name = $4 RETURNING ",
                secret_columns!()
            ))
            .bind(now.millis()),
        };
        let row = query
            .bind(secret.location.scope().as_str())
            .bind(secret.location.stored_namespace())
            .bind(secret.name.as_str())
            .fetch_optional(&mut *self.tx)
            .await?;
        row.map(|row| secret_record(&row)).transpose()
    }

    /// Changes description, expiry and the cap on kept versions (`None`: keep; `Some(None)`:
    /// remove) without a new version; returns the updated row, or `None` if the secret does not
    /// exist.
    pub async fn update_metadata(
        &mut self,
        secret: &SecretRef,
        description: Option<Option<String>>,
        expires_at: Option<Option<i64>>,
        max_versions: Option<Option<i64>>,
        now: Timestamp,
    ) -> Result<Option<SecretRecord>> {
        let row = sqlx::query(concat!(
            "UPDATE secrets SET updated_at = $1, \
             description = CASE WHEN $2 = 1 THEN $3 ELSE description END, \
             expires_at = CASE WHEN $4 = 1 THEN $5 ELSE expires_at END, \
             max_versions = CASE WHEN $6 = 1 THEN $7 ELSE max_versions END \
             WHERE scope = $8 AND namespace = $9 AND name = $10 RETURNING ",
            secret_columns!()
        ))
        .bind(now.millis())
        .bind(i64::from(description.is_some()))
        .bind(description.flatten())
        .bind(i64::from(expires_at.is_some()))
        .bind(expires_at.flatten())
        .bind(i64::from(max_versions.is_some()))
        .bind(max_versions.flatten())
        .bind(secret.location.scope().as_str())
        .bind(secret.location.stored_namespace())
        .bind(secret.name.as_str())
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(|row| secret_record(&row)).transpose()
    }

    /// Creates a secret at version 1 and returns its row.
    pub async fn create_secret(
        &mut self,
        secret: &SecretRef,
        change: &MetadataChange,
        now: Timestamp,
    ) -> Result<SecretRecord> {
        let row = sqlx::query(concat!(
            "INSERT INTO secrets (scope, namespace, name, description, expires_at, \
             current_version, created_at, updated_at, max_versions) \
             VALUES ($1, $2, $3, $4, $5, 1, $6, $6, $7) RETURNING ",
            secret_columns!()
        ))
        .bind(secret.location.scope().as_str())
        .bind(secret.location.stored_namespace())
        .bind(secret.name.as_str())
        .bind(change.description.clone())
        .bind(change.expires_at.map(Timestamp::millis))
        .bind(now.millis())
        .bind(change.max_versions.flatten())
        .fetch_one(&mut *self.tx)
        .await?;
        secret_record(&row)
    }

    /// Stores the ciphertext of a new version.
    pub async fn insert_version(&mut self, new: NewVersion<'_>, now: Timestamp) -> Result<()> {
        sqlx::query(
            "INSERT INTO secret_versions (secret_id, version, key_id, envelope, created_at, \
             created_by, restored_from) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(new.secret_id)
        .bind(new.version)
        .bind(new.key_id.as_str())
        .bind(new.envelope.to_vec())
        .bind(now.millis())
        .bind(new.actor)
        .bind(new.restored_from)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// The stored ciphertext of one version of a secret.
    pub async fn version(&mut self, secret_id: i64, version: i64) -> Result<Option<StoredVersion>> {
        let row = sqlx::query(
            "SELECT s.scope, s.namespace, s.name, v.secret_id, v.version, v.envelope \
             FROM secret_versions v JOIN secrets s ON s.id = v.secret_id \
             WHERE v.secret_id = $1 AND v.version = $2",
        )
        .bind(secret_id)
        .bind(version)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(|row| stored_version(&row)).transpose()
    }

    /// Marks a live secret deleted (its versions stay) until `purge_at`; returns the updated row,
    /// or `None` if there is no live secret at `secret`.
    pub async fn soft_delete(
        &mut self,
        secret: &SecretRef,
        now: Timestamp,
        purge_at: Timestamp,
    ) -> Result<Option<SecretRecord>> {
        let row = sqlx::query(concat!(
            "UPDATE secrets SET deleted_at = $1, purge_at = $2, updated_at = $1 \
             WHERE scope = $3 AND namespace = $4 AND name = $5 AND deleted_at IS NULL RETURNING ",
            secret_columns!()
        ))
        .bind(now.millis())
        .bind(purge_at.millis())
        .bind(secret.location.scope().as_str())
        .bind(secret.location.stored_namespace())
        .bind(secret.name.as_str())
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(|row| secret_record(&row)).transpose()
    }

    /// The secret at `secret`, live or deleted, read inside this transaction (a write must not
    /// wait for a second connection while it holds the write lock).
    pub async fn secret(&mut self, secret: &SecretRef) -> Result<Option<SecretRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            secret_columns!(),
            " FROM secrets WHERE scope = $1 AND namespace = $2 AND name = $3"
        ))
        .bind(secret.location.scope().as_str())
        .bind(secret.location.stored_namespace())
        .bind(secret.name.as_str())
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(|row| secret_record(&row)).transpose()
    }

    /// Makes a deleted secret live again, as it was; returns the updated row, or `None` if there
    /// is no deleted secret at `secret`.
    pub async fn undelete(
        &mut self,
        secret: &SecretRef,
        now: Timestamp,
    ) -> Result<Option<SecretRecord>> {
        let row = sqlx::query(concat!(
            "UPDATE secrets SET deleted_at = NULL, purge_at = NULL, updated_at = $1 \
             WHERE scope = $2 AND namespace = $3 AND name = $4 AND deleted_at IS NOT NULL \
             RETURNING ",
            secret_columns!()
        ))
        .bind(now.millis())
        .bind(secret.location.scope().as_str())
        .bind(secret.location.stored_namespace())
        .bind(secret.name.as_str())
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(|row| secret_record(&row)).transpose()
    }

    /// Makes the deleted secret of row `secret_id` live again (a new version was written to it).
    pub async fn revive(&mut self, secret_id: i64) -> Result<()> {
        sqlx::query("UPDATE secrets SET deleted_at = NULL, purge_at = NULL WHERE id = $1")
            .bind(secret_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Removes a secret (live or deleted) and every version of it for good; returns its row as
    /// it was, or `None` if it did not exist. On SQLite the freed bytes are zeroed
    /// (`secure_delete`, set on every connection).
    pub async fn destroy_secret(&mut self, secret: &SecretRef) -> Result<Option<SecretRecord>> {
        let row = sqlx::query(concat!(
            "DELETE FROM secrets WHERE scope = $1 AND namespace = $2 AND name = $3 RETURNING ",
            secret_columns!()
        ))
        .bind(secret.location.scope().as_str())
        .bind(secret.location.stored_namespace())
        .bind(secret.name.as_str())
        .fetch_optional(&mut *self.tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let record = secret_record(&row)?;
        sqlx::query("DELETE FROM secret_versions WHERE secret_id = $1")
            .bind(record.id)
            .execute(&mut *self.tx)
            .await?;
        Ok(Some(record))
    }

    /// Deleted secrets whose retention ended at or before `now`.
    pub async fn due_for_purge(&mut self, now: Timestamp) -> Result<Vec<SecretRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            secret_columns!(),
            " FROM secrets WHERE deleted_at IS NOT NULL AND purge_at <= $1 ORDER BY id"
        ))
        .bind(now.millis())
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(secret_record).collect()
    }

    /// Destroys versions 1 to `through` of the secret of row `secret_id` and records that they
    /// are gone; returns how many versions were removed.
    pub async fn prune_versions(&mut self, secret_id: i64, through: i64) -> Result<u64> {
        let done =
            sqlx::query("DELETE FROM secret_versions WHERE secret_id = $1 AND version <= $2")
                .bind(secret_id)
                .bind(through)
                .execute(&mut *self.tx)
                .await?;
        sqlx::query("UPDATE secrets SET pruned_through = $1 WHERE id = $2 AND pruned_through < $1")
            .bind(through)
            .bind(secret_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected())
    }

    /// Every stored version of every secret, with ciphertexts, after locking them against
    /// concurrent writers until this transaction ends.
    pub async fn lock_all_versions(&mut self) -> Result<Vec<StoredVersion>> {
        if self.backend == Backend::Postgres {
            sqlx::query("LOCK TABLE secrets, secret_versions IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *self.tx)
                .await?;
        }
        let rows = sqlx::query(
            "SELECT s.scope, s.namespace, s.name, v.secret_id, v.version, v.envelope \
             FROM secret_versions v JOIN secrets s ON s.id = v.secret_id \
             ORDER BY v.secret_id, v.version",
        )
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(stored_version).collect()
    }

    /// Replaces the ciphertext of one version (key rotation).
    pub async fn replace_envelope(
        &mut self,
        secret_id: i64,
        version: i64,
        key_id: &KeyId,
        envelope: &[u8],
    ) -> Result<()> {
        sqlx::query(
            "UPDATE secret_versions SET key_id = $1, envelope = $2 \
             WHERE secret_id = $3 AND version = $4",
        )
        .bind(key_id.as_str())
        .bind(envelope.to_vec())
        .bind(secret_id)
        .bind(version)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}

fn secret_record(row: &AnyRow) -> Result<SecretRecord> {
    let scope: String = row.try_get("scope")?;
    Ok(SecretRecord {
        id: row.try_get("id")?,
        secret: secret_ref(&scope, row.try_get("namespace")?, row.try_get("name")?),
        description: row.try_get("description")?,
        expires_at: row
            .try_get::<Option<i64>, _>("expires_at")?
            .map(Timestamp::from_millis),
        current_version: row.try_get("current_version")?,
        created_at: Timestamp::from_millis(row.try_get("created_at")?),
        updated_at: Timestamp::from_millis(row.try_get("updated_at")?),
        deleted_at: row
            .try_get::<Option<i64>, _>("deleted_at")?
            .map(Timestamp::from_millis),
        purge_at: row
            .try_get::<Option<i64>, _>("purge_at")?
            .map(Timestamp::from_millis),
        max_versions: row.try_get("max_versions")?,
        pruned_through: row.try_get("pruned_through")?,
    })
}

fn stored_version(row: &AnyRow) -> Result<StoredVersion> {
    let scope: String = row.try_get("scope")?;
    Ok(StoredVersion {
        secret: secret_ref(&scope, row.try_get("namespace")?, row.try_get("name")?),
        secret_id: row.try_get("secret_id")?,
        version: row.try_get("version")?,
        envelope: row.try_get("envelope")?,
    })
}
