//! Invocation glue: Rust puts a [`PendingInvocation`] in `OpState` and calls the JS dispatcher,
//! which takes it through these ops, calls the handler, and hands back the response or the job
//! result as an [`InvocationOutcome`].

use deno_core::{OpState, op2};
use deno_error::JsErrorBox;

use crate::state::{HttpRequest, HttpResponse};

/// What the next dispatch runs.
#[derive(Debug)]
pub enum PendingInvocation {
    /// Call the function handler with this request.
    Http(HttpRequest),
    /// Call the job handler with this JSON payload.
    Job {
        /// The payload as JSON text.
        payload_json: String,
    },
}

/// Where the dispatcher leaves the outcome of an invocation.
#[derive(Debug, Default)]
pub struct InvocationOutcome {
    /// The function's response.
    pub response: Option<HttpResponse>,
    /// The job's result as JSON text.
    pub job_result_json: Option<String>,
}

/// Invocation metadata as JS sees it.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct InvocationMeta {
    kind: &'static str,
    method: Option<String>,
    url: Option<String>,
    headers: Vec<(String, String)>,
    has_body: bool,
    payload_json: Option<String>,
}

/// Body bytes of the pending HTTP invocation, kept until JS asks for them.
struct PendingBody(Vec<u8>);

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
        PendingInvocation::Http(req) => {
            let has_body = req.body.is_some();
            if let Some(body) = req.body {
                state.put(PendingBody(body));
            }
            InvocationMeta {
                kind: "http",
                method: Some(req.method),
                url: Some(req.url),
                headers: req.headers,
                has_body,
                payload_json: None,
            }
        }
        PendingInvocation::Job { payload_json } => InvocationMeta {
            kind: "job",
            method: None,
            url: None,
            headers: Vec::new(),
            has_body: false,
            payload_json: Some(payload_json),
        },
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

/// Records the Response of an HTTP invocation.
#[op2]
pub(crate) fn op_invocation_respond(
    state: &mut OpState,
    #[smi] status: u32,
    #[serde] headers: Vec<(String, String)>,
    #[buffer] body: &[u8],
) {
    let status = u16::try_from(status).unwrap_or(500);
    state.borrow_mut::<InvocationOutcome>().response = Some(HttpResponse {
        status,
        headers,
        body: body.to_vec(),
    });
}

/// Records the JSON result of a job invocation.
#[op2(fast)]
pub(crate) fn op_invocation_job_done(state: &mut OpState, #[string] result_json: &str) {
    state.borrow_mut::<InvocationOutcome>().job_result_json = Some(result_json.to_owned());
}
