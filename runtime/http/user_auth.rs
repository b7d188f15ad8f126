//! Authentication with user tokens: the extractor of the `/api/v1/settings/...` routes, the
//! optional user of a function call, and the jobs routes' "service key or user token" check.
//! It says who is calling; what that caller may see is decided by the services and the routes.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;
use super::api_error::ApiError;
use super::auth::ServiceKey;
use super::jwt::{JWT_SECRET_ENV, UserTokens, looks_like_jwt};
use crate::settings::UserId;

/// The user a request is authenticated as, from `Authorization: Bearer <user token>`; any
/// other request is refused with 401.
#[derive(Debug, Clone)]
pub struct AuthenticatedUser(pub UserId);

impl FromRequestParts<AppState> for AuthenticatedUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let tokens = state.tokens.as_ref().ok_or_else(not_enabled)?;
        let token = bearer(parts.headers.get(AUTHORIZATION)).ok_or_else(|| {
            unauthorized("missing user token: send Authorization: Bearer <user token>")
        })?;
        Ok(AuthenticatedUser(verify(tokens, token)?))
    }
}

/// Who called a route that takes either credential.
#[derive(Debug, Clone)]
pub enum Caller {
    /// The holder of the service key.
    Service,
    /// A user, by a valid user token.
    User(UserId),
}

/// What the "service key or user token" middleware checks against.
#[derive(Debug, Clone)]
pub struct EitherCredential {
    /// The service key.
    pub key: ServiceKey,
    /// The user token verifier, if user tokens are enabled.
    pub tokens: Option<UserTokens>,
}

/// Middleware: the service key, or a valid user token; puts the [`Caller`] in the request's
/// extensions, and refuses anything else with 401.
pub async fn require_service_key_or_user(
    State(either): State<EitherCredential>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let caller = match bearer(request.headers().get(AUTHORIZATION)) {
        None => Err(unauthorized(
            "missing service key or user token: send Authorization: Bearer <service key or \
             user token>",
        )),
        Some(token) if either.key.matches(token) => Ok(Caller::Service),
        Some(token) => match &either.tokens {
            Some(tokens) if looks_like_jwt(token) => verify(tokens, token).map(Caller::User),
            _ => Err(unauthorized("invalid service key")),
        },
    };
    let caller = match caller {
        Ok(caller) => caller,
        Err(refusal) => return Err(super::auth::refuse(request, refusal).await),
    };
    request.extensions_mut().insert(caller);
    Ok(next.run(request).await)
}

/// The user a function call is made for: with user tokens enabled, a JWT-shaped bearer token
/// must be a valid user token (else 401); no token, or a bearer token of another kind, means
/// no user (the function may check its own credentials).
pub fn invocation_user(state: &AppState, headers: &HeaderMap) -> Result<Option<UserId>, ApiError> {
    let Some(tokens) = &state.tokens else {
        return Ok(None);
    };
    match bearer(headers.get(AUTHORIZATION)) {
        Some(token) if looks_like_jwt(token) => Ok(Some(verify(tokens, token)?)),
        _ => Ok(None),
    }
}

fn verify(tokens: &UserTokens, token: &str) -> Result<UserId, ApiError> {
    tokens
        .verify(token)
        .map_err(|error| unauthorized(error.to_string()))
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(header: Option<&HeaderValue>) -> Option<&str> {
    let value = header?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn unauthorized(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, message)
}

fn not_enabled() -> ApiError {
    unauthorized(format!(
        "user tokens are not enabled on this server: it needs {JWT_SECRET_ENV}"
    ))
}
