//! CORS for functions that declare `@fluxbase:cors-origins`: the host answers a browser's
//! preflight (`OPTIONS` with `Access-Control-Request-Method`) itself, without running the
//! function, and adds `Access-Control-Allow-Origin` to every answer for an allowed origin, the
//! function's own and the host's errors alike. It shapes headers only; which origins a function
//! allows is its annotation's business (`handlers`).

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::api_error::ApiError;
use crate::handlers::Cors;

/// Whether `method` and `headers` make a CORS preflight request.
pub fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
    method == Method::OPTIONS
        && headers.contains_key(header::ORIGIN)
        && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The answer to a preflight: 204 with the allowed methods, headers and max age for an allowed
/// origin, else 403.
pub fn preflight(cors: &Cors, headers: &HeaderMap) -> Response {
    let origin = origin(headers).unwrap_or_default();
    let Some(allowed) = cors.allow_origin(origin) else {
        return refused(origin).into_response();
    };
    let mut response = StatusCode::NO_CONTENT.into_response();
    let out = response.headers_mut();
    set(out, header::ACCESS_CONTROL_ALLOW_ORIGIN, &allowed);
    set(
        out,
        header::ACCESS_CONTROL_ALLOW_METHODS,
        &cors.methods.join(", "),
    );
    set(
        out,
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        &cors.headers.join(", "),
    );
    set(
        out,
        header::ACCESS_CONTROL_MAX_AGE,
        &cors.max_age_seconds.to_string(),
    );
    out.append(header::VARY, HeaderValue::from_static("Origin"));
    response
}

/// Adds the CORS headers to `response` when the request came from an allowed origin.
pub fn decorate(cors: &Cors, request: &HeaderMap, response: &mut Response) {
    let Some(allowed) = origin(request).and_then(|o| cors.allow_origin(o)) else {
        return;
    };
    let out = response.headers_mut();
    set(out, header::ACCESS_CONTROL_ALLOW_ORIGIN, &allowed);
    set(
        out,
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        "x-fluxbase-execution-id, retry-after",
    );
    out.append(header::VARY, HeaderValue::from_static("Origin"));
}

fn origin(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ORIGIN)?.to_str().ok()
}

fn set(headers: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

fn refused(origin: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        format!("origin {origin:?} is not allowed by this function's @fluxbase:cors-origins"),
    )
}
