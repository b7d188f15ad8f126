//! `/health`: whether the store answers (a ping through the secrets service). Open to anyone;
//! says nothing else.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::AppState;
use crate::http::api_error::ApiError;
use crate::http::schemas::ErrorBody;

/// The answer when the store is reachable.
#[derive(Debug, Serialize, ToSchema)]
pub struct Healthy {
    /// `ok`.
    status: &'static str,
}

/// Whether the store is reachable.
#[utoipa::path(
    get,
    path = "/health",
    security(()),
    responses(
        (status = 200, description = "The store is reachable", body = Healthy),
        (status = 503, description = "The store is not reachable", body = ErrorBody)
    )
)]
pub async fn health(State(state): State<AppState>) -> Result<Json<Healthy>, ApiError> {
    match state.secrets.ping().await {
        Ok(()) => Ok(Json(Healthy { status: "ok" })),
        Err(error) => {
            tracing::error!("health check failed: {error}");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the store is not reachable",
            ))
        }
    }
}
