//! The performance table: invocation latency, HTTP throughput per isolation policy, isolate
//! memory and secret resolution, measured in one run and printed as one table.
//!
//! `cargo bench --bench invoke` (release build). With `DENO_BIN` pointing at a `deno` binary
//! (`tests/conformance/node_modules/.bin/deno` after `npm ci` there), it also runs the same
//! handler under `deno run` per invocation, the model fluxbase replaces, and prints the ratio.
//! With `WORKERD_BIN` pointing at Cloudflare's `workerd` (`benches/workerd/node_modules/.bin/workerd`
//! after `npm ci` there), the same handler is served by workerd under the same HTTP load, with
//! its CPU time per request beside fluxbase's.
//! `FLUXBASE_BENCH_QUICK=1` shortens every phase (for a smoke run);
//! `FLUXBASE_BENCH_ONLY=warm,http` runs only the named sections (`boot`, `cold`, `warm`,
//! `resolve`, `http`, `workerd`, `memory`, `deno`), for profiling one of them.
//!
//! Rows:
//! - isolate boot from the snapshot and without it, and loading a function into a pre-booted
//!   isolate (what a cold invocation pays while the pool is not drained);
//! - cold invocation: per-invocation policy, 20 secrets injected, `hello.ts` returning JSON,
//!   with the pre-booted pool given time to refill between calls, and with no pool;
//! - warm invocation: per-function policy, the same handler in its reused isolate;
//! - secret resolution for a namespace of 50 secrets, uncached (read + decrypt) and cached (the
//!   change mark read and found unchanged, then a map lookup; see `store::change_signal`);
//! - HTTP: the real `fluxbase serve` binary on loopback, 32 keep-alive connections on
//!   `/functions/v1/hello`, for each isolation policy: req/s, latency, server CPU per request,
//!   peak server RSS; and workerd serving the same handler under the same load;
//! - RSS growth per isolate booted and ended (300 of them, after 20 that size the allocator);
//! - RSS per live idle isolate, with 1,000 of them alive.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use comfy_table::Table;
use fluxbase::config::{Config, KeyPolicy};
use fluxbase::crypto::Keyring;
use fluxbase::invoke::{Call, Invoker, InvokerConfig, Isolation};
use fluxbase::isolate::{
    BlankIsolate, BootOptions, HttpRequest, Isolate, IsolateConfig, RequestBody,
};
use fluxbase::secrets::{
    Namespace, SecretName, SecretRef, SecretValue, SecretsService, SetRequest,
};
use fluxbase::settings::SettingsService;
use fluxbase::store::Store;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

/// Secrets injected into the benchmarked function.
const SECRETS: usize = 20;
/// Secrets of the namespace whose resolution is timed.
const RESOLVED_SECRETS: usize = 50;
/// Blank isolates the cold-invocation invoker keeps booted.
const PREBOOT: usize = 4;
/// Concurrent connections of the HTTP load.
const CONNECTIONS: usize = 32;

/// Whether the section `name` runs (see the module documentation).
fn section(name: &str) -> bool {
    match std::env::var("FLUXBASE_BENCH_ONLY") {
        Ok(only) => only.split(',').any(|s| s.trim() == name),
        Err(_) => true,
    }
}

fn quick() -> bool {
    std::env::var_os("FLUXBASE_BENCH_QUICK").is_some()
}

/// `full` normally, a tenth of it (at least 5) for a smoke run.
fn n(full: usize) -> usize {
    if quick() { (full / 10).max(5) } else { full }
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/functions")
}

fn request() -> HttpRequest {
    HttpRequest {
        method: "GET".into(),
        url: "http://localhost/functions/v1/hello?name=bench".into(),
        headers: Vec::new(),
        body: RequestBody::None,
        upgrade: None,
    }
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort_unstable();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index]
}

fn time(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{:.1} µs", d.as_secs_f64() * 1e6)
    } else {
        format!("{:.2} ms", d.as_secs_f64() * 1e3)
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.2} MiB", bytes as f64 / 1048576.0)
}

/// A `/proc/<pid>/status` field in bytes (`VmRSS`, `VmHWM`).
fn proc_status_bytes(pid: &str, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0)
        * 1024
}

/// CPU time (user + system) process `pid` has used so far. `/proc/<pid>/stat` counts in clock
/// ticks, 100 per second on Linux.
fn proc_cpu_time(pid: &str) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces), from field 3 on.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: u64 = fields
        .get(11..13)
        .map(|t| t.iter().filter_map(|v| v.parse::<u64>().ok()).sum())
        .unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// The table: one row per measure.
struct Report {
    table: Table,
}

impl Report {
    fn new() -> Self {
        let mut table = Table::new();
        table.set_header(["measure", "n", "p50", "p99", "other"]);
        Report { table }
    }

    fn latency(&mut self, name: &str, samples: &mut [Duration], other: String) {
        let count = samples.len().to_string();
        let p50 = time(percentile(samples, 0.5));
        let p99 = time(percentile(samples, 0.99));
        self.table
            .add_row(vec![name.to_owned(), count, p50, p99, other]);
        eprintln!("measured: {name}");
    }

    fn value(&mut self, name: &str, count: String, other: String) {
        self.table.add_row(vec![
            name.to_owned(),
            count,
            String::new(),
            String::new(),
            other,
        ]);
        eprintln!("measured: {name}");
    }
}

/// A data directory whose store holds `SECRETS` global secrets, and its secrets service.
async fn store_with_secrets() -> (
    tempfile::TempDir,
    SecretsService,
    Arc<SettingsService>,
    Store,
) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().join("data"),
        database_url: None,
        remote_url: None,
    };
    let store = config.open_store().await.unwrap();
    let (keyring, _) = config
        .load_keyring(&store, KeyPolicy::CreateIfMissing)
        .await
        .unwrap();
    let settings = SettingsService::new(store.clone(), Keyring::new(keyring.active().clone()))
        .await
        .unwrap();
    let secrets = SecretsService::new(store.clone(), keyring, "bench")
        .await
        .unwrap();
    for i in 0..SECRETS {
        set(&secrets, SecretRef::global(name(&format!("SECRET_{i}")))).await;
    }
    (dir, secrets, Arc::new(settings), store)
}

fn name(name: &str) -> SecretName {
    SecretName::parse(name).unwrap()
}

async fn set(secrets: &SecretsService, secret: SecretRef) {
    let request = SetRequest {
        secret,
        value: SecretValue::new(format!("value-{}", "x".repeat(40))).unwrap(),
        description: None,
        expires_at: None,
        if_version: None,
        must_exist: false,
        max_versions: None,
    };
    secrets.set(&request).await.unwrap();
}

async fn invocations(invoker: &Invoker, count: usize, refill: bool) -> Vec<Duration> {
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        if refill {
            // Cold calls are measured with the pre-booted pool full: no boot runs beside them.
            while invoker.preboot_pool().ready() < PREBOOT {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        let start = Instant::now();
        let outcome = invoker
            .execute(Call::function(&fixtures(), "hello", request()))
            .await
            .unwrap();
        samples.push(start.elapsed());
        assert_eq!(outcome.response().unwrap().status, 200);
    }
    invoker.flush_records().await;
    samples
}

async fn boots(use_snapshot: bool, count: usize) -> Vec<Duration> {
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let mut config = IsolateConfig::new(fixtures(), fixtures().join("hello.ts"));
        config.boot = BootOptions {
            use_snapshot,
            ..BootOptions::default()
        };
        let start = Instant::now();
        let isolate = Isolate::spawn(config).await.unwrap();
        samples.push(start.elapsed());
        drop(isolate);
    }
    samples
}

/// Time to give a pre-booted isolate its function (the boot itself is not timed).
async fn loads(count: usize) -> Vec<Duration> {
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let blank = BlankIsolate::boot(BootOptions::default()).await.unwrap();
        let config = IsolateConfig::new(fixtures(), fixtures().join("hello.ts"));
        let start = Instant::now();
        let isolate = blank.load(config).await.unwrap();
        samples.push(start.elapsed());
        drop(isolate);
    }
    samples
}

/// A running `fluxbase serve`, killed when dropped.
struct Server {
    child: Child,
    address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data_dir: &Path, isolation: Isolation) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fluxbase"))
        .args(["serve", "--listen", "127.0.0.1:0", "--functions-dir"])
        .arg(fixtures())
        .args(["--jobs-dir"])
        .arg(fixtures())
        .args([
            "--isolation",
            &isolation.to_string(),
            "--max-queued",
            "1024",
        ])
        .env("FLUXBASE_DATA_DIR", data_dir)
        .env("FLUXBASE_SERVICE_KEY", "bench-service-key-0123456789")
        .env("FLUXBASE_LOG", "warn,fluxbase=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start fluxbase serve");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_owned());
            }
        }
    });
    let address = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("server did not start");
    Server { child, address }
}

/// `workerd serve` on a free loopback port, with one worker whose module is `hello.ts`
/// transpiled to JavaScript (as fluxbase's loader does) and whose `fetch` calls its default
/// export, as fluxbase calls it.
fn serve_workerd(workerd: &Path, dir: &Path) -> Server {
    let source = std::fs::read_to_string(fixtures().join("hello.ts")).unwrap();
    let specifier =
        deno_core::ModuleSpecifier::from_file_path(fixtures().join("hello.ts")).unwrap();
    let hello = fluxbase::isolate::transpile_cache::transpile(
        &specifier,
        source,
        deno_ast::MediaType::TypeScript,
    )
    .unwrap();
    std::fs::write(dir.join("hello.js"), &hello.code).unwrap();
    std::fs::write(
        dir.join("worker.js"),
        "import handler from \"./hello.js\";\nexport default { fetch: (req) => handler(req) };\n",
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}");
    std::fs::write(
        dir.join("config.capnp"),
        format!(
            r#"using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "{address}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "hello.js", esModule = embed "hello.js"),
  ],
  compatibilityDate = "2024-09-23",
);
"#
        ),
    )
    .unwrap();
    let child = Command::new(workerd)
        .arg("serve")
        .arg(dir.join("config.capnp"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start workerd");
    let started = Instant::now();
    while std::net::TcpStream::connect(&address).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "workerd did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Server { child, address }
}

/// One keep-alive connection sending GETs until `stop`, returning each request's latency.
async fn connection(address: String, path: &str, stop: Arc<AtomicBool>) -> (Vec<Duration>, usize) {
    let stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (read, mut write) = stream.into_split();
    let mut read = tokio::io::BufReader::new(read);
    let request = format!("GET {path} HTTP/1.1\r\nhost: {address}\r\n\r\n");
    let mut samples = Vec::new();
    let mut errors = 0;
    let mut line = String::new();
    while !stop.load(Ordering::Relaxed) {
        let start = Instant::now();
        write.write_all(request.as_bytes()).await.unwrap();
        line.clear();
        read.read_line(&mut line).await.unwrap();
        let ok = line.starts_with("HTTP/1.1 200");
        let mut length = 0usize;
        loop {
            line.clear();
            read.read_line(&mut line).await.unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(value) = line
                .to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_owned())
            {
                length = value.parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        read.read_exact(&mut body).await.unwrap();
        samples.push(start.elapsed());
        if !ok {
            errors += 1;
        }
    }
    (samples, errors)
}

/// What one HTTP load run measured.
struct HttpLoad {
    rate: f64,
    samples: Vec<Duration>,
    errors: usize,
    peak_rss: u64,
    /// Server CPU time per request: steadier than req/s where the load generator shares the
    /// cores with the server.
    cpu_per_request: Duration,
}

/// Load on `/functions/v1/hello` with `CONNECTIONS` connections.
/// The note of an HTTP row: throughput, the server's CPU per request, errors and peak RSS.
fn load_note(load: &HttpLoad) -> String {
    format!(
        "{:.0} req/s, server CPU {}/req, {} errors, peak server RSS {}",
        load.rate,
        time(load.cpu_per_request),
        load.errors,
        mib(load.peak_rss)
    )
}

async fn http_load(server: &Server, seconds: u64) -> HttpLoad {
    let pid = server.child.id().to_string();
    let path = "/functions/v1/hello?name=bench";
    // Warm-up: every connection's first requests boot what they need.
    let stop = Arc::new(AtomicBool::new(false));
    let warm: Vec<_> = (0..CONNECTIONS)
        .map(|_| tokio::spawn(connection(server.address.clone(), path, stop.clone())))
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    for task in warm {
        task.await.unwrap();
    }

    let stop = Arc::new(AtomicBool::new(false));
    let cpu_before = proc_cpu_time(&pid);
    let started = Instant::now();
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| tokio::spawn(connection(server.address.clone(), path, stop.clone())))
        .collect();
    let mut peak = 0;
    while started.elapsed() < Duration::from_secs(seconds) {
        peak = peak.max(proc_status_bytes(&pid, "VmRSS"));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut samples = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (s, e) = task.await.unwrap();
        samples.extend(s);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = proc_cpu_time(&pid).saturating_sub(cpu_before);
    HttpLoad {
        rate: samples.len() as f64 / elapsed,
        cpu_per_request: cpu / samples.len().max(1) as u32,
        samples,
        errors,
        peak_rss: peak,
    }
}

/// The same handler under `deno run`, a process per invocation.
fn deno_runs(deno: &Path, count: usize) -> Vec<Duration> {
    let harness = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/harness.ts");
    let spec = serde_json::json!({
        "file": fixtures().join("hello.ts"),
        "method": "GET",
        "url": "http://localhost/functions/v1/hello?name=bench",
        "headers": [],
        "body": null,
    })
    .to_string();
    (0..count)
        .map(|_| {
            let start = Instant::now();
            let output = Command::new(deno)
                .args([
                    "run",
                    "--quiet",
                    "--no-config",
                    "--no-lock",
                    "--no-prompt",
                    "--allow-read",
                ])
                .arg(&harness)
                .arg(&spec)
                .env("DENO_NO_UPDATE_CHECK", "1")
                .output()
                .expect("run deno");
            assert!(output.status.success(), "deno run failed");
            start.elapsed()
        })
        .collect()
}

#[tokio::main]
async fn main() {
    let mut report = Report::new();

    let (snapshot, snapshot_info) = fluxbase::isolate::boot::snapshot_with_info();
    let snapshot_created = snapshot_info.created_in;

    if section("boot") {
        let mut without = boots(false, n(20)).await;
        report.latency(
            "isolate boot + hello.ts, no snapshot",
            &mut without,
            String::new(),
        );
        let mut with = boots(true, n(50)).await;
        report.latency(
            "isolate boot + hello.ts, from snapshot",
            &mut with,
            String::new(),
        );
        report.latency(
            "load hello.ts into a pre-booted isolate",
            &mut loads(n(50)).await,
            "what a cold call pays while the pool lasts".into(),
        );
    }

    // Invocations in process.
    let (dir, secrets, settings, store) = store_with_secrets().await;
    let secrets = Arc::new(secrets);
    let mut cold_p50 = None;
    if section("cold") || section("deno") {
        let cold = Invoker::new(
            secrets.clone(),
            settings.clone(),
            store.clone(),
            InvokerConfig {
                isolation: Isolation::PerInvocation,
                preboot: PREBOOT,
                ..InvokerConfig::default()
            },
        );
        cold.prepare();
        invocations(&cold, 5, true).await;
        let mut cold_samples = invocations(&cold, n(200), true).await;
        cold_p50 = Some(percentile(&mut cold_samples, 0.5));
        report.latency(
            "cold invocation, pre-booted pool (20 secrets)",
            &mut cold_samples,
            "per-invocation; target p50 <= 2 ms".into(),
        );
    }
    if section("cold") {
        let unpooled = Invoker::new(
            secrets.clone(),
            settings.clone(),
            store.clone(),
            InvokerConfig {
                isolation: Isolation::PerInvocation,
                ..InvokerConfig::default()
            },
        );
        report.latency(
            "cold invocation, no pool (20 secrets)",
            &mut invocations(&unpooled, n(50), false).await,
            "boot paid in the call".into(),
        );
    }
    if section("warm") {
        let warm = Invoker::new(
            secrets.clone(),
            settings.clone(),
            store.clone(),
            InvokerConfig::default(),
        );
        invocations(&warm, 100, false).await;
        report.latency(
            "warm invocation (20 secrets)",
            &mut invocations(&warm, n(5_000), false).await,
            "per-function; target p50 <= 100 µs".into(),
        );
    }

    if section("resolve") {
        let namespace = Namespace::parse("bench50").unwrap();
        for i in 0..RESOLVED_SECRETS - SECRETS {
            set(
                &secrets,
                SecretRef::in_namespace(namespace.clone(), name(&format!("NS_{i}"))),
            )
            .await;
        }
        let mut uncached = Vec::new();
        for _ in 0..n(200) {
            let start = Instant::now();
            let resolved = secrets.resolve_uncached(namespace.as_str()).await.unwrap();
            uncached.push(start.elapsed());
            assert_eq!(resolved.secrets.len(), RESOLVED_SECRETS);
        }
        report.latency(
            "secret resolution, 50 secrets, uncached",
            &mut uncached,
            "read + decrypt".into(),
        );
        secrets.resolve(namespace.as_str()).await.unwrap();
        let mut cached = Vec::new();
        for _ in 0..n(2_000) {
            let start = Instant::now();
            let resolved = secrets.resolve(namespace.as_str()).await.unwrap();
            cached.push(start.elapsed());
            assert_eq!(resolved.secrets.len(), RESOLVED_SECRETS);
        }
        report.latency(
            "secret resolution, 50 secrets, cached",
            &mut cached,
            "change mark unchanged + lookup; target <= 20 µs".into(),
        );
    }

    // HTTP, for each isolation policy, against the real server binary.
    let data_dir = dir.path().join("data");
    secrets.close().await;
    drop(secrets);
    let seconds = if quick() { 2 } else { 5 };
    for isolation in [Isolation::PerFunction, Isolation::PerInvocation] {
        if !section("http") {
            break;
        }
        let server = serve(&data_dir, isolation);
        let mut load = http_load(&server, seconds).await;
        let note = load_note(&load);
        report.latency(
            &format!("HTTP hello, {CONNECTIONS} connections, {isolation}"),
            &mut load.samples,
            note,
        );
    }

    // Cloudflare's workerd, serving the same handler under the same load.
    match (section("workerd"), std::env::var_os("WORKERD_BIN")) {
        (true, Some(workerd)) => {
            let workerd_dir = dir.path().join("workerd");
            std::fs::create_dir_all(&workerd_dir).unwrap();
            let server = serve_workerd(Path::new(&workerd), &workerd_dir);
            let mut load = http_load(&server, seconds).await;
            let note = load_note(&load);
            report.latency(
                &format!("HTTP hello, {CONNECTIONS} connections, workerd (same handler)"),
                &mut load.samples,
                note,
            );
        }
        (true, None) => report.value(
            "HTTP hello, workerd",
            "-".into(),
            "skipped: set WORKERD_BIN to a workerd binary".into(),
        ),
        _ => {}
    }

    if section("memory") {
        // Isolates booted and ended one after another: what each leaves behind. The first
        // ones grow the allocator's arenas to their working size, so they are not counted.
        let ended_count = n(300);
        boots(true, n(20)).await;
        let before = proc_status_bytes("self", "VmRSS");
        boots(true, ended_count).await;
        let per_ended =
            proc_status_bytes("self", "VmRSS").saturating_sub(before) as f64 / ended_count as f64;
        report.value(
            "RSS growth per ended isolate (boot, end)",
            ended_count.to_string(),
            format!("{} KiB", (per_ended / 1024.0).round()),
        );

        let live_count = n(1_000);
        let before = proc_status_bytes("self", "VmRSS");
        let mut live = Vec::with_capacity(live_count);
        for _ in 0..live_count {
            let config = IsolateConfig::new(fixtures(), fixtures().join("hello.ts"));
            live.push(Isolate::spawn(config).await.unwrap());
        }
        let per_live =
            proc_status_bytes("self", "VmRSS").saturating_sub(before) / live_count as u64;
        drop(live);
        report.value(
            "RSS per live idle isolate",
            live_count.to_string(),
            format!("{}; target <= 3 MiB", mib(per_live)),
        );
        report.value(
            "startup snapshot creation",
            "1".into(),
            format!("{}, {} KiB", time(snapshot_created), snapshot.len() / 1024),
        );
    }

    // The model fluxbase replaces: a `deno run` per invocation.
    match (section("deno"), std::env::var_os("DENO_BIN"), cold_p50) {
        (true, Some(deno), Some(cold_p50)) => {
            let mut runs = deno_runs(Path::new(&deno), n(20));
            let deno_p50 = percentile(&mut runs, 0.5);
            report.latency(
                "deno run per invocation (same handler)",
                &mut runs,
                format!(
                    "cold fluxbase is {:.0}x faster at p50",
                    deno_p50.as_secs_f64() / cold_p50.as_secs_f64()
                ),
            );
        }
        (true, None, _) => report.value(
            "deno run per invocation",
            "-".into(),
            "skipped: set DENO_BIN to a deno binary".into(),
        ),
        _ => {}
    }
    println!("{}", report.table);
}
