//! Job control through a real `fluxbase serve`: a delayed run waits for its time, a
//! higher-priority run goes first, a queued run is cancelled before it runs and a running one is
//! stopped (its execution recorded `cancelled`), progress reported with `ctx.progress` shows on
//! the run while it runs, a failed run is retried with a fresh count of attempts, ended runs
//! refuse a cancel and succeeded runs a retry (409), per-job annotations set attempts and the
//! timeout, and the CLI does the same on the store.

use std::time::{Duration, Instant};

use crate::support::Host;
use crate::support::server::{SERVICE_KEY, Server};

fn enqueue(server: &Server, path: &str, payload: &str) -> String {
    let answer = server.request("POST", path, true, Some(payload));
    assert_eq!(answer.status, 202, "{answer:#?}");
    answer.json()["id"].as_str().unwrap().to_owned()
}

fn run(server: &Server, id: &str) -> serde_json::Value {
    server.job_run(id, SERVICE_KEY).json()
}

/// Polls run `id` until `done` holds.
fn wait_for(
    server: &Server,
    id: &str,
    what: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let run = run(server, id);
        if done(&run) {
            return run;
        }
        assert!(
            Instant::now() < deadline,
            "run {id} never got {what}: {run}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_delayed_run_waits_and_a_higher_priority_run_goes_first() {
    let host = Host::new();
    let server = Server::start(&host, &["--job-workers", "1"]);
    let delayed = enqueue(&server, "/api/v1/jobs/stamp?run_at=2s", "null");
    let queued = run(&server, &delayed);
    assert_eq!(queued["status"], "queued", "{queued}");
    std::thread::sleep(Duration::from_millis(1_000));
    assert_eq!(
        run(&server, &delayed)["status"],
        "queued",
        "ran before its time"
    );
    let done = server.wait_for_run(&delayed, SERVICE_KEY);
    assert_eq!(done["status"], "succeeded", "{done}");
    let due = chrono::DateTime::parse_from_rfc3339(queued["run_after"].as_str().unwrap())
        .unwrap()
        .timestamp_millis();
    assert!(
        done["result"]["at"].as_i64().unwrap() >= due,
        "ran before {due}: {done}"
    );

    // One worker, kept busy; then a low and a high priority run wait behind it.
    let busy = enqueue(&server, "/api/v1/jobs/slow", r#"{"ms": 1500}"#);
    wait_for(&server, &busy, "running", |r| r["status"] == "running");
    let low = enqueue(&server, "/api/v1/jobs/stamp?priority=-5", "null");
    let high = enqueue(&server, "/api/v1/jobs/stamp?priority=10", "null");
    let low = server.wait_for_run(&low, SERVICE_KEY);
    let high = server.wait_for_run(&high, SERVICE_KEY);
    assert_eq!(high["priority"], 10);
    assert!(
        high["result"]["at"].as_i64().unwrap() <= low["result"]["at"].as_i64().unwrap(),
        "high {high} ran after low {low}"
    );
    server
        .request(
            "POST",
            "/api/v1/jobs/stamp?priority=5000",
            true,
            Some("null"),
        )
        .error(400, "priority must be between");
    server
        .request(
            "POST",
            "/api/v1/jobs/stamp?run_at=someday",
            true,
            Some("null"),
        )
        .error(400, "invalid run_at");
    // A delay past what a time can be written as (the document allows 4 digits).
    server
        .request(
            "POST",
            "/api/v1/jobs/stamp?run_at=999999w",
            true,
            Some("null"),
        )
        .error(400, "invalid run_at");
}

#[test]
fn cancel_stops_a_queued_or_running_run_and_progress_shows_while_it_runs() {
    let host = Host::new();
    let server = Server::start(&host, &[]);

    let later = enqueue(&server, "/api/v1/jobs/stamp?run_at=1h", "null");
    let cancelled = server.request(
        "POST",
        &format!("/api/v1/jobs/runs/{later}/cancel"),
        true,
        None,
    );
    assert_eq!(cancelled.status, 200, "{cancelled:#?}");
    assert_eq!(cancelled.json()["status"], "cancelled");

    let long = enqueue(&server, "/api/v1/jobs/progress", r#"{"ms": 60000}"#);
    let running = wait_for(&server, &long, "its progress", |r| {
        r["status"] == "running" && r["progress"]["percent"] == 50
    });
    assert_eq!(running["progress"]["message"], "halfway", "{running}");
    let started = Instant::now();
    let asked = server.request(
        "POST",
        &format!("/api/v1/jobs/runs/{long}/cancel"),
        true,
        None,
    );
    assert_eq!(asked.status, 200, "{asked:#?}");
    let stopped = wait_for(&server, &long, "cancelled", |r| r["status"] == "cancelled");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    let execution = stopped["last_execution_id"].as_str().unwrap();
    let record = server.request(
        "GET",
        &format!("/api/v1/admin/logs/executions/{execution}"),
        true,
        None,
    );
    assert_eq!(record.json()["status"], "cancelled", "{record:#?}");

    // An ended run has nothing to cancel.
    server
        .request(
            "POST",
            &format!("/api/v1/jobs/runs/{long}/cancel"),
            true,
            None,
        )
        .error(409, "has already ended (cancelled)");
    server
        .request("POST", "/api/v1/jobs/runs/no-such-run/cancel", true, None)
        .error(404, "no job run");
}

#[test]
fn a_failed_run_is_retried_and_per_job_annotations_apply() {
    let host = Host::new();
    let server = Server::start(&host, &["--job-backoff", "10ms"]);
    let id = enqueue(&server, "/api/v1/jobs/fails_once", "null");
    let failed = server.wait_for_run(&id, SERVICE_KEY);
    assert_eq!(failed["status"], "failed");
    assert_eq!(
        failed["max_attempts"], 1,
        "@fluxbase:max-attempts 1: {failed}"
    );
    let first_execution = failed["last_execution_id"].clone();

    let retried = server.request("POST", &format!("/api/v1/jobs/runs/{id}/retry"), true, None);
    assert_eq!(retried.status, 200, "{retried:#?}");
    assert_eq!(retried.json()["status"], "queued");
    assert_eq!(retried.json()["attempts"], 0);
    let again = server.wait_for_run(&id, SERVICE_KEY);
    assert_eq!(again["status"], "failed");
    assert_eq!(again["attempts"], 1);
    assert_ne!(again["last_execution_id"], first_execution, "ran again");

    let ok = enqueue(&server, "/api/v1/jobs/stamp", "null");
    server.wait_for_run(&ok, SERVICE_KEY);
    server
        .request("POST", &format!("/api/v1/jobs/runs/{ok}/retry"), true, None)
        .error(409, "only a failed or cancelled run can be retried");

    let slow = enqueue(&server, "/api/v1/jobs/quick_timeout", "null");
    let timed_out = server.wait_for_run(&slow, SERVICE_KEY);
    assert_eq!(timed_out["status"], "failed");
    assert!(
        timed_out["error"]
            .as_str()
            .unwrap()
            .contains("timed out after 300ms"),
        "{timed_out}"
    );
}

#[test]
fn the_cli_enqueues_lists_cancels_and_retries_on_the_store() {
    let host = Host::new();
    let dir = crate::support::fixtures("jobs").display().to_string();
    let id = host
        .run(&[
            "jobs",
            "enqueue",
            "stamp",
            "--dir",
            &dir,
            "--run-at",
            "1h",
            "--priority",
            "-3",
        ])
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed = host
        .run(&["jobs", "runs", "--name", "stamp"])
        .ok()
        .to_owned();
    assert!(
        listed.contains(&id) && listed.contains("queued") && listed.contains("-3"),
        "{listed}"
    );
    let cancelled = host.run(&["jobs", "cancel", &id]).ok().to_owned();
    assert!(cancelled.contains("it will not run"), "{cancelled}");
    let runs = host
        .run(&["jobs", "runs", "--status", "cancelled", "-o", "json"])
        .json();
    assert_eq!(runs[0]["id"], id.as_str());
    host.run(&["jobs", "cancel", &id])
        .fails_with("has already ended (cancelled)");
    let retried = host.run(&["jobs", "retry", &id]).ok().to_owned();
    assert!(retried.contains("Queued run"), "{retried}");
    host.run(&["jobs", "runs", "--status", "lost"])
        .fails_with("invalid status \"lost\"");
    host.run(&["jobs", "runs", "--since", "yesterday"])
        .fails_with("invalid --since");
    let later = host
        .run(&[
            "jobs",
            "runs",
            "--since",
            "2999-01-01T00:00:00Z",
            "-o",
            "json",
        ])
        .json();
    assert_eq!(later, serde_json::json!([]));
    let next_page = host
        .run(&["jobs", "runs", "--before", &id, "-o", "json"])
        .json();
    assert_eq!(
        next_page,
        serde_json::json!([]),
        "nothing enqueued before the only run"
    );
}
