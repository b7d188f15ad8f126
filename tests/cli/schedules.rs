//! Scheduled jobs through real `fluxbase serve` processes: a job with a 2-second schedule runs
//! exactly once per tick with two hosts on one PostgreSQL database (every tick of the window has
//! its one run, and exactly one host took it); a host that was down while ticks passed runs one
//! catch-up run when it starts, not one per missed tick; `fluxbase jobs schedules` shows the
//! schedule with its next run.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::support::server::{SERVICE_KEY, Server};
use crate::support::{Host, fixtures};

/// Ticks every 2 seconds (6 fields: seconds first).
const TICK_MS: i64 = 2_000;

/// A jobs directory holding only the scheduled `tick` job.
fn jobs_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tick.ts"),
        "// @fluxbase:schedule */2 * * * * *\n\
         // @fluxbase:schedule-payload {\"from\": \"schedule\"}\n\
         export default (payload: unknown, ctx: { runId: string }) => ({ payload, runId: ctx.runId });\n",
    )
    .unwrap();
    dir
}

fn start(host: &Host, jobs: &Path) -> Server {
    Server::start_in(host, &fixtures("functions"), jobs, &[])
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The run the schedule made for `tick`, once it has finished, or `None` if there is none.
fn run_of_tick(server: &Server, tick: i64) -> Option<serde_json::Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let answer = server.job_run(&format!("schedule-tick-{tick}"), SERVICE_KEY);
        if answer.status == 404 {
            return None;
        }
        let run = answer.json();
        if run["status"] == "succeeded" || run["status"] == "failed" {
            return Some(run);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "run of {tick} never ended: {run}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_schedule_runs_once_per_tick_across_two_hosts() {
    let Some(host_a) = Host::postgres("a_schedule_runs_once_per_tick_across_two_hosts") else {
        return;
    };
    let host_b = host_a.sharing();
    let jobs = jobs_dir();
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| start(&host_a, jobs.path()));
        let b = scope.spawn(|| start(&host_b, jobs.path()));
        (a.join().unwrap(), b.join().unwrap())
    });
    // The schedule starts at the first tick after a host first sees it.
    let from = now_ms() + 2 * TICK_MS;
    std::thread::sleep(Duration::from_millis(12_000));
    let until = now_ms() - TICK_MS;
    let first = (from / TICK_MS + 1) * TICK_MS;
    let ticks: Vec<i64> = (first..until).step_by(TICK_MS as usize).collect();
    assert!(ticks.len() >= 2, "{ticks:?}");
    for tick in &ticks {
        let run = run_of_tick(&a, *tick).unwrap_or_else(|| panic!("tick {tick} has no run"));
        assert_eq!(run["status"], "succeeded", "{run}");
        assert_eq!(run["attempts"], 1, "{run}");
        assert_eq!(run["result"]["payload"]["from"], "schedule", "{run}");
        assert_eq!(
            run["result"]["runId"],
            format!("schedule-tick-{tick}"),
            "{run}"
        );
        // Exactly one of the two hosts took the tick.
        let id = format!("enqueued run schedule-tick-{tick} ");
        let taken = [&a, &b]
            .iter()
            .map(|server| {
                server
                    .log
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|l| l.contains(&id))
                    .count()
            })
            .sum::<usize>();
        assert_eq!(taken, 1, "tick {tick} taken {taken} times");
    }
    // Nothing between the ticks.
    assert!(run_of_tick(&b, ticks[0] + 1_000).is_none());
}

#[test]
fn a_host_that_was_down_runs_one_catch_up_run_then_follows_the_schedule() {
    let host = Host::new();
    let jobs = jobs_dir();
    let server = start(&host, jobs.path());
    // Seen and started: the first tick after the start has its run.
    let first = (now_ms() / TICK_MS + 2) * TICK_MS;
    std::thread::sleep(Duration::from_millis((first - now_ms() + 500).max(0) as u64));
    assert!(
        run_of_tick(&server, first).is_some(),
        "tick {first} has no run"
    );
    let stopped_at = now_ms();
    drop(server);
    std::thread::sleep(Duration::from_millis(5_000));
    let restarted_at = now_ms();
    let server = start(&host, jobs.path());
    std::thread::sleep(Duration::from_millis(1_500));
    let missed: Vec<i64> = ((stopped_at / TICK_MS + 1) * TICK_MS..restarted_at)
        .step_by(TICK_MS as usize)
        .collect();
    assert!(missed.len() >= 2, "{missed:?}");
    let caught_up: Vec<i64> = missed
        .iter()
        .copied()
        .filter(|tick| run_of_tick(&server, *tick).is_some())
        .collect();
    assert_eq!(caught_up.len(), 1, "missed {missed:?}, ran {caught_up:?}");
    // Then it goes on at the next ticks.
    let next = (now_ms() / TICK_MS + 1) * TICK_MS;
    std::thread::sleep(Duration::from_millis(
        (next - now_ms() + 1_000).max(0) as u64
    ));
    assert!(
        run_of_tick(&server, next).is_some(),
        "tick {next} has no run"
    );
}

#[test]
fn jobs_schedules_lists_each_schedule_with_its_next_run() {
    let host = Host::new();
    let jobs = jobs_dir();
    let dir = jobs.path().display().to_string();
    let listed = host.run(&["jobs", "schedules", "--dir", &dir]);
    let shown = listed.ok();
    assert!(
        shown.contains("tick") && shown.contains("*/2 * * * * *"),
        "{shown}"
    );
    assert!(shown.contains("UTC"), "{shown}");
    let json = host
        .run(&["jobs", "schedules", "--dir", &dir, "-o", "json"])
        .json();
    assert_eq!(json[0]["name"], "tick");
    assert_eq!(json[0]["schedule"]["payload"]["from"], "schedule");
    let next = json[0]["next_run_at"].as_str().unwrap();
    assert!(next.ends_with('Z'), "{json}");

    std::fs::write(
        jobs.path().join("broken.ts"),
        "// @fluxbase:schedule every day\n",
    )
    .unwrap();
    let listed = host.run(&["jobs", "schedules", "--dir", &dir]);
    assert!(
        listed.ok().contains("tick"),
        "a bad schedule does not hide the others"
    );
}
