//! Validated identifiers of settings secrets: user ids, scopes, and the reference that addresses
//! one settings secret. Keys follow the rules of function secret names ([`SecretName`]).
//! Parsing only: it never reads the store or checks who may act on a secret.

use serde::{Deserialize, Serialize};

use crate::secrets::SecretName;
use crate::{Error, Result};

/// Longest accepted user id, in characters.
pub const MAX_USER_ID_LEN: usize = 255;

/// A user id: the `sub` of a user token. ASCII letters, digits and `- _ . @ : | +`, at most 255
/// characters; case-sensitive (`auth0|abc`, a UUID, `user_2NNEq`, `me+x@example.com`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    /// Validates `raw` as a user id.
    pub fn parse(raw: &str) -> Result<Self> {
        if raw.is_empty() {
            return Err(Error::invalid("user id is empty"));
        }
        if raw.chars().count() > MAX_USER_ID_LEN {
            return Err(Error::invalid(format!(
                "user id is longer than {MAX_USER_ID_LEN} characters"
            )));
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@:|+".contains(c))
        {
            return Err(Error::invalid(
                "invalid user id: use only letters, digits and - _ . @ : | +",
            ));
        }
        Ok(UserId(raw.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Rebuilds an id read back from the store, where it was validated on the way in.
    pub(crate) fn from_stored(id: String) -> Self {
        UserId(id)
    }
}

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whose settings secret it is: the system's (every function), or one user's (functions invoked
/// with that user's token).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SettingScope {
    /// System-wide configuration, encrypted under the master key.
    System,
    /// One user's, encrypted under that user's derived key.
    User(UserId),
}

impl SettingScope {
    /// The scope for an optional `--user`/`?user=`: a user's, else the system's.
    pub fn of(user: Option<UserId>) -> Self {
        user.map_or(SettingScope::System, SettingScope::User)
    }

    /// The scope as stored and shown: `system` or `user`.
    pub fn kind(&self) -> &'static str {
        match self {
            SettingScope::System => "system",
            SettingScope::User(_) => "user",
        }
    }

    /// The user, if any.
    pub fn user(&self) -> Option<&UserId> {
        match self {
            SettingScope::System => None,
            SettingScope::User(user) => Some(user),
        }
    }

    /// The user id as the store keeps it: empty for the system scope.
    pub fn stored_user(&self) -> &str {
        self.user().map_or("", UserId::as_str)
    }

    /// Rebuilds a scope from the columns the store keeps.
    pub(crate) fn from_stored(scope: &str, user: String) -> Self {
        if scope == "user" {
            SettingScope::User(UserId::from_stored(user))
        } else {
            SettingScope::System
        }
    }
}

impl std::fmt::Display for SettingScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SettingScope::System => f.write_str("system"),
            SettingScope::User(user) => write!(f, "user {user}"),
        }
    }
}

/// The address of one settings secret: its scope and its key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SettingRef {
    /// System, or the user it belongs to.
    pub scope: SettingScope,
    /// The key: a secret name, kept in upper case.
    pub key: SecretName,
}

impl SettingRef {
    /// Parses a key and an optional user id.
    pub fn parse(key: &str, user: Option<&str>) -> Result<Self> {
        Ok(SettingRef {
            key: SecretName::parse(key)?,
            scope: SettingScope::of(user.map(UserId::parse).transpose()?),
        })
    }
}

impl std::fmt::Display for SettingRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.key, self.scope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_accept_common_subjects_only() {
        for good in [
            "alice",
            "auth0|5f7c8ec7c33c6c004bbafe82",
            "0b5c1f2e-8d7a-4c1e-9f43-2a1b3c4d5e6f",
            "me+x@example.com",
            "google-oauth2:123",
        ] {
            assert_eq!(UserId::parse(good).unwrap().as_str(), good);
        }
        for bad in ["", "a b", "a/b", "a?b", "é", "a\nb", "a%20"] {
            assert!(UserId::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(UserId::parse(&"u".repeat(255)).is_ok());
        assert!(UserId::parse(&"u".repeat(256)).is_err());
    }

    #[test]
    fn refs_upper_case_keys_and_show_their_scope() {
        let system = SettingRef::parse("openai_key", None).unwrap();
        assert_eq!(system.to_string(), "OPENAI_KEY (system)");
        let user = SettingRef::parse("openai_key", Some("alice")).unwrap();
        assert_eq!(user.to_string(), "OPENAI_KEY (user alice)");
        assert_eq!(user.scope.stored_user(), "alice");
        assert!(SettingRef::parse("fluxbase_x", None).is_err());
    }
}
