//! Settings secrets over HTTP, a thin adapter over the settings service, with its OpenAPI
//! description:
//!
//! - `/api/v1/admin/settings/secrets[/:key]` (service key): the system's settings secrets, or
//!   with `?user=ID` one user's;
//! - `/api/v1/settings/secrets[/:key]` (user token): the caller's own, and nobody else's.
//!
//! `PUT` creates (201) or replaces the value (200); responses carry metadata only, never a value.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::api_error::ApiError;
use super::extract::{ApiJson, ApiQuery};
use super::user_auth::AuthenticatedUser;
use crate::secrets::{SecretName, SecretValue};
use crate::settings::{
    SetSetting, SettingMetadata, SettingRef, SettingScope, SettingsService, UserId,
};

/// Actor recorded in the audit log for admin changes.
const ADMIN_ACTOR: &str = "api:service-key";

/// Query of the admin routes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    user: Option<String>,
}

/// Query of the user routes: none (a user addresses only their own secrets).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoQuery {}

/// Body of `PUT .../settings/secrets/:key`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutBody {
    value: String,
    /// A new description; absent keeps the current one.
    description: Option<String>,
}

type Created = (StatusCode, Json<SettingMetadata>);

impl PutBody {
    /// The write this body asks for to `setting`, checked as the route checks it.
    pub(super) fn into_request(self, setting: SettingRef) -> Result<SetSetting, ApiError> {
        Ok(SetSetting {
            value: SecretValue::new(self.value)?,
            description: self.description,
            setting,
        })
    }
}

fn admin_scope(query: &UserQuery) -> Result<SettingScope, ApiError> {
    Ok(SettingScope::of(
        query.user.as_deref().map(UserId::parse).transpose()?,
    ))
}

fn addressed(key: &str, scope: SettingScope) -> Result<SettingRef, ApiError> {
    Ok(SettingRef {
        key: SecretName::parse(key)?,
        scope,
    })
}

fn service(state: &AppState) -> Result<&SettingsService, ApiError> {
    state.settings.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "settings secrets are not enabled on this server",
        )
    })
}

async fn put(
    state: &AppState,
    setting: SettingRef,
    body: PutBody,
    actor: &str,
) -> Result<Created, ApiError> {
    let request = body.into_request(setting)?;
    let outcome = service(state)?.set(&request, actor).await?;
    let status = if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(outcome.metadata)))
}

async fn delete(
    state: &AppState,
    setting: SettingRef,
    actor: &str,
) -> Result<Json<Value>, ApiError> {
    service(state)?.delete(&setting, actor).await?;
    Ok(Json(json!({ "deleted": true })))
}

/// `GET /api/v1/admin/settings/secrets[?user=ID]`
pub async fn admin_list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<UserQuery>,
) -> Result<Json<Vec<SettingMetadata>>, ApiError> {
    let scope = admin_scope(&query)?;
    Ok(Json(service(&state)?.list(&scope).await?))
}

/// `GET /api/v1/admin/settings/secrets/:key[?user=ID]`
pub async fn admin_get(
    State(state): State<AppState>,
    Path(key): Path<String>,
    ApiQuery(query): ApiQuery<UserQuery>,
) -> Result<Json<SettingMetadata>, ApiError> {
    let setting = addressed(&key, admin_scope(&query)?)?;
    Ok(Json(service(&state)?.get(&setting).await?))
}

/// `PUT /api/v1/admin/settings/secrets/:key[?user=ID]`
pub async fn admin_put(
    State(state): State<AppState>,
    Path(key): Path<String>,
    ApiQuery(query): ApiQuery<UserQuery>,
    ApiJson(body): ApiJson<PutBody>,
) -> Result<Created, ApiError> {
    let setting = addressed(&key, admin_scope(&query)?)?;
    put(&state, setting, body, ADMIN_ACTOR).await
}

/// `DELETE /api/v1/admin/settings/secrets/:key[?user=ID]`
pub async fn admin_delete(
    State(state): State<AppState>,
    Path(key): Path<String>,
    ApiQuery(query): ApiQuery<UserQuery>,
) -> Result<Json<Value>, ApiError> {
    let setting = addressed(&key, admin_scope(&query)?)?;
    delete(&state, setting, ADMIN_ACTOR).await
}

/// `GET /api/v1/settings/secrets`: the caller's own.
pub async fn user_list(
    State(state): State<AppState>,
    AuthenticatedUser(user): AuthenticatedUser,
    ApiQuery(_): ApiQuery<NoQuery>,
) -> Result<Json<Vec<SettingMetadata>>, ApiError> {
    Ok(Json(
        service(&state)?.list(&SettingScope::User(user)).await?,
    ))
}

/// `GET /api/v1/settings/secrets/:key`
pub async fn user_get(
    State(state): State<AppState>,
    AuthenticatedUser(user): AuthenticatedUser,
    Path(key): Path<String>,
    ApiQuery(_): ApiQuery<NoQuery>,
) -> Result<Json<SettingMetadata>, ApiError> {
    let setting = addressed(&key, SettingScope::User(user))?;
    Ok(Json(service(&state)?.get(&setting).await?))
}

/// `PUT /api/v1/settings/secrets/:key`
pub async fn user_put(
    State(state): State<AppState>,
    AuthenticatedUser(user): AuthenticatedUser,
    Path(key): Path<String>,
    ApiQuery(_): ApiQuery<NoQuery>,
    ApiJson(body): ApiJson<PutBody>,
) -> Result<Created, ApiError> {
    let actor = format!("user:{user}");
    let setting = addressed(&key, SettingScope::User(user))?;
    put(&state, setting, body, &actor).await
}

/// `DELETE /api/v1/settings/secrets/:key`
pub async fn user_delete(
    State(state): State<AppState>,
    AuthenticatedUser(user): AuthenticatedUser,
    Path(key): Path<String>,
    ApiQuery(_): ApiQuery<NoQuery>,
) -> Result<Json<Value>, ApiError> {
    let actor = format!("user:{user}");
    let setting = addressed(&key, SettingScope::User(user))?;
    delete(&state, setting, &actor).await
}

/// The OpenAPI paths of these routes, and the schemas they use.
pub fn openapi() -> (Value, Value) {
    let error = |description: &str| {
        json!({
            "description": description,
            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
        })
    };
    let ok = |description: &str, schema: Value| json!({ "description": description, "content": { "application/json": { "schema": schema } } });
    let metadata = json!({ "$ref": "#/components/schemas/SettingMetadata" });
    let key = json!({ "name": "key", "in": "path", "required": true, "schema": { "$ref": "#/components/schemas/SecretName" } });
    let user = json!({ "name": "user", "in": "query", "required": false, "description": "A user's settings secrets instead of the system's", "schema": { "$ref": "#/components/schemas/UserId" } });
    let responses = |unauthorized: &str, extra: &[(&str, &str)], code: &str, answer: Value| {
        let mut map = serde_json::Map::new();
        map.insert("400".into(), error("Invalid input"));
        map.insert("401".into(), error(unauthorized));
        for (code, description) in extra {
            map.insert((*code).into(), error(description));
        }
        map.insert(code.into(), answer);
        Value::Object(map)
    };
    let surface = |base: &str, unauthorized: &str, security: Value, parameters: Vec<Value>| {
        let put_answers = {
            let mut answers = responses(
                unauthorized,
                &[
                    ("413", "Body too large"),
                    ("415", "Body not sent as application/json"),
                    (
                        "422",
                        "Body of the wrong shape (unknown field, wrong type, missing field)",
                    ),
                ],
                "200",
                ok("Value replaced", metadata.clone()),
            );
            answers["201"] = ok("Created", metadata.clone());
            answers
        };
        let mut with_key = parameters.clone();
        with_key.insert(0, key.clone());
        let list = json!({
            "parameters": parameters,
            "get": {
                "summary": "List settings secrets (metadata only)",
                "security": security,
                "responses": responses(unauthorized, &[], "200", ok("Settings secrets", json!({ "type": "array", "items": metadata })))
            }
        });
        let one = json!({
            "parameters": with_key,
            "get": {
                "summary": "A settings secret's metadata",
                "security": security,
                "responses": responses(unauthorized, &[("404", "No such settings secret")], "200", ok("Metadata", metadata.clone()))
            },
            "put": {
                "summary": "Create a settings secret or replace its value",
                "security": security,
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/PutSetting" } } } },
                "responses": put_answers
            },
            "delete": {
                "summary": "Delete a settings secret",
                "security": security,
                "responses": responses(unauthorized, &[("404", "No such settings secret")], "200", ok("Deleted", json!({
                    "type": "object", "properties": { "deleted": { "type": "boolean" } }, "required": ["deleted"]
                })))
            }
        });
        [(base.to_owned(), list), (format!("{base}/{{key}}"), one)]
    };
    let mut paths = serde_json::Map::new();
    paths.extend(surface(
        "/api/v1/admin/settings/secrets",
        "Missing or wrong service key",
        json!([{ "serviceKey": [] }]),
        vec![user],
    ));
    paths.extend(surface(
        "/api/v1/settings/secrets",
        "Missing, invalid or expired user token",
        json!([{ "userToken": [] }]),
        Vec::new(),
    ));
    let schemas = json!({
        "UserId": { "type": "string", "pattern": "^[A-Za-z0-9._@:|+-]{1,255}$" },
        "SettingMetadata": {
            "type": "object",
            "properties": {
                "key": { "type": "string" },
                "scope": { "type": "string", "enum": ["system", "user"] },
                "user": { "type": ["string", "null"] },
                "description": { "type": ["string", "null"] },
                "created_at": { "type": "string", "format": "date-time" },
                "updated_at": { "type": "string", "format": "date-time" }
            },
            "required": ["key", "scope", "user", "description", "created_at", "updated_at"],
            "additionalProperties": false
        },
        "PutSetting": {
            "type": "object",
            "properties": {
                "value": { "$ref": "#/components/schemas/SecretValue" },
                "description": { "$ref": "#/components/schemas/Description" }
            },
            "required": ["value"],
            "additionalProperties": false
        }
    });
    (Value::Object(paths), schemas)
}
