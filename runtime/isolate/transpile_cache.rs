//! Transpiled modules, shared by every isolate of the process and keyed by the module's URL
//! and a SHA-256 of its source: a module is transpiled once however many isolates load it, and
//! a changed file is transpiled again. It caches code only, never a secret or a result.

use std::sync::{Arc, OnceLock};

use deno_ast::MediaType;
use deno_core::ModuleSpecifier;
use deno_error::JsErrorBox;
use sha2::{Digest, Sha256};

use super::loader::transpile_module;
use crate::bounded_cache::BoundedCache;

/// A module's JavaScript and its source map.
#[derive(Debug)]
pub struct Transpiled {
    /// The JavaScript.
    pub code: String,
    /// The source map back to the original text, if one was made.
    pub source_map: Option<Vec<u8>>,
}

type Key = (String, [u8; 32]);

fn cache() -> &'static BoundedCache<Key, Arc<Transpiled>> {
    static CACHE: OnceLock<BoundedCache<Key, Arc<Transpiled>>> = OnceLock::new();
    CACHE.get_or_init(BoundedCache::default)
}

/// The transpiled form of `code`, from the cache or made now. Errors are not cached.
pub fn transpile(
    specifier: &ModuleSpecifier,
    code: String,
    media_type: MediaType,
) -> Result<Arc<Transpiled>, JsErrorBox> {
    let mut hasher = Sha256::new();
    hasher.update(media_type.as_ts_extension().as_bytes());
    hasher.update(code.as_bytes());
    let key = (specifier.to_string(), hasher.finalize().into());
    if let Some(hit) = cache().get_if(&key, |_| true) {
        return Ok(hit);
    }
    let (code, source_map) = transpile_module(specifier, code, media_type)?;
    let transpiled = Arc::new(Transpiled { code, source_map });
    cache().insert(key, transpiled.clone());
    Ok(transpiled)
}
