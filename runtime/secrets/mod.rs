//! The secrets service: the one module that owns the life cycle of a function secret (setting,
//! versions, check-and-set, rollback, deletion, expiry, the re-wrap of its data keys at key
//! rotation, the audit trail) and the validated names it is addressed by. The CLI and HTTP
//! routes are thin adapters over [`SecretsService`]; it never parses arguments or formats
//! output, the store below it only runs queries, and crypto only seals and opens envelopes.

mod cache;
mod deletion;
mod dotenv;
mod expiry;
mod metadata;
mod names;
mod pruning;
mod resolve;
mod retention;
mod rotation;
mod service;
mod stats;
mod value;

pub use deletion::Deletion;
pub use dotenv::{DotenvEntry, MAX_DOTENV_ENTRIES, parse_dotenv};
pub use expiry::{expiring_before, parse_expiry};
pub use metadata::{SecretMetadata, check_description};
pub use names::{Location, MAX_NAME_LEN, Namespace, Scope, SecretName, SecretRef};
pub use pruning::{MAX_MAX_VERSIONS, check_max_versions, max_versions_from};
pub use resolve::{EXPIRY_WARNING, ResolvedSecret, ResolvedSecrets};
pub use retention::purge_periodically;
pub use rotation::rewrap_secrets;
pub use service::{DEFAULT_RETENTION, MetadataUpdate, SecretsService, SetRequest};
pub use stats::SecretStats;
pub use value::{MAX_VALUE_BYTES, SecretValue};
