//! The decrypted secrets a function sees: for each name, the namespace secret if it has one
//! that has not expired, else the global one. Plain data built by the service: it reads no
//! store and decrypts nothing; values are [`SecretValue`]s, so `Debug` never shows one.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::secrets::{Scope, SecretName, SecretValue};
use crate::time::Timestamp;

/// How close to its expiry a secret must be for an execution that reads it to log a warning
/// (and for `secrets stats` to count it as expiring soon).
pub const EXPIRY_WARNING: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// The prefix of the variable that carries a function secret (and of the name an execution
/// record gives a secret it read).
const SECRET_VARIABLE_PREFIX: &str = "FLUXBASE_SECRET_";

/// One secret chosen for a function, with where it came from.
#[derive(Debug)]
pub struct ResolvedSecret {
    /// The scope it was taken from.
    pub scope: Scope,
    /// Its current version.
    pub version: i64,
    /// The plaintext.
    pub value: SecretValue,
    /// When the value expires, if it does.
    pub expires_at: Option<Timestamp>,
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

impl ResolvedSecrets {
    /// One line for the execution log of a call that read the secrets `read` (as the isolate
    /// reports them: a function secret by its name or `FLUXBASE_SECRET_<NAME>`, a settings secret
    /// by its `FLUXBASE_USER_`/`FLUXBASE_SETTING_` variable, which is skipped): the names of
    /// those whose value expires within [`EXPIRY_WARNING`] of `now`, and when. Names and times
    /// only; `None` when there are none.
    pub fn expiry_warning<'a>(
        &self,
        read: impl IntoIterator<Item = &'a String>,
        now: Timestamp,
    ) -> Option<String> {
        let soon = now
            .millis()
            .saturating_add(EXPIRY_WARNING.as_millis() as i64);
        // A set: a secret read both ways (`secrets.get`, `Deno.env`) is named once.
        let expiring: std::collections::BTreeSet<String> = read
            .into_iter()
            .filter_map(|read| match read.strip_prefix(SECRET_VARIABLE_PREFIX) {
                Some(name) => Some(name),
                None if read.starts_with("FLUXBASE_") => None,
                None => Some(read.as_str()),
            })
            .filter_map(|name| {
                self.secrets
                    .iter()
                    .find(|(n, _)| n.as_str().eq_ignore_ascii_case(name))
            })
            .filter_map(|(name, secret)| {
                let at = secret.expires_at?;
                (at.millis() <= soon).then(|| format!("{name} ({}) at {at}", secret.scope))
            })
            .collect();
        (!expiring.is_empty()).then(|| {
            format!(
                "warning: secret(s) read by this call expire within 7 days: {}; set a new value \
                 before then",
                expiring.into_iter().collect::<Vec<_>>().join(", ")
            )
        })
    }
}
