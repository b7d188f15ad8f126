//! `kill -9` of a real `fluxbase serve` in the middle of work, then a restart on the same data
//! directory and database: every write the server acknowledged is there, versions are
//! consecutive with nothing half-written, the SQLite file passes `integrity_check`, and no job
//! that was enqueued is lost. Both backends (`FLUXBASE_TEST_BACKEND`).

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::Host;
use support::server::{SERVICE_KEY, Server};

/// Client threads writing at once.
const WRITERS: usize = 16;
/// Writes each client thread attempts (16 × 32 = 512).
const WRITES_PER_WRITER: usize = 32;
/// Writers 0..12 put new versions of the shared secrets; writers 12..16 create new secrets.
const UPDATERS: usize = 12;
/// Secrets the updaters share.
const SHARED: usize = 4;
/// Acknowledged writes after which the server is killed.
const KILL_AFTER: usize = 200;

/// An HTTP client of its own (the servers' client panics on a broken connection).
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .new_agent()
}

/// Sends a JSON request with the service key: `(status, body)`, or `Err` when the connection
/// failed (the server died before it answered).
fn send(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    body: &Value,
) -> Result<(u16, Value), String> {
    let request = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .header("authorization", format!("Bearer {SERVICE_KEY}"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .unwrap();
    let mut response = agent.run(request).map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .read_to_string()
        .map_err(|e| e.to_string())?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// One write a client thread made, and what became of it.
#[derive(Debug, Clone)]
struct Write {
    secret: String,
    value: String,
    /// The version the server answered with; `None` when the connection broke first (the
    /// write may or may not have been committed).
    acked: Option<i64>,
}

fn shared_name(k: usize) -> String {
    format!("SHARED_{k}")
}

#[test]
fn kill_9_during_512_concurrent_secret_writes_loses_no_acknowledged_write() {
    let host = Host::new();
    let mark = support::sentinel();
    let server = Server::start(&host, &[]);
    let base = server.base.clone();
    for k in 0..SHARED {
        let (status, _) = send(
            &agent(),
            "POST",
            &format!("{base}/api/v1/admin/secrets"),
            &json!({ "name": shared_name(k), "value": format!("initial-{k}-{mark}") }),
        )
        .unwrap();
        assert_eq!(status, 201);
    }

    let writes = Mutex::new(Vec::<Write>::new());
    let acked = AtomicUsize::new(0);
    let started = Instant::now();
    let acked_at_kill = std::thread::scope(|scope| {
        for writer in 0..WRITERS {
            let (writes, acked, base, mark) = (&writes, &acked, &base, &mark);
            scope.spawn(move || {
                let agent = agent();
                for i in 0..WRITES_PER_WRITER {
                    let value = format!("w{writer}-{i}-{mark}");
                    let (secret, method, url, body) = if writer < UPDATERS {
                        let secret = shared_name((writer + i) % SHARED);
                        let url = format!("{base}/api/v1/admin/secrets/{secret}");
                        (secret, "PUT", url, json!({ "value": value }))
                    } else {
                        let secret = format!("NEW_{writer}_{i}");
                        let url = format!("{base}/api/v1/admin/secrets");
                        let body = json!({ "name": secret, "value": value });
                        (secret, "POST", url, body)
                    };
                    let answer = send(&agent, method, &url, &body);
                    let version = match &answer {
                        Ok((200 | 201, body)) => Some(body["version"].as_i64().unwrap()),
                        Ok((status, body)) => panic!("{method} {secret}: {status} {body}"),
                        Err(_) => None,
                    };
                    writes.lock().unwrap().push(Write {
                        secret,
                        value,
                        acked: version,
                    });
                    if version.is_none() {
                        return; // the server is gone
                    }
                    acked.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
        while acked.load(Ordering::SeqCst) < KILL_AFTER {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "only {} writes acknowledged in two minutes",
                acked.load(Ordering::SeqCst)
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        server.kill();
        acked.load(Ordering::SeqCst)
    });
    let writes = writes.into_inner().unwrap();
    let total_acked = writes.iter().filter(|w| w.acked.is_some()).count();
    let in_flight = writes.len() - total_acked;
    eprintln!(
        "kill -9 after {acked_at_kill} acknowledged writes ({:?}): {total_acked} acknowledged in \
         all, {in_flight} cut off in flight, {} never sent",
        started.elapsed(),
        WRITERS * WRITES_PER_WRITER - writes.len()
    );
    assert!(
        total_acked < WRITERS * WRITES_PER_WRITER && in_flight > 0,
        "the kill came after the last write: nothing was in flight"
    );

    let server = Server::start(&host, &[]);

    // The shared secrets: versions 1..=n, every acknowledged version among them, each version
    // acknowledged to one writer at most, and no more versions than writes that could have made
    // them. The current value is the one written as the current version.
    let mut current_versions = BTreeMap::new();
    for k in 0..SHARED {
        let secret = shared_name(k);
        let history: Vec<i64> = server
            .request(
                "GET",
                &format!("/api/v1/admin/secrets/{secret}/history"),
                true,
                None,
            )
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["version"].as_i64().unwrap())
            .collect();
        let current = *history.iter().max().unwrap();
        current_versions.insert(secret.clone(), current);
        let mut sorted = history.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (1..=current).collect::<Vec<_>>(), "{secret}");
        let meta = server.request(
            "GET",
            &format!("/api/v1/admin/secrets/{secret}"),
            true,
            None,
        );
        assert_eq!(meta.json()["version"], current, "{secret}");

        let mine: Vec<&Write> = writes.iter().filter(|w| w.secret == secret).collect();
        let acked_versions: Vec<i64> = mine.iter().filter_map(|w| w.acked).collect();
        let distinct: BTreeSet<i64> = acked_versions.iter().copied().collect();
        assert_eq!(
            distinct.len(),
            acked_versions.len(),
            "{secret}: a version acknowledged twice"
        );
        assert!(
            acked_versions.iter().all(|v| *v <= current),
            "{secret}: acknowledged version lost"
        );
        let could_have_written = 1 + mine.len() as i64; // the initial version, and every attempt
        assert!(
            current <= could_have_written,
            "{secret}: {current} versions from {could_have_written} writes"
        );
        assert!(
            current > acked_versions.len() as i64, // the initial version and every acknowledged one
            "{secret}: fewer versions than acknowledged writes"
        );

        let seen = server
            .request(
                "GET",
                &format!("/functions/v1/secrets?name={secret}"),
                false,
                None,
            )
            .json();
        let value = seen["value"].as_str().unwrap();
        match mine.iter().find(|w| w.acked == Some(current)) {
            Some(write) => assert_eq!(value, write.value, "{secret} version {current}"),
            None => assert!(
                mine.iter().any(|w| w.value == value && w.acked.is_none())
                    || (current == 1 && value.starts_with("initial-")),
                "{secret}: current value {value:?} was never written"
            ),
        }
    }

    let committed_unacked: i64 = (0..SHARED)
        .map(|k| {
            let name = shared_name(k);
            let acked = writes
                .iter()
                .filter(|w| w.secret == name && w.acked.is_some());
            current_versions[&name] - 1 - acked.count() as i64
        })
        .sum();

    // The created secrets: every acknowledged one exists at version 1; nothing else does
    // beyond the creates cut off in flight.
    let listed: BTreeMap<String, i64> = server
        .request("GET", "/api/v1/admin/secrets", true, None)
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["version"].as_i64().unwrap(),
            )
        })
        .collect();
    let creates: Vec<&Write> = writes
        .iter()
        .filter(|w| w.secret.starts_with("NEW_"))
        .collect();
    for write in &creates {
        match write.acked {
            Some(version) => {
                assert_eq!(version, 1);
                assert_eq!(listed.get(&write.secret), Some(&1), "{} lost", write.secret);
            }
            None => assert!(matches!(listed.get(&write.secret), None | Some(1))),
        }
    }
    let created = listed.keys().filter(|n| n.starts_with("NEW_")).count();
    assert!(created <= creates.len());
    let acked_creates = creates.iter().filter(|w| w.acked.is_some()).count();
    eprintln!(
        "after the restart: every acknowledged write present; {} of the {in_flight} writes cut \
         off in flight were committed all the same",
        committed_unacked + (created - acked_creates) as i64
    );

    // The audit log has exactly one `set` per stored version, in the same transactions.
    let mut audited: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for record in host.audit() {
        if record["action"] == "set" {
            audited
                .entry(record["name"].as_str().unwrap().to_owned())
                .or_default()
                .push(record["version"].as_i64().unwrap());
        }
    }
    for (name, version) in &listed {
        let mut versions = audited.remove(name).unwrap_or_default();
        versions.sort_unstable();
        assert_eq!(
            versions,
            (1..=*version).collect::<Vec<_>>(),
            "audit of {name}"
        );
    }
    assert!(
        audited.is_empty(),
        "audit of secrets that do not exist: {audited:?}"
    );

    // Every stored version still decrypts, and the database holds no half-written row.
    host.run(&["secrets", "verify"]).ok();
    drop(server);
    support::assert_database_is_whole(&host);
}

/// Polls a run until `done` says so (or panics after `within`).
fn wait_for_run(
    server: &Server,
    id: &str,
    within: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let run = server
            .request("GET", &format!("/api/v1/jobs/runs/{id}"), true, None)
            .json();
        if done(&run) {
            return run;
        }
        assert!(Instant::now() < deadline, "run {id} stuck: {run}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn kill_9_while_jobs_run_and_are_enqueued_loses_no_job() {
    // A short lease, so that on PostgreSQL the runs of the killed host are taken up soon after
    // the restart (the embedded store requeues them at the restart itself).
    let flags = [
        "--job-lease",
        "2s",
        "--job-workers",
        "2",
        "--job-backoff",
        "100ms",
    ];
    let host = Host::new();
    let server = Server::start(&host, &flags);
    let base = server.base.clone();
    let enqueue = |agent: &ureq::Agent, ms: u64| {
        send(
            agent,
            "POST",
            &format!("{base}/api/v1/jobs/slow"),
            &json!({ "ms": ms }),
        )
        .map(|(status, body)| {
            assert_eq!(status, 202, "{body}");
            body["id"].as_str().unwrap().to_owned()
        })
    };
    // Two long runs take both workers; short ones queue behind them while more arrive.
    let long: Vec<String> = (0..2).map(|_| enqueue(&agent(), 3000).unwrap()).collect();
    for id in &long {
        wait_for_run(&server, id, Duration::from_secs(60), |run| {
            run["status"] == "running"
        });
    }
    let running_seen = Instant::now();

    let short = Mutex::new(Vec::<(String, u64)>::new());
    let cut_off = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for client in 0..4u64 {
            let (short, cut_off, enqueue) = (&short, &cut_off, &enqueue);
            scope.spawn(move || {
                let agent = agent();
                for i in 0..25 {
                    let ms = 10 + client * 25 + i;
                    match enqueue(&agent, ms) {
                        Ok(id) => short.lock().unwrap().push((id, ms)),
                        Err(_) => {
                            cut_off.fetch_add(1, Ordering::SeqCst);
                            return;
                        }
                    }
                }
            });
        }
        while short.lock().unwrap().len() < 20 {
            assert!(
                running_seen.elapsed() < Duration::from_secs(60),
                "enqueues stalled"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        server.kill();
    });
    let killed_after = running_seen.elapsed();
    let short = short.into_inner().unwrap();
    eprintln!(
        "kill -9 with 2 runs of 3 s running (for {killed_after:?}), {} short runs enqueued and \
         acknowledged, {} enqueues cut off in flight",
        short.len(),
        cut_off.load(Ordering::SeqCst)
    );

    let server = Server::start(&host, &flags);
    for id in &long {
        let run = wait_for_run(&server, id, Duration::from_secs(120), |run| {
            run["status"] == "succeeded" || run["status"] == "failed"
        });
        assert_eq!(run["status"], "succeeded", "{run}");
        assert_eq!(run["result"]["slept"], 3000);
        if killed_after < Duration::from_millis(2500) {
            assert_eq!(
                run["attempts"], 2,
                "cut short by the kill, run again: {run}"
            );
        }
    }
    for (id, ms) in &short {
        let run = wait_for_run(&server, id, Duration::from_secs(120), |run| {
            run["status"] == "succeeded" || run["status"] == "failed"
        });
        assert_eq!(run["status"], "succeeded", "{run}");
        assert_eq!(run["result"]["slept"], *ms, "{run}");
    }
}
