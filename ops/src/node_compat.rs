//! What Node's polyfills (the `deno_node` extension) call that Deno's runtime gives and fluxbase
//! does not: ops of deno_os, deno_napi, deno_http, Deno's workers and tests, named as there so
//! that a polyfill module importing them links. Each one either answers as a function isolate
//! must (no host environment variable is ever visible, no color) or refuses with a clear error
//! (no native addons, workers, subprocesses or sockets). It also gives `Deno.build`, and the
//! `Deno.cpuUsage` and `Deno.version.v8` of the isolate. It reads
//! nothing of the host but the target it was compiled for.

use deno_core::op2;
use deno_error::JsErrorBox;

/// The error of a Node API that needs what a function does not have.
fn unavailable(api: &str) -> JsErrorBox {
    JsErrorBox::new(
        "NotSupported",
        format!("{api} is not available in a fluxbase function"),
    )
}

/// The target triple this binary was built for (`x86_64-unknown-linux-gnu`), which
/// `Deno.build` and `process.arch`/`process.platform` are read from.
#[op2]
#[string]
pub fn op_fluxbase_build_target() -> String {
    let arch = std::env::consts::ARCH;
    let os = std::env::consts::OS;
    let vendor = if cfg!(target_vendor = "apple") {
        "apple"
    } else if cfg!(target_vendor = "pc") {
        "pc"
    } else {
        "unknown"
    };
    let env = if cfg!(target_env = "gnu") {
        "-gnu"
    } else if cfg!(target_env = "musl") {
        "-musl"
    } else if cfg!(target_env = "msvc") {
        "-msvc"
    } else {
        ""
    };
    format!("{arch}-{vendor}-{os}{env}")
}

/// deno_os's unchecked environment read (Node's debug switches): a function sees no host
/// variable, so there is none.
#[op2]
#[string]
pub fn op_get_env_no_permission_check(#[string] _key: &str) -> Option<String> {
    None
}

/// `Deno.cwd()`/`process.cwd()` as deno_fs's scripts ask it: `/`, never the host's directory
/// (deno_fs's own op of this name is left out, see runtime/isolate/node.rs).
#[op2]
#[string]
pub fn op_fs_cwd() -> &'static str {
    "/"
}

/// The color depth of the terminal `process.stdout` is: none (output is recorded as text).
#[op2(fast)]
#[smi]
pub fn op_bootstrap_color_depth() -> u32 {
    1
}

/// `process.threadCpuUsage()`: not measured here; the buffer stays as given (zeros).
#[op2(fast)]
pub fn op_current_thread_cpu_usage(#[buffer] _out: &mut [f64]) {}

/// Declares ops that refuse, one per name, each with the Node API that reaches it.
macro_rules! refusing_ops {
    ($($name:ident => $api:literal,)*) => {
        $(
            #[doc = concat!("Refuses: ", $api, " is not available in a function.")]
            #[op2(fast)]
            pub fn $name() -> Result<(), JsErrorBox> {
                Err(unavailable($api))
            }
        )*
        /// The refusing ops, for the extension's op list.
        pub fn refusing() -> Vec<deno_core::OpDecl> {
            vec![$($name()),*]
        }
    };
}

refusing_ops! {
    op_napi_open => "process.dlopen (native addons)",
    op_bootstrap_unstable_args => "child_process",
    op_http_notify_serving => "http.Server",
    op_http_serve_address_override => "http.Server",
    op_create_worker => "worker_threads.Worker",
    op_host_get_worker_cpu_usage => "worker_threads.Worker",
    op_host_post_message => "worker_threads.Worker",
    op_host_post_message_raw => "worker_threads.Worker",
    op_host_recv_ctrl => "worker_threads.Worker",
    op_host_recv_message => "worker_threads.Worker",
    op_host_recv_message_sync => "worker_threads.Worker",
    op_host_terminate_worker => "worker_threads.Worker",
    op_node_worker_thread_post_message => "worker_threads",
    op_node_worker_thread_recv_message => "worker_threads",
    op_node_worker_thread_register => "worker_threads",
    op_node_worker_thread_set_listener_count => "worker_threads",
    op_node_database_backup => "node:sqlite",
    op_test_snapshot_in_update_mode => "node:test snapshots",
    op_brotli_compress => "zlib brotli",
    op_brotli_compress_async => "zlib brotli",
    op_brotli_compress_stream => "zlib brotli",
    op_brotli_compress_stream_end => "zlib brotli",
    op_brotli_decompress => "zlib brotli",
    op_brotli_decompress_async => "zlib brotli",
    op_brotli_decompress_stream => "zlib brotli",
    op_brotli_decompress_stream_end => "zlib brotli",
    op_create_brotli_compress => "zlib brotli",
    op_create_brotli_decompress => "zlib brotli",
}

/// `Deno.version.v8`: the V8 this isolate runs on.
#[op2]
#[string]
pub fn op_fluxbase_v8_version() -> &'static str {
    deno_core::v8::V8::get_version()
}

/// `Deno.cpuUsage()`: the CPU time of this isolate's thread, system then user, in
/// microseconds, into `out` — the function's own, never the host process's.
#[op2(fast)]
pub fn op_fluxbase_cpu_usage(#[buffer] out: &mut [f64]) {
    // SAFETY: getrusage writes one `rusage` into the zeroed value it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_THREAD, &mut usage) != 0 {
            return;
        }
        usage
    };
    let micros = |time: libc::timeval| time.tv_sec as f64 * 1e6 + time.tv_usec as f64;
    if let [system, user, ..] = out {
        *system = micros(usage.ru_stime);
        *user = micros(usage.ru_utime);
    }
}
