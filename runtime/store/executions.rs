//! Execution records: one row per invocation or job run, written in batches and read for
//! `logs`. It stores what it is given (console lines already redacted by the isolate) and
//! redacts nothing itself; it never formats output, only escapes NUL so PostgreSQL can store it.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{LogFilter, Store, WriteTx};
use crate::Result;
use crate::time::Timestamp;

/// One line a handler logged, with secret values already redacted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LogLine {
    /// `log`, `info`, `warn`, `error` or `debug`; `system` for lines the host adds.
    pub level: String,
    /// The text.
    pub message: String,
}

/// What the store keeps of one execution.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExecutionRecord {
    /// Unique id (also given to the handler as `FLUXBASE_EXECUTION_ID` / `FLUXBASE_JOB_ID`).
    pub id: String,
    /// `function` or `job`.
    pub kind: String,
    /// Handler name.
    pub name: String,
    /// Namespace it ran in.
    pub namespace: String,
    /// `succeeded`, `failed`, `timeout` or `out_of_memory`.
    pub status: String,
    /// When it started.
    pub started_at: Timestamp,
    /// How long it ran, in milliseconds.
    pub duration_ms: i64,
    /// What it logged.
    pub logs: Vec<LogLine>,
    /// `FLUXBASE_SECRET_<NAME>` of every secret it read.
    pub secrets_accessed: Vec<String>,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

/// How many executions of one handler started in one minute, and how many of them failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MinuteCount {
    /// `function` or `job`.
    pub kind: String,
    /// Handler name.
    pub name: String,
    /// The start of the minute.
    pub minute: Timestamp,
    /// Executions that started in it.
    pub invocations: i64,
    /// Those of them that did not succeed (failed, timed out, ran out of memory).
    pub failures: i64,
}

impl Store {
    /// Executions per handler and minute since `since`, ordered by kind, name and minute.
    pub async fn executions_per_minute(&self, since: Timestamp) -> Result<Vec<MinuteCount>> {
        let rows = sqlx::query(
            "SELECT kind, name, started_at / 60000 AS minute, COUNT(*) AS invocations, \
             SUM(CASE WHEN status = 'succeeded' THEN 0 ELSE 1 END) AS failures \
             FROM executions WHERE started_at >= $1 \
             GROUP BY kind, name, started_at / 60000 ORDER BY kind, name, minute",
        )
        .bind(since.millis())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let minute: i64 = row.try_get("minute")?;
                Ok(MinuteCount {
                    kind: row.try_get("kind")?,
                    name: row.try_get("name")?,
                    minute: Timestamp::from_millis(minute * 60_000),
                    invocations: row.try_get("invocations")?,
                    failures: row.try_get("failures")?,
                })
            })
            .collect()
    }

    /// Stores one execution record.
    pub async fn record_execution(&self, record: &ExecutionRecord) -> Result<()> {
        self.record_executions(std::slice::from_ref(record)).await
    }

    /// Stores execution records in one transaction: one commit (one disk flush) for all.
    pub async fn record_executions(&self, records: &[ExecutionRecord]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        for record in records {
            tx.insert_execution(record).await?;
        }
        tx.commit().await
    }
    /// Execution records matching `filter`, newest first.
    pub async fn executions(&self, filter: &LogFilter) -> Result<Vec<ExecutionRecord>> {
        let rows = sqlx::query(
            "SELECT id, kind, name, namespace, status, started_at, duration_ms, logs, \
             secrets_accessed, error FROM executions \
             WHERE ($1 = '' OR name = $1) \
               AND ($2 = '' OR lower(name || ' ' || logs || ' ' || secrets_accessed || ' ' \
                    || COALESCE(error, '')) LIKE $2 ESCAPE '\\') \
               AND ($4 = 0 OR started_at >= $5) AND ($6 = 0 OR started_at <= $7) \
             ORDER BY started_at DESC, id DESC LIMIT $3",
        )
        .bind(filter.name.clone().unwrap_or_default())
        .bind(filter.search_pattern())
        .bind(filter.limit)
        .bind(i64::from(filter.since.is_some()))
        .bind(filter.since.map_or(0, Timestamp::millis))
        .bind(i64::from(filter.until.is_some()))
        .bind(filter.until.map_or(0, Timestamp::millis))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(execution_record).collect()
    }

    /// One execution record by id.
    pub async fn execution(&self, id: &str) -> Result<Option<ExecutionRecord>> {
        let row = sqlx::query(
            "SELECT id, kind, name, namespace, status, started_at, duration_ms, logs, \
             secrets_accessed, error FROM executions WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| execution_record(&row)).transpose()
    }
}

fn execution_record(row: &AnyRow) -> Result<ExecutionRecord> {
    let logs: String = row.try_get("logs")?;
    let accessed: String = row.try_get("secrets_accessed")?;
    Ok(ExecutionRecord {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        name: row.try_get("name")?,
        namespace: row.try_get("namespace")?,
        status: row.try_get("status")?,
        started_at: Timestamp::from_millis(row.try_get("started_at")?),
        duration_ms: row.try_get("duration_ms")?,
        logs: serde_json::from_str(&logs).unwrap_or_default(),
        secrets_accessed: serde_json::from_str(&accessed).unwrap_or_default(),
        error: row.try_get("error")?,
    })
}

/// Text as PostgreSQL can store it: NUL, which a function can put in an error message, becomes
/// U+FFFD. Unreplaced, one such message failed the whole batch of records written with it.
pub(crate) fn storable_text(text: &str) -> String {
    text.replace('\0', "\u{FFFD}")
}

impl WriteTx {
    async fn insert_execution(&mut self, record: &ExecutionRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO executions (id, kind, name, namespace, status, started_at, duration_ms, \
             logs, secrets_accessed, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&record.id)
        .bind(&record.kind)
        .bind(&record.name)
        .bind(&record.namespace)
        .bind(&record.status)
        .bind(record.started_at.millis())
        .bind(record.duration_ms)
        .bind(serde_json::to_string(&record.logs).expect("log lines serialize"))
        .bind(serde_json::to_string(&record.secrets_accessed).expect("names serialize"))
        .bind(record.error.as_deref().map(storable_text))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
