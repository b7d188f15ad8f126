//! `/api/v1/admin/stats/invocations`: executions and failures per handler and minute over the
//! last hour (or `minutes`), counted by the store, for the dashboard's chart.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::AppState;
use crate::http::api_error::ApiError;
use crate::http::extract::ApiQuery;
use crate::http::schemas::AdminErrors;
use crate::logs::PerMinute;

/// Query of the stats route.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    /// The window in minutes, the current one included (default 60).
    #[param(minimum = 1, maximum = 1440)]
    minutes: Option<i64>,
}

/// Executions and failures per handler and minute, the minutes without any left out.
#[utoipa::path(
    get,
    path = "/api/v1/admin/stats/invocations",
    params(StatsQuery),
    responses((status = 200, description = "Counts per minute", body = PerMinute), AdminErrors)
)]
pub async fn invocations(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<StatsQuery>,
) -> Result<Json<PerMinute>, ApiError> {
    state.invoker.flush_records().await;
    Ok(Json(
        state.logs.per_minute(query.minutes.unwrap_or(60)).await?,
    ))
}
