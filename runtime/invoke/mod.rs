//! The invoker: the one call path, [`Invoker::execute`], that runs a function or job from its
//! file: find the handler and its namespace, resolve its secrets through the secrets service
//! (and the caller's settings secrets) before any user code runs, boot or reuse an isolate, run
//! it under its limits, and hand its execution record to the record writer. It runs no SQL
//! (secrets come from the services, records go through the store's queries) and redacts nothing
//! itself: what leaves an isolate was redacted in it.

mod admission;
mod call;
mod failure;
mod injection;
mod preboot;
mod records;
mod warm;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use call::{Call, CallInput, CallUser, Outcome};
pub use failure::ExecutionFailure;
pub use injection::{Injection, Source, host_env_secrets};
pub use preboot::PrebootPool;

use admission::{Admission, Wait};
use injection::InjectionCache;
use records::RecordWriter;
use warm::{Fingerprint, Retirement, Warm, WarmIsolates, WarmKey};

use crate::handlers::{self, Handler, HandlerKind, HandlerSettings, HostPattern, SettingsCache};
use crate::isolate::{
    BlankIsolate, BootFailure, BootOptions, CallLimits, Invocation, Isolate, IsolateCall,
    IsolateConfig, IsolateEnv, IsolateError, LogLevel, NetworkAccess,
};
use crate::modules::ModuleOptions;
use crate::secrets::{Namespace, SecretsService};
use crate::settings::{SettingsInjection, SettingsService, UserId};
use crate::store::{ExecutionRecord, LogLine, Store};
use crate::time::Timestamp;
use crate::{Error, Result};

/// Default wall-clock limit of a function invocation.
pub const DEFAULT_FUNCTION_TIMEOUT: Duration = Duration::from_secs(30);
/// Default wall-clock limit of a job run.
pub const DEFAULT_JOB_TIMEOUT: Duration = Duration::from_secs(300);
/// Default heap limit of an isolate.
pub const DEFAULT_HEAP_LIMIT_BYTES: usize = 128 * 1024 * 1024;

/// How isolates are used across executions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// An isolate is booted for a handler in its namespace and reused for its following
    /// executions, one at a time, until it is retired (see [`InvokerConfig`]).
    PerFunction,
    /// A fresh isolate for every execution; nothing is carried over.
    PerInvocation,
}

impl std::str::FromStr for Isolation {
    type Err = Error;

    fn from_str(value: &str) -> Result<Self> {
        match value {
            "per-function" => Ok(Isolation::PerFunction),
            "per-invocation" => Ok(Isolation::PerInvocation),
            other => Err(Error::invalid(format!(
                "unknown isolation policy {other:?}: use per-function or per-invocation"
            ))),
        }
    }
}

impl std::fmt::Display for Isolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Isolation::PerFunction => "per-function",
            Isolation::PerInvocation => "per-invocation",
        })
    }
}

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
    /// Whether isolates are reused across executions of a handler.
    pub isolation: Isolation,
    /// Per-function: a warm isolate unused for this long is retired.
    pub idle_timeout: Duration,
    /// Per-function: a warm isolate is retired after this many executions.
    pub max_executions_per_isolate: u64,
    /// Executions running at once (each in an isolate of its own).
    pub max_concurrent: usize,
    /// Function invocations that may wait for a free slot; past that they are refused with
    /// [`Error::Busy`]. Job runs always wait.
    pub max_queued: usize,
    /// Blank isolates kept booted for cold executions (0: boot on demand).
    pub preboot: usize,
    /// Which addresses `fetch` in function and job code may connect to.
    pub network: NetworkAccess,
    /// How remote modules are loaded: the module cache and the host's import rule.
    pub modules: ModuleOptions,
}

impl Default for InvokerConfig {
    fn default() -> Self {
        InvokerConfig {
            default_namespace: Namespace::parse("default").expect("valid namespace"),
            function_timeout: DEFAULT_FUNCTION_TIMEOUT,
            job_timeout: DEFAULT_JOB_TIMEOUT,
            heap_limit_bytes: DEFAULT_HEAP_LIMIT_BYTES,
            use_snapshot: true,
            isolation: Isolation::PerFunction,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_executions_per_isolate: DEFAULT_MAX_EXECUTIONS_PER_ISOLATE,
            max_concurrent: std::thread::available_parallelism().map_or(2, |n| n.get()),
            max_queued: DEFAULT_MAX_QUEUED,
            preboot: 0,
            network: NetworkAccess::default(),
            modules: ModuleOptions::default(),
        }
    }
}

/// Default idle time after which a warm isolate is retired.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// Default number of executions after which a warm isolate is retired.
pub const DEFAULT_MAX_EXECUTIONS_PER_ISOLATE: u64 = 10_000;
/// Default number of function invocations that may wait for a slot.
pub const DEFAULT_MAX_QUEUED: usize = 256;

/// Runs handlers; see the module documentation.
pub struct Invoker {
    secrets: Arc<SecretsService>,
    config: InvokerConfig,
    warm: WarmIsolates,
    preboot: Arc<PrebootPool>,
    admission: Admission,
    records: RecordWriter,
    settings: Arc<SettingsService>,
    /// The host's `FLUXBASE_SECRET_*` overrides, read once: the environment of a running
    /// process does not change.
    host_secrets: Vec<(crate::secrets::SecretName, secrecy::SecretString)>,
    injections: InjectionCache,
    handler_settings: SettingsCache,
}

impl Invoker {
    /// An invoker over the secrets and settings services (every execution gets the system's
    /// settings secrets, and those of the user it is made for, [`Call::for_user`]), keeping its
    /// execution records in `records`. The pre-booted pool fills once a tokio runtime runs (see
    /// [`Invoker::prepare`]).
    pub fn new(
        secrets: Arc<SecretsService>,
        settings: Arc<SettingsService>,
        records: Store,
        config: InvokerConfig,
    ) -> Self {
        let preboot = PrebootPool::new(config.preboot, boot_options(&config));
        Invoker {
            records: RecordWriter::new(records),
            secrets,
            admission: Admission::new(config.max_concurrent, config.max_queued),
            warm: WarmIsolates::default(),
            preboot,
            config,
            settings,
            host_secrets: host_env_secrets(),
            injections: InjectionCache::default(),
            handler_settings: SettingsCache::default(),
        }
    }

    /// The namespace of a handler whose file names none (the dashboard's list shows it).
    pub fn default_namespace(&self) -> &Namespace {
        &self.config.default_namespace
    }

    /// Waits until the records of every execution that has ended are stored. Readers of the
    /// execution log call this first; see `records` for why records are written behind.
    pub async fn flush_records(&self) {
        self.records.flush().await;
    }

    /// Starts filling the pre-booted pool.
    pub fn prepare(&self) {
        self.preboot.fill();
    }

    /// The pre-booted pool (for measurements).
    pub fn preboot_pool(&self) -> &Arc<PrebootPool> {
        &self.preboot
    }

    /// Retires warm isolates that have been idle longer than the configured time. Returns how
    /// many were retired. The server calls this periodically.
    pub fn retire_idle(&self) -> usize {
        self.warm.retire_idle(self.retirement())
    }

    /// Warm isolates waiting for their next execution.
    pub fn idle_isolates(&self) -> usize {
        self.warm.len()
    }

    fn retirement(&self) -> Retirement {
        Retirement {
            idle: self.config.idle_timeout,
            max_executions: self.config.max_executions_per_isolate,
        }
    }

    /// The settings the function `name` of `dir` declares (its `// @fluxbase:` lines), for the
    /// HTTP layer's auth, CORS and rate limit: [`Error::NoHandler`] when there is no such
    /// function, `None` when a line is bad (its call fails to load, and its record says why,
    /// before any of its code runs).
    pub fn function_settings(
        &self,
        dir: &Path,
        name: &str,
    ) -> Result<Option<Arc<HandlerSettings>>> {
        let handler = handlers::find(dir, HandlerKind::Function, name)?;
        Ok(self
            .handler_settings
            .settings(&handler, handler.stamp())
            .ok())
    }

    /// The limits an execution of a handler with `declared` settings runs under: the
    /// handler's own, else the host's.
    fn limits(&self, kind: HandlerKind, declared: &HandlerSettings) -> Limits {
        let host_timeout = match kind {
            HandlerKind::Function => self.config.function_timeout,
            HandlerKind::Job => self.config.job_timeout,
        };
        Limits {
            call: CallLimits {
                timeout: declared.timeout.unwrap_or(host_timeout),
                cpu_time: declared.cpu_time,
            },
            heap_bytes: declared
                .memory_bytes
                .unwrap_or(self.config.heap_limit_bytes),
            allow_net: declared.allow_net.clone(),
        }
    }

    /// Runs one call: finds its handler, resolves the secrets of the handler's namespace and
    /// the caller's settings secrets, runs the handler in a warm or new isolate under its
    /// limits, and records the execution however it ends.
    pub async fn execute(&self, call: Call) -> Result<Outcome> {
        let kind = call.kind();
        let Call {
            dir,
            name,
            input,
            user,
            id: execution_id,
            cancel,
        } = call;
        let handler = &handlers::find(&dir, kind, &name)?;
        let (invocation, run_id) = match input {
            CallInput::Http { request, sink } => (Invocation::Http { request, sink }, None),
            CallInput::Job {
                payload,
                run_id,
                progress,
            } => (Invocation::Job { payload, progress }, run_id),
        };
        let dir = dir.as_path();
        let execution_id = execution_id.as_str();
        let caller = user;
        let user = caller.as_ref().map(|u| &u.id);
        let run_id = run_id.as_deref();
        let wait = match handler.kind {
            HandlerKind::Function => Wait::Bounded,
            HandlerKind::Job => Wait::Unbounded,
        };
        let _slot = self.admission.enter(wait).await?;
        let stamp = handler.stamp();
        let declared = match self.handler_settings.settings(handler, stamp) {
            Ok(declared) => declared,
            Err(error) => {
                // A bad `@fluxbase:` line: the handler cannot load, and the record says why.
                let record = Record {
                    handler,
                    namespace: &self.config.default_namespace,
                    id: execution_id,
                    started_at: Timestamp::now(),
                    clock: Instant::now(),
                    logs: Vec::new(),
                    accessed: Vec::new(),
                };
                return Err(self.failed(record, ExecutionFailure::Boot(error.to_string())));
            }
        };
        let namespace = declared
            .namespace
            .clone()
            .unwrap_or_else(|| self.config.default_namespace.clone());
        let limits = self.limits(handler.kind, &declared);
        // One read of the store generation serves both caches.
        let generation = self.secrets.generation().await?;
        let resolved = self
            .secrets
            .resolve_at(namespace.as_str(), generation)
            .await?;
        let mut logs: Vec<LogLine> = resolved.notes.iter().map(|n| system_line(n)).collect();
        let settings = self.resolve_settings(user, generation).await?;
        if let Some(user) = user {
            logs.push(system_line(&format!("made for user {user}")));
        }
        let injection = self
            .injections
            .get(&namespace, &resolved, &self.host_secrets);
        let env = injection.env(
            handler.kind,
            &handler.name,
            &namespace,
            run_id.unwrap_or(execution_id),
        );
        let started_at = Timestamp::now();
        let clock = Instant::now();
        let record = |logs, accessed| Record {
            handler,
            namespace: &namespace,
            id: execution_id,
            started_at,
            clock,
            logs,
            accessed,
        };

        let key: WarmKey = (handler.kind, handler.name.clone(), namespace.clone());
        let fingerprint = Fingerprint::of(handler, stamp, &injection);
        let reused = match self.config.isolation {
            Isolation::PerFunction => self.warm.check_out(&key, &fingerprint, self.retirement()),
            Isolation::PerInvocation => None,
        };
        let warm = match reused {
            Some(warm) => warm,
            None => match self.boot(dir, handler, &injection, &env, &limits).await {
                Ok(isolate) => {
                    logs.extend(isolate.boot_report().logs.iter().map(store_line));
                    Warm {
                        isolate,
                        fingerprint,
                        executions: 0,
                        last_used: Instant::now(),
                    }
                }
                Err(BootFailure {
                    error,
                    logs: lines,
                    secrets_accessed,
                }) => {
                    // What the module's top level logged and read is kept for a failed boot too.
                    logs.extend(lines.iter().map(store_line));
                    let accessed = secrets_accessed.found.into_iter().collect();
                    let failure = failure(error, &limits, true);
                    return Err(self.failed(record(logs, accessed), failure));
                }
            },
        };
        let context = serde_json::json!({
            "user": caller.map(|u| serde_json::json!({ "id": u.id.as_str(), "claims": u.claims })),
            "namespace": namespace.as_str(),
            "executionId": execution_id,
            "runId": run_id,
        });
        let result = warm
            .isolate
            .invoke(IsolateCall {
                invocation,
                env: settings.with_env(env),
                settings: settings.isolate_settings(),
                context,
                limits: limits.call,
                cancel,
            })
            .await;
        // An exception leaves the isolate sound (its module state is the function's own
        // business), so it stays warm: retiring one costs a boot, which a caller could
        // otherwise trigger at will. A timeout or running out of memory ends the isolate, and
        // it is never reused.
        let sound = match &result.outcome {
            Ok(_) | Err(IsolateError::Handler(_)) => warm.isolate.is_alive(),
            Err(_) => false,
        };
        match (self.config.isolation, sound) {
            (Isolation::PerFunction, true) => self.warm.check_in(key, warm, self.retirement()),
            _ => retire(warm.isolate),
        }

        // What the call logged and read is kept however it ended.
        logs.extend(result.logs.iter().map(store_line));
        let accessed: Vec<String> = result.secrets_accessed.found.into_iter().collect();
        let expiring = resolved.expiry_warning(&accessed, Timestamp::now());
        logs.extend(expiring.as_deref().map(system_line));
        match result.outcome {
            Ok(output) => {
                self.records
                    .write(record(logs, accessed).finish("succeeded", None));
                Ok(Outcome {
                    execution_id: execution_id.to_owned(),
                    output,
                })
            }
            Err(error) => {
                let failure = failure(error, &limits, false);
                Err(self.failed(record(logs, accessed), failure))
            }
        }
    }

    /// The settings secrets of one execution: the system's, and `user`'s.
    async fn resolve_settings(
        &self,
        user: Option<&UserId>,
        generation: i64,
    ) -> Result<SettingsInjection> {
        let resolved = self.settings.resolve_at(user, generation).await?;
        Ok(SettingsInjection::new(resolved.as_ref()))
    }

    /// A new isolate for `handler`: a pre-booted one given the handler, or one booted now.
    async fn boot(
        &self,
        dir: &Path,
        handler: &Handler,
        injection: &Injection,
        env: &IsolateEnv,
        limits: &Limits,
    ) -> std::result::Result<Isolate, BootFailure> {
        let boot = BootOptions {
            max_heap_bytes: Some(limits.heap_bytes),
            ..boot_options(&self.config)
        };
        let config = IsolateConfig {
            root_dir: dir.to_path_buf(),
            main_module: std::path::absolute(&handler.path)
                .unwrap_or_else(|_| handler.path.clone()),
            secrets: injection.isolate_secrets(),
            env: env.clone(),
            boot,
            boot_timeout: limits.call.timeout,
            allow_net: limits.allow_net.clone(),
            modules: self.config.modules.clone(),
        };
        // Pre-booted isolates have the host's heap limit, fixed when they were created.
        let pooled = limits.heap_bytes == self.config.heap_limit_bytes;
        // Taken only when it fits: a blank isolate taken and dropped would be a boot thrown away.
        let blank = match pooled.then(|| self.preboot.take()).flatten() {
            Some(blank) => blank,
            None => BlankIsolate::boot(config.boot.clone())
                .await
                .map_err(BootFailure::from)?,
        };
        blank.load(config).await
    }

    /// Records a failed execution and returns the error that describes it.
    fn failed(&self, record: Record<'_>, failure: ExecutionFailure) -> Error {
        let error = Error::Execution {
            kind: record.handler.kind.as_str(),
            name: record.handler.name.clone(),
            execution_id: record.id.to_owned(),
            failure: failure.clone(),
        };
        self.records
            .write(record.finish(failure.status(), Some(failure.detail())));
        error
    }
}

/// What one execution may use: its call's limits, its isolate's heap, the hosts it may reach.
struct Limits {
    call: CallLimits,
    heap_bytes: usize,
    allow_net: Option<Vec<HostPattern>>,
}

/// What a failed execution is reported as. Messages come out of the isolate already redacted
/// (see `isolate::worker`): nothing is redacted here.
fn failure(error: IsolateError, limits: &Limits, booting: bool) -> ExecutionFailure {
    match error {
        IsolateError::Timeout(_) => ExecutionFailure::Timeout(limits.call.timeout),
        IsolateError::CpuLimit(limit) if limit.is_zero() => {
            ExecutionFailure::CpuTime(limits.call.cpu_time.unwrap_or_default())
        }
        IsolateError::CpuLimit(limit) => ExecutionFailure::CpuTime(limit),
        IsolateError::Cancelled => ExecutionFailure::Cancelled,
        IsolateError::HeapLimit => ExecutionFailure::OutOfMemory {
            limit_bytes: limits.heap_bytes,
        },
        IsolateError::Boot(message) => ExecutionFailure::Boot(message),
        IsolateError::Handler(message) if booting => ExecutionFailure::Boot(message),
        IsolateError::Handler(message) => ExecutionFailure::Exception(message),
        IsolateError::Gone => {
            ExecutionFailure::Exception("the isolate stopped unexpectedly".into())
        }
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
                .map(|name| {
                    if name.starts_with("FLUXBASE_") {
                        name // a settings secret, already named by its variable
                    } else {
                        format!("FLUXBASE_SECRET_{}", name.to_ascii_uppercase())
                    }
                })
                .collect(),
            error,
        }
    }
}

fn boot_options(config: &InvokerConfig) -> BootOptions {
    BootOptions {
        use_snapshot: config.use_snapshot,
        max_heap_bytes: Some(config.heap_limit_bytes),
        network: config.network,
    }
}

/// Ends a retired isolate. Dropping joins its thread, which may take a moment after a
/// termination, so it happens off the async workers.
fn retire(isolate: Isolate) {
    std::thread::spawn(move || drop(isolate));
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
