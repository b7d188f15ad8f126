//! `/api/v1/jobs/{name}`: enqueue a run of a job in the job queue. With the service key for
//! nobody in particular; with a user token for that user (the run gets the user's settings
//! secrets). It runs nothing itself.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::AppState;
use crate::http::api_error::ApiError;
use crate::http::extract::ApiJson;
use crate::http::schemas::{AdminErrors, BodyErrors, ErrorBody, HandlerNameInput};
use crate::http::user_auth::Caller;

/// The answer to an enqueue.
#[derive(Debug, Serialize, ToSchema)]
pub struct Enqueued {
    /// The run's id, for `GET /api/v1/jobs/runs/{id}`.
    id: String,
}

/// Enqueue a run of a job; the body is its payload (any JSON).
#[utoipa::path(
    post,
    path = "/api/v1/jobs/{name}",
    security(("serviceKey" = []), ("userToken" = [])),
    params(("name" = HandlerNameInput, Path)),
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
    ApiJson(payload): ApiJson<serde_json::Value>,
) -> Result<(StatusCode, Json<Enqueued>), ApiError> {
    let user = match caller {
        Caller::Service => None,
        Caller::User(user) => Some(user),
    };
    let id = state.jobs.enqueue(&name, &payload, user.as_ref()).await?;
    Ok((StatusCode::ACCEPTED, Json(Enqueued { id })))
}
