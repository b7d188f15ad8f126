//! The lock file of a functions directory (`deno.lock`, Deno's format version 5, read and
//! printed by Deno's own `deno_lockfile`): the SHA-256 each remote module must have. A module
//! with an entry must match it; one without gets its entry added (unless the lock is frozen),
//! as `deno run` does. The file is rewritten whole through a temporary file and a rename, so a
//! reader never sees half of it, under a process-wide mutex per file, so two isolates adding
//! entries at once both keep theirs. It fetches and caches nothing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use deno_lockfile::{Lockfile, LockfileContent};
use sha2::{Digest, Sha256};

/// The lock file remote modules are checked against.
#[derive(Debug, Clone)]
pub struct LockFile {
    path: PathBuf,
    /// A missing entry is an error instead of being added (`"lock": {"frozen": true}`).
    frozen: bool,
}

impl LockFile {
    /// The lock file at `path`.
    pub fn new(path: PathBuf, frozen: bool) -> Self {
        LockFile { path, frozen }
    }

    /// Checks `content`, the source of the remote module `url`, against its entry, or adds the
    /// entry when there is none. The error names the module, both hashes and the file.
    pub fn check_or_add(&self, url: &str, content: &[u8]) -> Result<(), String> {
        let actual = format!("{:x}", Sha256::digest(content));
        let guard = file_mutex(&self.path);
        let _held = guard
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut lockfile = self.read()?;
        match lockfile.remote().get(url) {
            Some(expected) if *expected == actual => return Ok(()),
            Some(expected) => {
                return Err(format!(
                    "Integrity check failed for remote module \"{url}\": its SHA-256 is {actual}, \
                     but the lock file {} expects {expected}. The module changed since it was \
                     locked, or the lock file was edited; check the module and remove its entry \
                     to lock it again",
                    self.path.display()
                ));
            }
            None if self.frozen => {
                return Err(format!(
                    "remote module \"{url}\" is not in the frozen lock file {} (SHA-256 {actual})",
                    self.path.display()
                ));
            }
            None => lockfile.insert_remote(url.to_owned(), actual),
        }
        self.write(&mut lockfile)
    }

    /// Records that `from` redirects to `to` (Deno keeps redirects in its lock file too).
    pub fn add_redirect(&self, from: &str, to: &str) -> Result<(), String> {
        if self.frozen {
            return Ok(());
        }
        let guard = file_mutex(&self.path);
        let _held = guard
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut lockfile = self.read()?;
        lockfile.insert_redirect(from.to_owned(), to.to_owned());
        self.write(&mut lockfile)
    }

    /// The lock file as it is on disk (empty when there is none).
    fn read(&self) -> Result<Lockfile, String> {
        let fail = |why: String| format!("lock file {}: {why}", self.path.display());
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Lockfile::new_empty(self.path.clone(), false));
            }
            Err(e) => return Err(fail(e.to_string())),
        };
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| fail(format!("not valid JSON: {e}")))?;
        // Older versions would need Deno's upgrade, which asks the npm registry about npm
        // entries; Deno 2.9 writes version 5.
        match json.get("version").and_then(|v| v.as_str()) {
            Some("5") => {}
            other => {
                return Err(fail(format!(
                    "version {} is not supported: fluxbase reads lock files of version 5 \
                     (what Deno 2.3 and later write)",
                    other.unwrap_or("(none)")
                )));
            }
        }
        let content = LockfileContent::from_json(json).map_err(|e| fail(e.to_string()))?;
        Ok(Lockfile {
            overwrite: false,
            has_content_changed: false,
            content,
            filename: self.path.clone(),
        })
    }

    /// Writes `lockfile` if it changed: a temporary file beside it, then a rename.
    fn write(&self, lockfile: &mut Lockfile) -> Result<(), String> {
        let Some(bytes) = lockfile.resolve_write_bytes() else {
            return Ok(());
        };
        super::cache::write_atomically(&self.path, &bytes)
            .map_err(|e| format!("cannot write lock file {}: {e}", self.path.display()))
    }
}

/// The mutex of the lock file at `path`, one per file for the whole process.
fn file_mutex(path: &Path) -> Arc<Mutex<()>> {
    static MUTEXES: OnceLock<Mutex<HashMap<PathBuf, Arc<Mutex<()>>>>> = OnceLock::new();
    let mut mutexes = MUTEXES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    mutexes.entry(path.to_path_buf()).or_default().clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_added_then_enforced() {
        let dir = tempfile::tempdir().unwrap();
        let lock = LockFile::new(dir.path().join("deno.lock"), false);
        lock.check_or_add("https://mods.example/a.ts", b"one")
            .unwrap();
        lock.check_or_add("https://mods.example/a.ts", b"one")
            .unwrap();
        let written: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("deno.lock")).unwrap()).unwrap();
        assert_eq!(written["version"], "5");
        assert_eq!(
            written["remote"]["https://mods.example/a.ts"],
            format!("{:x}", Sha256::digest(b"one"))
        );
        let error = lock
            .check_or_add("https://mods.example/a.ts", b"two")
            .unwrap_err();
        assert!(error.contains("Integrity check failed"), "{error}");
        assert!(
            error.contains(&format!("{:x}", Sha256::digest(b"two"))),
            "{error}"
        );
    }

    #[test]
    fn a_frozen_lock_refuses_new_entries_and_old_versions_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deno.lock");
        let frozen = LockFile::new(path.clone(), true);
        let error = frozen
            .check_or_add("https://mods.example/a.ts", b"x")
            .unwrap_err();
        assert!(error.contains("frozen"), "{error}");
        std::fs::write(&path, r#"{"version": "3", "remote": {}}"#).unwrap();
        let error = LockFile::new(path, false)
            .check_or_add("https://mods.example/a.ts", b"x")
            .unwrap_err();
        assert!(error.contains("version 3 is not supported"), "{error}");
    }
}
