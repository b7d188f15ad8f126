//! What the four settings secrets paths share: the `?user=` query of the admin paths, the `PUT`
//! body, and the calls into the settings service (which owns the life cycle). `PUT` creates
//! (201) or replaces the value (200); answers carry metadata only, never a value.

use axum::Json;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::AppState;
use crate::http::api_error::ApiError;
use crate::http::schemas::{DescriptionInput, SecretValueInput};
use crate::secrets::{SecretName, SecretValue};
use crate::settings::{SetSetting, SettingMetadata, SettingRef, SettingScope, UserId};

/// Actor recorded in the audit log for admin changes.
pub const ADMIN_ACTOR: &str = "api:service-key";

/// Query of the admin routes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    /// A user's settings secrets instead of the system's.
    #[param(value_type = Option<UserId>)]
    user: Option<String>,
}

/// Query of the user routes: none (a user addresses only their own secrets).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoQuery {}

/// Body of `PUT .../settings/secrets/{key}`.
#[derive(Deserialize, ToSchema)]
#[schema(as = PutSetting)]
#[serde(deny_unknown_fields)]
pub struct PutBody {
    #[schema(value_type = SecretValueInput)]
    value: String,
    /// A new description; absent keeps the current one.
    #[serde(default)]
    #[schema(value_type = DescriptionInput)]
    description: Option<String>,
}

/// The answer to a delete.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SettingDeleted)]
pub struct Deleted {
    /// Always true.
    deleted: bool,
}

/// A `PUT`'s answer: 201 when created, else 200.
pub type Written = (StatusCode, Json<SettingMetadata>);

impl PutBody {
    /// The write this body asks for to `setting`, checked as the route checks it.
    pub fn into_request(self, setting: SettingRef) -> Result<SetSetting, ApiError> {
        Ok(SetSetting {
            value: SecretValue::new(self.value)?,
            description: self.description,
            setting,
        })
    }
}

/// The scope an admin query addresses: the system's, or one user's.
pub fn admin_scope(query: &UserQuery) -> Result<SettingScope, ApiError> {
    Ok(SettingScope::of(
        query.user.as_deref().map(UserId::parse).transpose()?,
    ))
}

/// The settings secret a `{key}` path addresses in `scope`.
pub fn addressed(key: &str, scope: SettingScope) -> Result<SettingRef, ApiError> {
    Ok(SettingRef {
        key: SecretName::parse(key)?,
        scope,
    })
}

/// Writes `body` to `setting` for `actor`.
pub async fn put(
    state: &AppState,
    setting: SettingRef,
    body: PutBody,
    actor: &str,
) -> Result<Written, ApiError> {
    let request = body.into_request(setting)?;
    let outcome = state.settings.set(&request, actor).await?;
    let status = if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(outcome.metadata)))
}

/// Deletes `setting` for `actor`.
pub async fn delete(
    state: &AppState,
    setting: SettingRef,
    actor: &str,
) -> Result<Json<Deleted>, ApiError> {
    state.settings.delete(&setting, actor).await?;
    Ok(Json(Deleted { deleted: true }))
}
