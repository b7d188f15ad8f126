//! One isolate per OS thread: [`Isolate::spawn`] starts a thread with a current-thread tokio
//! runtime and one `JsRuntime`, puts the resolved secrets and the redactor in its op state,
//! loads the main module and serves invocations sent over a channel. The caller enforces the
//! wall-clock timeout; the heap limit is V8's plus a near-heap-limit callback, and a terminated
//! isolate is discarded. Console lines, errors and job results leave only through the redactor
//! (a function's HTTP response as it is); it never reads the store.

use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::Duration;
use std::time::Instant;

use deno_core::JsRuntime;
use deno_core::ModuleSpecifier;
use deno_core::PollEventLoopOptions;
use deno_core::v8;
use tokio::sync::mpsc;
use tokio::sync::oneshot;

use fluxbase_ops::body::ResponseSink;
use fluxbase_ops::progress::ProgressSink;
use fluxbase_ops::redact::Redactor;
use fluxbase_ops::settings::InvocationSettings;
use fluxbase_ops::state::AccessLog;
use fluxbase_ops::state::ConsoleSink;
use fluxbase_ops::state::HttpRequest;
use fluxbase_ops::state::HttpResponse;
use fluxbase_ops::state::IsolateEnv;
use fluxbase_ops::state::LogLine;
use fluxbase_ops::state::MAX_ERROR_BYTES;
use fluxbase_ops::state::ResolvedSecrets;
use fluxbase_ops::{InvocationOutcome, PendingInvocation};
use tokio_util::sync::CancellationToken;

use super::array_buffers::BufferBudget;
use super::boot::BootOptions;
use super::cpu_clock::ThreadCpuClock;
use super::loader::FsModuleLoader;
use crate::handlers::HostPattern;
use crate::modules::{FunctionModules, ModuleOptions};

/// Errors of booting an isolate or running an invocation.
#[derive(Debug, thiserror::Error)]
pub enum IsolateError {
    /// The runtime could not be created or the main module failed to load,
    /// parse or evaluate (message names file and line where known).
    #[error("boot failed: {0}")]
    Boot(String),
    /// The handler threw, rejected, or returned something invalid.
    #[error("handler failed: {0}")]
    Handler(String),
    /// The wall-clock limit was hit; the isolate was terminated.
    #[error("wall-clock limit of {0:?} exceeded; isolate terminated")]
    Timeout(Duration),
    /// The heap limit was hit; the isolate was terminated.
    #[error("heap limit exceeded; isolate terminated")]
    HeapLimit,
    /// The invocation used more CPU time than its limit; the isolate was terminated.
    #[error("CPU-time limit of {0:?} exceeded; isolate terminated")]
    CpuLimit(Duration),
    /// The invocation was cancelled; the isolate was terminated.
    #[error("cancelled; isolate terminated")]
    Cancelled,
    /// The isolate's thread is gone (terminated earlier, or panicked).
    #[error("isolate is no longer running")]
    Gone,
}

/// A boot that failed: why, and what the module's top level logged and read before it failed
/// (kept in the execution record like any call's).
#[derive(Debug)]
pub struct BootFailure {
    /// Why the boot failed (its message redacted).
    pub error: IsolateError,
    /// Console lines the module's top level wrote (redacted).
    pub logs: Vec<LogLine>,
    /// Secret names the module's top level looked up.
    pub secrets_accessed: AccessLog,
}

impl From<IsolateError> for BootFailure {
    fn from(error: IsolateError) -> Self {
        BootFailure {
            error,
            logs: Vec::new(),
            secrets_accessed: AccessLog::default(),
        }
    }
}

/// What to run in a new isolate.
#[derive(Clone, Debug)]
pub struct IsolateConfig {
    /// Directory the function's modules must live in.
    pub root_dir: PathBuf,
    /// Main module path (absolute, or relative to `root_dir`).
    pub main_module: PathBuf,
    /// Secrets visible through `secrets.get` (Debug shows names only).
    pub secrets: ResolvedSecrets,
    /// `Deno.env` while the module's top level runs.
    pub env: IsolateEnv,
    /// Snapshot / heap options.
    pub boot: BootOptions,
    /// Limit for booting (runtime creation + main module evaluation).
    pub boot_timeout: Duration,
    /// The only hosts `fetch` may reach (`None`: any the network access allows).
    pub allow_net: Option<Vec<HostPattern>>,
    /// How remote modules are loaded (the host's module cache and import rule).
    pub modules: ModuleOptions,
}

impl IsolateConfig {
    /// Config with defaults: snapshot boot, 128 MiB heap, 10 s boot limit,
    /// no secrets, empty env.
    pub fn new(root_dir: impl Into<PathBuf>, main_module: impl Into<PathBuf>) -> Self {
        Self {
            root_dir: root_dir.into(),
            main_module: main_module.into(),
            secrets: ResolvedSecrets::default(),
            env: IsolateEnv::default(),
            boot: BootOptions::default(),
            boot_timeout: Duration::from_secs(10),
            allow_net: None,
            modules: ModuleOptions::default(),
        }
    }
}

/// One call into the function.
#[derive(Debug)]
pub enum Invocation {
    /// Call `default(req: Request): Promise<Response>`. With a sink, the response streams to
    /// it (head first, then the body) and the result's response has an empty body; without
    /// one, the whole response is collected into the result.
    Http {
        /// The request.
        request: HttpRequest,
        /// Where the response streams to, if anywhere.
        sink: Option<ResponseSink>,
    },
    /// Call `default(payload, ctx): Promise<unknown>` with this JSON payload; `ctx.progress`
    /// reports go to `progress`.
    Job {
        /// The payload.
        payload: serde_json::Value,
        /// Where progress reports go, if anywhere.
        progress: Option<ProgressSink>,
    },
}

/// What an invocation produced.
#[derive(Clone, Debug)]
pub enum Output {
    /// The handler's Response.
    Http(HttpResponse),
    /// The JSON of what the job handler returned (`null` for `undefined`).
    Job(serde_json::Value),
}

/// What an invocation left behind, however it ended: its outcome, and the console lines and
/// secret lookups it made before it ended (kept for failed and timed-out calls too).
#[derive(Debug)]
pub struct InvocationResult {
    /// Response or job result, or why there is none.
    pub outcome: Result<Output, IsolateError>,
    /// Console lines written during the invocation (secrets redacted).
    pub logs: Vec<LogLine>,
    /// Secret names looked up during the invocation.
    pub secrets_accessed: AccessLog,
    /// Time spent inside the isolate thread.
    pub duration: Duration,
}

impl InvocationResult {
    /// The result of an invocation that ended before the isolate could say anything.
    fn failed(error: IsolateError) -> Self {
        InvocationResult {
            outcome: Err(error),
            logs: Vec::new(),
            secrets_accessed: AccessLog::default(),
            duration: Duration::ZERO,
        }
    }
}

/// Information about a finished boot.
#[derive(Clone, Debug)]
pub struct BootReport {
    /// Runtime creation (snapshot restore or full extension evaluation).
    pub runtime_created_in: Duration,
    /// Runtime creation + main module load and evaluation.
    pub total: Duration,
    /// Console output of the module's top level.
    pub logs: Vec<LogLine>,
}

/// One invocation as an isolate runs it: what to call and with what, under which limits.
#[derive(Debug)]
pub struct IsolateCall {
    /// The request or job payload.
    pub invocation: Invocation,
    /// `Deno.env` while it runs.
    pub env: IsolateEnv,
    /// Its settings secrets (its user's and the system's), seen by `secrets.get` until it ends.
    pub settings: InvocationSettings,
    /// The handler's second argument, `ctx` (user, namespace, execution id), as JSON.
    pub context: serde_json::Value,
    /// Its wall-clock and CPU-time limits.
    pub limits: CallLimits,
    /// Stops it when cancelled.
    pub cancel: CancellationToken,
}

enum Command {
    Invoke {
        call: IsolateCall,
        reply: oneshot::Sender<InvocationResult>,
        cancel: oneshot::Receiver<()>,
    },
}

/// The limits of one invocation.
#[derive(Debug, Clone, Copy)]
pub struct CallLimits {
    /// Wall-clock limit.
    pub timeout: Duration,
    /// CPU time the isolate's thread may use for it (`None`: no limit but the wall clock).
    pub cpu_time: Option<Duration>,
}

/// Flags shared between the owner and the isolate thread.
#[derive(Default)]
struct Flags {
    timed_out: AtomicBool,
    heap_exceeded: AtomicBool,
    /// Told when the heap limit terminated the script. A termination during a microtask
    /// checkpoint (code resumed after an op, such as a WebSocket's `onmessage`) does not end the
    /// event loop by itself: with a timer still pending, the call would wait for the wall clock.
    heap_hit: tokio::sync::Notify,
    cpu_exceeded: AtomicBool,
    cancelled: AtomicBool,
}

impl Flags {
    /// Whether a limit terminated the isolate.
    fn terminated(&self) -> bool {
        self.timed_out.load(Ordering::SeqCst)
            || self.heap_exceeded.load(Ordering::SeqCst)
            || self.cpu_exceeded.load(Ordering::SeqCst)
            || self.cancelled.load(Ordering::SeqCst)
    }
}

/// What the isolate thread reports once its runtime exists.
type Ready = Result<(v8::IsolateHandle, Duration, Option<ThreadCpuClock>), IsolateError>;

/// A live isolate on its own thread. Drop it to end the isolate and thread.
pub struct Isolate {
    tx: Option<mpsc::UnboundedSender<Command>>,
    handle: v8::IsolateHandle,
    cpu: Option<ThreadCpuClock>,
    flags: Arc<Flags>,
    thread: Option<JoinHandle<()>>,
    boot: BootReport,
}

impl std::fmt::Debug for Isolate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Isolate")
            .field("alive", &self.is_alive())
            .field("boot", &self.boot.total)
            .finish_non_exhaustive()
    }
}

/// A booted isolate that has no function yet: the web extensions and the bootstrap are ready
/// (restored from the startup snapshot), but no user code, secrets or environment. The
/// pre-booted pool keeps these so a cold invocation does not pay for the boot.
/// [`BlankIsolate::load`] turns one into an [`Isolate`]; dropping it ends its thread.
pub struct BlankIsolate {
    assign: Option<oneshot::Sender<Assignment>>,
    handle: v8::IsolateHandle,
    cpu: Option<ThreadCpuClock>,
    flags: Arc<Flags>,
    thread: Option<JoinHandle<()>>,
    runtime_created_in: Duration,
}

/// What a blank isolate's thread is given to become a function's isolate.
struct Assignment {
    config: IsolateConfig,
    boot: oneshot::Sender<Result<BootReport, BootFailure>>,
    commands: mpsc::UnboundedReceiver<Command>,
}

impl std::fmt::Debug for BlankIsolate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlankIsolate")
            .field("runtime_created_in", &self.runtime_created_in)
            .finish_non_exhaustive()
    }
}

impl BlankIsolate {
    /// Starts a thread and creates the runtime on it with these options.
    pub async fn boot(options: BootOptions) -> Result<BlankIsolate, IsolateError> {
        let (ready_tx, ready_rx) = oneshot::channel();
        let (assign_tx, assign_rx) = oneshot::channel();
        let flags = Arc::new(Flags::default());
        let thread_flags = flags.clone();
        let thread = std::thread::Builder::new()
            .name("fluxbase-isolate".into())
            .spawn(move || isolate_thread(options, thread_flags, ready_tx, assign_rx))
            .map_err(|e| IsolateError::Boot(format!("cannot spawn thread: {e}")))?;
        match ready_rx.await {
            Ok(Ok((handle, runtime_created_in, cpu))) => Ok(BlankIsolate {
                assign: Some(assign_tx),
                handle,
                cpu,
                flags,
                thread: Some(thread),
                runtime_created_in,
            }),
            Ok(Err(error)) => {
                let _ = thread.join();
                Err(error)
            }
            Err(_) => {
                let _ = thread.join();
                Err(IsolateError::Boot(
                    "isolate thread ended during boot".into(),
                ))
            }
        }
    }

    /// Gives the isolate its function: secrets, environment and main module, which is loaded
    /// and evaluated within `config.boot_timeout`. `config.boot` is not used: the options
    /// were fixed when the runtime was created.
    pub async fn load(mut self, config: IsolateConfig) -> Result<Isolate, BootFailure> {
        let (tx, commands) = mpsc::unbounded_channel();
        let (boot_tx, mut boot_rx) = oneshot::channel();
        let boot_timeout = config.boot_timeout;
        let assign = self.assign.take().expect("a blank isolate is loaded once");
        let thread = self.thread.take().expect("a blank isolate has a thread");
        if assign
            .send(Assignment {
                config,
                boot: boot_tx,
                commands,
            })
            .is_err()
        {
            let _ = thread.join();
            return Err(IsolateError::Boot("isolate thread ended before loading".into()).into());
        }
        let boot = match tokio::time::timeout(boot_timeout, &mut boot_rx).await {
            Ok(Ok(Ok(report))) => report,
            Ok(Ok(Err(e))) => {
                let _ = thread.join();
                return Err(e);
            }
            Ok(Err(_)) => {
                let _ = thread.join();
                return Err(IsolateError::Boot("isolate thread ended during boot".into()).into());
            }
            Err(_) => {
                self.flags.timed_out.store(true, Ordering::SeqCst);
                self.handle.terminate_execution();
                drop(tx);
                let _ = thread.join();
                // The stopped thread says what the top level logged and read before it ended.
                let mut failure = match boot_rx.try_recv() {
                    Ok(Err(failure)) => failure,
                    _ => BootFailure::from(IsolateError::Gone),
                };
                failure.error = IsolateError::Timeout(boot_timeout);
                return Err(failure);
            }
        };
        Ok(Isolate {
            tx: Some(tx),
            handle: self.handle.clone(),
            cpu: self.cpu,
            flags: self.flags.clone(),
            thread: Some(thread),
            boot,
        })
    }
}

impl Drop for BlankIsolate {
    fn drop(&mut self) {
        // Without an assignment the thread ends at once.
        self.assign.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Isolate {
    /// Starts the thread, boots the isolate and evaluates the main module.
    pub async fn spawn(config: IsolateConfig) -> Result<Isolate, IsolateError> {
        BlankIsolate::boot(config.boot.clone())
            .await?
            .load(config)
            .await
            .map_err(|failure| failure.error)
    }

    /// Boot timings and top-level console output.
    pub fn boot_report(&self) -> &BootReport {
        &self.boot
    }

    /// Whether the isolate thread is still serving invocations.
    pub fn is_alive(&self) -> bool {
        self.tx.as_ref().is_some_and(|tx| !tx.is_closed())
    }

    /// Runs one invocation under its limits. Its `env` replaces the isolate's `Deno.env` and
    /// its settings secrets are seen by `secrets.get` until it ends and no longer. When the
    /// wall clock or the CPU time runs out, the isolate is terminated and discarded.
    pub async fn invoke(&self, call: IsolateCall) -> InvocationResult {
        let limits = call.limits;
        let timeout = limits.timeout;
        let cancel = call.cancel.clone();
        let Some(tx) = self.tx.as_ref() else {
            return InvocationResult::failed(IsolateError::Gone);
        };
        let (reply_tx, mut reply_rx) = oneshot::channel();
        let (cancel_tx, cancel_rx) = oneshot::channel();
        let sent = tx.send(Command::Invoke {
            call,
            reply: reply_tx,
            cancel: cancel_rx,
        });
        if sent.is_err() {
            return InvocationResult::failed(IsolateError::Gone);
        }
        let cpu_limit = limits.cpu_time.zip(self.cpu);
        let (flag, error) = tokio::select! {
            reply = tokio::time::timeout(timeout, &mut reply_rx) => match reply {
                Ok(Ok(result)) => return result,
                Ok(Err(_)) => return InvocationResult::failed(IsolateError::Gone),
                Err(_) => (&self.flags.timed_out, IsolateError::Timeout(timeout)),
            },
            limit = cpu_exhausted(cpu_limit) => {
                (&self.flags.cpu_exceeded, IsolateError::CpuLimit(limit))
            }
            () = cancel.cancelled() => (&self.flags.cancelled, IsolateError::Cancelled),
        };
        // Busy JS (`while (true) {}`) only stops through termination; an isolate idling in the
        // event loop stops through the cancel signal.
        flag.store(true, Ordering::SeqCst);
        self.handle.terminate_execution();
        let _ = cancel_tx.send(());
        // Give the thread a moment to unwind: its answer carries what the call logged and read
        // before it was stopped.
        let late = tokio::time::timeout(Duration::from_secs(5), reply_rx).await;
        let mut result = match late {
            Ok(Ok(result)) => result,
            _ => InvocationResult::failed(IsolateError::Gone),
        };
        result.outcome = Err(error);
        result
    }
}

/// Resolves with the limit once the clock's thread has used more CPU time than it since this
/// was first polled; never without a limit (or a clock).
async fn cpu_exhausted(limit: Option<(Duration, ThreadCpuClock)>) -> Duration {
    let Some((limit, clock)) = limit else {
        return std::future::pending().await;
    };
    let Some(start) = clock.used() else {
        return std::future::pending().await;
    };
    // Checked a few times per limit, and at least every 10 ms: the overshoot is at most that.
    let every = (limit / 4).clamp(Duration::from_millis(1), Duration::from_millis(10));
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match clock.used() {
            Some(now) if now.saturating_sub(start) > limit => return limit,
            Some(_) => {}
            None => return std::future::pending().await,
        }
    }
}

impl Drop for Isolate {
    fn drop(&mut self) {
        // Closing the channel ends the serve loop; terminating covers an
        // invocation still running because its caller went away.
        self.tx.take();
        self.handle.terminate_execution();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn isolate_thread(
    options: BootOptions,
    flags: Arc<Flags>,
    ready: oneshot::Sender<Ready>,
    assign: oneshot::Receiver<Assignment>,
) {
    let tokio = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(IsolateError::Boot(format!("tokio: {e}"))));
            return;
        }
    };
    tokio.block_on(async move {
        let started = Instant::now();
        let loader = Rc::new(FsModuleLoader::unrooted());
        let (mut runtime, dispatch) = match create(&options, &flags, loader.clone()) {
            Ok(created) => created,
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        let runtime_created_in = started.elapsed();
        let handle = runtime.v8_isolate().thread_safe_handle();
        let cpu = ThreadCpuClock::of_current_thread();
        if ready.send(Ok((handle, runtime_created_in, cpu))).is_err() {
            return;
        }
        // A blank isolate dropped before it is given a function ends here.
        let Ok(Assignment {
            config,
            boot,
            commands,
        }) = assign.await
        else {
            return;
        };
        let loaded = Instant::now();
        let handler = match load_main(&mut runtime, &config, &loader).await {
            Ok(handler) => handler,
            Err(e) => {
                let error = classify(&flags, e, IsolateError::Boot);
                let state = runtime.op_state();
                let mut state = state.borrow_mut();
                let (logs, secrets_accessed) = take_trace(&mut state);
                let failure = BootFailure {
                    error: redacted(&state, error),
                    logs,
                    secrets_accessed,
                };
                let _ = boot.send(Err(failure));
                return;
            }
        };
        let report = BootReport {
            runtime_created_in,
            total: runtime_created_in + loaded.elapsed(),
            logs: drain_logs(&runtime),
        };
        if boot.send(Ok(report)).is_err() {
            return;
        }
        serve(runtime, dispatch, handler, flags, commands).await;
    });
}

/// Creates the runtime (from the snapshot), installs the heap-limit guard and takes the
/// dispatcher out of the global scope. No user code or secrets are involved yet.
fn create(
    options: &BootOptions,
    flags: &Arc<Flags>,
    loader: Rc<FsModuleLoader>,
) -> Result<(JsRuntime, v8::Global<v8::Function>), IsolateError> {
    let mut runtime = super::boot::new_runtime(options, Some(loader))
        .map_err(|e| IsolateError::Boot(e.to_string()))?;
    if options.max_heap_bytes.is_some() {
        let handle = runtime.v8_isolate().thread_safe_handle();
        let flags = flags.clone();
        let budget = runtime
            .op_state()
            .borrow()
            .try_borrow::<BufferBudget>()
            .cloned();
        let mut raises = 0;
        runtime.add_near_heap_limit_callback(move |current, _initial| {
            if budget.as_ref().is_some_and(BufferBudget::take_refusal) {
                // Called on the way to a `RangeError` for a refused array buffer, which the
                // script may catch: the heap is not what is full.
                return current;
            }
            flags.heap_exceeded.store(true, Ordering::SeqCst);
            flags.heap_hit.notify_one();
            handle.terminate_execution();
            raised_heap_limit(current, &mut raises)
        });
    }
    let dispatch = super::boot::take_dispatch_fn(&mut runtime).map_err(IsolateError::Boot)?;
    Ok((runtime, dispatch))
}

/// How much room the near-heap-limit callback gives beyond the current limit: as much as the
/// largest single object V8 allocates (a string of `String::kMaxLength` two-byte characters,
/// a `FixedArray` of its maximum length: 1 GiB each), so the allocation that reached the limit
/// succeeds and the terminated script can unwind. Without room V8 aborts the whole process
/// ("Fatal JavaScript out of memory"). The room is an allowance, not memory: a terminated
/// script stops at its next function call or loop iteration, and the isolate is discarded.
const HEAP_UNWIND_ROOM: usize = 1 << 30;

/// How many times one isolate's limit is raised. Each raise follows a termination request;
/// a script still allocating after this many is inside one native call that allocates more
/// than V8's largest objects several times over, and is left to V8's out-of-memory abort.
const MAX_HEAP_RAISES: u32 = 4;

/// The heap limit the near-heap-limit callback answers with, the `raises`-th time it is called
/// (counting from 0): `current` plus [`HEAP_UNWIND_ROOM`], up to [`MAX_HEAP_RAISES`] times.
fn raised_heap_limit(current: usize, raises: &mut u32) -> usize {
    if *raises >= MAX_HEAP_RAISES {
        return current;
    }
    *raises += 1;
    current.saturating_add(HEAP_UNWIND_ROOM)
}

async fn load_main(
    runtime: &mut JsRuntime,
    config: &IsolateConfig,
    loader: &FsModuleLoader,
) -> Result<v8::Global<v8::Value>, String> {
    let root = loader
        .set_root(&config.root_dir)
        .map_err(|e| format!("function directory: {e}"))?;
    // The directory's deno.json (import map, lock file) is read here, once per load.
    loader.set_modules(FunctionModules::open(&root, &config.modules)?);
    {
        let state = runtime.op_state();
        let mut state = state.borrow_mut();
        state.put(Redactor::new(config.secrets.values()));
        state.put(config.secrets.clone());
        state.put(AccessLog::default());
        state.put(config.env.clone());
        state.put(ConsoleSink::with_capacity_limit(10_000));
    }
    super::network::restrict_to(config.allow_net.clone());
    if let Some(npm_dir) = &config.modules.npm_dir {
        // The npm folder is made only when a package is installed; its parent, the data
        // directory, is named canonically when it exists, so that package files compare with it
        // (a one-shot command on PostgreSQL may have no data directory at all).
        let parent = npm_dir.parent().unwrap_or(npm_dir);
        let npm = std::fs::canonicalize(parent)
            .map(|parent| parent.join(npm_dir.file_name().unwrap_or_default()))
            .or_else(|_| std::path::absolute(npm_dir))
            .and_then(|npm_dir| {
                super::npm_modules::NpmModules::new(crate::npm::NpmPackages::for_dir(
                    &npm_dir,
                    &root,
                    config.modules.access,
                ))
            })
            .map_err(|e| format!("npm package store {}: {e}", npm_dir.display()))?;
        npm.install_require(&mut runtime.op_state().borrow_mut());
        loader.set_npm(Some(npm));
    }
    let path = if config.main_module.is_absolute() {
        config.main_module.clone()
    } else {
        root.join(&config.main_module)
    };
    let specifier = ModuleSpecifier::from_file_path(&path)
        .map_err(|_| format!("invalid main module path: {}", path.display()))?;
    let id = runtime
        .load_main_es_module(&specifier)
        .await
        .map_err(|e| e.to_string())?;
    let evaluation = runtime.mod_evaluate(id);
    runtime
        .with_event_loop_future(Box::pin(evaluation), PollEventLoopOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    let namespace = runtime
        .get_module_namespace(id)
        .map_err(|e| e.to_string())?;
    deno_core::scope!(scope, runtime);
    let namespace = v8::Local::new(scope, namespace);
    let handler = pick_handler(scope, namespace).ok_or_else(|| {
        format!(
            "{specifier} has no handler: use `Deno.serve(handler)`, `export default async \
             function handler(...)`, `export default {{ fetch(req) {{ ... }} }}`, or `export \
             async function handler(...)` (or `main`)"
        )
    })?;
    Ok(v8::Global::new(scope, handler))
}

/// The handler of a module, in order of preference: a default-exported function, a
/// default-exported object with a `fetch` method (the dispatcher calls `fetch` on it), a
/// function exported as `handler` or `main`, or the handler the module gave `Deno.serve`.
fn pick_handler<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    namespace: v8::Local<'s, v8::Object>,
) -> Option<v8::Local<'s, v8::Value>> {
    let export = |name: &str| {
        let key = v8::String::new(scope, name)?;
        namespace.get(scope, key.into())
    };
    let default = export("default").filter(|v| !v.is_undefined());
    let named = export("handler");
    if let Some(default) = default {
        if default.is_function() {
            return Some(default);
        }
        if let Ok(object) = v8::Local::<v8::Object>::try_from(default) {
            let key = v8::String::new(scope, "fetch")?;
            if object
                .get(scope, key.into())
                .is_some_and(|f| f.is_function())
            {
                return Some(default);
            }
        }
    }
    let named = named
        .filter(|v| v.is_function())
        .or_else(|| export("main").filter(|v| v.is_function()));
    named.or_else(|| served_handler(scope))
}

/// The handler the module's top level gave `Deno.serve`, taken from where `02_dispatch.js`
/// left it (the host opens no socket: calls come through the dispatcher).
fn served_handler<'s>(scope: &mut v8::PinScope<'s, '_>) -> Option<v8::Local<'s, v8::Value>> {
    let global = scope.get_current_context().global(scope);
    let name = v8::String::new(scope, "fluxbase.served")?;
    let key: v8::Local<v8::Value> = v8::Symbol::for_key(scope, name).into();
    let served = global.get(scope, key).filter(|v| !v.is_undefined())?;
    global.delete(scope, key);
    Some(served)
}

async fn serve(
    mut runtime: JsRuntime,
    dispatch: v8::Global<v8::Function>,
    handler: v8::Global<v8::Value>,
    flags: Arc<Flags>,
    mut rx: mpsc::UnboundedReceiver<Command>,
) {
    while let Some(Command::Invoke {
        call:
            IsolateCall {
                invocation,
                env,
                settings,
                context,
                limits: _,
                cancel: _,
            },
        reply,
        mut cancel,
    }) = rx.recv().await
    {
        let started = Instant::now();
        let context_json = context.to_string();
        let pending = match invocation {
            Invocation::Http { request, sink } => PendingInvocation::Http {
                request,
                sink,
                context_json,
            },
            Invocation::Job { payload, progress } => PendingInvocation::Job {
                payload_json: payload.to_string(),
                progress,
                context_json,
            },
        };
        {
            let state = runtime.op_state();
            let mut state = state.borrow_mut();
            state.put(pending);
            state.put(env);
            // The values stay known to the redactor after the call: a stray error of this
            // call may surface during a later one.
            state.borrow_mut::<Redactor>().learn(settings.values());
            // Taken out again by `end_invocation`: a warm isolate serves other users next.
            state.put(settings);
        }
        let call = runtime.call_with_args(&dispatch, std::slice::from_ref(&handler));
        let run = runtime.with_event_loop_promise(call, PollEventLoopOptions::default());
        let result = tokio::select! {
          r = run => r.map(|_| ()).map_err(handler_error_message),
          _ = &mut cancel => Err("cancelled".to_owned()),
          // Classified as the heap limit by its flag.
          () = flags.heap_hit.notified() => Err(String::new()),
        };
        // Whatever happened, the request body and the response sink go now: a streamed
        // response ends here.
        fluxbase_ops::end_invocation(&mut runtime.op_state().borrow_mut());
        let terminated = flags.terminated();
        let outcome = match result {
            Err(e) => Err(classify(&flags, e, IsolateError::Handler)),
            Ok(()) if terminated => Err(classify(&flags, String::new(), IsolateError::Handler)),
            Ok(()) => take_output(&runtime),
        };
        let _ = reply.send(finish(&runtime, outcome, started));
        if terminated {
            // A terminated isolate is not reused: end the thread and drop it.
            break;
        }
    }
}

/// What a handler's run that ended in `error` is reported as. A handler awaiting a promise
/// that nothing still running can settle leaves the event loop empty with its promise pending;
/// that is said in the author's terms rather than the engine's.
fn handler_error_message(error: deno_core::error::CoreError) -> String {
    if matches!(
        *error.0,
        deno_core::error::CoreErrorKind::PendingPromiseResolution
    ) {
        "the handler's promise never settles: nothing is left running that could settle it \
         (no timer, fetch or body read)"
            .to_owned()
    } else {
        error.to_string()
    }
}

/// Maps an error message to a limit error when a limit fired, otherwise to
/// `other` (boot or handler failure).
fn classify(flags: &Flags, message: String, other: fn(String) -> IsolateError) -> IsolateError {
    if flags.heap_exceeded.load(Ordering::SeqCst) {
        IsolateError::HeapLimit
    } else if flags.cancelled.load(Ordering::SeqCst) {
        IsolateError::Cancelled
    } else if flags.cpu_exceeded.load(Ordering::SeqCst) {
        // As for a timeout, the caller reports the configured limit.
        IsolateError::CpuLimit(Duration::ZERO)
    } else if flags.timed_out.load(Ordering::SeqCst) {
        // The caller knows the configured limit and reports it; this value is
        // only seen if the thread answers first.
        IsolateError::Timeout(Duration::ZERO)
    } else if message.is_empty() {
        other("unknown error".into())
    } else {
        other(message)
    }
}

fn drain_logs(runtime: &JsRuntime) -> Vec<LogLine> {
    let state = runtime.op_state();
    let mut state = state.borrow_mut();
    state.borrow_mut::<ConsoleSink>().take()
}

/// What the dispatcher handed back: the response or the job's result.
fn take_output(runtime: &JsRuntime) -> Result<Output, IsolateError> {
    let outcome = runtime
        .op_state()
        .borrow_mut()
        .try_take::<InvocationOutcome>()
        .unwrap_or_default();
    if let Some(response) = outcome.response {
        Ok(Output::Http(response))
    } else if let Some(json) = outcome.job_result_json {
        serde_json::from_str(&json)
            .map(Output::Job)
            .map_err(|e| IsolateError::Handler(format!("job result is not JSON: {e}")))
    } else {
        Err(IsolateError::Handler("handler produced no result".into()))
    }
}

/// What the code that just ran left in the op state: its console lines and the secret names it
/// looked up, taken so the next run starts empty.
fn take_trace(state: &mut deno_core::OpState) -> (Vec<LogLine>, AccessLog) {
    let logs = state
        .try_borrow_mut::<ConsoleSink>()
        .map(ConsoleSink::take)
        .unwrap_or_default();
    let accessed = state
        .try_borrow_mut::<AccessLog>()
        .map(std::mem::take)
        .unwrap_or_default();
    (logs, accessed)
}

/// An invocation's result with what it logged and read, its error message redacted and bounded.
fn finish(
    runtime: &JsRuntime,
    outcome: Result<Output, IsolateError>,
    started: Instant,
) -> InvocationResult {
    let state = runtime.op_state();
    let mut state = state.borrow_mut();
    let (logs, secrets_accessed) = take_trace(&mut state);
    let outcome = match outcome {
        Ok(Output::Job(result)) => Ok(Output::Job(redacted_json(&state, result))),
        Ok(output) => Ok(output),
        Err(error) => Err(redacted(&state, error)),
    };
    InvocationResult {
        outcome,
        logs,
        secrets_accessed,
        duration: started.elapsed(),
    }
}

/// A job's result with every string in it (keys too) passed through the isolate's redactor: the
/// result is stored and shown by the API, which never shows a secret value.
fn redacted_json(state: &deno_core::OpState, value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    let Some(redactor) = state.try_borrow::<Redactor>().filter(|r| !r.is_empty()) else {
        return value;
    };
    fn walk(redactor: &Redactor, value: Value) -> Value {
        match value {
            Value::String(text) => Value::String(redactor.redact(&text)),
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|v| walk(redactor, v)).collect())
            }
            Value::Object(fields) => Value::Object(
                fields
                    .into_iter()
                    .map(|(key, v)| (redactor.redact(&key), walk(redactor, v)))
                    .collect(),
            ),
            other => other,
        }
    }
    walk(redactor, value)
}

/// `error` with its message passed through the isolate's redactor and cut to
/// [`MAX_ERROR_BYTES`]: every error message that leaves an isolate goes through here.
fn redacted(state: &deno_core::OpState, error: IsolateError) -> IsolateError {
    let Some(redactor) = state.try_borrow::<Redactor>() else {
        return error;
    };
    let bound = |message: String| redactor.redact_bounded(&message, MAX_ERROR_BYTES);
    match error {
        IsolateError::Boot(message) => IsolateError::Boot(bound(message)),
        IsolateError::Handler(message) => IsolateError::Handler(bound(message)),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_heap_limit_is_raised_by_the_unwind_room_a_bounded_number_of_times() {
        let mut raises = 0;
        let mut limit = 64 << 20;
        for _ in 0..MAX_HEAP_RAISES {
            let raised = raised_heap_limit(limit, &mut raises);
            assert_eq!(raised, limit + HEAP_UNWIND_ROOM);
            limit = raised;
        }
        assert_eq!(
            raised_heap_limit(limit, &mut raises),
            limit,
            "no raise left"
        );
    }
}
