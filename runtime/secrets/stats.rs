//! `secrets stats`: how many secrets there are, how many expire within the warning window (7
//! days, the window of the execution log's warning), how many have expired, how many are deleted.

use serde::{Deserialize, Serialize};

use super::SecretsService;
use super::resolve::EXPIRY_WARNING;
use crate::Result;
use crate::time::Timestamp;

/// Counts of secrets by state. Never a name or a value.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SecretStats {
    /// Live (not deleted) secrets, expired ones included.
    pub total: i64,
    /// Live secrets whose value expires within `window_days` from now (not yet expired).
    pub expiring_soon: i64,
    /// Live secrets whose value has expired (no longer injected).
    pub expired: i64,
    /// Deleted secrets still kept for their retention period.
    pub deleted: i64,
    /// The window of `expiring_soon`, in days.
    pub window_days: i64,
}

impl SecretsService {
    /// Counts secrets by state at this instant.
    pub async fn stats(&self) -> Result<SecretStats> {
        let now = Timestamp::now();
        let window = i64::try_from(EXPIRY_WARNING.as_millis()).unwrap_or(i64::MAX);
        let soon = Timestamp::from_millis(now.millis().saturating_add(window));
        let counts = self.store.secret_counts(now, soon).await?;
        Ok(SecretStats {
            total: counts.live,
            expiring_soon: counts.expiring,
            expired: counts.expired,
            deleted: counts.deleted,
            window_days: window / (24 * 60 * 60 * 1000),
        })
    }
}
