//! `/api/v1/admin/logs/executions/{id}`: one execution's whole record, after the invoker's
//! pending records are flushed. It reads through the log book, never the store.

use axum::Json;
use axum::extract::{Path, State};

use crate::http::AppState;
use crate::http::api_error::ApiError;
use crate::http::schemas::{AdminErrors, ErrorBody};
use crate::store::ExecutionRecord;

/// One execution's whole record: status, error, console lines, secrets read.
#[utoipa::path(
    get,
    path = "/api/v1/admin/logs/executions/{id}",
    params(("id" = String, Path, min_length = 1, max_length = 64, pattern = "^[^\\u0000]*$")),
    responses(
        (status = 200, description = "The record", body = ExecutionRecord),
        (status = 404, description = "No such execution record", body = ErrorBody),
        AdminErrors
    )
)]
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ExecutionRecord>, ApiError> {
    state.invoker.flush_records().await;
    Ok(Json(state.logs.execution(&id).await?))
}
