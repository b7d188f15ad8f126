//! `/api/v1/jobs/{name}`: enqueue a run of a job in the job queue. With the service key for
//! nobody in particular; with a user token for that user (the run gets the user's settings
//! secrets). It runs nothing itself.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::AppState;
use crate::http::api_error::ApiError;
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::schemas::{AdminErrors, BodyErrors, ErrorBody, HandlerNameInput, RunAtInput};
use crate::http::user_auth::Caller;
use crate::jobs::RunTiming;

/// The answer to an enqueue.
#[derive(Debug, Serialize, ToSchema)]
pub struct Enqueued {
    /// The run's id, for `GET /api/v1/jobs/runs/{id}`.
    id: String,
}

/// When the run may start and how urgent it is.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EnqueueQuery {
    /// Not before this: an RFC 3339 time or a delay from now (`30s`, `5m`, `2h`).
    #[param(value_type = Option<RunAtInput>)]
    run_at: Option<String>,
    /// Among due runs, higher first (-1000 to 1000, default 0).
    #[param(minimum = -1000, maximum = 1000)]
    priority: Option<i64>,
}

/// Enqueue a run of a job; the body is its payload (any JSON). `run_at` delays it, `priority`
/// ranks it among due runs.
#[utoipa::path(
    post,
    path = "/api/v1/jobs/{name}",
    security(("serviceKey" = []), ("userToken" = [])),
    params(("name" = HandlerNameInput, Path), EnqueueQuery),
    request_body(content = serde_json::Value, description = "The payload: any JSON value"),
    responses(
        (status = 202, description = "Enqueued", body = Enqueued),
        (status = 404, description = "No such job", body = ErrorBody),
        AdminErrors,
        BodyErrors
    )
)]
pub async fn enqueue(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    ApiQuery(query): ApiQuery<EnqueueQuery>,
    ApiJson(payload): ApiJson<serde_json::Value>,
) -> Result<(StatusCode, Json<Enqueued>), ApiError> {
    let timing = RunTiming {
        run_at: RunTiming::parse_run_at(query.run_at.as_deref())?,
        priority: query.priority.unwrap_or(0),
    };
    let user = match caller {
        Caller::Service => None,
        Caller::User(user) => Some(user),
    };
    let id = state
        .jobs
        .enqueue(&name, &payload, user.as_ref(), timing)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(Enqueued { id })))
}
