//! `fluxbase logs ...`: execution records and the audit trail, newest first, through the log
//! book (or a server's admin API with `--url`). It reads no table directly.

use clap::Subcommand;

use super::output::{self, OutputFormat, print_json};
use super::remote::Remote;
use crate::Result;
use crate::config::Config;
use crate::logs::{Category, LogBook, parse_time_point};
use crate::store::LogFilter;
use crate::time::Timestamp;

/// `fluxbase logs` subcommands.
#[derive(Debug, Subcommand)]
pub enum LogsCommand {
    /// List records, newest first.
    List {
        /// Only this kind of record: execution or audit (default: both).
        #[arg(long, value_parser = |raw: &str| raw.parse::<Category>().map_err(|e| e.to_string()))]
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
        /// Only records at or after this time: RFC 3339, or a duration ago (2h, 7d).
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Only records at or before this time: RFC 3339, or a duration ago (2h, 7d).
        #[arg(long, value_name = "TIME")]
        until: Option<String>,
    },
    /// Show one execution's whole record: status, error, every console line, secrets read.
    Show {
        /// The execution id (as `logs list` and the `x-fluxbase-execution-id` header give it).
        id: String,
    },
}

impl LogsCommand {
    /// Runs the subcommand.
    pub async fn run(self, config: &Config, format: OutputFormat) -> Result<()> {
        let (category, name, search, limit, since, until) = match self {
            LogsCommand::List {
                category,
                name,
                search,
                limit,
                since,
                until,
            } => (category, name, search, limit, since, until),
            LogsCommand::Show { id } => return show(config, format, &id).await,
        };
        let now = Timestamp::now();
        let point = |raw: Option<String>| raw.map(|raw| parse_time_point(&raw, now)).transpose();
        let filter = LogFilter {
            name,
            search,
            limit,
            since: point(since)?,
            until: point(until)?,
        };
        let entries = match &config.remote_url {
            Some(url) => Remote::new(url)?.logs(category, &filter)?,
            None => {
                let book = LogBook::new(config.open_store().await?);
                let entries = book.list(category, &filter).await;
                book.close().await;
                entries?
            }
        };
        if format == OutputFormat::Json {
            print_json(&entries);
        } else if entries.is_empty() {
            println!("No records.");
        } else {
            println!("{}", output::logs_table(&entries, filter.search.as_deref()));
        }
        Ok(())
    }
}

/// `fluxbase logs show ID`
async fn show(config: &Config, format: OutputFormat, id: &str) -> Result<()> {
    let record = match &config.remote_url {
        Some(url) => Remote::new(url)?.execution(id)?,
        None => {
            let book = LogBook::new(config.open_store().await?);
            let record = book.execution(id).await;
            book.close().await;
            record?
        }
    };
    if format == OutputFormat::Json {
        print_json(&record);
    } else {
        print!("{}", output::execution_text(&record));
    }
    Ok(())
}
