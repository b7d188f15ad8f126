//! `fluxbase functions ...`: run a function once from the command line, curl-style, through a
//! one-shot host's invoker, and print its response. It resolves no secret and boots no isolate
//! itself.

use std::io::Write;
use std::path::PathBuf;

use clap::Subcommand;

use super::output::{self, OutputFormat, print_json};
use super::run::RunArgs;
use crate::config::Config;
use crate::handlers::{self, HandlerKind};
use crate::invoke::Call;
use crate::isolate::HttpRequest;
use crate::{Error, Result};

/// Base URL handlers see for CLI invocations.
const BASE_URL: &str = "http://localhost/functions/v1/";

/// `fluxbase functions` subcommands.
#[derive(Debug, Subcommand)]
pub enum FunctionsCommand {
    /// Invoke a function once and print its response body.
    Invoke {
        /// Function name, optionally followed by a sub-path and query: `hello/a/b?x=1`.
        target: String,
        /// Directory of the functions.
        #[arg(long, default_value = "functions")]
        dir: PathBuf,
        /// HTTP method (default GET, or POST with -d).
        #[arg(short = 'X', long = "request", value_name = "METHOD")]
        method: Option<String>,
        /// Request body; @FILE reads it from a file.
        #[arg(short = 'd', long = "data")]
        data: Option<String>,
        /// Request header, "Name: value" (repeatable).
        #[arg(short = 'H', long = "header", value_name = "HEADER")]
        headers: Vec<String>,
        /// Print the status line and the headers before the body.
        #[arg(short = 'i', long = "include")]
        include: bool,
        #[command(flatten)]
        run: RunArgs,
    },
    /// List the functions of a directory.
    List {
        /// Directory of the functions.
        #[arg(long, default_value = "functions")]
        dir: PathBuf,
    },
}

impl FunctionsCommand {
    /// Runs the subcommand.
    pub async fn run(self, config: &Config, format: OutputFormat) -> Result<()> {
        match self {
            FunctionsCommand::List { dir } => {
                let found = handlers::discover(&dir, HandlerKind::Function)?;
                let listed: Vec<_> = found
                    .iter()
                    .map(|handler| (handler, handler.settings()))
                    .collect();
                if format == OutputFormat::Json {
                    let rows: Vec<_> = listed
                        .iter()
                        .map(|(handler, settings)| match settings {
                            Ok(settings) => serde_json::json!({
                                "name": handler.name,
                                "file": handler.path,
                                "settings": settings,
                            }),
                            Err(error) => serde_json::json!({
                                "name": handler.name,
                                "file": handler.path,
                                "error": error.to_string(),
                            }),
                        })
                        .collect();
                    print_json(&rows);
                } else {
                    println!("{}", output::handlers_table(&listed));
                }
                Ok(())
            }
            FunctionsCommand::Invoke {
                target,
                dir,
                method,
                data,
                headers,
                include,
                run,
            } => {
                let (name, rest) = split_target(&target);
                let body = data.map(read_data).transpose()?;
                let method = method
                    .unwrap_or_else(|| if body.is_some() { "POST" } else { "GET" }.into())
                    .to_ascii_uppercase();
                let request = HttpRequest {
                    url: format!("{BASE_URL}{name}{rest}"),
                    headers: headers
                        .iter()
                        .map(|h| parse_header(h))
                        .collect::<Result<_>>()?,
                    body: body.into(),
                    upgrade: None,
                    method,
                };
                let host = run.host(config).await?;
                let invoker = host.invoker();
                let outcome = invoker.execute(Call::function(&dir, name, request)).await;
                invoker.flush_records().await;
                let response = outcome?
                    .response()
                    .expect("a function call gives a response");
                print_response(&response, include, format)
            }
        }
    }
}

/// Splits `hello/a?x=1` into the function name and what follows it.
fn split_target(target: &str) -> (&str, &str) {
    let end = target.find(['/', '?']).unwrap_or(target.len());
    target.split_at(end)
}

fn read_data(data: String) -> Result<Vec<u8>> {
    match data.strip_prefix('@') {
        Some(path) => std::fs::read(path).map_err(|e| Error::io(format!("cannot read {path}"), e)),
        None => Ok(data.into_bytes()),
    }
}

fn parse_header(raw: &str) -> Result<(String, String)> {
    let (name, value) = raw
        .split_once(':')
        .filter(|(name, _)| !name.trim().is_empty())
        .ok_or_else(|| Error::invalid(format!("invalid header {raw:?}: use \"Name: value\"")))?;
    Ok((name.trim().to_owned(), value.trim().to_owned()))
}

fn print_response(
    response: &crate::isolate::HttpResponse,
    include: bool,
    format: OutputFormat,
) -> Result<()> {
    if format == OutputFormat::Json {
        print_json(&serde_json::json!({
            "status": response.status,
            "headers": response.headers,
            "body": String::from_utf8_lossy(&response.body),
        }));
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    let written = (|| {
        if include {
            let reason = http::StatusCode::from_u16(response.status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("");
            writeln!(out, "HTTP/1.1 {} {reason}", response.status)?;
            for (name, value) in &response.headers {
                writeln!(out, "{name}: {value}")?;
            }
            writeln!(out)?;
        }
        out.write_all(&response.body)?;
        out.flush()
    })();
    written.map_err(|e| Error::io("cannot write the response", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_name_from_path_and_query() {
        assert_eq!(split_target("hello"), ("hello", ""));
        assert_eq!(split_target("hello/a/b?x=1"), ("hello", "/a/b?x=1"));
        assert_eq!(split_target("hello?x=1"), ("hello", "?x=1"));
    }

    #[test]
    fn parses_headers() {
        assert_eq!(
            parse_header("X-A:  b: c ").unwrap(),
            ("X-A".into(), "b: c".into())
        );
        assert!(parse_header("no colon").is_err());
        assert!(parse_header(": empty name").is_err());
    }
}
