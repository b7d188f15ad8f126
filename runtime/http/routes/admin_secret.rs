//! `/api/v1/admin/secrets/{name}`: one secret's metadata, a new version or new metadata, and
//! delete. It parses and calls the secrets service; versions and check-and-set are decided
//! there, and no answer carries a value.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::secret_address::{NamespaceQuery, addressed, expiry};
use crate::http::AppState;
use crate::http::api_error::ApiError;
use crate::http::extract::{ApiJson, ApiQuery, optional_whole_number};
use crate::http::schemas::{
    AdminErrors, BodyErrors, DescriptionInput, ErrorBody, ExpiryInput, MaxVersionsInput,
    SecretValueInput, VersionNumberInput,
};
use crate::secrets::{
    MetadataUpdate, SecretMetadata, SecretName, SecretRef, SecretValue, SetRequest,
    max_versions_from,
};
use crate::time::Timestamp;

/// Body of `PUT /api/v1/admin/secrets/{name}`: a value writes a new version; without one, only
/// description and expiry change (absent: kept; null: removed).
#[derive(Deserialize, ToSchema)]
#[schema(as = UpdateSecret)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    /// Absent or null: no new version, only description and expiry change.
    #[schema(value_type = Option<SecretValueInput>)]
    value: Option<String>,
    /// Absent: kept; null: removed.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = DescriptionInput)]
    description: Option<Option<String>>,
    /// Absent: kept (without a value) or none (with one); null: removed.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<ExpiryInput>)]
    expires_at: Option<Option<String>>,
    /// Check-and-set, with a value only: refuse unless this is the current version.
    #[serde(default, deserialize_with = "optional_whole_number")]
    #[schema(value_type = Option<VersionNumberInput>)]
    if_version: Option<i64>,
    /// Keep only the newest N versions, destroying older ones (0: all; absent: unchanged).
    #[serde(default, deserialize_with = "optional_whole_number")]
    #[schema(value_type = Option<MaxVersionsInput>)]
    max_versions: Option<i64>,
}

/// Tells a field that is present (even as null) from one that is absent.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// What a `PUT` body asks for.
#[derive(Debug)]
pub enum Change {
    /// A new version with this value.
    NewVersion(SetRequest),
    /// Description and expiry only.
    Metadata(MetadataUpdate),
}

impl UpdateBody {
    /// The change this body asks for to `secret`, checked as the route checks it.
    pub fn into_change(self, secret: SecretRef, now: Timestamp) -> Result<Change, ApiError> {
        match self.value {
            Some(value) => Ok(Change::NewVersion(SetRequest {
                value: SecretValue::new(value)?,
                description: self.description.flatten(),
                expires_at: expiry(self.expires_at.flatten().as_deref(), now)?,
                if_version: self.if_version,
                must_exist: true,
                max_versions: max_versions_from(self.max_versions),
                secret,
            })),
            None if self.if_version.is_some() => {
                Err(ApiError::bad_request("if_version needs a value"))
            }
            None => {
                let expires_at = match self.expires_at {
                    Some(raw) => Some(expiry(raw.as_deref(), now)?),
                    None => None,
                };
                Ok(Change::Metadata(MetadataUpdate {
                    description: self.description,
                    expires_at,
                    max_versions: max_versions_from(self.max_versions),
                }))
            }
        }
    }
}

/// The answer to a delete.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deleted {
    /// Always true.
    deleted: bool,
    /// The version the secret was at.
    version: i64,
    /// How many versions are kept with it until `purge_at`.
    versions: i64,
    /// When it is destroyed for good unless undeleted.
    purge_at: Timestamp,
}

/// A secret's metadata.
#[utoipa::path(
    get,
    path = "/api/v1/admin/secrets/{name}",
    params(("name" = SecretName, Path), NamespaceQuery),
    responses(
        (status = 200, description = "Metadata", body = SecretMetadata),
        (status = 404, description = "No such secret", body = ErrorBody),
        AdminErrors
    )
)]
pub async fn get(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiQuery(query): ApiQuery<NamespaceQuery>,
) -> Result<Json<SecretMetadata>, ApiError> {
    Ok(Json(state.secrets.get(&addressed(&name, &query)?).await?))
}

/// Write a new version (with value) or change description/expiry (without).
#[utoipa::path(
    put,
    path = "/api/v1/admin/secrets/{name}",
    params(("name" = SecretName, Path), NamespaceQuery),
    request_body = UpdateBody,
    responses(
        (status = 200, description = "Metadata", body = SecretMetadata),
        (status = 404, description = "No such secret, or it is deleted", body = ErrorBody),
        (status = 409, description = "if_version is not the current version", body = ErrorBody),
        AdminErrors,
        BodyErrors
    )
)]
pub async fn update(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiQuery(query): ApiQuery<NamespaceQuery>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> Result<Json<SecretMetadata>, ApiError> {
    let secret = addressed(&name, &query)?;
    let meta = match body.into_change(secret.clone(), Timestamp::now())? {
        Change::NewVersion(request) => state.secrets.set(&request).await?,
        Change::Metadata(update) => state.secrets.update_metadata(&secret, &update).await?,
    };
    Ok(Json(meta))
}

/// Delete a secret softly: it is no longer injected or listed, and its versions are kept for
/// the retention period (`/undelete` brings it back, `/destroy` removes it for good).
#[utoipa::path(
    delete,
    path = "/api/v1/admin/secrets/{name}",
    params(("name" = SecretName, Path), NamespaceQuery),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        (status = 404, description = "No such secret, or already deleted", body = ErrorBody),
        AdminErrors
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiQuery(query): ApiQuery<NamespaceQuery>,
) -> Result<Json<Deleted>, ApiError> {
    let deletion = state.secrets.delete(&addressed(&name, &query)?).await?;
    Ok(Json(Deleted {
        deleted: true,
        version: deletion.version,
        versions: deletion.kept_versions,
        purge_at: deletion.purge_at,
    }))
}
