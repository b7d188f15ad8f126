//! The job queue's rows: enqueue, claim with a lease, renew, finish, retry, requeue, read.
//! Every state change is one conditional statement, so only the attempt holding a run can
//! record its outcome. Retry times and attempt limits come from the caller (`jobs`): this module
//! decides no policy and runs no handler.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Backend, Store};
use crate::Result;
use crate::time::Timestamp;

/// One job run as stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JobRun {
    /// Run id (also `FLUXBASE_JOB_ID` inside the job).
    pub id: String,
    /// Job name.
    pub name: String,
    /// The payload.
    pub payload: serde_json::Value,
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    pub status: String,
    /// Attempts started so far.
    pub attempts: i64,
    /// Attempts allowed.
    pub max_attempts: i64,
    /// What the job returned, once it succeeded.
    pub result: Option<serde_json::Value>,
    /// Why the last attempt failed.
    pub error: Option<String>,
    /// The execution record of the last attempt.
    pub last_execution_id: Option<String>,
    /// When it was enqueued.
    pub created_at: Timestamp,
    /// When it may run (a delayed run waits until then).
    pub run_after: Timestamp,
    /// Among due runs, higher runs first.
    pub priority: i64,
    /// What the job last reported with `ctx.progress`, while or after it ran.
    pub progress: Option<Progress>,
    /// A cancel was asked of this running run; its worker stops it.
    pub cancel_requested: bool,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// Which job runs a listing returns (newest first).
#[derive(Debug, Clone, Default)]
pub struct JobRunFilter {
    /// Only runs of this job.
    pub name: Option<String>,
    /// Only runs in this status.
    pub status: Option<String>,
    /// Only runs enqueued at or after this time.
    pub since: Option<Timestamp>,
    /// Only runs enqueued before this run (the paging cursor: the last run of a page).
    pub before: Option<String>,
    /// Only runs enqueued for this user.
    pub user: Option<String>,
    /// At most this many.
    pub limit: i64,
}

/// How far a run has come, as its job said with `ctx.progress(percent, message)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Progress {
    /// 0 to 100.
    pub percent: i64,
    /// What the job said (passed through its isolate's redactor).
    pub message: Option<String>,
}

/// What a cancel did to a run.
#[derive(Debug, Clone)]
pub enum Cancelled {
    /// It was queued: it is cancelled and will not run (the run as the cancel left it).
    Queued(JobRun),
    /// It is running: its worker is asked to stop it (the run as the cancel left it).
    Requested(JobRun),
    /// It had already ended (its status says how); nothing changed.
    AlreadyEnded,
    /// There is no such run.
    Missing,
}

/// The columns of a run, in every query that reads one.
macro_rules! run_columns {
    () => {
        "id, name, payload, status, attempts, max_attempts, result, error, last_execution_id, \
         created_at, updated_at, run_after, priority, progress_percent, progress_message, \
         cancel_requested"
    };
}

/// The claim statement; `$lock` is how the chosen row is locked against other claimers.
macro_rules! claim_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE job_runs SET status = 'running', attempts = attempts + 1, \
             lease_until = $1, updated_at = $2 \
             WHERE id = (SELECT id FROM job_runs \
               WHERE (status = 'queued' AND run_after <= $2) \
                  OR (status = 'running' AND lease_until < $2 AND attempts < max_attempts \
                      AND cancel_requested = 0) \
               ORDER BY priority DESC, run_after LIMIT 1 ",
            $lock,
            ") RETURNING ",
            run_columns!()
        )
    };
}

/// The error of a run whose host stopped in the middle of its last attempt.
const ABANDONED: &str = "the host running its last attempt stopped before it finished";

impl Store {
    /// Enqueues a run of job `name`, due at `run_after` (now or later), with `priority`.
    pub async fn enqueue_job(
        &self,
        id: &str,
        name: &str,
        payload: &serde_json::Value,
        max_attempts: i64,
        run_after: Timestamp,
        priority: i64,
    ) -> Result<()> {
        let now = Timestamp::now().millis();
        sqlx::query(
            "INSERT INTO job_runs (id, name, payload, status, attempts, max_attempts, run_after, \
             created_at, updated_at, priority) \
             VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $6, $7)",
        )
        .bind(id)
        .bind(name)
        .bind(payload.to_string())
        .bind(max_attempts)
        .bind(run_after.millis().max(now))
        .bind(now)
        .bind(priority)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Cancels run `id`: a queued run at once, a running one by a request its worker sees.
    pub async fn cancel_job_run(&self, id: &str) -> Result<Cancelled> {
        let now = Timestamp::now().millis();
        let queued = sqlx::query(concat!(
            "UPDATE job_runs SET status = 'cancelled', error = 'cancelled before it ran', \
             updated_at = $1 WHERE id = $2 AND status = 'queued' RETURNING ",
            run_columns!()
        ))
        .bind(now)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = queued {
            return Ok(Cancelled::Queued(job_run(&row)?));
        }
        let running = sqlx::query(concat!(
            "UPDATE job_runs SET cancel_requested = 1, updated_at = $1 \
             WHERE id = $2 AND status = 'running' RETURNING ",
            run_columns!()
        ))
        .bind(now)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = running {
            return Ok(Cancelled::Requested(job_run(&row)?));
        }
        Ok(match self.job_run(id).await? {
            Some(_) => Cancelled::AlreadyEnded,
            None => Cancelled::Missing,
        })
    }

    /// Whether a cancel was asked of run `id` while attempt `attempt` runs it.
    pub async fn job_cancel_requested(&self, id: &str, attempt: i64) -> Result<bool> {
        let row = sqlx::query(
            "SELECT cancel_requested FROM job_runs WHERE id = $1 AND attempts = $2 \
             AND status = 'running'",
        )
        .bind(id)
        .bind(attempt)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(row) => row.try_get::<i64, _>("cancel_requested")? != 0,
            None => false,
        })
    }

    /// Marks a running run cancelled (its worker stopped it), if attempt `attempt` holds it.
    pub async fn cancel_running_job(
        &self,
        id: &str,
        attempt: i64,
        execution_id: Option<&str>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE job_runs SET status = 'cancelled', error = 'cancelled while it ran', \
             last_execution_id = COALESCE($1, last_execution_id), lease_until = NULL, \
             updated_at = $2 WHERE id = $3 AND attempts = $4 AND status = 'running'",
        )
        .bind(execution_id)
        .bind(Timestamp::now().millis())
        .bind(id)
        .bind(attempt)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Queues a failed or cancelled run again, with a fresh count of attempts, and returns it as
    /// queued; `None` when it is not failed or cancelled (or does not exist).
    pub async fn retry_job_run(&self, id: &str) -> Result<Option<JobRun>> {
        let now = Timestamp::now().millis();
        let row = sqlx::query(concat!(
            "UPDATE job_runs SET status = 'queued', attempts = 0, error = NULL, result = NULL, \
             lease_until = NULL, cancel_requested = 0, progress_percent = NULL, \
             progress_message = NULL, run_after = $1, updated_at = $1 \
             WHERE id = $2 AND status IN ('failed', 'cancelled') RETURNING ",
            run_columns!()
        ))
        .bind(now)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| job_run(&row)).transpose()
    }

    /// Records the progress attempt `attempt` of run `id` reports, while it holds the run.
    pub async fn set_job_progress(
        &self,
        id: &str,
        attempt: i64,
        progress: &Progress,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE job_runs SET progress_percent = $1, progress_message = $2, updated_at = $3 \
             WHERE id = $4 AND attempts = $5 AND status = 'running'",
        )
        .bind(progress.percent)
        .bind(
            progress
                .message
                .as_deref()
                .map(super::executions::storable_text),
        )
        .bind(Timestamp::now().millis())
        .bind(id)
        .bind(attempt)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Claims the next run that is due (or whose lease has passed) until `lease_until`, and
    /// counts the attempt. Exactly one claimer gets each run.
    /// A run whose lease passed on its last attempt is not claimed again but failed: its host
    /// stopped in the middle of every attempt.
    pub async fn claim_job(&self, lease_until: Timestamp) -> Result<Option<JobRun>> {
        let now = Timestamp::now().millis();
        sqlx::query(
            "UPDATE job_runs SET status = 'failed', error = $1, lease_until = NULL, \
             updated_at = $2 \
             WHERE status = 'running' AND lease_until < $2 AND attempts >= max_attempts",
        )
        .bind(ABANDONED)
        .bind(now)
        .execute(&self.pool)
        .await?;
        let query = match self.backend {
            Backend::Sqlite => sqlx::query(claim_sql!("")),
            // Concurrent claimers on other hosts skip the row one of them has locked.
            Backend::Postgres => sqlx::query(claim_sql!("FOR UPDATE SKIP LOCKED")),
        };
        let row = match self.backend {
            Backend::Sqlite => {
                let mut tx = self.begin_write().await?;
                let row = query
                    .bind(lease_until.millis())
                    .bind(now)
                    .fetch_optional(&mut *tx.tx)
                    .await?;
                tx.commit().await?;
                row
            }
            Backend::Postgres => {
                query
                    .bind(lease_until.millis())
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await?
            }
        };
        row.map(|row| job_run(&row)).transpose()
    }

    /// Extends the lease of a run that attempt `attempt` still holds; `false` when the run is no
    /// longer that attempt's (its lease passed and another worker claimed it).
    pub async fn renew_job_lease(
        &self,
        id: &str,
        attempt: i64,
        lease_until: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE job_runs SET lease_until = $1 \
             WHERE id = $2 AND attempts = $3 AND status = 'running'",
        )
        .bind(lease_until.millis())
        .bind(id)
        .bind(attempt)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks a run succeeded with its result, if attempt `attempt` still holds it; `false` when
    /// another worker has claimed the run since (the outcome is then not recorded).
    pub async fn finish_job(
        &self,
        id: &str,
        attempt: i64,
        execution_id: &str,
        result: &serde_json::Value,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE job_runs SET status = 'succeeded', result = $1, error = NULL, \
             last_execution_id = $2, lease_until = NULL, updated_at = $3 \
             WHERE id = $4 AND attempts = $5 AND status = 'running'",
        )
        .bind(result.to_string())
        .bind(execution_id)
        .bind(Timestamp::now().millis())
        .bind(id)
        .bind(attempt)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a failed attempt: queued again after `retry_at`, or failed for good when `None`.
    /// Like [`Store::finish_job`], only while attempt `attempt` holds the run.
    pub async fn fail_job(
        &self,
        id: &str,
        attempt: i64,
        execution_id: Option<&str>,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<bool> {
        let status = if retry_at.is_some() {
            "queued"
        } else {
            "failed"
        };
        let now = Timestamp::now().millis();
        let done = sqlx::query(
            "UPDATE job_runs SET status = $1, error = $2, \
             last_execution_id = COALESCE($3, last_execution_id), lease_until = NULL, \
             run_after = $4, updated_at = $5 \
             WHERE id = $6 AND attempts = $7 AND status = 'running'",
        )
        .bind(status)
        .bind(super::executions::storable_text(error))
        .bind(execution_id)
        .bind(retry_at.map_or(now, Timestamp::millis))
        .bind(now)
        .bind(id)
        .bind(attempt)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Puts every running job back in the queue, or fails it when that was its last attempt
    /// (an embedded store has one host: after a restart, nothing is running).
    pub async fn requeue_running_jobs(&self) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE job_runs SET \
             status = CASE WHEN attempts < max_attempts THEN 'queued' ELSE 'failed' END, \
             error = CASE WHEN attempts < max_attempts THEN error ELSE $1 END, \
             lease_until = NULL, updated_at = $2 \
             WHERE status = 'running'",
        )
        .bind(ABANDONED)
        .bind(Timestamp::now().millis())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// One run by id.
    pub async fn job_run(&self, id: &str) -> Result<Option<JobRun>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            run_columns!(),
            " FROM job_runs WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| job_run(&row)).transpose()
    }
}

impl Store {
    /// Runs matching `filter`, newest first (enqueue time, then id, so pages never overlap).
    pub async fn job_runs(&self, filter: &JobRunFilter) -> Result<Vec<JobRun>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            run_columns!(),
            " FROM job_runs r \
             WHERE ($1 = '' OR r.name = $1) AND ($2 = '' OR r.status = $2) \
               AND r.created_at >= $3 \
               AND ($4 = '' \
                    OR r.created_at < (SELECT c.created_at FROM job_runs c WHERE c.id = $4) \
                    OR (r.created_at = (SELECT c.created_at FROM job_runs c WHERE c.id = $4) \
                        AND r.id < $4)) \
               AND ($5 = '' OR r.id IN (SELECT u.run_id FROM job_run_users u WHERE u.user_id = $5)) \
             ORDER BY r.created_at DESC, r.id DESC LIMIT $6"
        ))
        .bind(filter.name.clone().unwrap_or_default())
        .bind(filter.status.clone().unwrap_or_default())
        .bind(filter.since.map_or(i64::MIN, Timestamp::millis))
        .bind(filter.before.clone().unwrap_or_default())
        .bind(filter.user.clone().unwrap_or_default())
        .bind(filter.limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(job_run).collect()
    }
}

fn json_column(text: Option<String>) -> Option<serde_json::Value> {
    text.and_then(|t| serde_json::from_str(&t).ok())
}

fn job_run(row: &AnyRow) -> Result<JobRun> {
    Ok(JobRun {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        payload: json_column(row.try_get("payload")?).unwrap_or_default(),
        status: row.try_get("status")?,
        attempts: row.try_get("attempts")?,
        max_attempts: row.try_get("max_attempts")?,
        result: json_column(row.try_get("result")?),
        error: row.try_get("error")?,
        last_execution_id: row.try_get("last_execution_id")?,
        created_at: Timestamp::from_millis(row.try_get("created_at")?),
        updated_at: Timestamp::from_millis(row.try_get("updated_at")?),
        run_after: Timestamp::from_millis(row.try_get("run_after")?),
        priority: row.try_get("priority")?,
        progress: row
            .try_get::<Option<i64>, _>("progress_percent")?
            .map(|percent| -> Result<Progress> {
                Ok(Progress {
                    percent,
                    message: row.try_get("progress_message")?,
                })
            })
            .transpose()?,
        cancel_requested: row.try_get::<i64, _>("cancel_requested")? != 0,
    })
}
