//! Execution records and audit records, listed together newest first (CLI and API).

use serde::{Deserialize, Serialize};

use crate::store::{AuditRecord, ExecutionRecord, LogFilter, Store};
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
        if !(1..=10_000).contains(&filter.limit) {
            return Err(Error::invalid("limit must be between 1 and 10000"));
        }
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
        Ok(entries)
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

    /// Closes the store's connections (at the end of a command).
    pub async fn close(&self) {
        self.store.close().await;
    }
}
