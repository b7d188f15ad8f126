//! Invocation latency and isolate memory, printed as one table.
//!
//! `cargo bench --bench invoke` (release build). Measures, on this machine:
//! - isolate boot, from the startup snapshot and without it;
//! - a cold invocation: fresh isolate, 20 secrets resolved from SQLite and injected, small TS
//!   handler returning JSON;
//! - a warm invocation of the same handler in a reused isolate;
//! - RSS per live idle isolate, and RSS left behind per created-and-dropped isolate.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use comfy_table::Table;
use fluxbase::config::Config;
use fluxbase::invoke::{Invoker, InvokerConfig};
use fluxbase::isolate::{BootOptions, HttpRequest, Isolate, IsolateConfig, RequestBody};
use fluxbase::secrets::{SecretName, SecretRef, SecretValue, SetRequest};

const SECRETS: usize = 20;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/functions")
}

fn request() -> HttpRequest {
    HttpRequest {
        method: "GET".into(),
        url: "http://localhost/functions/v1/hello?name=bench".into(),
        headers: Vec::new(),
        body: RequestBody::None,
    }
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort_unstable();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0)
        * 1024
}

async fn invoker(reuse: bool) -> (tempfile::TempDir, Invoker) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().join("data"),
        database_url: None,
        remote_url: None,
    };
    let (secrets, _) = config.open_secrets("bench").await.unwrap();
    for i in 0..SECRETS {
        let request = SetRequest {
            secret: SecretRef::global(SecretName::parse(&format!("SECRET_{i}")).unwrap()),
            value: SecretValue::new(format!("value-{i}-{}", "x".repeat(32))).unwrap(),
            description: None,
            expires_at: None,
            if_version: None,
            must_exist: false,
        };
        secrets.set(&request).await.unwrap();
    }
    let invoker = Invoker::new(
        Arc::new(secrets),
        InvokerConfig {
            reuse_isolates: reuse,
            ..InvokerConfig::default()
        },
    );
    (dir, invoker)
}

async fn invocations(invoker: &Invoker, n: usize) -> Vec<Duration> {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        let outcome = invoker
            .invoke_function(&fixtures(), "hello", request())
            .await
            .unwrap();
        assert_eq!(outcome.response.status, 200);
        samples.push(start.elapsed());
    }
    samples
}

async fn boots(use_snapshot: bool, n: usize) -> Vec<Duration> {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
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

#[tokio::main]
async fn main() {
    let mut table = Table::new();
    table.set_header(["measure", "n", "p50", "p99"]);
    let mut row = |name: &str, samples: &mut Vec<Duration>| {
        let n = samples.len().to_string();
        let p50 = ms(percentile(samples, 0.5));
        let p99 = ms(percentile(samples, 0.99));
        table.add_row(vec![name.to_owned(), n, p50, p99]);
    };

    let started = Instant::now();
    fluxbase::isolate::boot::startup_snapshot();
    let snapshot_created = started.elapsed();

    row(
        "isolate boot + hello.ts load, from snapshot",
        &mut boots(true, 50).await,
    );
    row(
        "isolate boot + hello.ts load, no snapshot",
        &mut boots(false, 20).await,
    );

    let (_cold_dir, cold) = invoker(false).await;
    invocations(&cold, 5).await;
    row(
        "cold invocation (fresh isolate, 20 secrets)",
        &mut invocations(&cold, 100).await,
    );

    let (_warm_dir, warm) = invoker(true).await;
    invocations(&warm, 100).await;
    row(
        "warm invocation (reused isolate, 20 secrets)",
        &mut invocations(&warm, 2_000).await,
    );
    println!("{table}");

    const LIVE: usize = 200;
    let before = rss_bytes();
    let mut live = Vec::with_capacity(LIVE);
    for _ in 0..LIVE {
        let config = IsolateConfig::new(fixtures(), fixtures().join("hello.ts"));
        live.push(Isolate::spawn(config).await.unwrap());
    }
    let per_live = (rss_bytes().saturating_sub(before)) / LIVE as u64;
    drop(live);

    const CHURN: usize = 200;
    boots(true, 20).await;
    let before = rss_bytes();
    boots(true, CHURN).await;
    let per_dropped = (rss_bytes().saturating_sub(before)) / CHURN as u64;

    let mut memory = Table::new();
    memory.set_header(["memory", "value"]);
    memory.add_row(vec![
        format!("RSS per live idle isolate ({LIVE} live)"),
        format!("{:.2} MiB", per_live as f64 / 1048576.0),
    ]);
    memory.add_row(vec![
        format!("RSS left per created+dropped isolate ({CHURN} cycles)"),
        format!("{:.2} MiB", per_dropped as f64 / 1048576.0),
    ]);
    memory.add_row(vec![
        "startup snapshot creation".to_owned(),
        ms(snapshot_created),
    ]);
    println!("{memory}");
}
