//! The secrets service: the one module that owns the life cycle of a secret.
//!
//! Setting, versioning, check-and-set, rollback, deletion, expiry, the re-wrap of their data keys
//! at key rotation and the audit trail are decided here, in one place. The CLI (and later the HTTP API) are thin adapters
//! over [`SecretsService`]; the store below it only runs queries, and the crypto module only
//! seals and opens envelopes.

mod cache;
mod expiry;
mod metadata;
mod names;
mod resolve;
mod rotation;
mod service;
mod value;

pub use expiry::parse_expiry;
pub use metadata::{SecretMetadata, check_description};
pub use names::{Location, MAX_NAME_LEN, Namespace, Scope, SecretName, SecretRef};
pub use resolve::{ResolvedSecret, ResolvedSecrets};
pub use rotation::rewrap_secrets;
pub use service::{MetadataUpdate, SecretsService, SetRequest};
pub use value::{MAX_VALUE_BYTES, SecretValue};
