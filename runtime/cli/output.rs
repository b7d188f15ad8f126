//! Rendering results as a readable table or as JSON for scripts. It is given metadata and
//! records to print, never a value, and calls no service.

use clap::ValueEnum;
use comfy_table::{ContentArrangement, Table, presets};

use crate::handlers::{Handler, HandlerSettings};
use serde::Serialize;

use crate::logs::LogEntry;
use crate::secrets::SecretMetadata;
use crate::store::{ExecutionRecord, LogLine, VersionRecord};

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A table for people.
    Table,
    /// JSON for scripts.
    Json,
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json(value: &impl Serialize) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("output types serialize")
    );
}

/// An empty table with `header`, in the style of every table the CLI prints.
pub(super) fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header);
    table
}

fn expiry(meta: &SecretMetadata) -> String {
    match (meta.expires_at, meta.expired) {
        (None, _) => "never".into(),
        (Some(at), false) => at.to_rfc3339(),
        (Some(at), true) => format!("{at} (expired)"),
    }
}

/// The digest column: the keyed digest of the value, or why there is none.
fn digest(meta: &SecretMetadata) -> String {
    meta.digest
        .clone()
        .unwrap_or_else(|| "(does not decrypt: run verify)".into())
}

/// A table of secrets, one row each.
pub fn secrets_table(secrets: &[SecretMetadata]) -> Table {
    let mut table = table(&[
        "NAME",
        "SCOPE",
        "NAMESPACE",
        "VERSION",
        "DIGEST",
        "DESCRIPTION",
        "EXPIRES",
        "UPDATED",
    ]);
    for meta in secrets {
        let mut row = identity_cells(meta);
        row.extend([
            meta.description.clone().unwrap_or_default(),
            expiry(meta),
            meta.updated_at.to_rfc3339(),
        ]);
        table.add_row(row);
    }
    table
}

/// The cells that say which secret a row is and what it holds now: name, scope, namespace,
/// version and the value's digest.
fn identity_cells(meta: &SecretMetadata) -> Vec<String> {
    vec![
        meta.name.to_string(),
        meta.scope.to_string(),
        meta.namespace
            .as_ref()
            .map_or("-".into(), ToString::to_string),
        meta.version.to_string(),
        digest(meta),
    ]
}

/// A table of deleted secrets: when each was deleted and when it is destroyed for good.
pub fn deleted_secrets_table(secrets: &[SecretMetadata]) -> Table {
    let mut table = table(&[
        "NAME",
        "SCOPE",
        "NAMESPACE",
        "VERSION",
        "DIGEST",
        "DELETED",
        "DESTROYED AFTER",
    ]);
    let time = |at: Option<crate::time::Timestamp>| at.map_or("-".into(), |at| at.to_rfc3339());
    for meta in secrets {
        let mut row = identity_cells(meta);
        row.extend([time(meta.deleted_at), time(meta.purge_at)]);
        table.add_row(row);
    }
    table
}

/// A two-column table of the counts of `secrets stats`.
pub fn stats_table(stats: &crate::secrets::SecretStats) -> Table {
    let mut table = table(&["SECRETS", "COUNT"]);
    let rows = [
        ("total (live)".to_owned(), stats.total),
        (
            format!("expiring within {} days", stats.window_days),
            stats.expiring_soon,
        ),
        ("expired".to_owned(), stats.expired),
        ("deleted (kept until purged)".to_owned(), stats.deleted),
    ];
    for (what, count) in rows {
        table.add_row(vec![what, count.to_string()]);
    }
    table
}

/// A two-column table of one secret's metadata.
pub fn metadata_table(meta: &SecretMetadata) -> Table {
    let mut table = table(&["FIELD", "VALUE"]);
    let rows = [
        ("name", meta.name.to_string()),
        ("scope", meta.scope.to_string()),
        (
            "namespace",
            meta.namespace
                .as_ref()
                .map_or("-".into(), ToString::to_string),
        ),
        ("version", meta.version.to_string()),
        ("digest", digest(meta)),
        (
            "max versions",
            meta.max_versions
                .map_or_else(|| "all".to_owned(), |n| n.to_string()),
        ),
        ("description", meta.description.clone().unwrap_or_default()),
        ("expires", expiry(meta)),
        ("created", meta.created_at.to_rfc3339()),
        ("updated", meta.updated_at.to_rfc3339()),
    ];
    for (field, value) in rows {
        table.add_row(vec![field.to_owned(), value]);
    }
    table
}

/// A table of a secret's versions, the current one marked.
pub fn history_table(current: i64, versions: &[VersionRecord]) -> Table {
    let mut table = table(&["VERSION", "CREATED", "BY", "KEY ID", "NOTE"]);
    for version in versions {
        let mut notes = Vec::new();
        if let Some(from) = version.restored_from {
            notes.push(format!("rollback to version {from}"));
        }
        if version.version == current {
            notes.push("current".into());
        }
        table.add_row(vec![
            version.version.to_string(),
            version.created_at.to_rfc3339(),
            version.created_by.clone(),
            version.key_id.to_string(),
            notes.join(", "),
        ]);
    }
    table
}

/// A table of execution and audit records, in the order given.
pub fn logs_table(entries: &[LogEntry], search: Option<&str>) -> Table {
    let mut table = table(&["TIME", "CATEGORY", "NAME", "NAMESPACE", "WHAT", "DETAIL"]);
    for entry in entries {
        let row = match entry {
            LogEntry::Execution(record) => {
                let mut detail = vec![format!("{} ms", record.duration_ms)];
                if !record.secrets_accessed.is_empty() {
                    detail.push(format!("read {}", record.secrets_accessed.join(", ")));
                }
                if let Some(error) = &record.error {
                    detail.push(error.clone());
                }
                let mut detail = detail.join("; ");
                for line in matching_lines(record, search) {
                    detail.push('\n');
                    detail.push_str(&line);
                }
                vec![
                    record.started_at.to_rfc3339(),
                    format!("execution ({})", record.kind),
                    record.name.clone(),
                    record.namespace.clone(),
                    record.status.clone(),
                    detail,
                ]
            }
            LogEntry::Audit(record) => {
                let version = record.version.map(|v| format!("version {v}"));
                let by = match &record.address {
                    Some(address) => format!("by {} from {address}", record.actor),
                    None => format!("by {}", record.actor),
                };
                let detail: Vec<String> = [Some(by), version]
                    .into_iter()
                    .chain([record.detail.clone()])
                    .flatten()
                    .collect();
                vec![
                    record.at.to_rfc3339(),
                    "audit".into(),
                    record.name.clone().unwrap_or_default(),
                    record.namespace.clone().unwrap_or_default(),
                    record.action.clone(),
                    detail.join("; "),
                ]
            }
        };
        table.add_row(row);
    }
    table
}

/// Console lines shown under an execution's row: those containing `search` (case-insensitive),
/// at most [`MATCHING_LINES_SHOWN`], each cut to one short line.
fn matching_lines(record: &ExecutionRecord, search: Option<&str>) -> Vec<String> {
    let Some(search) = search.map(str::to_lowercase).filter(|s| !s.is_empty()) else {
        return Vec::new();
    };
    let matching: Vec<&LogLine> = record
        .logs
        .iter()
        .filter(|line| line.message.to_lowercase().contains(&search))
        .collect();
    let mut shown: Vec<String> = matching
        .iter()
        .take(MATCHING_LINES_SHOWN)
        .map(|line| format!("> {}: {}", line.level, one_line(&line.message, 120)))
        .collect();
    if matching.len() > MATCHING_LINES_SHOWN {
        shown.push(format!(
            "> ({} more matching lines: fluxbase logs show {})",
            matching.len() - MATCHING_LINES_SHOWN,
            record.id
        ));
    }
    shown
}

/// Matching console lines shown per execution in `logs list`.
const MATCHING_LINES_SHOWN: usize = 5;

/// The first line of `text`, cut to `max` characters with an ellipsis.
fn one_line(text: &str, max: usize) -> String {
    let first = text.lines().next().unwrap_or_default();
    if first.chars().count() > max || first.len() < text.len() {
        let cut: String = first.chars().take(max).collect();
        format!("{cut}…")
    } else {
        first.to_owned()
    }
}

/// `logs show`: one execution's record as text, every console line in full.
pub fn execution_text(record: &ExecutionRecord) -> String {
    let mut out = format!(
        "Execution {}\n  {} {} (namespace {})\n  status:   {}\n  started:  {}\n  duration: {} ms\n",
        record.id,
        record.kind,
        record.name,
        record.namespace,
        record.status,
        record.started_at.to_rfc3339(),
        record.duration_ms,
    );
    if !record.secrets_accessed.is_empty() {
        out.push_str(&format!(
            "  read:     {}\n",
            record.secrets_accessed.join(", ")
        ));
    }
    if let Some(error) = &record.error {
        out.push_str(&format!(
            "  error:    {}\n",
            error.replace('\n', "\n            ")
        ));
    }
    out.push_str(&format!("Console ({} lines)\n", record.logs.len()));
    for line in &record.logs {
        out.push_str(&format!("  {}: {}\n", line.level, line.message));
    }
    out
}

/// Handlers with what their `// @fluxbase:` lines set (or why those lines are refused).
pub fn handlers_table(handlers: &[(&Handler, crate::Result<HandlerSettings>)]) -> Table {
    let mut table = table(&["NAME", "FILE", "SETTINGS"]);
    for (handler, settings) in handlers {
        let shown = match settings {
            Ok(settings) => settings_summary(settings),
            Err(error) => format!("error: {error}"),
        };
        table.add_row(vec![
            handler.name.clone(),
            handler.path.display().to_string(),
            shown,
        ]);
    }
    table
}

/// One line of what a handler's annotations set; the host's defaults are not repeated.
fn settings_summary(settings: &HandlerSettings) -> String {
    let mut parts = Vec::new();
    if let Some(namespace) = &settings.namespace {
        parts.push(format!("namespace {}", namespace.as_str()));
    }
    if settings.allow_unauthenticated {
        parts.push("open to anyone".to_owned());
    }
    if let Some(cors) = &settings.cors {
        parts.push(format!("cors {}", cors.origins.join(" ")));
    }
    if let Some(limit) = settings.rate_limit {
        parts.push(format!("rate {}/{}s", limit.count, limit.per_seconds));
    }
    let duration = |d: std::time::Duration| humantime::format_duration(d).to_string();
    if let Some(timeout) = settings.timeout {
        parts.push(format!("timeout {}", duration(timeout)));
    }
    if let Some(bytes) = settings.memory_bytes {
        parts.push(format!("memory {} MiB", bytes >> 20));
    }
    if let Some(cpu) = settings.cpu_time {
        parts.push(format!("cpu {}", duration(cpu)));
    }
    if let Some(hosts) = &settings.allow_net {
        let hosts: Vec<&str> = hosts.iter().map(|h| h.as_str()).collect();
        parts.push(format!("net {}", hosts.join(" ")));
    }
    if let Some(schedule) = &settings.schedule {
        parts.push(format!(
            "schedule {} ({})",
            schedule.expression, schedule.timezone
        ));
    }
    if let Some(attempts) = settings.max_attempts {
        parts.push(format!("attempts {attempts}"));
    }
    if parts.is_empty() {
        "-".to_owned()
    } else {
        parts.join(", ")
    }
}

/// Scheduled jobs with their next and last run.
pub fn schedules_table(schedules: &[crate::jobs::ScheduleView]) -> Table {
    let mut table = table(&["JOB", "SCHEDULE", "TIME ZONE", "NEXT RUN", "LAST RUN"]);
    for view in schedules {
        table.add_row(vec![
            view.name.clone(),
            view.schedule.expression.clone(),
            view.schedule.timezone.name().to_owned(),
            view.next_run_at
                .map_or_else(|| "-".to_owned(), |at| at.to_rfc3339()),
            view.last_run_id.clone().unwrap_or_else(|| "-".to_owned()),
        ]);
    }
    table
}

/// Job runs, newest first, with their progress.
pub fn runs_table(runs: &[crate::store::JobRun]) -> Table {
    let mut table = table(&[
        "RUN", "JOB", "STATUS", "ATTEMPTS", "PRIORITY", "PROGRESS", "CREATED",
    ]);
    for run in runs {
        let progress = run.progress.as_ref().map_or_else(
            || "-".to_owned(),
            |p| match &p.message {
                Some(message) => format!("{}% {message}", p.percent),
                None => format!("{}%", p.percent),
            },
        );
        table.add_row(vec![
            run.id.clone(),
            run.name.clone(),
            run.status.clone(),
            format!("{}/{}", run.attempts, run.max_attempts),
            run.priority.to_string(),
            progress,
            run.created_at.to_rfc3339(),
        ]);
    }
    table
}
