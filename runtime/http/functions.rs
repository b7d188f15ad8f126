//! `ANY /functions/v1/:name[/*rest]`: invokes a function with the request as it came (method,
//! full URL, headers, body) and answers with its response. A timeout is 504, running out of
//! memory 546, any other failure 500; error bodies never hold a secret or a host stack trace.

use axum::body::{Body, to_bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header::HOST};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::api_error::ApiError;
use crate::isolate::HttpRequest;

/// Headers that belong to one hop and are not passed to or from a handler.
const HOP_BY_HOP: [&str; 5] = [
    "connection",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "content-length",
];

/// `ANY /functions/v1/:name`
pub async fn invoke_root(
    State(state): State<AppState>,
    Path(name): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    invoke(state, name, request).await
}

/// `ANY /functions/v1/:name/*rest`
pub async fn invoke_path(
    State(state): State<AppState>,
    Path((name, _rest)): Path<(String, String)>,
    request: Request,
) -> Result<Response, ApiError> {
    invoke(state, name, request).await
}

async fn invoke(state: AppState, name: String, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, state.options.body_limit)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "request body is larger than the limit of {} bytes",
                    state.options.body_limit
                ),
            )
        })?;
    let host = parts
        .headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let headers = parts
        .headers
        .iter()
        .filter(|(name, _)| !HOP_BY_HOP.contains(&name.as_str()))
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    let has_body = !matches!(parts.method.as_str(), "GET" | "HEAD");
    let request = HttpRequest {
        method: parts.method.as_str().to_owned(),
        url: format!("http://{host}{path}"),
        headers,
        body: has_body.then(|| body.to_vec()),
    };
    let outcome = state
        .invoker
        .invoke_function(&state.options.functions_dir, &name, request)
        .await
        .map_err(|error| match error {
            crate::Error::Invalid(message) if message.starts_with("no function") => {
                ApiError::new(StatusCode::NOT_FOUND, message)
            }
            other => other.into(),
        })?;
    let mut response = Response::new(Body::from(outcome.response.body));
    *response.status_mut() =
        StatusCode::from_u16(outcome.response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    for (name, value) in outcome.response.headers {
        if HOP_BY_HOP.contains(&name.as_str()) {
            continue;
        }
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            headers.append(name, value);
        }
    }
    if let Ok(id) = HeaderValue::try_from(outcome.execution_id) {
        headers.insert("x-fluxbase-execution-id", id);
    }
    Ok(response.into_response())
}
