//! The bodies of the admin and job routes, parsed and checked exactly as their routes do it, but
//! without a store or a server: what the fuzz targets (`tests/fuzz/`) and their corpus replay
//! (`tests/runtime/fuzz_corpus.rs`) exercise.

use axum::Json;
use serde::de::DeserializeOwned;

use super::api_error::ApiError;
use super::extract::rejection_error;
use super::routes::{admin_secret, admin_secret_rollback, admin_secrets, settings_access};
use crate::secrets::{MetadataUpdate, SecretRef, SetRequest};
use crate::settings::{SetSetting, SettingRef};
use crate::time::Timestamp;

/// Which route's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminBody {
    /// `POST /api/v1/admin/secrets`
    CreateSecret,
    /// `PUT /api/v1/admin/secrets/:name`
    UpdateSecret,
    /// `POST /api/v1/admin/secrets/:name/rollback`
    Rollback,
    /// `PUT /api/v1/admin/settings/secrets/:key` and `PUT /api/v1/settings/secrets/:key`
    PutSetting,
    /// `POST /api/v1/jobs/:name`: any JSON value
    JobPayload,
}

impl AdminBody {
    /// Every body kind.
    pub const ALL: [AdminBody; 5] = [
        AdminBody::CreateSecret,
        AdminBody::UpdateSecret,
        AdminBody::Rollback,
        AdminBody::PutSetting,
        AdminBody::JobPayload,
    ];
}

/// What a body that passed every check asks for.
#[derive(Debug)]
pub enum CheckedBody {
    /// A new value (create, or `PUT` with a value).
    Set(SetRequest),
    /// A metadata change (`PUT` without a value).
    Metadata(MetadataUpdate),
    /// A rollback to `version`, with an optional check-and-set version.
    Rollback {
        /// The version to restore.
        version: i64,
        /// Refuse unless this is the current version.
        if_version: Option<i64>,
    },
    /// A settings secret write.
    Setting(SetSetting),
    /// A job payload.
    Payload(serde_json::Value),
}

/// Parses `bytes` as the body of `route` and checks it as the route does: the same JSON
/// extraction and rejections (400 or 422 `{"error"}`), then the same validation of names, scopes,
/// values and expiry (relative to `now`). `secret` and `setting` stand for the path's address.
pub fn check_admin_body(
    route: AdminBody,
    bytes: &[u8],
    secret: &SecretRef,
    setting: &SettingRef,
    now: Timestamp,
) -> Result<CheckedBody, ApiError> {
    fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
        Json::<T>::from_bytes(bytes)
            .map(|Json(value)| value)
            .map_err(rejection_error)
    }
    match route {
        AdminBody::CreateSecret => parse::<admin_secrets::CreateBody>(bytes)?
            .into_request(now)
            .map(CheckedBody::Set),
        AdminBody::UpdateSecret => Ok(
            match parse::<admin_secret::UpdateBody>(bytes)?.into_change(secret.clone(), now)? {
                admin_secret::Change::NewVersion(request) => CheckedBody::Set(request),
                admin_secret::Change::Metadata(update) => CheckedBody::Metadata(update),
            },
        ),
        AdminBody::Rollback => {
            let (version, if_version) =
                parse::<admin_secret_rollback::RollbackBody>(bytes)?.versions();
            Ok(CheckedBody::Rollback {
                version,
                if_version,
            })
        }
        AdminBody::PutSetting => parse::<settings_access::PutBody>(bytes)?
            .into_request(setting.clone())
            .map(CheckedBody::Setting),
        AdminBody::JobPayload => parse::<serde_json::Value>(bytes).map(CheckedBody::Payload),
    }
}
