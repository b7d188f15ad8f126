//! `/api/v1/admin/secrets`: list secrets (metadata and digests only), create one, and write a
//! batch in one transaction, through the secrets service. It never runs a query or answers with
//! a value.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::secret_address::{expiry, location};
use crate::http::AppState;
use crate::http::api_error::ApiError;
use crate::http::extract::{ApiJson, ApiQuery, optional_whole_number};
use crate::http::schemas::{
    AdminErrors, BodyErrors, DescriptionInput, ErrorBody, ExpiryInput, MaxVersionsInput,
    SecretValueInput,
};
use crate::secrets::{
    Namespace, Scope, SecretMetadata, SecretName, SecretRef, SecretValue, SetRequest,
    max_versions_from,
};
use crate::store::ListFilter;
use crate::time::Timestamp;

/// Query of the list route.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only secrets of this scope.
    #[param(value_type = Option<Scope>)]
    scope: Option<String>,
    /// Only secrets of this namespace.
    #[param(value_type = Option<Namespace>)]
    namespace: Option<String>,
    /// `true`: the deleted secrets (kept until their retention ends) instead of the live ones.
    deleted: Option<bool>,
    /// Only secrets whose value expires within this duration from now (7d, 12h, 2w, 90m; any
    /// humantime duration), expired ones too.
    #[param(pattern = "^[1-9][0-9]{0,14}(ms|s|m|h|d|w|y)$")]
    expiring_within: Option<String>,
}

/// Body of `POST /api/v1/admin/secrets`.
#[derive(Deserialize, ToSchema)]
#[schema(as = CreateSecret)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    #[schema(value_type = SecretName)]
    name: String,
    #[schema(value_type = SecretValueInput)]
    value: String,
    /// Absent or null: namespace scope when a namespace is given, else global.
    #[schema(value_type = Option<Scope>)]
    scope: Option<String>,
    #[schema(value_type = Option<Namespace>)]
    namespace: Option<String>,
    // `default`: absent is fine (and the document says so: not required).
    #[serde(default)]
    #[schema(value_type = DescriptionInput)]
    description: Option<String>,
    #[schema(value_type = Option<ExpiryInput>)]
    expires_at: Option<String>,
    /// Keep only the newest N versions (0 or absent: all of them).
    #[serde(default, deserialize_with = "optional_whole_number")]
    #[schema(value_type = Option<MaxVersionsInput>)]
    max_versions: Option<i64>,
}

impl CreateBody {
    /// The write this body asks for, checked as the route checks it: name, scope and namespace,
    /// value, expiry (relative to `now`).
    pub fn into_request(self, now: Timestamp) -> Result<SetRequest, ApiError> {
        let secret = SecretRef {
            name: SecretName::parse(&self.name)?,
            location: location(self.scope.as_deref(), self.namespace.as_deref())?,
        };
        Ok(SetRequest {
            value: SecretValue::new(self.value)?,
            description: self.description,
            expires_at: expiry(self.expires_at.as_deref(), now)?,
            if_version: Some(0),
            must_exist: false,
            max_versions: max_versions_from(self.max_versions),
            secret,
        })
    }
}

/// List secrets (metadata and the digest of each value, never a value).
#[utoipa::path(
    get,
    path = "/api/v1/admin/secrets",
    params(ListQuery),
    responses((status = 200, description = "Secrets", body = Vec<SecretMetadata>), AdminErrors)
)]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Vec<SecretMetadata>>, ApiError> {
    let now = Timestamp::now().millis();
    let filter = ListFilter {
        scope: query.scope.as_deref().map(Scope::parse).transpose()?,
        namespace: query
            .namespace
            .as_deref()
            .map(Namespace::parse)
            .transpose()?,
        deleted: query.deleted.unwrap_or(false),
        expiring_before: query
            .expiring_within
            .as_deref()
            .map(|raw| window(raw).map(|ms| Timestamp::from_millis(now.saturating_add(ms))))
            .transpose()?,
    };
    Ok(Json(state.secrets.list(&filter).await?))
}

/// The milliseconds of an `expiring_within` window, exactly as the document says: a number
/// without a leading zero (at most 15 digits) and one of the units ms, s, m, h, d, w, y.
fn window(raw: &str) -> Result<i64, ApiError> {
    let refuse = || {
        ApiError::bad_request(format!(
            "invalid expiring window {raw:?}: use a number and a unit, such as 7d, 12h or 90m"
        ))
    };
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (digits, unit) = raw.split_at(split);
    if digits.is_empty() || digits.starts_with('0') || digits.len() > 15 {
        return Err(refuse());
    }
    let unit_ms: i64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 604_800_000,
        // As humantime counts a year: 365.25 days.
        "y" => 31_557_600_000,
        _ => return Err(refuse()),
    };
    let count: i64 = digits.parse().map_err(|_| refuse())?;
    Ok(count.saturating_mul(unit_ms))
}

/// Create a secret (or bring a deleted one back with a new version): 201, or 409 when a live
/// one exists.
#[utoipa::path(
    post,
    path = "/api/v1/admin/secrets",
    request_body = CreateBody,
    responses(
        (status = 201, description = "Created", body = SecretMetadata),
        (status = 409, description = "The secret exists", body = ErrorBody),
        AdminErrors,
        BodyErrors
    )
)]
pub async fn create(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<impl IntoResponse, ApiError> {
    let request = body.into_request(Timestamp::now())?;
    match state.secrets.set(&request).await {
        Ok(meta) => Ok((StatusCode::CREATED, Json(meta))),
        Err(crate::Error::VersionConflict { secret, actual, .. }) => Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("secret {secret} already exists (version {actual}); use PUT to change it"),
        )),
        Err(error) => Err(error.into()),
    }
}

/// Most secrets one batch may hold.
const MAX_BATCH: usize = 1000;

/// Body of `PATCH /api/v1/admin/secrets`: secrets to set in one transaction.
#[derive(Deserialize, ToSchema)]
#[schema(as = SecretBatch)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    /// Each creates its secret or writes its next version (a deleted one comes back).
    #[schema(min_items = 1, max_items = 1000)]
    secrets: Vec<CreateBody>,
}

/// Set several secrets in one transaction: every one of them, or (on any error) none.
#[utoipa::path(
    patch,
    path = "/api/v1/admin/secrets",
    request_body = BatchBody,
    responses(
        (status = 200, description = "Every secret written, in the order given", body = Vec<SecretMetadata>),
        AdminErrors,
        BodyErrors
    )
)]
pub async fn batch(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<BatchBody>,
) -> Result<Json<Vec<SecretMetadata>>, ApiError> {
    if body.secrets.is_empty() || body.secrets.len() > MAX_BATCH {
        return Err(ApiError::bad_request(format!(
            "a batch holds 1 to {MAX_BATCH} secrets, not {}",
            body.secrets.len()
        )));
    }
    let now = Timestamp::now();
    let mut requests = Vec::with_capacity(body.secrets.len());
    for (i, item) in body.secrets.into_iter().enumerate() {
        let mut request = item.into_request(now).map_err(|e| {
            ApiError::bad_request(format!(
                "secrets[{i}]: {}; nothing was written",
                e.message()
            ))
        })?;
        // A batch sets: it creates or writes the next version alike.
        request.if_version = None;
        crate::secrets::check_description(request.description.as_deref())
            .and_then(|()| crate::secrets::check_max_versions(request.max_versions))
            .map_err(|e| {
                ApiError::bad_request(format!("secrets[{i}]: {e}; nothing was written"))
            })?;
        requests.push(request);
    }
    Ok(Json(state.secrets.set_many(&requests).await?))
}
