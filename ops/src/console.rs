//! The console sink: every `console.*` line is captured for the execution record, with every
//! injected secret value (function secrets, and the settings secrets of the running invocation)
//! replaced by `[REDACTED]` before it is kept.

use deno_core::{OpState, op2};

use crate::settings::InvocationSettings;
use crate::state::{ConsoleSink, LogLevel, LogLine, ResolvedSecrets};

/// Appends one console line (deno_web's print level and text), redacted.
#[op2(fast)]
pub(crate) fn op_console_write(state: &mut OpState, #[smi] level: i32, #[string] text: &str) {
    let text = text.strip_suffix('\n').unwrap_or(text);
    let secrets = state.try_borrow::<ResolvedSecrets>();
    let text = match state.try_borrow::<InvocationSettings>() {
        Some(settings) => settings.redact_with(secrets, text),
        None => secrets.map_or_else(|| text.to_owned(), |secrets| secrets.redact(text)),
    };
    state.borrow_mut::<ConsoleSink>().push(LogLine {
        level: LogLevel::from_console_level(level),
        text,
    });
}
