//! Seeing what is about to expire: `secrets list --expiring`, `secrets stats` (and its route),
//! and the warning line in the execution log of a call that reads a secret expiring soon.

use std::time::Duration;

use crate::support;

use support::server::{SERVICE_KEY, Server};
use support::{Host, fixtures};

/// One way of running the CLI: locally or with `--url`.
type Runner<'a> = &'a dyn Fn(&[&str]) -> support::Run;

fn names(listing: &serde_json::Value) -> Vec<String> {
    listing
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect()
}

/// SOON expires in 3 days, LATER in 30, NEVER does not, GONE has expired, DELETED is deleted.
fn five_secrets(host: &Host) {
    host.run(&["secrets", "set", "SOON", "soon-value", "--expires", "3d"])
        .ok();
    host.run(&["secrets", "set", "LATER", "later-value", "--expires", "30d"])
        .ok();
    host.run(&["secrets", "set", "NEVER", "never-value"]).ok();
    host.run(&["secrets", "set", "GONE", "gone-value", "--expires", "1ms"])
        .ok();
    host.run(&["secrets", "set", "DELETED", "x", "--expires", "2d"])
        .ok();
    host.run(&["secrets", "delete", "DELETED"]).ok();
    std::thread::sleep(Duration::from_millis(10));
}

#[test]
fn list_expiring_and_stats_locally_remotely_and_over_the_api() {
    let host = Host::new();
    five_secrets(&host);
    let server = Server::start(&host, &[]);
    let remote = |args: &[&str]| {
        host.run_with_env(
            args,
            &[
                ("FLUXBASE_URL", &server.base),
                ("FLUXBASE_SERVICE_KEY", SERVICE_KEY),
            ],
        )
    };
    let local = |args: &[&str]| host.run(args);
    let runs: [Runner; 2] = [&local, &remote];
    for run in runs {
        let week = run(&["secrets", "list", "--expiring", "7d", "-o", "json"]).json();
        assert_eq!(
            names(&week),
            ["GONE", "SOON"],
            "expired ones are listed too"
        );
        let two_months = run(&["secrets", "list", "--expiring", "60d", "-o", "json"]).json();
        assert_eq!(names(&two_months), ["GONE", "LATER", "SOON"]);
        run(&["secrets", "list", "--expiring", "soon"])
            .fails_with("invalid expiring window \"soon\": use a duration such as 7d");

        let stats = run(&["secrets", "stats", "-o", "json"]).json();
        assert_eq!(
            stats,
            serde_json::json!({
                "total": 4, "expiring_soon": 1, "expired": 1, "deleted": 1, "window_days": 7
            })
        );
        let table = run(&["secrets", "stats"]);
        assert!(table.ok().contains("expiring within 7 days"), "{table:#?}");
    }
    let api = server.request("GET", "/api/v1/admin/secret-stats", true, None);
    assert_eq!(api.json()["expiring_soon"], 1);
    server
        .request("GET", "/api/v1/admin/secret-stats", false, None)
        .error(401, "missing service key");
    let listed = server.request(
        "GET",
        "/api/v1/admin/secrets?expiring_within=7d",
        true,
        None,
    );
    assert_eq!(names(&listed.json()), ["GONE", "SOON"]);
    server
        .request(
            "GET",
            "/api/v1/admin/secrets?expiring_within=later",
            true,
            None,
        )
        .error(400, "invalid expiring window");
}

/// The system lines of the newest execution of `name`.
fn system_lines(host: &Host, name: &str) -> Vec<String> {
    let listed = host
        .run(&["logs", "list", "--name", name, "-o", "json"])
        .json();
    let id = listed[0]["id"].as_str().unwrap().to_owned();
    let record = host.run(&["logs", "show", &id, "-o", "json"]).json();
    record["logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["level"] == "system")
        .map(|l| l["message"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_call_that_reads_a_secret_expiring_within_7_days_logs_one_warning() {
    let host = Host::new();
    host.run(&[
        "secrets",
        "set",
        "API_KEY",
        "expiring-value-9",
        "--expires",
        "3d",
    ])
    .ok();
    host.run(&["secrets", "set", "CALM", "calm-value", "--expires", "30d"])
        .ok();
    let dir = fixtures("functions").display().to_string();

    let read = host.run(&["functions", "invoke", "secrets?name=API_KEY", "--dir", &dir]);
    read.ok();
    let lines = system_lines(&host, "secrets");
    let warnings: Vec<&String> = lines.iter().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(warnings.len(), 1, "{lines:?}");
    assert!(
        warnings[0].starts_with(
            "warning: secret(s) read by this call expire within 7 days: API_KEY (global) at "
        ),
        "{warnings:?}"
    );
    assert!(!warnings[0].contains("expiring-value-9"));

    // A call that reads only a secret expiring later, or none, logs no warning.
    host.run(&["functions", "invoke", "secrets?name=CALM", "--dir", &dir])
        .ok();
    let lines = system_lines(&host, "secrets");
    assert!(
        lines.iter().all(|l| !l.starts_with("warning:")),
        "{lines:?}"
    );
    host.run(&["functions", "invoke", "hello", "--dir", &dir])
        .ok();
    let lines = system_lines(&host, "hello");
    assert!(
        lines.iter().all(|l| !l.starts_with("warning:")),
        "{lines:?}"
    );
}
