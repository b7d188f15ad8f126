//! Settings secrets: application configuration and per-user API keys, beside the function
//! secrets of [`crate::secrets`].
//!
//! A settings secret is a key and a value, at system scope (every function sees it) or at user
//! scope (functions invoked with that user's token see it). There is no version history: a new
//! value replaces the old one. System values are sealed under the master key; a user's values
//! under a key derived for that user ([`crate::crypto::user_key`]), so one user's key opens no
//! other user's secrets. The CLI and the HTTP API are thin adapters over [`SettingsService`];
//! the invoker hands the resolved values to each invocation ([`SettingsInjection`]).

mod crypto;
mod injection;
mod metadata;
mod names;
mod resolve;
mod rotation;
mod service;

pub use injection::SettingsInjection;
pub use metadata::{SettingKind, SettingMetadata};
pub use names::{MAX_USER_ID_LEN, SettingRef, SettingScope, UserId};
pub use resolve::ResolvedSettings;
pub use rotation::rewrap_settings;
pub use service::{SetOutcome, SetSetting, SettingsService};
