//! The decrypted settings secrets one invocation sees: the system's and its user's.
//! Plain data built by the service: it reads no store, decrypts nothing, prints no value.

use std::collections::BTreeMap;

use crate::secrets::{SecretName, SecretValue};

/// Settings secrets for one invocation, by upper-case key. `Debug` shows keys only.
#[derive(Debug, Default)]
pub struct ResolvedSettings {
    /// The invoking user's settings secrets (empty without a user).
    pub user: BTreeMap<SecretName, SecretValue>,
    /// The system settings secrets.
    pub system: BTreeMap<SecretName, SecretValue>,
}

impl ResolvedSettings {
    /// Whether there is nothing to inject.
    pub fn is_empty(&self) -> bool {
        self.user.is_empty() && self.system.is_empty()
    }
}
