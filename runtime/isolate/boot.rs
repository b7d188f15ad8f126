//! Isolate construction: the extension list, permissions (outbound network only), the startup
//! snapshot, and a `JsRuntime` booted from it with heap limits. It gives an isolate no secrets
//! and no user code: the worker does that, with what the invoker resolved.

use std::rc::Rc;
use std::sync::Arc;
use std::sync::OnceLock;
use std::time::Duration;
use std::time::Instant;

use deno_core::Extension;
use deno_core::JsRuntime;
use deno_core::JsRuntimeForSnapshot;
use deno_core::ModuleLoader;
use deno_core::RuntimeOptions;
use deno_core::v8;
use deno_permissions::PermissionsContainer;
use deno_permissions::PermissionsOptions;
use deno_permissions::RuntimePermissionDescriptorParser;

use super::network::NetworkAccess;

/// Everything a function isolate is built with: the web extensions (in
/// dependency order), Node's ([`super::node`]), then `fluxbase`; `network` is where its
/// `fetch` may connect.
///
/// The same list (same order, same names) must be used when creating the
/// snapshot and when booting from it. Their scripts are the ones compiled into
/// the binary ([`super::sources`]), never files on disk.
pub fn extensions(network: NetworkAccess) -> Vec<Extension> {
    [
        deno_webidl::deno_webidl::init(),
        without_unexposed_web_ops(deno_web::deno_web::init(
            Arc::new(deno_web::BlobStore::default()),
            None,
            false,
            // A channel bus of this isolate's own: a BroadcastChannel reaches the channels of
            // the same name in this isolate, never another function's or another isolate's.
            deno_web::InMemoryBroadcastChannel::default(),
        )),
        without_ops(deno_net::deno_net::init(None, None)),
        deno_fetch::deno_fetch::init(fetch_options(network)),
        deno_crypto::deno_crypto::init(None),
        // The WebSocket client: deno_fetch's client, so fetch's resolver and TLS settings.
        websocket_eager(deno_websocket::deno_websocket::init()),
    ]
    .into_iter()
    .chain(super::node::extensions())
    .chain([
        fluxbase_ops::fluxbase_node::init(),
        fluxbase_ops::fluxbase::init(),
    ])
    .map(super::sources::embed)
    .collect()
}

/// deno_websocket with its `01_websocket.js` an ES module of the extension proper instead of a
/// lazily loaded one, so that `js/99_global_scope.js` imports it and the snapshot holds it.
/// Loaded lazily while the snapshot is built (`core.createLazyLoader`), deno_core 0.413 restores
/// it with a source that is not its own: a function first compiled after the restore (the
/// `WebSocket` constructor) throws a SyntaxError. Deno itself never snapshots it (it loads it on
/// first use). `02_websocketstream.js` (WebSocketStream, not exposed) stays lazy, never loaded.
fn websocket_eager(mut extension: Extension) -> Extension {
    let (eager, lazy): (Vec<_>, Vec<_>) = extension
        .lazy_loaded_esm_files
        .iter()
        .cloned()
        .partition(|file| file.specifier == "ext:deno_websocket/01_websocket.js");
    extension.esm_files = eager.into();
    extension.lazy_loaded_esm_files = lazy.into();
    extension
}

/// deno_fetch's options: our user agent, and the checks `network` asks for.
fn fetch_options(network: NetworkAccess) -> deno_fetch::Options {
    let mut options = deno_fetch::Options {
        user_agent: fluxbase_ops::navigator::USER_AGENT.to_owned(),
        ..Default::default()
    };
    super::network::apply(network, &mut options);
    options
}

/// `extension` with no ops. deno_net is here for what deno_fetch takes from it (its TLS
/// settings in the op state, the `02_tls.js` helpers its http client script loads), not for
/// its sockets: function code has no `Deno.connect`/`Deno.listen` to reach them. Its 78 ops are
/// never called, and binding each into every isolate is boot time and memory.
fn without_ops(mut extension: Extension) -> Extension {
    extension.ops = Vec::new().into();
    extension
}

/// The deno_web ops that only scripts of APIs fluxbase does not expose call (DOMMatrix; see the
/// test below). The lock manager's ops stay: Node's `worker_threads` (which `node:module`
/// loads) imports them, though `navigator.locks` is not exposed.
const UNEXPOSED_WEB_OPS: &[&str] = &[
    "op_geometry_get_enable_css_parser_features",
    "op_geometry_matrix_set_matrix_value",
    "op_geometry_matrix_to_string",
];

/// deno_web without [`UNEXPOSED_WEB_OPS`]: ops no function can reach are not bound into every
/// isolate (boot time, memory, attack surface).
fn without_unexposed_web_ops(mut extension: Extension) -> Extension {
    extension.ops = extension
        .ops
        .iter()
        .filter(|op| !UNEXPOSED_WEB_OPS.contains(&op.name))
        .copied()
        .collect::<Vec<_>>()
        .into();
    extension
}

/// Permissions for the web extensions: outbound network is allowed (that is
/// what `fetch` needs); read/write/run/ffi/sys/env/import are denied, so e.g.
/// `fetch("file:///etc/passwd")` fails.
pub fn permissions() -> PermissionsContainer {
    let parser = Arc::new(RuntimePermissionDescriptorParser::new(
        sys_traits::impls::RealSys,
    ));
    let perms = deno_permissions::Permissions::from_options(
        parser.as_ref(),
        &PermissionsOptions {
            allow_net: Some(vec![]),
            prompt: false,
            ..Default::default()
        },
    )
    .expect("static permission options are valid");
    PermissionsContainer::new(parser, perms)
}

/// How the startup snapshot was obtained, for reporting.
#[derive(Clone, Copy, Debug)]
pub struct SnapshotInfo {
    /// Size of the blob.
    pub bytes: usize,
    /// Time it took to create it (once per process).
    pub created_in: Duration,
}

static SNAPSHOT: OnceLock<(&'static [u8], SnapshotInfo)> = OnceLock::new();

/// The startup snapshot, created once per process on a thread of its own (the snapshotting
/// isolate and its tokio runtime end with it).
pub fn startup_snapshot() -> &'static [u8] {
    snapshot_with_info().0
}

/// The snapshot plus its size and creation time.
pub fn snapshot_with_info() -> (&'static [u8], SnapshotInfo) {
    *SNAPSHOT.get_or_init(|| {
        std::thread::Builder::new()
            .name("fluxbase-snapshot".into())
            .spawn(|| {
                let start = Instant::now();
                let blob = create_snapshot();
                let info = SnapshotInfo {
                    bytes: blob.len(),
                    created_in: start.elapsed(),
                };
                (&*Box::leak(blob), info)
            })
            .expect("spawn snapshot thread")
            .join()
            .expect("snapshot creation panicked")
    })
}

/// Builds a snapshot of a runtime with all extensions (and so all the web
/// JS evaluated). Must be called on a thread that ends afterwards.
pub fn create_snapshot() -> Box<[u8]> {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let _guard = tokio.enter();
    let runtime = JsRuntimeForSnapshot::new(RuntimeOptions {
        // The network access is op state, not in the snapshot: any will do.
        extensions: extensions(NetworkAccess::default()),
        ..Default::default()
    });
    runtime.snapshot()
}

/// Options for one isolate.
#[derive(Clone, Debug)]
pub struct BootOptions {
    /// Boot from the process-wide startup snapshot (otherwise evaluate all
    /// extension JS from scratch).
    pub use_snapshot: bool,
    /// Heap limit in bytes (`None` = engine default / unlimited).
    pub max_heap_bytes: Option<usize>,
    /// Which addresses `fetch` may connect to.
    pub network: NetworkAccess,
}

impl Default for BootOptions {
    fn default() -> Self {
        Self {
            use_snapshot: true,
            max_heap_bytes: Some(128 * 1024 * 1024),
            network: NetworkAccess::default(),
        }
    }
}

/// Creates a `JsRuntime` with the fluxbase globals installed. Must run on the
/// thread that will own the isolate, inside a tokio runtime context. With a heap limit, its
/// op state holds the [`BufferBudget`](super::array_buffers::BufferBudget) of its array buffers.
pub fn new_runtime(
    opts: &BootOptions,
    module_loader: Option<Rc<dyn ModuleLoader>>,
) -> Result<JsRuntime, deno_core::error::CoreError> {
    // The array buffers of an isolate get a budget as large as its heap: their bytes live
    // outside the heap, where its limit does not reach (see `array_buffers`).
    let limits = opts
        .max_heap_bytes
        .map(|max| (max, super::array_buffers::limited(max)));
    let budget = limits.as_ref().map(|(_, (_, budget))| budget.clone());
    let create_params = limits.map(|(max, (allocator, _))| {
        v8::CreateParams::default()
            .heap_limits(0, max)
            .array_buffer_allocator(allocator)
    });
    let runtime = JsRuntime::try_new(RuntimeOptions {
        extensions: extensions(opts.network),
        startup_snapshot: opts.use_snapshot.then(startup_snapshot),
        module_loader,
        create_params,
        // Where `structuredClone(value, { transfer })` and `postMessage(value, [buffer])` keep
        // a transferred ArrayBuffer's contents between detaching it and taking it back; without
        // a store deno_core copies instead of transferring. One per isolate: nothing crosses to
        // another isolate.
        shared_array_buffer_store: Some(Default::default()),
        ..Default::default()
    })?;
    runtime.op_state().borrow_mut().put(permissions());
    runtime
        .op_state()
        .borrow_mut()
        .put(super::network::egress_check(opts.network));
    if let Some(budget) = budget {
        runtime.op_state().borrow_mut().put(budget);
    }
    Ok(runtime)
}

/// Finishes the global scope of a freshly created isolate (hides `Deno.core`
/// and `__bootstrap`, see `finalize` in `99_global_scope.js`) and takes the
/// invocation dispatcher that the bootstrap left on the global object,
/// removing it from there so user code cannot reach it.
///
/// Done through the engine API rather than by running a script, which would be
/// compiled on every boot.
pub fn take_dispatch_fn(runtime: &mut JsRuntime) -> Result<v8::Global<v8::Function>, String> {
    const MISSING: &str = "fluxbase internals missing from the global scope";
    deno_core::scope!(scope, runtime);
    let context = scope.get_current_context();
    let global = context.global(scope);
    let name = v8::String::new(scope, "fluxbase.internal").ok_or(MISSING)?;
    let key: v8::Local<v8::Value> = v8::Symbol::for_key(scope, name).into();
    let internal = global
        .get(scope, key)
        .and_then(|value| value.to_object(scope))
        .ok_or(MISSING)?;
    global.delete(scope, key).ok_or(MISSING)?;
    let mut functions = ["finalize", "dispatch"].map(|name| {
        let name = v8::String::new(scope, name)?;
        let value = internal.get(scope, name.into())?;
        v8::Local::<v8::Function>::try_from(value).ok()
    });
    let dispatch = functions[1].take().ok_or(MISSING)?;
    let finalize = functions[0].take().ok_or(MISSING)?;
    let undefined = v8::undefined(scope).into();
    finalize
        .call(scope, undefined, &[])
        .ok_or("the bootstrap's finalize step threw")?;
    Ok(v8::Global::new(scope, dispatch))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// deno_web scripts that no global of a fluxbase isolate leads to: FileReader, ImageData,
    /// DOMMatrix, CSSStyleSheet and WebTransport are not exposed, and no script we load loads
    /// these (the test checks both).
    const UNEXPOSED_WEB_SCRIPTS: &[&str] = &[
        "ext:deno_web/10_filereader.js",
        "ext:deno_web/16_image_data.js",
        "ext:deno_web/17_geometry.js",
        "ext:deno_web/18_css_stylesheet.js",
        "ext:deno_web/webtransport.js",
    ];

    /// Every script an isolate can load, with its source.
    fn scripts() -> Vec<(&'static str, String)> {
        extensions(NetworkAccess::default())
            .iter()
            .flat_map(|extension| {
                crate::isolate::sources::scripts(extension)
                    .map(|file| {
                        let source = file.load().expect("compiled-in source");
                        (file.specifier, source.as_str().to_owned())
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn the_web_ops_left_out_are_called_only_by_scripts_nothing_loads() {
        let web_ops: Vec<&str> = deno_web::deno_web::init(
            Arc::new(deno_web::BlobStore::default()),
            None,
            false,
            deno_web::InMemoryBroadcastChannel::default(),
        )
        .ops
        .iter()
        .map(|op| op.name)
        .collect();
        for op in UNEXPOSED_WEB_OPS {
            assert!(web_ops.contains(op), "deno_web has no {op} any more");
        }
        let scripts = scripts();
        for unexposed in UNEXPOSED_WEB_SCRIPTS {
            assert!(
                scripts.iter().any(|(specifier, _)| specifier == unexposed),
                "deno_web has no {unexposed} any more"
            );
        }
        for (specifier, source) in &scripts {
            if UNEXPOSED_WEB_SCRIPTS.contains(specifier) {
                continue;
            }
            for name in UNEXPOSED_WEB_OPS.iter().chain(UNEXPOSED_WEB_SCRIPTS) {
                assert!(!source.contains(name), "{specifier} mentions {name}");
            }
        }
    }
}
