//! `/api/v1/settings/secrets` (user token): the caller's own settings secrets, and nobody
//! else's (metadata only), from the settings service.

use axum::Json;
use axum::extract::State;

use super::settings_access::NoQuery;
use crate::http::AppState;
use crate::http::api_error::ApiError;
use crate::http::extract::ApiQuery;
use crate::http::schemas::UserErrors;
use crate::http::user_auth::AuthenticatedUser;
use crate::settings::{SettingMetadata, SettingScope};

/// List the caller's settings secrets (metadata only).
#[utoipa::path(
    get,
    path = "/api/v1/settings/secrets",
    security(("userToken" = [])),
    responses((status = 200, description = "Settings secrets", body = Vec<SettingMetadata>), UserErrors)
)]
pub async fn list(
    State(state): State<AppState>,
    AuthenticatedUser(user): AuthenticatedUser,
    ApiQuery(_): ApiQuery<NoQuery>,
) -> Result<Json<Vec<SettingMetadata>>, ApiError> {
    Ok(Json(state.settings.list(&SettingScope::User(user)).await?))
}
