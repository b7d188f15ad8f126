//! The modules of function code beyond the files of its directory, as Deno 2 resolves them:
//! the functions directory's `deno.json` import map (`deno_json.rs`), where a specifier leads
//! and which schemes may be imported from where (`resolve.rs`), and remote `https:`/`http:`
//! modules (`remote.rs`): fetched by the host (`fetch.rs`), kept in a disk cache under the data
//! directory (`cache.rs`) and checked against the directory's `deno.lock` (`lock.rs`).
//! Everything here happens when an isolate loads its function (or a module it imports
//! dynamically), never per request: a warm isolate has its modules already. It reads no secret
//! and runs no code; reading local files and turning sources into modules is the isolate's
//! loader's job (`crate::isolate::loader`).

mod cache;
mod deno_json;
mod fetch;
mod lock;
mod remote;
mod resolve;

use std::cell::OnceCell;
use std::path::{Path, PathBuf};

use deno_core::ModuleSpecifier;
use deno_error::JsErrorBox;

/// A file written whole or not at all (also the npm store's: `crate::npm`).
pub(crate) use cache::write_atomically;
pub use remote::RemoteModule;
pub use resolve::resolve;

/// Which addresses the host fetches remote modules from. It is the host's own rule, not a
/// function's: a function's `@fluxbase:allow-net` list is about its `fetch`, not its imports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ImportAccess {
    /// Public addresses only, as for `fetch` in function code (see
    /// [`crate::isolate::network::is_public`]): a module URL naming a loopback, private or
    /// link-local address, or a name resolving to none but such, is refused.
    #[default]
    PublicOnly,
    /// Any address: `--allow-private-imports`, for a module server on the host's own network.
    Any,
}

/// How the host loads remote modules, the same for every function.
#[derive(Debug, Clone, Default)]
pub struct ModuleOptions {
    /// Where fetched modules are kept (`<data dir>/remote`). `None`: remote imports are refused
    /// (a host without a data directory has nowhere to keep them).
    pub cache_dir: Option<PathBuf>,
    /// Which addresses modules are fetched from.
    pub access: ImportAccess,
    /// Where installed npm packages are kept (`<data dir>/npm`). `None`: `npm:` imports are
    /// refused.
    pub npm_dir: Option<PathBuf>,
}

impl ModuleOptions {
    /// The options of a host whose data directory is `data_dir`.
    pub fn in_data_dir(data_dir: &Path, access: ImportAccess) -> Self {
        let dir = data_dir.join("remote");
        let npm_dir = data_dir.join("npm");
        ModuleOptions {
            cache_dir: Some(std::path::absolute(&dir).unwrap_or(dir)),
            access,
            npm_dir: Some(std::path::absolute(&npm_dir).unwrap_or(npm_dir)),
        }
    }
}

/// What the modules of one function directory are resolved and loaded with, read once when an
/// isolate loads its function: the directory's import map and lock file (from its
/// `deno.json`), and the host's module cache.
pub struct FunctionModules {
    config: deno_json::DirConfig,
    options: ModuleOptions,
    /// Made on first use: only a remote import that must be downloaded needs it.
    remote: OnceCell<remote::Remote>,
}

impl FunctionModules {
    /// Reads the `deno.json` (or `deno.jsonc`) of `root`, the function directory, if it has
    /// one. A file that cannot be read or used is an error naming it.
    pub fn open(root: &Path, options: &ModuleOptions) -> Result<Self, String> {
        Ok(FunctionModules {
            config: deno_json::DirConfig::read(root)?,
            options: options.clone(),
            remote: OnceCell::new(),
        })
    }

    /// Where `specifier`, imported by `referrer`, leads (see `resolve.rs`).
    pub fn resolve(&self, specifier: &str, referrer: &str) -> Result<ModuleSpecifier, JsErrorBox> {
        resolve::resolve(specifier, referrer, self.config.import_map.as_ref())
    }

    /// The source of the remote module `url`: from the cache, else fetched; checked against
    /// the lock file either way.
    pub async fn load_remote(&self, url: &ModuleSpecifier) -> Result<RemoteModule, JsErrorBox> {
        let remote = match self.remote.get() {
            Some(remote) => remote,
            None => {
                let Some(cache_dir) = &self.options.cache_dir else {
                    return Err(JsErrorBox::type_error(format!(
                        "Import \"{url}\" failed: this host keeps no module cache (it has no data \
                         directory), so it loads no remote module"
                    )));
                };
                let made = remote::Remote::new(
                    cache_dir.clone(),
                    self.options.access,
                    self.config.lock.clone(),
                );
                self.remote.get_or_init(|| made)
            }
        };
        remote.load(url).await
    }
}
