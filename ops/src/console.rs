//! The console sink: every `console.*` line is captured for the execution record, with every
//! injected secret value (function secrets, and the settings secrets of the running invocation)
//! replaced by `[REDACTED]` before it is kept, and cut to the sink's bounds.

use deno_core::{OpState, op2};

use crate::settings::InvocationSettings;
use crate::state::{ConsoleSink, LogLevel, LogLine, ResolvedSecrets, redact_values, redacted_head};

/// Appends one console line (deno_web's print level and text), redacted.
#[op2(fast)]
pub(crate) fn op_console_write(state: &mut OpState, #[smi] level: i32, #[string] text: &str) {
    let text = text.strip_suffix('\n').unwrap_or(text);
    let text = redact_values(text, secret_values(state));
    state.borrow_mut::<ConsoleSink>().push(LogLine {
        level: LogLevel::from_console_level(level),
        text,
    });
}

/// The start of a console argument too long to format whole, at most `max_bytes`, redacted,
/// never cut inside a secret value (see `03_console.js`). The caller passes the argument's
/// first `max_bytes` plus [`op_console_longest_secret`] characters, which is all it takes.
#[op2]
#[string]
pub(crate) fn op_console_clip(
    state: &mut OpState,
    #[string] head: &str,
    #[smi] max_bytes: u32,
) -> String {
    redacted_head(head, max_bytes as usize, secret_values(state))
}

/// The length in bytes of the longest secret value this isolate could print.
#[op2(fast)]
#[smi]
pub(crate) fn op_console_longest_secret(state: &mut OpState) -> u32 {
    let longest = secret_values(state).iter().map(|v| v.len()).max();
    u32::try_from(longest.unwrap_or(0)).unwrap_or(u32::MAX)
}

/// Every secret value this isolate holds now: its function secrets and the settings secrets
/// of the running invocation.
fn secret_values(state: &OpState) -> Vec<&str> {
    let secrets = state.try_borrow::<ResolvedSecrets>();
    let settings = state.try_borrow::<InvocationSettings>();
    secrets
        .into_iter()
        .chain(settings.into_iter().flat_map(|s| [&s.user, &s.system]))
        .flat_map(ResolvedSecrets::values)
        .collect()
}
