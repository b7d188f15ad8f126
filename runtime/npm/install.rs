//! Puts a resolved npm package on disk, in the layout Node's resolution walks: each package
//! version in `store/<name>@<version>/node_modules/<name>`, with its dependencies linked beside
//! it (`store/<name>@<version>/node_modules/<dependency>`), as Deno's own node_modules folder
//! and pnpm do. The tarball is downloaded by the host, checked against the integrity the
//! registry gives (sha512, else sha1) before anything is unpacked, unpacked into a temporary
//! folder and renamed into place; a package counts as installed only once its `.installed`
//! marker exists, so a half-written package is never used. Owns the store; must not resolve
//! versions (see `resolution`).

use std::io::Read;
use std::path::Path;
use std::path::PathBuf;

use base64::Engine;
use deno_npm::NpmResolutionPackage;
use deno_npm::registry::NpmPackageVersionDistInfoIntegrity;
use deno_npm::resolution::NpmResolutionSnapshot;
use sha2::Digest;

use super::NpmError;
use crate::modules::ImportAccess;

/// Largest tarball accepted.
const MAX_TARBALL_BYTES: u64 = 256 * 1024 * 1024;

/// The folder of one package version in `store` (its files are in `node_modules/<name>`).
pub fn version_folder(store: &Path, package: &NpmResolutionPackage) -> PathBuf {
    store.join(deno_resolver::npm::get_package_folder_id_folder_name(
        &package.get_package_cache_folder_id(),
    ))
}

/// The folder holding `package`'s own files.
pub fn package_folder(store: &Path, package: &NpmResolutionPackage) -> PathBuf {
    version_folder(store, package)
        .join("node_modules")
        .join(package.id.nv.name.as_str())
}

/// Installs every package of `snapshot` that is not installed yet, each with its dependencies
/// linked.
pub fn install_all(
    store: &Path,
    snapshot: &NpmResolutionSnapshot,
    access: ImportAccess,
) -> Result<(), NpmError> {
    for package in snapshot.all_packages_for_every_system() {
        install(store, snapshot, package, access)?;
    }
    Ok(())
}

fn install(
    store: &Path,
    snapshot: &NpmResolutionSnapshot,
    package: &NpmResolutionPackage,
    access: ImportAccess,
) -> Result<(), NpmError> {
    let folder = version_folder(store, package);
    let marker = folder.join(".installed");
    if marker.exists() {
        return Ok(());
    }
    let nv = &package.id.nv;
    let dist = package
        .dist
        .as_ref()
        .ok_or_else(|| NpmError::new(format!("npm package {nv} has no tarball in the registry")))?;
    let target = package_folder(store, package);
    if !target.exists() {
        let tarball = download(&dist.tarball, nv, access)?;
        verify(&tarball, dist.integrity(), nv)?;
        let staging = store.join(format!(".tmp-{}", uuid::Uuid::new_v4()));
        unpack(&tarball, &staging, nv)?;
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_error(nv, e))?;
        }
        if let Err(e) = std::fs::rename(&staging, &target) {
            let _ = std::fs::remove_dir_all(&staging);
            // Another isolate installed the same version first.
            if !target.exists() {
                return Err(io_error(nv, e));
            }
        }
    }
    for (alias, id) in &package.dependencies {
        let Some(dependency) = snapshot.package_from_id(id) else {
            continue;
        };
        let link = folder.join("node_modules").join(alias.as_str());
        if link.symlink_metadata().is_ok() {
            continue;
        }
        if let Some(parent) = link.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_error(nv, e))?;
        }
        std::os::unix::fs::symlink(package_folder(store, dependency), &link)
            .or_else(|e| {
                if link.symlink_metadata().is_ok() {
                    Ok(())
                } else {
                    Err(e)
                }
            })
            .map_err(|e| io_error(nv, e))?;
    }
    std::fs::write(&marker, b"").map_err(|e| io_error(nv, e))
}

fn io_error(nv: &impl std::fmt::Display, e: std::io::Error) -> NpmError {
    NpmError::new(format!("cannot install npm package {nv}: {e}"))
}

fn download(
    url: &str,
    nv: &impl std::fmt::Display,
    access: ImportAccess,
) -> Result<Vec<u8>, NpmError> {
    let response = super::http::client(access)
        .get(url)
        .call()
        .map_err(|e| NpmError::new(format!("cannot download npm package {nv} from {url}: {e}")))?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(NpmError::new(format!(
            "cannot download npm package {nv}: {url} answered {status}"
        )));
    }
    response
        .into_body()
        .into_with_config()
        .limit(MAX_TARBALL_BYTES)
        .read_to_vec()
        .map_err(|e| NpmError::new(format!("cannot download npm package {nv} from {url}: {e}")))
}

/// Checks `tarball` against the registry's integrity string (or legacy sha1 shasum).
fn verify(
    tarball: &[u8],
    integrity: NpmPackageVersionDistInfoIntegrity<'_>,
    nv: &impl std::fmt::Display,
) -> Result<(), NpmError> {
    let base64 = base64::engine::general_purpose::STANDARD;
    let (expected, actual) = match integrity {
        NpmPackageVersionDistInfoIntegrity::Integrity {
            algorithm: "sha512",
            base64_hash,
        } => (
            base64_hash.to_owned(),
            base64.encode(sha2::Sha512::digest(tarball)),
        ),
        NpmPackageVersionDistInfoIntegrity::Integrity {
            algorithm: "sha1",
            base64_hash,
        } => (
            base64_hash.to_owned(),
            base64.encode(sha1::Sha1::digest(tarball)),
        ),
        NpmPackageVersionDistInfoIntegrity::LegacySha1Hex(hex) => (
            hex.to_lowercase(),
            sha1::Sha1::digest(tarball)
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect(),
        ),
        NpmPackageVersionDistInfoIntegrity::Integrity { algorithm, .. } => {
            return Err(NpmError::new(format!(
                "npm package {nv}: integrity algorithm {algorithm} is not supported"
            )));
        }
        NpmPackageVersionDistInfoIntegrity::UnknownIntegrity(_)
        | NpmPackageVersionDistInfoIntegrity::None => {
            return Err(NpmError::new(format!(
                "npm package {nv} has no integrity checksum in the registry; it was not installed"
            )));
        }
    };
    if expected != actual {
        return Err(NpmError::new(format!(
            "integrity check failed for npm package {nv}: the registry says {expected}, the downloaded tarball is {actual}; nothing was installed"
        )));
    }
    Ok(())
}

/// Unpacks a gzipped npm tarball into `dir`, dropping its top folder (`package/`). An entry
/// that would land outside `dir`, or a link, is refused.
fn unpack(tarball: &[u8], dir: &Path, nv: &impl std::fmt::Display) -> Result<(), NpmError> {
    let bad = |e: std::io::Error| {
        let _ = std::fs::remove_dir_all(dir);
        NpmError::new(format!("npm package {nv}: cannot unpack its tarball: {e}"))
    };
    std::fs::create_dir_all(dir).map_err(bad)?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tarball));
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_dir()) {
            continue;
        }
        let path = entry.path().map_err(bad)?.into_owned();
        let relative: PathBuf = path.components().skip(1).collect();
        let safe = relative
            .components()
            .all(|part| matches!(part, std::path::Component::Normal(_)));
        if relative.as_os_str().is_empty() || !safe {
            continue;
        }
        let target = dir.join(&relative);
        if kind.is_dir() {
            std::fs::create_dir_all(&target).map_err(bad)?;
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(bad)?;
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(bad)?;
        std::fs::write(&target, bytes).map_err(bad)?;
    }
    Ok(())
}
