//! The master key and its public id (derived from the key, safe to store and print). Parsing
//! and generation only; `Debug` never shows the key, and nothing here reads a file or the store.

use aes_gcm::aead::{OsRng, rand_core::RngCore};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::{Error, Result};

/// Length of a master key in bytes (AES-256).
pub const KEY_LEN: usize = 32;

/// A public identifier of a master key: 16 hex digits of HMAC-SHA256(key, label). It tells keys
/// apart and reveals nothing about them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyId(String);

impl KeyId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Rebuilds an id read from the store or from an envelope.
    pub fn from_stored(id: String) -> Self {
        KeyId(id)
    }
}

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A 256-bit master key. Its bytes (and those of every clone) are zeroed on drop and never
/// printed.
#[derive(Clone)]
pub struct MasterKey {
    id: KeyId,
    bytes: Zeroizing<[u8; KEY_LEN]>,
}

impl MasterKey {
    /// A new random key from the operating system's generator.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        OsRng.fill_bytes(bytes.as_mut());
        Self::from_bytes(bytes)
    }

    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: Zeroizing<[u8; KEY_LEN]>) -> Self {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(bytes.as_ref())
            .expect("HMAC accepts any key length");
        mac.update(b"fluxbase master key id v1");
        let digest = mac.finalize().into_bytes();
        let id = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        MasterKey {
            id: KeyId(id),
            bytes,
        }
    }

    /// Reads a key given as 32 raw bytes, or as base64 of 32 bytes (surrounding whitespace is
    /// ignored). `origin` names where it came from, for the error message.
    pub fn parse(raw: &[u8], origin: &str) -> Result<Self> {
        if raw.len() == KEY_LEN {
            let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
            bytes.copy_from_slice(raw);
            return Ok(Self::from_bytes(bytes));
        }
        let text = std::str::from_utf8(raw).unwrap_or("").trim();
        let decoded = Zeroizing::new(BASE64.decode(text).unwrap_or_default());
        if decoded.len() != KEY_LEN {
            return Err(Error::MasterKey(format!(
                "{origin} must be 32 raw bytes or the base64 of 32 bytes (generate one with \
                 `openssl rand -base64 32`)"
            )));
        }
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        bytes.copy_from_slice(&decoded);
        Ok(Self::from_bytes(bytes))
    }

    /// The key's public id.
    pub fn id(&self) -> &KeyId {
        &self.id
    }

    /// The key as base64, for writing a key file.
    pub(crate) fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(BASE64.encode(self.bytes.as_ref()))
    }

    /// The raw key, for building a cipher.
    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.bytes
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_raw_and_base64_to_the_same_key() {
        let raw = [7u8; KEY_LEN];
        let a = MasterKey::parse(&raw, "key").unwrap();
        let b = MasterKey::parse(BASE64.encode(raw).as_bytes(), "key").unwrap();
        assert_eq!(a.id(), b.id());
        assert_eq!(a.id().as_str().len(), 16);
    }

    #[test]
    fn refuses_wrong_lengths_without_echoing_the_input() {
        let err = MasterKey::parse(b"c2hvcnQ=", "FLUXBASE_ENCRYPTION_KEY").unwrap_err();
        assert!(!err.to_string().contains("c2hvcnQ"));
        assert!(MasterKey::parse(&[1u8; 31], "k").is_err());
    }

    #[test]
    fn debug_shows_only_the_id() {
        let key = MasterKey::generate();
        let shown = format!("{key:?}");
        assert!(shown.contains(key.id().as_str()));
        assert!(!shown.contains(key.to_base64().as_str()));
    }
}
