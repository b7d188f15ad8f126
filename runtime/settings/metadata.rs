//! What users see of a settings secret: everything but its value, built from a store record.
//! It never holds a value or an envelope, and formats nothing.

use serde::{Deserialize, Serialize};

use crate::secrets::SecretName;
use crate::settings::{SettingScope, UserId};
use crate::store::SettingRecord;
use crate::time::Timestamp;

/// The kind of scope, as shown: `system` or `user`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SettingKind {
    /// A system settings secret.
    System,
    /// A user's settings secret.
    User,
}

impl std::fmt::Display for SettingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SettingKind::System => "system",
            SettingKind::User => "user",
        })
    }
}

/// A settings secret's metadata as shown by the CLI and the API. It has no field for the value.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SettingMetadata {
    /// Upper-case key.
    pub key: SecretName,
    /// `system` or `user`.
    pub scope: SettingKind,
    /// The user of a user settings secret.
    pub user: Option<UserId>,
    /// Free text describing it.
    pub description: Option<String>,
    /// When it was first set.
    pub created_at: Timestamp,
    /// When its value or description last changed.
    pub updated_at: Timestamp,
}

impl SettingMetadata {
    /// The metadata of a stored settings secret.
    pub fn from_record(record: SettingRecord) -> Self {
        let (scope, user) = match record.setting.scope {
            SettingScope::System => (SettingKind::System, None),
            SettingScope::User(user) => (SettingKind::User, Some(user)),
        };
        SettingMetadata {
            key: record.setting.key,
            scope,
            user,
            description: record.description,
            created_at: record.created_at,
            updated_at: record.updated_at,
        }
    }
}
