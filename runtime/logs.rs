//! Execution records and audit records, listed together newest first (CLI and API) through the
//! store's queries, and one execution by id ([`LogBook`]). It checks the filter and merges;
//! it runs no SQL of its own, redacts nothing (records are stored redacted) and formats nothing.

use serde::{Deserialize, Serialize};

use crate::store::{AuditRecord, ExecutionRecord, JobRun, LogFilter, LogLine, Store};
use crate::{Error, Result};

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
