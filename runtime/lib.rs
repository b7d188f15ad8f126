//! fluxbase-runtime: a host for Deno-style edge functions and background jobs, with an encrypted,
//! versioned secrets store whose values are injected into each function's isolate before it starts.
//!
//! Data flows one way:
//!
//! ```text
//! cli ──> secrets (service: life cycle of a secret) ──┬── store  (sqlx: SQLite | PostgreSQL)
//!                                                     └── crypto (AES-256-GCM envelopes, key ids)
//! ```
//!
//! The CLI never runs SQL and the store never formats output; the secrets service is the one
//! place that owns versioning, check-and-set, expiry and the audit trail.

pub mod bounded_cache;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod error;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod handlers;
pub mod host;
pub mod http;
pub mod invoke;
pub mod isolate;
pub mod jobs;
pub mod key_rotation;
pub mod logs;
pub mod secrets;
pub mod settings;
pub mod store;
pub mod time;

pub use error::{Error, Result};
