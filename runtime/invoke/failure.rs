//! How an execution can fail once its handler was found, and the status and detail its record
//! keeps. Its messages come from the isolate already redacted; nothing here adds a value.

use std::time::Duration;

/// Why a handler did not produce a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecutionFailure {
    /// The module could not be loaded: syntax error, missing import, no handler export.
    Boot(String),
    /// The handler threw, rejected, or returned something that is not a result.
    Exception(String),
    /// The wall-clock limit was reached and the isolate was terminated.
    Timeout(Duration),
    /// The CPU-time limit was reached and the isolate was terminated.
    CpuTime(Duration),
    /// The call was cancelled (a job run cancelled while it ran); the isolate was terminated.
    Cancelled,
    /// The heap limit was reached and the isolate was terminated.
    OutOfMemory {
        /// The limit, in bytes.
        limit_bytes: usize,
    },
}

impl ExecutionFailure {
    /// The status kept on the execution record.
    pub fn status(&self) -> &'static str {
        match self {
            ExecutionFailure::Boot(_) | ExecutionFailure::Exception(_) => "failed",
            ExecutionFailure::Timeout(_) => "timeout",
            ExecutionFailure::CpuTime(_) => "cpu_limit",
            ExecutionFailure::Cancelled => "cancelled",
            ExecutionFailure::OutOfMemory { .. } => "out_of_memory",
        }
    }

    /// The full message, for the execution record (may span several lines: a JS stack).
    pub fn detail(&self) -> String {
        match self {
            ExecutionFailure::Boot(message) | ExecutionFailure::Exception(message) => {
                message.clone()
            }
            other => other.to_string(),
        }
    }
}

impl std::fmt::Display for ExecutionFailure {
    /// One line: the first line of a JS error, or the limit that was hit.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let first_line = |m: &str| m.lines().next().unwrap_or_default().trim().to_owned();
        match self {
            ExecutionFailure::Boot(message) => {
                write!(f, "cannot load: {}", first_line(message))?;
                match source_location(message) {
                    Some(at) if !first_line(message).contains(at) => write!(f, " at {at}"),
                    _ => Ok(()),
                }
            }
            ExecutionFailure::Exception(message) => {
                write!(f, "uncaught exception: {}", first_line(message))
            }
            ExecutionFailure::Timeout(limit) => {
                write!(f, "timed out after {}", humantime::format_duration(*limit))
            }
            ExecutionFailure::Cancelled => write!(f, "cancelled while it ran"),
            ExecutionFailure::CpuTime(limit) => write!(
                f,
                "used more than {} of CPU time",
                humantime::format_duration(*limit)
            ),
            ExecutionFailure::OutOfMemory { limit_bytes } => write!(
                f,
                "ran out of memory (heap limit {} MiB)",
                limit_bytes / (1024 * 1024)
            ),
        }
    }
}

/// The first `file:///path:line:col` a message mentions, as `/path:line:col`.
fn source_location(message: &str) -> Option<&str> {
    let start = message.find("file://")? + "file://".len();
    let rest = &message[start..];
    let end = rest
        .find(|c: char| c.is_whitespace() || c == ')' || c == '"')
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_load_error_names_file_and_line_on_one_line() {
        let failure = ExecutionFailure::Boot(
            "SyntaxError: Expression expected\n  |\n3 |   const x = ;\n    at \
             file:///fns/syntax_error.ts:3:13"
                .into(),
        );
        assert_eq!(
            failure.to_string(),
            "cannot load: SyntaxError: Expression expected at /fns/syntax_error.ts:3:13"
        );
    }
}
