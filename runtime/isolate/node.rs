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
        without_host_cwd(deno_fs::deno_fs::init(fs.clone())),
        // node:crypto's hashes (its `Hasher` objects) and prime/X.509 ops.
        deno_node_crypto::deno_node_crypto::init(),
        deno_node::deno_node::init::<ByonmInNpmPackageChecker, ByonmNpmResolver<RealSys>, RealSys>(
            None, fs,
        ),
    ]
}

/// The Node builtins a function cannot use, and why: each needs raw sockets (outbound
/// requests go through `fetch`, which applies the function's network rules), a process, a
/// file, or a debugger. Importing one fails at load with this reason.
const REFUSED_BUILTINS: &[(&str, &str)] = &[
    ("_http_agent", "it needs raw sockets"),
    ("_http_common", "it needs raw sockets"),
    ("_http_outgoing", "it needs raw sockets"),
    ("_http_server", "it needs raw sockets"),
    ("_tls_common", "it needs raw sockets"),
    ("_tls_wrap", "it needs raw sockets"),
    ("child_process", "a function cannot start processes"),
    ("cluster", "a function cannot start processes"),
    ("dgram", "it needs raw sockets"),
    ("dns", "it needs raw sockets"),
    ("dns/promises", "it needs raw sockets"),
    ("http", "it needs raw sockets"),
    ("http2", "it needs raw sockets"),
    ("https", "it needs raw sockets"),
    ("inspector", "a function has no debugger"),
    ("inspector/promises", "a function has no debugger"),
    ("net", "it needs raw sockets"),
    ("repl", "a function has no terminal"),
    ("sqlite", "a function has no files"),
    ("tls", "it needs raw sockets"),
    ("worker_threads", "a function cannot start threads"),
];

/// deno_fs without `op_fs_cwd`, which answers the host process's directory with no permission
/// check: fluxbase's own op of that name (ops/src/node_compat.rs) answers `/`, so neither
/// `Deno.cwd()` nor `process.cwd()` shows where the host runs.
fn without_host_cwd(mut extension: Extension) -> Extension {
    extension.ops = extension
        .ops
        .iter()
        .filter(|op| op.name != "op_fs_cwd")
        .copied()
        .collect::<Vec<_>>()
        .into();
    extension
}

/// `specifier` as a Node builtin the isolate has (`node:buffer`), `None` when it is not a
/// `node:` specifier, or an error naming an unknown or refused one.
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
    if let Some((_, why)) = REFUSED_BUILTINS
        .iter()
        .find(|(refused, _)| *refused == name)
    {
        return Err(deno_error::JsErrorBox::type_error(format!(
            "\"node:{name}\" is not available in a fluxbase function: {why} (outbound HTTP goes through fetch)"
        )));
    }
    deno_core::ModuleSpecifier::parse(specifier)
        .map(Some)
        .map_err(deno_error::JsErrorBox::from_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refused_builtin_is_one_deno_has() {
        for (name, _) in REFUSED_BUILTINS {
            assert!(deno_node::is_builtin_node_module(name), "node:{name}");
        }
    }

    #[test]
    fn builtins_resolve_unknown_and_refused_ones_fail_with_their_name() {
        let buffer = builtin_specifier("node:buffer").unwrap().unwrap();
        assert_eq!(buffer.as_str(), "node:buffer");
        assert!(builtin_specifier("./x.ts").unwrap().is_none());
        let unknown = builtin_specifier("node:nope").unwrap_err().to_string();
        assert!(
            unknown.contains("Unknown built-in \"node:\" module: nope"),
            "{unknown}"
        );
        let refused = builtin_specifier("node:child_process")
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("\"node:child_process\" is not available"),
            "{refused}"
        );
    }
}
