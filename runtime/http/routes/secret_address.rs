//! What the `/api/v1/admin/secrets/{name}...` paths share: how a request names a secret (path
//! name and `?namespace=`), a scope, and an expiry. Parsing only; the secrets service decides.

use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::api_error::ApiError;
use crate::secrets::{Location, Namespace, Scope, SecretName, SecretRef, parse_expiry};
use crate::time::Timestamp;

/// Query of the `{name}` routes: which namespace's secret (none: the global one).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NamespaceQuery {
    /// The namespace of a namespace-scoped secret.
    #[param(value_type = Option<Namespace>)]
    pub namespace: Option<String>,
}

/// The location a scope and a namespace flag give.
pub fn location(scope: Option<&str>, namespace: Option<&str>) -> Result<Location, ApiError> {
    let scope = scope.map(Scope::parse).transpose()?;
    let namespace = namespace.map(Namespace::parse).transpose()?;
    Ok(Location::from_flags(scope, namespace)?)
}

/// The secret a `{name}` path and its query address.
pub fn addressed(name: &str, query: &NamespaceQuery) -> Result<SecretRef, ApiError> {
    Ok(SecretRef {
        name: SecretName::parse(name)?,
        location: location(None, query.namespace.as_deref())?,
    })
}

/// An expiry given in a body, relative to `now`.
pub fn expiry(raw: Option<&str>, now: Timestamp) -> Result<Option<Timestamp>, ApiError> {
    Ok(raw.map(|raw| parse_expiry(raw, now)).transpose()?)
}
