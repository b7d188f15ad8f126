//! Invocation glue: Rust puts a [`PendingInvocation`] in `OpState` and calls the JS dispatcher,
//! which takes it through these ops, calls the handler, and hands back the response (head, then
//! chunks, or whole) or the job result as an [`InvocationOutcome`]; without a [`ResponseSink`]
//! the chunks are collected. It moves requests and outcomes only: error messages and job
//! results are redacted by the host's worker, not here.

use std::cell::RefCell;
use std::rc::Rc;

use deno_core::convert::Uint8Array;
use deno_core::{JsBuffer, OpState, op2};
use deno_error::JsErrorBox;
use tokio::sync::mpsc;

use crate::body::{RequestBody, RequestChunk, ResponseHead, ResponseSink};
use crate::progress::ProgressSink;
use crate::state::{HttpRequest, HttpResponse};

/// What the next dispatch runs.
#[derive(Debug)]
pub enum PendingInvocation {
    /// Call the function handler with this request; stream the response to `sink` if given.
    Http {
        /// The request.
        request: HttpRequest,
        /// Where the response streams to; without one it is collected into the outcome.
        sink: Option<ResponseSink>,
        /// The handler's second argument (`ctx`: user, namespace, execution id) as JSON text.
        context_json: String,
    },
    /// Call the job handler with this JSON payload.
    Job {
        /// The payload as JSON text.
        payload_json: String,
        /// Where `ctx.progress` reports go, if anywhere.
        progress: Option<ProgressSink>,
        /// The handler's second argument (`ctx`) as JSON text.
        context_json: String,
    },
}

/// Where the dispatcher leaves the outcome of an invocation.
#[derive(Debug, Default)]
pub struct InvocationOutcome {
    /// The function's response (its body is empty when it was streamed to a sink).
    pub response: Option<HttpResponse>,
    /// The job's result as JSON text.
    pub job_result_json: Option<String>,
}

/// Drops what an invocation left in `OpState` (request body, response sink, the settings
/// secrets of its user, its WebSocket), which ends a streamed response and an accepted socket.
/// Called when an invocation ends, however it ends.
pub fn end_invocation(state: &mut OpState) {
    state.try_take::<PendingBody>();
    state.try_take::<RequestStream>();
    state.try_take::<ResponseSink>();
    state.try_take::<PendingInvocation>();
    state.try_take::<crate::settings::InvocationSettings>();
    state.try_take::<ProgressSink>();
    crate::upgrade::end(state);
}

/// Invocation metadata as JS sees it.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct InvocationMeta {
    kind: &'static str,
    method: Option<String>,
    url: Option<String>,
    headers: Vec<(String, String)>,
    /// `"none"`, `"full"` (take it with `op_invocation_take_body`) or `"stream"` (pull it with
    /// `op_invocation_read_chunk`).
    body: &'static str,
    payload_json: Option<String>,
    context_json: String,
}

/// Body bytes of the pending HTTP invocation, kept until JS asks for them.
struct PendingBody(Vec<u8>);

/// The chunks of a streamed request body. Shared so that a read can await without holding
/// `OpState` borrowed.
struct RequestStream(Rc<RefCell<mpsc::Receiver<RequestChunk>>>);

/// Takes the pending invocation (set by Rust right before calling the JS
/// dispatcher). Throws if there is none.
#[op2]
#[serde]
pub(crate) fn op_invocation_take(state: &mut OpState) -> Result<InvocationMeta, JsErrorBox> {
    let inv = state
        .try_take::<PendingInvocation>()
        .ok_or_else(|| JsErrorBox::generic("no pending invocation"))?;
    state.put(InvocationOutcome::default());
    Ok(match inv {
        PendingInvocation::Http {
            request,
            sink,
            context_json,
        } => {
            if let Some(sink) = sink {
                state.put(sink);
            }
            if let Some(socket) = request.upgrade {
                crate::upgrade::offer(state, socket);
            }
            let body = match request.body {
                RequestBody::None => "none",
                RequestBody::Full(bytes) => {
                    state.put(PendingBody(bytes));
                    "full"
                }
                RequestBody::Stream(chunks) => {
                    state.put(RequestStream(Rc::new(RefCell::new(chunks))));
                    "stream"
                }
            };
            InvocationMeta {
                kind: "http",
                method: Some(request.method),
                url: Some(request.url),
                headers: request.headers,
                body,
                payload_json: None,
                context_json,
            }
        }
        PendingInvocation::Job {
            payload_json,
            progress,
            context_json,
        } => {
            if let Some(progress) = progress {
                state.put(progress);
            }
            InvocationMeta {
                kind: "job",
                method: None,
                url: None,
                headers: Vec::new(),
                body: "none",
                payload_json: Some(payload_json),
                context_json,
            }
        }
    })
}

/// Body bytes of the pending HTTP request (empty if none).
#[op2]
#[buffer]
pub(crate) fn op_invocation_take_body(state: &mut OpState) -> Vec<u8> {
    state
        .try_take::<PendingBody>()
        .map(|b| b.0)
        .unwrap_or_default()
}

/// The next chunk of a streamed request body, or `null` at its end. Rejects when the body
/// broke (over the size limit, or the client went away).
#[op2]
pub(crate) async fn op_invocation_read_chunk(
    state: Rc<RefCell<OpState>>,
) -> Result<Option<Uint8Array>, JsErrorBox> {
    let Some(chunks) = state
        .borrow()
        .try_borrow::<RequestStream>()
        .map(|s| s.0.clone())
    else {
        return Ok(None);
    };
    let next = std::future::poll_fn(|cx| chunks.borrow_mut().poll_recv(cx)).await;
    match next {
        Some(Ok(bytes)) => Ok(Some(bytes.into())),
        Some(Err(message)) => Err(JsErrorBox::type_error(message)),
        None => Ok(None),
    }
}

/// Records the status and headers of an HTTP response whose body follows in chunks, and sends
/// them to the sink if there is one.
#[op2]
pub(crate) fn op_invocation_respond_head(
    state: &mut OpState,
    #[smi] status: u32,
    #[serde] headers: Vec<(String, String)>,
) {
    respond_head(state, status, headers, None);
}

/// Records a whole HTTP response at once (sent to the sink as a head that holds the body).
#[op2]
pub(crate) fn op_invocation_respond(
    state: &mut OpState,
    #[smi] status: u32,
    #[serde] headers: Vec<(String, String)>,
    #[buffer] body: &[u8],
) {
    respond_whole(state, status, headers, body.to_vec());
}

/// Like [`op_invocation_respond`] for a body held as a string (`Response.json`, text), which
/// is encoded as UTF-8 here rather than through a `Uint8Array` in JS.
#[op2]
pub(crate) fn op_invocation_respond_text(
    state: &mut OpState,
    #[smi] status: u32,
    #[serde] headers: Vec<(String, String)>,
    #[string] body: String,
) {
    respond_whole(state, status, headers, body.into_bytes());
}

fn respond_whole(state: &mut OpState, status: u32, headers: Vec<(String, String)>, body: Vec<u8>) {
    if state.has::<ResponseSink>() {
        respond_head(state, status, headers, Some(body));
    } else {
        respond_head(state, status, headers, None);
        collected_body(state).extend_from_slice(&body);
    }
}

/// Sends one chunk of the response body, waiting while the receiver is behind. Resolves to
/// `false` when the receiver is gone (the client left): the handler should stop writing.
#[op2]
pub(crate) async fn op_invocation_write_chunk(
    state: Rc<RefCell<OpState>>,
    #[buffer] chunk: JsBuffer,
) -> bool {
    let sender = state
        .borrow()
        .try_borrow::<ResponseSink>()
        .map(|sink| sink.chunks.clone());
    match sender {
        Some(sender) => sender.send(chunk.to_vec()).await.is_ok(),
        None => {
            collected_body(&mut state.borrow_mut()).extend_from_slice(&chunk);
            true
        }
    }
}

/// The response is whole and the handler's `waitUntil` work goes on: the sink is let go (a
/// streamed body ends here) and its receiver told, so the response leaves before the
/// invocation ends.
#[op2(fast)]
pub(crate) fn op_invocation_response_complete(state: &mut OpState) {
    if let Some(mut sink) = state.try_take::<ResponseSink>()
        && let Some(complete) = sink.complete.take()
    {
        let _ = complete.send(());
    }
}

/// Records the JSON result of a job invocation.
#[op2(fast)]
pub(crate) fn op_invocation_job_done(state: &mut OpState, #[string] result_json: &str) {
    state.borrow_mut::<InvocationOutcome>().job_result_json = Some(result_json.to_owned());
}

fn respond_head(
    state: &mut OpState,
    status: u32,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
) {
    let status = u16::try_from(status).unwrap_or(500);
    let headers = as_iterated(headers);
    if let Some(head) = state
        .try_borrow_mut::<ResponseSink>()
        .and_then(|sink| sink.head.take())
    {
        let _ = head.send(ResponseHead {
            status,
            headers: headers.clone(),
            body,
        });
    }
    state.borrow_mut::<InvocationOutcome>().response = Some(HttpResponse {
        status,
        headers,
        body: Vec::new(),
    });
}

/// A response's header list as iterating its `Headers` gives it (and as `Deno.serve` sends
/// it): names lower-cased and sorted, repeated names joined with `, `, except `set-cookie`,
/// which stays one line per cookie. The dispatcher hands over the list itself, which is much
/// cheaper than iterating in JS.
fn as_iterated(mut headers: Vec<(String, String)>) -> Vec<(String, String)> {
    for (name, _) in &mut headers {
        name.make_ascii_lowercase();
    }
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    let mut joined: Vec<(String, String)> = Vec::with_capacity(headers.len());
    for (name, value) in headers {
        match joined.last_mut() {
            Some((last, values)) if *last == name && name != "set-cookie" => {
                values.push_str(", ");
                values.push_str(&value);
            }
            _ => joined.push((name, value)),
        }
    }
    joined
}

/// The body of the response being collected (when there is no sink).
fn collected_body(state: &mut OpState) -> &mut Vec<u8> {
    &mut state
        .borrow_mut::<InvocationOutcome>()
        .response
        .get_or_insert_with(HttpResponse::default)
        .body
}

#[cfg(test)]
mod tests {
    use super::as_iterated;

    fn list(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn headers_come_out_as_headers_iterate() {
        let headers = list(&[
            ("X-B", "1"),
            ("Set-Cookie", "a=1"),
            ("content-type", "text/plain"),
            ("x-b", "2"),
            ("set-cookie", "b=2"),
        ]);
        assert_eq!(
            as_iterated(headers),
            list(&[
                ("content-type", "text/plain"),
                ("set-cookie", "a=1"),
                ("set-cookie", "b=2"),
                ("x-b", "1, 2"),
            ])
        );
    }
}
