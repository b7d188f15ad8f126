//! A settings secret value never leaves the store in clear: not in any command's output or any
//! API answer (admin and user routes, refused requests included), not in a server log line at
//! the most verbose level, not in an execution record of a function that logs it or throws with
//! it, and not in any byte of the database or the data directory.

use crate::settings_support;
use crate::support;

use settings_support::{server_env, token};
use support::server::{Answer, SERVICE_KEY, Server};
use support::{Backend, Host, Run, contains_bytes, hex, sentinel};

#[test]
fn a_sentinel_settings_value_appears_in_no_output_no_answer_no_log_and_no_database_byte() {
    let system = sentinel();
    let user = format!("{}u", sentinel());
    let host = Host::new().with_env("FLUXBASE_LOG", "trace");

    // The CLI: set (argument and stdin), refused sets, reads in both formats.
    let settings = |args: &[&str]| {
        let mut all = vec!["settings", "secrets"];
        all.extend(args);
        host.run(&all)
    };
    let mut runs: Vec<Run> = vec![
        settings(&["set", "LEAK", &system, "--description", "d"]),
        host.run_with_stdin(
            &["settings", "secrets", "set", "LEAK", "-"],
            system.as_bytes(),
        ),
        settings(&["set", "LEAK", &user, "--user", "alice"]),
        settings(&["set", "bad-key", &system]),
        settings(&["set", "LEAK", &system, "--user", "not valid"]),
        settings(&["set", "FLUXBASE_LEAK", &user, "--user", "alice"]),
    ];
    for output in ["table", "json"] {
        for args in [
            &["list"][..],
            &["list", "--user", "alice"],
            &["get", "LEAK"],
            &["get", "LEAK", "--user", "alice"],
        ] {
            let mut args = args.to_vec();
            args.extend(["-o", output]);
            runs.push(settings(&args));
        }
        runs.push(host.run(&["logs", "list", "-o", output]));
    }

    // The server: admin and user routes, good and refused requests, functions and a job that
    // read the values (one logs them, one throws with them).
    let mut env = server_env();
    env.push(("FLUXBASE_LOG", "trace"));
    let server = Server::start_with_env(&host, &[], &env);
    let alice = token("alice");
    let bob = token("bob");
    let body = |value: &str| format!(r#"{{"value":"{value}","description":"x"}}"#);
    let send = |method: &str, path: &str, credential: Option<&str>, body: Option<String>| {
        server.send(
            method,
            path,
            credential,
            &[],
            body.as_deref().map(str::as_bytes),
            true,
        )
    };
    let mut answers: Vec<Answer> = vec![
        send(
            "PUT",
            "/api/v1/admin/settings/secrets/LEAK",
            Some(SERVICE_KEY),
            Some(body(&system)),
        ),
        send(
            "PUT",
            "/api/v1/admin/settings/secrets/LEAK?user=alice",
            Some(SERVICE_KEY),
            Some(body(&user)),
        ),
        send(
            "PUT",
            "/api/v1/settings/secrets/LEAK",
            Some(&alice),
            Some(body(&user)),
        ),
        send(
            "PUT",
            "/api/v1/settings/secrets/LEAK2",
            Some(&alice),
            Some(body(&user)),
        ),
        // Refused: bad key, extra field, wrong type, broken JSON, no token, bad token.
        send(
            "PUT",
            "/api/v1/settings/secrets/bad-key",
            Some(&alice),
            Some(body(&user)),
        ),
        send(
            "PUT",
            "/api/v1/settings/secrets/LEAK",
            Some(&alice),
            Some(format!(r#"{{"value":"{user}","x":1}}"#)),
        ),
        send(
            "PUT",
            "/api/v1/settings/secrets/LEAK",
            Some(&alice),
            Some(format!(r#"{{"value":["{user}"]}}"#)),
        ),
        send(
            "PUT",
            "/api/v1/settings/secrets/LEAK",
            Some(&alice),
            Some(format!(r#"{{"value":"{user}"#)),
        ),
        send(
            "PUT",
            "/api/v1/settings/secrets/LEAK",
            None,
            Some(body(&user)),
        ),
        send(
            "PUT",
            "/api/v1/settings/secrets/LEAK",
            Some("a.b.c"),
            Some(body(&user)),
        ),
        send(
            "PUT",
            "/api/v1/admin/settings/secrets/LEAK?user=a%20b",
            Some(SERVICE_KEY),
            Some(body(&user)),
        ),
        // Reads.
        send(
            "GET",
            "/api/v1/admin/settings/secrets",
            Some(SERVICE_KEY),
            None,
        ),
        send(
            "GET",
            "/api/v1/admin/settings/secrets?user=alice",
            Some(SERVICE_KEY),
            None,
        ),
        send(
            "GET",
            "/api/v1/admin/settings/secrets/LEAK",
            Some(SERVICE_KEY),
            None,
        ),
        send("GET", "/api/v1/settings/secrets", Some(&alice), None),
        send("GET", "/api/v1/settings/secrets/LEAK", Some(&alice), None),
        send("GET", "/api/v1/settings/secrets", Some(&bob), None),
        send("GET", "/api/v1/settings/secrets/LEAK", Some(&bob), None),
        // Functions reading, logging and throwing with the values.
        send("GET", "/functions/v1/settings_log", Some(&alice), None),
        send(
            "GET",
            "/functions/v1/settings_log?throw=1",
            Some(&alice),
            None,
        ),
        send("GET", "/functions/v1/settings_log", None, None),
        send(
            "GET",
            "/functions/v1/settings_log?throw=1",
            Some(&bob),
            None,
        ),
        send(
            "GET",
            "/functions/v1/settings_log?name=LEAK2&throw=1",
            Some(&alice),
            None,
        ),
    ];
    answers.push(send(
        "GET",
        "/api/v1/admin/logs?limit=1000",
        Some(SERVICE_KEY),
        None,
    ));
    answers.push(send(
        "DELETE",
        "/api/v1/settings/secrets/LEAK2",
        Some(&alice),
        None,
    ));
    answers.push(send(
        "DELETE",
        "/api/v1/admin/settings/secrets/LEAK",
        Some(SERVICE_KEY),
        None,
    ));

    // The functions did read the values (the logging one answered with the length only), and
    // the execution records hold them redacted.
    assert_eq!(answers[18].status, 200, "{:#?}", answers[18]);
    assert_eq!(answers[18].json()["length"], user.len());
    assert_eq!(answers[20].json()["length"], system.len());
    assert_eq!(answers[19].status, 500, "{:#?}", answers[19]);
    let executions = send(
        "GET",
        "/api/v1/admin/logs?category=execution&name=settings_log&limit=100",
        Some(SERVICE_KEY),
        None,
    );
    assert!(
        executions.body.contains("the value is [REDACTED]"),
        "{executions:#?}"
    );
    assert!(
        executions.body.contains("failing with [REDACTED]"),
        "{executions:#?}"
    );
    answers.push(executions);
    runs.push(host.run(&["logs", "list", "--limit", "1000", "-o", "json"]));
    runs.push(host.run(&["secrets", "rotate-key"]));

    let ok_runs = runs.iter().filter(|r| r.code == 0).count();
    assert!(ok_runs >= 12, "{ok_runs} commands succeeded");
    assert!(
        answers.iter().filter(|a| a.status < 300).count() >= 15,
        "{answers:#?}"
    );
    assert!(
        answers.iter().filter(|a| a.status >= 400).count() >= 8,
        "refused requests were made"
    );
    assert!(
        runs.iter()
            .any(|r| r.stderr.contains("TRACE") || r.stderr.contains("DEBUG")),
        "the most verbose logging was on"
    );
    for value in [&system, &user] {
        for run in &runs {
            assert!(
                !run.stdout.contains(value.as_str()),
                "value in stdout: {run:#?}"
            );
            assert!(
                !run.stderr.contains(value.as_str()),
                "value in stderr: {run:#?}"
            );
        }
        for answer in &answers {
            assert!(
                !answer.body.contains(value.as_str()),
                "value in a body: {answer:#?}"
            );
            for (name, header) in &answer.headers {
                assert!(!header.contains(value.as_str()), "value in header {name}");
            }
        }
    }
    let log = server.log.clone();
    server.terminate();
    let log = log.lock().unwrap().join("\n");
    assert!(
        log.contains("TRACE"),
        "the server logged at the most verbose level"
    );
    for value in [&system, &user] {
        assert!(!log.contains(value.as_str()), "value in the server log");
    }

    // Every file of the data directory, and on PostgreSQL every row of every table.
    let stored = host.stored_bytes();
    for (place, bytes) in &stored {
        for value in [&system, &user] {
            for needle in [value.clone(), hex(value.as_bytes())] {
                assert!(
                    !contains_bytes(bytes, needle.as_bytes()),
                    "value in clear in {place}"
                );
            }
        }
    }
    match host.backend() {
        Backend::Sqlite => assert!(stored.len() >= 2, "database and key file were checked"),
        Backend::Postgres => assert!(stored.len() >= 5, "every table was checked"),
    }
}
