//! Two real `fluxbase serve` processes on one PostgreSQL database, each with a data directory of
//! its own and the same master key, as the machines of a cluster run them: a secret written
//! through one host is used by the very next invocation on the other, concurrent writers on both
//! hosts never lose or duplicate a version, every job runs exactly once, and the jobs of a host
//! killed mid-run are run again by the other once their lease has passed.
//!
//! Needs `FLUXBASE_TEST_POSTGRES_URL`; says `SKIPPED` without it (fails instead when
//! `FLUXBASE_TEST_REQUIRE_POSTGRES=1`).

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use support::server::Server;
use support::{Host, sha256_hex};

/// The job fixture that reports which host ran it (from `FLUXBASE_SECRET_HOST_TAG`).
const TAG_JOB: &str = "host_tag";

/// Two servers on one database. The servers are declared first so that they stop before the
/// hosts drop the database.
struct Cluster {
    a: Server,
    b: Server,
    _hosts: (Host, Host),
}

impl Cluster {
    /// Starts hosts `host-a` and `host-b` together on a fresh database (both apply the
    /// migrations at once), with `extra` serve arguments; `None` when PostgreSQL is not
    /// configured.
    fn start(test: &str, extra: &[&str]) -> Option<Cluster> {
        let host_a = Host::postgres(test)?;
        let host_b = host_a.sharing();
        let (a, b) = std::thread::scope(|scope| {
            let a = scope.spawn(|| start_tagged(&host_a, "host-a", extra));
            let b = scope.spawn(|| start_tagged(&host_b, "host-b", extra));
            (a.join().unwrap(), b.join().unwrap())
        });
        Some(Cluster {
            a,
            b,
            _hosts: (host_a, host_b),
        })
    }
}

fn start_tagged(host: &Host, tag: &str, extra: &[&str]) -> Server {
    Server::start_with_env(host, extra, &[("FLUXBASE_SECRET_HOST_TAG", tag)])
}

/// Polls `probe` every 100 ms until it gives a value; panics with `what` after `within`.
fn wait_until<T>(within: Duration, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "gave up after {within:?}: {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn now_millis() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// What the `secrets` fixture function sees as `name` when invoked through `server`.
fn seen(server: &Server, name: &str) -> Value {
    let answer = server.request(
        "GET",
        &format!("/functions/v1/secrets?name={name}"),
        false,
        None,
    );
    assert_eq!(
        answer.status, 200,
        "invocation through {}: {answer:#?}",
        server.base
    );
    answer.json()["value"].clone()
}

/// Writes a new value through the admin API of `server`; returns the new version.
fn put(server: &Server, name: &str, value: &str) -> i64 {
    let body = json!({ "value": value }).to_string();
    let answer = server.request(
        "PUT",
        &format!("/api/v1/admin/secrets/{name}"),
        true,
        Some(&body),
    );
    assert_eq!(
        answer.status, 200,
        "PUT {name} through {}: {answer:#?}",
        server.base
    );
    answer.json()["version"].as_i64().unwrap()
}

fn create(server: &Server, name: &str, value: &str) {
    let body = json!({ "name": name, "value": value }).to_string();
    let answer = server.request("POST", "/api/v1/admin/secrets", true, Some(&body));
    assert_eq!(answer.status, 201, "create {name}: {answer:#?}");
}

fn enqueue(server: &Server, payload: &Value) -> String {
    let answer = server.request(
        "POST",
        &format!("/api/v1/jobs/{TAG_JOB}"),
        true,
        Some(&payload.to_string()),
    );
    assert_eq!(
        answer.status, 202,
        "enqueue through {}: {answer:#?}",
        server.base
    );
    answer.json()["id"].as_str().unwrap().to_owned()
}

fn run_status(server: &Server, id: &str) -> Value {
    let answer = server.request("GET", &format!("/api/v1/jobs/runs/{id}"), true, None);
    assert_eq!(answer.status, 200, "status of run {id}: {answer:#?}");
    answer.json()
}

/// Waits until every run in `ids` has ended, and returns them by id; a failed run fails the
/// test.
fn wait_for_runs(server: &Server, ids: &[String], within: Duration) -> BTreeMap<String, Value> {
    let mut done = BTreeMap::new();
    wait_until(within, "every job run to end", || {
        for id in ids {
            if done.contains_key(id) {
                continue;
            }
            let run = run_status(server, id);
            match run["status"].as_str() {
                Some("succeeded") => {
                    done.insert(id.clone(), run);
                }
                Some("failed") => panic!("run {id} failed: {run}"),
                _ => {}
            }
        }
        (done.len() == ids.len()).then(|| done.clone())
    })
}

/// The execution records of the tagged job, through `server`'s logs API.
fn job_executions(server: &Server) -> Vec<Value> {
    let answer = server.request(
        "GET",
        &format!("/api/v1/admin/logs?category=execution&name={TAG_JOB}&limit=10000"),
        true,
        None,
    );
    assert_eq!(answer.status, 200, "{answer:#?}");
    answer.json().as_array().unwrap().clone()
}

#[test]
fn a_secret_set_through_one_host_is_used_by_the_next_invocation_on_the_other() {
    let Some(cluster) = Cluster::start("multi_host::secret_set_on_a_used_on_b", &[]) else {
        return;
    };
    let (a, b) = (&cluster.a, &cluster.b);

    assert_eq!(seen(b, "ROTATING"), Value::Null, "nothing set yet");
    create(a, "ROTATING", "value-0");
    assert_eq!(
        seen(b, "ROTATING"),
        "value-0",
        "created through A, read on B"
    );
    // B's isolate for the function is warm now; it must not keep the old value.
    assert_eq!(seen(b, "ROTATING"), "value-0");
    for round in 1..=5 {
        let value = format!("value-{round}");
        assert_eq!(put(a, "ROTATING", &value), round + 1);
        assert_eq!(
            seen(b, "ROTATING"),
            value.as_str(),
            "round {round}: B's very next invocation after A's write"
        );
        assert_eq!(seen(b, "ROTATING"), value.as_str(), "round {round}: warm");
    }

    // The other way round, and a rollback and a delete, which change the value too.
    put(b, "ROTATING", "from-b");
    assert_eq!(
        seen(a, "ROTATING"),
        "from-b",
        "written through B, read on A"
    );
    let answer = a.request(
        "POST",
        "/api/v1/admin/secrets/ROTATING/rollback",
        true,
        Some(r#"{"version": 1}"#),
    );
    assert_eq!(answer.status, 200, "{answer:#?}");
    assert_eq!(seen(b, "ROTATING"), "value-0", "rolled back through A");
    let answer = a.request("DELETE", "/api/v1/admin/secrets/ROTATING", true, None);
    assert_eq!(answer.status, 200, "{answer:#?}");
    assert_eq!(seen(b, "ROTATING"), Value::Null, "deleted through A");
}

#[test]
fn four_writers_on_two_hosts_give_consecutive_versions() {
    const PER_WRITER: i64 = 25;
    let Some(cluster) = Cluster::start("multi_host::four_writers", &[]) else {
        return;
    };
    create(&cluster.a, "CONTENDED", "initial");

    let versions: Vec<i64> = std::thread::scope(|scope| {
        let writers: Vec<_> = [&cluster.a, &cluster.a, &cluster.b, &cluster.b]
            .into_iter()
            .enumerate()
            .map(|(writer, server)| {
                scope.spawn(move || {
                    (0..PER_WRITER)
                        .map(|i| put(server, "CONTENDED", &format!("writer-{writer}-put-{i}")))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        writers
            .into_iter()
            .flat_map(|writer| writer.join().unwrap())
            .collect()
    });

    // Every write got a version of its own: none shared, none skipped.
    let last = 1 + 4 * PER_WRITER;
    let given: BTreeSet<i64> = versions.iter().copied().collect();
    assert_eq!(
        given.len(),
        versions.len(),
        "two writes got the same version"
    );
    assert_eq!(given, (2..=last).collect(), "versions given to the writes");
    let history = cluster
        .b
        .request("GET", "/api/v1/admin/secrets/CONTENDED/history", true, None)
        .json();
    let stored: Vec<i64> = history
        .as_array()
        .unwrap_or_else(|| panic!("history is not a list: {history}"))
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(stored, (1..=last).collect::<Vec<_>>(), "stored history");
    assert_eq!(
        cluster
            .a
            .request("GET", "/api/v1/admin/secrets/CONTENDED", true, None)
            .json()["version"],
        last
    );
}

#[test]
fn two_hundred_jobs_enqueued_on_both_hosts_run_exactly_once_each() {
    let Some(cluster) = Cluster::start("multi_host::two_hundred_jobs", &[]) else {
        return;
    };
    let ids: Vec<String> = (0..200)
        .map(|i| {
            let server = if i % 2 == 0 { &cluster.a } else { &cluster.b };
            enqueue(server, &json!({ "n": i }))
        })
        .collect();

    let runs = wait_for_runs(&cluster.a, &ids, Duration::from_secs(60));
    let mut by_host = BTreeMap::<String, usize>::new();
    for (id, run) in &runs {
        assert_eq!(run["attempts"], 1, "run {id} ran more than once: {run}");
        assert_eq!(run["result"]["run"], id.as_str(), "{run}");
        let host = run["result"]["host"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            host == sha256_hex("host-a") || host == sha256_hex("host-b"),
            "{run}"
        );
        *by_host.entry(host).or_default() += 1;
    }
    assert_eq!(by_host.len(), 2, "both hosts ran jobs: {by_host:?}");

    // One execution per run, each the run's own, all succeeded: nothing ran twice.
    let executions = job_executions(&cluster.b);
    assert_eq!(executions.len(), 200, "executions of {TAG_JOB}");
    assert!(
        executions.iter().all(|e| e["status"] == "succeeded"),
        "{executions:?}"
    );
    let execution_ids: BTreeSet<&str> = executions
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    let recorded: BTreeSet<&str> = runs
        .values()
        .map(|run| run["last_execution_id"].as_str().unwrap())
        .collect();
    assert_eq!(execution_ids, recorded);
}

#[test]
fn the_jobs_of_a_killed_host_are_run_by_the_other_after_their_lease() {
    const LEASE_MS: i64 = 2000;
    // Longer than the lease: a host that is alive keeps its runs by renewing their lease.
    const JOB_MS: i64 = 2500;
    const JOBS: usize = 6;
    let Some(cluster) = Cluster::start(
        "multi_host::killed_host",
        &["--job-lease", "2s", "--job-workers", "2"],
    ) else {
        return;
    };
    let ids: Vec<String> = (0..JOBS)
        .map(|_| enqueue(&cluster.a, &json!({ "ms": JOB_MS })))
        .collect();

    // Two workers per host: with four runs running, host A holds two of them.
    wait_until(
        Duration::from_secs(30),
        "both hosts to run two jobs each",
        || {
            let running = ids
                .iter()
                .filter(|id| run_status(&cluster.b, id)["status"] == "running")
                .count();
            (running == 4).then_some(())
        },
    );
    let Cluster {
        a,
        b,
        _hosts: hosts,
    } = cluster;
    a.kill();
    let killed_at = now_millis();

    let runs = wait_for_runs(&b, &ids, Duration::from_secs(60));
    let mut rerun = 0;
    for (id, run) in &runs {
        let result = &run["result"];
        assert_eq!(result["slept"], JOB_MS, "{run}");
        match run["attempts"].as_i64() {
            Some(1) => {}
            Some(2) => {
                // Cut short on host A, run again by host B once A's lease had passed (A last
                // renewed it at most a third of the lease before the kill).
                rerun += 1;
                assert_eq!(result["host"], sha256_hex("host-b"), "run {id}: {run}");
                let started = result["started"].as_i64().unwrap();
                assert!(
                    started >= killed_at + LEASE_MS * 2 / 3,
                    "run {id} started again {} ms after the kill, before the lease passed",
                    started - killed_at
                );
            }
            _ => panic!("run {id} was attempted more than twice: {run}"),
        }
    }
    assert!(
        (1..=2).contains(&rerun),
        "host A held one or two runs when it was killed; {rerun} ran again"
    );
    // A killed attempt records nothing; every finished attempt does: one each, so no run was
    // run to the end twice.
    assert_eq!(job_executions(&b).len(), JOBS);
    drop(b);
    drop(hosts);
}
