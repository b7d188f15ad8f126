//! [`SettingsService`]: set, read, list and delete settings secrets, and resolve them for an
//! invocation. Every change is one transaction with its audit row. It returns metadata, never a
//! value, except to the invoker through `resolve`; it writes no SQL and formats no output.

use std::sync::Arc;

use crate::bounded_cache::BoundedCache;
use crate::crypto::{CryptoError, Envelope, Keyring, MasterKey, user_key};
use crate::secrets::SecretValue;
use crate::settings::{
    ResolvedSettings, SettingMetadata, SettingRef, SettingScope, UserId, crypto::identity,
};
use crate::store::{SettingRecord, SettingWrite, Store};
use crate::time::Timestamp;
use crate::{Error, Result};

/// A request to write a settings secret: it is created, or its value replaced.
#[derive(Debug)]
pub struct SetSetting {
    /// The settings secret to write.
    pub setting: SettingRef,
    /// The new value.
    pub value: SecretValue,
    /// A new description; `None` keeps the current one.
    pub description: Option<String>,
}

/// What a `set` did.
#[derive(Debug, Clone)]
pub struct SetOutcome {
    /// The metadata as it now is.
    pub metadata: SettingMetadata,
    /// Whether the settings secret was created (else its value was replaced).
    pub created: bool,
}

/// The life cycle of settings secrets, over a store and the master key.
#[derive(Debug)]
pub struct SettingsService {
    store: Store,
    keyring: Keyring,
    resolved: BoundedCache<Option<UserId>, CachedSettings>,
}

/// Decrypted settings of one caller and the store generation they were read at.
type CachedSettings = (i64, Arc<ResolvedSettings>);

impl SettingsService {
    /// Closes the store's connections (at the end of a command).
    pub async fn close(&self) {
        self.store.close().await;
    }

    /// A service over `store`. Refuses a keyring that cannot open what the store holds.
    pub async fn new(store: Store, keyring: Keyring) -> Result<Self> {
        keyring.check_opens(store.settings_key_ids().await?)?;
        Ok(SettingsService {
            store,
            keyring,
            resolved: BoundedCache::default(),
        })
    }

    /// Creates a settings secret or replaces its value, recording `actor` in the audit log.
    pub async fn set(&self, request: &SetSetting, actor: &str) -> Result<SetOutcome> {
        crate::secrets::check_description(request.description.as_deref())?;
        let setting = &request.setting;
        let envelope = self
            .keyring_for(&setting.scope)
            .seal(request.value.expose().as_bytes(), &identity(setting))
            .encode();
        let now = Timestamp::now();
        let mut tx = self.store.begin_write().await?;
        let created = tx.find_setting(setting).await?.is_none();
        let write = SettingWrite {
            setting,
            description: request.description.as_deref(),
            key_id: self.keyring.active().id(),
            envelope: &envelope,
            actor,
        };
        let record = tx.upsert_setting(write, now).await?;
        let done = if created {
            "created"
        } else {
            "replaced the value"
        };
        let detail = format!("{done} in {}", describe(&setting.scope));
        tx.record_setting_change(actor, "settings-set", Some(setting), detail, now)
            .await?;
        tx.commit().await?;
        Ok(SetOutcome {
            metadata: SettingMetadata::from_record(record),
            created,
        })
    }

    /// The metadata of one settings secret.
    pub async fn get(&self, setting: &SettingRef) -> Result<SettingMetadata> {
        Ok(SettingMetadata::from_record(self.find(setting).await?))
    }

    /// The metadata of every settings secret of `scope` (the system's, or one user's).
    pub async fn list(&self, scope: &SettingScope) -> Result<Vec<SettingMetadata>> {
        Ok(self
            .store
            .list_settings(scope)
            .await?
            .into_iter()
            .map(SettingMetadata::from_record)
            .collect())
    }

    /// Deletes a settings secret, recording `actor` in the audit log.
    pub async fn delete(&self, setting: &SettingRef, actor: &str) -> Result<()> {
        let now = Timestamp::now();
        let mut tx = self.store.begin_write().await?;
        if !tx.delete_setting(setting).await? {
            return Err(Error::SettingNotFound(setting.clone()));
        }
        let detail = format!("deleted from {}", describe(&setting.scope));
        tx.record_setting_change(actor, "settings-delete", Some(setting), detail, now)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Like [`SettingsService::resolve`], cached: the decrypted set of `user` (or of no user)
    /// is reused while the store generation, read by the caller before this call, is the one it
    /// was read at. Every settings change bumps the generation.
    pub async fn resolve_at(
        &self,
        user: Option<&UserId>,
        generation: i64,
    ) -> Result<Arc<ResolvedSettings>> {
        let key = user.cloned();
        if let Some((_, resolved)) = self.resolved.get_if(&key, |(at, _)| *at == generation) {
            return Ok(resolved);
        }
        let resolved = Arc::new(self.resolve(user).await?);
        self.resolved
            .insert_unless(key, (generation, resolved.clone()), |(at, _)| {
                *at > generation
            });
        Ok(resolved)
    }

    /// Decrypts the system settings secrets and, with `user`, that user's: what one invocation
    /// sees. Always reads the store.
    pub async fn resolve(&self, user: Option<&UserId>) -> Result<ResolvedSettings> {
        let mut resolved = ResolvedSettings::default();
        for record in self.store.settings_for(user).await? {
            let value = self.open(&record)?;
            let key = record.setting.key.clone();
            match record.setting.scope {
                SettingScope::System => resolved.system.insert(key, value),
                SettingScope::User(_) => resolved.user.insert(key, value),
            };
        }
        Ok(resolved)
    }

    async fn find(&self, setting: &SettingRef) -> Result<SettingRecord> {
        self.store
            .find_setting(setting)
            .await?
            .ok_or_else(|| Error::SettingNotFound(setting.clone()))
    }

    /// The keyring that seals and opens the settings secrets of `scope`.
    fn keyring_for(&self, scope: &SettingScope) -> Keyring {
        keyring_for(self.keyring.active(), scope)
    }

    fn open(&self, record: &SettingRecord) -> Result<SecretValue> {
        let configured = self.keyring.active().id();
        let tampered = || Error::SettingTampered(record.setting.clone());
        if &record.key_id != configured {
            return Err(Error::WrongMasterKey {
                stored: record.key_id.to_string(),
                configured: configured.to_string(),
            });
        }
        let envelope = Envelope::decode(&record.envelope).map_err(|_| tampered())?;
        let plaintext = self
            .keyring_for(&record.setting.scope)
            .open(&envelope, &identity(&record.setting))
            .map_err(|error| match error {
                CryptoError::UnknownKey(_)
                | CryptoError::Malformed(_)
                | CryptoError::Authentication => tampered(),
            })?;
        SecretValue::from_plaintext(plaintext).ok_or_else(tampered)
    }
}

/// The keyring of `scope` under `master`: the master key itself for the system, the user's
/// derived key for a user.
pub(super) fn keyring_for(master: &MasterKey, scope: &SettingScope) -> Keyring {
    match scope {
        SettingScope::System => Keyring::new(master.clone()),
        SettingScope::User(user) => Keyring::new(user_key(master, user.as_str())),
    }
}

/// The scope for an audit detail: `the system settings` or `the settings of user alice`.
fn describe(scope: &SettingScope) -> String {
    match scope {
        SettingScope::System => "the system settings".into(),
        SettingScope::User(user) => format!("the settings of user {user}"),
    }
}
