//! `ANY /functions/v1/:name[/*rest]`: invokes a function through the invoker with the request as
//! it came (method, full URL, headers, body; both bodies stream) and answers with its response.
//! A timeout is 504, out of memory or CPU time 546, any other failure 500, a body over the limit
//! 413 (if the handler has not answered); error bodies never hold a secret or a host stack trace.
//! Around the call it applies the function's own settings: a caller is needed (the service key or
//! a user token; a JWT that does not verify is 401) unless the function allows anyone, the host
//! answers CORS preflights and counts the rate limit. A verified user token makes the call for
//! that user. A request that asks for a WebSocket is offered to the function as an upgradable
//! connection (`http::upgrade`), after those checks; when the function accepts it the answer is
//! its 101 and the connection is relayed to its isolate until the execution ends. It never
//! resolves secrets or touches an isolate itself.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::handlers::HandlerSettings;
use crate::http::AppState;
use crate::http::api_error::ApiError;
use crate::http::cors;
use crate::http::schemas::{ErrorBody, HandlerNameInput};
use crate::http::upgrade::{self, SocketEnd};
use crate::http::user_auth::{self, FunctionCaller};
use crate::invoke::{Call, CallUser, Outcome};
use crate::isolate::{HttpRequest, RequestBody, RequestChunk, ResponseHead, ResponseSink};

/// Headers that belong to one hop and are not passed to or from a handler.
const HOP_BY_HOP: [&str; 5] = [
    "connection",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "content-length",
];

/// Request bodies of at most this many bytes, with a `Content-Length`, are read whole before
/// the handler starts; larger or unsized ones stream.
const WHOLE_BODY_MAX: usize = 64 * 1024;

/// A request body declared over the limit is still read (and dropped) up to this size before
/// the 413 goes out, unless the client waits for `100 Continue`.
const DRAIN_MAX: u64 = 64 * 1024 * 1024;

/// Chunks buffered between the host and the isolate, each way.
const CHUNKS_BUFFERED: usize = 8;

/// Invoke a function: any method; sub-paths `/functions/v1/{name}/...` reach the same function,
/// which sees the full URL. With `Authorization: Bearer <user token>` (a JWT) the call is made
/// for that user, whose settings secrets the function then sees; an invalid one is 401.
#[utoipa::path(
    get,
    post,
    path = "/functions/v1/{name}",
    security((), ("serviceKey" = []), ("userToken" = [])),
    params(("name" = HandlerNameInput, Path)),
    responses(
        (status = "default", description = "The function's own response"),
        (status = 101, description = "The function accepted the WebSocket the request asked for (`Deno.upgradeWebSocket`): the connection carries it from now on"),
        (status = 400, description = "Invalid function name or Host header", body = ErrorBody),
        (status = 401, description = "No user token or service key (unless the function allows anyone), or a user token that does not verify", body = ErrorBody),
        (status = 403, description = "A CORS preflight from an origin the function does not allow", body = ErrorBody),
        (status = 404, description = "No such function", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 429, description = "Over the function's rate limit for this caller (Retry-After says when to retry)", body = ErrorBody),
        (status = 500, description = "The function failed", body = ErrorBody),
        (status = 504, description = "The function timed out", body = ErrorBody),
        (status = 546, description = "The function ran out of memory or over its CPU-time limit", body = ErrorBody)
    )
)]
pub async fn invoke_root(
    State(state): State<AppState>,
    Path(name): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    invoke(state, name, request).await
}

/// `ANY /functions/v1/{name}/{*rest}`: the same function, which sees the full URL.
pub async fn invoke_path(
    State(state): State<AppState>,
    Path((name, _rest)): Path<(String, String)>,
    request: Request,
) -> Result<Response, ApiError> {
    invoke(state, name, request).await
}

/// Applies the function's own settings around the call: the host answers a CORS preflight,
/// refuses a caller the function does not admit (401) or one over its rate limit (429), and
/// adds the CORS headers to whatever goes back.
async fn invoke(state: AppState, name: String, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let settings = state
        .invoker
        .function_settings(&state.options.functions_dir, &name)?;
    let cors = settings.as_ref().and_then(|s| s.cors.as_ref());
    if let Some(cors) = cors
        && cors::is_preflight(&parts.method, &parts.headers)
    {
        return Ok(cors::preflight(cors, &parts.headers));
    }
    let request_headers = cors.map(|_| parts.headers.clone());
    let admitted = match settings.as_deref() {
        Some(settings) => admit(&state, &name, settings, &parts),
        // A bad annotation: the call fails to load before any of its code runs.
        None => user_auth::function_caller(&state, &parts.headers),
    };
    let mut response = match admitted {
        Ok(caller) => run(state, name, parts, body, caller.user())
            .await
            .unwrap_or_else(IntoResponse::into_response),
        Err(refusal) => refusal.into_response(),
    };
    if let (Some(cors), Some(headers)) = (cors, request_headers) {
        cors::decorate(cors, &headers, &mut response);
    }
    Ok(response)
}

/// The caller, if the function admits them: a user token or the service key unless it allows
/// anyone, and within its rate limit (per user, else per client address; the service key is not
/// counted).
fn admit(
    state: &AppState,
    name: &str,
    settings: &HandlerSettings,
    parts: &http::request::Parts,
) -> Result<FunctionCaller, ApiError> {
    let caller = user_auth::function_caller(state, &parts.headers)?;
    if matches!(caller, FunctionCaller::Anonymous) && !settings.allow_unauthenticated {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "this function needs a user token or the service key (Authorization: Bearer ...); \
             its file can open it to anyone with // @fluxbase:allow-unauthenticated",
        ));
    }
    let Some(limit) = settings.rate_limit else {
        return Ok(caller);
    };
    let key = match &caller {
        FunctionCaller::Service => return Ok(caller),
        FunctionCaller::User(user) => format!("user:{}", user.id.as_str()),
        FunctionCaller::Anonymous => parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(
                || "address:unknown".to_owned(),
                |peer| format!("address:{}", peer.0.ip()),
            ),
    };
    match state.rate_limits.check(name, limit, &key) {
        Ok(()) => Ok(caller),
        Err(wait) => {
            let seconds = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
            Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "rate limit of {} calls per {} s reached for this caller: retry in {seconds} s",
                    limit.count, limit.per_seconds
                ),
            )
            .retry_after(seconds))
        }
    }
}

/// Runs the function with the request as it came, for `user`.
async fn run(
    state: AppState,
    name: String,
    mut parts: http::request::Parts,
    body: Body,
    user: Option<CallUser>,
) -> Result<Response, ApiError> {
    let limit = state.options.body_limit;
    let too_large = Arc::new(AtomicBool::new(false));
    let authority = request_authority(&parts, state.options.listen)?;
    let body = request_body(&parts.method, &parts.headers, body, limit, &too_large).await?;
    let (bridge, upgrade) = upgrade::offer(&mut parts).unzip();
    // A request offered as a WebSocket keeps the headers `Deno.upgradeWebSocket` checks.
    let passed = |name: &str| {
        !HOP_BY_HOP.contains(&name)
            || (bridge.is_some() && matches!(name, "connection" | "upgrade"))
    };
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let headers = parts
        .headers
        .iter()
        .filter(|(name, _)| passed(name.as_str()))
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    let request = HttpRequest {
        method: parts.method.as_str().to_owned(),
        url: format!("http://{authority}{path}"),
        headers,
        body,
        upgrade,
    };

    let (sink, receiver) = ResponseSink::channel(CHUNKS_BUFFERED);
    let execution_id = uuid::Uuid::new_v4().to_string();
    let invoker = state.invoker.clone();
    let dir = state.options.functions_dir.clone();
    let id = execution_id.clone();
    let mut task = tokio::spawn(async move {
        invoker
            .execute(
                Call::function(&dir, &name, request)
                    .streaming_to(sink)
                    .with_id(id)
                    .for_user(user),
            )
            .await
    });
    let mut complete = receiver.complete;
    let head = receiver.head.await;
    // The function accepted the socket: its 101 goes out, and the connection is relayed to its
    // isolate until the execution ends.
    if let Ok(head) = &head
        && head.status == 101
        && let Some(bridge) = bridge
    {
        state.sockets.relay(bridge, async move {
            match task.await {
                Ok(result) => SocketEnd::of(&result),
                Err(join) => {
                    tracing::error!(%join, "invocation task failed");
                    SocketEnd::Cut
                }
            }
        });
        let mut answer = response(head.clone(), &execution_id, Body::empty());
        upgrade::switching_protocols(&mut answer);
        return Ok(answer);
    }
    match head {
        // A body that was in memory goes out whole, with its length, once the execution is
        // recorded (an error between the two is still an error response), or at once when the
        // handler left `waitUntil` work running after it.
        Ok(mut head) if head.body.is_some() => {
            let ended = tokio::select! {
                ended = &mut task => Some(ended),
                Ok(()) = &mut complete => None,
            };
            match ended {
                Some(Ok(Err(error))) => Err(ApiError::from(error)),
                Some(Err(join)) => Err(task_failed(join)),
                Some(Ok(Ok(_))) | None => {
                    let body = Body::from(head.body.take().unwrap_or_default());
                    Ok(response(head, &execution_id, body))
                }
            }
        }
        Ok(head) => {
            let body = streamed_body(receiver.chunks, complete, task);
            Ok(response(head, &execution_id, body))
        }
        // The invocation ended without a response: it failed, and says why.
        Err(_) => Err(match task.await {
            Ok(Err(error)) if too_large.load(Ordering::SeqCst) => {
                tracing::debug!(%error, "function failed on an oversized request body");
                body_too_large(limit)
            }
            Ok(Err(error)) => ApiError::from(error),
            Ok(Ok(_)) => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the function produced no response",
            ),
            Err(join) => task_failed(join),
        }),
    }
}

/// The authority of the URL the handler sees: the request target's own (absolute form), else the
/// `Host` header's, else (no `Host`, or an empty one) the address the server listens on. A
/// `Host` that is not a bare authority (`x/admin?`, `a b`, `user@x`) is refused: pasted into
/// the URL it would change the path the handler reads.
fn request_authority(
    parts: &http::request::Parts,
    listen: std::net::SocketAddr,
) -> Result<String, ApiError> {
    if let Some(authority) = parts.uri.authority() {
        return Ok(authority.as_str().to_owned());
    }
    let Some(host) = parts.headers.get(header::HOST) else {
        return Ok(listen.to_string());
    };
    let invalid = || ApiError::new(StatusCode::BAD_REQUEST, "invalid Host header");
    let host = host.to_str().map_err(|_| invalid())?;
    if host.is_empty() {
        return Ok(listen.to_string());
    }
    match host.parse::<http::uri::Authority>() {
        Ok(authority) if !authority.as_str().contains('@') => Ok(authority.as_str().to_owned()),
        _ => Err(invalid()),
    }
}

/// The request body as the handler gets it: none for GET and HEAD, whole when it is small and
/// its length known, otherwise a stream fed by a task that enforces `limit`.
async fn request_body(
    method: &axum::http::Method,
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    too_large: &Arc<AtomicBool>,
) -> Result<RequestBody, ApiError> {
    if matches!(method.as_str(), "GET" | "HEAD") {
        return Ok(RequestBody::None);
    }
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match length {
        Some(length) if length > limit as u64 => {
            // A client that waits for `100 Continue` gets the answer at once; others are
            // still sending, and closing on them would break their write before they read the
            // 413. So a declared body of reasonable size is read and dropped first.
            let expects_continue = headers
                .get(header::EXPECT)
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
            if !expects_continue && length <= DRAIN_MAX {
                let mut chunks = body.into_data_stream();
                while let Some(Ok(_)) = chunks.next().await {}
            }
            Err(body_too_large(limit))
        }
        Some(length) if length <= WHOLE_BODY_MAX as u64 => to_bytes(body, limit)
            .await
            .map(|bytes| RequestBody::Full(bytes.to_vec()))
            .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "the request body ended early")),
        _ => Ok(RequestBody::Stream(stream_request_body(
            body,
            limit,
            too_large.clone(),
        ))),
    }
}

/// Feeds the body's chunks into a bounded channel (so a slow handler slows the client down),
/// ending it with an error once more than `limit` bytes came in.
fn stream_request_body(
    body: Body,
    limit: usize,
    too_large: Arc<AtomicBool>,
) -> mpsc::Receiver<RequestChunk> {
    let (tx, rx) = mpsc::channel(CHUNKS_BUFFERED);
    tokio::spawn(async move {
        let mut chunks = body.into_data_stream();
        let mut received = 0usize;
        while let Some(chunk) = chunks.next().await {
            let next = match chunk {
                Ok(bytes) if bytes.is_empty() => continue,
                Ok(bytes) => {
                    received = received.saturating_add(bytes.len());
                    if received > limit {
                        too_large.store(true, Ordering::SeqCst);
                        let _ = tx.send(Err(limit_message(limit))).await;
                        return;
                    }
                    Ok(bytes.to_vec())
                }
                Err(error) => Err(format!("the request body could not be read: {error}")),
            };
            let failed = next.is_err();
            if tx.send(next).await.is_err() || failed {
                return;
            }
        }
    });
    rx
}

/// The body of a streamed response, as the handler produces it. If the invocation fails after
/// the head went out, the body ends in an error, which cuts the connection. A body the handler
/// finished before handing work to `waitUntil` ends when its last chunk is sent.
fn streamed_body(
    chunks: mpsc::Receiver<Vec<u8>>,
    complete: oneshot::Receiver<()>,
    task: JoinHandle<crate::Result<Outcome>>,
) -> Body {
    let state = (chunks, complete, Some(task));
    let body = futures::stream::unfold(state, |(mut chunks, mut complete, task)| async move {
        if let Some(chunk) = chunks.recv().await {
            return Some((Ok(axum::body::Bytes::from(chunk)), (chunks, complete, task)));
        }
        if complete.try_recv().is_ok() {
            return None;
        }
        match task?.await {
            Ok(Ok(_)) => None,
            _ => Some((
                Err(io::Error::other(
                    "the function failed while sending its response body",
                )),
                (chunks, complete, None),
            )),
        }
    });
    Body::from_stream(body)
}

/// The handler's status and headers with `body`.
fn response(head: ResponseHead, execution_id: &str, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(head.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    for (name, value) in head.headers {
        if HOP_BY_HOP.contains(&name.as_str()) {
            continue;
        }
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            headers.append(name, value);
        }
    }
    if let Ok(id) = HeaderValue::try_from(execution_id) {
        headers.insert("x-fluxbase-execution-id", id);
    }
    response.into_response()
}

fn task_failed(join: tokio::task::JoinError) -> ApiError {
    tracing::error!(%join, "invocation task failed");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
}

fn body_too_large(limit: usize) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, limit_message(limit))
}

fn limit_message(limit: usize) -> String {
    format!("request body is larger than the limit of {limit} bytes")
}
