//! `/api/v1/jobs/runs`: job runs newest first, filtered by job, status and enqueue time, a page
//! at a time (`before` = the last run of the previous page). The service key sees every run; a
//! user token only the runs enqueued for that user.

use axum::Json;
use axum::extract::{Extension, State};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::AppState;
use crate::http::api_error::ApiError;
use crate::http::extract::ApiQuery;
use crate::http::schemas::{AdminErrors, ErrorBody};
use crate::http::user_auth::Caller;
use crate::store::{JobRun, JobRunFilter};
use crate::time::Timestamp;

/// Query of the runs route.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RunsQuery {
    /// Only runs of this job.
    #[param(pattern = "^[^\\u0000]*$")]
    name: Option<String>,
    /// Only runs in this status.
    #[param(pattern = "^(queued|running|succeeded|failed)?$")]
    status: Option<String>,
    /// Only runs enqueued at or after this time (RFC 3339).
    #[param(value_type = Option<Timestamp>)]
    since: Option<String>,
    /// At most this many runs (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// Only runs enqueued before this run: the id of the last run of the previous page.
    #[param(pattern = "^[^\\u0000]*$")]
    before: Option<String>,
}

/// Job runs, newest first (a user token sees only its own).
#[utoipa::path(
    get,
    path = "/api/v1/jobs/runs",
    operation_id = "listJobRuns",
    security(("serviceKey" = []), ("userToken" = [])),
    params(RunsQuery),
    responses(
        (status = 200, description = "Runs, newest first", body = Vec<JobRun>),
        (status = 404, description = "`before` names no run", body = ErrorBody),
        AdminErrors
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(query): ApiQuery<RunsQuery>,
) -> Result<Json<Vec<JobRun>>, ApiError> {
    let since = query
        .since
        .as_deref()
        .map(|raw| {
            Timestamp::parse_rfc3339(raw).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid since: use an RFC 3339 time such as 2026-12-01T00:00:00Z",
                )
            })
        })
        .transpose()?;
    let filter = JobRunFilter {
        name: query.name.filter(|n| !n.is_empty()),
        status: query.status.filter(|s| !s.is_empty()),
        since,
        before: query.before.filter(|b| !b.is_empty()),
        user: None,
        limit: query.limit.unwrap_or(50),
    };
    let user = match &caller {
        Caller::Service => None,
        Caller::User(user) => Some(user),
    };
    Ok(Json(state.jobs.runs(&filter, user).await?))
}
