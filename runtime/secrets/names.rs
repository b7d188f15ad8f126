//! Validated identifiers: secret names, namespaces, scopes and the reference that addresses one
//! secret. Every string from a user passes through here before it reaches the store.
//! Parsing only: it never reads the store, and its errors echo a name only escaped and bounded.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Longest accepted secret name, in characters.
pub const MAX_NAME_LEN: usize = 128;
/// Longest accepted namespace, in characters.
pub const MAX_NAMESPACE_LEN: usize = 64;
/// Prefix reserved for variables the runtime sets itself.
const RESERVED_PREFIX: &str = "FLUXBASE_";

/// A secret's name: letters, digits and `_`, not starting with a digit, at most 128 characters.
/// Names are case-insensitive and kept in upper case, as they are injected
/// (`FLUXBASE_SECRET_<NAME>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretName(String);

impl SecretName {
    /// Validates `raw` and returns it in upper case.
    pub fn parse(raw: &str) -> Result<Self> {
        let shown = printable(raw);
        if raw.is_empty() {
            return Err(Error::invalid("secret name is empty"));
        }
        if raw.chars().count() > MAX_NAME_LEN {
            return Err(Error::invalid(format!(
                "secret name {shown} is longer than {MAX_NAME_LEN} characters"
            )));
        }
        if !raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(Error::invalid(format!(
                "invalid secret name {shown}: use only letters, digits and _"
            )));
        }
        if raw.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(Error::invalid(format!(
                "invalid secret name {shown}: a name cannot start with a digit"
            )));
        }
        let upper = raw.to_ascii_uppercase();
        if upper.starts_with(RESERVED_PREFIX) {
            return Err(Error::invalid(format!(
                "invalid secret name {shown}: the {RESERVED_PREFIX} prefix is reserved (the runtime \
                 adds FLUXBASE_SECRET_ itself)"
            )));
        }
        Ok(SecretName(upper))
    }

    /// The name in upper case.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Rebuilds a name read back from the store, where it was validated on the way in.
    pub(crate) fn from_stored(name: String) -> Self {
        SecretName(name)
    }
}

impl std::fmt::Display for SecretName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A namespace: lower-case letters, digits, `-` and `_`, at most 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Namespace(String);

impl Namespace {
    /// Validates `raw` as a namespace.
    pub fn parse(raw: &str) -> Result<Self> {
        let shown = printable(raw);
        if raw.is_empty() {
            return Err(Error::invalid("namespace is empty"));
        }
        if raw.chars().count() > MAX_NAMESPACE_LEN {
            return Err(Error::invalid(format!(
                "namespace {shown} is longer than {MAX_NAMESPACE_LEN} characters"
            )));
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            return Err(Error::invalid(format!(
                "invalid namespace {shown}: use only lower-case letters, digits, - and _"
            )));
        }
        Ok(Namespace(raw.to_owned()))
    }

    /// The namespace as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Rebuilds a namespace read back from the store, where it was validated on the way in.
    pub(crate) fn from_stored(namespace: String) -> Self {
        Namespace(namespace)
    }
}

impl std::fmt::Display for Namespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a secret applies: to every function, or to the functions of one namespace.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Visible to every function.
    Global,
    /// Visible to the functions of one namespace, where it wins over a global secret.
    Namespace,
}

impl Scope {
    /// The scope as stored and shown: `global` or `namespace`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::Namespace => "namespace",
        }
    }

    /// Parses `global` or `namespace`.
    pub fn parse(raw: &str) -> Result<Self> {
        match raw {
            "global" => Ok(Scope::Global),
            "namespace" => Ok(Scope::Namespace),
            other => Err(Error::invalid(format!(
                "invalid scope {}: use global or namespace",
                printable(other)
            ))),
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where one secret lives: global, or in a namespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Location {
    /// The global scope.
    Global,
    /// The scope of one namespace.
    Namespace(Namespace),
}

impl Location {
    /// Picks the location from the `--scope` and `--namespace` a user gave: a namespace without a
    /// scope means namespace scope; nothing means global.
    pub fn from_flags(scope: Option<Scope>, namespace: Option<Namespace>) -> Result<Self> {
        match (scope, namespace) {
            (None | Some(Scope::Global), None) => Ok(Location::Global),
            (None | Some(Scope::Namespace), Some(ns)) => Ok(Location::Namespace(ns)),
            (Some(Scope::Namespace), None) => {
                Err(Error::invalid("--scope namespace needs --namespace NS"))
            }
            (Some(Scope::Global), Some(_)) => Err(Error::invalid(
                "a global secret has no namespace: drop --namespace or use --scope namespace",
            )),
        }
    }

    /// The scope of this location.
    pub fn scope(&self) -> Scope {
        match self {
            Location::Global => Scope::Global,
            Location::Namespace(_) => Scope::Namespace,
        }
    }

    /// The namespace, if any.
    pub fn namespace(&self) -> Option<&Namespace> {
        match self {
            Location::Global => None,
            Location::Namespace(ns) => Some(ns),
        }
    }

    /// The namespace as the store keeps it: empty for the global scope, so that the uniqueness
    /// of (scope, namespace, name) holds without the NULL-is-distinct trap.
    pub fn stored_namespace(&self) -> &str {
        self.namespace().map_or("", Namespace::as_str)
    }

    /// Rebuilds a location from the columns the store keeps.
    pub(crate) fn from_stored(scope: &str, namespace: String) -> Self {
        if scope == Scope::Namespace.as_str() {
            Location::Namespace(Namespace::from_stored(namespace))
        } else {
            Location::Global
        }
    }
}

/// The address of one secret: its location and its name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecretRef {
    /// Global, or the namespace it belongs to.
    pub location: Location,
    /// The secret's name.
    pub name: SecretName,
}

impl SecretRef {
    /// A global secret.
    pub fn global(name: SecretName) -> Self {
        SecretRef {
            location: Location::Global,
            name,
        }
    }

    /// A secret of a namespace.
    pub fn in_namespace(namespace: Namespace, name: SecretName) -> Self {
        SecretRef {
            location: Location::Namespace(namespace),
            name,
        }
    }

    /// How a command line names this secret: `NAME` or `NAME --namespace NS`.
    pub fn command_args(&self) -> String {
        match &self.location {
            Location::Global => self.name.to_string(),
            Location::Namespace(ns) => format!("{} --namespace {ns}", self.name),
        }
    }
}

impl std::fmt::Display for SecretRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.location {
            Location::Global => write!(f, "{} (global)", self.name),
            Location::Namespace(ns) => write!(f, "{} (namespace {ns})", self.name),
        }
    }
}

/// Quotes user input for an error message, escaping control characters and cutting it short.
fn printable(raw: &str) -> String {
    let cut: String = raw.chars().take(40).collect();
    let mut quoted = format!("{cut:?}");
    if raw.chars().count() > 40 {
        quoted.push('…');
    }
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_upper_cased_and_validated() {
        assert_eq!(
            SecretName::parse("stripe_key").unwrap().as_str(),
            "STRIPE_KEY"
        );
        assert_eq!(SecretName::parse("_a1").unwrap().as_str(), "_A1");
        for bad in [
            "",
            "1abc",
            "a-b",
            "a b",
            "é",
            "fluxbase_x",
            "FLUXBASE_SECRET_X",
        ] {
            assert!(SecretName::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(SecretName::parse(&"A".repeat(128)).is_ok());
        assert!(SecretName::parse(&"A".repeat(129)).is_err());
    }

    #[test]
    fn namespaces_are_lower_case_only() {
        assert!(Namespace::parse("prod-eu_1").is_ok());
        for bad in ["", "Prod", "a.b", "a/b", "a b"] {
            assert!(Namespace::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn namespace_flag_implies_namespace_scope() {
        let ns = Namespace::parse("billing").unwrap();
        assert_eq!(
            Location::from_flags(None, Some(ns.clone())).unwrap(),
            Location::Namespace(ns.clone())
        );
        assert_eq!(Location::from_flags(None, None).unwrap(), Location::Global);
        assert!(Location::from_flags(Some(Scope::Namespace), None).is_err());
        assert!(Location::from_flags(Some(Scope::Global), Some(ns)).is_err());
    }
}
