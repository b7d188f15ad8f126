//! The storage schema as Rust types: what a row of each table holds, and the filters the list
//! queries take. Plain data: no query, no decryption (envelopes stay bytes). Version and audit
//! records derive `Serialize`/`ToSchema`: the CLI and the API show them as they are.

use serde::{Deserialize, Serialize};

use crate::crypto::KeyId;
use crate::secrets::{Location, Namespace, Scope, SecretName, SecretRef};
use crate::time::Timestamp;

/// One row of `secrets`: a secret's metadata and its current version.
#[derive(Debug, Clone)]
pub struct SecretRecord {
    /// Row id, used to address its versions.
    pub id: i64,
    /// Where the secret lives and its name.
    pub secret: SecretRef,
    /// Free text describing the secret.
    pub description: Option<String>,
    /// When the current value stops being injected.
    pub expires_at: Option<Timestamp>,
    /// The version injected into functions.
    pub current_version: i64,
    /// When the secret was first set.
    pub created_at: Timestamp,
    /// When the secret last changed.
    pub updated_at: Timestamp,
    /// When the secret was deleted; `None` while it is live.
    pub deleted_at: Option<Timestamp>,
    /// When a deleted secret is destroyed for good; `None` while it is live.
    pub purge_at: Option<Timestamp>,
    /// How many versions are kept; `None` keeps them all.
    pub max_versions: Option<i64>,
    /// Versions 1 to this one were destroyed because of `max_versions` (0: none).
    pub pruned_through: i64,
}

/// One row of `secret_versions`, without its ciphertext.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VersionRecord {
    /// Version number, from 1.
    pub version: i64,
    /// Id of the master key that wraps this version's data key.
    pub key_id: KeyId,
    /// When the version was written.
    pub created_at: Timestamp,
    /// Who wrote it.
    pub created_by: String,
    /// For a rollback: the version whose value this one restores.
    pub restored_from: Option<i64>,
}

/// The encrypted value of one version, as stored.
#[derive(Debug, Clone)]
pub struct StoredVersion {
    /// The secret the version belongs to, as its row says.
    pub secret: SecretRef,
    /// Row id of that secret.
    pub secret_id: i64,
    /// Version number.
    pub version: i64,
    /// The encoded envelope.
    pub envelope: Vec<u8>,
}

/// A version to store.
#[derive(Debug, Clone)]
pub struct NewVersion<'a> {
    /// Row id of the secret.
    pub secret_id: i64,
    /// Its number, as the secret row now says.
    pub version: i64,
    /// Id of the master key that wrapped the data key.
    pub key_id: &'a KeyId,
    /// The encoded envelope.
    pub envelope: &'a [u8],
    /// Who wrote it.
    pub actor: &'a str,
    /// For a rollback: the version whose value it restores.
    pub restored_from: Option<i64>,
}

/// Metadata a `set` writes along with a new value.
#[derive(Debug, Clone, Default)]
pub struct MetadataChange {
    /// A new description; `None` keeps the current one.
    pub description: Option<String>,
    /// The expiry of the new value; `None` means it does not expire.
    pub expires_at: Option<Timestamp>,
    /// A new cap on kept versions: `None` keeps the current one, `Some(None)` removes it.
    pub max_versions: Option<Option<i64>>,
}

/// How many secrets are in each state.
#[derive(Debug, Clone, Copy)]
pub struct SecretCounts {
    /// Live (not deleted) secrets.
    pub live: i64,
    /// Live secrets whose value has expired.
    pub expired: i64,
    /// Live secrets whose value expires soon (the window the caller chose).
    pub expiring: i64,
    /// Deleted secrets still kept.
    pub deleted: i64,
}

/// Which secrets a listing returns.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only secrets of this scope.
    pub scope: Option<Scope>,
    /// Only secrets of this namespace.
    pub namespace: Option<Namespace>,
    /// Deleted secrets (kept for their retention period) instead of live ones.
    pub deleted: bool,
    /// Only secrets whose current value expires at or before this time (expired ones too).
    pub expiring_before: Option<Timestamp>,
}

/// One row of `audit_log`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditRecord {
    /// Row id, increasing with time.
    pub id: i64,
    /// When the change was made.
    pub at: Timestamp,
    /// Who made it (`cli:<user>`, later `api:<key>`).
    pub actor: String,
    /// What was done: `set`, `update`, `rollback`, `delete`, `undelete`, `destroy`, `purge`,
    /// `prune`, `rotate-key`.
    pub action: String,
    /// Scope of the secret changed, if one was.
    pub scope: Option<String>,
    /// Namespace of the secret changed, if it has one.
    pub namespace: Option<String>,
    /// Name of the secret changed, if one was.
    pub name: Option<String>,
    /// Version written, if one was.
    pub version: Option<i64>,
    /// More about the change, never a value.
    pub detail: Option<String>,
    /// The network address (`IP:port`) of the API client that made the change; `null` for the
    /// CLI and the host's own changes.
    #[serde(default)]
    pub address: Option<String>,
}

/// Rebuilds a secret reference from its stored columns.
pub(super) fn secret_ref(scope: &str, namespace: String, name: String) -> SecretRef {
    SecretRef {
        location: Location::from_stored(scope, namespace),
        name: SecretName::from_stored(name),
    }
}

/// Which log records (execution or audit) to list.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    /// Only records about this handler or secret name.
    pub name: Option<String>,
    /// Only records containing this text (case-insensitive).
    pub search: Option<String>,
    /// At most this many, newest first.
    pub limit: i64,
    /// Only records at or after this time (an execution's start, an audit record's time).
    pub since: Option<Timestamp>,
    /// Only records at or before this time.
    pub until: Option<Timestamp>,
}

impl LogFilter {
    /// The search text as a case-insensitive `LIKE` pattern (`%`, `_` and `\` escaped, for
    /// `ESCAPE '\'`), or empty for no search.
    pub(super) fn search_pattern(&self) -> String {
        let Some(text) = &self.search else {
            return String::new();
        };
        let mut pattern = String::with_capacity(text.len() + 2);
        pattern.push('%');
        for c in text.to_lowercase().chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        pattern
    }
}

#[cfg(test)]
mod tests {
    use super::LogFilter;

    #[test]
    fn search_patterns_escape_like_wildcards() {
        let filter = |search: Option<&str>| LogFilter {
            name: None,
            search: search.map(str::to_owned),
            limit: 1,
            ..LogFilter::default()
        };
        assert_eq!(filter(None).search_pattern(), "");
        assert_eq!(
            filter(Some("FLUXBASE_SECRET 100%")).search_pattern(),
            "%fluxbase\\_secret 100\\%%"
        );
    }
}
