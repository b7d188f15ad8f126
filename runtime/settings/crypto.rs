//! The associated data of settings secrets: each ciphertext is bound to its scope, its user and
//! its key, so a ciphertext copied to another row (another user's, or the system's) fails to
//! open even before the user keys differ. It builds bytes only: no sealing, no store.

use crate::crypto::Aad;
use crate::settings::SettingRef;

/// The associated data that binds a ciphertext to one settings secret.
pub(super) fn identity(setting: &SettingRef) -> Aad {
    Aad::new("fluxbase settings secret v1")
        .part(setting.scope.kind().as_bytes())
        .part(setting.scope.stored_user().as_bytes())
        .part(setting.key.as_str().as_bytes())
}
