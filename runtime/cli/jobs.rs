//! `fluxbase jobs ...`: run a background job once from the command line.

use std::path::PathBuf;

use clap::Subcommand;

use super::output::{OutputFormat, print_json};
use super::run::RunArgs;
use crate::config::Config;
use crate::handlers::{self, HandlerKind};
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
    /// List the jobs of a directory.
    List {
        /// Directory of the jobs.
        #[arg(long, default_value = "jobs")]
        dir: PathBuf,
    },
}

impl JobsCommand {
    /// Runs the subcommand.
    pub async fn run(self, config: &Config, _format: OutputFormat) -> Result<()> {
        match self {
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
                let payload: serde_json::Value = serde_json::from_str(&payload)
                    .map_err(|e| Error::invalid(format!("--payload is not valid JSON: {e}")))?;
                let invoker = run.invoker(config).await?;
                let outcome = invoker.run_job(&dir, &name, payload).await?;
                print_json(&outcome.result);
                Ok(())
            }
        }
    }
}
