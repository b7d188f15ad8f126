//! npm packages for function code (`npm:zod@3`): versions resolved with deno_npm against the
//! registry, tarballs installed by the host into a store under the data directory, and one
//! resolution per functions directory kept on disk (`resolutions/<id>.json`), so a package is
//! looked up and downloaded once and a host with its packages installed works offline. One
//! resolution or installation runs at a time per functions directory. Owns that
//! store; must not load or run any module (the isolate's loader does, through
//! [`NpmPackages::package_folder`]).

pub mod http;
pub mod install;
pub mod registry;

use std::collections::HashMap;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::OnceLock;

use deno_npm::resolution::AddPkgReqsOptions;
use deno_npm::resolution::NpmResolutionSnapshot;
use deno_npm::resolution::NpmVersionResolver;
use deno_npm::resolution::SerializedNpmResolutionSnapshot;
use deno_semver::package::PackageReq;
use sha2::Digest as _;

use registry::Registry;

use crate::modules::ImportAccess;

/// Why an npm package could not be resolved or installed; the message names it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NpmError(String);

impl NpmError {
    fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// The npm packages of one functions directory: its resolution and the host's store.
pub struct NpmPackages {
    registry: Registry,
    store: PathBuf,
    resolution_file: PathBuf,
    snapshot: Mutex<NpmResolutionSnapshot>,
}

impl NpmPackages {
    /// The packages of the functions in `functions_dir`, kept under `npm_dir` (one per pair in
    /// this process, shared by every isolate).
    pub fn for_dir(npm_dir: &Path, functions_dir: &Path, access: ImportAccess) -> Arc<NpmPackages> {
        type Key = (PathBuf, PathBuf, ImportAccess);
        static OPEN: OnceLock<Mutex<HashMap<Key, Arc<NpmPackages>>>> = OnceLock::new();
        let key = (npm_dir.to_owned(), functions_dir.to_owned(), access);
        OPEN.get_or_init(Default::default)
            .lock()
            .expect("npm packages")
            .entry(key)
            .or_insert_with(|| Arc::new(Self::open(npm_dir, functions_dir, access)))
            .clone()
    }

    fn open(npm_dir: &Path, functions_dir: &Path, access: ImportAccess) -> Self {
        // One resolution per functions directory, named by its path.
        let digest = sha2::Sha256::digest(functions_dir.as_os_str().as_encoded_bytes());
        let id: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        let resolution_file = npm_dir.join("resolutions").join(format!("{id}.json"));
        let snapshot = std::fs::read(&resolution_file)
            .ok()
            .and_then(|bytes| {
                serde_json::from_slice::<SerializedNpmResolutionSnapshot>(&bytes).ok()
            })
            .and_then(|serialized| serialized.into_valid().ok())
            .map(NpmResolutionSnapshot::new)
            .unwrap_or_default();
        Self {
            registry: Registry::new(functions_dir, npm_dir.join("registry"), access),
            store: npm_dir.join("store"),
            resolution_file,
            snapshot: Mutex::new(snapshot),
        }
    }

    /// The installed folder of the package `req` names (`zod@3`): resolved and installed on
    /// first use, from the kept resolution afterwards.
    pub fn package_folder(&self, req: &PackageReq) -> Result<PathBuf, NpmError> {
        let mut snapshot = self.snapshot.lock().expect("npm resolution");
        if let Ok(package) = snapshot.resolve_pkg_from_pkg_req(req) {
            let folder = install::package_folder(&self.store, package);
            if install::version_folder(&self.store, package)
                .join(".installed")
                .exists()
            {
                return Ok(folder);
            }
        } else {
            let version_resolver = NpmVersionResolver {
                link_packages: Default::default(),
                newest_dependency_date_options: Default::default(),
                overrides: Default::default(),
                trust_policy: Default::default(),
            };
            let result = futures::executor::block_on(snapshot.clone().add_pkg_reqs(
                &self.registry,
                AddPkgReqsOptions {
                    package_reqs: std::slice::from_ref(req),
                    version_resolver: &version_resolver,
                    should_dedup: false,
                },
                None,
            ));
            if let Some(Err(e)) = result.results.first() {
                return Err(NpmError::new(format!(
                    "cannot resolve npm package \"{req}\" (registry {}): {e}",
                    self.registry.url()
                )));
            }
            let resolved = result
                .dep_graph_result
                .map_err(|e| NpmError::new(format!("cannot resolve npm package \"{req}\": {e}")))?;
            *snapshot = resolved;
        }
        install::install_all(&self.store, &snapshot, self.registry.access())?;
        let serialized =
            serde_json::to_vec_pretty(&snapshot.as_valid_serialized().into_serialized())
                .map_err(|e| NpmError::new(format!("cannot record the npm resolution: {e}")))?;
        crate::modules::write_atomically(&self.resolution_file, &serialized)
            .map_err(|e| NpmError::new(format!("cannot record the npm resolution: {e}")))?;
        let package = snapshot
            .resolve_pkg_from_pkg_req(req)
            .map_err(|e| NpmError::new(format!("npm package \"{req}\": {e}")))?;
        Ok(install::package_folder(&self.store, package))
    }

    /// The store every installed package is under (modules there may be loaded).
    pub fn store(&self) -> &Path {
        &self.store
    }
}
