//! `/api/v1/admin/settings/secrets/{key}`: one of the system's (or with `?user=ID` a user's)
//! settings secrets: metadata, create or replace, delete, through the settings service.

use axum::Json;
use axum::extract::{Path, State};

use super::settings_access::{
    ADMIN_ACTOR, Deleted, PutBody, UserQuery, Written, addressed, admin_scope,
};
use crate::http::AppState;
use crate::http::api_error::ApiError;
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::schemas::{AdminErrors, BodyErrors, ErrorBody};
use crate::secrets::SecretName;
use crate::settings::SettingMetadata;

/// A settings secret's metadata.
#[utoipa::path(
    get,
    path = "/api/v1/admin/settings/secrets/{key}",
    params(("key" = SecretName, Path), UserQuery),
    responses(
        (status = 200, description = "Metadata", body = SettingMetadata),
        (status = 404, description = "No such settings secret", body = ErrorBody),
        AdminErrors
    )
)]
pub async fn get(
    State(state): State<AppState>,
    Path(key): Path<String>,
    ApiQuery(query): ApiQuery<UserQuery>,
) -> Result<Json<SettingMetadata>, ApiError> {
    let setting = addressed(&key, admin_scope(&query)?)?;
    Ok(Json(state.settings.get(&setting).await?))
}

/// Create a settings secret or replace its value.
#[utoipa::path(
    put,
    path = "/api/v1/admin/settings/secrets/{key}",
    params(("key" = SecretName, Path), UserQuery),
    request_body = PutBody,
    responses(
        (status = 200, description = "Value replaced", body = SettingMetadata),
        (status = 201, description = "Created", body = SettingMetadata),
        AdminErrors,
        BodyErrors
    )
)]
pub async fn put(
    State(state): State<AppState>,
    Path(key): Path<String>,
    ApiQuery(query): ApiQuery<UserQuery>,
    ApiJson(body): ApiJson<PutBody>,
) -> Result<Written, ApiError> {
    let setting = addressed(&key, admin_scope(&query)?)?;
    super::settings_access::put(&state, setting, body, ADMIN_ACTOR).await
}

/// Delete a settings secret.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/settings/secrets/{key}",
    params(("key" = SecretName, Path), UserQuery),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        (status = 404, description = "No such settings secret", body = ErrorBody),
        AdminErrors
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    Path(key): Path<String>,
    ApiQuery(query): ApiQuery<UserQuery>,
) -> Result<Json<Deleted>, ApiError> {
    let setting = addressed(&key, admin_scope(&query)?)?;
    super::settings_access::delete(&state, setting, ADMIN_ACTOR).await
}
