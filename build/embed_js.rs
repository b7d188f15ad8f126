//! Build script: compiles the JavaScript of the isolate extensions into the binary.
//!
//! deno_core's `extension!` macro records most extension scripts as *paths* on the build
//! machine (`ExtensionFileSource::loaded_during_snapshot`), meant for programs that build their
//! startup snapshot in a build script. fluxbase builds its snapshot when the process starts, so
//! without this step the binary would read `~/.cargo/registry/.../deno_web-*/06_streams.js` and
//! `js/*.js` of the checkout at run time, and fail on any machine that lacks them.
//!
//! This script writes `$OUT_DIR/extension_sources.rs`: one `(path, source)` pair per top-level
//! `.js` file of the web extension crates (located through `cargo metadata`, offline) and of
//! `js/`, the source taken in with `include_str!`, so that rustc tracks every file.
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

    let mut out = String::from(
        "/// Every extension script compiled into this binary, by its path on the build machine.\n\
         pub(crate) fn extension_sources() -> Vec<(&'static str, deno_core::FastStaticString)> {\n    vec![\n",
    );
    for file in &files {
        let path = file.to_str().expect("UTF-8 path");
        writeln!(
            out,
            "        ({path:?}, deno_core::ascii_str_include!({path:?})),"
        )
        .expect("write to String");
    }
    out.push_str("    ]\n}\n");
    // Written aside and renamed into place: never a half-written file, and never written
    // through a hard link into another checkout's build directory.
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
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
