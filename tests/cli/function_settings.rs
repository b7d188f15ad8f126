//! A function's own settings, from its `// @fluxbase:` lines, through a real `fluxbase serve`:
//! who may call it (401 without a credential unless it allows anyone), what its second argument
//! tells it (`ctx.user` with the token's claims, namespace, execution id), CORS (the host
//! answers preflights and adds the headers), a per-caller rate limit (429 with `Retry-After`),
//! the hosts its `fetch` may reach, its own timeout and heap, a CPU-time limit that ends a
//! computing isolate (546) and leaves a waiting one alone, work handed to `waitUntil` that goes
//! on after the response in the same execution record, and a bad line that names itself.

use std::time::{Duration, Instant};

use jsonwebtoken::Algorithm;

use crate::settings_support::{JWT_SECRET, now, server_env, sign, token};
use crate::support::Host;
use crate::support::server::{SERVICE_KEY, Server};

fn start(host: &Host) -> Server {
    Server::start_with_env(host, &[], &server_env())
}

fn get(server: &Server, path: &str, credential: Option<&str>) -> crate::support::server::Answer {
    server.send("GET", path, credential, &[], None, false)
}

/// The execution record of `id`, once the server has written it.
fn record(server: &Server, id: &str) -> serde_json::Value {
    let answer = server.request(
        "GET",
        &format!("/api/v1/admin/logs/executions/{id}"),
        true,
        None,
    );
    assert_eq!(answer.status, 200, "{answer:#?}");
    answer.json()
}

fn console(record: &serde_json::Value) -> Vec<String> {
    record["logs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|line| line["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn a_function_needs_a_caller_unless_it_allows_anyone_and_sees_who_called() {
    let host = Host::new();
    let server = start(&host);

    get(&server, "/functions/v1/guarded", None).error(401, "@fluxbase:allow-unauthenticated");
    // A bearer token of the function's own kind is no credential of the host's.
    get(&server, "/functions/v1/guarded", Some("sk_fn_own_api_key")).error(401, "user token");
    get(&server, "/functions/v1/guarded", Some("a.b.c")).error(401, "");

    let by_service = get(&server, "/functions/v1/guarded", Some(SERVICE_KEY));
    assert_eq!(by_service.status, 200, "{by_service:#?}");
    let seen = by_service.json();
    assert_eq!(seen["user"], serde_json::Value::Null);
    assert_eq!(seen["namespace"], "default");
    assert_eq!(
        seen["executionId"].as_str(),
        by_service.header("x-fluxbase-execution-id")
    );

    let admin = sign(
        Algorithm::HS256,
        JWT_SECRET,
        serde_json::json!({ "sub": "alice", "exp": now() + 600, "role": "admin" }),
    );
    let by_user = get(&server, "/functions/v1/guarded", Some(&admin));
    assert_eq!(by_user.status, 200, "{by_user:#?}");
    assert_eq!(by_user.json()["user"], "alice");
    assert_eq!(by_user.json()["role"], "admin");

    // An open function answers anyone.
    assert_eq!(get(&server, "/functions/v1/hello", None).status, 200);
}

#[test]
fn cors_preflights_are_answered_by_the_host_and_answers_carry_the_headers() {
    let host = Host::new();
    let server = start(&host);
    let preflight = server.send(
        "OPTIONS",
        "/functions/v1/cors",
        None,
        &[
            ("origin", "https://app.example.com"),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "content-type, x-trace"),
        ],
        None,
        false,
    );
    assert_eq!(preflight.status, 204, "{preflight:#?}");
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(
        preflight.header("access-control-allow-headers"),
        Some("authorization, content-type, x-trace")
    );
    assert!(
        preflight
            .header("access-control-allow-methods")
            .unwrap()
            .contains("POST")
    );
    assert_eq!(preflight.header("access-control-max-age"), Some("3600"));
    assert_eq!(
        preflight.header("x-fluxbase-execution-id"),
        None,
        "no execution"
    );

    let refused = server.send(
        "OPTIONS",
        "/functions/v1/cors",
        None,
        &[
            ("origin", "https://evil.example.com"),
            ("access-control-request-method", "POST"),
        ],
        None,
        false,
    );
    refused.error(403, "not allowed by this function's @fluxbase:cors-origins");

    let call = server.send(
        "POST",
        "/functions/v1/cors",
        None,
        &[("origin", "https://admin.example.com")],
        Some(b"{}"),
        true,
    );
    assert_eq!(call.status, 200, "{call:#?}");
    assert_eq!(call.json()["method"], "POST");
    assert_eq!(
        call.header("access-control-allow-origin"),
        Some("https://admin.example.com")
    );
    let other = server.send(
        "GET",
        "/functions/v1/cors",
        None,
        &[("origin", "https://evil.example.com")],
        None,
        false,
    );
    assert_eq!(other.status, 200);
    assert_eq!(other.header("access-control-allow-origin"), None);
}

#[test]
fn a_caller_over_the_rate_limit_gets_429_with_retry_after_and_others_do_not() {
    let host = Host::new();
    let server = start(&host);
    let alice = token("alice");
    for _ in 0..3 {
        assert_eq!(
            get(&server, "/functions/v1/limited", Some(&alice)).status,
            200
        );
    }
    let refused = get(&server, "/functions/v1/limited", Some(&alice));
    refused.error(429, "rate limit of 3 calls per 60 s");
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry), "{refused:#?}");
    // Another user, and the anonymous caller (by address), have their own allowance.
    assert_eq!(
        get(&server, "/functions/v1/limited", Some(&token("bob"))).status,
        200
    );
    assert_eq!(get(&server, "/functions/v1/limited", None).status, 200);
    // The service key is not counted.
    for _ in 0..5 {
        assert_eq!(
            get(&server, "/functions/v1/limited", Some(SERVICE_KEY)).status,
            200
        );
    }
}

#[test]
fn fetch_reaches_only_the_hosts_a_function_lists() {
    let host = Host::new();
    let server = Server::start_with_env(&host, &["--allow-private-network"], &server_env());
    let refused = get(
        &server,
        "/functions/v1/allow_net?url=http://127.0.0.1:8080/x",
        None,
    );
    assert_eq!(refused.status, 502, "{refused:#?}");
    assert!(
        refused.body.contains(
            "fetch refused: 127.0.0.1 is not in this function's @fluxbase:allow-net list \
             (api.stripe.com, *.sendgrid.com, localhost)"
        ),
        "{refused:#?}"
    );
    let wildcard = get(
        &server,
        "/functions/v1/allow_net?url=http://evil-sendgrid.com.invalid/",
        None,
    );
    assert!(
        wildcard.body.contains("not in this function's"),
        "{wildcard:#?}"
    );
    // A WebSocket meets the same list.
    let socket = get(
        &server,
        "/functions/v1/allow_net?ws=ws://evil.example.invalid/socket",
        None,
    );
    assert_eq!(socket.status, 502, "{socket:#?}");
    assert!(
        socket
            .body
            .contains("evil.example.invalid is not in this function's @fluxbase:allow-net list"),
        "{socket:#?}"
    );
    // A listed host passes the list (and the server allows private addresses): whatever
    // answers, or fails to, on that port, it is not the list that refuses it.
    let listed = get(
        &server,
        "/functions/v1/allow_net?url=http://localhost:65531/",
        None,
    );
    assert!(
        !listed.body.contains("not in this function's"),
        "{listed:#?}"
    );
}

#[test]
fn a_function_runs_under_its_own_timeout_heap_and_cpu_time() {
    let host = Host::new();
    let server = start(&host);

    let spin = get(&server, "/functions/v1/limits_time", None);
    spin.error(504, "timed out after 300ms");
    let grow = get(&server, "/functions/v1/limits_heap", None);
    grow.error(546, "heap limit 32 MiB");

    // The CPU-time limit ends the computing function; the sleeper next to it, waiting 400 ms
    // under the same 50 ms limit, is not affected while it runs at the same time.
    let sleeper = std::thread::scope(|scope| {
        let sleeper = scope.spawn(|| get(&server, "/functions/v1/sleeper", None));
        let started = Instant::now();
        let burner = get(&server, "/functions/v1/cpu_burner", None);
        burner.error(546, "used more than 50ms of CPU time");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "stopped by the CPU limit"
        );
        let id = burner.header("x-fluxbase-execution-id").map(str::to_owned);
        if let Some(id) = id {
            assert_eq!(record(&server, &id)["status"], "cpu_limit");
        }
        sleeper.join().unwrap()
    });
    assert_eq!(sleeper.status, 200, "{sleeper:#?}");
    assert_eq!(sleeper.body, "slept");
    let logs = server.request(
        "GET",
        "/api/v1/admin/logs?category=execution&name=cpu_burner",
        true,
        None,
    );
    assert_eq!(logs.json()[0]["status"], "cpu_limit", "{logs:#?}");
}

#[test]
fn wait_until_work_goes_on_after_the_response_in_the_same_record() {
    let host = Host::new();
    let server = start(&host);
    // A first call waits for the startup snapshot (seconds in a debug build, which transpiles
    // Node's polyfills into it): made first, it is not counted in the time measured below.
    assert_eq!(get(&server, "/functions/v1/hello", None).status, 200);
    let started = Instant::now();
    let answer = get(&server, "/functions/v1/background", None);
    let answered_in = started.elapsed();
    assert_eq!(answer.status, 200, "{answer:#?}");
    assert_eq!(answer.body, "answered");
    // The slowest background task takes 3 s: the answer came long before it ended.
    assert!(
        answered_in < Duration::from_millis(2_500),
        "answered after {answered_in:?}"
    );
    let id = answer.header("x-fluxbase-execution-id").unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(15);
    let record = loop {
        let record = server.request(
            "GET",
            &format!("/api/v1/admin/logs/executions/{id}"),
            true,
            None,
        );
        if record.status == 200 {
            break record.json();
        }
        assert!(Instant::now() < deadline, "no record: {record:#?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let lines = console(&record);
    assert_eq!(record["status"], "succeeded", "{record}");
    for expected in ["answering", "edge runtime done", "background done"] {
        assert!(
            lines.iter().any(|l| l == expected),
            "{expected:?} not in {lines:?}"
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Uncaught (in waitUntil) Error: background failed")),
        "{lines:?}"
    );
    assert!(record["duration_ms"].as_i64().unwrap() >= 3_000, "{record}");
}

#[test]
fn a_bad_annotation_fails_the_load_naming_its_line() {
    let host = Host::new();
    let server = start(&host);
    let answer = get(&server, "/functions/v1/bad_annotation", None);
    answer.error(
        500,
        "bad_annotation.ts:3: @fluxbase:timeout: \"soon\" is not a duration",
    );
    let logs = server.request(
        "GET",
        "/api/v1/admin/logs?category=execution&name=bad_annotation",
        true,
        None,
    );
    assert_eq!(logs.json()[0]["status"], "failed", "{logs:#?}");
}
