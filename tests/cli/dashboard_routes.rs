//! The admin routes the dashboard reads, through a real `fluxbase serve` on the suite's store:
//! the deployed handlers, the job runs list (filters, paging, a user's own runs), the
//! per-minute invocation counts, and the logs' `offset` paging.

use std::time::{Duration, Instant};

use crate::settings_support::{JWT_SECRET, token as user_token};
use crate::support;

use support::Host;
use support::server::Server;

/// Waits until every run listed by `path` has ended; returns the list.
fn settled_runs(server: &Server, path: &str) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answer = server.request("GET", path, true, None);
        assert_eq!(answer.status, 200, "{answer:#?}");
        let runs = answer.json().as_array().unwrap().clone();
        let settled = runs
            .iter()
            .all(|r| r["status"] == "succeeded" || r["status"] == "failed");
        if settled {
            return runs;
        }
        assert!(Instant::now() < deadline, "runs did not end: {runs:#?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn handlers_lists_functions_and_jobs_with_namespace_file_and_annotations() {
    let host = Host::new();
    let server = Server::start(&host, &["--namespace", "fallback-ns"]);
    let all = server.request("GET", "/api/v1/admin/handlers", true, None);
    assert_eq!(all.status, 200, "{all:#?}");
    let all = all.json();
    let find = |kind: &str, name: &str| {
        all.as_array()
            .unwrap()
            .iter()
            .find(|h| h["kind"] == kind && h["name"] == name)
            .unwrap_or_else(|| panic!("no {kind} {name} in {all:#}"))
            .clone()
    };
    let billing = find("function", "billing");
    assert_eq!(billing["namespace"], "billing");
    assert_eq!(billing["file"], "billing.ts");
    assert_eq!(
        billing["annotations"],
        serde_json::json!([
            {"key": "allow-unauthenticated", "value": ""},
            {"key": "namespace", "value": "billing"}
        ])
    );
    assert_eq!(billing["error"], serde_json::Value::Null);
    let hello = find("function", "hello");
    assert_eq!(hello["namespace"], "fallback-ns");
    assert_eq!(
        hello["annotations"],
        serde_json::json!([{"key": "allow-unauthenticated", "value": ""}])
    );
    let bad = find("function", "bad_annotation");
    assert!(
        bad["error"]
            .as_str()
            .unwrap()
            .contains("bad_annotation.ts:3: @fluxbase:timeout"),
        "{bad}"
    );
    assert_eq!(find("job", "summarize")["file"], "summarize.ts");
    // Shared code is not a handler.
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .all(|h| h["name"] != "_shared")
    );

    let jobs = server.request("GET", "/api/v1/admin/handlers?kind=job", true, None);
    assert!(
        jobs.json()
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["kind"] == "job")
    );
    server
        .request("GET", "/api/v1/admin/handlers?kind=daemon", true, None)
        .error(400, "invalid kind");
    server
        .request("GET", "/api/v1/admin/handlers", false, None)
        .error(401, "service key");
}

#[test]
fn job_runs_are_listed_newest_first_filtered_and_paged() {
    let host = Host::new();
    let server = Server::start_with_env(
        &host,
        &["--job-max-attempts", "1"],
        &[("FLUXBASE_JWT_SECRET", JWT_SECRET)],
    );
    // The `summarize` job reads this secret.
    let secret = server.request(
        "POST",
        "/api/v1/admin/secrets",
        true,
        Some(r#"{"name":"REPORT_TOKEN","value":"routes-report-token"}"#),
    );
    assert_eq!(secret.status, 201, "{secret:#?}");
    let mut ids = Vec::new();
    for (job, n) in [
        ("summarize", 1),
        ("fails", 2),
        ("summarize", 3),
        ("summarize", 4),
    ] {
        let answer = server.request(
            "POST",
            &format!("/api/v1/jobs/{job}"),
            true,
            Some(&format!(r#"{{"items":[{n}]}}"#)),
        );
        assert_eq!(answer.status, 202, "{answer:#?}");
        ids.push(answer.json()["id"].as_str().unwrap().to_owned());
        // Distinct enqueue times, so that newest first is one order.
        std::thread::sleep(Duration::from_millis(5));
    }
    let runs = settled_runs(&server, "/api/v1/jobs/runs");
    let listed: Vec<&str> = runs.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let newest_first: Vec<&str> = ids.iter().rev().map(String::as_str).collect();
    assert_eq!(listed, newest_first);
    assert_eq!(runs[2]["status"], "failed");
    assert_eq!(runs[2]["attempts"], 1);
    assert!(runs[2]["error"].is_string());
    assert_eq!(runs[0]["status"], "succeeded");
    assert!(!runs[0]["result"].is_null());

    let failed = server.request("GET", "/api/v1/jobs/runs?status=failed", true, None);
    let failed = failed.json();
    assert_eq!(failed.as_array().unwrap().len(), 1);
    assert_eq!(failed[0]["id"], ids[1].as_str());
    let named = server.request("GET", "/api/v1/jobs/runs?name=summarize", true, None);
    assert_eq!(named.json().as_array().unwrap().len(), 3);
    let future = server.request(
        "GET",
        "/api/v1/jobs/runs?since=2999-01-01T00:00:00Z",
        true,
        None,
    );
    assert_eq!(future.json(), serde_json::json!([]));

    // Two pages of two, then an empty one: every run once.
    let first = server
        .request("GET", "/api/v1/jobs/runs?limit=2", true, None)
        .json();
    let cursor = first[1]["id"].as_str().unwrap();
    let second = server
        .request(
            "GET",
            &format!("/api/v1/jobs/runs?limit=2&before={cursor}"),
            true,
            None,
        )
        .json();
    let paged: Vec<&str> = first
        .as_array()
        .unwrap()
        .iter()
        .chain(second.as_array().unwrap())
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(paged, newest_first);
    let last = second[1]["id"].as_str().unwrap();
    let third = server.request(
        "GET",
        &format!("/api/v1/jobs/runs?before={last}"),
        true,
        None,
    );
    assert_eq!(third.json(), serde_json::json!([]));

    for (query, needle) in [
        ("status=done", "invalid status"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("since=yesterday", "invalid since"),
        ("since=", "invalid since"),
        ("colour=red", "unknown field"),
    ] {
        server
            .request("GET", &format!("/api/v1/jobs/runs?{query}"), true, None)
            .error(400, needle);
    }
    server
        .request("GET", "/api/v1/jobs/runs?before=no-such-run", true, None)
        .error(404, "no job run");
    server
        .request("GET", "/api/v1/jobs/runs", false, None)
        .error(401, "");

    // A user sees only the runs enqueued for them, and cannot page from another's run.
    let token = user_token("dash-user");
    let mine = server.send(
        "POST",
        "/api/v1/jobs/summarize",
        Some(&token),
        &[],
        Some(b"{}"),
        true,
    );
    assert_eq!(mine.status, 202, "{mine:#?}");
    let mine = mine.json()["id"].as_str().unwrap().to_owned();
    let theirs = server.send("GET", "/api/v1/jobs/runs", Some(&token), &[], None, false);
    assert_eq!(theirs.status, 200, "{theirs:#?}");
    let theirs: Vec<String> = theirs
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(theirs, [mine]);
    server
        .send(
            "GET",
            &format!("/api/v1/jobs/runs?before={}", ids[3]),
            Some(&token),
            &[],
            None,
            false,
        )
        .error(404, "no job run");
}

#[test]
fn invocation_counts_per_minute_count_calls_and_failures() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    for _ in 0..3 {
        assert_eq!(
            server
                .request("GET", "/functions/v1/hello", false, None)
                .status,
            200
        );
    }
    for _ in 0..2 {
        assert_eq!(
            server
                .request("GET", "/functions/v1/throws", false, None)
                .status,
            500
        );
    }
    let stats = server.request("GET", "/api/v1/admin/stats/invocations", true, None);
    assert_eq!(stats.status, 200, "{stats:#?}");
    let stats = stats.json();
    assert_eq!(stats["minutes"], 60);
    let total = |name: &str, field: &str| -> i64 {
        stats["points"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["name"] == name && p["kind"] == "function")
            .map(|p| p[field].as_i64().unwrap())
            .sum()
    };
    assert_eq!(total("hello", "invocations"), 3, "{stats:#}");
    assert_eq!(total("hello", "failures"), 0, "{stats:#}");
    assert_eq!(total("throws", "invocations"), 2, "{stats:#}");
    assert_eq!(total("throws", "failures"), 2, "{stats:#}");
    // Every point lies in the window and on a minute.
    let since = stats["since"].as_str().unwrap();
    for point in stats["points"].as_array().unwrap() {
        let minute = point["minute"].as_str().unwrap();
        assert!(minute >= since && minute.ends_with(":00Z"), "{point}");
    }
    let one = server.request(
        "GET",
        "/api/v1/admin/stats/invocations?minutes=1",
        true,
        None,
    );
    assert_eq!(one.json()["minutes"], 1);
    for query in ["minutes=0", "minutes=1441", "minutes=x"] {
        let answer = server.request(
            "GET",
            &format!("/api/v1/admin/stats/invocations?{query}"),
            true,
            None,
        );
        assert_eq!(answer.status, 400, "{query}: {answer:#?}");
    }
}

#[test]
fn logs_are_paged_with_offset() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    for _ in 0..5 {
        assert_eq!(
            server
                .request("GET", "/functions/v1/hello", false, None)
                .status,
            200
        );
        std::thread::sleep(Duration::from_millis(3));
    }
    let ids = |query: &str| -> Vec<String> {
        let answer = server.request("GET", &format!("/api/v1/admin/logs?{query}"), true, None);
        assert_eq!(answer.status, 200, "{answer:#?}");
        answer
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = ids("category=execution");
    assert_eq!(all.len(), 5);
    let mut paged = ids("category=execution&limit=2");
    paged.extend(ids("category=execution&limit=2&offset=2"));
    paged.extend(ids("category=execution&limit=2&offset=4"));
    assert_eq!(paged, all);
    assert!(ids("category=execution&offset=5").is_empty());
    server
        .request("GET", "/api/v1/admin/logs?offset=-1", true, None)
        .error(400, "offset");
    server
        .request("GET", "/api/v1/admin/logs?offset=100001", true, None)
        .error(400, "offset");
}
