//! `fluxbase logs ...`: reading the audit trail.

use clap::{Subcommand, ValueEnum};

use super::output::{self, OutputFormat, print_json};
use crate::Result;
use crate::config::Config;

/// `fluxbase logs` subcommands.
#[derive(Debug, Subcommand)]
pub enum LogsCommand {
    /// List records, newest first.
    List {
        /// Which records.
        #[arg(long, value_enum, default_value_t = Category::Audit)]
        category: Category,
        /// Only records naming this secret.
        #[arg(long)]
        name: Option<String>,
        /// Only records containing this text.
        #[arg(long)]
        search: Option<String>,
        /// At most N records.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(i64).range(1..=10_000))]
        limit: i64,
    },
}

/// Kinds of log records.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Category {
    /// Changes to secrets and keys.
    Audit,
}

impl LogsCommand {
    /// Runs the subcommand.
    pub async fn run(self, config: &Config, format: OutputFormat) -> Result<()> {
        let LogsCommand::List {
            category: Category::Audit,
            name,
            search,
            limit,
        } = self;
        let store = config.open_store().await?;
        let name = name.map(|n| n.to_ascii_uppercase());
        let records: Vec<_> = store
            .audit_records(10_000)
            .await?
            .into_iter()
            .filter(|r| name.is_none() || r.name == name)
            .filter(|r| {
                search.as_deref().is_none_or(|text| {
                    serde_json::to_string(r).is_ok_and(|line| line.contains(text))
                })
            })
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect();
        store.close().await;
        if format == OutputFormat::Json {
            print_json(&records);
        } else {
            println!("{}", output::audit_table(&records));
        }
        Ok(())
    }
}
