//! Moving function secrets to a new master key, inside the one transaction of
//! [`crate::key_rotation`]. It re-wraps data keys only: values and ciphertexts stay as they are,
//! and it neither commits nor writes the audit row (the rotation does both, once).

use super::service::{decode, identity, open_error};
use crate::Result;
use crate::crypto::{Keyring, MasterKey};
use crate::store::WriteTx;

/// Re-wraps the data key of every version of every function secret from `old` to `new`, after
/// checking that each opens under `old`. Returns how many were re-wrapped; the caller commits.
pub async fn rewrap_secrets(tx: &mut WriteTx, old: &MasterKey, new: &MasterKey) -> Result<usize> {
    let versions = tx.lock_all_versions().await?;
    let rotating = Keyring::new(new.clone()).with_extra(old.clone());
    for stored in &versions {
        let moved = rotating
            .rewrap(&decode(stored)?, &identity(&stored.secret, stored.version))
            .map_err(|error| open_error(stored, error, old))?;
        tx.replace_envelope(
            stored.secret_id,
            stored.version,
            &moved.key_id,
            &moved.encode(),
        )
        .await?;
    }
    Ok(versions.len())
}
