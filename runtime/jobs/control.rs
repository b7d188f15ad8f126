//! Job control: when a run may start and how urgent it is, cancelling a queued or running run,
//! retrying a failed or cancelled one, and what a running job reports of its progress. A running
//! run is cancelled through the store (any host may ask), and the worker holding it polls for
//! that and stops its execution; each change is one conditional statement of the store, so it
//! never races the run's own outcome. It runs no handler and no SQL of its own.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::JobQueue;
use crate::settings::UserId;
use crate::store::{Cancelled, JobRun, Progress};
use crate::time::Timestamp;
use crate::{Error, Result};
use fluxbase_ops::progress::ProgressReport;

/// How often a worker looks whether its running run was asked to stop.
const CANCEL_POLL: Duration = Duration::from_millis(250);

/// Highest (and, negated, lowest) priority of a run.
pub const MAX_PRIORITY: i64 = 1_000;

/// When a new run may start and how it ranks among due runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunTiming {
    /// Not before this time (`None`: now).
    pub run_at: Option<Timestamp>,
    /// Higher runs first among due runs (default 0), from -1000 to 1000.
    pub priority: i64,
}

impl RunTiming {
    /// `run_at` as given: an RFC 3339 time (`2027-01-31T08:00:00Z`) or a delay from now
    /// (`30s`, `5m`, `2h`); `None` runs as soon as a worker is free.
    pub fn parse_run_at(raw: Option<&str>) -> Result<Option<Timestamp>> {
        let Some(raw) = raw.map(str::trim) else {
            return Ok(None);
        };
        if let Some(at) = Timestamp::parse_rfc3339(raw) {
            return Ok(Some(at));
        }
        let invalid = || {
            Error::invalid(format!(
                "invalid run_at {raw:?}: use an RFC 3339 time such as 2027-01-31T08:00:00Z or a \
                 delay such as 30s, 5m or 2h"
            ))
        };
        // One number of up to 4 digits and one unit, as the API document says (at most 9999
        // days: the time stays within what RFC 3339 can write).
        let digits = raw.chars().take_while(char::is_ascii_digit).count();
        let unit = &raw[digits..];
        if !(1..=4).contains(&digits) || !["ms", "s", "m", "h", "d"].contains(&unit) {
            return Err(invalid());
        }
        let delay = humantime::parse_duration(raw).map_err(|_| invalid())?;
        let millis = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
        Ok(Some(Timestamp::from_millis(
            Timestamp::now().millis().saturating_add(millis),
        )))
    }

    /// Refuses a priority out of range.
    pub fn check(&self) -> Result<()> {
        if !(-MAX_PRIORITY..=MAX_PRIORITY).contains(&self.priority) {
            return Err(Error::invalid(format!(
                "priority must be between -{MAX_PRIORITY} and {MAX_PRIORITY}"
            )));
        }
        Ok(())
    }
}

impl JobQueue {
    /// Cancels run `id`: a queued run is cancelled at once and never runs; a running run is
    /// stopped by the worker holding it (on any host), within a fraction of a second. With
    /// `user`, only a run enqueued for that user. A run that has ended is a conflict.
    pub async fn cancel(&self, id: &str, user: Option<&UserId>) -> Result<JobRun> {
        self.check_owner(id, user).await?;
        match self.store.cancel_job_run(id).await? {
            Cancelled::Queued(run) | Cancelled::Requested(run) => Ok(run),
            Cancelled::Missing => Err(Error::NoJobRun(id.to_owned())),
            Cancelled::AlreadyEnded => {
                let run = self.status(id).await?;
                Err(Error::Conflict(format!(
                    "run {id} has already ended ({}): there is nothing to cancel",
                    run.status
                )))
            }
        }
    }

    /// Queues a failed or cancelled run again, with a fresh count of attempts. With `user`,
    /// only a run enqueued for that user.
    pub async fn retry(&self, id: &str, user: Option<&UserId>) -> Result<JobRun> {
        self.check_owner(id, user).await?;
        let Some(queued) = self.store.retry_job_run(id).await? else {
            let run = self.status(id).await?;
            return Err(Error::Conflict(format!(
                "run {id} is {}: only a failed or cancelled run can be retried",
                run.status
            )));
        };
        self.wake.notify_one();
        Ok(queued)
    }

    /// A user sees only the runs enqueued for them; any other run is "no such run".
    async fn check_owner(&self, id: &str, user: Option<&UserId>) -> Result<()> {
        if let Some(user) = user
            && self.run_user(id).await?.as_ref() != Some(user)
        {
            return Err(Error::NoJobRun(id.to_owned()));
        }
        Ok(())
    }

    /// Cancels `token` once a cancel is asked of `run` (by any host); polled while it runs.
    pub(super) async fn watch_for_cancel(
        &self,
        run: &JobRun,
        token: &CancellationToken,
    ) -> std::convert::Infallible {
        loop {
            tokio::time::sleep(CANCEL_POLL).await;
            if let Ok(true) = self.store.job_cancel_requested(&run.id, run.attempts).await {
                token.cancel();
                return std::future::pending().await;
            }
        }
    }

    /// Keeps what the running job reports with `ctx.progress` on its run.
    pub(super) async fn record_progress(
        &self,
        run: &JobRun,
        mut reports: mpsc::UnboundedReceiver<ProgressReport>,
    ) -> std::convert::Infallible {
        while let Some(report) = reports.recv().await {
            let progress = Progress {
                percent: i64::from(report.percent),
                message: report.message,
            };
            if let Err(error) = self
                .store
                .set_job_progress(&run.id, run.attempts, &progress)
                .await
            {
                tracing::warn!(
                    "job queue: cannot record the progress of {}: {error}",
                    run.id
                );
            }
        }
        std::future::pending().await
    }
}
