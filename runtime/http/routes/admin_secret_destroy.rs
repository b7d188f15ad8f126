//! `/api/v1/admin/secrets/{name}/destroy`: remove a secret, live or deleted, for good.

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use utoipa::ToSchema;

use super::secret_address::{NamespaceQuery, addressed};
use crate::http::AppState;
use crate::http::api_error::ApiError;
use crate::http::extract::ApiQuery;
use crate::http::schemas::{AdminErrors, ErrorBody};
use crate::secrets::SecretName;

/// The answer to a destroy.
#[derive(Debug, Serialize, ToSchema)]
pub struct Destroyed {
    /// Always true.
    destroyed: bool,
    /// How many versions were wiped.
    versions: i64,
}

/// Remove a secret (live or deleted) and wipe every version's value; it cannot be restored.
#[utoipa::path(
    post,
    path = "/api/v1/admin/secrets/{name}/destroy",
    params(("name" = SecretName, Path), NamespaceQuery),
    responses(
        (status = 200, description = "Destroyed", body = Destroyed),
        (status = 404, description = "No such secret", body = ErrorBody),
        AdminErrors
    )
)]
pub async fn destroy(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiQuery(query): ApiQuery<NamespaceQuery>,
) -> Result<Json<Destroyed>, ApiError> {
    let versions = state.secrets.destroy(&addressed(&name, &query)?).await?;
    Ok(Json(Destroyed {
        destroyed: true,
        versions,
    }))
}
