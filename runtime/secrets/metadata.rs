//! What users see of a secret: everything but its value, built from a store record, and the
//! check of a description. It never holds a value or an envelope, and formats nothing.

use serde::{Deserialize, Serialize};

use crate::secrets::{Namespace, Scope, SecretName};
use crate::store::SecretRecord;
use crate::time::Timestamp;
use crate::{Error, Result};

/// Checks free text a user gives as a description (of a secret or a settings secret): any text
/// but the NUL character, which PostgreSQL cannot store in text.
pub fn check_description(description: Option<&str>) -> Result<()> {
    if description.is_some_and(|d| d.contains('\0')) {
        return Err(Error::invalid(
            "a description cannot contain the NUL character",
        ));
    }
    Ok(())
}

/// A secret's metadata as shown by the CLI and the API. It has no field for the value.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SecretMetadata {
    /// Upper-case name.
    pub name: SecretName,
    /// `global` or `namespace`.
    pub scope: Scope,
    /// The namespace of a namespace-scoped secret.
    pub namespace: Option<Namespace>,
    /// The current version.
    pub version: i64,
    /// Free text describing the secret.
    pub description: Option<String>,
    /// When the current value stops being injected.
    pub expires_at: Option<Timestamp>,
    /// Whether `expires_at` has passed.
    pub expired: bool,
    /// When the secret was first set.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// A short keyed digest of the current value (HMAC-SHA256 under a key derived from the
    /// master key): equal values show equal digests, and it reveals nothing of the value. A new
    /// master key changes it. `null` when the current value could not be decrypted (`verify`
    /// says why).
    #[serde(default)]
    pub digest: Option<String>,
    /// How many versions the secret keeps (older ones are destroyed); `null`: all of them.
    #[serde(default)]
    pub max_versions: Option<i64>,
    /// Versions 1 to this one were destroyed because of `max_versions` (0: none).
    #[serde(default)]
    pub pruned_through: i64,
    /// When the secret was deleted; `null` while it is live.
    #[serde(default)]
    pub deleted_at: Option<Timestamp>,
    /// When a deleted secret is destroyed for good; `null` while it is live.
    #[serde(default)]
    pub purge_at: Option<Timestamp>,
}

impl SecretMetadata {
    /// The metadata of a stored secret, with `expired` judged at `now`.
    pub fn from_record(record: SecretRecord, now: Timestamp) -> Self {
        SecretMetadata {
            scope: record.secret.location.scope(),
            namespace: record.secret.location.namespace().cloned(),
            name: record.secret.name,
            version: record.current_version,
            description: record.description,
            expired: record.expires_at.is_some_and(|at| at <= now),
            expires_at: record.expires_at,
            created_at: record.created_at,
            updated_at: record.updated_at,
            digest: None,
            max_versions: record.max_versions,
            pruned_through: record.pruned_through,
            deleted_at: record.deleted_at,
            purge_at: record.purge_at,
        }
    }

    /// The same metadata with the digest of the current value.
    pub fn with_digest(mut self, digest: Option<String>) -> Self {
        self.digest = digest;
        self
    }
}
