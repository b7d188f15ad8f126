//! Node compatibility: Deno's own `node:` builtins (the `deno_node` extension and the `deno_io`
//! and `deno_fs` extensions its scripts build on), in the order they must be registered. Owns
//! which of them an isolate gets and with what file system; must not grant any file access
//! itself: every file op meets the isolate's permissions (`boot::permissions`), which allow
//! none, so `node:fs` answers `NotCapable` as Deno does without `--allow-read`.

use std::rc::Rc;

use deno_core::Extension;
use deno_resolver::npm::ByonmInNpmPackageChecker;
use deno_resolver::npm::ByonmNpmResolver;
use sys_traits::impls::RealSys;

/// The file system behind `deno_fs`/`deno_node`'s file ops: the real one, reached only through
/// permission checks that refuse every path.
fn file_system() -> deno_fs::FileSystemRc {
    Rc::new(deno_fs::RealFs)
}

/// `deno_io`, `deno_fs`, `deno_node_crypto` and `deno_node`, after the web extensions and
/// before `fluxbase`.
///
/// `deno_io` gets no stdio: the isolate's console is fluxbase's (redacted, recorded), and
/// `process.stdout` has no file behind it.
pub fn extensions() -> Vec<Extension> {
    let fs = file_system();
    vec![
        deno_io::deno_io::init(None),
        deno_fs::deno_fs::init(fs.clone()),
        // node:crypto's hashes (its `Hasher` objects) and prime/X.509 ops.
        deno_node_crypto::deno_node_crypto::init(),
        deno_node::deno_node::init::<ByonmInNpmPackageChecker, ByonmNpmResolver<RealSys>, RealSys>(
            None, fs,
        ),
    ]
}

/// `specifier` as a Node builtin the isolate has (`node:buffer`), `None` when it is not a
/// `node:` specifier, or an error naming an unknown one as Deno does.
pub fn builtin_specifier(
    specifier: &str,
) -> Result<Option<deno_core::ModuleSpecifier>, deno_error::JsErrorBox> {
    let Some(name) = specifier.strip_prefix("node:") else {
        return Ok(None);
    };
    if !deno_node::is_builtin_node_module(name) {
        return Err(deno_error::JsErrorBox::type_error(format!(
            "Unknown built-in \"node:\" module: {name}"
        )));
    }
    deno_core::ModuleSpecifier::parse(specifier)
        .map(Some)
        .map_err(deno_error::JsErrorBox::from_err)
}
