//! `fluxbase jobs ...`: enqueue a job run, show a run's status, list jobs, or run a job once
//! through a one-shot host's invoker. It runs no SQL and resolves no secret.

use std::path::PathBuf;

use clap::Subcommand;

use super::output::{self, OutputFormat, print_json};
use super::run::RunArgs;
use crate::config::Config;

use crate::handlers::{self, HandlerKind};
use crate::invoke::Call;
use crate::jobs::{DEFAULT_MAX_ATTEMPTS, JobQueue, QueueConfig, RunTiming};
use crate::logs::LogBook;
use crate::store::JobRunFilter;
use crate::time::Timestamp;
use crate::{Error, Result};

/// `fluxbase jobs` subcommands.
#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Run a job once and print its result as JSON.
    Run {
        /// Job name.
        name: String,
        /// Directory of the jobs.
        #[arg(long, default_value = "jobs")]
        dir: PathBuf,
        /// The payload, as JSON (default: null).
        #[arg(long, default_value = "null")]
        payload: String,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Put a run of a job in the queue of the store; a running `fluxbase serve` runs it.
    Enqueue {
        /// Job name.
        name: String,
        /// Directory of the jobs.
        #[arg(long, default_value = "jobs")]
        dir: PathBuf,
        /// The payload, as JSON (default: null).
        #[arg(long, default_value = "null")]
        payload: String,
        /// Attempts before the run fails for good (the job's `@fluxbase:max-attempts` wins).
        #[arg(long, default_value_t = DEFAULT_MAX_ATTEMPTS, value_parser = clap::value_parser!(i64).range(1..=100))]
        max_attempts: i64,
        /// Not before this: an RFC 3339 time or a delay from now (`30s`, `5m`, `2h`).
        #[arg(long)]
        run_at: Option<String>,
        /// Among due runs, higher first (-1000 to 1000).
        #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
        priority: i64,
    },
    /// Cancel a queued run, or stop a running one (the host running it stops it).
    Cancel {
        /// Run id.
        id: String,
    },
    /// Queue a failed or cancelled run again, with a fresh count of attempts.
    Retry {
        /// Run id.
        id: String,
    },
    /// List runs, newest first.
    Runs {
        /// Only runs of this job.
        #[arg(long)]
        name: Option<String>,
        /// Only runs in this status: queued, running, succeeded, failed or cancelled.
        #[arg(long)]
        status: Option<String>,
        /// Only runs enqueued at or after this RFC 3339 time.
        #[arg(long)]
        since: Option<String>,
        /// The next page: runs enqueued before this run (the last id of the previous page).
        #[arg(long)]
        before: Option<String>,
        /// At most this many (1 to 500).
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// Show a queued run: status, attempts, result, error and the logs of its last attempt.
    Status {
        /// Run id, as printed by `jobs enqueue`.
        id: String,
    },
    /// List the jobs of a directory.
    List {
        /// Directory of the jobs.
        #[arg(long, default_value = "jobs")]
        dir: PathBuf,
    },
    /// List the scheduled jobs (`// @fluxbase:schedule`) with their next run.
    Schedules {
        /// Directory of the jobs.
        #[arg(long, default_value = "jobs")]
        dir: PathBuf,
    },
}

impl JobsCommand {
    /// Runs the subcommand.
    pub async fn run(self, config: &Config, format: OutputFormat) -> Result<()> {
        match self {
            JobsCommand::Schedules { dir } => {
                let queue = queue(config, dir, DEFAULT_MAX_ATTEMPTS).await?;
                let schedules = queue.schedules().await?;
                if format == OutputFormat::Json {
                    print_json(&schedules);
                } else if schedules.is_empty() {
                    println!("No scheduled jobs.");
                } else {
                    println!("{}", output::schedules_table(&schedules));
                }
                Ok(())
            }
            JobsCommand::Enqueue {
                name,
                dir,
                payload,
                max_attempts,
                run_at,
                priority,
            } => {
                let payload = parse_payload(&payload)?;
                let timing = RunTiming {
                    run_at: RunTiming::parse_run_at(run_at.as_deref())?,
                    priority,
                };
                let queue = queue(config, dir, max_attempts).await?;
                let id = queue.enqueue(&name, &payload, None, timing).await?;
                print_json(&serde_json::json!({ "id": id }));
                Ok(())
            }
            JobsCommand::Cancel { id } => {
                let queue = queue(config, PathBuf::new(), DEFAULT_MAX_ATTEMPTS).await?;
                let run = queue.cancel(&id, None).await?;
                if format == OutputFormat::Json {
                    print_json(&run);
                } else if run.status == "cancelled" {
                    println!("Cancelled run {id}: it will not run.");
                } else {
                    println!("Asked the host running {id} to stop it.");
                }
                Ok(())
            }
            JobsCommand::Retry { id } => {
                let queue = queue(config, PathBuf::new(), DEFAULT_MAX_ATTEMPTS).await?;
                let run = queue.retry(&id, None).await?;
                if format == OutputFormat::Json {
                    print_json(&run);
                } else {
                    println!("Queued run {id} again.");
                }
                Ok(())
            }
            JobsCommand::Runs {
                name,
                status,
                since,
                before,
                limit,
            } => {
                let since = since
                    .map(|raw| {
                        Timestamp::parse_rfc3339(&raw).ok_or_else(|| {
                            Error::invalid(format!(
                                "invalid --since {raw:?}: use an RFC 3339 time such as \
                                 2026-12-01T00:00:00Z"
                            ))
                        })
                    })
                    .transpose()?;
                let queue = queue(config, PathBuf::new(), DEFAULT_MAX_ATTEMPTS).await?;
                let filter = JobRunFilter {
                    name,
                    status,
                    since,
                    before,
                    limit,
                    ..JobRunFilter::default()
                };
                let runs = queue.runs(&filter, None).await?;
                if format == OutputFormat::Json {
                    print_json(&runs);
                } else {
                    println!("{}", output::runs_table(&runs));
                }
                Ok(())
            }
            JobsCommand::Status { id } => {
                let store = config.open_store().await?;
                let run = JobQueue::new(store.clone(), QueueConfig::reader())
                    .status(&id)
                    .await?;
                let logs = LogBook::new(store).last_attempt_logs(&run).await?;
                let mut shown = serde_json::to_value(&run).expect("runs serialize");
                shown["logs"] = serde_json::to_value(logs).expect("log lines serialize");
                print_json(&shown);
                Ok(())
            }
            JobsCommand::List { dir } => {
                for handler in handlers::discover(&dir, HandlerKind::Job)? {
                    println!("{}\t{}", handler.name, handler.path.display());
                }
                Ok(())
            }
            JobsCommand::Run {
                name,
                dir,
                payload,
                run,
            } => {
                let payload = parse_payload(&payload)?;
                let host = run.host(config).await?;
                let invoker = host.invoker();
                let outcome = invoker.execute(Call::job(&dir, &name, payload)).await;
                invoker.flush_records().await;
                print_json(&outcome?.result().expect("a job run gives a result"));
                Ok(())
            }
        }
    }
}

fn parse_payload(raw: &str) -> Result<serde_json::Value> {
    serde_json::from_str(raw)
        .map_err(|e| Error::invalid(format!("--payload is not valid JSON: {e}")))
}

async fn queue(config: &Config, jobs_dir: PathBuf, max_attempts: i64) -> Result<JobQueue> {
    let store = config.open_store().await?;
    Ok(JobQueue::new(
        store,
        QueueConfig {
            jobs_dir,
            max_attempts,
            ..QueueConfig::reader()
        },
    ))
}
