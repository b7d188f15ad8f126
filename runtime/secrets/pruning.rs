//! The cap on kept versions (`--max-versions N`), as a rule of the secrets service: after every
//! write, versions older than the newest N are destroyed, the secret remembers up to which version
//! they are gone (so history and rollback can say so), and the audit log records it, all in the
//! write's own transaction.

use super::service::SecretsService;
use crate::store::{AuditEntry, SecretRecord, WriteTx};
use crate::time::Timestamp;
use crate::{Error, Result};

/// The largest cap accepted (a sanity bound; 0 is how a caller removes the cap).
pub const MAX_MAX_VERSIONS: i64 = 1_000_000;

/// Checks a requested cap: `Some(Some(n))` needs 1 <= n <= [`MAX_MAX_VERSIONS`].
pub fn check_max_versions(max_versions: Option<Option<i64>>) -> Result<()> {
    match max_versions {
        Some(Some(n)) if !(1..=MAX_MAX_VERSIONS).contains(&n) => Err(Error::invalid(format!(
            "max-versions must be between 1 and {MAX_MAX_VERSIONS} (0 removes the cap), not {n}"
        ))),
        _ => Ok(()),
    }
}

/// The cap a command-line or API number asks for: 0 removes it.
pub fn max_versions_from(number: Option<i64>) -> Option<Option<i64>> {
    number.map(|n| (n != 0).then_some(n))
}

impl SecretsService {
    /// Within a write: destroys the versions of `record` older than its newest `max_versions`
    /// and audits it; whether any ciphertext was removed.
    pub(super) async fn prune(
        &self,
        tx: &mut WriteTx,
        record: &mut SecretRecord,
        now: Timestamp,
    ) -> Result<bool> {
        let Some(max) = record.max_versions else {
            return Ok(false);
        };
        let through = record.current_version - max;
        if through <= record.pruned_through {
            return Ok(false);
        }
        let first = record.pruned_through + 1;
        let removed = tx.prune_versions(record.id, through).await?;
        record.pruned_through = through;
        let entry = AuditEntry {
            actor: &self.actor,
            action: "prune",
            secret: Some(&record.secret),
            version: Some(record.current_version),
            detail: Some(format!(
                "destroyed versions {first} to {through}: the secret keeps its newest {max} \
                 (max-versions)"
            )),
        };
        tx.record(entry, now).await?;
        Ok(removed > 0)
    }
}
