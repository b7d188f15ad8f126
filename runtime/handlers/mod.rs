//! Finding handler files on disk: functions (`functions/<name>.ts`, or `functions/<name>/index.ts`)
//! and jobs (`jobs/<name>.ts`), and reading the settings a handler declares in its `// @fluxbase:`
//! lines (cached per file stamp). It reads files only: it runs no code and never sees a secret.

mod annotations;
mod schedule;

pub use annotations::{Cors, HandlerSettings, HostPattern, RateLimit};
pub use schedule::Schedule;

mod deployed;

pub use deployed::{Annotation, Deployed, deployed};

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use crate::bounded_cache::BoundedCache;
use crate::{Error, Result};

/// File extensions a handler may have, in order of preference.
const EXTENSIONS: [&str; 2] = ["ts", "js"];
/// Folders of a handler directory that hold shared code, not handlers.
const SHARED_PREFIX: char = '_';

/// What a handler is called with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HandlerKind {
    /// An edge function: `handler(req: Request): Promise<Response>`.
    Function,
    /// A background job: `handler(payload: unknown): Promise<void>`.
    Job,
}

impl HandlerKind {
    /// `function` or `job`.
    pub fn as_str(self) -> &'static str {
        match self {
            HandlerKind::Function => "function",
            HandlerKind::Job => "job",
        }
    }
}

/// A handler file found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handler {
    /// Function or job.
    pub kind: HandlerKind,
    /// Its name, as used to invoke it.
    pub name: String,
    /// The entry file.
    pub path: PathBuf,
}

impl Handler {
    /// The settings the file declares in its `// @fluxbase:` lines.
    pub fn settings(&self) -> Result<HandlerSettings> {
        let source = std::fs::read_to_string(&self.path)
            .map_err(|e| Error::io(format!("cannot read {}", self.path.display()), e))?;
        HandlerSettings::parse(&source, self.kind, &self.path)
    }

    /// The file's modification time and length as they are now.
    pub fn stamp(&self) -> FileStamp {
        let meta = std::fs::metadata(&self.path).ok();
        FileStamp {
            modified: meta.as_ref().and_then(|m| m.modified().ok()),
            len: meta.map_or(0, |m| m.len()),
        }
    }
}

/// A handler file's modification time and length: an edited file has another stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
}

/// The settings handler files declare, read again only when a file's stamp changes, so a
/// warm execution does not read its handler's source.
#[derive(Debug, Default)]
pub struct SettingsCache {
    entries: BoundedCache<PathBuf, (FileStamp, Arc<HandlerSettings>)>,
}

impl SettingsCache {
    /// The settings of `handler`'s file as it was at `stamp`.
    pub fn settings(&self, handler: &Handler, stamp: FileStamp) -> Result<Arc<HandlerSettings>> {
        if let Some((_, settings)) = self.entries.get_if(&handler.path, |(at, _)| *at == stamp) {
            return Ok(settings);
        }
        let settings = Arc::new(handler.settings()?);
        self.entries
            .insert(handler.path.clone(), (stamp, settings.clone()));
        Ok(settings)
    }
}

/// Finds the handler `name` of `kind` in `dir`. The flat file (`name.ts`) wins over a folder
/// (`name/index.ts`); `.ts` wins over `.js`.
pub fn find(dir: &Path, kind: HandlerKind, name: &str) -> Result<Handler> {
    if !is_handler_name(name) {
        return Err(Error::invalid(format!(
            "invalid {} name {name:?}: use letters, digits, - and _",
            kind.as_str()
        )));
    }
    entry_file(dir, name)
        .map(|path| Handler {
            kind,
            name: name.to_owned(),
            path,
        })
        .ok_or_else(|| Error::NoHandler {
            kind: kind.as_str(),
            name: name.to_owned(),
            dir: dir.to_path_buf(),
        })
}

/// Every handler of `kind` in `dir`, sorted by name.
pub fn discover(dir: &Path, kind: HandlerKind) -> Result<Vec<Handler>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(format!("cannot read {}", dir.display()), e)),
    };
    let mut names: Vec<String> = entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let path = entry.path();
            let stem = if path.is_dir() {
                path.file_name()?.to_str()?.to_owned()
            } else {
                let ext = path.extension()?.to_str()?;
                EXTENSIONS.contains(&ext).then_some(())?;
                path.file_stem()?.to_str()?.to_owned()
            };
            is_handler_name(&stem).then_some(stem)
        })
        .collect();
    names.sort();
    names.dedup();
    Ok(names
        .into_iter()
        .filter_map(|name| find(dir, kind, &name).ok())
        .collect())
}

fn entry_file(dir: &Path, name: &str) -> Option<PathBuf> {
    let flat = EXTENSIONS
        .iter()
        .map(|ext| dir.join(format!("{name}.{ext}")));
    let folder = EXTENSIONS
        .iter()
        .map(|ext| dir.join(name).join(format!("index.{ext}")));
    flat.chain(folder).find(|path| path.is_file())
}

/// Handler names: letters, digits, `-` and `_`, not starting with `_` (shared code).
fn is_handler_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(SHARED_PREFIX)
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_file_wins_and_shared_is_not_a_handler() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("hello.ts"), "").unwrap();
        std::fs::create_dir_all(root.join("hello")).unwrap();
        std::fs::write(root.join("hello/index.ts"), "").unwrap();
        std::fs::create_dir_all(root.join("nested")).unwrap();
        std::fs::write(root.join("nested/index.js"), "").unwrap();
        std::fs::create_dir_all(root.join("_shared")).unwrap();
        std::fs::write(root.join("_shared/util.ts"), "").unwrap();
        std::fs::write(root.join("README.md"), "").unwrap();

        let found = discover(root, HandlerKind::Function).unwrap();
        let names: Vec<_> = found.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["hello", "nested"]);
        assert_eq!(found[0].path, root.join("hello.ts"));
        assert_eq!(found[1].path, root.join("nested/index.js"));
        assert!(find(root, HandlerKind::Function, "_shared").is_err());
        assert!(find(root, HandlerKind::Function, "../etc").is_err());
        assert!(find(root, HandlerKind::Function, "missing").is_err());
    }
}
