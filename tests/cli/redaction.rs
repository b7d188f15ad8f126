//! What leaves an isolate passes one redactor that knows every value the isolate was given:
//! a settings value inside a function secret does not cut it into findable pieces, overlapping
//! values leave nothing behind, values logged inside objects (escaped by the formatter) are
//! redacted, a late rejection carrying one user's value cannot reach the next user, stray
//! errors of timers and `reportError` are logged without failing the call running, error
//! messages are bounded, and failed or timed-out executions keep their console lines and the
//! names of the secrets they read. Each through a real server and a real isolate.

use crate::settings_support;
use crate::support;

use settings_support::{admin_put, server_env, token, user_put};
use support::Host;
use support::fixtures;
use support::server::{Answer, SERVICE_KEY, Server};

fn start(host: &Host, extra: &[&str]) -> Server {
    Server::start_with_env(host, extra, &server_env())
}

fn put_secret(server: &Server, name: &str, value: &str) {
    let body = serde_json::json!({ "name": name, "value": value }).to_string();
    let answer = server.request("POST", "/api/v1/admin/secrets", true, Some(&body));
    assert!(matches!(answer.status, 200 | 201), "{answer:#?}");
}

fn call(server: &Server, query: &str, token: Option<&str>) -> Answer {
    server.send(
        "GET",
        &format!("/functions/v1/leaky?{query}"),
        token,
        &[],
        None,
        false,
    )
}

/// The execution records of the `leaky` fixture, newest first.
fn records(server: &Server) -> Vec<serde_json::Value> {
    let answer = server.request(
        "GET",
        "/api/v1/admin/logs?category=execution&name=leaky&limit=100",
        true,
        None,
    );
    assert_eq!(answer.status, 200, "{answer:#?}");
    answer.json().as_array().cloned().unwrap_or_default()
}

/// The newest record of `leaky`.
fn last_record(server: &Server) -> serde_json::Value {
    records(server).into_iter().next().expect("a record")
}

/// The console lines of a record, one string.
fn console_of(record: &serde_json::Value) -> String {
    record["logs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|line| line["message"].as_str().unwrap_or_default().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

#[track_caller]
fn assert_hidden(what: &str, text: &str, pieces: &[&str]) {
    for piece in pieces {
        assert!(!text.contains(piece), "{what} shows {piece:?}: {text}");
    }
}

#[test]
fn a_settings_value_inside_a_function_secret_does_not_cut_it_open() {
    let host = Host::new();
    let server = start(&host, &[]);
    let url = "postgres://app:Hunter2Pass@db.internal:5432/prod";
    put_secret(&server, "DB_URL", url);
    let mallory = token("mallory");
    user_put(&server, &mallory, "ANY", ":");

    let answer = call(&server, "do=throw&name=DB_URL", Some(&mallory));
    assert_eq!(answer.status, 500, "{answer:#?}");
    assert!(
        answer.body.contains("cannot connect to [REDACTED]"),
        "{answer:#?}"
    );
    let pieces = ["Hunter2Pass", "db.internal", "//app", "5432/prod"];
    assert_hidden("the answer", &answer.body, &pieces);
    let record = last_record(&server);
    assert_hidden("the record", &record.to_string(), &pieces);
    assert_eq!(record["status"], "failed", "{record}");

    // A job's error read back through its run, made for the same user.
    let job = server.send(
        "POST",
        "/api/v1/jobs/leaky",
        Some(&mallory),
        &[],
        Some(br#"{"name": "DB_URL"}"#),
        true,
    );
    assert_eq!(job.status, 202, "{job:#?}");
    let id = job.json()["id"].as_str().unwrap().to_owned();
    let run = server.wait_for_run(&id, SERVICE_KEY);
    assert_eq!(run["status"], "failed", "{run}");
    assert!(
        run["error"]
            .as_str()
            .unwrap_or_default()
            .contains("cannot connect to [REDACTED]"),
        "{run}"
    );
    assert_hidden("the job run", &run.to_string(), &pieces);
    // The failed attempt is logged by the server (at its default level) with the error.
    let log = server.log_with("cannot connect to");
    assert_hidden("the server log", &log, &pieces);
}

#[test]
fn a_system_setting_inside_a_function_secret_is_not_cut_open_in_cli_output() {
    let host = Host::new();
    host.run(&["settings", "secrets", "set", "REGION", "eu"])
        .ok();
    host.run(&["secrets", "set", "STRIPE_KEY", "fake_eu123XYZ"])
        .ok();
    let dir = fixtures("functions").display().to_string();
    let run = host.run(&[
        "functions",
        "invoke",
        "leaky?do=throw&name=STRIPE_KEY",
        "--dir",
        &dir,
    ]);
    assert_ne!(run.code, 0, "{run:#?}");
    assert!(
        run.stderr.contains("cannot connect to [REDACTED]"),
        "{run:#?}"
    );
    let all = format!("{}{}", run.stdout, run.stderr);
    assert_hidden("the CLI", &all, &["fake_", "123XYZ"]);
    let logs = host.run(&["logs", "list", "-o", "json"]);
    assert_hidden("logs list", logs.ok(), &["fake_", "123XYZ"]);
}

#[test]
fn overlapping_values_leave_no_piece_behind() {
    let host = Host::new();
    let server = start(&host, &[]);
    put_secret(&server, "A", "Kx7Qm2Zp");
    admin_put(&server, "B", None, "m2Zp9Vw4");
    put_secret(&server, "JOINED", "Kx7Qm2Zp9Vw4");
    let answer = call(&server, "do=throw&name=JOINED", None);
    assert_eq!(answer.status, 500, "{answer:#?}");
    assert_hidden("the answer", &answer.body, &["9Vw4", "Kx7Q", "m2Zp"]);
    assert!(
        answer.body.contains("cannot connect to [REDACTED]"),
        "{answer:#?}"
    );
}

#[test]
fn values_logged_inside_objects_arrays_maps_and_tables_are_redacted() {
    let host = Host::new();
    let server = start(&host, &[]);
    let pem = "-----BEGIN TEST BLOCK-----\nFirstFakeLineOfAMultiLineValue0123456789abcdef\nSecondFakeLine/with+slashes=andSigns9876543210\n-----END TEST BLOCK-----";
    put_secret(&server, "PEM", pem);
    put_secret(&server, "QUOTED", r#"pa"ss\wo'rd`x"#);
    for (name, pieces) in [
        (
            "PEM",
            &["FirstFake", "SecondFake", "slashes", "MultiLine"][..],
        ),
        ("QUOTED", &["ss\\", "wo\\'", "ss\\\\", "rd`x"][..]),
    ] {
        let answer = call(&server, &format!("do=log-shapes&name={name}"), None);
        assert_eq!(answer.status, 200, "{answer:#?}");
        let record = last_record(&server);
        let console = console_of(&record);
        assert!(console.matches("[REDACTED]").count() >= 9, "{console}");
        assert_hidden(&format!("the console of {name}"), &console, pieces);
    }
}

#[test]
fn a_late_rejection_with_one_users_value_never_reaches_the_next_users_call() {
    let host = Host::new();
    let server = start(&host, &[]);
    let (alice, bob) = (token("alice"), token("bob"));
    let alice_value = "alice-private-value-0451";
    user_put(&server, &alice, "MINE", alice_value);
    user_put(&server, &bob, "MINE", "bob-value-9876");

    let answer = call(&server, "do=late-rejection&name=MINE", Some(&alice));
    assert_eq!(answer.status, 200, "{answer:#?}");
    // Bob's call runs in the same warm isolate while Alice's timer fires.
    let answer = call(&server, "do=wait", Some(&bob));
    assert_eq!(answer.status, 200, "bob's call failed: {answer:#?}");
    assert_eq!(answer.body, "waited");
    let record = last_record(&server);
    let console = console_of(&record);
    assert!(
        console.contains("Uncaught (in promise) Error: late failure with [REDACTED]"),
        "{record}"
    );
    assert_hidden("bob's record", &record.to_string(), &[alice_value]);
}

#[test]
fn stray_errors_are_logged_and_do_not_fail_the_call() {
    let host = Host::new();
    let server = start(&host, &[]);

    let answer = call(&server, "do=timer-throws", None);
    assert_eq!(answer.status, 200, "{answer:#?}");
    assert_eq!(answer.body, "survived the timer");
    let console = console_of(&last_record(&server));
    assert!(
        console.contains("Uncaught Error: thrown in a timer"),
        "{console}"
    );

    let answer = call(&server, "do=report-error", None);
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (200, "reported"),
        "{answer:#?}"
    );
    let console = console_of(&last_record(&server));
    assert!(
        console.contains("Uncaught Error: reported on purpose"),
        "{console}"
    );

    // A listener on the global scope sees the error and may cancel it.
    let answer = call(&server, "do=listen", None);
    assert_eq!(answer.status, 200, "{answer:#?}");
    assert_eq!(answer.body, "caught by a listener");
    let console = console_of(&last_record(&server));
    assert!(!console.contains("Uncaught"), "{console}");
}

#[test]
fn a_huge_error_message_is_bounded() {
    let host = Host::new();
    let server = start(&host, &[]);
    let answer = call(&server, "do=huge-error", None);
    assert_eq!(answer.status, 500);
    assert!(answer.body.len() < 64 * 1024, "{} bytes", answer.body.len());
    assert!(
        answer.body.contains("more bytes not kept"),
        "{}",
        &answer.body[..200]
    );
    let record = last_record(&server);
    assert!(record.to_string().len() < 64 * 1024);
}

#[test]
fn failed_and_timed_out_executions_keep_their_console_lines_and_secret_names() {
    let host = Host::new();
    let server = start(&host, &["--function-timeout", "1s"]);
    put_secret(&server, "LEAK", "the-leaky-value-31337");

    for (query, status, line) in [
        (
            "do=log-then-throw",
            "failed",
            "about to fail, value is [REDACTED]",
        ),
        (
            "do=log-then-spin",
            "timeout",
            "about to spin, value is [REDACTED]",
        ),
    ] {
        let answer = call(&server, query, None);
        assert!(answer.status >= 500, "{answer:#?}");
        let record = last_record(&server);
        assert_eq!(record["status"], status, "{record}");
        assert!(console_of(&record).contains(line), "{record}");
        assert_eq!(
            record["secrets_accessed"],
            serde_json::json!(["FLUXBASE_SECRET_LEAK"]),
            "{record}"
        );
        assert_hidden("the record", &record.to_string(), &["the-leaky-value"]);
    }
}

#[test]
fn boot_errors_and_job_results_pass_the_same_redactor() {
    let host = Host::new();
    let server = start(&host, &[]);
    let value = "boot-and-result-value-4242";
    put_secret(&server, "LEAK", value);

    let answer = server.send("GET", "/functions/v1/leaky_boot", None, &[], None, false);
    assert_eq!(answer.status, 500, "{answer:#?}");
    assert!(
        answer.body.contains("cannot start with [REDACTED]"),
        "{answer:#?}"
    );
    assert_hidden("the boot error", &answer.body, &[value]);
    let records = server.request(
        "GET",
        "/api/v1/admin/logs?category=execution&name=leaky_boot&limit=1",
        true,
        None,
    );
    let record = &records.json()[0];
    assert_eq!(record["status"], "failed", "{record}");
    assert!(
        console_of(record).contains("booting with [REDACTED]"),
        "{record}"
    );
    assert_eq!(
        record["secrets_accessed"],
        serde_json::json!(["FLUXBASE_SECRET_LEAK"]),
        "{record}"
    );
    assert_hidden("the boot record", &record.to_string(), &[value]);

    let job = server.request(
        "POST",
        "/api/v1/jobs/leaky_result",
        true,
        Some(r#"{"name": "LEAK"}"#),
    );
    assert_eq!(job.status, 202, "{job:#?}");
    let id = job.json()["id"].as_str().unwrap().to_owned();
    let run = server.wait_for_run(&id, SERVICE_KEY);
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["result"]["echoed"], "the value is [REDACTED]", "{run}");
    assert_eq!(run["result"]["[REDACTED]"], 1, "{run}");
    assert_eq!(run["result"]["list"][0], "[REDACTED]", "{run}");
    assert_eq!(run["result"]["count"], 2, "{run}");
    assert_hidden("the job run", &run.to_string(), &[value]);
}

/// Every way a string leaves an isolate, driven with one function secret that has a user's
/// settings value inside it: answers (thrown errors, boot errors, timeouts), console lines in
/// every shape, stray errors (a timer's throw, a late rejection, `reportError`), a job's error
/// and its result (values and keys). Afterwards nothing that left holds a piece of the secret:
/// not the answers, not the execution records and job runs the API shows, not the server's log,
/// and not the bytes the store keeps (the data directory's files, PostgreSQL's rows).
#[test]
fn every_exit_of_an_isolate_passes_the_one_redactor() {
    let host = Host::new();
    let server = start(&host, &["--function-timeout", "2s"]);
    let secret = "sk-every-exit:Kx7QpW2vTz:9f8e7d6c5b";
    put_secret(&server, "LEAK", secret);
    let user = token("erin");
    // Her settings value sits inside the function secret: a redactor that replaced it first
    // would cut the secret into findable pieces.
    user_put(&server, &user, "PART", "Kx7QpW2vTz");
    let pieces = [secret, "sk-every-exit", "9f8e7d6c5b", "Kx7QpW2vTz"];

    let mut answers = Vec::new();
    for exit in [
        "throw",
        "log-shapes",
        "log-then-throw",
        "log-then-spin",
        "late-rejection",
        "timer-throws",
        "report-error",
        "wait",
    ] {
        let answer = call(&server, &format!("do={exit}&name=LEAK"), Some(&user));
        answers.push((exit, answer.status, answer.body));
    }
    let boot = server.send("GET", "/functions/v1/leaky_boot", None, &[], None, false);
    assert_eq!(boot.status, 500, "{boot:#?}");
    answers.push(("boot", boot.status, boot.body));
    let statuses: Vec<(&str, u16)> = answers.iter().map(|(e, s, _)| (*e, *s)).collect();
    assert_eq!(
        statuses,
        [
            ("throw", 500),
            ("log-shapes", 200),
            ("log-then-throw", 500),
            ("log-then-spin", 504),
            ("late-rejection", 200),
            ("timer-throws", 200),
            ("report-error", 200),
            ("wait", 200),
            ("boot", 500),
        ]
    );

    let mut runs = Vec::new();
    for job in ["leaky", "leaky_result"] {
        let enqueued = server.send(
            "POST",
            &format!("/api/v1/jobs/{job}"),
            Some(&user),
            &[],
            Some(br#"{"name": "LEAK"}"#),
            true,
        );
        assert_eq!(enqueued.status, 202, "{enqueued:#?}");
        let id = enqueued.json()["id"].as_str().unwrap().to_owned();
        runs.push(server.wait_for_run(&id, SERVICE_KEY));
    }
    assert_eq!(runs[0]["status"], "failed", "{}", runs[0]);
    assert_eq!(runs[1]["status"], "succeeded", "{}", runs[1]);
    assert_eq!(runs[1]["result"]["list"][0], "[REDACTED]", "{}", runs[1]);

    let records = server.request(
        "GET",
        "/api/v1/admin/logs?category=execution&limit=100",
        true,
        None,
    );
    assert_eq!(records.status, 200, "{records:#?}");
    let records = records.json().as_array().cloned().unwrap_or_default();
    let console: String = records.iter().map(console_of).collect();
    // Each exit reached the record, redacted: the proof that the lines above were really
    // written and then cleaned, not dropped.
    for line in [
        "cannot connect to [REDACTED]",
        "about to fail, value is [REDACTED]",
        "about to spin, value is [REDACTED]",
        "late failure with [REDACTED]",
        "thrown in a timer",
        "reported on purpose",
        "booting with [REDACTED]",
    ] {
        let everything = format!("{console}{}", serde_json::Value::from(records.clone()));
        assert!(
            everything.contains(line),
            "{line:?} is in no record: {everything}"
        );
    }

    for (exit, _, body) in &answers {
        assert_hidden(&format!("the {exit} answer"), body, &pieces);
    }
    assert_hidden(
        "the records",
        &serde_json::Value::from(records).to_string(),
        &pieces,
    );
    for run in &runs {
        assert_hidden("the job run", &run.to_string(), &pieces);
    }
    let log = server.log_with("cannot connect to");
    assert_hidden("the server log", &log, &pieces);
    drop(server);
    for (place, bytes) in host.stored_bytes() {
        for piece in pieces {
            assert!(
                !support::contains_bytes(&bytes, piece.as_bytes()),
                "{piece:?} is stored in {place}"
            );
        }
    }
}
