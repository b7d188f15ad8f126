//! `/api/v1/jobs...`: enqueue a job run and read its status. With the service key any run; with
//! a user token, runs made for that user (which get the user's settings secrets) and only those.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use serde::Serialize;

use super::AppState;
use super::api_error::ApiError;
use super::extract::ApiJson;
use super::user_auth::Caller;
use crate::store::{JobRun, LogLine};

/// A run as the API shows it: the stored run and the logs of its last attempt.
#[derive(Debug, Serialize)]
pub struct RunStatus {
    #[serde(flatten)]
    run: JobRun,
    logs: Vec<LogLine>,
}

/// `POST /api/v1/jobs/:name` with the payload as JSON body: 202 `{"id": ...}`.
pub async fn enqueue(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    ApiJson(payload): ApiJson<serde_json::Value>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let user = match caller {
        Caller::Service => None,
        Caller::User(user) => Some(user),
    };
    let id = state.jobs.enqueue(&name, &payload, user.as_ref()).await?;
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!({ "id": id }))))
}

/// `GET /api/v1/jobs/runs/:id`
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
    let logs = match &run.last_execution_id {
        Some(execution) => match state.logs.execution(execution).await {
            Ok(record) => record.logs,
            Err(crate::Error::NoExecution(_)) => Vec::new(),
            Err(other) => return Err(other.into()),
        },
        None => Vec::new(),
    };
    Ok(Json(RunStatus { run, logs }))
}
