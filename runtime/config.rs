//! Where the data lives, how to reach the store, and which master key to use: from
//! `FLUXBASE_ENCRYPTION_KEY` when set, else `<data dir>/master.key` (a fresh embedded store with
//! neither gets a new key file, announced once on stderr); and opening the store and the
//! services over it with that key. Of the store it reads only the stored key ids (to finish an
//! interrupted rotation or refuse a missing key): it decrypts nothing and decides no secret.

use std::path::{Path, PathBuf};

use crate::crypto::{KeyFile, Keyring, MasterKey};
use crate::key_rotation::KeyRotation;
use crate::secrets::SecretsService;
use crate::settings::SettingsService;
use crate::store::{Backend, Store, default_sqlite_url};
use crate::{Error, Result};

/// Environment variable holding the master key (32 raw bytes, or base64 of 32 bytes).
pub const ENCRYPTION_KEY_ENV: &str = "FLUXBASE_ENCRYPTION_KEY";
/// Environment variable holding the new master key for `secrets rotate-key`.
pub const NEW_ENCRYPTION_KEY_ENV: &str = "FLUXBASE_NEW_ENCRYPTION_KEY";
/// Environment variable holding how long a deleted secret is kept (a humantime duration such as
/// `30d`; default [`crate::secrets::DEFAULT_RETENTION`]).
pub const DELETED_RETENTION_ENV: &str = "FLUXBASE_DELETED_RETENTION";

/// Where the host keeps its data and which database it uses.
#[derive(Debug, Clone)]
pub struct Config {
    /// The data directory (`./.fluxbase` unless `FLUXBASE_DATA_DIR` or `--data-dir` says).
    pub data_dir: PathBuf,
    /// An explicit sqlx database URL; `None` means the embedded SQLite file in `data_dir`.
    pub database_url: Option<String>,
    /// A server whose admin API the `secrets` and `logs` commands use instead of the store.
    pub remote_url: Option<String>,
}

/// What to do when no master key is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPolicy {
    /// On a fresh embedded store, generate and keep a key file (commands that write secrets).
    CreateIfMissing,
    /// On a store without secrets, use a throw-away key: there is nothing to decrypt
    /// (commands that only read secrets).
    EphemeralIfEmpty,
}

/// Where the active master key came from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// A throw-away key for a store that holds no secrets.
    Ephemeral,
    /// The `FLUXBASE_ENCRYPTION_KEY` environment variable.
    Environment,
    /// A key file of the data directory.
    File(KeyFile),
}

impl Config {
    /// The database URL in use.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| default_sqlite_url(&self.data_dir))
    }

    /// The key file of the data directory.
    pub fn key_file(&self) -> KeyFile {
        KeyFile::new(self.data_dir.join("master.key"))
    }

    /// Opens (and migrates) the store, creating the data directory for the embedded default.
    pub async fn open_store(&self) -> Result<Store> {
        if self.database_url.is_none() {
            create_private_dir(&self.data_dir)?;
        }
        Store::open(&self.database_url()).await
    }

    /// Opens the store and the keyring, and returns the secrets service acting as `actor`.
    /// A fresh embedded store without a key gets a new key file.
    pub async fn open_secrets(&self, actor: &str) -> Result<(SecretsService, KeySource)> {
        let retention = self.deleted_retention()?;
        let store = self.open_store().await?;
        let (keyring, source) = self
            .load_keyring(&store, KeyPolicy::CreateIfMissing)
            .await?;
        let service = SecretsService::new(store, keyring, actor).await?;
        Ok((service.with_retention(retention), source))
    }

    /// How long a deleted secret is kept before it is destroyed: `FLUXBASE_DELETED_RETENTION`
    /// (a duration such as `30d`, `12h`, `0s`), else 30 days.
    pub fn deleted_retention(&self) -> Result<std::time::Duration> {
        match std::env::var(DELETED_RETENTION_ENV) {
            Err(_) => Ok(crate::secrets::DEFAULT_RETENTION),
            Ok(raw) => humantime::parse_duration(raw.trim()).map_err(|_| {
                Error::invalid(format!(
                    "invalid {DELETED_RETENTION_ENV} {raw:?}: use a duration such as 30d, 12h or 0s"
                ))
            }),
        }
    }

    /// Opens the store and its current master key for `secrets rotate-key`, acting as `actor`.
    /// A fresh embedded store without a key gets a new key file first, as for every command
    /// that writes.
    pub async fn open_key_rotation(&self, actor: &str) -> Result<(KeyRotation, KeySource)> {
        let store = self.open_store().await?;
        let (keyring, source) = self
            .load_keyring(&store, KeyPolicy::CreateIfMissing)
            .await?;
        keyring.check_opens(store.all_key_ids().await?)?;
        let current = keyring.active().clone();
        Ok((KeyRotation::new(store, current, actor), source))
    }

    /// Opens the secrets service for running handlers, which only read secrets: a store
    /// without secrets and without a key needs no key file.
    pub async fn open_secrets_for_reading(&self, actor: &str) -> Result<SecretsService> {
        let store = self.open_store().await?;
        let (keyring, _) = self
            .load_keyring(&store, KeyPolicy::EphemeralIfEmpty)
            .await?;
        SecretsService::new(store, keyring, actor).await
    }

    /// Opens the settings secrets service over `store` (already opened for this host). A fresh
    /// embedded store without a key gets a new key file when `policy` says so.
    pub async fn open_settings(&self, store: Store, policy: KeyPolicy) -> Result<SettingsService> {
        let (keyring, _) = self.load_keyring(&store, policy).await?;
        SettingsService::new(store, keyring).await
    }

    /// Finds the master key for `store`; see the module documentation for the order.
    pub async fn load_keyring(
        &self,
        store: &Store,
        policy: KeyPolicy,
    ) -> Result<(Keyring, KeySource)> {
        if let Some(raw) = std::env::var_os(ENCRYPTION_KEY_ENV) {
            let key = MasterKey::parse(raw.as_encoded_bytes(), ENCRYPTION_KEY_ENV)?;
            return Ok((Keyring::new(key), KeySource::Environment));
        }
        let file = self.key_file();
        if file.exists() {
            let key = self.finish_interrupted_rotation(&file, store).await?;
            return Ok((Keyring::new(key), KeySource::File(file)));
        }
        let empty = store.all_key_ids().await?.is_empty();
        if store.backend() != Backend::Sqlite && !(empty && policy == KeyPolicy::EphemeralIfEmpty) {
            return Err(Error::MasterKey(format!(
                "set {ENCRYPTION_KEY_ENV}: a shared database needs the same master key on every \
                 host (generate one with `openssl rand -base64 32`)"
            )));
        }
        if !empty {
            return Err(Error::MasterKey(format!(
                "no master key: this store holds encrypted secrets, but {ENCRYPTION_KEY_ENV} is \
                 not set and {} does not exist",
                file.path().display()
            )));
        }
        if policy == KeyPolicy::EphemeralIfEmpty {
            return Ok((Keyring::new(MasterKey::generate()), KeySource::Ephemeral));
        }
        create_private_dir(&self.data_dir)?;
        let key = MasterKey::generate();
        file.create(&key)?;
        eprintln!(
            "fluxbase: generated a new master key in {} (key id {}). Back it up: the secrets \
             stored under it cannot be read without it.",
            file.path().display(),
            key.id()
        );
        Ok((Keyring::new(key), KeySource::File(file)))
    }

    /// Loads the key file; if a rotation committed but did not get to replace the file, puts
    /// the new key in place first, and drops the leftover of a rotation that did not commit.
    async fn finish_interrupted_rotation(
        &self,
        file: &KeyFile,
        store: &Store,
    ) -> Result<MasterKey> {
        let next = file.next();
        if next.exists() {
            // A rotation writes the whole next key before it changes the store: one that cannot
            // be read never committed, and is dropped like any other uncommitted leftover.
            let next_key = match next.load() {
                Ok(key) => key,
                Err(error) => {
                    next.remove()?;
                    eprintln!(
                        "fluxbase: removed {}, left unreadable by a key rotation that did not \
                         finish ({error}); the store still uses the key in {}",
                        next.path().display(),
                        file.path().display()
                    );
                    return file.load();
                }
            };
            let stored = store.all_key_ids().await?;
            if !stored.is_empty() && stored.iter().all(|id| id == next_key.id()) {
                file.replace_with(&next)?;
                eprintln!(
                    "fluxbase: finished an interrupted key rotation: {} now holds key id {}",
                    file.path().display(),
                    next_key.id()
                );
            } else {
                next.remove()?;
            }
        }
        file.load()
    }
}

/// Creates `dir` (and its parents) readable by its owner only, if it does not exist.
fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| Error::io(format!("cannot create data directory {}", dir.display()), e))
}
