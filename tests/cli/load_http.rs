//! Load and leak: 20,000 invocations of `/functions/v1/hello` over 64 keep-alive connections
//! to a real `fluxbase serve` with its default limits. Every answer is a 200 with the right
//! body (64 connections stay well inside the default queue of 256, so none may be refused
//! with a 503), and the server's resident memory after the run is within `RSS_GROWTH_BOUND` of
//! what it was after a warm-up.
//!
//! Measured on the 2-core CI machine, debug build (see the numbers in the test's output).

use crate::support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use support::Host;
use support::server::Server;

/// Invocations of the measured run.
const INVOCATIONS: usize = 20_000;
/// Connections sending them at once, each one request after the other.
const CONNECTIONS: usize = 64;
/// Invocations per connection in the warm-up.
const WARM_UP_PER_CONNECTION: usize = 20;
/// How much the server's RSS may grow from after the warm-up to after the run. Measured
/// growth is a few MiB (allocator arenas, the records writer's batches); a leak of one
/// request's worth of memory (a few KiB) per invocation would already pass this bound at
/// 20,000 invocations, and would make it fail.
const RSS_GROWTH_BOUND: u64 = 64 * 1024 * 1024;

const PATH: &str = "/functions/v1/hello?name=load";
const BODY: &str = r#"{"message":"hello, load","method":"GET","path":"/functions/v1/hello"}"#;

/// Sends `requests` GETs one after another on one keep-alive connection. Returns the latency
/// of each, and every answer that was not the expected 200 (status line and body).
fn connection(address: &str, requests: usize) -> (Vec<Duration>, Vec<String>) {
    let stream = TcpStream::connect(address).expect("connect");
    stream.set_nodelay(true).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let request = format!("GET {PATH} HTTP/1.1\r\nhost: {address}\r\n\r\n");
    let mut latencies = Vec::with_capacity(requests);
    let mut errors = Vec::new();
    let mut line = String::new();
    for _ in 0..requests {
        let started = Instant::now();
        writer.write_all(request.as_bytes()).expect("send");
        line.clear();
        reader.read_line(&mut line).expect("status line");
        let status = line.trim_end().to_owned();
        let mut length = None;
        loop {
            line.clear();
            reader.read_line(&mut line).expect("header");
            if line == "\r\n" || line.is_empty() {
                break;
            }
            let lower = line.to_ascii_lowercase();
            if let Some(value) = lower.strip_prefix("content-length:") {
                length = value.trim().parse::<usize>().ok();
            }
        }
        let length = length.unwrap_or_else(|| panic!("no content-length after {status:?}"));
        let mut body = vec![0; length];
        reader.read_exact(&mut body).expect("body");
        latencies.push(started.elapsed());
        if !status.starts_with("HTTP/1.1 200") || body != BODY.as_bytes() {
            errors.push(format!("{status}: {}", String::from_utf8_lossy(&body)));
        }
    }
    (latencies, errors)
}

/// Runs `total` invocations over `CONNECTIONS` connections; returns the latencies and errors.
fn load(address: &str, total: usize) -> (Vec<Duration>, Vec<String>) {
    let results = Mutex::new((Vec::new(), Vec::new()));
    std::thread::scope(|scope| {
        for c in 0..CONNECTIONS {
            let requests = total / CONNECTIONS + usize::from(c < total % CONNECTIONS);
            let results = &results;
            scope.spawn(move || {
                let (latencies, errors) = connection(address, requests);
                let mut results = results.lock().unwrap();
                results.0.extend(latencies);
                results.1.extend(errors);
            });
        }
    });
    results.into_inner().unwrap()
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

#[test]
fn twenty_thousand_invocations_over_64_connections_without_errors_or_leaks() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    let address = server.base.trim_start_matches("http://").to_owned();

    let (_, errors) = load(&address, CONNECTIONS * WARM_UP_PER_CONNECTION);
    assert!(
        errors.is_empty(),
        "warm-up: {:?}",
        &errors[..errors.len().min(5)]
    );
    std::thread::sleep(Duration::from_millis(500));
    let warm_rss = server.rss_bytes();

    // The highest RSS while the run goes on, sampled every 50 ms.
    let peak = AtomicU64::new(warm_rss);
    let done = AtomicBool::new(false);
    let started = Instant::now();
    let (mut latencies, errors) = std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(server.rss_bytes(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let result = load(&address, INVOCATIONS);
        done.store(true, Ordering::Relaxed);
        result
    });
    let elapsed = started.elapsed();
    std::thread::sleep(Duration::from_millis(500));
    let after_rss = server.rss_bytes();

    latencies.sort_unstable();
    let percentile = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
    eprintln!(
        "{INVOCATIONS} invocations over {CONNECTIONS} connections in {elapsed:.2?}: {:.0} req/s, \
         p50 {:.2?}, p99 {:.2?}, {} errors; server RSS after warm-up {:.1} MiB, peak {:.1} MiB, \
         after the run {:.1} MiB (bound: +{:.0} MiB)",
        INVOCATIONS as f64 / elapsed.as_secs_f64(),
        percentile(50),
        percentile(99),
        errors.len(),
        mib(warm_rss),
        mib(peak.load(Ordering::Relaxed)),
        mib(after_rss),
        mib(RSS_GROWTH_BOUND),
    );
    assert_eq!(latencies.len(), INVOCATIONS);
    assert!(
        errors.is_empty(),
        "{} of {INVOCATIONS} failed, e.g. {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
    assert!(
        after_rss <= warm_rss + RSS_GROWTH_BOUND,
        "RSS grew from {:.1} MiB to {:.1} MiB",
        mib(warm_rss),
        mib(after_rss)
    );

    // Every invocation was recorded: the log route flushes the records written behind.
    let flushed = server.request("GET", "/api/v1/admin/logs?limit=1", true, None);
    assert_eq!(flushed.status, 200, "{flushed:#?}");
    let recorded: i64 = support::block_on(async {
        let db = support::open_database(&host).await;
        let count = sqlx::query_scalar("SELECT COUNT(*) FROM executions WHERE name = 'hello'")
            .fetch_one(&db)
            .await
            .unwrap();
        db.close().await;
        count
    });
    assert_eq!(
        recorded as usize,
        INVOCATIONS + CONNECTIONS * WARM_UP_PER_CONNECTION
    );
}

/// Ended isolates give their memory back: 300 invocations under `--isolation per-invocation`
/// (each boots an isolate and ends it) leave the server's RSS within `RSS_GROWTH_BOUND` of where
/// it was after 20 (a leak of 1 MiB per ended isolate would exceed it fourfold); the growth
/// measured is in the test's output.
#[test]
fn ended_isolates_give_their_memory_back() {
    let host = Host::new();
    let server = Server::start(&host, &["--isolation", "per-invocation"]);
    let call = || {
        let answer = server.request("GET", "/functions/v1/hello", false, None);
        assert_eq!(answer.status, 200, "{answer:#?}");
    };
    for _ in 0..20 {
        call();
    }
    let before = server.rss_bytes();
    for _ in 0..300 {
        call();
    }
    let after = server.rss_bytes();
    eprintln!(
        "300 ended isolates: RSS {:.1} MiB -> {:.1} MiB",
        mib(before),
        mib(after)
    );
    assert!(
        after <= before + RSS_GROWTH_BOUND,
        "RSS grew from {:.1} MiB to {:.1} MiB",
        mib(before),
        mib(after)
    );
}
