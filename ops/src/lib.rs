//! The `fluxbase` deno_core extension: the ops through which function code reads its secrets
//! and `Deno.env`, writes to the console and takes its invocation, plus the bootstrap JavaScript
//! of `js/` (`99_global_scope.js`, the entry point, installs every global); the `extension!`
//! call below is the table of contents. This crate has no database, no key and no host I/O: the
//! host puts resolved secrets in `OpState` before user code runs ([`state::ResolvedSecrets`]),
//! and the invoking user's settings secrets per invocation ([`settings::InvocationSettings`]);
//! the one socket it touches is the isolate's end of a connection the host upgraded
//! ([`upgrade::UpgradeSocket`]), given with the request.

pub mod body;
mod console;
pub mod egress;
mod env;
mod invocation;
pub mod navigator;
mod node_compat;
pub mod progress;
pub mod redact;
mod secrets;
pub mod settings;
pub mod state;
pub mod upgrade;

pub use invocation::{InvocationOutcome, PendingInvocation, end_invocation};

deno_core::extension!(
    fluxbase,
    deps = [deno_webidl, deno_web, deno_net, deno_fetch, deno_crypto, deno_websocket],
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
        invocation::op_invocation_response_complete,
        progress::op_job_progress,
        navigator::op_navigator_user_agent,
        navigator::op_navigator_hardware_concurrency,
        egress::op_egress_check_host,
        upgrade::op_upgrade_accept_key,
        upgrade::op_upgrade_accept,
        upgrade::op_upgrade_abort,
        node_compat::op_fluxbase_build_target,
        node_compat::op_fluxbase_v8_version,
        node_compat::op_fluxbase_cpu_usage,
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
        "05_navigator.js",
        "06_upgrade.js",
        "07_deno_errors.js",
    ],
);

// What Node's polyfills (deno_node) take from Deno's runtime, which fluxbase does not have:
// stand-ins for deno_os's script and deno_runtime's global table, and ops named as Deno's
// (ops/src/node_compat.rs). Registered after deno_node; its scripts load these on demand.
deno_core::extension!(
    fluxbase_node,
    deps = [deno_node],
    ops = [
        node_compat::op_get_env_no_permission_check,
        node_compat::op_fs_cwd,
        node_compat::op_bootstrap_color_depth,
        node_compat::op_current_thread_cpu_usage,
    ],
    lazy_loaded_esm = [
        dir "../js/node",
        "ext:runtime/98_global_scope_shared.js" = "global_scope_shared.js",
    ],
    lazy_loaded_js = [
        dir "../js/node",
        "ext:deno_os/30_os.js" = "deno_os.js",
    ],
    customizer = |extension: &mut deno_core::Extension| {
        extension.ops.to_mut().extend(node_compat::refusing());
    },
);
