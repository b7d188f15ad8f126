//! The fixtures that do not use our `secrets` global give the same responses under fluxbase as
//! under the real Deno (from the npm package `deno`, installed by `.ci/run` into
//! `tests/conformance/node_modules`; `DENO_BIN` points at another one). A one-shot `functions
//! invoke` boots without the startup snapshot, so the web API fixtures are also run through
//! `fluxbase serve`, whose isolates boot from it, and must answer the same there.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::Host;
use support::fixtures;
use support::server::Server;

/// Set (by `.ci/run`) to fail instead of skipping when no Deno binary is found.
const REQUIRE_DENO_ENV: &str = "FLUXBASE_TEST_REQUIRE_DENO";

/// The reference Deno binary, or `None` (the test skips) when there is none and
/// `FLUXBASE_TEST_REQUIRE_DENO` is not set.
pub(crate) fn deno() -> Option<PathBuf> {
    let path = std::env::var_os("DENO_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests/conformance/node_modules/.bin/deno")
        });
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os(REQUIRE_DENO_ENV).is_none(),
        "{REQUIRE_DENO_ENV} is set but there is no Deno at {} (npm install in tests/conformance)",
        path.display()
    );
    eprintln!(
        "SKIPPED conformance: no Deno at {} (run `npm ci` in tests/conformance or set DENO_BIN)",
        path.display()
    );
    None
}

/// One request to a fixture function.
pub(crate) struct Case {
    pub(crate) target: &'static str,
    pub(crate) method: &'static str,
    pub(crate) headers: &'static [(&'static str, &'static str)],
    pub(crate) body: Option<&'static str>,
}

const CASES: &[Case] = &[
    Case {
        target: "hello?name=deno",
        method: "GET",
        headers: &[],
        body: None,
    },
    Case {
        target: "echo/a/b?x=1&y=two",
        method: "POST",
        headers: &[("content-type", "text/plain"), ("x-custom", "same")],
        body: Some("body text"),
    },
    Case {
        target: "webapis",
        method: "GET",
        headers: &[],
        body: None,
    },
    Case {
        target: "imports",
        method: "GET",
        headers: &[],
        body: None,
    },
    Case {
        target: "object_export",
        method: "DELETE",
        headers: &[],
        body: None,
    },
    Case {
        target: "named_export/deep/path",
        method: "GET",
        headers: &[],
        body: None,
    },
    Case {
        target: "stream_upper",
        method: "POST",
        headers: &[("content-type", "text/plain")],
        body: Some("streamed body, déjà vu"),
    },
    Case {
        target: "stream_ticks?count=4",
        method: "GET",
        headers: &[],
        body: None,
    },
    Case {
        target: "body_size",
        method: "PUT",
        headers: &[],
        body: Some("0123456789"),
    },
    // Number, date, plural and segment formatting in several locales.
    Case {
        target: "intl",
        method: "GET",
        headers: &[],
        body: None,
    },
    // The DOMExceptions thrown by native code: atob, getRandomValues, WebCrypto.
    Case {
        target: "dom_exceptions",
        method: "GET",
        headers: &[],
        body: None,
    },
    // WebAssembly memory sizes: a one-page memory is 65,536 bytes.
    Case {
        target: "wasm_memory",
        method: "GET",
        headers: &[],
        body: None,
    },
    // URLPattern: matching, groups, components, base URLs, errors.
    Case {
        target: "webapis_urlpattern/books?x=1",
        method: "GET",
        headers: &[],
        body: None,
    },
    // CompressionStream/DecompressionStream: gzip, deflate, deflate-raw.
    Case {
        target: "webapis_compression",
        method: "GET",
        headers: &[],
        body: None,
    },
    // performance: timeOrigin, mark, measure, entries.
    Case {
        target: "webapis_performance",
        method: "GET",
        headers: &[],
        body: None,
    },
    // self, navigator, Window, the global addEventListener/dispatchEvent.
    Case {
        target: "webapis_global",
        method: "GET",
        headers: &[],
        body: None,
    },
    // MessageChannel, BroadcastChannel, structuredClone of errors and with transfer, and the
    // MessageEvent/CloseEvent/ProgressEvent classes.
    Case {
        target: "webapis_messaging",
        method: "GET",
        headers: &[],
        body: None,
    },
    // EventSource over a data: URL.
    Case {
        target: "webapis_eventsource",
        method: "GET",
        headers: &[],
        body: None,
    },
    // The WebSocket interface and the constructor's errors (connections: websocket.rs).
    Case {
        target: "webapis_websocket",
        method: "GET",
        headers: &[],
        body: None,
    },
    // What `Deno.upgradeWebSocket` throws for a request that is no complete WebSocket upgrade
    // (accepted sockets: websocket_server.rs).
    Case {
        target: "websocket_server",
        method: "GET",
        headers: &[],
        body: None,
    },
    Case {
        target: "websocket_server",
        method: "GET",
        headers: &[("upgrade", "websocket")],
        body: None,
    },
    Case {
        target: "websocket_server",
        method: "GET",
        headers: &[
            ("upgrade", "WebSocket"),
            ("connection", "keep-alive, Upgrade"),
        ],
        body: None,
    },
    // Node's builtins: buffer, crypto, events, util, path, url, stream, string_decoder,
    // assert, process, and the Node globals.
    Case {
        target: "node_builtins",
        method: "GET",
        headers: &[],
        body: None,
    },
    // npm packages from the registry: ES modules (zod), CommonJS only (ms), a scoped
    // package's subpath exports (@noble/hashes).
    Case {
        target: "npm_packages?id=not-a-uuid&quantity=2",
        method: "GET",
        headers: &[],
        body: None,
    },
];

/// The response of `functions invoke` for `case`, as `-o json` prints it.
pub(crate) fn under_fluxbase(host: &Host, case: &Case) -> serde_json::Value {
    under_fluxbase_in(host, &fixtures("functions"), case, &[])
}

/// The response of `functions invoke` for `case` in the functions directory `dir`, with
/// `extra` options.
fn under_fluxbase_in(host: &Host, dir: &Path, case: &Case, extra: &[&str]) -> serde_json::Value {
    let dir = dir.display().to_string();
    let mut args = vec![
        "functions",
        "invoke",
        case.target,
        "--dir",
        &dir,
        "-X",
        case.method,
    ];
    args.extend_from_slice(extra);
    let headers: Vec<String> = case
        .headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    for header in &headers {
        args.extend(["-H", header]);
    }
    if let Some(body) = case.body {
        args.extend(["-d", body]);
    }
    args.extend(["-o", "json"]);
    host.run(&args).json()
}

fn under_deno(deno: &Path, case: &Case) -> serde_json::Value {
    under_deno_with(deno, &case_spec(case), &[])
}

/// What the harness needs to call the fixture of `case` under Deno.
fn case_spec(case: &Case) -> serde_json::Value {
    case_spec_in(&fixtures("functions"), case)
}

/// What the harness needs to call the fixture of `case` in the functions directory `functions`.
fn case_spec_in(functions: &Path, case: &Case) -> serde_json::Value {
    let (name, _) = case
        .target
        .split_at(case.target.find(['/', '?']).unwrap_or(case.target.len()));
    let file = [
        functions.join(format!("{name}.ts")),
        functions.join(name).join("index.ts"),
    ]
    .into_iter()
    .find(|p| p.exists())
    .unwrap();
    serde_json::json!({
        "file": file,
        "method": case.method,
        "url": format!("http://localhost/functions/v1/{}", case.target),
        "headers": case.headers,
        "body": case.body,
    })
}

/// The response of the harness for `spec` (see `case_spec`) under Deno, with read permission
/// and `extra` flags (`--allow-net=...` for the fixtures that connect).
pub(crate) fn under_deno_with(
    deno: &Path,
    spec: &serde_json::Value,
    extra: &[&str],
) -> serde_json::Value {
    run_harness(deno, spec, &["--no-config", "--no-lock"], extra, None)
}

/// The response of the harness for `spec` under Deno configured by the functions directory's
/// `config` (its import map, and its `deno.lock`, which Deno then checks too), with a module
/// cache of its own and `extra` flags (`--allow-import=...` for a module server).
fn under_deno_configured(
    deno: &Path,
    spec: &serde_json::Value,
    config: &Path,
    extra: &[&str],
) -> serde_json::Value {
    let config = config.display().to_string();
    // A module cache of its own: nothing an earlier run left in Deno's cache is used.
    let deno_dir = tempfile::tempdir().unwrap();
    run_harness(
        deno,
        spec,
        &["--config", &config],
        extra,
        Some(deno_dir.path()),
    )
}

/// Runs the harness for `spec` with `config` (the flags about deno.json and deno.lock),
/// `extra` flags, and `deno_dir` as Deno's cache if given.
fn run_harness(
    deno: &Path,
    spec: &serde_json::Value,
    config: &[&str],
    extra: &[&str],
    deno_dir: Option<&Path>,
) -> serde_json::Value {
    let harness = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/harness.ts");
    let mut command = Command::new(deno);
    if let Some(deno_dir) = deno_dir {
        command.env("DENO_DIR", deno_dir);
    }
    let output = command
        .args(["run", "--quiet"])
        .args(config)
        .args(["--no-prompt", "--allow-read"])
        .args(extra)
        .arg(harness)
        .arg(spec.to_string())
        .env("DENO_NO_UPDATE_CHECK", "1")
        // npm packages come over TLS: trust the system's store, as fluxbase does (a machine
        // behind a company's own certificate authority has it there).
        .env("DENO_TLS_CA_STORE", "system")
        .env("NO_COLOR", "1")
        // Deno's `navigator.language` is the host's locale; fluxbase's is always en-US.
        .env("LC_ALL", "en_US.UTF-8")
        .output()
        .expect("run deno");
    assert!(
        output.status.success(),
        "deno failed on {}: {}",
        spec["url"],
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("harness prints JSON")
}

#[test]
fn fixtures_respond_the_same_under_real_deno() {
    let Some(deno) = deno() else { return };
    let host = Host::new();
    for case in CASES {
        let ours = under_fluxbase(&host, case);
        let theirs = under_deno(&deno, case);
        assert_eq!(ours, theirs, "{} differs from Deno", case.target);
    }
}

/// The import-map fixture (`fixtures/import_map/`, its `deno.json` given to Deno with
/// `--config`) and the remote-import fixtures (`fixtures/remote_modules/`, importing from a real
/// module server, `--allow-import` for Deno) answer the same; Deno then reads the `deno.lock`
/// fluxbase wrote and finds every module matching it.
#[test]
fn import_map_and_remote_import_fixtures_respond_the_same_under_real_deno() {
    let Some(deno) = deno() else { return };
    let host = Host::new();
    let modules = crate::remote_modules::module_server();
    let remote = crate::remote_modules::functions_dir(&modules);
    let import_map = fixtures("import_map");
    let allow_import = format!("--allow-import=127.0.0.1:{}", modules.port);
    let get = |target| Case {
        target,
        method: "GET",
        headers: &[],
        body: None,
    };
    for (dir, case) in [
        (import_map.as_path(), get("mapped?name=deno")),
        (remote.path(), get("remote?name=deno")),
        (remote.path(), get("redirected")),
    ] {
        let ours = under_fluxbase_in(&host, dir, &case, &["--allow-private-imports"]);
        assert_eq!(ours["status"], 200, "{}: {ours}", case.target);
        let spec = case_spec_in(dir, &case);
        let lock = dir.join("deno.lock");
        let written = std::fs::read_to_string(&lock).ok();
        let theirs = under_deno_configured(&deno, &spec, &dir.join("deno.json"), &[&allow_import]);
        assert_eq!(ours, theirs, "{} differs from Deno", case.target);
        // Deno found the lock file fluxbase wrote complete and as it would write it.
        assert_eq!(
            std::fs::read_to_string(&lock).ok(),
            written,
            "{}",
            case.target
        );
    }
    let locked: serde_json::Value =
        serde_json::from_slice(&std::fs::read(remote.path().join("deno.lock")).unwrap()).unwrap();
    assert_eq!(
        locked["remote"].as_object().map(|r| r.len()),
        Some(2),
        "{locked}"
    );
}

#[test]
fn web_api_fixtures_answer_the_same_from_the_startup_snapshot() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    let mut compared = 0;
    for case in CASES
        .iter()
        .filter(|case| case.target.starts_with("webapis"))
    {
        let one_shot = under_fluxbase(&host, case);
        let headers: Vec<(&str, &str)> = case.headers.to_vec();
        let served = server.send(
            case.method,
            &format!("/functions/v1/{}", case.target),
            None,
            &headers,
            case.body.map(str::as_bytes),
            false,
        );
        assert_eq!(
            u64::from(served.status),
            one_shot["status"].as_u64().unwrap(),
            "{}",
            case.target
        );
        assert_eq!(
            served.body, one_shot["body"],
            "{} differs when served",
            case.target
        );
        compared += 1;
    }
    assert_eq!(compared, 8);
}
