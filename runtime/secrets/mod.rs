//! The secrets service: the one module that owns the life cycle of a function secret (setting,
//! versions, check-and-set, rollback, deletion, expiry, the re-wrap of its data keys at key
//! rotation, the audit trail) and the validated names it is addressed by. The CLI and HTTP
//! routes are thin adapters over [`SecretsService`]; it never parses arguments or formats
//! output, the store below it only runs queries, and crypto only seals and opens envelopes.

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
