//! `/api/v1/jobs/runs/{id}/retry`: queue a failed or cancelled job run again, with a fresh count
//! of attempts. The service key may retry any run, a user token only its own.

use axum::Json;
use axum::extract::{Extension, Path, State};

use crate::http::AppState;
use crate::http::api_error::ApiError;
use crate::http::schemas::{AdminErrors, ErrorBody};
use crate::http::user_auth::Caller;
use crate::store::JobRun;

/// Retry a failed or cancelled run; the answer is the run, queued again.
#[utoipa::path(
    post,
    path = "/api/v1/jobs/runs/{id}/retry",
    operation_id = "retryJobRun",
    security(("serviceKey" = []), ("userToken" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Queued again", body = JobRun),
        (status = 404, description = "No such run", body = ErrorBody),
        (status = 409, description = "The run is not failed or cancelled", body = ErrorBody),
        AdminErrors
    )
)]
pub async fn retry(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<JobRun>, ApiError> {
    Ok(Json(state.jobs.retry(&id, caller.user()).await?))
}
