//! Remote modules and import maps through a real `fluxbase serve` (and `functions invoke`),
//! with a real HTTP module server on 127.0.0.1 (`support::module_server`): a function imports
//! TypeScript over HTTP through its directory's `deno.json` (its `@fluxbase:allow-net` list,
//! which does not name the server, does not apply to imports); the module is downloaded once,
//! locked in `deno.lock` and cached under the data directory, and a restarted host answers with
//! the module server gone; a module that no longer matches its lock entry (lock edited, or
//! module changed) fails to load naming its URL and both hashes, in the answer and the
//! execution record, and is not cached; a missing module, an HTML page, a module over the size
//! cap (imported dynamically during a call), a remote module importing a local file, a private
//! address without `--allow-private-imports` and a refused connection are load errors naming
//! the URL; redirects are followed; deno.json's `lock` turns the lock file off, moves it or
//! freezes it; bare, prefix and scoped import-map specifiers resolve, from `imports` and from an
//! `importMap` file; a bad `deno.json` is a load error naming the file. The fixtures are `fixtures/remote_modules/` (copied into a temporary
//! functions directory with the `deno.json` the test writes: the port is the test's) and
//! `fixtures/import_map/`.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::module_server::{ModuleServer, Route};
use crate::support::server::{Answer, Server};
use crate::support::{Host, fixtures, sha256_hex};

/// `greet.ts` of the module server: TypeScript that imports a module relative to its URL.
pub(crate) const GREET: &str = "import { punctuate } from \"./util.ts\";\n\
    export const self: string = import.meta.url;\n\
    export function greet(name: string): string {\n  return punctuate(`hello ${name}`);\n}\n";
/// `util.ts` of the module server.
pub(crate) const UTIL: &str = "export const punctuate = (s: string): string => s + \"!\";\n\
    export const where: string = import.meta.url;\n";

/// A module server with the modules the fixtures of `fixtures/remote_modules/` import.
pub(crate) fn module_server() -> ModuleServer {
    let server = ModuleServer::start();
    server.typescript("/greet.ts", GREET);
    server.typescript("/util.ts", UTIL);
    server.route("/latest/greet.ts", Route::Redirect("/greet.ts".into()));
    server.route(
        "/page",
        Route::Body {
            content_type: "text/html".into(),
            body: "<!doctype html><p>not a module</p>".into(),
        },
    );
    server.typescript("/escape.ts", "import \"file:///etc/hostname\";\n");
    server
}

/// A functions directory holding `fixtures/remote_modules/` and a `deno.json` mapping `mods/`
/// to `modules`.
pub(crate) fn functions_dir(modules: &ModuleServer) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixtures("remote_modules")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    let config = serde_json::json!({ "imports": { "mods/": modules.url("/") } });
    std::fs::write(dir.path().join("deno.json"), config.to_string()).unwrap();
    dir
}

/// `fluxbase serve` over `functions`, with no jobs, fetching modules from private addresses.
fn serve(host: &Host, functions: &Path, extra: &[&str]) -> Server {
    let jobs = std::env::temp_dir().join("fluxbase-no-jobs");
    let mut args = vec!["--allow-private-imports"];
    args.extend_from_slice(extra);
    Server::start_in(host, functions, &jobs, &args)
}

fn call(server: &Server, target: &str) -> Answer {
    server.send(
        "GET",
        &format!("/functions/v1/{target}"),
        None,
        &[],
        None,
        false,
    )
}

/// The execution record of the failed call that gave `answer` (its error names the record:
/// `... (execution ID)`).
fn record(server: &Server, answer: &Answer) -> Value {
    let message = answer.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let id = message
        .rsplit_once("(execution ")
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("no execution id in {message:?}"));
    let record = server.request(
        "GET",
        &format!("/api/v1/admin/logs/executions/{id}"),
        true,
        None,
    );
    assert_eq!(record.status, 200, "{record:#?}");
    record.json()
}

fn lock_file(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("deno.lock")).expect("a deno.lock");
    serde_json::from_str(&text).unwrap()
}

/// The files of the module cache for `modules`.
fn cached_files(host: &Host, modules: &ModuleServer) -> Vec<PathBuf> {
    let dir = host
        .data_dir
        .join("remote/http")
        .join(format!("127.0.0.1_port_{}", modules.port));
    match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn a_remote_module_is_downloaded_once_locked_cached_and_served_offline_after_a_restart() {
    let mut modules = module_server();
    let dir = functions_dir(&modules);
    let host = Host::new();
    let server = serve(&host, dir.path(), &[]);

    let expected = serde_json::json!({
        "greeting": "hello ann!",
        "util": modules.url("/util.ts"),
    });
    let answer = call(&server, "remote?name=ann");
    assert_eq!(answer.status, 200, "{answer:#?}");
    assert_eq!(answer.json(), expected);

    // Deno's lock format 5, with the SHA-256 of each module as served.
    let lock = lock_file(dir.path());
    assert_eq!(lock["version"], "5", "{lock}");
    assert_eq!(
        lock["remote"],
        serde_json::json!({
            modules.url("/greet.ts"): sha256_hex(GREET),
            modules.url("/util.ts"): sha256_hex(UTIL),
        })
    );
    assert_eq!(cached_files(&host, &modules).len(), 2);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // A warm call, and a cold one in a fresh isolate, download nothing.
    assert_eq!(call(&server, "remote?name=ann").json(), expected);
    let per_invocation = serve(&host, dir.path(), &["--isolation", "per-invocation"]);
    assert_eq!(call(&per_invocation, "remote?name=ann").json(), expected);
    assert_eq!(modules.hits("/greet.ts"), 1);
    assert_eq!(modules.hits("/util.ts"), 1);
    drop(per_invocation);
    drop(server);

    // The module server is gone: a restarted host loads from its cache, every call anew.
    modules.stop();
    let offline = serve(&host, dir.path(), &["--isolation", "per-invocation"]);
    for _ in 0..2 {
        let answer = call(&offline, "remote?name=ann");
        assert_eq!(answer.status, 200, "{answer:#?}");
        assert_eq!(answer.json(), expected);
    }
}

#[test]
fn a_module_that_does_not_match_its_lock_entry_fails_to_load_naming_it_and_is_not_cached() {
    let modules = module_server();
    let dir = functions_dir(&modules);
    let host = Host::new();
    let server = serve(&host, dir.path(), &["--isolation", "per-invocation"]);
    assert_eq!(call(&server, "remote").status, 200);
    let locked = std::fs::read_to_string(dir.path().join("deno.lock")).unwrap();
    let greet = modules.url("/greet.ts");

    // The lock file edited: the cached module no longer matches.
    let forged = "0".repeat(64);
    std::fs::write(
        dir.path().join("deno.lock"),
        locked.replace(&sha256_hex(GREET), &forged),
    )
    .unwrap();
    let answer = call(&server, "remote");
    let why = format!("Integrity check failed for remote module \"{greet}\"");
    answer.error(500, &why);
    answer.error(500, &sha256_hex(GREET));
    answer.error(500, &forged);
    let record = record(&server, &answer);
    assert_eq!(record["status"], "failed", "{record}");
    let error = record["error"].as_str().unwrap_or_default();
    assert!(error.contains(&why) && error.contains(&forged), "{record}");
    drop(server);

    // The module changed on the server; a host with a cold cache downloads it and refuses it.
    std::fs::write(dir.path().join("deno.lock"), &locked).unwrap();
    let changed = GREET.replace("hello", "HELLO");
    modules.typescript("/greet.ts", &changed);
    let cold = Host::new();
    let server = serve(&cold, dir.path(), &[]);
    let answer = call(&server, "remote");
    answer.error(500, &why);
    answer.error(500, &sha256_hex(&changed));
    answer.error(500, &sha256_hex(GREET));
    assert!(
        cached_files(&cold, &modules).is_empty(),
        "a refused module was cached"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("deno.lock")).unwrap(),
        locked,
        "the lock file was changed"
    );
}

#[test]
fn a_module_that_cannot_be_had_is_a_load_error_naming_it() {
    let mut modules = module_server();
    let dir = functions_dir(&modules);
    let host = Host::new();
    let server = serve(&host, dir.path(), &[]);

    call(&server, "missing").error(
        500,
        &format!(
            "Import \"{}\" failed: module not found (the server answered 404 Not Found)",
            modules.url("/missing.ts")
        ),
    );
    call(&server, "not_a_module").error(
        500,
        &format!(
            "Import \"{}\" failed: it is not a JavaScript, TypeScript or JSON module \
             (content-type \"text/html\")",
            modules.url("/page")
        ),
    );
    call(&server, "escape").error(
        500,
        &format!(
            "Import of \"file:///etc/hostname\" from \"{}\" is not allowed: a remote module \
             cannot import a local file",
            modules.url("/escape.ts")
        ),
    );
    assert!(
        !lock_file(dir.path())["remote"]
            .to_string()
            .contains("missing")
    );

    // Without --allow-private-imports the host does not fetch from its own network.
    let public_only = Server::start_in(
        &host,
        dir.path(),
        &std::env::temp_dir().join("fluxbase-no-jobs"),
        &[],
    );
    let answer = call(&public_only, "redirected");
    answer.error(500, &modules.url("/latest/greet.ts"));
    answer.error(500, "127.0.0.1 is not a public address");
    answer.error(500, "--allow-private-imports");
    assert_eq!(modules.hits("/latest/greet.ts"), 0);

    // The server down and nothing cached: the refused connection is named.
    modules.stop();
    let answer = call(&server, "redirected");
    answer.error(
        500,
        &format!("Import \"{}\" failed", modules.url("/latest/greet.ts")),
    );
    answer.error(500, "Connection refused");
}

#[test]
fn a_redirect_is_followed_and_the_module_is_known_by_its_final_url() {
    let modules = module_server();
    let dir = functions_dir(&modules);
    let host = Host::new();
    let server = serve(&host, dir.path(), &[]);
    let answer = call(&server, "redirected");
    assert_eq!(answer.status, 200, "{answer:#?}");
    assert_eq!(
        answer.json(),
        serde_json::json!({ "greeting": "hello redirect!", "self": modules.url("/greet.ts") })
    );
    let lock = lock_file(dir.path());
    assert_eq!(
        lock["redirects"][modules.url("/latest/greet.ts")],
        modules.url("/greet.ts"),
        "{lock}"
    );
    assert_eq!(lock["remote"][modules.url("/greet.ts")], sha256_hex(GREET));
}

#[test]
fn the_lock_field_of_deno_json_turns_the_lock_file_off_or_freezes_it() {
    let modules = module_server();
    let dir = functions_dir(&modules);
    let host = Host::new();
    let run = |config: Value| {
        let mut config = config;
        config["imports"] = serde_json::json!({ "mods/": modules.url("/") });
        std::fs::write(dir.path().join("deno.json"), config.to_string()).unwrap();
        let dir = dir.path().display().to_string();
        host.run(&[
            "functions",
            "invoke",
            "remote",
            "--dir",
            &dir,
            "--allow-private-imports",
        ])
    };
    assert!(
        run(serde_json::json!({ "lock": false }))
            .ok()
            .contains("hello world!")
    );
    assert!(
        !dir.path().join("deno.lock").exists(),
        "a lock file was written"
    );

    // Frozen: a module without an entry is refused (it was cached above: no download needed).
    run(serde_json::json!({ "lock": { "path": "./locks/deno.lock", "frozen": true } })).fails_with(
        &format!(
            "remote module \"{}\" is not in the frozen lock file",
            modules.url("/greet.ts")
        ),
    );
    // Another path: the lock file is written there.
    std::fs::create_dir(dir.path().join("locks")).unwrap();
    assert!(
        run(serde_json::json!({ "lock": "./locks/deno.lock" }))
            .ok()
            .contains("hello")
    );
    assert_eq!(
        lock_file(&dir.path().join("locks"))["remote"][modules.url("/util.ts")],
        sha256_hex(UTIL)
    );
    assert!(
        run(serde_json::json!({ "lock": { "path": "./locks/deno.lock", "frozen": true } }))
            .ok()
            .contains("hello")
    );
    assert_eq!(modules.hits("/greet.ts"), 1);
}

/// A copy of `fixtures/import_map/` to change.
fn import_map_copy() -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    let source = fixtures("import_map");
    for dir in ["", "_shared", "scoped"] {
        std::fs::create_dir_all(copy.path().join(dir)).unwrap();
        for entry in std::fs::read_dir(source.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                std::fs::copy(&path, copy.path().join(dir).join(path.file_name().unwrap()))
                    .unwrap();
            }
        }
    }
    copy
}

fn invoke(host: &Host, dir: &Path, target: &str) -> crate::support::Run {
    let dir = dir.display().to_string();
    host.run(&["functions", "invoke", target, "--dir", &dir, "-o", "json"])
}

#[test]
fn import_map_bare_prefix_and_scoped_specifiers_resolve_from_imports_or_an_import_map_file() {
    let host = Host::new();
    let expected = serde_json::json!({
        "bare": "hi ann",
        "prefix": "ANN",
        "scoped": "good day, ann",
    });
    let body = |run: crate::support::Run| -> Value {
        let answer = run.json();
        assert_eq!(answer["status"], 200, "{answer}");
        serde_json::from_str(answer["body"].as_str().unwrap()).unwrap()
    };
    let fixture = fixtures("import_map");
    assert_eq!(body(invoke(&host, &fixture, "mapped?name=ann")), expected);
    let server = serve(&host, &fixture, &[]);
    let answer = call(&server, "mapped?name=ann");
    assert_eq!(answer.status, 200, "{answer:#?}");
    assert_eq!(answer.json(), expected);

    // The same map in a file of its own, named by `importMap`.
    let copy = import_map_copy();
    let config = std::fs::read_to_string(copy.path().join("deno.json")).unwrap();
    let map = jsonc_to_json(&config);
    std::fs::write(copy.path().join("import_map.json"), map).unwrap();
    std::fs::write(
        copy.path().join("deno.json"),
        r#"{ "importMap": "./import_map.json" }"#,
    )
    .unwrap();
    assert_eq!(
        body(invoke(&host, copy.path(), "mapped?name=ann")),
        expected
    );

    // Without the map, the bare specifier is an error that names it.
    std::fs::remove_file(copy.path().join("deno.json")).unwrap();
    invoke(&host, copy.path(), "mapped").fails_with("\"greeting\"");
}

/// The fixture's deno.json without its comment lines.
fn jsonc_to_json(text: &str) -> String {
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_bad_deno_json_is_a_load_error_naming_the_file() {
    let host = Host::new();
    let copy = import_map_copy();
    let config = copy.path().join("deno.json");
    let canonical = std::fs::canonicalize(copy.path())
        .unwrap()
        .join("deno.json");
    for (text, why) in [
        (
            r#"{ "imports": { "greeting": "./_shared/greeting.ts", }"#,
            "not valid JSON",
        ),
        (r#"["imports"]"#, "must hold a JSON object"),
        (r#"{ "imports": ["greeting"] }"#, "invalid import map"),
        (
            r#"{ "importMap": "../../etc/map.json" }"#,
            "outside the functions directory",
        ),
        (r#"{ "lock": 7 }"#, "\"lock\" must be"),
    ] {
        std::fs::write(&config, text).unwrap();
        let run = invoke(&host, copy.path(), "mapped");
        run.fails_with(&canonical.display().to_string());
        run.fails_with(why);
    }
    let server = serve(&host, copy.path(), &[]);
    call(&server, "mapped").error(500, &canonical.display().to_string());
}
