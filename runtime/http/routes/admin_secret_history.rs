//! `/api/v1/admin/secrets/{name}/history`: a secret's versions, oldest first (never values),
//! from the secrets service.

use axum::Json;
use axum::extract::{Path, State};

use super::secret_address::{NamespaceQuery, addressed};
use crate::http::AppState;
use crate::http::api_error::ApiError;
use crate::http::extract::ApiQuery;
use crate::http::schemas::{AdminErrors, ErrorBody};
use crate::secrets::SecretName;
use crate::store::VersionRecord;

/// A secret's versions, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/secrets/{name}/history",
    params(("name" = SecretName, Path), NamespaceQuery),
    responses(
        (status = 200, description = "Versions", body = Vec<VersionRecord>),
        (status = 404, description = "No such secret", body = ErrorBody),
        AdminErrors
    )
)]
pub async fn history(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiQuery(query): ApiQuery<NamespaceQuery>,
) -> Result<Json<Vec<VersionRecord>>, ApiError> {
    let (_, versions) = state.secrets.history(&addressed(&name, &query)?).await?;
    Ok(Json(versions))
}
