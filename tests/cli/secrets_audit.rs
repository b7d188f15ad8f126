//! The audit trail's time window (`logs list --since/--until`, `?since=&until=`) and the client
//! address of changes made through the API.

use std::time::Duration;

use crate::support;

use support::server::{SERVICE_KEY, Server};
use support::{Host, Run};

/// One way of running the CLI: locally or with `--url`.
type Runner<'a> = &'a dyn Fn(&[&str]) -> Run;

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn audited_names(run: &Run) -> Vec<String> {
    run.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn since_and_until_bound_the_audit_log_locally_remotely_and_over_the_api() {
    let host = Host::new();
    host.run(&["secrets", "set", "BEFORE", "b"]).ok();
    std::thread::sleep(Duration::from_millis(50));
    let middle = now_rfc3339();
    std::thread::sleep(Duration::from_millis(50));
    host.run(&["secrets", "set", "AFTER", "a"]).ok();
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
    let audit = ["logs", "list", "--category", "audit", "-o", "json"];
    for run in runs {
        let since = run(&[&audit[..], &["--since", &middle]].concat());
        assert_eq!(audited_names(&since), ["AFTER"]);
        let until = run(&[&audit[..], &["--until", &middle]].concat());
        assert_eq!(audited_names(&until), ["BEFORE"]);
        let hour = run(&[&audit[..], &["--since", "1h"]].concat());
        assert_eq!(audited_names(&hour), ["AFTER", "BEFORE"]);
        let window = run(&[&audit[..], &["--since", "1h", "--until", "1h"]].concat());
        assert!(audited_names(&window).is_empty());
        run(&[&audit[..], &["--since", "yesterday-ish"]].concat())
            .fails_with("invalid time \"yesterday-ish\": use an RFC 3339 time");
    }
    let encoded = middle.replace(':', "%3A");
    let api = server.request(
        "GET",
        &format!("/api/v1/admin/logs?category=audit&since={encoded}"),
        true,
        None,
    );
    assert_eq!(api.json().as_array().unwrap().len(), 1);
    server
        .request("GET", "/api/v1/admin/logs?until=tomorrow", true, None)
        .error(400, "invalid time \"tomorrow\"");
}

#[test]
fn changes_made_through_the_api_record_the_client_address() {
    let host = Host::new();
    host.run(&["secrets", "set", "FROM_CLI", "c"]).ok();
    let server = Server::start(&host, &[]);
    let created = server.request(
        "POST",
        "/api/v1/admin/secrets",
        true,
        Some(r#"{"name":"FROM_API","value":"v"}"#),
    );
    assert_eq!(created.status, 201);
    server.request(
        "PUT",
        "/api/v1/admin/settings/secrets/THEME",
        true,
        Some(r#"{"value":"dark"}"#),
    );
    let audit = host.audit();
    let by_name = |name: &str| {
        audit
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} audited: {audit:?}"))
            .clone()
    };
    assert_eq!(by_name("FROM_CLI")["address"], serde_json::Value::Null);
    for name in ["FROM_API", "THEME"] {
        let record = by_name(name);
        let address = record["address"].as_str().unwrap_or_default();
        assert!(address.starts_with("127.0.0.1:"), "{record}");
        assert_eq!(record["actor"], "api:service-key");
    }
    let table = host.run(&["logs", "list", "--category", "audit", "--name", "FROM_API"]);
    assert!(
        table.ok().contains("by api:service-key from 127.0.0.1:"),
        "{table:#?}"
    );
}
