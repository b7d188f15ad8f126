//! `GET /api/v1/admin/logs`: execution and audit records, newest first.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;

use super::AppState;
use super::api_error::ApiError;
use super::extract::ApiQuery;
use crate::logs::{Category, LogEntry};
use crate::store::{ExecutionRecord, LogFilter};

/// Query of the logs route.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsQuery {
    category: Option<String>,
    search: Option<String>,
    name: Option<String>,
    limit: Option<i64>,
}

/// `GET /api/v1/admin/logs?category=&search=&name=&limit=`
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
    };
    // Executions that ended before this request are listed: their records are stored first.
    state.invoker.flush_records().await;
    Ok(Json(state.logs.list(category, &filter).await?))
}

/// `GET /api/v1/admin/logs/executions/:id`: one execution's whole record.
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ExecutionRecord>, ApiError> {
    state.invoker.flush_records().await;
    Ok(Json(state.logs.execution(&id).await?))
}
