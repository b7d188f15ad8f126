//! A remote module's source, as Deno gets it: from the module cache when it is there (so a
//! warm host never downloads, and works with the module server down), else downloaded once
//! and cached; redirects followed hop by hop (the final URL is the module's specifier), each
//! hop cached; the bytes checked against the lock file before they are cached or used; the
//! media type taken from the `content-type` and the URL. Every error names the module's URL.
//! It does not transpile nor evaluate: the isolate's loader does that.

use std::cell::OnceCell;
use std::path::PathBuf;

use deno_ast::MediaType;
use deno_core::ModuleSpecifier;
use deno_error::JsErrorBox;

use super::ImportAccess;
use super::cache::{Entry, ModuleCache};
use super::fetch::{self, Answer};
use super::lock::LockFile;

/// Redirects followed for one module before giving up (Deno's limit too).
const MAX_REDIRECTS: usize = 10;

/// The source of a remote module.
#[derive(Debug)]
pub struct RemoteModule {
    /// Where it was found, after redirects: its specifier.
    pub specifier: ModuleSpecifier,
    /// JavaScript, TypeScript, JSX/TSX or JSON.
    pub media_type: MediaType,
    /// Its text.
    pub text: String,
}

/// Loads remote modules for one function directory.
pub struct Remote {
    cache: ModuleCache,
    access: ImportAccess,
    lock: Option<LockFile>,
    /// Made on the first download.
    client: OnceCell<deno_fetch::Client>,
}

impl Remote {
    /// Loads through the cache in `cache_dir`, downloading under `access`, checked by `lock`.
    pub fn new(cache_dir: PathBuf, access: ImportAccess, lock: Option<LockFile>) -> Self {
        Remote {
            cache: ModuleCache::new(cache_dir),
            access,
            lock,
            client: OnceCell::new(),
        }
    }

    /// The source of the module `url`.
    pub async fn load(&self, url: &ModuleSpecifier) -> Result<RemoteModule, JsErrorBox> {
        let failed =
            |why: String| JsErrorBox::type_error(format!("Import \"{url}\" failed: {why}"));
        let mut current = url.clone();
        for _ in 0..=MAX_REDIRECTS {
            let (entry, checked) = self.entry(&current).await.map_err(&failed)?;
            let (content, content_type) = match entry {
                Entry::Redirect(location) => {
                    current = redirect_target(&current, &location).map_err(&failed)?;
                    continue;
                }
                Entry::Module {
                    content,
                    content_type,
                } => (content, content_type),
            };
            if let (Some(lock), false) = (&self.lock, checked) {
                lock.check_or_add(current.as_str(), &content)
                    .map_err(JsErrorBox::type_error)?;
            }
            return module(current, content, content_type.as_deref());
        }
        Err(failed(format!("more than {MAX_REDIRECTS} redirects")))
    }

    /// What `url` holds: the cached entry, else the server's answer (cached, once the lock
    /// file has accepted a body), and whether the lock file has checked it already.
    async fn entry(&self, url: &ModuleSpecifier) -> Result<(Entry, bool), String> {
        let cached = self
            .cache
            .get(url)
            .map_err(|e| format!("reading the module cache: {e}"))?;
        if let Some(entry) = cached {
            return Ok((entry, false));
        }
        let client = match self.client.get() {
            Some(client) => client,
            None => {
                let made = fetch::client(self.access)?;
                self.client.get_or_init(|| made)
            }
        };
        let entry = match fetch::get(client, url, self.access).await.map_err(|why| {
            if why.ends_with("404 Not Found") {
                format!("module not found ({why})")
            } else {
                why
            }
        })? {
            Answer::Redirect(next) => {
                if let Some(lock) = &self.lock {
                    lock.add_redirect(url.as_str(), next.as_str())?;
                }
                Entry::Redirect(next.to_string())
            }
            Answer::Body {
                bytes,
                content_type,
            } => {
                // Checked before it is cached: a body the lock refuses is never kept.
                if let Some(lock) = &self.lock {
                    lock.check_or_add(url.as_str(), &bytes)?;
                }
                Entry::Module {
                    content: bytes,
                    content_type,
                }
            }
        };
        self.cache
            .put(url, &entry)
            .map_err(|e| format!("writing the module cache: {e}"))?;
        Ok((entry, true))
    }
}

/// Where a redirect from `from` to `location` leads: another `https:` or `http:` URL.
fn redirect_target(from: &ModuleSpecifier, location: &str) -> Result<ModuleSpecifier, String> {
    let next = from
        .join(location)
        .map_err(|e| format!("redirected to {location:?}: {e}"))?;
    match next.scheme() {
        "https" | "http" => Ok(next),
        _ => Err(format!(
            "redirected to \"{next}\": a remote module can only redirect to https: or http:"
        )),
    }
}

/// The module found at `specifier`: its media type from the `content-type` and the URL (as
/// Deno decides it), its bytes as UTF-8 text.
fn module(
    specifier: ModuleSpecifier,
    content: Vec<u8>,
    content_type: Option<&str>,
) -> Result<RemoteModule, JsErrorBox> {
    let media_type = MediaType::from_specifier_and_content_type(&specifier, content_type);
    match media_type {
        MediaType::JavaScript
        | MediaType::Mjs
        | MediaType::Jsx
        | MediaType::TypeScript
        | MediaType::Mts
        | MediaType::Tsx
        | MediaType::Json => {}
        _ => {
            return Err(JsErrorBox::type_error(format!(
                "Import \"{specifier}\" failed: it is not a JavaScript, TypeScript or JSON module \
                 (content-type {})",
                content_type.map_or("none".to_owned(), |c| format!("{c:?}"))
            )));
        }
    }
    let mut text = String::from_utf8(content).map_err(|_| {
        JsErrorBox::type_error(format!(
            "Import \"{specifier}\" failed: the module is not UTF-8 text"
        ))
    })?;
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(RemoteModule {
        specifier,
        media_type,
        text,
    })
}
