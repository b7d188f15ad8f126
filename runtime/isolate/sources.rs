//! The extension JavaScript, compiled into the binary: every script path deno_core's
//! `extension!` leaves is swapped for the source the build script embedded (see
//! `build/embed_js.rs`), so the snapshot and every isolate read memory, never the file system.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::sync::OnceLock;

use deno_core::Extension;
use deno_core::ExtensionFileSource;
use deno_core::ExtensionFileSourceCode;
use deno_core::FastStaticString;

include!(concat!(env!("OUT_DIR"), "/extension_sources.rs"));

/// The compiled-in sources by normalized build path.
fn by_path() -> &'static HashMap<PathBuf, FastStaticString> {
    static SOURCES: OnceLock<HashMap<PathBuf, FastStaticString>> = OnceLock::new();
    SOURCES.get_or_init(|| {
        extension_sources()
            .into_iter()
            .map(|(path, source)| (normalize(Path::new(path)), source))
            .collect()
    })
}

/// `path` with `.` and `..` resolved without touching the file system (the macro writes paths
/// such as `ops/../js/00_secrets.js`).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `extension` with each script that would be read from the build machine replaced by its
/// compiled-in source. A script the build did not compile in is left as it was (and read from
/// the disk); the test below keeps that from happening.
///
/// Every isolate boot asks this of the same extensions (hundreds of scripts with Node's), so
/// each list is worked out once per process and handed out as a borrowed slice afterwards.
pub fn embed(mut extension: Extension) -> Extension {
    type Lists = [&'static [ExtensionFileSource]; 4];
    static EMBEDDED: OnceLock<Mutex<HashMap<&'static str, Lists>>> = OnceLock::new();
    let known = EMBEDDED
        .get_or_init(Default::default)
        .lock()
        .expect("embedded lists")
        .get(extension.name)
        .copied();
    let fields = [
        &mut extension.js_files,
        &mut extension.esm_files,
        &mut extension.lazy_loaded_esm_files,
        &mut extension.lazy_loaded_js_files,
    ];
    let lists: Lists = match known {
        Some(lists) => lists,
        None => {
            let lists = fields
                .iter()
                .map(|files| -> &'static [ExtensionFileSource] {
                    Box::leak(files.iter().map(embed_file).collect::<Box<[_]>>())
                })
                .collect::<Vec<_>>()
                .try_into()
                .expect("four lists");
            EMBEDDED
                .get()
                .expect("initialized above")
                .lock()
                .expect("embedded lists")
                .insert(extension.name, lists);
            lists
        }
    };
    for (files, embedded) in fields.into_iter().zip(lists) {
        *files = Cow::Borrowed(embedded);
    }
    extension
}

fn embed_file(file: &ExtensionFileSource) -> ExtensionFileSource {
    #[allow(
        deprecated,
        reason = "the variant deno_core's extension! macro produces"
    )]
    if let ExtensionFileSourceCode::LoadedFromFsDuringSnapshot(path) = &file.code
        && let Some(source) = by_path().get(&normalize(Path::new(path)))
    {
        return ExtensionFileSource::new(file.specifier, *source);
    }
    file.clone()
}

/// Every script of `extension`: classic and ES module, loaded at start or on demand.
#[cfg(test)]
pub(crate) fn scripts(extension: &Extension) -> impl Iterator<Item = &ExtensionFileSource> {
    extension
        .js_files
        .iter()
        .chain(extension.esm_files.iter())
        .chain(extension.lazy_loaded_esm_files.iter())
        .chain(extension.lazy_loaded_js_files.iter())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_extension_script_is_compiled_in() {
        let mut scripts = 0;
        for extension in crate::isolate::boot::extensions(Default::default()) {
            for file in super::scripts(&extension) {
                assert!(
                    file.is_runtime_loadable(),
                    "{} would be read from the build machine's disk",
                    file.specifier
                );
                scripts += 1;
            }
        }
        // The web extensions and ours: dozens of scripts, not a handful.
        assert!(scripts > 40, "only {scripts} scripts");
    }

    #[test]
    fn normalize_resolves_parent_components_lexically() {
        assert_eq!(
            normalize(Path::new("/work/x/ops/../js/./00_secrets.js")),
            PathBuf::from("/work/x/js/00_secrets.js")
        );
    }
}
