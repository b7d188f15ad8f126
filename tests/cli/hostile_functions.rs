//! Hostile functions (`fixtures/functions/hostile_*.ts`) against a real `fluxbase serve`: each
//! attack ends with a clear error or an empty result, the host goes on serving `hello`, and no
//! secret crosses from one namespace (or function) to another.
//!
//! The hostile fixtures run in the namespace `hostile`, which holds one secret of its own
//! (`HOSTILE_TOKEN`). The victims' secrets live in `default` (`API_KEY`, read by `secrets.ts`)
//! and `billing` (`DB_URL` and `VICTIM_TOKEN`, read by `billing.ts`).

use crate::support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::Host;
use support::fixtures;
use support::server::{Answer, Server};

/// The function timeout of the test servers: short, so the timeout cases end soon.
const TIMEOUT: &str = "3s";

/// The victims' and the hostile namespace's secrets, with values no fixture contains.
struct Secrets {
    api_key: String,
    db_url: String,
    victim_token: String,
    hostile_token: String,
}

impl Secrets {
    fn victims(&self) -> [&str; 3] {
        [&self.api_key, &self.db_url, &self.victim_token]
    }
}

/// A host with the secrets above set.
fn host_with_secrets() -> (Host, Secrets) {
    let host = Host::new();
    let mark = support::sentinel();
    let secrets = Secrets {
        api_key: format!("apikey{mark}"),
        db_url: format!("dburl{mark}"),
        victim_token: format!("victim{mark}"),
        hostile_token: format!("hostile{mark}"),
    };
    for (name, value, namespace) in [
        ("API_KEY", &secrets.api_key, "default"),
        ("DB_URL", &secrets.db_url, "billing"),
        ("VICTIM_TOKEN", &secrets.victim_token, "billing"),
        ("HOSTILE_TOKEN", &secrets.hostile_token, "hostile"),
    ] {
        host.run(&["secrets", "set", name, value, "--namespace", namespace])
            .ok();
    }
    (host, secrets)
}

fn get(server: &Server, target: &str) -> Answer {
    server.request("GET", &format!("/functions/v1/{target}"), false, None)
}

/// The host still serves an ordinary function.
#[track_caller]
fn still_serves(server: &Server) {
    let answer = get(server, "hello?name=after");
    assert_eq!(answer.status, 200, "{answer:#?}");
    assert_eq!(answer.json()["message"], "hello, after");
}

/// Asserts that no victim's secret value shows in `text`.
#[track_caller]
fn no_victim_secret(secrets: &Secrets, text: &str) {
    for value in secrets.victims() {
        assert!(
            !text.contains(value),
            "a victim's secret leaked: {text:.2000}"
        );
    }
}

/// The execution records of the function `name`, newest first.
fn executions(server: &Server, name: &str) -> Vec<Value> {
    let answer = server.request(
        "GET",
        &format!("/api/v1/admin/logs?category=execution&name={name}&limit=100"),
        true,
        None,
    );
    assert_eq!(answer.status, 200, "{answer:#?}");
    answer.json().as_array().unwrap().clone()
}

#[test]
fn a_runaway_loop_and_a_memory_bomb_at_once_leave_the_host_serving() {
    let (host, _) = host_with_secrets();
    let server = Server::start(
        &host,
        &["--function-timeout", TIMEOUT, "--heap-limit-mb", "64"],
    );
    still_serves(&server);
    std::thread::scope(|scope| {
        let looping = scope.spawn(|| get(&server, "infinite_loop"));
        let bombs = scope.spawn(|| {
            (0..4)
                .map(|_| get(&server, "memory_bomb"))
                .collect::<Vec<_>>()
        });
        looping.join().unwrap().error(504, "timed out after 3s");
        for bomb in bombs.join().unwrap() {
            bomb.error(546, "ran out of memory (heap limit 64 MiB)");
        }
    });
    still_serves(&server);
}

#[test]
fn deep_recursion_ends_in_a_range_error_or_runs_without_the_native_stack() {
    let (host, _) = host_with_secrets();
    let server = Server::start(&host, &["--function-timeout", TIMEOUT]);
    for via in ["plain", "clone", "tostring", "proxy"] {
        get(&server, &format!("hostile_recursion?via={via}"))
            .error(500, "RangeError: Maximum call stack size exceeded");
        still_serves(&server);
    }
    // V8 serialises and parses JSON nested a million deep without recursing (as in Deno): the
    // handler runs to its end, and the host's stack is untouched either way.
    for via in ["json", "parse"] {
        let answer = get(&server, &format!("hostile_recursion?via={via}"));
        assert_eq!(answer.status, 200, "{answer:#?}");
        assert_eq!(answer.body, "the recursion ended?!");
        still_serves(&server);
    }
}

#[test]
fn a_50_mib_console_log_is_cut_and_its_record_stays_bounded() {
    let (host, secrets) = host_with_secrets();
    let server = Server::start(&host, &["--function-timeout", "60s"]);
    let answer = get(&server, "hostile_console?mib=50");
    assert_eq!(answer.status, 200, "{answer:#?}");
    assert_eq!(answer.json()["logged"], 50 * 1024 * 1024);
    still_serves(&server);

    let records = executions(&server, "hostile_console");
    let record = &records[0];
    let stored = record.to_string();
    // fluxbase_ops bounds: 16 KiB a line, 1 MiB an execution (plus the notes of what was cut).
    assert!(
        stored.len() < 1024 * 1024 + 64 * 1024,
        "record of {} bytes",
        stored.len()
    );
    let lines = record["logs"].as_array().unwrap();
    for line in lines {
        let message = line["message"].as_str().unwrap();
        assert!(
            message.len() <= 16 * 1024 + 64,
            "a line of {}",
            message.len()
        );
    }
    let first = lines[0]["message"].as_str().unwrap();
    assert!(first.starts_with("xxxxxxxx"), "{first:.100}");
    assert!(
        first.ends_with("[cut: 52428800 characters in all]"),
        "{:?}",
        &first[first.len() - 100..]
    );
    let last = lines.last().unwrap()["message"].as_str().unwrap();
    assert!(
        last.contains("more console line(s) dropped"),
        "the record says lines were dropped: {last}"
    );
    // The line with the secret straddling the cut keeps the text before it and nothing of it.
    let straddling = lines
        .iter()
        .map(|l| l["message"].as_str().unwrap())
        .find(|m| m.starts_with("yyyy"))
        .expect("the line with the secret");
    assert!(
        straddling.starts_with(&format!("{}\u{2026} [cut:", "y".repeat(15_990))),
        "{:?}",
        &straddling[15_980..]
    );
    let token = &secrets.hostile_token;
    assert!(
        !stored.contains(&token[..8]),
        "part of the function's own secret shows in its log"
    );
}

#[test]
fn a_50_mib_console_log_past_a_64_mib_heap_ends_the_isolate_not_the_host() {
    // The string and what formatting it takes do not fit in 64 MiB: the near-heap-limit
    // callback must terminate the script and leave V8 room to unwind (without room V8 aborts
    // the whole process).
    let (host, _) = host_with_secrets();
    let server = Server::start(
        &host,
        &["--function-timeout", "60s", "--heap-limit-mb", "64"],
    );
    for _ in 0..3 {
        get(&server, "hostile_console?mib=50").error(546, "ran out of memory (heap limit 64 MiB)");
        still_serves(&server);
    }
}

#[test]
fn a_buffer_larger_than_the_heap_limit_is_a_catchable_range_error() {
    let (host, _) = host_with_secrets();
    let server = Server::start(
        &host,
        &["--function-timeout", TIMEOUT, "--heap-limit-mb", "64"],
    );
    let caught = get(&server, "hostile_big_allocation?mib=100&catch=1");
    assert_eq!(caught.status, 200, "{caught:#?}");
    assert_eq!(
        caught.json()["caught"],
        "RangeError: Array buffer allocation failed"
    );
    // Uncaught, it is the function's error (500), not the heap limit's 546.
    get(&server, "hostile_big_allocation?mib=100")
        .error(500, "RangeError: Array buffer allocation failed");
    // The same isolate goes on serving, and buffers within the limit are allocated.
    let fits = get(&server, "hostile_big_allocation?mib=32&catch=1");
    assert_eq!(fits.status, 200, "{fits:#?}");
    assert_eq!(fits.json()["allocated"], 32 * 1024 * 1024);
    // After a refused buffer, filling the heap still ends in the heap limit, not an abort.
    get(&server, "memory_bomb").error(546, "ran out of memory (heap limit 64 MiB)");
    still_serves(&server);
}

#[test]
fn a_promise_that_never_settles_fails_at_once_or_times_out() {
    let (host, _) = host_with_secrets();
    let server = Server::start(&host, &["--function-timeout", TIMEOUT]);

    still_serves(&server);
    // A 500, not the 504 of the timeout: an empty event loop is seen at once.
    get(&server, "hostile_never_settles").error(500, "the handler's promise never settles");
    still_serves(&server);

    let started = Instant::now();
    get(&server, "hostile_never_settles?ticking=1").error(504, "timed out after 3s");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(10),
        "took {took:?}"
    );
    still_serves(&server);
}

#[test]
fn deno_env_holds_the_namespaces_secrets_and_identity_only() {
    let (host, secrets) = host_with_secrets();
    let server = Server::start_with_env(
        &host,
        &["--function-timeout", TIMEOUT],
        &[
            ("HOST_ONLY_VARIABLE", "host-only-value"),
            ("FLUXBASE_JWT_SECRET", "a-jwt-secret-of-at-least-32-bytes!!"),
        ],
    );
    let answer = get(&server, "hostile_env");
    assert_eq!(answer.status, 200, "{answer:#?}");
    let seen = answer.json();
    let env = seen["env"].as_object().unwrap();
    let names: Vec<&str> = env.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "FLUXBASE_EXECUTION_ID",
            "FLUXBASE_FUNCTION_NAME",
            "FLUXBASE_FUNCTION_NAMESPACE",
            "FLUXBASE_SECRET_HOSTILE_TOKEN",
        ]
    );
    assert_eq!(env["FLUXBASE_FUNCTION_NAMESPACE"], "hostile");
    assert_eq!(env["FLUXBASE_SECRET_HOSTILE_TOKEN"], *secrets.hostile_token);
    for (name, value) in seen["probed"].as_object().unwrap() {
        assert!(value.is_null(), "{name} reached the function: {value}");
    }
    no_victim_secret(&secrets, &answer.body);
    still_serves(&server);
}

#[test]
fn file_subprocess_ffi_and_module_escapes_all_fail() {
    let (host, _) = host_with_secrets();
    let server = Server::start(&host, &["--function-timeout", TIMEOUT]);
    let answer = get(&server, "hostile_escape");
    assert_eq!(answer.status, 200, "{answer:#?}");
    let report = answer.json();
    // `Deno` holds `env`, `serve` (which only records a handler), `upgradeWebSocket` (which
    // accepts the connection of the request being served), and what Node's polyfills read of
    // their host, each answering without the host's facts (pid 1, directory `/`) or refusing
    // (`exit`, `hostname`, ...): nothing that reaches out.
    assert_eq!(
        report["denoKeys"],
        serde_json::json!([
            "args",
            "build",
            "cpuUsage",
            "cwd",
            "env",
            "errors",
            "execPath",
            "exit",
            "gid",
            "hostname",
            "loadavg",
            "mainModule",
            "memoryUsage",
            "networkInterfaces",
            "noColor",
            "osRelease",
            "osUptime",
            "pid",
            "ppid",
            "serve",
            "systemMemoryInfo",
            "uid",
            "upgradeWebSocket",
            "version"
        ])
    );
    let outcomes = report["outcomes"].as_object().unwrap();
    assert!(outcomes.len() >= 20, "{report}");
    for (attempt, outcome) in outcomes {
        let outcome = outcome.as_str().unwrap();
        assert!(
            outcome == "undefined" || outcome.starts_with("error: "),
            "{attempt}: {outcome}"
        );
    }
    assert!(!Path::new("/tmp/fluxbase-escaped").exists());
    // Deno.env.set changed the isolate's copy only.
    assert!(std::env::var("PATH").is_ok_and(|path| path != "/pwned"));
    still_serves(&server);
}

#[test]
fn another_namespaces_secrets_are_out_of_reach_under_any_spelling() {
    let (host, secrets) = host_with_secrets();
    let server = Server::start(&host, &["--function-timeout", TIMEOUT]);
    for name in ["API_KEY", "DB_URL", "VICTIM_TOKEN"] {
        let answer = get(&server, &format!("hostile_other_namespace?name={name}"));
        assert_eq!(answer.status, 200, "{answer:#?}");
        let report = answer.json();
        for (spelling, value) in report["seen"].as_object().unwrap() {
            assert!(value.is_null(), "{spelling} gave {value}");
        }
        let variables: Vec<&String> = report["secretVariables"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(variables, ["FLUXBASE_SECRET_HOSTILE_TOKEN"]);
        no_victim_secret(&secrets, &answer.body);
    }
    // The victims still see their own.
    assert_eq!(
        get(&server, "secrets?name=API_KEY").json()["value"],
        *secrets.api_key
    );
    assert_eq!(get(&server, "billing").json()["dbUrl"], *secrets.db_url);
    still_serves(&server);
}

/// Copies fixture functions into `dir`, the tamperer with its namespace line set to `namespace`.
fn copy_functions(dir: &Path, tamperer_namespace: &str) {
    for name in ["hello", "secrets", "billing"] {
        std::fs::copy(
            fixtures("functions").join(format!("{name}.ts")),
            dir.join(format!("{name}.ts")),
        )
        .unwrap();
    }
    let source = std::fs::read_to_string(fixtures("functions").join("hostile_tamper.ts")).unwrap();
    let source = source.replace(
        "// @fluxbase:namespace hostile",
        &format!("// @fluxbase:namespace {tamperer_namespace}"),
    );
    std::fs::write(dir.join("hostile_tamper.ts"), source).unwrap();
}

#[test]
fn tampering_with_secrets_and_prototypes_stays_in_the_tampering_isolate() {
    let (host, secrets) = host_with_secrets();
    let functions = tempfile::tempdir().unwrap();
    copy_functions(functions.path(), "hostile");
    let server = Server::start_in(
        &host,
        functions.path(),
        &fixtures("jobs"),
        &["--function-timeout", TIMEOUT],
    );

    let answer = get(&server, "hostile_tamper");
    assert_eq!(answer.status, 200, "{answer:#?}");
    let report = answer.json();
    let found = &report["found"];
    assert_eq!(found["secretsFrozen"], true);
    assert_eq!(found["secretsProto"], true);
    assert_eq!(
        found["apiKey"],
        Value::Null,
        "API_KEY is default's, not hostile's"
    );
    assert_eq!(found["token"], *secrets.hostile_token);
    let outcomes = &report["outcomes"];
    for refused in [
        "secrets.get =",
        "defineProperty(secrets, get)",
        "prototype of secrets",
        "setPrototypeOf(secrets)",
        "globalThis.secrets =",
        "Deno.env =",
    ] {
        assert!(
            outcomes[refused].as_str().unwrap().starts_with("refused: "),
            "{refused}: {}",
            outcomes[refused]
        );
    }
    // What it could change (its own global binding, prototypes, JSON, Response, Deno.env) it
    // changed in its own isolate only.
    assert_eq!(outcomes["Object.prototype"], "done");
    no_victim_secret(&secrets, &answer.body);

    // The next invocations of other functions, in their namespaces and in none of the tampered
    // isolate, see their own secrets and intact built-ins.
    let seen = get(&server, "secrets?name=API_KEY");
    assert_eq!(seen.status, 200, "{seen:#?}");
    assert_eq!(seen.json()["value"], *secrets.api_key);
    assert_eq!(seen.json()["env"], *secrets.api_key);
    assert_eq!(get(&server, "billing").json()["dbUrl"], *secrets.db_url);
    still_serves(&server);

    // The same function in another namespace boots a fresh isolate: nothing of the tampering.
    copy_functions(functions.path(), "default");
    let answer = get(&server, "hostile_tamper");
    assert_eq!(answer.status, 200, "{answer:#?}");
    let found = &answer.json()["found"];
    assert_eq!(found["secretsFrozen"], true);
    assert_eq!(found["objectPolluted"], Value::Null);
    assert_eq!(found["arrayPolluted"], Value::Null);
    assert_eq!(found["jsonIntact"], true);
    assert_eq!(found["apiKey"], *secrets.api_key, "default's own secret");
    assert_eq!(
        found["token"],
        Value::Null,
        "hostile's secret stays in hostile"
    );
    assert_eq!(found["envToken"], Value::Null);
    still_serves(&server);
}
