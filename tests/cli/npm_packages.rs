//! npm packages and Node's builtins through a real `fluxbase serve`: a function written as the
//! Supabase docs write one (`Deno.serve`, `npm:zod` from the real registry) and one written as
//! the Fluxbase docs do (a plain object, `node:crypto`) answer over HTTP; installed packages are
//! kept under the data directory and a restarted host whose registry is unreachable still
//! answers; against a registry of the test's own (a real HTTP server on 127.0.0.1 serving a
//! package document and a tarball made here), a CommonJS package installs and loads, a tarball
//! that does not match the registry's integrity is refused naming the package and nothing of it
//! is installed, a package the registry does not have is a load error naming it, and the
//! registry is not asked at all without `--allow-private-imports` (the host's rule); Node's
//! APIs show a function nothing of its host (files, environment, machine, processes, exit).

use std::io::Write;
use std::path::Path;

use base64::Engine;
use sha2::Digest;

use crate::support::module_server::{ModuleServer, Route};
use crate::support::server::Server;
use crate::support::{Host, fixtures};

/// An address where nothing listens: a registry there cannot be reached.
const NO_REGISTRY: &str = "http://127.0.0.1:9/";

#[test]
fn supabase_and_fluxbase_style_functions_answer_over_http() {
    let host = Host::new();
    let server = Server::start(&host, &[]);

    let hello = server.send(
        "POST",
        "/functions/v1/supabase_style",
        None,
        &[("content-type", "application/json")],
        Some(br#"{"name":"Functions"}"#),
        false,
    );
    assert_eq!(hello.status, 200, "{}", hello.body);
    assert_eq!(hello.json()["message"], "Hello Functions!");
    let refused = server.send(
        "POST",
        "/functions/v1/supabase_style",
        None,
        &[],
        Some(b"{}"),
        false,
    );
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.json()["error"], "name is required");

    let created = server.send(
        "POST",
        "/functions/v1/fluxbase_style/orders",
        None,
        &[],
        Some(b"twelve bytes"),
        false,
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let digest = hex(&sha2::Sha256::digest(b"twelve bytes"));
    assert_eq!(created.header("x-digest"), Some(&digest[..12]));
    assert_eq!(
        created.json(),
        serde_json::json!({ "received": 12, "at": "/functions/v1/fluxbase_style/orders" })
    );
}

#[test]
fn installed_packages_are_kept_and_a_restarted_host_answers_without_the_registry() {
    let host = Host::new();
    let path = "/functions/v1/npm_packages?id=2c3e6b8a-5b7e-4f7e-9a51-0f4b8a7d1c20&quantity=3";
    let server = Server::start(&host, &[]);
    let first = server.request("GET", path, false, None);
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.json()["valid"], true);
    drop(server);

    let store = host.data_dir.join("npm/store");
    for package in ["zod@3.23.8", "ms@2.1.3", "@noble+hashes@1.4.0"] {
        assert!(
            store.join(package).join(".installed").exists(),
            "{package} not in {}",
            store.display()
        );
    }

    let offline = Server::start_with_env(&host, &[], &[("NPM_CONFIG_REGISTRY", NO_REGISTRY)]);
    let again = offline.request("GET", path, false, None);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body, first.body);
}

/// A gzipped npm tarball holding `files` under `package/`.
fn tarball(files: &[(&str, &str)]) -> Vec<u8> {
    let mut archive = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    for (name, content) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        archive
            .append_data(&mut header, format!("package/{name}"), content.as_bytes())
            .unwrap();
    }
    archive.into_inner().unwrap().finish().unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A registry on 127.0.0.1 with the CommonJS package `tiny@1.0.0`, whose document claims
/// `integrity` (the tarball's own when `None`).
fn registry_with_tiny(integrity: Option<&str>) -> ModuleServer {
    let registry = ModuleServer::start();
    let tarball = tarball(&[
        (
            "package.json",
            r#"{"name":"tiny","version":"1.0.0","main":"index.js"}"#,
        ),
        (
            "index.js",
            "const { createHash } = require(\"crypto\");\n\
             exports.shout = (s) => s.toUpperCase() + \"!\";\n\
             exports.digest = (s) => createHash(\"sha1\").update(s).digest(\"hex\");\n",
        ),
    ]);
    let actual = format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(&tarball))
    );
    let document = serde_json::json!({
        "name": "tiny",
        "dist-tags": { "latest": "1.0.0" },
        "versions": { "1.0.0": {
            "name": "tiny",
            "version": "1.0.0",
            "dist": {
                "tarball": registry.url("/tiny/-/tiny-1.0.0.tgz"),
                "integrity": integrity.unwrap_or(&actual),
            },
        }},
    });
    registry.route(
        "/tiny",
        Route::Body {
            content_type: "application/json".into(),
            body: document.to_string(),
        },
    );
    registry.route(
        "/tiny/-/tiny-1.0.0.tgz",
        Route::Bytes {
            content_type: "application/octet-stream".into(),
            body: tarball,
        },
    );
    registry
}

/// A functions directory with `uses_tiny.ts` (imports `npm:tiny@1`) and `uses_missing.ts`.
fn functions_using_tiny(dir: &Path) {
    let write = |name: &str, source: &str| {
        let mut file = std::fs::File::create(dir.join(name)).unwrap();
        file.write_all(source.as_bytes()).unwrap();
    };
    write(
        "uses_tiny.ts",
        "// @fluxbase:allow-unauthenticated\n\
         import tiny, { shout } from \"npm:tiny@1\";\n\
         export default () => Response.json({ shout: shout(\"hi\"), digest: tiny.digest(\"a\") });\n",
    );
    write(
        "uses_missing.ts",
        "// @fluxbase:allow-unauthenticated\n\
         import missing from \"npm:no-such-package-here@1\";\n\
         export default () => Response.json(missing);\n",
    );
}

#[test]
fn a_commonjs_package_from_the_registry_installs_and_loads() {
    let tiny = TinyHost::start(None, &["--allow-private-imports"]);
    let (registry, server) = (&tiny.registry, &tiny.server);
    let answer = server.request("GET", "/functions/v1/uses_tiny", false, None);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.json(),
        serde_json::json!({ "shout": "HI!", "digest": hex(&sha1::Sha1::digest(b"a")) })
    );
    assert_eq!(registry.hits("/tiny/-/tiny-1.0.0.tgz"), 1);
    // Warm and cold isolates alike use what is installed.
    let again = server.request("GET", "/functions/v1/uses_tiny", false, None);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(registry.hits("/tiny/-/tiny-1.0.0.tgz"), 1);

    let missing = server.request("GET", "/functions/v1/uses_missing", false, None);
    assert_eq!(missing.status, 500, "{}", missing.body);
    assert!(
        missing.body.contains("no-such-package-here"),
        "{}",
        missing.body
    );
}

#[test]
fn a_tarball_that_does_not_match_its_integrity_is_refused_and_nothing_is_installed() {
    let wrong = format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(b"other"))
    );
    let tiny = TinyHost::start(Some(&wrong), &["--allow-private-imports"]);
    let (host, server) = (&tiny.host, &tiny.server);
    let answer = server.request("GET", "/functions/v1/uses_tiny", false, None);
    assert_eq!(answer.status, 500, "{}", answer.body);
    assert!(
        answer
            .body
            .contains("integrity check failed for npm package tiny@1.0.0"),
        "{}",
        answer.body
    );
    let store = host.data_dir.join("npm/store");
    let left: Vec<_> = std::fs::read_dir(&store)
        .map(|entries| entries.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "left in the store: {left:?}");
}

/// A `fluxbase serve` over a functions directory of its own (`functions_using_tiny`), whose
/// `.npmrc` names a registry of the test's own serving `tiny` (see `registry_with_tiny`).
struct TinyHost {
    // Dropped in this order: the server stops before its registry and directories go.
    server: Server,
    registry: ModuleServer,
    host: Host,
    _functions: tempfile::TempDir,
}

impl TinyHost {
    fn start(integrity: Option<&str>, extra: &[&str]) -> Self {
        let registry = registry_with_tiny(integrity);
        let host = Host::new();
        let functions = tempfile::tempdir().unwrap();
        functions_using_tiny(functions.path());
        // How npm is told which registry to use.
        std::fs::write(
            functions.path().join(".npmrc"),
            format!("registry={}\n", registry.url("/")),
        )
        .unwrap();
        let server = Server::start_in(&host, functions.path(), &fixtures("jobs"), extra);
        Self {
            server,
            registry,
            host,
            _functions: functions,
        }
    }
}

#[test]
fn node_apis_show_a_function_nothing_of_its_host() {
    let host = Host::new();
    let server = Server::start_with_env(&host, &[], &[("HOST_ONLY_SETTING", "not yours")]);
    let answer = server.request("GET", "/functions/v1/node_isolation", false, None);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let seen = answer.json();
    assert!(
        seen["readFile"]
            .as_str()
            .unwrap()
            .starts_with("NotCapable: Requires read access to \"/etc/hostname\""),
        "{seen}"
    );
    assert!(
        seen["hostname"]
            .as_str()
            .unwrap()
            .starts_with("NotCapable: Requires sys access to \"hostname\""),
        "{seen}"
    );
    assert_eq!(
        seen["env"],
        serde_json::json!([
            "FLUXBASE_EXECUTION_ID",
            "FLUXBASE_FUNCTION_NAME",
            "FLUXBASE_FUNCTION_NAMESPACE"
        ])
    );
    assert!(
        seen["exit"]
            .as_str()
            .unwrap()
            .contains("exit(3) is not available in a function"),
        "{seen}"
    );
    assert!(
        seen["childProcess"]
            .as_str()
            .unwrap()
            .contains("\"node:child_process\" is not available in a fluxbase function"),
        "{seen}"
    );
    assert_eq!(seen["pid"], 1);
    assert_eq!(seen["cwd"], "/");
}

#[test]
fn a_registry_on_a_private_address_is_refused_without_the_hosts_permission() {
    let tiny = TinyHost::start(None, &[]);
    let (registry, server) = (&tiny.registry, &tiny.server);
    let answer = server.request("GET", "/functions/v1/uses_tiny", false, None);
    assert_eq!(answer.status, 500, "{}", answer.body);
    assert!(
        answer.body.contains("127.0.0.1 is not a public address")
            && answer.body.contains("--allow-private-imports"),
        "{}",
        answer.body
    );
    assert_eq!(registry.hits("/tiny"), 0);
}
