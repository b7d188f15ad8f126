//! The scheduler: every host runs one. About once a second it reads the job files' schedules
//! (`// @fluxbase:schedule`, cached per file stamp) and, for each job whose next tick has come,
//! takes that tick in the store and enqueues its run in the same transaction. Of several hosts
//! sharing a store exactly one takes each tick (a compare-and-set on the tick); a tick missed
//! while every host was down runs once when one starts, and the schedule then moves on to its
//! next tick after now. Scheduled runs have the id `schedule-<job>-<tick in ms>`. It reads
//! files and calls the store; it runs no handler (the workers do).

use std::path::Path;
use std::time::Duration;

use tokio::sync::watch;

use super::JobQueue;
use crate::Result;
use crate::handlers::{self, Handler, HandlerKind, Schedule, SettingsCache};
use crate::store::{ScheduleState, ScheduledRun};
use crate::time::Timestamp;

/// How often the schedules are looked at.
const PASS_EVERY: Duration = Duration::from_millis(500);

/// A scheduled job as `fluxbase jobs schedules` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScheduleView {
    /// The job.
    pub name: String,
    /// Its schedule, as its file says.
    pub schedule: Schedule,
    /// Where it stands in the store, once a host has seen it.
    pub next_run_at: Option<Timestamp>,
    /// The run its last tick enqueued.
    pub last_run_id: Option<String>,
}

impl JobQueue {
    /// Runs the scheduler until `stop` turns true.
    pub async fn schedule(&self, mut stop: watch::Receiver<bool>) {
        let files = SettingsCache::default();
        loop {
            if let Err(error) = self.schedule_pass(&files).await {
                tracing::warn!("scheduler: {error}");
            }
            tokio::select! {
                () = tokio::time::sleep(PASS_EVERY) => {}
                _ = stop.wait_for(|stop| *stop) => return,
            }
        }
    }

    /// Every scheduled job of the jobs directory and where it stands.
    pub async fn schedules(&self) -> Result<Vec<ScheduleView>> {
        let mut views = Vec::new();
        for Scheduled {
            handler, schedule, ..
        } in scheduled(&self.config.jobs_dir, &SettingsCache::default())?
        {
            let state = self.store.schedule_state(&handler.name).await?;
            let current = state.filter(|s| same(s, &schedule));
            views.push(ScheduleView {
                name: handler.name,
                next_run_at: current
                    .as_ref()
                    .map(|s| s.next_run_at)
                    .or_else(|| schedule.next_after(Timestamp::now())),
                last_run_id: current.and_then(|s| s.last_run_id),
                schedule,
            });
        }
        Ok(views)
    }

    /// One look at every schedule: start new ones, run due ticks.
    async fn schedule_pass(&self, files: &SettingsCache) -> Result<()> {
        let now = Timestamp::now();
        for Scheduled {
            handler,
            schedule,
            max_attempts,
        } in scheduled(&self.config.jobs_dir, files)?
        {
            let name = handler.name.as_str();
            let state = self.store.schedule_state(name).await?;
            let Some(state) = state.filter(|s| same(s, &schedule)) else {
                // New (or changed): it starts at its next tick from now.
                if let Some(next) = schedule.next_after(now) {
                    let zone = schedule.timezone.name();
                    self.store
                        .start_schedule(name, &schedule.expression, zone, next)
                        .await?;
                }
                continue;
            };
            if state.next_run_at > now {
                continue;
            }
            let due = state.next_run_at;
            // Past every tick missed meanwhile: one run for all of them.
            let Some(next) = schedule.next_after(now) else {
                continue;
            };
            let id = format!("schedule-{name}-{}", due.millis());
            let max_attempts = max_attempts.unwrap_or(self.config.max_attempts);
            let run = ScheduledRun {
                id: &id,
                name,
                payload: schedule.payload(),
                max_attempts,
            };
            if self.store.take_schedule_tick(due, next, run).await? {
                tracing::info!("scheduler: enqueued run {id} of job {name}");
                self.wake.notify_one();
            }
        }
        Ok(())
    }
}

/// Whether the stored state was computed for this schedule.
fn same(state: &ScheduleState, schedule: &Schedule) -> bool {
    state.expression == schedule.expression && state.timezone == schedule.timezone.name()
}

/// A scheduled job: its file, its schedule, and the attempts its runs get (its own
/// `@fluxbase:max-attempts`, if it sets one).
struct Scheduled {
    handler: Handler,
    schedule: Schedule,
    max_attempts: Option<i64>,
}

/// The jobs of `dir` that have a schedule. A job whose annotations are bad is skipped with a
/// warning: it cannot load, and its other runs say why.
fn scheduled(dir: &Path, files: &SettingsCache) -> Result<Vec<Scheduled>> {
    let mut found = Vec::new();
    for handler in handlers::discover(dir, HandlerKind::Job)? {
        match files.settings(&handler, handler.stamp()) {
            Ok(settings) => {
                if let Some(schedule) = settings.schedule.clone() {
                    found.push(Scheduled {
                        handler,
                        schedule,
                        max_attempts: settings.max_attempts,
                    });
                }
            }
            Err(error) => tracing::warn!("scheduler: {error}"),
        }
    }
    Ok(found)
}
