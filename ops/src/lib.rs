//! The `fluxbase` deno_core extension: the ops that let function code read its secrets, its
//! `Deno.env` and write to the console, plus the bootstrap JavaScript in `js/` that installs
//! the global scope. The `extension!` call below is the table of contents.
//!
//! The isolate never reads the database: the host resolves a function's secrets first and
//! puts them in the isolate's `OpState` ([`state::ResolvedSecrets`]) before any user code runs.
//! Settings secrets (the invoking user's and the system's) belong to one invocation instead
//! ([`settings::InvocationSettings`]): they are put in right before it and taken out after it.
//!
//! JavaScript files, in load order (`99_global_scope.js` is the entry point and the one file
//! that installs globals):
//! - `00_secrets.js`: the frozen `secrets` global (`get`, `getRequired`);
//! - `01_env.js`: `Deno.env` over the isolate's own environment map;
//! - `02_dispatch.js`: invocation glue called from Rust, out of reach of user code;
//! - `03_console.js`: the console, each call's arguments bounded before they are formatted;
//! - `04_errors.js`: errors no call awaits (timers, late rejections, `reportError`), logged;
//! - `99_global_scope.js`: loads the web extension scripts and installs every global.

pub mod body;
mod console;
mod env;
mod invocation;
pub mod redact;
mod secrets;
pub mod settings;
pub mod state;

pub use invocation::{InvocationOutcome, PendingInvocation, end_invocation};

deno_core::extension!(
    fluxbase,
    deps = [deno_webidl, deno_web, deno_net, deno_fetch, deno_crypto],
    ops = [
        secrets::op_secret_get,
        env::op_env_get,
        env::op_env_set,
        env::op_env_delete,
        env::op_env_to_object,
        console::op_console_write,
        console::op_console_clip,
        console::op_console_longest_secret,
        invocation::op_invocation_take,
        invocation::op_invocation_take_body,
        invocation::op_invocation_read_chunk,
        invocation::op_invocation_respond_head,
        invocation::op_invocation_respond,
        invocation::op_invocation_respond_text,
        invocation::op_invocation_write_chunk,
        invocation::op_invocation_job_done,
    ],
    esm_entry_point = "ext:fluxbase/99_global_scope.js",
    // The entry point comes first: instantiated first, 99 pulls 00-03 in as one module graph.
    esm = [
        dir "../js",
        "99_global_scope.js",
        "00_secrets.js",
        "01_env.js",
        "02_dispatch.js",
        "03_console.js",
        "04_errors.js",
    ],
);
