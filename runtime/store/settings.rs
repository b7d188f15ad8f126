//! Queries on `settings_secrets` (system and per-user settings secrets, one row each, no
//! history), their audit rows, and `job_run_users` (the user a job run was enqueued for).
//! It stores and returns envelopes as bytes: it never decrypts, and never checks who may read
//! a row; that is the settings service's work.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Backend, Store, WriteTx};
use crate::Result;
use crate::crypto::KeyId;
use crate::settings::{SettingRef, SettingScope, UserId};
use crate::time::Timestamp;

/// Columns of a settings row, ciphertext included.
const COLUMNS: &str =
    "id, scope, user_id, name, description, key_id, created_at, updated_at, envelope";

/// One row of `settings_secrets`, with its ciphertext.
#[derive(Clone)]
pub struct SettingRecord {
    /// Row id.
    pub id: i64,
    /// Scope and key.
    pub setting: SettingRef,
    /// Free text describing it.
    pub description: Option<String>,
    /// Id of the master key the value's wrapping key comes from.
    pub key_id: KeyId,
    /// The encoded envelope.
    pub envelope: Vec<u8>,
    /// When it was first set.
    pub created_at: Timestamp,
    /// When its value or description last changed.
    pub updated_at: Timestamp,
}

impl std::fmt::Debug for SettingRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SettingRecord")
            .field("id", &self.id)
            .field("setting", &self.setting)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// A value to store: the row is created or its value replaced.
#[derive(Debug, Clone)]
pub struct SettingWrite<'a> {
    /// Scope and key.
    pub setting: &'a SettingRef,
    /// A new description; `None` keeps the current one.
    pub description: Option<&'a str>,
    /// Id of the master key the wrapping key comes from.
    pub key_id: &'a KeyId,
    /// The encoded envelope.
    pub envelope: &'a [u8],
    /// Who writes it.
    pub actor: &'a str,
}

impl Store {
    /// The settings secret at `setting`, if it exists.
    pub async fn find_setting(&self, setting: &SettingRef) -> Result<Option<SettingRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM settings_secrets WHERE scope = $1 AND user_id = $2 AND name = $3"
        )))
        .bind(setting.scope.kind())
        .bind(setting.scope.stored_user())
        .bind(setting.key.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| setting_record(&row)).transpose()
    }

    /// The settings secrets of one scope (the system's, or one user's), ordered by key.
    pub async fn list_settings(&self, scope: &SettingScope) -> Result<Vec<SettingRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM settings_secrets WHERE scope = $1 AND user_id = $2 ORDER BY name"
        )))
        .bind(scope.kind())
        .bind(scope.stored_user())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(setting_record).collect()
    }

    /// The system settings secrets and, with `user`, that user's: what one invocation sees.
    pub async fn settings_for(&self, user: Option<&UserId>) -> Result<Vec<SettingRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM settings_secrets \
             WHERE scope = 'system' OR (scope = 'user' AND user_id = $1) ORDER BY scope, name"
        )))
        // An empty id matches no user row (the schema refuses empty user ids).
        .bind(user.map_or("", UserId::as_str))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(setting_record).collect()
    }

    /// The ids of every master key that some stored value (function secret version or settings
    /// secret) depends on.
    pub async fn all_key_ids(&self) -> Result<Vec<KeyId>> {
        let rows = sqlx::query(
            "SELECT key_id FROM secret_versions UNION SELECT key_id FROM settings_secrets \
             ORDER BY key_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok(KeyId::from_stored(row.try_get("key_id")?)))
            .collect()
    }

    /// The ids of the master keys the settings secrets depend on.
    pub async fn settings_key_ids(&self) -> Result<Vec<KeyId>> {
        let rows = sqlx::query("SELECT DISTINCT key_id FROM settings_secrets ORDER BY key_id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok(KeyId::from_stored(row.try_get("key_id")?)))
            .collect()
    }

    /// Records that job run `run_id` was enqueued for `user` (before the run itself is stored,
    /// so no worker can claim it without its user).
    pub async fn set_job_run_user(&self, run_id: &str, user: &UserId) -> Result<()> {
        sqlx::query("INSERT INTO job_run_users (run_id, user_id) VALUES ($1, $2)")
            .bind(run_id)
            .bind(user.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forgets the user of a run that could not be enqueued.
    pub async fn forget_job_run_user(&self, run_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM job_run_users WHERE run_id = $1")
            .bind(run_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The user job run `run_id` was enqueued for, if any.
    pub async fn job_run_user(&self, run_id: &str) -> Result<Option<UserId>> {
        let user: Option<String> =
            sqlx::query_scalar("SELECT user_id FROM job_run_users WHERE run_id = $1")
                .bind(run_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(user.map(UserId::from_stored))
    }
}

impl WriteTx {
    /// The settings secret at `setting`, read inside this transaction.
    pub async fn find_setting(&mut self, setting: &SettingRef) -> Result<Option<SettingRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM settings_secrets WHERE scope = $1 AND user_id = $2 AND name = $3"
        )))
        .bind(setting.scope.kind())
        .bind(setting.scope.stored_user())
        .bind(setting.key.as_str())
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(|row| setting_record(&row)).transpose()
    }

    /// Creates the settings secret, or replaces its value (and description, when one is given);
    /// returns the row as it now is.
    pub async fn upsert_setting(
        &mut self,
        write: SettingWrite<'_>,
        now: Timestamp,
    ) -> Result<SettingRecord> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO settings_secrets (scope, user_id, name, description, key_id, envelope, \
             created_at, created_by, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7, $8) \
             ON CONFLICT (scope, user_id, name) DO UPDATE SET \
             description = COALESCE(excluded.description, settings_secrets.description), \
             key_id = excluded.key_id, envelope = excluded.envelope, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by \
             RETURNING {COLUMNS}"
        )))
        .bind(write.setting.scope.kind())
        .bind(write.setting.scope.stored_user())
        .bind(write.setting.key.as_str())
        .bind(write.description.map(str::to_owned))
        .bind(write.key_id.as_str())
        .bind(write.envelope.to_vec())
        .bind(now.millis())
        .bind(write.actor)
        .fetch_one(&mut *self.tx)
        .await?;
        setting_record(&row)
    }

    /// Deletes a settings secret; `false` if it did not exist.
    pub async fn delete_setting(&mut self, setting: &SettingRef) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM settings_secrets WHERE scope = $1 AND user_id = $2 AND name = $3",
        )
        .bind(setting.scope.kind())
        .bind(setting.scope.stored_user())
        .bind(setting.key.as_str())
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Records a change to settings secrets in the audit log, as part of this transaction:
    /// scope `system` or `user`, the key as name, and `detail` (which names the user). Never a
    /// value.
    pub async fn record_setting_change(
        &mut self,
        actor: &str,
        action: &str,
        setting: Option<&SettingRef>,
        detail: String,
        now: Timestamp,
    ) -> Result<()> {
        // Settings are cached by the store generation too.
        self.bump_generation().await?;
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, scope, namespace, name, version, detail, \
             address) VALUES ($1, $2, $3, $4, NULL, $5, NULL, $6, $7)",
        )
        .bind(now.millis())
        .bind(actor)
        .bind(action)
        .bind(setting.map(|s| s.scope.kind()))
        .bind(setting.map(|s| s.key.as_str().to_owned()))
        .bind(detail)
        .bind(super::audit::client_address())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Every settings secret with its ciphertext, locked against concurrent writers until this
    /// transaction ends (key rotation).
    pub async fn lock_all_settings(&mut self) -> Result<Vec<SettingRecord>> {
        if self.backend == Backend::Postgres {
            sqlx::query("LOCK TABLE settings_secrets IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *self.tx)
                .await?;
        }
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM settings_secrets ORDER BY id"
        )))
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(setting_record).collect()
    }

    /// Replaces the ciphertext of one settings secret (key rotation); its times stay.
    pub async fn replace_setting_envelope(
        &mut self,
        id: i64,
        key_id: &KeyId,
        envelope: &[u8],
    ) -> Result<()> {
        sqlx::query("UPDATE settings_secrets SET key_id = $1, envelope = $2 WHERE id = $3")
            .bind(key_id.as_str())
            .bind(envelope.to_vec())
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}

fn setting_record(row: &AnyRow) -> Result<SettingRecord> {
    let scope: String = row.try_get("scope")?;
    Ok(SettingRecord {
        id: row.try_get("id")?,
        setting: SettingRef {
            scope: SettingScope::from_stored(&scope, row.try_get("user_id")?),
            key: crate::secrets::SecretName::from_stored(row.try_get("name")?),
        },
        description: row.try_get("description")?,
        key_id: KeyId::from_stored(row.try_get("key_id")?),
        envelope: row.try_get("envelope")?,
        created_at: Timestamp::from_millis(row.try_get("created_at")?),
        updated_at: Timestamp::from_millis(row.try_get("updated_at")?),
    })
}
