//! `ctx.progress(percent, message)` of a job: what the job says about how far it has come,
//! passed through the isolate's redactor (it leaves the isolate) and sent to the host, which
//! keeps it on the run. Without a sink (a job run once from the CLI) it goes nowhere. It sends
//! only: storing the progress is the host's job queue's business.

use deno_core::{OpState, op2};
use deno_error::JsErrorBox;
use tokio::sync::mpsc;

use crate::redact::Redactor;

/// Longest progress message kept, in bytes.
pub const MAX_PROGRESS_MESSAGE_BYTES: usize = 1024;

/// One progress report: percent (0 to 100) and an optional message (redacted).
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressReport {
    /// How far, 0 to 100.
    pub percent: u8,
    /// What the job said.
    pub message: Option<String>,
}

/// Where a job's progress reports go.
#[derive(Debug, Clone)]
pub struct ProgressSink(pub mpsc::UnboundedSender<ProgressReport>);

/// Reports progress of the running job; a percent outside 0 to 100 is a `RangeError`.
#[op2]
pub(crate) fn op_job_progress(
    state: &mut OpState,
    percent: f64,
    #[string] message: Option<String>,
) -> Result<(), JsErrorBox> {
    if !(0.0..=100.0).contains(&percent) {
        return Err(JsErrorBox::range_error(
            "ctx.progress: percent must be a number from 0 to 100",
        ));
    }
    let message = message.map(|text| match state.try_borrow::<Redactor>() {
        Some(redactor) => redactor.redact_bounded(&text, MAX_PROGRESS_MESSAGE_BYTES),
        None => text,
    });
    if let Some(sink) = state.try_borrow::<ProgressSink>() {
        let _ = sink.0.send(ProgressReport {
            percent: percent.round() as u8,
            message,
        });
    }
    Ok(())
}
