//! Encryption at rest: AES-256-GCM envelopes under a master key. Every value gets a fresh data
//! key, wrapped by the master key (or, for a user's settings secrets, by a key derived for that
//! user); both seals carry associated data naming their row, and each envelope names its key id.
//! Crypto knows nothing of the store, the services or output: it turns bytes into bytes.

mod aad;
mod envelope;
mod key_file;
mod keyring;
mod master_key;
mod user_key;
mod value_digest;

pub use aad::Aad;
pub use envelope::Envelope;
pub use key_file::KeyFile;
pub use keyring::Keyring;
pub use master_key::{KeyId, MasterKey};
pub use user_key::{USER_KEY_INFO, user_key};
pub use value_digest::{DIGEST_HEX_LEN, DIGEST_KEY_INFO, DigestKey};

/// A random 256-bit token as URL-safe base64 (for generated service keys).
pub fn random_token() -> String {
    use aes_gcm::aead::{OsRng, rand_core::RngCore};
    use base64::Engine;
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(bytes.as_mut());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes.as_ref())
}

/// Why an envelope could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The envelope was wrapped by a master key that is not in the keyring.
    #[error("envelope is wrapped by master key {0}, which is not configured")]
    UnknownKey(KeyId),
    /// The bytes are not an envelope this version understands.
    #[error("envelope is malformed: {0}")]
    Malformed(&'static str),
    /// Authentication failed: altered bytes, or associated data of another secret.
    #[error("envelope failed authentication")]
    Authentication,
}
