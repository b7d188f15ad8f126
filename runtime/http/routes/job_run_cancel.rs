//! `/api/v1/jobs/runs/{id}/cancel`: cancel a job run. A queued run is cancelled at once; a
//! running one is stopped by the host running it, within a fraction of a second (its status
//! turns `cancelled` then). The service key may cancel any run, a user token only its own.

use axum::Json;
use axum::extract::{Extension, Path, State};

use crate::http::AppState;
use crate::http::api_error::ApiError;
use crate::http::schemas::{AdminErrors, ErrorBody};
use crate::http::user_auth::Caller;
use crate::store::JobRun;

/// Cancel a queued or running run; the answer is the run as it is now (a running run still
/// says `running`, with `cancel_requested`, until its host has stopped it).
#[utoipa::path(
    post,
    path = "/api/v1/jobs/runs/{id}/cancel",
    operation_id = "cancelJobRun",
    security(("serviceKey" = []), ("userToken" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Cancelled, or asked to stop", body = JobRun),
        (status = 404, description = "No such run", body = ErrorBody),
        (status = 409, description = "The run has already ended", body = ErrorBody),
        AdminErrors
    )
)]
pub async fn cancel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<JobRun>, ApiError> {
    Ok(Json(state.jobs.cancel(&id, caller.user()).await?))
}
