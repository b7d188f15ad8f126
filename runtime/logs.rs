//! Execution records and audit records, listed together newest first (CLI and API) through the
//! store's queries, and one execution by id ([`LogBook`]). It checks the filter and merges;
//! it runs no SQL of its own, redacts nothing (records are stored redacted) and formats nothing.

use serde::{Deserialize, Serialize};

use crate::store::{AuditRecord, ExecutionRecord, JobRun, LogFilter, LogLine, MinuteCount, Store};
use crate::time::Timestamp;
use crate::{Error, Result};

/// A point in time for `--since`/`--until`: an RFC 3339 time, or a duration (`2h`, `7d`) that
/// far before `now`.
pub fn parse_time_point(raw: &str, now: Timestamp) -> Result<Timestamp> {
    let raw = raw.trim();
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Ok(Timestamp::from(at.with_timezone(&chrono::Utc)));
    }
    let ago = humantime::parse_duration(raw).map_err(|_| {
        Error::invalid(format!(
            "invalid time {raw:?}: use an RFC 3339 time such as 2027-01-31T00:00:00Z or a \
             duration ago such as 2h or 7d"
        ))
    })?;
    let millis = i64::try_from(ago.as_millis()).unwrap_or(i64::MAX);
    Ok(Timestamp::from_millis(now.millis().saturating_sub(millis)))
}

/// Kinds of log records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Function invocations and job runs.
    Execution,
    /// Changes to secrets and keys.
    Audit,
}

impl std::str::FromStr for Category {
    type Err = Error;

    fn from_str(raw: &str) -> Result<Self> {
        match raw {
            "execution" => Ok(Category::Execution),
            "audit" => Ok(Category::Audit),
            other => Err(Error::invalid(format!(
                "invalid category {other:?}: use execution or audit"
            ))),
        }
    }
}

/// One record of either kind.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "category", rename_all = "lowercase")]
pub enum LogEntry {
    /// An execution record.
    Execution(ExecutionRecord),
    /// An audit record.
    Audit(AuditRecord),
}

impl LogEntry {
    fn millis(&self) -> i64 {
        match self {
            LogEntry::Execution(record) => record.started_at.millis(),
            LogEntry::Audit(record) => record.at.millis(),
        }
    }
}

/// Largest `offset` of a page of records.
pub const MAX_OFFSET: i64 = 100_000;

/// Longest window of [`LogBook::per_minute`]: a day.
pub const MAX_MINUTES: i64 = 1440;

/// Executions per handler and minute over a window.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PerMinute {
    /// The start of the window's first minute.
    pub since: Timestamp,
    /// How many minutes the window holds (the last one is the current minute).
    pub minutes: i64,
    /// One point per handler and minute with at least one execution; minutes without any are
    /// left out.
    pub points: Vec<MinuteCount>,
}

/// The execution and audit records of a store, for the CLI and the API: the one way into them.
#[derive(Debug, Clone)]
pub struct LogBook {
    store: Store,
}

impl LogBook {
    /// The records of `store`.
    pub fn new(store: Store) -> Self {
        LogBook { store }
    }

    /// Records of `category` (both when `None`) matching `filter`, newest first.
    pub async fn list(
        &self,
        category: Option<Category>,
        filter: &LogFilter,
    ) -> Result<Vec<LogEntry>> {
        self.page(category, filter, 0).await
    }

    /// Like [`LogBook::list`], skipping the `offset` newest matching records first (a page).
    pub async fn page(
        &self,
        category: Option<Category>,
        filter: &LogFilter,
        offset: i64,
    ) -> Result<Vec<LogEntry>> {
        if !(1..=10_000).contains(&filter.limit) {
            return Err(Error::invalid("limit must be between 1 and 10000"));
        }
        if !(0..=MAX_OFFSET).contains(&offset) {
            return Err(Error::invalid(format!(
                "offset must be between 0 and {MAX_OFFSET}"
            )));
        }
        // Each kind is read up to the end of the page, then both are merged and the page cut.
        let filter = &LogFilter {
            limit: filter.limit + offset,
            ..filter.clone()
        };
        // PostgreSQL cannot compare text holding NUL; nothing stored holds one either.
        for text in [&filter.search, &filter.name].into_iter().flatten() {
            if text.contains('\0') {
                return Err(Error::invalid(
                    "a log search cannot contain the NUL character",
                ));
            }
        }
        let mut entries = Vec::new();
        if category != Some(Category::Audit) {
            let records = self.store.executions(filter).await?;
            entries.extend(records.into_iter().map(LogEntry::Execution));
        }
        if category != Some(Category::Execution) {
            let records = self.store.audit_records(filter).await?;
            entries.extend(records.into_iter().map(LogEntry::Audit));
        }
        entries.sort_by_key(|entry| std::cmp::Reverse(entry.millis()));
        entries.truncate(usize::try_from(filter.limit).unwrap_or(usize::MAX));
        Ok(entries
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .collect())
    }

    /// Executions per handler and minute over the last `minutes` minutes (1 to 1440), the
    /// current minute included, counted by the store.
    pub async fn per_minute(&self, minutes: i64) -> Result<PerMinute> {
        if !(1..=MAX_MINUTES).contains(&minutes) {
            return Err(Error::invalid(format!(
                "minutes must be between 1 and {MAX_MINUTES}"
            )));
        }
        let this_minute = Timestamp::now().millis() / 60_000 * 60_000;
        let since = Timestamp::from_millis(this_minute - (minutes - 1) * 60_000);
        let points = self.store.executions_per_minute(since).await?;
        Ok(PerMinute {
            since,
            minutes,
            points,
        })
    }

    /// The execution record `id`, or [`Error::NoExecution`].
    pub async fn execution(&self, id: &str) -> Result<ExecutionRecord> {
        if id.is_empty() || id.len() > 64 || id.contains('\0') {
            return Err(Error::NoExecution(id.escape_debug().to_string()));
        }
        self.store
            .execution(id)
            .await?
            .ok_or_else(|| Error::NoExecution(id.to_owned()))
    }

    /// The console lines of `run`'s last attempt (none before its first attempt, or when that
    /// attempt's record is gone).
    pub async fn last_attempt_logs(&self, run: &JobRun) -> Result<Vec<LogLine>> {
        let Some(execution) = &run.last_execution_id else {
            return Ok(Vec::new());
        };
        match self.execution(execution).await {
            Ok(record) => Ok(record.logs),
            Err(Error::NoExecution(_)) => Ok(Vec::new()),
            Err(other) => Err(other),
        }
    }

    /// Closes the store's connections (at the end of a command).
    pub async fn close(&self) {
        self.store.close().await;
    }
}
