//! `/api/v1/admin/secrets/{name}/undelete`: bring a deleted secret back with every version.

use axum::Json;
use axum::extract::{Path, State};

use super::secret_address::{NamespaceQuery, addressed};
use crate::http::AppState;
use crate::http::api_error::ApiError;
use crate::http::extract::ApiQuery;
use crate::http::schemas::{AdminErrors, ErrorBody};
use crate::secrets::{SecretMetadata, SecretName};

/// Bring a deleted secret back as it was (every version, description, expiry, cap).
#[utoipa::path(
    post,
    path = "/api/v1/admin/secrets/{name}/undelete",
    params(("name" = SecretName, Path), NamespaceQuery),
    responses(
        (status = 200, description = "Restored", body = SecretMetadata),
        (status = 404, description = "No such secret (a destroyed one is gone for good)", body = ErrorBody),
        (status = 409, description = "The secret is not deleted", body = ErrorBody),
        AdminErrors
    )
)]
pub async fn undelete(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiQuery(query): ApiQuery<NamespaceQuery>,
) -> Result<Json<SecretMetadata>, ApiError> {
    Ok(Json(
        state.secrets.undelete(&addressed(&name, &query)?).await?,
    ))
}
