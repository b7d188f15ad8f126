//! Settings secrets: application configuration and per-user API keys, beside the function
//! secrets of [`crate::secrets`]. System scope (every function sees it) or user scope (calls with
//! that user's token see it); a new value replaces the old one, no history. User values are
//! sealed under a key derived for that user ([`crate::crypto::user_key`]). The CLI and HTTP routes
//! are thin adapters over [`SettingsService`]. No SQL here: reads and writes are store queries.

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
