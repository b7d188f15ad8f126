//! `/api/v1/admin/logs`: execution and audit records, newest first, after the invoker's pending
//! records are flushed. It reads through the log book, never the store.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::AppState;
use crate::http::api_error::ApiError;
use crate::http::extract::ApiQuery;
use crate::http::schemas::AdminErrors;
use crate::logs::{Category, LogEntry};
use crate::store::LogFilter;
use crate::time::Timestamp;

/// Query of the logs route.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LogsQuery {
    /// `execution`, `audit`, or empty for both.
    #[param(pattern = "^(execution|audit)?$")]
    category: Option<String>,
    /// Only records whose text holds this.
    #[param(pattern = "^[^\\u0000]*$")]
    search: Option<String>,
    /// Only records of this function, job or secret.
    #[param(pattern = "^[^\\u0000]*$")]
    name: Option<String>,
    /// At most this many records (default 50).
    #[param(minimum = 1, maximum = 10000)]
    limit: Option<i64>,
    /// Skip this many of the newest matching records first (a page; default 0).
    #[param(minimum = 0, maximum = 100000)]
    offset: Option<i64>,
    /// Only records at or after this time.
    #[param(value_type = Option<Timestamp>)]
    since: Option<String>,
    /// Only records at or before this time.
    #[param(value_type = Option<Timestamp>)]
    until: Option<String>,
}

/// A time given in the query: RFC 3339.
fn time_in_query(raw: &str) -> Result<Timestamp, ApiError> {
    chrono::DateTime::parse_from_rfc3339(raw)
        .map(|at| Timestamp::from(at.with_timezone(&chrono::Utc)))
        .map_err(|_| {
            ApiError::bad_request(format!(
                "invalid time {raw:?}: give an RFC 3339 time such as 2027-01-31T00:00:00Z"
            ))
        })
}

/// Execution and audit records, newest first (`since`/`until` bound their time).
#[utoipa::path(
    get,
    path = "/api/v1/admin/logs",
    params(LogsQuery),
    responses((status = 200, description = "Records", body = Vec<LogEntry>), AdminErrors)
)]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<LogsQuery>,
) -> Result<Json<Vec<LogEntry>>, ApiError> {
    let category = query
        .category
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(str::parse::<Category>)
        .transpose()?;
    let filter = LogFilter {
        name: query.name.filter(|n| !n.is_empty()),
        search: query.search.filter(|s| !s.is_empty()),
        limit: query.limit.unwrap_or(50),
        since: query.since.as_deref().map(time_in_query).transpose()?,
        until: query.until.as_deref().map(time_in_query).transpose()?,
    };
    // Executions that ended before this request are listed: their records are stored first.
    state.invoker.flush_records().await;
    Ok(Json(
        state
            .logs
            .page(category, &filter, query.offset.unwrap_or(0))
            .await?,
    ))
}
