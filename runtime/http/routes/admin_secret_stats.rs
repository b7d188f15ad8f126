//! `/api/v1/admin/secret-stats`: how many secrets there are, expiring within 7 days, expired and
//! deleted (counts only). Not under `/api/v1/admin/secrets/`, where it would shadow a secret
//! named `STATS`.

use axum::Json;
use axum::extract::State;

use crate::http::AppState;
use crate::http::api_error::ApiError;
use crate::http::schemas::AdminErrors;
use crate::secrets::SecretStats;

/// Counts of secrets: total, expiring within 7 days, expired, deleted.
#[utoipa::path(
    get,
    path = "/api/v1/admin/secret-stats",
    responses((status = 200, description = "Counts", body = SecretStats), AdminErrors)
)]
pub async fn stats(State(state): State<AppState>) -> Result<Json<SecretStats>, ApiError> {
    Ok(Json(state.secrets.stats().await?))
}
