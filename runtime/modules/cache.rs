//! The disk cache of remote modules under the host's data directory (`<data dir>/remote/`),
//! laid out as Deno lays out `DENO_DIR/remote` (`https/<host>/<SHA-256 of path and query>`,
//! through `deno_cache_dir`'s own naming) and in Deno's file format: the body, then a last line
//! `// denoCacheMetadata=` with the URL and the headers that matter (`content-type`, or
//! `location` for a redirect). Every file is written to a temporary name and renamed into
//! place, so a half-written download is never read. It decides nothing about integrity (the
//! lock file does) and fetches nothing.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use deno_cache_dir::SerializedCachedUrlMetadata;
use deno_core::ModuleSpecifier;

/// The last line of a cache file, before its JSON metadata.
const METADATA_PREFIX: &[u8] = b"\n// denoCacheMetadata=";

/// What the cache holds for a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// The module's bytes and the `content-type` it was served with.
    Module {
        /// The body as served.
        content: Vec<u8>,
        /// Its `content-type` header, if it had one.
        content_type: Option<String>,
    },
    /// The URL redirects to this one (its `location`, already resolved).
    Redirect(String),
}

/// The module cache in one directory.
#[derive(Debug, Clone)]
pub struct ModuleCache {
    dir: PathBuf,
}

impl ModuleCache {
    /// The cache kept in `dir` (made when the first module is stored).
    pub fn new(dir: PathBuf) -> Self {
        ModuleCache { dir }
    }

    fn path(&self, url: &ModuleSpecifier) -> std::io::Result<PathBuf> {
        Ok(self.dir.join(deno_cache_dir::url_to_filename(url)?))
    }

    /// What the cache holds for `url`, if anything. A file that is not in the cache's format
    /// counts as absent (it is fetched again and replaced).
    pub fn get(&self, url: &ModuleSpecifier) -> std::io::Result<Option<Entry>> {
        let bytes = match std::fs::read(self.path(url)?) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(split) = bytes.iter().rposition(|&b| b == b'\n') else {
            return Ok(None);
        };
        let Some(metadata) = bytes[split..].strip_prefix(METADATA_PREFIX) else {
            return Ok(None);
        };
        let Ok(metadata) = serde_json::from_slice::<SerializedCachedUrlMetadata>(metadata) else {
            return Ok(None);
        };
        if let Some(location) = metadata.headers.get("location") {
            return Ok(Some(Entry::Redirect(location.clone())));
        }
        let mut content = bytes;
        content.truncate(split);
        Ok(Some(Entry::Module {
            content,
            content_type: metadata.headers.get("content-type").cloned(),
        }))
    }

    /// Stores `entry` for `url`, replacing what was there.
    pub fn put(&self, url: &ModuleSpecifier, entry: &Entry) -> std::io::Result<()> {
        let mut headers = HashMap::new();
        let content: &[u8] = match entry {
            Entry::Module {
                content,
                content_type,
            } => {
                if let Some(content_type) = content_type {
                    headers.insert("content-type".to_owned(), content_type.clone());
                }
                content
            }
            Entry::Redirect(location) => {
                headers.insert("location".to_owned(), location.clone());
                &[]
            }
        };
        let metadata = SerializedCachedUrlMetadata {
            headers,
            url: url.to_string(),
            time: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()
                .map(|d| d.as_secs()),
        };
        let mut file = Vec::with_capacity(content.len() + 256);
        file.extend_from_slice(content);
        file.extend_from_slice(METADATA_PREFIX);
        serde_json::to_writer(&mut file, &metadata).map_err(std::io::Error::other)?;
        write_atomically(&self.path(url)?, &file)
    }
}

/// Writes `bytes` to `path` whole or not at all: to a new file beside it, flushed, then renamed
/// over it (its directory is made if needed).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temporary = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let written = (|| {
        let mut file = std::fs::File::create_new(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_and_redirects_come_back_as_stored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ModuleCache::new(dir.path().to_path_buf());
        let url = ModuleSpecifier::parse("https://mods.example:8443/a.ts?v=1").unwrap();
        assert_eq!(cache.get(&url).unwrap(), None);
        let module = Entry::Module {
            content: b"export const a = 1;\n// a last line\n".to_vec(),
            content_type: Some("application/typescript".into()),
        };
        cache.put(&url, &module).unwrap();
        assert_eq!(cache.get(&url).unwrap(), Some(module));
        let moved = ModuleSpecifier::parse("https://mods.example:8443/old.ts").unwrap();
        let redirect = Entry::Redirect("https://mods.example:8443/a.ts?v=1".into());
        cache.put(&moved, &redirect).unwrap();
        assert_eq!(cache.get(&moved).unwrap(), Some(redirect));
        // Deno's layout: scheme, host and port, then the hash of path and query.
        assert!(dir.path().join("https/mods.example_port_8443").is_dir());
        let leftovers = std::fs::read_dir(dir.path().join("https/mods.example_port_8443"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".tmp")
            })
            .count();
        assert_eq!(leftovers, 0);
    }
}
