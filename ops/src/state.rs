//! Per-isolate Rust-side state that lives in the isolate's `OpState`: resolved secrets, the
//! isolate's env, the access log, the console sink, HTTP request and response. Everything here
//! is owned by exactly one isolate (one OS thread); none of the `Debug` impls print a secret.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::fmt;

use zeroize::Zeroizing;

use crate::body::RequestBody;
use crate::upgrade::UpgradeSocket;

/// Prefix of the `Deno.env` variables that carry secrets.
pub const SECRET_ENV_PREFIX: &str = "FLUXBASE_SECRET_";

/// Secrets resolved for one function, keyed by their canonical
/// (upper-case) name. Lookups are case-insensitive.
///
/// `Debug` prints the names only, never the values.
#[derive(Clone, Default)]
pub struct ResolvedSecrets {
    by_upper_name: BTreeMap<String, SecretEntry>,
}

#[derive(Clone)]
struct SecretEntry {
    /// The name as the caller spelled it when inserting.
    name: String,
    /// The plaintext, wiped from memory when dropped.
    value: Zeroizing<String>,
}

impl ResolvedSecrets {
    /// Creates an empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a secret. Names are matched case-insensitively.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        self.by_upper_name.insert(
            name.to_ascii_uppercase(),
            SecretEntry {
                name,
                value: Zeroizing::new(value.into()),
            },
        );
    }

    /// Looks a secret up case-insensitively. Returns the canonical name (as
    /// inserted) together with the value.
    pub fn get(&self, name: &str) -> Option<(&str, &str)> {
        self.by_upper_name
            .get(&name.to_ascii_uppercase())
            .map(|e| (e.name.as_str(), e.value.as_str()))
    }

    /// Number of secrets.
    pub fn len(&self) -> usize {
        self.by_upper_name.len()
    }

    /// Whether there are no secrets.
    pub fn is_empty(&self) -> bool {
        self.by_upper_name.is_empty()
    }

    /// The names of all secrets (as inserted).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_upper_name.values().map(|e| e.name.as_str())
    }

    /// The values of all secrets.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.by_upper_name.values().map(|e| e.value.as_str())
    }
}

/// What a secret value is replaced with in everything an isolate hands out.
pub use crate::redact::REDACTED;

impl fmt::Debug for ResolvedSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResolvedSecrets")
            .field("names", &self.names().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for ResolvedSecrets {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut s = Self::new();
        for (k, v) in iter {
            s.insert(k, v);
        }
        s
    }
}

/// Names of the secrets that JS code asked for (canonical name when the
/// secret exists, the requested spelling otherwise), plus whether it existed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccessLog {
    /// Names found in [`ResolvedSecrets`].
    pub found: BTreeSet<String>,
    /// Names requested but not present.
    pub missing: BTreeSet<String>,
}

impl AccessLog {
    /// Records one lookup.
    pub fn record(&mut self, name: &str, found: bool) {
        if found {
            self.found.insert(name.to_owned());
        } else {
            self.missing.insert(name.to_owned());
        }
    }
}

/// Isolate-local environment for `Deno.env`. Starts with whatever the host
/// puts in; `Deno.env.set/delete` only change this map, never the process
/// environment.
///
/// `Debug` prints the variable names only: values include secrets.
#[derive(Clone, Default)]
pub struct IsolateEnv(pub BTreeMap<String, String>);

impl Drop for IsolateEnv {
    fn drop(&mut self) {
        // The values include secrets: wipe them before their memory is freed.
        self.0.values_mut().for_each(zeroize::Zeroize::zeroize);
    }
}

impl fmt::Debug for IsolateEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IsolateEnv")
            .field("names", &self.0.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Severity of a captured console line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// `console.debug`
    Debug,
    /// `console.log`, `console.info`
    Info,
    /// `console.warn`
    Warn,
    /// `console.error`, `console.trace`, uncaught errors
    Error,
}

impl LogLevel {
    /// Maps deno_web's console print level (0 debug, 1 log/info, 2 warn,
    /// 3 error, 4+ trace/stack output).
    pub fn from_console_level(level: i32) -> Self {
        match level {
            i32::MIN..=0 => LogLevel::Debug,
            1 => LogLevel::Info,
            2 => LogLevel::Warn,
            _ => LogLevel::Error,
        }
    }
}

/// One captured console line, already redacted.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LogLine {
    /// Severity.
    pub level: LogLevel,
    /// The formatted text, with secret values replaced by `[REDACTED]`.
    pub text: String,
}

/// Most bytes one console line keeps; the rest is cut (after redaction) and replaced by a note.
pub const MAX_CONSOLE_LINE_BYTES: usize = 16 * 1024;
/// Most bytes of an error message that leaves an isolate (a thrown string can be any size).
pub const MAX_ERROR_BYTES: usize = 16 * 1024;
/// Most bytes of console output one execution keeps; later lines are dropped and counted.
pub const MAX_CONSOLE_BYTES: usize = 1024 * 1024;

/// Captured console output of an isolate, bounded per execution: at most `max_lines` lines of
/// at most [`MAX_CONSOLE_LINE_BYTES`] each and [`MAX_CONSOLE_BYTES`] in all, so that a function
/// logging without bound cannot make its execution record (or the host's memory) grow with it.
#[derive(Clone, Debug, Default)]
pub struct ConsoleSink {
    /// Lines in the order they were written.
    pub lines: Vec<LogLine>,
    /// Upper bound on the number of kept lines; later lines are dropped and
    /// counted in `dropped`.
    pub max_lines: usize,
    /// Lines dropped because a limit was reached.
    pub dropped: usize,
    /// Bytes of text kept in `lines`.
    kept_bytes: usize,
}

impl ConsoleSink {
    /// A sink that keeps up to `max_lines` lines.
    pub fn with_capacity_limit(max_lines: usize) -> Self {
        Self {
            lines: Vec::new(),
            max_lines,
            dropped: 0,
            kept_bytes: 0,
        }
    }

    /// Appends a line, cut to [`MAX_CONSOLE_LINE_BYTES`], unless a limit is reached.
    pub fn push(&mut self, mut line: LogLine) {
        if self.lines.len() >= self.max_lines || self.kept_bytes >= MAX_CONSOLE_BYTES {
            self.dropped += 1;
            return;
        }
        let room = MAX_CONSOLE_LINE_BYTES.min(MAX_CONSOLE_BYTES.saturating_sub(self.kept_bytes));
        line.text = clip(line.text, room);
        self.kept_bytes += line.text.len();
        self.lines.push(line);
    }

    /// Takes the lines of the execution that just ended, with a last line saying how many were
    /// dropped if any were, and starts the next execution's budget.
    pub fn take(&mut self) -> Vec<LogLine> {
        let mut lines = std::mem::take(&mut self.lines);
        if self.dropped > 0 {
            lines.push(LogLine {
                level: LogLevel::Warn,
                text: format!(
                    "[{} more console line(s) dropped: an execution keeps at most {} lines and \
                     {} bytes of console output]",
                    self.dropped, self.max_lines, MAX_CONSOLE_BYTES
                ),
            });
        }
        self.dropped = 0;
        self.kept_bytes = 0;
        lines
    }
}

/// `text` cut to at most `max_bytes` (on a character boundary) followed by a note of how much
/// was cut; unchanged when it fits. Cut only text whose secret values are already redacted: a
/// cut through a value would leave part of it behind.
pub fn clip(mut text: String, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text;
    }
    let end = floor_char_boundary(&text, max_bytes);
    let cut = text.len() - end;
    text.truncate(end);
    text.push_str(&format!("… [{cut} more bytes not kept]"));
    text
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// An HTTP request handed to a function, as plain Rust data.
#[derive(Default)]
pub struct HttpRequest {
    /// e.g. `GET`, `POST`.
    pub method: String,
    /// Absolute URL, e.g. `http://localhost/functions/v1/hello?x=1`.
    pub url: String,
    /// Header pairs in order.
    pub headers: Vec<(String, String)>,
    /// The body (none for GET/HEAD), whole or streamed.
    pub body: RequestBody,
    /// The connection, when its client asked for a WebSocket and the host can upgrade it: the
    /// handler accepts it with `Deno.upgradeWebSocket`.
    pub upgrade: Option<UpgradeSocket>,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("header_names", &header_names(&self.headers))
            .field("body", &self.body)
            .field("upgrade", &self.upgrade.is_some())
            .finish()
    }
}

/// Header names only: header values may carry credentials (Authorization, cookies).
pub(crate) fn header_names(headers: &[(String, String)]) -> Vec<&str> {
    headers.iter().map(|(name, _)| name.as_str()).collect()
}

/// The response a handler produced.
#[derive(Clone, Default)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header pairs as `Headers` iterates them (lower-case names, sorted,
    /// `set-cookie` kept separate).
    pub headers: Vec<(String, String)>,
    /// Full body bytes; empty when the body was streamed to a
    /// [`ResponseSink`](crate::body::ResponseSink).
    pub body: Vec<u8>,
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("header_names", &header_names(&self.headers))
            .field("body_len", &self.body.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(text: &str) -> LogLine {
        LogLine {
            level: LogLevel::Info,
            text: text.to_owned(),
        }
    }

    #[test]
    fn clip_cuts_on_a_character_boundary_and_says_how_much() {
        assert_eq!(clip("short".into(), 10), "short");
        assert_eq!(clip("ab\u{e9}cd".into(), 3), "ab… [4 more bytes not kept]");
    }

    #[test]
    fn the_sink_bounds_each_line_and_each_execution() {
        let mut sink = ConsoleSink::with_capacity_limit(3);
        sink.push(info(&"x".repeat(MAX_CONSOLE_LINE_BYTES * 4)));
        for _ in 0..3 {
            sink.push(info("more"));
        }
        let lines = sink.take();
        assert_eq!(lines.len(), 4, "three kept, one note");
        assert!(lines[0].text.len() < MAX_CONSOLE_LINE_BYTES + 64);
        assert!(lines[0].text.ends_with("more bytes not kept]"));
        assert!(lines[3].text.starts_with("[1 more console line(s) dropped"));
        // The next execution starts with a full budget.
        sink.push(info("next"));
        assert_eq!(sink.take(), vec![info("next")]);

        let mut sink = ConsoleSink::with_capacity_limit(usize::MAX);
        for _ in 0..(2 * MAX_CONSOLE_BYTES / MAX_CONSOLE_LINE_BYTES) {
            sink.push(info(&"y".repeat(MAX_CONSOLE_LINE_BYTES)));
        }
        let kept: usize = sink.take().iter().map(|l| l.text.len()).sum();
        assert!(kept <= MAX_CONSOLE_BYTES + 256, "{kept}");
    }
}
