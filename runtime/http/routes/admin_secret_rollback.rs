//! `/api/v1/admin/secrets/{name}/rollback`: write an old version's value again as a new version.
//! The secrets service does the rollback; the route never sees the value.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::secret_address::{NamespaceQuery, addressed};
use crate::http::AppState;
use crate::http::api_error::ApiError;
use crate::http::extract::{ApiJson, ApiQuery, optional_whole_number, whole_number};
use crate::http::schemas::{AdminErrors, BodyErrors, ErrorBody, VersionNumberInput};
use crate::secrets::{SecretMetadata, SecretName};

/// Body of the rollback route.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = Rollback)]
#[serde(deny_unknown_fields)]
pub struct RollbackBody {
    /// The version whose value to restore.
    #[serde(deserialize_with = "whole_number")]
    #[schema(minimum = 1, maximum = 9_007_199_254_740_991_i64)]
    version: i64,
    /// Check-and-set: refuse unless this is the current version.
    #[serde(default, deserialize_with = "optional_whole_number")]
    #[schema(value_type = Option<VersionNumberInput>)]
    if_version: Option<i64>,
}

impl RollbackBody {
    /// The version to restore and the check-and-set version, if any.
    pub fn versions(&self) -> (i64, Option<i64>) {
        (self.version, self.if_version)
    }
}

/// Write an old version's value again as a new version.
#[utoipa::path(
    post,
    path = "/api/v1/admin/secrets/{name}/rollback",
    params(("name" = SecretName, Path), NamespaceQuery),
    request_body = RollbackBody,
    responses(
        (status = 200, description = "Metadata", body = SecretMetadata),
        (status = 404, description = "No such secret or version", body = ErrorBody),
        (status = 409, description = "The version is the current one, or if_version is not the current version", body = ErrorBody),
        AdminErrors,
        BodyErrors
    )
)]
pub async fn rollback(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiQuery(query): ApiQuery<NamespaceQuery>,
    ApiJson(body): ApiJson<RollbackBody>,
) -> Result<Json<SecretMetadata>, ApiError> {
    let secret = addressed(&name, &query)?;
    let (version, if_version) = body.versions();
    let restored = state
        .secrets
        .rollback(&secret, version, if_version)
        .await
        .map_err(|error| match error {
            // A well-formed request the secret's state refuses: a conflict, as for if_version.
            crate::Error::Invalid(message) if message.contains("nothing to roll back") => {
                ApiError::new(StatusCode::CONFLICT, message)
            }
            other => other.into(),
        })?;
    Ok(Json(restored))
}
