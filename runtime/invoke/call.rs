//! One execution asked of the invoker: what runs (kind and name of a handler in a directory),
//! with what input, for whom, under which id, and the [`Outcome`] it gives back. Plain data:
//! it resolves nothing and runs nothing.

use std::path::{Path, PathBuf};

use crate::handlers::HandlerKind;
use crate::isolate::{HttpRequest, HttpResponse, ResponseSink};
use crate::settings::UserId;
use fluxbase_ops::progress::ProgressSink;
use tokio_util::sync::CancellationToken;

/// What a handler is called with.
#[derive(Debug)]
pub enum CallInput {
    /// A function call: the request, and where its response streams to (without a sink the
    /// whole response is collected into the outcome).
    Http {
        /// The request.
        request: HttpRequest,
        /// Where the response streams to: the head as soon as the handler returns its
        /// `Response`, then the body. Without one, the response is collected.
        sink: Option<ResponseSink>,
    },
    /// A job run: the payload, and the queued run this attempt belongs to (given to the job as
    /// `FLUXBASE_JOB_ID`; without one, the execution id is).
    Job {
        /// The payload.
        payload: serde_json::Value,
        /// The queued run, if any.
        run_id: Option<String>,
        /// Where the job's `ctx.progress` reports go, if anywhere.
        progress: Option<ProgressSink>,
    },
}

/// Who a call is made for: a user, and the claims of the token that says so (a job run's user
/// has only `sub`). The handler sees both as `ctx.user`.
#[derive(Debug, Clone, PartialEq)]
pub struct CallUser {
    /// The user id (the token's `sub`).
    pub id: UserId,
    /// The token's claims, as JSON.
    pub claims: serde_json::Value,
}

impl CallUser {
    /// A user known by id only (a job run enqueued for them).
    pub fn by_id(id: UserId) -> CallUser {
        let claims = serde_json::json!({ "sub": id.as_str() });
        CallUser { id, claims }
    }
}

/// One execution: see the module documentation.
#[derive(Debug)]
pub struct Call {
    /// The directory the handler is looked up in.
    pub dir: PathBuf,
    /// The handler's name.
    pub name: String,
    /// What the handler is called with; it also says the handler's kind.
    pub input: CallInput,
    /// The user the call is made for (from a valid user token, or the user a job run was
    /// enqueued for): the handler then also sees that user's settings secrets.
    pub user: Option<CallUser>,
    /// The id of the execution record.
    pub id: String,
    /// Cancelling it stops the execution (the isolate is terminated) and records it cancelled.
    pub cancel: CancellationToken,
}

impl Call {
    /// A call of function `name` of `dir` with `request`, its response collected.
    pub fn function(dir: &Path, name: &str, request: HttpRequest) -> Self {
        Call::new(
            dir,
            name,
            CallInput::Http {
                request,
                sink: None,
            },
        )
    }

    /// A run of job `name` of `dir` with `payload`, outside the queue.
    pub fn job(dir: &Path, name: &str, payload: serde_json::Value) -> Self {
        Call::new(
            dir,
            name,
            CallInput::Job {
                payload,
                run_id: None,
                progress: None,
            },
        )
    }

    fn new(dir: &Path, name: &str, input: CallInput) -> Self {
        Call {
            dir: dir.to_path_buf(),
            name: name.to_owned(),
            input,
            user: None,
            id: uuid::Uuid::new_v4().to_string(),
            cancel: CancellationToken::new(),
        }
    }

    /// The same call made for `user`.
    pub fn for_user(mut self, user: Option<CallUser>) -> Self {
        self.user = user;
        self
    }

    /// The same call with `id` as its execution id (a caller that sends the id before the
    /// call ends chooses it).
    pub fn with_id(mut self, id: String) -> Self {
        self.id = id;
        self
    }

    /// The same function call with its response streamed to `sink`.
    pub fn streaming_to(mut self, sink: ResponseSink) -> Self {
        if let CallInput::Http { sink: slot, .. } = &mut self.input {
            *slot = Some(sink);
        }
        self
    }

    /// The same job call as an attempt of the queued run `run_id`.
    pub fn of_run(mut self, run_id: &str) -> Self {
        if let CallInput::Job { run_id: slot, .. } = &mut self.input {
            *slot = Some(run_id.to_owned());
        }
        self
    }

    /// The same job call, its progress reports sent to `sink`.
    pub fn reporting_to(mut self, sink: ProgressSink) -> Self {
        if let CallInput::Job { progress, .. } = &mut self.input {
            *progress = Some(sink);
        }
        self
    }

    /// The same call, stopped when `token` is cancelled.
    pub fn cancelled_by(mut self, token: CancellationToken) -> Self {
        self.cancel = token;
        self
    }

    /// The kind of handler the call runs.
    pub fn kind(&self) -> HandlerKind {
        match self.input {
            CallInput::Http { .. } => HandlerKind::Function,
            CallInput::Job { .. } => HandlerKind::Job,
        }
    }
}

/// What an execution produced.
#[derive(Debug)]
pub struct Outcome {
    /// The id of its execution record.
    pub execution_id: String,
    /// The function's response (its body is empty when it was streamed), or the job's result.
    pub output: crate::isolate::Output,
}

impl Outcome {
    /// The function's response. A job's outcome has none.
    pub fn response(self) -> Option<HttpResponse> {
        match self.output {
            crate::isolate::Output::Http(response) => Some(response),
            crate::isolate::Output::Job(_) => None,
        }
    }

    /// The job's result as JSON. A function's outcome has none.
    pub fn result(self) -> Option<serde_json::Value> {
        match self.output {
            crate::isolate::Output::Job(result) => Some(result),
            crate::isolate::Output::Http(_) => None,
        }
    }
}
