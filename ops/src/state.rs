//! Per-isolate Rust-side state that lives in the isolate's `OpState`.
//!
//! Everything here is owned by exactly one isolate (and therefore one OS
//! thread). None of the `Debug` impls print secret values.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::fmt;

use zeroize::Zeroizing;

use crate::body::RequestBody;

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

    /// Replaces every occurrence of every secret value in `text` with
    /// `[REDACTED]`. Longer values are replaced first so that a secret that
    /// contains another secret is redacted whole. Empty values are skipped.
    pub fn redact(&self, text: &str) -> String {
        redact_values(text, self.values().collect())
    }

    /// The values of all secrets.
    pub(crate) fn values(&self) -> impl Iterator<Item = &str> {
        self.by_upper_name.values().map(|e| e.value.as_str())
    }
}

/// Replaces every occurrence of each of `values` in `text` with `[REDACTED]`, longer values
/// first (so a value that contains another is redacted whole); empty values are skipped.
pub(crate) fn redact_values(text: &str, mut values: Vec<&str>) -> String {
    values.retain(|v| !v.is_empty());
    if values.is_empty() {
        return text.to_owned();
    }
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    let mut out = text.to_owned();
    for v in values {
        if out.contains(v) {
            out = out.replace(v, REDACTED);
        }
    }
    out
}

/// What a secret value is replaced with in captured log output.
pub const REDACTED: &str = "[REDACTED]";

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

/// Captured console output of an isolate.
#[derive(Clone, Debug, Default)]
pub struct ConsoleSink {
    /// Lines in the order they were written.
    pub lines: Vec<LogLine>,
    /// Upper bound on the number of kept lines; later lines are dropped and
    /// counted in `dropped`.
    pub max_lines: usize,
    /// Lines dropped because `max_lines` was reached.
    pub dropped: usize,
}

impl ConsoleSink {
    /// A sink that keeps up to `max_lines` lines.
    pub fn with_capacity_limit(max_lines: usize) -> Self {
        Self {
            lines: Vec::new(),
            max_lines,
            dropped: 0,
        }
    }

    /// Appends a line unless the limit is reached.
    pub fn push(&mut self, line: LogLine) {
        if self.lines.len() < self.max_lines {
            self.lines.push(line);
        } else {
            self.dropped += 1;
        }
    }
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
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("header_names", &header_names(&self.headers))
            .field("body", &self.body)
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
