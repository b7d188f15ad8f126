//! The `fluxbase` binary: logging to stderr (`FLUXBASE_LOG`), the async runtime, and
//! [`fluxbase::cli::Cli`]; an error prints as one `error: ...` line and exits 1. Nothing else
//! lives here: every command is in the library.

use std::process::ExitCode;

use clap::Parser;
use fluxbase::cli::Cli;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("FLUXBASE_LOG")
                .unwrap_or_else(|_| EnvFilter::new("warn,fluxbase=info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli.run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
