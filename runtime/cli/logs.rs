//! `fluxbase logs ...`: execution records and the audit trail, newest first.

use clap::{Subcommand, ValueEnum};
use serde::Serialize;

use super::output::{self, OutputFormat, print_json};
use crate::Result;
use crate::config::Config;
use crate::store::{AuditRecord, ExecutionRecord, LogFilter};

/// `fluxbase logs` subcommands.
#[derive(Debug, Subcommand)]
pub enum LogsCommand {
    /// List records, newest first.
    List {
        /// Only this kind of record (default: both).
        #[arg(long, value_enum)]
        category: Option<Category>,
        /// Only records about this function, job or secret.
        #[arg(long)]
        name: Option<String>,
        /// Only records containing this text (case-insensitive), e.g. FLUXBASE_SECRET for the
        /// executions that read secrets.
        #[arg(long)]
        search: Option<String>,
        /// At most N records.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..=10_000))]
        limit: i64,
    },
}

/// Kinds of log records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Category {
    /// Function invocations and job runs.
    Execution,
    /// Changes to secrets and keys.
    Audit,
}

/// One record of either kind, for the merged listing.
#[derive(Debug, Serialize)]
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

impl LogsCommand {
    /// Runs the subcommand.
    pub async fn run(self, config: &Config, format: OutputFormat) -> Result<()> {
        let LogsCommand::List {
            category,
            name,
            search,
            limit,
        } = self;
        let filter = LogFilter {
            name,
            search,
            limit,
        };
        let store = config.open_store().await?;
        let mut entries = Vec::new();
        if category != Some(Category::Audit) {
            let records = store.executions(&filter).await?;
            entries.extend(records.into_iter().map(LogEntry::Execution));
        }
        if category != Some(Category::Execution) {
            let records = store.audit_records(&filter).await?;
            entries.extend(records.into_iter().map(LogEntry::Audit));
        }
        store.close().await;
        entries.sort_by_key(|entry| std::cmp::Reverse(entry.millis()));
        entries.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        if format == OutputFormat::Json {
            print_json(&entries);
        } else if entries.is_empty() {
            println!("No records.");
        } else {
            println!("{}", output::logs_table(&entries));
        }
        Ok(())
    }
}
