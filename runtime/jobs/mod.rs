//! The durable job queue: runs are enqueued in the store, so a queued or interrupted run
//! survives a restart. Workers claim due runs with a lease (renewed every third of it while the
//! run goes on), run them through the invoker with the same injection as functions, and retry
//! failures with exponential backoff up to `max_attempts`; an outcome is recorded only while
//! its attempt still holds the run. It runs no SQL (the store's queries) and resolves no secret.

mod control;
mod scheduler;

pub use control::{MAX_PRIORITY, RunTiming};
pub use scheduler::ScheduleView;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::handlers::{self, HandlerKind};
use crate::invoke::{Call, CallUser, ExecutionFailure, Invoker};
use crate::settings::UserId;
use crate::store::{Backend, JobRun, JobRunFilter, Store};
use crate::time::Timestamp;
use crate::{Error, Result};
use fluxbase_ops::progress::ProgressSink;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The statuses a run can be in.
pub const RUN_STATUSES: [&str; 5] = ["queued", "running", "succeeded", "failed", "cancelled"];

/// Most runs one listing returns.
pub const MAX_RUNS_LISTED: i64 = 500;

/// Default number of attempts of a run.
pub const DEFAULT_MAX_ATTEMPTS: i64 = 3;

/// How the queue runs jobs.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// Directory of the jobs.
    pub jobs_dir: PathBuf,
    /// Workers running jobs at once.
    pub workers: usize,
    /// Attempts of a run before it fails for good.
    pub max_attempts: i64,
    /// Pause before the first retry; doubled for each later one.
    pub backoff: Duration,
    /// How long a claimed run belongs to its worker without a renewal: after that, another
    /// worker (of any host) may claim it again. Renewed every third of it while the run goes on.
    pub lease: Duration,
    /// How often idle workers look for due runs (new runs of this host wake them at once).
    pub poll: Duration,
}

impl QueueConfig {
    /// A queue that enqueues and reads runs but runs none (no workers): the CLI's.
    pub fn reader() -> Self {
        QueueConfig {
            jobs_dir: PathBuf::new(),
            workers: 0,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            backoff: Duration::ZERO,
            lease: Duration::ZERO,
            poll: Duration::ZERO,
        }
    }
}

/// Enqueues runs and wakes the workers.
#[derive(Clone)]
pub struct JobQueue {
    store: Store,
    config: Arc<QueueConfig>,
    wake: Arc<Notify>,
}

impl JobQueue {
    /// A queue over `store`.
    pub fn new(store: Store, config: QueueConfig) -> Self {
        JobQueue {
            store,
            config: Arc::new(config),
            wake: Arc::new(Notify::new()),
        }
    }

    /// The user run `id` was enqueued for, if any.
    pub async fn run_user(&self, id: &str) -> Result<Option<UserId>> {
        self.store.job_run_user(id).await
    }

    /// Enqueues a run of job `name` (which must exist) and returns its id. A run made for
    /// `user` gets that user's settings secrets; `timing` delays it or gives it a priority.
    pub async fn enqueue(
        &self,
        name: &str,
        payload: &serde_json::Value,
        user: Option<&UserId>,
        timing: RunTiming,
    ) -> Result<String> {
        timing.check()?;
        let run_after = timing.run_at.unwrap_or_else(Timestamp::now);
        let handler = handlers::find(&self.config.jobs_dir, HandlerKind::Job, name)?;
        let max_attempts = handler
            .settings()?
            .max_attempts
            .unwrap_or(self.config.max_attempts);
        let id = uuid::Uuid::new_v4().to_string();
        let Some(user) = user else {
            self.store
                .enqueue_job(&id, name, payload, max_attempts, run_after, timing.priority)
                .await?;
            self.wake.notify_one();
            return Ok(id);
        };
        // The user first: a worker that claims the run finds it.
        self.store.set_job_run_user(&id, user).await?;
        let enqueued = self
            .store
            .enqueue_job(&id, name, payload, max_attempts, run_after, timing.priority)
            .await;
        if let Err(error) = enqueued {
            let _ = self.store.forget_job_run_user(&id).await;
            return Err(error);
        }
        self.wake.notify_one();
        Ok(id)
    }

    /// Recovers what the last stop of this host cut short, before its workers start. An
    /// embedded store has this one host, so a run left 'running' was interrupted: it is queued
    /// again, or failed if that was its last attempt. A shared database leaves such runs to
    /// their lease, since another host may be running them. Returns how many were requeued.
    pub async fn recover(&self) -> Result<u64> {
        if self.store.backend() != Backend::Sqlite {
            return Ok(0);
        }
        let requeued = self.store.requeue_running_jobs().await?;
        if requeued > 0 {
            tracing::info!(
                "{requeued} job run(s) interrupted by the last stop: queued again, or failed if \
                 that was their last attempt"
            );
        }
        Ok(requeued)
    }

    /// A run by id.
    pub async fn status(&self, id: &str) -> Result<JobRun> {
        self.store
            .job_run(id)
            .await?
            .ok_or_else(|| Error::NoJobRun(id.to_owned()))
    }

    /// Runs matching `filter`, newest first; with `user`, only the runs enqueued for that
    /// user. A `before` cursor that names no run (of that user) is [`Error::NoJobRun`].
    pub async fn runs(&self, filter: &JobRunFilter, user: Option<&UserId>) -> Result<Vec<JobRun>> {
        if !(1..=MAX_RUNS_LISTED).contains(&filter.limit) {
            return Err(Error::invalid(format!(
                "limit must be between 1 and {MAX_RUNS_LISTED}"
            )));
        }
        if let Some(status) = &filter.status
            && !RUN_STATUSES.contains(&status.as_str())
        {
            return Err(Error::invalid(format!(
                "invalid status {status:?}: use {}",
                RUN_STATUSES.join(", ")
            )));
        }
        if filter
            .name
            .as_deref()
            .is_some_and(|name| name.contains('\0'))
        {
            return Err(Error::invalid(
                "a job name cannot contain the NUL character",
            ));
        }
        if let Some(before) = &filter.before {
            let known = !before.contains('\0') && self.store.job_run(before).await?.is_some();
            let owned = match user {
                Some(user) => self.run_user(before).await.ok().flatten().as_ref() == Some(user),
                None => true,
            };
            if !(known && owned) {
                return Err(Error::NoJobRun(before.escape_debug().to_string()));
            }
        }
        let filter = JobRunFilter {
            user: user.map(|u| u.as_str().to_owned()),
            ..filter.clone()
        };
        self.store.job_runs(&filter).await
    }

    /// Starts the workers; they stop when `stop` turns true.
    pub fn start(&self, invoker: Arc<Invoker>, stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
        (0..self.config.workers.max(1))
            .map(|_| {
                let queue = self.clone();
                let invoker = invoker.clone();
                let stop = stop.clone();
                tokio::spawn(async move { queue.work(invoker, stop).await })
            })
            .collect()
    }

    async fn work(self, invoker: Arc<Invoker>, mut stop: watch::Receiver<bool>) {
        while !*stop.borrow() {
            let lease_until =
                Timestamp::from_millis(Timestamp::now().millis() + millis(self.config.lease));
            match self.store.claim_job(lease_until).await {
                Ok(Some(run)) => self.run(&invoker, run).await,
                Ok(None) => {
                    tokio::select! {
                        () = self.wake.notified() => {}
                        () = tokio::time::sleep(self.config.poll) => {}
                        _ = stop.changed() => {}
                    }
                }
                Err(error) => {
                    tracing::error!("job queue: cannot claim a run: {error}");
                    tokio::time::sleep(self.config.poll).await;
                }
            }
        }
    }

    async fn run(&self, invoker: &Invoker, run: JobRun) {
        let cancel = CancellationToken::new();
        let (progress, reports) = mpsc::unbounded_channel();
        let invocation = async {
            let user = self.store.job_run_user(&run.id).await?;
            let call = Call::job(&self.config.jobs_dir, &run.name, run.payload.clone())
                .of_run(&run.id)
                .for_user(user.map(CallUser::by_id))
                .reporting_to(ProgressSink(progress))
                .cancelled_by(cancel.clone());
            invoker.execute(call).await
        };
        let outcome = tokio::select! {
            biased;
            outcome = invocation => outcome,
            never = self.keep_lease(&run) => match never {},
            never = self.watch_for_cancel(&run, &cancel) => match never {},
            never = self.record_progress(&run, reports) => match never {},
        };
        let stored = match outcome {
            Err(Error::Execution {
                execution_id,
                failure: ExecutionFailure::Cancelled,
                ..
            }) => {
                tracing::info!("job {} run {} cancelled while it ran", run.name, run.id);
                self.store
                    .cancel_running_job(&run.id, run.attempts, Some(&execution_id))
                    .await
            }
            Ok(done) => {
                let execution_id = done.execution_id.clone();
                let result = done.result().unwrap_or_default();
                self.store
                    .finish_job(&run.id, run.attempts, &execution_id, &result)
                    .await
            }
            Err(error) => {
                let (execution_id, retryable) = match &error {
                    Error::Execution { execution_id, .. } => (Some(execution_id.as_str()), true),
                    _ => (None, false),
                };
                let retry_at = (retryable && run.attempts < run.max_attempts).then(|| {
                    let factor = 1u32 << (run.attempts - 1).clamp(0, 16);
                    let delay = self.config.backoff.saturating_mul(factor);
                    Timestamp::from_millis(Timestamp::now().millis() + millis(delay))
                });
                tracing::warn!(
                    "job {} run {} attempt {}/{} failed: {error}",
                    run.name,
                    run.id,
                    run.attempts,
                    run.max_attempts
                );
                self.store
                    .fail_job(
                        &run.id,
                        run.attempts,
                        execution_id,
                        &error.to_string(),
                        retry_at,
                    )
                    .await
            }
        };
        match stored {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                "job {} run {} attempt {}: the lease passed to another worker before it ended; \
                 its outcome is not recorded",
                run.name,
                run.id,
                run.attempts
            ),
            Err(error) => tracing::error!("job queue: cannot record run {}: {error}", run.id),
        }
    }

    /// Renews the lease of `run` every third of the lease, for as long as it is polled.
    async fn keep_lease(&self, run: &JobRun) -> std::convert::Infallible {
        let every = self.config.lease / 3;
        loop {
            tokio::time::sleep(every).await;
            let lease_until =
                Timestamp::from_millis(Timestamp::now().millis() + millis(self.config.lease));
            match self
                .store
                .renew_job_lease(&run.id, run.attempts, lease_until)
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(
                        "job {} run {} attempt {}: lost its lease to another worker",
                        run.name,
                        run.id,
                        run.attempts
                    );
                    return std::future::pending().await;
                }
                // A database hiccup: try again at the next renewal, the lease has time left.
                Err(error) => {
                    tracing::warn!("job queue: cannot renew the lease of {}: {error}", run.id)
                }
            }
        }
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
