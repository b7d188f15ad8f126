//! The npm registry as deno_npm's resolver asks it: a package's document (its versions, their
//! dependencies and tarballs), fetched by the host over HTTP(S) from the registry npm would use
//! (`NPM_CONFIG_REGISTRY`, else a `registry=` line of the functions directory's `.npmrc`, else
//! registry.npmjs.org), and kept on disk, so a host whose packages are installed needs no
//! network. A registry a functions directory's `.npmrc` names is fetched from under the host's
//! import rule (see `http`): whoever writes functions must not point the host at its own
//! network. Owns those documents; must not install anything (see `install`).

use std::collections::HashMap;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;

use deno_error::JsErrorBox;
use deno_npm::registry::NpmPackageInfo;
use deno_npm::registry::NpmRegistryApi;
use deno_npm::registry::NpmRegistryPackageInfoLoadError;

use crate::modules::ImportAccess;

/// The registry npm uses when nothing says otherwise.
const DEFAULT_REGISTRY: &str = "https://registry.npmjs.org/";

/// Largest package document accepted (some popular packages have documents of tens of MiB).
const MAX_DOCUMENT_BYTES: u64 = 128 * 1024 * 1024;

/// Package documents from one registry, on disk under `dir`, and in memory once read.
pub struct Registry {
    url: String,
    /// The import rule its documents and tarballs are fetched under: the host's rule for a
    /// registry a functions directory's `.npmrc` names, none for the one the host names.
    access: ImportAccess,
    dir: PathBuf,
    loaded: Mutex<HashMap<String, Arc<NpmPackageInfo>>>,
}

impl Registry {
    /// The registry for functions in `functions_dir`, its documents kept under `dir`.
    pub fn new(functions_dir: &Path, dir: PathBuf, access: ImportAccess) -> Self {
        let (url, named_by) = registry_url(functions_dir);
        Self {
            url,
            access: match named_by {
                NamedBy::Host => ImportAccess::Any,
                NamedBy::Functions => access,
            },
            dir,
            loaded: Mutex::new(HashMap::new()),
        }
    }

    /// The registry's base URL, ending with `/`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The import rule of this registry's fetches, tarballs included.
    pub fn access(&self) -> ImportAccess {
        self.access
    }

    fn document_path(&self, name: &str) -> PathBuf {
        // `@scope/name` becomes one file name; `%` cannot occur in a package name.
        self.dir.join(format!("{}.json", name.replace('/', "%2f")))
    }

    /// The document of `name`: from memory, else from disk, else from the registry.
    fn load(&self, name: &str) -> Result<Arc<NpmPackageInfo>, NpmRegistryPackageInfoLoadError> {
        if let Some(info) = self.loaded.lock().expect("registry cache").get(name) {
            return Ok(info.clone());
        }
        let path = self.document_path(name);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(_) => {
                let bytes = self.fetch(name)?;
                crate::modules::write_atomically(&path, &bytes).map_err(load_error)?;
                bytes
            }
        };
        let info: NpmPackageInfo = serde_json::from_slice(&bytes).map_err(|e| {
            load_error(format!(
                "npm package document of '{name}' cannot be read: {e}"
            ))
        })?;
        let info = Arc::new(info);
        self.loaded
            .lock()
            .expect("registry cache")
            .insert(name.to_owned(), info.clone());
        Ok(info)
    }

    fn fetch(&self, name: &str) -> Result<Vec<u8>, NpmRegistryPackageInfoLoadError> {
        let url = format!("{}{}", self.url, name.replace('/', "%2f"));
        let response = super::http::client(self.access)
            .get(&url)
            .header("accept", "application/json")
            .call()
            .map_err(|e| load_error(format!("cannot reach the npm registry at {url}: {e}")))?;
        match response.status().as_u16() {
            200 => {}
            404 => {
                return Err(NpmRegistryPackageInfoLoadError::PackageNotExists {
                    package_name: name.to_owned(),
                });
            }
            status => {
                return Err(load_error(format!(
                    "the npm registry answered {status} for {url}"
                )));
            }
        }
        response
            .into_body()
            .into_with_config()
            .limit(MAX_DOCUMENT_BYTES)
            .read_to_vec()
            .map_err(|e| load_error(format!("cannot read {url}: {e}")))
    }
}

#[async_trait::async_trait(?Send)]
impl NpmRegistryApi for Registry {
    async fn package_info(
        &self,
        name: &str,
    ) -> Result<Arc<NpmPackageInfo>, NpmRegistryPackageInfoLoadError> {
        self.load(name)
    }
}

fn load_error(message: impl std::fmt::Display) -> NpmRegistryPackageInfoLoadError {
    NpmRegistryPackageInfoLoadError::LoadError(Arc::new(JsErrorBox::generic(message.to_string())))
}

/// Who chose a registry.
enum NamedBy {
    /// The host: its environment (`NPM_CONFIG_REGISTRY`), or npm's default.
    Host,
    /// The functions directory's `.npmrc`, written by whoever writes functions.
    Functions,
}

/// The registry URL npm would use for the functions in `functions_dir`, and who chose it.
fn registry_url(functions_dir: &Path) -> (String, NamedBy) {
    let from_env = ["NPM_CONFIG_REGISTRY", "npm_config_registry"]
        .iter()
        .find_map(|name| std::env::var(name).ok())
        .filter(|url| !url.trim().is_empty());
    let from_npmrc = || {
        let npmrc = std::fs::read_to_string(functions_dir.join(".npmrc")).ok()?;
        npmrc.lines().find_map(|line| {
            let (key, value) = line.split_once('=')?;
            (key.trim() == "registry").then(|| value.trim().to_owned())
        })
    };
    let (mut url, named_by) = match from_env {
        Some(url) => (url, NamedBy::Host),
        None => match from_npmrc() {
            Some(url) => (url, NamedBy::Functions),
            None => (DEFAULT_REGISTRY.to_owned(), NamedBy::Host),
        },
    };
    if !url.ends_with('/') {
        url.push('/');
    }
    (url, named_by)
}
