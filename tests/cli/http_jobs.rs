//! The durable job queue of a real `fluxbase serve`: runs, retries, restarts.

use crate::support;

use std::time::{Duration, Instant};

use support::Host;
use support::server::Server;

/// Polls a run until its status is `status` (or panics after `within`).
fn wait_for(server: &Server, id: &str, status: &str, within: Duration) -> serde_json::Value {
    let deadline = Instant::now() + within;
    loop {
        let run = server
            .request("GET", &format!("/api/v1/jobs/runs/{id}"), true, None)
            .json();
        if run["status"] == status {
            return run;
        }
        assert!(
            Instant::now() < deadline,
            "run never reached {status}: {run}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn enqueue(server: &Server, name: &str, payload: &str) -> String {
    let answer = server.request("POST", &format!("/api/v1/jobs/{name}"), true, Some(payload));
    assert_eq!(answer.status, 202, "{answer:#?}");
    answer.json()["id"].as_str().unwrap().to_owned()
}

#[test]
fn a_job_runs_with_its_secrets_and_keeps_its_result_and_logs() {
    let host = Host::new();
    host.run(&["secrets", "set", "REPORT_TOKEN", "tok_job_secret"])
        .ok();
    let server = Server::start(&host, &[]);
    let id = enqueue(&server, "summarize", r#"{"items":[1,2,3]}"#);
    let run = wait_for(&server, &id, "succeeded", Duration::from_secs(60));
    assert_eq!(run["attempts"], 1);
    assert_eq!(run["result"]["sum"], 6);
    assert_eq!(run["result"]["job"], "summarize");
    assert_eq!(
        run["logs"][0]["message"],
        "summarizing 3 items with token [REDACTED]"
    );

    server
        .request("POST", "/api/v1/jobs/nope", true, Some("{}"))
        .error(404, "no job nope");
    server
        .request("POST", "/api/v1/jobs/summarize", true, Some("{oops"))
        .error(400, "not valid JSON");
    server
        .request("POST", "/api/v1/jobs/summarize", false, Some("{}"))
        .error(401, "missing service key");
    server
        .request("GET", "/api/v1/jobs/runs/no-such-run", true, None)
        .error(404, "no job run no-such-run");
}

#[test]
fn a_failing_job_is_retried_with_backoff_then_fails() {
    let host = Host::new();
    let server = Server::start(
        &host,
        &["--job-backoff", "100ms", "--job-max-attempts", "3"],
    );
    let id = enqueue(&server, "fails", "null");
    let run = wait_for(&server, &id, "failed", Duration::from_secs(60));
    assert_eq!(run["attempts"], 3);
    assert!(
        run["error"]
            .as_str()
            .unwrap()
            .contains("job failed on purpose"),
        "{run}"
    );
    let executions = server
        .request(
            "GET",
            "/api/v1/admin/logs?category=execution&name=fails",
            true,
            None,
        )
        .json();
    assert_eq!(
        executions.as_array().unwrap().len(),
        3,
        "one execution per attempt"
    );
}

#[test]
fn a_run_interrupted_by_a_crash_runs_again_after_the_restart() {
    // An embedded store requeues the run at the restart; a shared database leaves it to the
    // lease, which the killed host no longer renews.
    let host = Host::new();
    let lease = ["--job-lease", "2s"];
    let server = Server::start(&host, &lease);
    let id = enqueue(&server, "slow", r#"{"ms":4000}"#);
    wait_for(&server, &id, "running", Duration::from_secs(30));
    drop(server); // SIGKILL in the middle of the run

    let server = Server::start(&host, &lease);
    let run = wait_for(&server, &id, "succeeded", Duration::from_secs(60));
    assert_eq!(run["attempts"], 2);
    assert_eq!(run["result"]["slept"], 4000);
}

#[test]
fn a_run_whose_host_dies_during_its_last_attempt_fails() {
    let host = Host::new();
    let flags = ["--job-lease", "1s", "--job-max-attempts", "1"];
    let server = Server::start(&host, &flags);
    let id = enqueue(&server, "slow", r#"{"ms":4000}"#);
    wait_for(&server, &id, "running", Duration::from_secs(30));
    server.kill();

    let server = Server::start(&host, &flags);
    let run = wait_for(&server, &id, "failed", Duration::from_secs(30));
    assert_eq!(run["attempts"], 1, "not started again: {run}");
    assert_eq!(
        run["error"],
        "the host running its last attempt stopped before it finished"
    );
}

#[test]
fn a_run_longer_than_its_lease_keeps_it_while_its_host_lives() {
    // The lease is renewed while the run goes on: the idle second worker, which looks for due
    // runs every second, never sees this one's lease pass.
    let host = Host::new();
    let server = Server::start(&host, &["--job-lease", "1s", "--job-workers", "2"]);
    let id = enqueue(&server, "slow", r#"{"ms":3500}"#);
    let run = wait_for(&server, &id, "succeeded", Duration::from_secs(60));
    assert_eq!(run["attempts"], 1, "{run}");
    let executions = server
        .request(
            "GET",
            "/api/v1/admin/logs?category=execution&name=slow",
            true,
            None,
        )
        .json();
    assert_eq!(executions.as_array().unwrap().len(), 1, "{executions}");

    let refused = host.run(&["serve", "--job-lease", "500ms"]);
    refused.fails_with("--job-lease must be at least 1s");
}

#[test]
fn the_cli_enqueues_for_a_running_server_and_reads_the_status() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    let jobs = support::fixtures("jobs").display().to_string();
    let enqueued = host
        .run(&[
            "jobs",
            "enqueue",
            "slow",
            "--dir",
            &jobs,
            "--payload",
            r#"{"ms":10}"#,
        ])
        .json();
    let id = enqueued["id"].as_str().unwrap().to_owned();
    wait_for(&server, &id, "succeeded", Duration::from_secs(60));
    let status = host.run(&["jobs", "status", &id]).json();
    assert_eq!(status["status"], "succeeded");
    assert_eq!(status["result"]["slept"], 10);
    host.run(&["jobs", "status", "missing"])
        .fails_with("no job run missing");
    host.run(&["jobs", "enqueue", "nope", "--dir", &jobs])
        .fails_with("no job nope");
}
