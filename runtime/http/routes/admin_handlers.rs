//! `/api/v1/admin/handlers`: the functions and jobs deployed on this host (name, namespace,
//! entry file, annotations), read from its handler directories.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::handlers::{self, Deployed, HandlerKind};
use crate::http::AppState;
use crate::http::api_error::ApiError;
use crate::http::extract::ApiQuery;
use crate::http::schemas::AdminErrors;

/// Query of the handlers route.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HandlersQuery {
    /// `function`, `job`, or empty for both.
    #[param(pattern = "^(function|job)?$")]
    kind: Option<String>,
}

/// The deployed functions, then jobs, each sorted by name.
#[utoipa::path(
    get,
    path = "/api/v1/admin/handlers",
    params(HandlersQuery),
    responses((status = 200, description = "Deployed handlers", body = Vec<Deployed>), AdminErrors)
)]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<HandlersQuery>,
) -> Result<Json<Vec<Deployed>>, ApiError> {
    let kinds: &[HandlerKind] = match query.kind.as_deref().unwrap_or_default() {
        "" => &[HandlerKind::Function, HandlerKind::Job],
        "function" => &[HandlerKind::Function],
        "job" => &[HandlerKind::Job],
        other => {
            return Err(ApiError::bad_request(format!(
                "invalid kind {other:?}: use function or job"
            )));
        }
    };
    let fallback = state.invoker.default_namespace().clone();
    let mut found = Vec::new();
    for &kind in kinds {
        let dir = match kind {
            HandlerKind::Function => state.options.functions_dir.clone(),
            HandlerKind::Job => state.options.jobs_dir.clone(),
        };
        let fallback = fallback.clone();
        // Reading the files is blocking work; keep it off the async workers.
        let listed = tokio::task::spawn_blocking(move || handlers::deployed(&dir, kind, &fallback))
            .await
            .map_err(|e| crate::Error::invalid(format!("listing handlers failed: {e}")))??;
        found.extend(listed);
    }
    Ok(Json(found))
}
