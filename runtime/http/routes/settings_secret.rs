//! `/api/v1/settings/secrets/{key}` (user token): one of the caller's own settings secrets:
//! metadata, create or replace, delete, through the settings service; never another user's.

use axum::Json;
use axum::extract::{Path, State};

use super::settings_access::{Deleted, NoQuery, PutBody, Written, addressed};
use crate::http::AppState;
use crate::http::api_error::ApiError;
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::schemas::{BodyErrors, ErrorBody, UserErrors};
use crate::http::user_auth::AuthenticatedUser;
use crate::secrets::SecretName;
use crate::settings::{SettingMetadata, SettingScope};

/// A settings secret's metadata.
#[utoipa::path(
    get,
    path = "/api/v1/settings/secrets/{key}",
    security(("userToken" = [])),
    params(("key" = SecretName, Path)),
    responses(
        (status = 200, description = "Metadata", body = SettingMetadata),
        (status = 404, description = "No such settings secret", body = ErrorBody),
        UserErrors
    )
)]
pub async fn get(
    State(state): State<AppState>,
    AuthenticatedUser(user): AuthenticatedUser,
    Path(key): Path<String>,
    ApiQuery(_): ApiQuery<NoQuery>,
) -> Result<Json<SettingMetadata>, ApiError> {
    let setting = addressed(&key, SettingScope::User(user))?;
    Ok(Json(state.settings.get(&setting).await?))
}

/// Create a settings secret or replace its value.
#[utoipa::path(
    put,
    path = "/api/v1/settings/secrets/{key}",
    security(("userToken" = [])),
    params(("key" = SecretName, Path)),
    request_body = PutBody,
    responses(
        (status = 200, description = "Value replaced", body = SettingMetadata),
        (status = 201, description = "Created", body = SettingMetadata),
        UserErrors,
        BodyErrors
    )
)]
pub async fn put(
    State(state): State<AppState>,
    AuthenticatedUser(user): AuthenticatedUser,
    Path(key): Path<String>,
    ApiQuery(_): ApiQuery<NoQuery>,
    ApiJson(body): ApiJson<PutBody>,
) -> Result<Written, ApiError> {
    let actor = format!("user:{user}");
    let setting = addressed(&key, SettingScope::User(user))?;
    super::settings_access::put(&state, setting, body, &actor).await
}

/// Delete a settings secret.
#[utoipa::path(
    delete,
    path = "/api/v1/settings/secrets/{key}",
    security(("userToken" = [])),
    params(("key" = SecretName, Path)),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        (status = 404, description = "No such settings secret", body = ErrorBody),
        UserErrors
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    AuthenticatedUser(user): AuthenticatedUser,
    Path(key): Path<String>,
    ApiQuery(_): ApiQuery<NoQuery>,
) -> Result<Json<Deleted>, ApiError> {
    let actor = format!("user:{user}");
    let setting = addressed(&key, SettingScope::User(user))?;
    super::settings_access::delete(&state, setting, &actor).await
}
