//! Queries on `job_schedules`: where each scheduled job stands (its next tick), and taking a due
//! tick, which enqueues its run in the same transaction. Taking a tick is a compare-and-set on
//! the tick it read, so of several hosts reading the same tick exactly one takes it. It computes
//! no tick times: the scheduler in `jobs` does.

use sqlx::Row;

use super::Store;
use crate::Result;
use crate::time::Timestamp;

/// Where one scheduled job stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleState {
    /// The cron expression the row was computed for.
    pub expression: String,
    /// Its time zone.
    pub timezone: String,
    /// The tick it runs at next.
    pub next_run_at: Timestamp,
    /// The run its last tick enqueued.
    pub last_run_id: Option<String>,
    /// When that tick was taken.
    pub last_run_at: Option<Timestamp>,
}

/// The run a taken tick enqueues.
#[derive(Debug, Clone)]
pub struct ScheduledRun<'a> {
    /// Its id.
    pub id: &'a str,
    /// The job.
    pub name: &'a str,
    /// Its payload.
    pub payload: &'a serde_json::Value,
    /// Attempts allowed.
    pub max_attempts: i64,
}

impl Store {
    /// Where the scheduled job `name` stands, if it has been seen.
    pub async fn schedule_state(&self, name: &str) -> Result<Option<ScheduleState>> {
        let row = sqlx::query(
            "SELECT expression, timezone, next_run_at, last_run_id, last_run_at \
             FROM job_schedules WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(ScheduleState {
                expression: row.try_get("expression")?,
                timezone: row.try_get("timezone")?,
                next_run_at: Timestamp::from_millis(row.try_get("next_run_at")?),
                last_run_id: row.try_get("last_run_id")?,
                last_run_at: row
                    .try_get::<Option<i64>, _>("last_run_at")?
                    .map(Timestamp::from_millis),
            })
        })
        .transpose()
    }

    /// Starts (or, when its expression or time zone changed, restarts) the schedule of `name`
    /// at `next_run_at`. A schedule already there unchanged is left as it is.
    pub async fn start_schedule(
        &self,
        name: &str,
        expression: &str,
        timezone: &str,
        next_run_at: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO job_schedules (name, expression, timezone, next_run_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET expression = excluded.expression, \
             timezone = excluded.timezone, next_run_at = excluded.next_run_at \
             WHERE job_schedules.expression <> excluded.expression \
                OR job_schedules.timezone <> excluded.timezone",
        )
        .bind(name)
        .bind(expression)
        .bind(timezone)
        .bind(next_run_at.millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes the tick `due` of the schedule of `run.name` (moving it to `next`) and enqueues
    /// `run`, in one transaction. `false` when another host took that tick first.
    pub async fn take_schedule_tick(
        &self,
        due: Timestamp,
        next: Timestamp,
        run: ScheduledRun<'_>,
    ) -> Result<bool> {
        let now = Timestamp::now().millis();
        let mut tx = self.begin_write().await?;
        let taken = sqlx::query(
            "UPDATE job_schedules SET next_run_at = $1, last_run_id = $2, last_run_at = $3 \
             WHERE name = $4 AND next_run_at = $5",
        )
        .bind(next.millis())
        .bind(run.id)
        .bind(now)
        .bind(run.name)
        .bind(due.millis())
        .execute(&mut *tx.tx)
        .await?
        .rows_affected()
            == 1;
        if taken {
            sqlx::query(
                "INSERT INTO job_runs (id, name, payload, status, attempts, max_attempts, \
                 run_after, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'queued', 0, $4, $5, $5, $5)",
            )
            .bind(run.id)
            .bind(run.name)
            .bind(run.payload.to_string())
            .bind(run.max_attempts)
            .bind(now)
            .execute(&mut *tx.tx)
            .await?;
        }
        tx.commit().await?;
        Ok(taken)
    }
}
