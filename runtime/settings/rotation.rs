//! Moving settings secrets to a new master key, inside the one transaction of
//! [`crate::key_rotation`] (which opens and commits it). Data keys are re-wrapped, values never
//! opened; it runs no SQL of its own, only the store's queries on the transaction it is given.

use crate::crypto::{CryptoError, Envelope, MasterKey};
use crate::settings::crypto::identity;
use crate::settings::service::keyring_for;
use crate::store::WriteTx;
use crate::time::Timestamp;
use crate::{Error, Result};

/// Re-wraps the data key of every settings secret from `old` to `new` (user secrets: from the
/// user's key under `old` to the user's key under `new`), after checking that each opens, and
/// records one audit row. Values and their ciphertexts are unchanged. Returns how many were
/// re-wrapped; the caller commits.
pub async fn rewrap_settings(
    tx: &mut WriteTx,
    old: &MasterKey,
    new: &MasterKey,
    actor: &str,
) -> Result<usize> {
    let settings = tx.lock_all_settings().await?;
    for record in &settings {
        let scope = &record.setting.scope;
        let tampered = || Error::SettingTampered(record.setting.clone());
        let rotating = keyring_for(new, scope).with_extra(keyring_for(old, scope).active().clone());
        let envelope = Envelope::decode(&record.envelope).map_err(|_| tampered())?;
        let moved = rotating
            .rewrap(&envelope, &identity(&record.setting))
            .map_err(|error| match error {
                CryptoError::UnknownKey(_) if &record.key_id != old.id() => Error::WrongMasterKey {
                    stored: record.key_id.to_string(),
                    configured: old.id().to_string(),
                },
                _ => tampered(),
            })?;
        tx.replace_setting_envelope(record.id, new.id(), &moved.encode())
            .await?;
    }
    if !settings.is_empty() {
        let detail = format!(
            "re-wrapped {} settings secret data keys from key {} to key {}",
            settings.len(),
            old.id(),
            new.id()
        );
        tx.record_setting_change(actor, "rotate-key", None, detail, Timestamp::now())
            .await?;
    }
    Ok(settings.len())
}
