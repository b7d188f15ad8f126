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
use crate::invoke::CallUser;
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
        Ok(AuthenticatedUser(verify(tokens, token)?.id))
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

impl Caller {
    /// The user, for a user token; `None` for the service key.
    pub fn user(&self) -> Option<&UserId> {
        match self {
            Caller::Service => None,
            Caller::User(user) => Some(user),
        }
    }
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
            Some(tokens) if looks_like_jwt(token) => {
                verify(tokens, token).map(|user| Caller::User(user.id))
            }
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

/// Who calls a function.
#[derive(Debug, Clone)]
pub enum FunctionCaller {
    /// The holder of the service key.
    Service,
    /// A user, by a valid user token (with its claims).
    User(CallUser),
    /// Nobody the host knows: no credential, or a bearer token of the function's own.
    Anonymous,
}

impl FunctionCaller {
    /// The user the call is made for, if any.
    pub fn user(&self) -> Option<CallUser> {
        match self {
            FunctionCaller::User(user) => Some(user.clone()),
            _ => None,
        }
    }
}

/// Who calls a function: the service key, or (with user tokens enabled) a JWT-shaped bearer
/// token that must be a valid user token (else 401); no token, or a bearer token of another
/// kind, is anonymous (the function may check its own credentials).
pub fn function_caller(state: &AppState, headers: &HeaderMap) -> Result<FunctionCaller, ApiError> {
    match bearer(headers.get(AUTHORIZATION)) {
        Some(token) if state.service_key.matches(token) => Ok(FunctionCaller::Service),
        Some(token) if looks_like_jwt(token) => match &state.tokens {
            Some(tokens) => verify(tokens, token).map(FunctionCaller::User),
            None => Ok(FunctionCaller::Anonymous),
        },
        _ => Ok(FunctionCaller::Anonymous),
    }
}

fn verify(tokens: &UserTokens, token: &str) -> Result<CallUser, ApiError> {
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
