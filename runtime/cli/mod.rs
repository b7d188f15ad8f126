//! The `fluxbase` command line: argument definitions (clap) and dispatch. Every command is an
//! adapter over a service, the host, or (with `--url`) a server's admin API; nothing here runs
//! SQL or decrypts a value.

mod functions;
mod jobs;
mod logs;
mod output;
mod remote;
mod remote_settings;
mod run;
mod secrets;
mod serve;
mod settings;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::Result;
use crate::config::Config;

pub use output::OutputFormat;

/// Command-line interface of fluxbase.
#[derive(Debug, Parser)]
#[command(
    name = "fluxbase",
    version,
    about = "Run Deno-style edge functions and jobs with encrypted, versioned secrets"
)]
pub struct Cli {
    /// Data directory (embedded database, master key file).
    #[arg(
        long,
        global = true,
        env = "FLUXBASE_DATA_DIR",
        default_value = ".fluxbase"
    )]
    pub data_dir: PathBuf,

    /// sqlx database URL (sqlite://PATH or postgres://...); default: <data dir>/fluxbase.db.
    #[arg(
        long,
        global = true,
        env = "FLUXBASE_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// A server to send `secrets`, `settings` and `logs` commands to (admin API; key in
    /// FLUXBASE_SERVICE_KEY) instead of the local store.
    #[arg(long, global = true, env = "FLUXBASE_URL")]
    pub url: Option<String>,

    /// Output format.
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Manage function secrets.
    #[command(subcommand)]
    Secrets(secrets::SecretsCommand),
    /// Manage settings secrets: system-wide and per-user configuration and API keys.
    #[command(subcommand)]
    Settings(settings::SettingsCommand),
    /// Serve the admin API and the function endpoint over HTTP.
    Serve(serve::ServeArgs),
    /// Run functions (edge handlers) once.
    #[command(subcommand)]
    Functions(functions::FunctionsCommand),
    /// Run background jobs once.
    #[command(subcommand)]
    Jobs(jobs::JobsCommand),
    /// Read execution records and the audit log.
    #[command(subcommand)]
    Logs(logs::LogsCommand),
}

/// A scope given on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ScopeArg {
    /// Visible to every function.
    Global,
    /// Visible to one namespace's functions.
    Namespace,
}

impl Cli {
    /// Runs the parsed command.
    pub async fn run(self) -> Result<()> {
        let config = Config {
            data_dir: self.data_dir,
            database_url: self.database_url,
            remote_url: self.url,
        };
        match self.command {
            Command::Secrets(command) => command.run(&config, self.output).await,
            Command::Settings(command) => command.run(&config, self.output).await,
            Command::Serve(args) => args.run(&config).await,
            Command::Functions(command) => command.run(&config, self.output).await,
            Command::Jobs(command) => command.run(&config, self.output).await,
            Command::Logs(command) => command.run(&config, self.output).await,
        }
    }
}

/// Who the CLI acts as in the audit log: `cli:<login name>`.
pub fn actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
