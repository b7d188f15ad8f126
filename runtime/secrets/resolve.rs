//! The decrypted secrets a function sees: for each name, the namespace secret if it has one
//! that has not expired, else the global one. Plain data built by the service: it reads no
//! store and decrypts nothing; values are [`SecretValue`]s, so `Debug` never shows one.

use std::collections::BTreeMap;

use crate::secrets::{Scope, SecretName, SecretValue};
use crate::time::Timestamp;

/// One secret chosen for a function, with where it came from.
#[derive(Debug)]
pub struct ResolvedSecret {
    /// The scope it was taken from.
    pub scope: Scope,
    /// Its current version.
    pub version: i64,
    /// The plaintext.
    pub value: SecretValue,
}

/// The secrets of one namespace, by upper-case name.
#[derive(Debug, Default)]
pub struct ResolvedSecrets {
    /// The chosen secret for each name.
    pub secrets: BTreeMap<SecretName, ResolvedSecret>,
    /// Notes for the execution log, such as a namespace secret that has expired and was
    /// replaced by the global one. They name secrets, never values.
    pub notes: Vec<String>,
    /// The earliest expiry among the chosen secrets and those they shadow: the set is current
    /// until then (if nothing changes in the store).
    pub valid_until: Option<Timestamp>,
}
