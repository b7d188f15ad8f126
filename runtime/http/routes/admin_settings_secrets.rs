//! `/api/v1/admin/settings/secrets`: the system's settings secrets, or with `?user=ID` one
//! user's (metadata only), from the settings service.

use axum::Json;
use axum::extract::State;

use super::settings_access::{UserQuery, admin_scope};
use crate::http::AppState;
use crate::http::api_error::ApiError;
use crate::http::extract::ApiQuery;
use crate::http::schemas::AdminErrors;
use crate::settings::SettingMetadata;

/// List settings secrets (metadata only).
#[utoipa::path(
    get,
    path = "/api/v1/admin/settings/secrets",
    params(UserQuery),
    responses((status = 200, description = "Settings secrets", body = Vec<SettingMetadata>), AdminErrors)
)]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<UserQuery>,
) -> Result<Json<Vec<SettingMetadata>>, ApiError> {
    let scope = admin_scope(&query)?;
    Ok(Json(state.settings.list(&scope).await?))
}
