//! The console sink: every `console.*` line is captured for the execution record, with every
//! injected secret value replaced by `[REDACTED]` before it is kept.

use deno_core::{OpState, op2};

use crate::state::{ConsoleSink, LogLevel, LogLine, ResolvedSecrets};

/// Appends one console line (deno_web's print level and text), redacted.
#[op2(fast)]
pub(crate) fn op_console_write(state: &mut OpState, #[smi] level: i32, #[string] text: &str) {
    let text = text.strip_suffix('\n').unwrap_or(text);
    let text = match state.try_borrow::<ResolvedSecrets>() {
        Some(secrets) => secrets.redact(text),
        None => text.to_owned(),
    };
    state.borrow_mut::<ConsoleSink>().push(LogLine {
        level: LogLevel::from_console_level(level),
        text,
    });
}
