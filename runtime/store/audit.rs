//! The audit trail: one row for every change, written in the caller's transaction (which also
//! bumps the store generation), with the network address of the API client that asked for it
//! when there is one, and read back for `logs`. It is given names, versions and actors, never a
//! value; it does not decide what is audited.

use sqlx::Row;

use super::records::{AuditRecord, LogFilter};
use super::{Store, WriteTx};
use crate::Result;
use crate::secrets::SecretRef;
use crate::time::Timestamp;

/// What to record about one change. Never holds a value.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    /// Who made the change.
    pub actor: &'a str,
    /// What was done.
    pub action: &'a str,
    /// The secret changed, if one was.
    pub secret: Option<&'a SecretRef>,
    /// The version written, if one was.
    pub version: Option<i64>,
    /// More about the change.
    pub detail: Option<String>,
}

tokio::task_local! {
    /// The address of the API client whose request the current task serves.
    static CLIENT_ADDRESS: String;
}

/// Runs `work` (an API request) with `address` as the client address that every audit record it
/// writes carries. The HTTP layer wraps each request in it; the CLI does not, and its records
/// have no address.
pub async fn with_client_address<F: std::future::Future>(address: String, work: F) -> F::Output {
    CLIENT_ADDRESS.scope(address, work).await
}

/// The client address of the request this task serves, if any.
pub(super) fn client_address() -> Option<String> {
    CLIENT_ADDRESS.try_with(Clone::clone).ok()
}

impl WriteTx {
    /// Records `entry` as part of this transaction, and bumps the store generation with it:
    /// every change to a secret is audited, so every change invalidates cached secrets.
    pub async fn record(&mut self, entry: AuditEntry<'_>, now: Timestamp) -> Result<()> {
        self.bump_generation().await?;
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, scope, namespace, name, version, detail, \
             address) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(now.millis())
        .bind(entry.actor)
        .bind(entry.action)
        .bind(entry.secret.map(|s| s.location.scope().as_str()))
        .bind(
            entry
                .secret
                .and_then(|s| s.location.namespace())
                .map(|n| n.as_str().to_owned()),
        )
        .bind(entry.secret.map(|s| s.name.as_str().to_owned()))
        .bind(entry.version)
        .bind(entry.detail)
        .bind(client_address())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}

impl Store {
    /// Audit records matching `filter`, newest first.
    pub async fn audit_records(&self, filter: &LogFilter) -> Result<Vec<AuditRecord>> {
        let rows = sqlx::query(
            "SELECT id, at, actor, action, scope, namespace, name, version, detail, address \
             FROM audit_log \
             WHERE ($1 = '' OR name = $1) \
               AND ($2 = '' OR lower(actor || ' ' || action || ' ' || COALESCE(namespace, '') \
                    || ' ' || COALESCE(name, '') || ' ' || COALESCE(detail, '')) \
                    LIKE $2 ESCAPE '\\') \
               AND ($4 = 0 OR at >= $5) AND ($6 = 0 OR at <= $7) \
             ORDER BY id DESC LIMIT $3",
        )
        .bind(
            filter
                .name
                .as_deref()
                .map(str::to_ascii_uppercase)
                .unwrap_or_default(),
        )
        .bind(filter.search_pattern())
        .bind(filter.limit)
        .bind(i64::from(filter.since.is_some()))
        .bind(filter.since.map_or(0, Timestamp::millis))
        .bind(i64::from(filter.until.is_some()))
        .bind(filter.until.map_or(0, Timestamp::millis))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AuditRecord {
                    id: row.try_get("id")?,
                    at: Timestamp::from_millis(row.try_get("at")?),
                    actor: row.try_get("actor")?,
                    action: row.try_get("action")?,
                    scope: row.try_get("scope")?,
                    namespace: row.try_get("namespace")?,
                    name: row.try_get("name")?,
                    version: row.try_get("version")?,
                    detail: row.try_get("detail")?,
                    address: row.try_get("address")?,
                })
            })
            .collect()
    }
}
