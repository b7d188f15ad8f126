//! `/api/v1/jobs/runs/{id}`: a job run's status, from the job queue and the log book. The service
//! key sees any run; a user token only the runs made for that user (any other is 404).

use axum::Json;
use axum::extract::{Extension, Path, State};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::AppState;
use crate::http::api_error::ApiError;
use crate::http::schemas::{AdminErrors, ErrorBody};
use crate::http::user_auth::Caller;
use crate::store::{JobRun, LogLine};

/// A run as the API shows it: the stored run and the logs of its last attempt.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = JobRunStatus)]
pub struct RunStatus {
    #[serde(flatten)]
    run: JobRun,
    /// The console lines of its last attempt (redacted).
    logs: Vec<LogLine>,
}

/// A job run: status, attempts, result, error and the logs of its last attempt (a user token
/// sees only its own runs).
#[utoipa::path(
    get,
    path = "/api/v1/jobs/runs/{id}",
    operation_id = "getJobRun",
    security(("serviceKey" = []), ("userToken" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The run", body = RunStatus),
        (status = 404, description = "No such run", body = ErrorBody),
        AdminErrors
    )
)]
pub async fn status(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<RunStatus>, ApiError> {
    if let Caller::User(user) = &caller {
        let owner = state.jobs.run_user(&id).await?;
        if owner.as_ref() != Some(user) {
            return Err(crate::Error::NoJobRun(id).into());
        }
    }
    let run = state.jobs.status(&id).await?;
    state.invoker.flush_records().await;
    let logs = state.logs.last_attempt_logs(&run).await?;
    Ok(Json(RunStatus { run, logs }))
}
