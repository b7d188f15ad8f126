//! The job queue's rows: enqueue, claim with a lease, finish, retry, read.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Backend, Store};
use crate::Result;
use crate::time::Timestamp;

/// One job run as stored.
#[derive(Debug, Clone, Serialize)]
pub struct JobRun {
    /// Run id (also `FLUXBASE_JOB_ID` inside the job).
    pub id: String,
    /// Job name.
    pub name: String,
    /// The payload.
    pub payload: serde_json::Value,
    /// `queued`, `running`, `succeeded` or `failed`.
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
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// The claim statement; `$lock` is how the chosen row is locked against other claimers.
macro_rules! claim_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE job_runs SET status = 'running', attempts = attempts + 1, \
             lease_until = $1, updated_at = $2 \
             WHERE id = (SELECT id FROM job_runs \
               WHERE (status = 'queued' AND run_after <= $2) \
                  OR (status = 'running' AND lease_until < $2) \
               ORDER BY run_after LIMIT 1 ",
            $lock,
            ") RETURNING id, name, payload, status, attempts, max_attempts, result, error, \
             last_execution_id, created_at, updated_at"
        )
    };
}

impl Store {
    /// Enqueues a run of job `name`.
    pub async fn enqueue_job(
        &self,
        id: &str,
        name: &str,
        payload: &serde_json::Value,
        max_attempts: i64,
    ) -> Result<()> {
        let now = Timestamp::now().millis();
        sqlx::query(
            "INSERT INTO job_runs (id, name, payload, status, attempts, max_attempts, run_after, \
             created_at, updated_at) VALUES ($1, $2, $3, 'queued', 0, $4, $5, $5, $5)",
        )
        .bind(id)
        .bind(name)
        .bind(payload.to_string())
        .bind(max_attempts)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Claims the next run that is due (or whose lease has passed) until `lease_until`, and
    /// counts the attempt. Exactly one claimer gets each run.
    pub async fn claim_job(&self, lease_until: Timestamp) -> Result<Option<JobRun>> {
        let now = Timestamp::now().millis();
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

    /// Marks a run succeeded with its result.
    pub async fn finish_job(
        &self,
        id: &str,
        execution_id: &str,
        result: &serde_json::Value,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE job_runs SET status = 'succeeded', result = $1, error = NULL, \
             last_execution_id = $2, lease_until = NULL, updated_at = $3 WHERE id = $4",
        )
        .bind(result.to_string())
        .bind(execution_id)
        .bind(Timestamp::now().millis())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a failed attempt: queued again after `retry_at`, or failed for good when `None`.
    pub async fn fail_job(
        &self,
        id: &str,
        execution_id: Option<&str>,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<()> {
        let status = if retry_at.is_some() {
            "queued"
        } else {
            "failed"
        };
        let now = Timestamp::now().millis();
        sqlx::query(
            "UPDATE job_runs SET status = $1, error = $2, \
             last_execution_id = COALESCE($3, last_execution_id), lease_until = NULL, \
             run_after = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(status)
        .bind(error)
        .bind(execution_id)
        .bind(retry_at.map_or(now, Timestamp::millis))
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Puts every running job back in the queue (an embedded store has one host: after a
    /// restart, nothing is running).
    pub async fn requeue_running_jobs(&self) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE job_runs SET status = 'queued', lease_until = NULL, updated_at = $1 \
             WHERE status = 'running'",
        )
        .bind(Timestamp::now().millis())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// One run by id.
    pub async fn job_run(&self, id: &str) -> Result<Option<JobRun>> {
        let row = sqlx::query(
            "SELECT id, name, payload, status, attempts, max_attempts, result, error, \
             last_execution_id, created_at, updated_at FROM job_runs WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| job_run(&row)).transpose()
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
    })
}
