//! The invoker: runs one function or job from its file, with its secrets injected.
//!
//! For every execution: find the handler, take its namespace, resolve that namespace's secrets
//! (host env > namespace > global, expired ones skipped) before any user code runs, boot or
//! reuse an isolate, run the handler under its limits, and store an execution record (status,
//! duration, redacted console output, names of the secrets read, error).

mod failure;
mod injection;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::Mutex;

pub use failure::ExecutionFailure;
pub use injection::{Injection, Source, host_env_secrets};

use crate::handlers::{self, Handler, HandlerKind};
use crate::isolate::{
    BootOptions, HttpRequest, HttpResponse, Invocation, InvocationResult, Isolate, IsolateConfig,
    IsolateError, LogLevel, Output, ResponseSink,
};
use crate::secrets::{Namespace, SecretsService};
use crate::store::{ExecutionRecord, LogLine};
use crate::time::Timestamp;
use crate::{Error, Result};

/// Default wall-clock limit of a function invocation.
pub const DEFAULT_FUNCTION_TIMEOUT: Duration = Duration::from_secs(30);
/// Default wall-clock limit of a job run.
pub const DEFAULT_JOB_TIMEOUT: Duration = Duration::from_secs(300);
/// Default heap limit of an isolate.
pub const DEFAULT_HEAP_LIMIT_BYTES: usize = 128 * 1024 * 1024;

/// How executions are run.
#[derive(Debug, Clone)]
pub struct InvokerConfig {
    /// Namespace of handlers that declare none.
    pub default_namespace: Namespace,
    /// Wall-clock limit of a function invocation (boot included).
    pub function_timeout: Duration,
    /// Wall-clock limit of a job run (boot included).
    pub job_timeout: Duration,
    /// Heap limit of each isolate.
    pub heap_limit_bytes: usize,
    /// Boot isolates from the startup snapshot. Creating the snapshot costs more than one
    /// boot without it, so one-shot commands turn it off.
    pub use_snapshot: bool,
    /// Keep one warm isolate per handler and namespace and reuse it while its source and its
    /// secrets are unchanged; otherwise every execution gets a fresh isolate.
    pub reuse_isolates: bool,
}

impl Default for InvokerConfig {
    fn default() -> Self {
        InvokerConfig {
            default_namespace: Namespace::parse("default").expect("valid namespace"),
            function_timeout: DEFAULT_FUNCTION_TIMEOUT,
            job_timeout: DEFAULT_JOB_TIMEOUT,
            heap_limit_bytes: DEFAULT_HEAP_LIMIT_BYTES,
            use_snapshot: true,
            reuse_isolates: true,
        }
    }
}

/// The response of a function invocation.
#[derive(Debug)]
pub struct FunctionOutcome {
    /// Id of the execution record.
    pub execution_id: String,
    /// What the handler returned.
    pub response: HttpResponse,
}

/// The result of a job run.
#[derive(Debug)]
pub struct JobOutcome {
    /// Id of the execution record.
    pub execution_id: String,
    /// What the handler returned, as JSON (`null` for nothing).
    pub result: serde_json::Value,
}

/// Runs handlers; see the module documentation.
pub struct Invoker {
    secrets: Arc<SecretsService>,
    config: InvokerConfig,
    warm: std::sync::Mutex<HashMap<WarmKey, Arc<Mutex<Option<Warm>>>>>,
}

type WarmKey = (HandlerKind, String, Namespace);

/// A booted isolate kept for the next execution of the same handler in the same namespace.
struct Warm {
    isolate: Isolate,
    fingerprint: Fingerprint,
}

/// What a warm isolate was booted from; any difference retires it.
#[derive(Debug, PartialEq, Eq)]
struct Fingerprint {
    path: PathBuf,
    modified: Option<SystemTime>,
    len: u64,
    secrets: Vec<(String, Source)>,
}

impl Invoker {
    /// An invoker over a secrets service.
    pub fn new(secrets: Arc<SecretsService>, config: InvokerConfig) -> Self {
        Invoker {
            secrets,
            config,
            warm: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// Calls the function `name` of `dir` with `request` and collects its whole response.
    pub async fn invoke_function(
        &self,
        dir: &Path,
        name: &str,
        request: HttpRequest,
    ) -> Result<FunctionOutcome> {
        self.call_function(dir, name, request, None, new_execution_id())
            .await
    }

    /// Calls the function `name` of `dir` with `request` and streams its response to `sink`:
    /// the head as soon as the handler returns its `Response`, then the body. Resolves when
    /// the body has ended (the outcome's response then has an empty body); an error after the
    /// head was sent means the body is incomplete. `execution_id` names the execution record,
    /// so the caller can send it with the head.
    pub async fn stream_function(
        &self,
        dir: &Path,
        name: &str,
        request: HttpRequest,
        sink: ResponseSink,
        execution_id: String,
    ) -> Result<FunctionOutcome> {
        self.call_function(dir, name, request, Some(sink), execution_id)
            .await
    }

    async fn call_function(
        &self,
        dir: &Path,
        name: &str,
        request: HttpRequest,
        sink: Option<ResponseSink>,
        execution_id: String,
    ) -> Result<FunctionOutcome> {
        let handler = handlers::find(dir, HandlerKind::Function, name)?;
        let invocation = Invocation::Http { request, sink };
        let output = self
            .execute(dir, &handler, invocation, None, &execution_id)
            .await?;
        match output {
            Output::Http(response) => Ok(FunctionOutcome {
                execution_id,
                response,
            }),
            Output::Job(_) => unreachable!("an HTTP invocation produces a response"),
        }
    }

    /// Runs the job `name` of `dir` with `payload`. `run_id` is the queued run this attempt
    /// belongs to (given to the job as `FLUXBASE_JOB_ID`); without one, the execution id is.
    pub async fn run_job(
        &self,
        dir: &Path,
        name: &str,
        payload: serde_json::Value,
        run_id: Option<&str>,
    ) -> Result<JobOutcome> {
        let handler = handlers::find(dir, HandlerKind::Job, name)?;
        let execution_id = new_execution_id();
        let output = self
            .execute(
                dir,
                &handler,
                Invocation::Job(payload),
                run_id,
                &execution_id,
            )
            .await?;
        match output {
            Output::Job(result) => Ok(JobOutcome {
                execution_id,
                result,
            }),
            Output::Http(_) => unreachable!("a job run produces a result"),
        }
    }

    async fn execute(
        &self,
        dir: &Path,
        handler: &Handler,
        invocation: Invocation,
        run_id: Option<&str>,
        execution_id: &str,
    ) -> Result<Output> {
        let namespace = handler.namespace(&self.config.default_namespace)?;
        let resolved = self.secrets.resolve(namespace.as_str()).await?;
        let mut logs: Vec<LogLine> = resolved.notes.iter().map(|n| system_line(n)).collect();
        let injection = Injection::new(resolved, host_env_secrets());
        let env = injection.env(
            handler.kind,
            &handler.name,
            &namespace,
            run_id.unwrap_or(execution_id),
        );
        let timeout = match handler.kind {
            HandlerKind::Function => self.config.function_timeout,
            HandlerKind::Job => self.config.job_timeout,
        };
        let started_at = Timestamp::now();
        let clock = Instant::now();

        let slot = self.slot(handler, &namespace);
        let mut slot = slot.lock().await;
        let fingerprint = fingerprint(handler, &injection);
        let reusable = slot
            .as_ref()
            .is_some_and(|warm| warm.fingerprint == fingerprint && warm.isolate.is_alive());
        if !reusable {
            retire(slot.take());
            let config = IsolateConfig {
                root_dir: dir.to_path_buf(),
                main_module: std::path::absolute(&handler.path)
                    .unwrap_or_else(|_| handler.path.clone()),
                secrets: injection.isolate_secrets(),
                env: env.clone(),
                boot: BootOptions {
                    use_snapshot: self.config.use_snapshot,
                    max_heap_bytes: Some(self.config.heap_limit_bytes),
                },
                boot_timeout: timeout,
            };
            match Isolate::spawn(config).await {
                Ok(isolate) => {
                    logs.extend(isolate.boot_report().logs.iter().map(store_line));
                    *slot = Some(Warm {
                        isolate,
                        fingerprint,
                    });
                }
                Err(error) => {
                    let failure = self.failure(error, timeout, &injection, true);
                    let record = Record {
                        handler,
                        namespace: &namespace,
                        id: execution_id,
                        started_at,
                        clock,
                        logs,
                        accessed: Vec::new(),
                    };
                    return Err(self.failed(record, failure).await);
                }
            }
        }
        let warm = slot.as_ref().expect("an isolate was just put in the slot");
        let result = warm.isolate.invoke(invocation, env, timeout).await;
        if !self.config.reuse_isolates || result.is_err() {
            retire(slot.take());
        }
        drop(slot);

        let record = |logs, accessed| Record {
            handler,
            namespace: &namespace,
            id: execution_id,
            started_at,
            clock,
            logs,
            accessed,
        };
        match result {
            Ok(InvocationResult {
                output,
                logs: lines,
                secrets_accessed,
                ..
            }) => {
                logs.extend(lines.iter().map(store_line));
                let accessed = secrets_accessed.found.into_iter().collect();
                self.store_record(record(logs, accessed).finish("succeeded", None))
                    .await?;
                Ok(output)
            }
            Err(error) => {
                let failure = self.failure(error, timeout, &injection, false);
                Err(self.failed(record(logs, Vec::new()), failure).await)
            }
        }
    }

    /// The slot of the warm isolate for this handler and namespace.
    fn slot(&self, handler: &Handler, namespace: &Namespace) -> Arc<Mutex<Option<Warm>>> {
        let key = (handler.kind, handler.name.clone(), namespace.clone());
        let mut warm = self.warm.lock().expect("warm isolate map poisoned");
        warm.entry(key).or_default().clone()
    }

    fn failure(
        &self,
        error: IsolateError,
        timeout: Duration,
        injection: &Injection,
        booting: bool,
    ) -> ExecutionFailure {
        match error {
            IsolateError::Timeout(_) => ExecutionFailure::Timeout(timeout),
            IsolateError::HeapLimit => ExecutionFailure::OutOfMemory {
                limit_bytes: self.config.heap_limit_bytes,
            },
            IsolateError::Boot(message) => ExecutionFailure::Boot(injection.redact(&message)),
            IsolateError::Handler(message) if booting => {
                ExecutionFailure::Boot(injection.redact(&message))
            }
            IsolateError::Handler(message) => {
                ExecutionFailure::Exception(injection.redact(&message))
            }
            IsolateError::Gone => {
                ExecutionFailure::Exception("the isolate stopped unexpectedly".into())
            }
        }
    }

    /// Records a failed execution and returns the error that describes it.
    async fn failed(&self, record: Record<'_>, failure: ExecutionFailure) -> Error {
        let error = Error::Execution {
            kind: record.handler.kind.as_str(),
            name: record.handler.name.clone(),
            execution_id: record.id.to_owned(),
            failure: failure.clone(),
        };
        let record = record.finish(failure.status(), Some(failure.detail()));
        match self.store_record(record).await {
            Ok(()) => error,
            Err(store_error) => store_error,
        }
    }

    async fn store_record(&self, record: ExecutionRecord) -> Result<()> {
        self.secrets.store().record_execution(&record).await
    }
}

/// The parts of an execution record known before it ends.
struct Record<'a> {
    handler: &'a Handler,
    namespace: &'a Namespace,
    id: &'a str,
    started_at: Timestamp,
    clock: Instant,
    logs: Vec<LogLine>,
    accessed: Vec<String>,
}

impl Record<'_> {
    fn finish(self, status: &str, error: Option<String>) -> ExecutionRecord {
        ExecutionRecord {
            id: self.id.to_owned(),
            kind: self.handler.kind.as_str().to_owned(),
            name: self.handler.name.clone(),
            namespace: self.namespace.as_str().to_owned(),
            status: status.to_owned(),
            started_at: self.started_at,
            duration_ms: i64::try_from(self.clock.elapsed().as_millis()).unwrap_or(i64::MAX),
            logs: self.logs,
            secrets_accessed: self
                .accessed
                .into_iter()
                .map(|name| format!("FLUXBASE_SECRET_{}", name.to_ascii_uppercase()))
                .collect(),
            error,
        }
    }
}

fn fingerprint(handler: &Handler, injection: &Injection) -> Fingerprint {
    let meta = std::fs::metadata(&handler.path).ok();
    Fingerprint {
        path: handler.path.clone(),
        modified: meta.as_ref().and_then(|m| m.modified().ok()),
        len: meta.map_or(0, |m| m.len()),
        secrets: injection.fingerprint(),
    }
}

/// Ends a retired isolate. Dropping joins its thread, which may take a moment after a
/// termination, so it happens off the async workers.
fn retire(warm: Option<Warm>) {
    if let Some(warm) = warm {
        std::thread::spawn(move || drop(warm));
    }
}

fn new_execution_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn system_line(message: &str) -> LogLine {
    LogLine {
        level: "system".into(),
        message: message.to_owned(),
    }
}

fn store_line(line: &crate::isolate::LogLine) -> LogLine {
    let level = match line.level {
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error => "error",
    };
    LogLine {
        level: level.into(),
        message: line.text.clone(),
    }
}
