//! Build script: compiles the JavaScript of the isolate extensions into the binary.
//!
//! deno_core's `extension!` macro records most extension scripts as *paths* on the build
//! machine (`ExtensionFileSource::loaded_during_snapshot`), meant for programs that build their
//! startup snapshot in a build script. fluxbase builds its snapshot when the process starts, so
//! without this step the binary would read `~/.cargo/registry/.../deno_web-*/06_streams.js` and
//! `js/*.js` of the checkout at run time, and fail on any machine that lacks them.
//!
//! This script writes `$OUT_DIR/extension_sources.rs`: one `(path, source)` pair per script of
//! the extension crates (located through `cargo metadata`, offline) and of `js/`, the source
//! taken in with `include_str!`, so that rustc tracks every file. TypeScript (Node's polyfills)
//! is transpiled here, once per build, and embedded as the JavaScript it becomes.
//! `runtime/isolate/sources.rs` swaps the paths for these sources before an isolate is built.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The crates whose `extension!` scripts the isolates load (see `runtime/isolate/boot.rs`), and
/// the folder of each that holds them (the crate's top, or a subtree taken whole).
const EXTENSION_CRATES: &[(&str, Scripts)] = &[
    ("deno_webidl", Scripts::TopLevel),
    ("deno_web", Scripts::TopLevel),
    ("deno_net", Scripts::TopLevel),
    ("deno_fetch", Scripts::TopLevel),
    ("deno_crypto", Scripts::TopLevel),
    ("deno_websocket", Scripts::TopLevel),
    ("deno_io", Scripts::TopLevel),
    ("deno_fs", Scripts::TopLevel),
    // Node's polyfills: JavaScript and TypeScript in a tree of folders.
    ("deno_node", Scripts::Tree("polyfills")),
];

/// Where an extension crate keeps its scripts.
#[derive(Clone, Copy, Debug)]
enum Scripts {
    /// The `.js` files directly in the crate's folder.
    TopLevel,
    /// Every `.js`, `.mjs` and `.ts` file (not `.d.ts`) under this folder of the crate.
    Tree(&'static str),
}

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    // Absolute paths: the generated file names the scripts by absolute path, so a checkout
    // moved elsewhere (where these paths no longer exist) must run this script again.
    for watched in ["build/embed_js.rs", "Cargo.lock", "js"] {
        println!(
            "cargo:rerun-if-changed={}",
            manifest_dir.join(watched).display()
        );
    }

    let mut dirs = extension_crate_dirs(&manifest_dir);
    dirs.push((manifest_dir.join("js"), Scripts::Tree(".")));

    let mut files = Vec::new();
    for (dir, scripts) in &dirs {
        match scripts {
            Scripts::TopLevel => files.extend(top_level_scripts(dir)),
            Scripts::Tree(sub) => tree_scripts(&dir.join(sub), &mut files),
        }
    }
    files.sort();

    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
    let node_version = node_version(&dirs);
    let mut out = String::from(
        "/// Every extension script compiled into this binary, by its path on the build machine.\n\
         pub(crate) fn extension_sources() -> Vec<(&'static str, deno_core::FastStaticString)> {\n    vec![\n",
    );
    for (index, file) in files.iter().enumerate() {
        let path = file.to_str().expect("UTF-8 path");
        // TypeScript (Node's polyfills) is embedded as the JavaScript it becomes, so that no
        // isolate, snapshot or one-shot command ever transpiles it.
        let embedded = if is_typescript(file) {
            let javascript = transpile(file, node_version.as_deref());
            let target = out_dir.join(format!("transpiled-{index}.js"));
            write_if_changed(&target, &javascript);
            target.to_str().expect("UTF-8 path").to_owned()
        } else {
            path.to_owned()
        };
        writeln!(
            out,
            "        ({path:?}, deno_core::ascii_str_include!({embedded:?})),"
        )
        .expect("write to String");
    }
    out.push_str("    ]\n}\n");
    // Written aside and renamed into place: never a half-written file, and never written
    // through a hard link into another checkout's build directory.
    let partial = out_dir.join("extension_sources.rs.partial");
    fs::write(&partial, out).expect("write extension_sources.rs");
    fs::rename(&partial, out_dir.join("extension_sources.rs"))
        .expect("rename extension_sources.rs");
}

/// The package directories of [`EXTENSION_CRATES`] in this build, from `cargo metadata`.
fn extension_crate_dirs(manifest_dir: &Path) -> Vec<(PathBuf, Scripts)> {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target = env::var("TARGET").expect("set by cargo");
    let metadata = |offline: bool| {
        let mut command = Command::new(&cargo);
        command
            .args([
                "metadata",
                "--format-version",
                "1",
                "--filter-platform",
                &target,
            ])
            .arg("--manifest-path")
            .arg(manifest_dir.join("Cargo.toml"));
        if offline {
            command.arg("--offline");
        }
        command.output().expect("run cargo metadata")
    };
    // Offline first: what this build compiles is downloaded already. A build that did not
    // fetch the dev-dependencies lets cargo fetch them.
    let mut output = metadata(true);
    if !output.status.success() {
        output = metadata(false);
    }
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    let dirs: Vec<(PathBuf, Scripts)> = metadata["packages"]
        .as_array()
        .expect("packages list")
        .iter()
        .filter_map(|package| {
            let name = package["name"].as_str()?;
            let (_, scripts) = EXTENSION_CRATES
                .iter()
                .find(|(crate_name, _)| *crate_name == name)?;
            let manifest = package["manifest_path"].as_str()?;
            let dir = Path::new(manifest)
                .parent()
                .expect("manifest dir")
                .to_owned();
            Some((dir, *scripts))
        })
        .collect();
    assert!(
        dirs.len() >= EXTENSION_CRATES.len(),
        "cargo metadata lists {} of the extension crates {EXTENSION_CRATES:?}",
        dirs.len()
    );
    dirs
}

/// The `.js` files directly in `dir` (the extension crates keep their scripts at the top).
fn top_level_scripts(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_file() && path.extension().is_some_and(|ext| ext == "js"))
        .collect()
}

/// Every script under `dir`, at any depth, into `files`.
fn tree_scripts(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            tree_scripts(&path, files);
            continue;
        }
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or("");
        let script = [".js", ".mjs", ".ts"].iter().any(|ext| name.ends_with(ext))
            && !name.ends_with(".d.ts");
        if script {
            files.push(path);
        }
    }
}

fn is_typescript(file: &Path) -> bool {
    file.extension()
        .is_some_and(|ext| ext == "ts" || ext == "mts")
}

/// The Node version deno_node reports (`NODE_VERSION` in its `lib.rs`), which its
/// `_process/process.ts` carries as a `__NODE_VERSION__` placeholder.
fn node_version(dirs: &[(PathBuf, Scripts)]) -> Option<String> {
    let (dir, _) = dirs
        .iter()
        .find(|(dir, _)| dir.join("polyfills/_process/process.ts").exists())?;
    let lib = fs::read_to_string(dir.join("lib.rs")).expect("read deno_node's lib.rs");
    let line = lib
        .lines()
        .find(|line| line.starts_with("pub const NODE_VERSION: &str ="))
        .expect("deno_node declares NODE_VERSION");
    Some(line.split('"').nth(1).expect("a quoted version").to_owned())
}

/// `file` (TypeScript) as JavaScript: types stripped, nothing else changed (deno_ast, as Deno's
/// own build does for these files), the Node version filled in. It must be ASCII, as deno_core
/// keeps extension scripts.
fn transpile(file: &Path, node_version: Option<&str>) -> String {
    let mut text =
        fs::read_to_string(file).unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
    if let Some(version) = node_version {
        text = text.replace("__NODE_VERSION__", version);
    }
    let specifier = deno_ast::ModuleSpecifier::from_file_path(file).expect("absolute path");
    let media_type = deno_ast::MediaType::from_path(file);
    let parsed = deno_ast::parse_module(deno_ast::ParseParams {
        specifier,
        text: text.into(),
        media_type,
        capture_tokens: false,
        scope_analysis: false,
        maybe_syntax: None,
    })
    .unwrap_or_else(|e| panic!("parse {}: {e}", file.display()));
    let javascript = parsed
        .transpile(
            &deno_ast::TranspileOptions {
                imports_not_used_as_values: deno_ast::ImportsNotUsedAsValues::Remove,
                ..Default::default()
            },
            &deno_ast::TranspileModuleOptions { module_kind: None },
            &deno_ast::EmitOptions {
                source_map: deno_ast::SourceMapOption::None,
                ..Default::default()
            },
        )
        .unwrap_or_else(|e| panic!("transpile {}: {e}", file.display()))
        .into_source()
        .text;
    assert!(
        javascript.is_ascii(),
        "{} became JavaScript that is not ASCII",
        file.display()
    );
    javascript
}

/// Writes `text` to `path` unless it holds it already (an unchanged file keeps its time, so
/// rustc does not rebuild what includes it).
fn write_if_changed(path: &Path, text: &str) {
    if fs::read_to_string(path).is_ok_and(|old| old == text) {
        return;
    }
    let partial = path.with_extension("js.partial");
    fs::write(&partial, text).expect("write transpiled script");
    fs::rename(&partial, path).expect("rename transpiled script");
}
