//! `/api/v1/admin/secrets...`: the secrets life cycle over HTTP, a thin adapter over the
//! secrets service. Responses carry metadata only, never a value.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Deserializer};

use super::AppState;
use super::api_error::ApiError;
use super::extract::{ApiJson, ApiQuery, optional_whole_number, whole_number};
use crate::secrets::{
    Location, MetadataUpdate, Namespace, Scope, SecretMetadata, SecretName, SecretRef, SecretValue,
    SetRequest, parse_expiry,
};
use crate::store::{ListFilter, VersionRecord};
use crate::time::Timestamp;

/// Query of the list route.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    scope: Option<String>,
    namespace: Option<String>,
}

/// Query of the `:name` routes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamespaceQuery {
    namespace: Option<String>,
}

/// Body of `POST /api/v1/admin/secrets`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    name: String,
    value: String,
    scope: Option<String>,
    namespace: Option<String>,
    description: Option<String>,
    expires_at: Option<String>,
}

/// Body of `PUT /api/v1/admin/secrets/:name`: a value writes a new version; without one, only
/// description and expiry change (absent: kept; null: removed).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    value: Option<String>,
    #[serde(default, deserialize_with = "present")]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    expires_at: Option<Option<String>>,
    /// Check-and-set for a new value: refuse unless this is the current version.
    #[serde(default, deserialize_with = "optional_whole_number")]
    if_version: Option<i64>,
}

/// Body of the rollback route.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackBody {
    #[serde(deserialize_with = "whole_number")]
    version: i64,
    /// Check-and-set: refuse unless this is the current version.
    #[serde(default, deserialize_with = "optional_whole_number")]
    if_version: Option<i64>,
}

/// Tells a field that is present (even as null) from one that is absent.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

fn location(scope: Option<&str>, namespace: Option<&str>) -> Result<Location, ApiError> {
    let scope = scope.map(Scope::parse).transpose()?;
    let namespace = namespace.map(Namespace::parse).transpose()?;
    Ok(Location::from_flags(scope, namespace)?)
}

fn addressed(name: &str, query: &NamespaceQuery) -> Result<SecretRef, ApiError> {
    Ok(SecretRef {
        name: SecretName::parse(name)?,
        location: location(None, query.namespace.as_deref())?,
    })
}

fn expiry(raw: Option<&str>, now: Timestamp) -> Result<Option<Timestamp>, ApiError> {
    Ok(raw.map(|raw| parse_expiry(raw, now)).transpose()?)
}

impl CreateBody {
    /// The write this body asks for, checked as the route checks it: name, scope and namespace,
    /// value, expiry (relative to `now`).
    pub(super) fn into_request(self, now: Timestamp) -> Result<SetRequest, ApiError> {
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
            secret,
        })
    }
}

/// What a `PUT` body asks for.
#[derive(Debug)]
pub(super) enum Change {
    /// A new version with this value.
    NewVersion(SetRequest),
    /// Description and expiry only.
    Metadata(MetadataUpdate),
}

impl UpdateBody {
    /// The change this body asks for to `secret`, checked as the route checks it.
    pub(super) fn into_change(self, secret: SecretRef, now: Timestamp) -> Result<Change, ApiError> {
        match self.value {
            Some(value) => Ok(Change::NewVersion(SetRequest {
                value: SecretValue::new(value)?,
                description: self.description.flatten(),
                expires_at: expiry(self.expires_at.flatten().as_deref(), now)?,
                if_version: self.if_version,
                must_exist: true,
                secret,
            })),
            None if self.if_version.is_some() => {
                Err(ApiError::bad_request("if_version needs a value"))
            }
            None => {
                let expires_at = match self.expires_at {
                    Some(raw) => Some(expiry(raw.as_deref(), now)?),
                    None => None,
                };
                Ok(Change::Metadata(MetadataUpdate {
                    description: self.description,
                    expires_at,
                }))
            }
        }
    }
}

impl RollbackBody {
    /// The version to restore and the check-and-set version, if any.
    pub(super) fn versions(&self) -> (i64, Option<i64>) {
        (self.version, self.if_version)
    }
}

/// `GET /api/v1/admin/secrets`
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Vec<SecretMetadata>>, ApiError> {
    let filter = ListFilter {
        scope: query.scope.as_deref().map(Scope::parse).transpose()?,
        namespace: query
            .namespace
            .as_deref()
            .map(Namespace::parse)
            .transpose()?,
    };
    Ok(Json(state.secrets.list(&filter).await?))
}

/// `POST /api/v1/admin/secrets`: 201, or 409 when the secret exists.
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

/// `GET /api/v1/admin/secrets/:name`
pub async fn get(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiQuery(query): ApiQuery<NamespaceQuery>,
) -> Result<Json<SecretMetadata>, ApiError> {
    Ok(Json(state.secrets.get(&addressed(&name, &query)?).await?))
}

/// `PUT /api/v1/admin/secrets/:name`: 404 when the secret does not exist.
pub async fn update(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiQuery(query): ApiQuery<NamespaceQuery>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> Result<Json<SecretMetadata>, ApiError> {
    let secret = addressed(&name, &query)?;
    let meta = match body.into_change(secret.clone(), Timestamp::now())? {
        Change::NewVersion(request) => state.secrets.set(&request).await?,
        Change::Metadata(update) => state.secrets.update_metadata(&secret, &update).await?,
    };
    Ok(Json(meta))
}

/// `DELETE /api/v1/admin/secrets/:name`
pub async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiQuery(query): ApiQuery<NamespaceQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let versions = state.secrets.delete(&addressed(&name, &query)?).await?;
    Ok(Json(
        serde_json::json!({ "deleted": true, "versions": versions }),
    ))
}

/// `GET /api/v1/admin/secrets/:name/history`
pub async fn history(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiQuery(query): ApiQuery<NamespaceQuery>,
) -> Result<Json<Vec<VersionRecord>>, ApiError> {
    let (_, versions) = state.secrets.history(&addressed(&name, &query)?).await?;
    Ok(Json(versions))
}

/// `POST /api/v1/admin/secrets/:name/rollback` with `{"version": N}`
pub async fn rollback(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiQuery(query): ApiQuery<NamespaceQuery>,
    ApiJson(body): ApiJson<RollbackBody>,
) -> Result<Json<SecretMetadata>, ApiError> {
    let secret = addressed(&name, &query)?;
    let (version, if_version) = body.versions();
    let restored = state
        .secrets
        .rollback(&secret, version, if_version)
        .await
        .map_err(|error| match error {
            // A well-formed request the secret's state refuses: a conflict, as for if_version.
            crate::Error::Invalid(message) if message.contains("nothing to roll back") => {
                ApiError::new(StatusCode::CONFLICT, message)
            }
            other => other.into(),
        })?;
    Ok(Json(restored))
}
