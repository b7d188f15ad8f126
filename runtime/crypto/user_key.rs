//! Per-user keys for settings secrets: HKDF-SHA256 of the master key, salted with the user id,
//! so one user's key opens no other user's secrets. Derived on use and never stored; rotating
//! the master key changes every user key with it. It knows nothing of the store.

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::master_key::{KEY_LEN, MasterKey};

/// The HKDF `info` of user keys: names their purpose and format version. Changing it changes
/// every user key, so a new derivation gets a new label (`v2`), never an edited one.
pub const USER_KEY_INFO: &[u8] = b"fluxbase settings user key v1";

/// The key that wraps the data keys of `user_id`'s settings secrets:
/// HKDF-SHA256(input key = master key, salt = user id, info = [`USER_KEY_INFO`]).
///
/// It is returned as a [`MasterKey`] (the type of any key that wraps data keys): its bytes are
/// zeroed on drop and never printed, and its id (an HMAC of the derived bytes) differs per user.
pub fn user_key(master: &MasterKey, user_id: &str) -> MasterKey {
    let hkdf = Hkdf::<Sha256>::new(Some(user_id.as_bytes()), master.bytes());
    let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
    hkdf.expand(USER_KEY_INFO, bytes.as_mut())
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    MasterKey::from_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Aad, CryptoError, Keyring};

    fn master(byte: u8) -> MasterKey {
        MasterKey::from_bytes(Zeroizing::new([byte; KEY_LEN]))
    }

    fn aad(user: &str) -> Aad {
        Aad::new("test settings")
            .part(b"user")
            .part(user.as_bytes())
    }

    #[test]
    fn derivation_is_stable_and_separates_users_and_master_keys() {
        let m = master(1);
        assert_eq!(user_key(&m, "alice").id(), user_key(&m, "alice").id());
        assert_ne!(user_key(&m, "alice").id(), user_key(&m, "bob").id());
        assert_ne!(user_key(&m, "alice").id(), m.id());
        assert_ne!(
            user_key(&m, "alice").id(),
            user_key(&master(2), "alice").id()
        );
        // The salt is the whole id: no prefix or case folding.
        assert_ne!(user_key(&m, "alice").id(), user_key(&m, "Alice").id());
        assert_ne!(user_key(&m, "a").id(), user_key(&m, "aa").id());
    }

    #[test]
    fn user_b_key_cannot_open_user_a_ciphertext() {
        let m = master(7);
        let alice = Keyring::new(user_key(&m, "alice"));
        let bob = Keyring::new(user_key(&m, "bob"));
        let envelope = alice.seal(b"alice's api key", &aad("alice"));
        assert_eq!(
            alice.open(&envelope, &aad("alice")).unwrap().as_slice(),
            b"alice's api key"
        );

        // Bob's keyring does not even hold the key the envelope names...
        assert!(matches!(
            bob.open(&envelope, &aad("alice")),
            Err(CryptoError::UnknownKey(_))
        ));
        // ...and relabelling the envelope with Bob's key id does not help: the wrap fails.
        let mut relabelled = envelope.clone();
        relabelled.key_id = bob.active().id().clone();
        assert_eq!(
            bob.open(&relabelled, &aad("alice")),
            Err(CryptoError::Authentication)
        );
        assert_eq!(
            bob.open(&relabelled, &aad("bob")),
            Err(CryptoError::Authentication)
        );
        // The master key itself does not open a user's envelope either.
        let mut as_master = envelope.clone();
        as_master.key_id = m.id().clone();
        assert_eq!(
            Keyring::new(m).open(&as_master, &aad("alice")),
            Err(CryptoError::Authentication)
        );
        // And Alice's own key refuses her ciphertext under another identity.
        assert_eq!(
            alice.open(&envelope, &aad("bob")),
            Err(CryptoError::Authentication)
        );
    }
}
