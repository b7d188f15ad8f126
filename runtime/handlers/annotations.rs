//! A handler's settings, read from its `// @fluxbase:KEY VALUE` lines: namespace, who may call
//! it, CORS, rate limit, limits (timeout, memory, CPU time), the hosts its `fetch` may reach, and
//! for jobs their schedule and attempts. Every value is checked here, once, and a bad line makes
//! the handler fail to load with a message naming the file and line. It parses text only: it
//! applies none of these settings (the invoker, the isolate and the HTTP layer do).

use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use super::HandlerKind;
use super::schedule::Schedule;
use crate::secrets::Namespace;
use crate::{Error, Result};

/// What an annotation line starts with, after `//`.
const PREFIX: &str = "@fluxbase:";

/// The annotations of functions, jobs, or both.
const FUNCTION_KEYS: [&str; 7] = [
    "allow-unauthenticated",
    "cors-origins",
    "cors-methods",
    "cors-headers",
    "cors-max-age",
    "rate-limit",
    "cpu-time",
];
const JOB_KEYS: [&str; 4] = [
    "schedule",
    "schedule-tz",
    "schedule-payload",
    "max-attempts",
];
const SHARED_KEYS: [&str; 4] = ["namespace", "timeout", "memory", "allow-net"];

/// Headers a browser may send when CORS is on and `cors-headers` says nothing (those the
/// Supabase client sends).
const DEFAULT_CORS_HEADERS: [&str; 4] =
    ["authorization", "x-client-info", "apikey", "content-type"];
/// Methods allowed when CORS is on and `cors-methods` says nothing.
const DEFAULT_CORS_METHODS: [&str; 6] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
/// How long a browser may cache a preflight answer when `cors-max-age` says nothing.
const DEFAULT_CORS_MAX_AGE: Duration = Duration::from_secs(600);

/// The settings of one handler file. Unset limits fall back to the host's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct HandlerSettings {
    /// `@fluxbase:namespace NAME`: the namespace whose secrets it gets.
    #[schema(value_type = Option<String>)]
    pub namespace: Option<Namespace>,
    /// `@fluxbase:allow-unauthenticated`: anyone may call it (default: a user token or the
    /// service key is required).
    pub allow_unauthenticated: bool,
    /// `@fluxbase:cors-origins ...` and its companions.
    pub cors: Option<Cors>,
    /// `@fluxbase:rate-limit 60/min`: calls per caller.
    pub rate_limit: Option<RateLimit>,
    /// `@fluxbase:timeout 10s`: wall-clock limit of one execution.
    #[serde(with = "humantime_serde_opt")]
    #[schema(value_type = Option<String>)]
    pub timeout: Option<Duration>,
    /// `@fluxbase:memory 64MB`: heap limit, in bytes.
    pub memory_bytes: Option<usize>,
    /// `@fluxbase:cpu-time 50ms`: CPU time one invocation may use.
    #[serde(with = "humantime_serde_opt")]
    #[schema(value_type = Option<String>)]
    pub cpu_time: Option<Duration>,
    /// `@fluxbase:allow-net api.stripe.com,*.sendgrid.com`: the only hosts `fetch` may reach.
    pub allow_net: Option<Vec<HostPattern>>,
    /// `@fluxbase:schedule`, `-tz` and `-payload` (jobs).
    pub schedule: Option<Schedule>,
    /// `@fluxbase:max-attempts N` (jobs).
    pub max_attempts: Option<i64>,
}

/// Cross-origin access a function allows; the host answers preflights and adds the headers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Cors {
    /// Allowed origins (`https://app.example.com`), or `*` for any.
    pub origins: Vec<String>,
    /// Allowed methods.
    pub methods: Vec<String>,
    /// Allowed request headers (lower case).
    pub headers: Vec<String>,
    /// How long a preflight answer may be cached, in seconds.
    pub max_age_seconds: u64,
}

impl Cors {
    /// The `Access-Control-Allow-Origin` value for a request from `origin`, if it is allowed.
    pub fn allow_origin(&self, origin: &str) -> Option<String> {
        if self.origins.iter().any(|o| o == "*") {
            Some("*".to_owned())
        } else {
            self.origins
                .iter()
                .any(|o| o.eq_ignore_ascii_case(origin))
                .then(|| origin.to_owned())
        }
    }
}

/// At most `count` calls per `per` for one caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
pub struct RateLimit {
    /// Calls allowed in one period.
    pub count: u32,
    /// The period, in seconds.
    pub per_seconds: u64,
}

/// A host `fetch` may reach: `api.stripe.com`, or `*.sendgrid.com` for any subdomain of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct HostPattern(String);

impl HostPattern {
    /// Whether `host` (a name or an IP literal, any case) is this one.
    pub fn matches(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        match self.0.strip_prefix("*.") {
            Some(parent) => host
                .strip_suffix(parent)
                .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.')),
            None => host == self.0,
        }
    }

    /// The pattern as written (lower case).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl HandlerSettings {
    /// The settings `source` declares for a handler of `kind`; `path` names the file in errors.
    pub fn parse(source: &str, kind: HandlerKind, path: &Path) -> Result<HandlerSettings> {
        let mut settings = HandlerSettings::default();
        let mut cors = CorsLines::default();
        let mut schedule = ScheduleLines::default();
        for (index, line) in source.lines().enumerate() {
            let Some((key, value)) = annotation(line) else {
                continue;
            };
            let at = |message: String| {
                Error::invalid(format!(
                    "{}:{}: @fluxbase:{key}: {message}",
                    path.display(),
                    index + 1
                ))
            };
            check_key(key, kind).map_err(at)?;
            match key {
                "namespace" => {
                    settings.namespace =
                        Some(Namespace::parse(value).map_err(|e| at(e.to_string()))?)
                }
                "allow-unauthenticated" => {
                    if !value.is_empty() {
                        return Err(at(format!("takes no value, found {value:?}")));
                    }
                    settings.allow_unauthenticated = true;
                }
                "cors-origins" => cors.origins = Some(origins(value).map_err(at)?),
                "cors-methods" => cors.methods = Some(methods(value).map_err(at)?),
                "cors-headers" => cors.headers = Some(header_names(value).map_err(at)?),
                "cors-max-age" => cors.max_age = Some(duration(value).map_err(at)?),
                "rate-limit" => settings.rate_limit = Some(rate_limit(value).map_err(at)?),
                "timeout" => settings.timeout = Some(duration(value).map_err(at)?),
                "memory" => settings.memory_bytes = Some(memory(value).map_err(at)?),
                "cpu-time" => settings.cpu_time = Some(duration(value).map_err(at)?),
                "allow-net" => settings.allow_net = Some(hosts(value).map_err(at)?),
                "schedule" => schedule.cron = Some((value.to_owned(), index + 1)),
                "schedule-tz" => schedule.tz = Some((value.to_owned(), index + 1)),
                "schedule-payload" => schedule.payload = Some((value.to_owned(), index + 1)),
                "max-attempts" => settings.max_attempts = Some(max_attempts(value).map_err(at)?),
                _ => unreachable!("check_key knows every key"),
            }
        }
        settings.cors = cors.finish(path)?;
        settings.schedule = schedule.finish(path)?;
        Ok(settings)
    }
}

/// The key and value of an annotation line, if `line` is one.
pub(super) fn annotation(line: &str) -> Option<(&str, &str)> {
    let rest = line
        .trim()
        .strip_prefix("//")?
        .trim()
        .strip_prefix(PREFIX)?;
    let (key, value) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    Some((key, value.trim()))
}

/// Refuses a key this kind of handler does not take.
fn check_key(key: &str, kind: HandlerKind) -> std::result::Result<(), String> {
    let own: &[&str] = match kind {
        HandlerKind::Function => &FUNCTION_KEYS,
        HandlerKind::Job => &JOB_KEYS,
    };
    if SHARED_KEYS.contains(&key) || own.contains(&key) {
        return Ok(());
    }
    if FUNCTION_KEYS.contains(&key) || JOB_KEYS.contains(&key) {
        let other = match kind {
            HandlerKind::Function => "jobs",
            HandlerKind::Job => "functions",
        };
        return Err(format!("only {other} take this annotation"));
    }
    let mut known: Vec<&str> = SHARED_KEYS.iter().chain(own).copied().collect();
    known.sort_unstable();
    Err(format!("unknown annotation (known: {})", known.join(", ")))
}

/// A duration like `10s`, `500ms` or `2m`, longer than zero.
fn duration(value: &str) -> std::result::Result<Duration, String> {
    let parsed = humantime::parse_duration(value)
        .map_err(|e| format!("{value:?} is not a duration like 10s or 500ms ({e})"))?;
    if parsed.is_zero() {
        return Err("must be longer than zero".into());
    }
    if parsed > Duration::from_secs(24 * 3600) {
        return Err(format!("{value:?} is longer than a day"));
    }
    Ok(parsed)
}

/// A heap size like `64MB` or `1GB` (binary units: MB is MiB), from 16 MB to 16 GB.
fn memory(value: &str) -> std::result::Result<usize, String> {
    let split = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: usize = number
        .parse()
        .map_err(|_| format!("{value:?} is not a size like 64MB or 1GB"))?;
    let scale = match unit.trim().to_ascii_uppercase().as_str() {
        "MB" | "MIB" | "M" => 1 << 20,
        "GB" | "GIB" | "G" => 1 << 30,
        _ => return Err(format!("{value:?} is not a size like 64MB or 1GB")),
    };
    let bytes = number.saturating_mul(scale);
    if !(16 << 20..=16 << 30).contains(&bytes) {
        return Err(format!("{value:?} is outside 16MB to 16GB"));
    }
    Ok(bytes)
}

/// `60/min`, `10/s`, `1000/hour`, `5000/day`.
fn rate_limit(value: &str) -> std::result::Result<RateLimit, String> {
    let shape = || format!("{value:?} is not a rate like 60/min, 10/s or 1000/hour");
    let (count, unit) = value.split_once('/').ok_or_else(shape)?;
    let count: u32 = count.trim().parse().map_err(|_| shape())?;
    if count == 0 {
        return Err("allows no call at all: the count must be at least 1".into());
    }
    let per_seconds = match unit.trim().to_ascii_lowercase().as_str() {
        "s" | "sec" | "second" => 1,
        "m" | "min" | "minute" => 60,
        "h" | "hour" => 3600,
        "d" | "day" => 86_400,
        _ => return Err(shape()),
    };
    Ok(RateLimit { count, per_seconds })
}

/// A comma-separated list of host names, each optionally `*.` for its subdomains.
fn hosts(value: &str) -> std::result::Result<Vec<HostPattern>, String> {
    let hosts = list(value)
        .map(|host| {
            let host = host.to_ascii_lowercase();
            let name = host.strip_prefix("*.").unwrap_or(&host);
            let valid = !name.is_empty()
                && name.split('.').all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                });
            if valid || name.parse::<std::net::IpAddr>().is_ok() {
                Ok(HostPattern(host))
            } else {
                Err(format!(
                    "{host:?} is not a host name (like api.example.com or *.example.com)"
                ))
            }
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    non_empty(hosts)
}

/// A comma-separated list of origins (`https://app.example.com`), or `*`.
fn origins(value: &str) -> std::result::Result<Vec<String>, String> {
    let origins = list(value)
        .map(|origin| {
            if origin == "*" {
                return Ok(origin.to_owned());
            }
            let uri: http::Uri = origin
                .parse()
                .map_err(|_| format!("{origin:?} is not an origin like https://app.example.com"))?;
            let bare = uri.scheme().is_some()
                && uri.authority().is_some()
                && uri.path_and_query().is_none_or(|p| p.as_str() == "/");
            if bare && !origin.ends_with('/') {
                Ok(origin.to_owned())
            } else {
                Err(format!(
                    "{origin:?} is not an origin like https://app.example.com (scheme and host, \
                     no path)"
                ))
            }
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    non_empty(origins)
}

/// A comma-separated list of HTTP methods.
fn methods(value: &str) -> std::result::Result<Vec<String>, String> {
    let methods = list(value)
        .map(|method| {
            http::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
                .map(|m| m.as_str().to_owned())
                .map_err(|_| format!("{method:?} is not an HTTP method"))
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    non_empty(methods)
}

/// A comma-separated list of header names.
fn header_names(value: &str) -> std::result::Result<Vec<String>, String> {
    let names = list(value)
        .map(|name| {
            http::HeaderName::from_bytes(name.as_bytes())
                .map(|n| n.as_str().to_owned())
                .map_err(|_| format!("{name:?} is not a header name"))
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    non_empty(names)
}

/// Attempts of a job run, 1 to 100.
fn max_attempts(value: &str) -> std::result::Result<i64, String> {
    match value.parse::<i64>() {
        Ok(n) if (1..=100).contains(&n) => Ok(n),
        _ => Err(format!(
            "{value:?} is not a number of attempts from 1 to 100"
        )),
    }
}

fn list(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

fn non_empty<T>(items: Vec<T>) -> std::result::Result<Vec<T>, String> {
    if items.is_empty() {
        Err("needs at least one value".into())
    } else {
        Ok(items)
    }
}

/// The CORS lines of a file, put together once all are read.
#[derive(Default)]
struct CorsLines {
    origins: Option<Vec<String>>,
    methods: Option<Vec<String>>,
    headers: Option<Vec<String>>,
    max_age: Option<Duration>,
}

impl CorsLines {
    fn finish(self, path: &Path) -> Result<Option<Cors>> {
        let Some(origins) = self.origins else {
            if self.methods.is_some() || self.headers.is_some() || self.max_age.is_some() {
                return Err(Error::invalid(format!(
                    "{}: @fluxbase:cors-methods, -headers and -max-age need @fluxbase:cors-origins",
                    path.display()
                )));
            }
            return Ok(None);
        };
        let owned = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect();
        Ok(Some(Cors {
            origins,
            methods: self.methods.unwrap_or_else(|| owned(&DEFAULT_CORS_METHODS)),
            headers: self.headers.unwrap_or_else(|| owned(&DEFAULT_CORS_HEADERS)),
            max_age_seconds: self.max_age.unwrap_or(DEFAULT_CORS_MAX_AGE).as_secs(),
        }))
    }
}

/// The schedule lines of a job file (value and line number), put together once all are read.
#[derive(Default)]
struct ScheduleLines {
    cron: Option<(String, usize)>,
    tz: Option<(String, usize)>,
    payload: Option<(String, usize)>,
}

impl ScheduleLines {
    fn finish(self, path: &Path) -> Result<Option<Schedule>> {
        let at = |key: &str, line: usize, message: String| {
            Error::invalid(format!(
                "{}:{line}: @fluxbase:{key}: {message}",
                path.display()
            ))
        };
        let Some((cron, cron_line)) = self.cron else {
            if let Some((_, line)) = self.tz.or(self.payload) {
                return Err(at(
                    "schedule-tz",
                    line,
                    "schedule-tz and schedule-payload need a @fluxbase:schedule line".into(),
                ));
            }
            return Ok(None);
        };
        let mut schedule = Schedule::parse(&cron).map_err(|e| at("schedule", cron_line, e))?;
        if let Some((tz, line)) = self.tz {
            schedule = schedule
                .in_zone(&tz)
                .map_err(|e| at("schedule-tz", line, e))?;
        }
        if let Some((payload, line)) = self.payload {
            let value: serde_json::Value = serde_json::from_str(&payload)
                .map_err(|e| at("schedule-payload", line, format!("not JSON: {e}")))?;
            schedule = schedule.with_payload(value);
        }
        Ok(Some(schedule))
    }
}

/// Serializes an optional duration as humantime text (`"10s"`).
mod humantime_serde_opt {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(
        value: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => serializer.serialize_some(&humantime::format_duration(*d).to_string()),
            None => serializer.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(source: &str, kind: HandlerKind) -> Result<HandlerSettings> {
        HandlerSettings::parse(source, kind, Path::new("functions/f.ts"))
    }

    #[test]
    fn reads_every_function_setting() {
        let settings = parse(
            "// @fluxbase:namespace billing\n\
             // @fluxbase:allow-unauthenticated\n\
             // @fluxbase:cors-origins https://app.example.com, https://admin.example.com\n\
             // @fluxbase:cors-max-age 1h\n\
             // @fluxbase:rate-limit 60/min\n\
             // @fluxbase:timeout 10s\n\
             // @fluxbase:memory 64MB\n\
             // @fluxbase:cpu-time 50ms\n\
             // @fluxbase:allow-net api.stripe.com,*.sendgrid.com\n\
             export default () => new Response();",
            HandlerKind::Function,
        )
        .unwrap();
        assert_eq!(settings.namespace.unwrap().as_str(), "billing");
        assert!(settings.allow_unauthenticated);
        let cors = settings.cors.unwrap();
        assert_eq!(cors.origins.len(), 2);
        assert_eq!(cors.max_age_seconds, 3600);
        assert_eq!(cors.methods, DEFAULT_CORS_METHODS);
        assert_eq!(
            cors.allow_origin("https://ADMIN.example.com").as_deref(),
            Some("https://ADMIN.example.com")
        );
        assert_eq!(cors.allow_origin("https://evil.example.com"), None);
        assert_eq!(
            settings.rate_limit,
            Some(RateLimit {
                count: 60,
                per_seconds: 60
            })
        );
        assert_eq!(settings.timeout, Some(Duration::from_secs(10)));
        assert_eq!(settings.memory_bytes, Some(64 << 20));
        assert_eq!(settings.cpu_time, Some(Duration::from_millis(50)));
        let allow = settings.allow_net.unwrap();
        assert!(allow[0].matches("API.stripe.com"));
        assert!(!allow[0].matches("stripe.com"));
        assert!(allow[1].matches("mail.sendgrid.com"));
        assert!(!allow[1].matches("sendgrid.com"));
        assert!(!allow[1].matches("evilsendgrid.com"));
    }

    #[test]
    fn a_bad_line_is_named_with_its_number() {
        for (source, needle) in [
            (
                "\n\n// @fluxbase:timeout soon",
                "functions/f.ts:3: @fluxbase:timeout: \"soon\"",
            ),
            (
                "// @fluxbase:memory 2KB",
                "functions/f.ts:1: @fluxbase:memory",
            ),
            ("// @fluxbase:rate-limit 0/min", "allows no call"),
            ("// @fluxbase:rate-limit 60/fortnight", "60/fortnight"),
            (
                "// @fluxbase:cors-origins https://a.example.com/path",
                "no path",
            ),
            (
                "// @fluxbase:allow-net api.stripe.com/v1",
                "not a host name",
            ),
            ("// @fluxbase:alow-net x.com", "unknown annotation"),
            (
                "// @fluxbase:schedule * * * * *",
                "only jobs take this annotation",
            ),
            ("// @fluxbase:allow-unauthenticated yes", "takes no value"),
            (
                "// @fluxbase:cors-max-age 1h",
                "need @fluxbase:cors-origins",
            ),
            (
                "// @fluxbase:namespace Bad Name",
                "functions/f.ts:1: @fluxbase:namespace",
            ),
        ] {
            let error = parse(source, HandlerKind::Function)
                .unwrap_err()
                .to_string();
            assert!(error.contains(needle), "{source:?}: {error}");
        }
    }

    #[test]
    fn jobs_take_schedules_and_attempts_but_not_function_settings() {
        let settings = parse(
            "// @fluxbase:schedule @hourly\n// @fluxbase:schedule-tz Europe/Berlin\n\
             // @fluxbase:schedule-payload {\"json\": true}\n// @fluxbase:max-attempts 5\n",
            HandlerKind::Job,
        )
        .unwrap();
        let schedule = settings.schedule.unwrap();
        assert_eq!(schedule.payload(), &serde_json::json!({"json": true}));
        assert_eq!(settings.max_attempts, Some(5));
        let error = parse("// @fluxbase:rate-limit 1/s", HandlerKind::Job).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("only functions take this annotation")
        );
        let error = parse("// @fluxbase:schedule-tz Mars/Olympus", HandlerKind::Job).unwrap_err();
        assert!(error.to_string().contains("need a @fluxbase:schedule line"));
    }
}
