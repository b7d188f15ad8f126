//! Value digests: a short keyed fingerprint of a secret's value, so that two places can be
//! compared ("do staging and production hold the same STRIPE_KEY?") without showing either value.
//!
//! A bare SHA-256 of a value would let anyone who sees it test guesses offline, which is fast for
//! the short or patterned values secrets often are. The digest is instead an HMAC-SHA256 under a
//! key derived from the master key (HKDF-SHA256, its own `info` label), so without the master key
//! a digest says nothing about the value. It is computed from the decrypted value when shown and
//! never stored. The same key digests every secret, so equal values show equal digests whatever
//! their name, scope or namespace; a new master key (`rotate-key`) changes every digest.

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::master_key::{KEY_LEN, MasterKey};

/// The HKDF `info` of the digest key. A new derivation gets a new label (`v2`), never an edit.
pub const DIGEST_KEY_INFO: &[u8] = b"fluxbase secret value digest v1";

/// How many hex digits of the HMAC a digest shows (48 bits: enough to tell values apart at a
/// glance, too few to stand in for the value anywhere).
pub const DIGEST_HEX_LEN: usize = 12;

/// The key that digests values, derived from one master key. Zeroed on drop, never printed.
pub struct DigestKey(Zeroizing<[u8; KEY_LEN]>);

impl std::fmt::Debug for DigestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DigestKey([REDACTED])")
    }
}

impl DigestKey {
    /// HKDF-SHA256(input key = master key, no salt, info = [`DIGEST_KEY_INFO`]).
    pub fn derive(master: &MasterKey) -> Self {
        let hkdf = Hkdf::<Sha256>::new(None, master.bytes());
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        hkdf.expand(DIGEST_KEY_INFO, bytes.as_mut())
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        DigestKey(bytes)
    }

    /// The first [`DIGEST_HEX_LEN`] lower-case hex digits of HMAC-SHA256(key, value).
    pub fn digest(&self, value: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.0.as_ref())
            .expect("HMAC accepts a key of any length");
        mac.update(value);
        let tag = mac.finalize().into_bytes();
        let mut hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        hex.truncate(DIGEST_HEX_LEN);
        hex
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master(byte: u8) -> MasterKey {
        MasterKey::from_bytes(Zeroizing::new([byte; KEY_LEN]))
    }

    #[test]
    fn equal_values_give_equal_digests_under_one_key_only() {
        let key = DigestKey::derive(&master(1));
        let digest = key.digest(b"hunter2");
        assert_eq!(digest.len(), DIGEST_HEX_LEN);
        assert_eq!(digest, DigestKey::derive(&master(1)).digest(b"hunter2"));
        assert_ne!(digest, key.digest(b"hunter3"));
        assert_ne!(digest, DigestKey::derive(&master(2)).digest(b"hunter2"));
    }

    #[test]
    fn a_digest_is_not_a_bare_hash_of_the_value() {
        use sha2::Digest;
        let bare: String = Sha256::digest(b"hunter2")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let digest = DigestKey::derive(&master(1)).digest(b"hunter2");
        assert!(!bare.starts_with(&digest));
    }
}
