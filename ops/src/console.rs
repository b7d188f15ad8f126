//! The console sink: every `console.*` line is captured for the execution record, passed
//! through the isolate's [`Redactor`] before it is kept, and cut to the sink's bounds.
//! It has no redaction of its own (the one redactor is `redact.rs`) and prints nothing.

use deno_core::{OpState, op2};

use crate::redact::Redactor;
use crate::state::{ConsoleSink, LogLevel, LogLine};

/// Appends one console line (deno_web's print level and text), redacted.
#[op2(fast)]
pub(crate) fn op_console_write(state: &mut OpState, #[smi] level: i32, #[string] text: &str) {
    let text = text.strip_suffix('\n').unwrap_or(text);
    let text = redactor(state).redact(text);
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
    redactor(state).redact_head(head, max_bytes as usize)
}

/// The length in bytes of the longest form of a secret value this isolate could print.
#[op2(fast)]
#[smi]
pub(crate) fn op_console_longest_secret(state: &mut OpState) -> u32 {
    u32::try_from(redactor(state).longest()).unwrap_or(u32::MAX)
}

/// The isolate's redactor; an isolate given no secrets yet has an empty one.
fn redactor(state: &mut OpState) -> &Redactor {
    if !state.has::<Redactor>() {
        state.put(Redactor::default());
    }
    state.borrow::<Redactor>()
}
