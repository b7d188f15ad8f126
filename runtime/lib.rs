//! fluxbase-runtime: a host for Deno-style edge functions and background jobs in V8 isolates,
//! with an encrypted, versioned secrets store whose values are injected before an isolate starts.
//! Data flows one way: `cli`/`http` -> services (`secrets`, `settings`, `invoke`, `jobs`, `logs`)
//! -> `store` (sqlx). Adapters never run SQL, the store never decrypts or formats output, `crypto`
//! knows nothing of the store, and an `isolate` never reads the database: it gets resolved
//! secrets before boot, and what the host keeps from it passes the one redactor (`ops`).

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
pub mod modules;
pub mod npm;
pub mod secrets;
pub mod settings;
pub mod store;
pub mod time;

pub use error::{Error, Result};
