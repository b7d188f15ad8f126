//! The master keys a process holds (one active, older ones to open with), and sealing, opening
//! and re-wrapping envelopes with them. It knows nothing of the store or of what a value is.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload, rand_core::RngCore};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use zeroize::Zeroizing;

use super::envelope::{Envelope, NONCE_LEN, WRAPPED_KEY_LEN};
use super::master_key::{KEY_LEN, KeyId, MasterKey};
use super::{Aad, CryptoError};

/// The active master key, which seals everything new, plus older keys that may still open
/// envelopes (during and after an interrupted rotation).
#[derive(Debug)]
pub struct Keyring {
    active: MasterKey,
    others: Vec<MasterKey>,
}

impl Keyring {
    /// A keyring with one key.
    pub fn new(active: MasterKey) -> Self {
        Keyring {
            active,
            others: Vec::new(),
        }
    }

    /// Adds a key that may open envelopes but seals nothing.
    pub fn with_extra(mut self, key: MasterKey) -> Self {
        if key.id() != self.active.id() && !self.others.iter().any(|k| k.id() == key.id()) {
            self.others.push(key);
        }
        self
    }

    /// The active key.
    pub fn active(&self) -> &MasterKey {
        &self.active
    }

    /// Whether some key of this keyring has `id`.
    pub fn knows(&self, id: &KeyId) -> bool {
        self.find(id).is_some()
    }

    /// Refuses a store whose values were sealed under keys this keyring does not hold:
    /// `stored` are the key ids found in it.
    pub fn check_opens(&self, stored: Vec<KeyId>) -> crate::Result<()> {
        let unknown: Vec<String> = stored
            .into_iter()
            .filter(|id| !self.knows(id))
            .map(|id| id.to_string())
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        Err(crate::Error::WrongMasterKey {
            stored: unknown.join(", "),
            configured: self.active().id().to_string(),
        })
    }

    /// Seals `plaintext` under a fresh data key, bound to `aad`, with the active key.
    pub fn seal(&self, plaintext: &[u8], aad: &Aad) -> Envelope {
        let mut data_key = Zeroizing::new([0u8; KEY_LEN]);
        OsRng.fill_bytes(data_key.as_mut());
        let value_nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = cipher(&data_key)
            .encrypt(
                &value_nonce,
                Payload {
                    msg: plaintext,
                    aad: aad.as_bytes(),
                },
            )
            .expect("AES-GCM encryption of a bounded value cannot fail");
        let (key_nonce, wrapped_key) = wrap(&self.active, &data_key, aad);
        Envelope {
            key_id: self.active.id().clone(),
            key_nonce,
            wrapped_key,
            value_nonce: value_nonce.into(),
            ciphertext,
        }
    }

    /// Opens an envelope sealed with `aad`, returning the plaintext.
    pub fn open(&self, envelope: &Envelope, aad: &Aad) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let data_key = self.unwrap_key(envelope, aad)?;
        cipher(&data_key)
            .decrypt(
                Nonce::from_slice(&envelope.value_nonce),
                Payload {
                    msg: &envelope.ciphertext,
                    aad: aad.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Authentication)
    }

    /// Re-wraps the envelope's data key under the active key, after checking that the whole
    /// envelope (data key and value) opens. The value ciphertext is left as it is.
    pub fn rewrap(&self, envelope: &Envelope, aad: &Aad) -> Result<Envelope, CryptoError> {
        self.open(envelope, aad)?;
        let data_key = self.unwrap_key(envelope, aad)?;
        let (key_nonce, wrapped_key) = wrap(&self.active, &data_key, aad);
        Ok(Envelope {
            key_id: self.active.id().clone(),
            key_nonce,
            wrapped_key,
            value_nonce: envelope.value_nonce,
            ciphertext: envelope.ciphertext.clone(),
        })
    }

    fn find(&self, id: &KeyId) -> Option<&MasterKey> {
        std::iter::once(&self.active)
            .chain(&self.others)
            .find(|key| key.id() == id)
    }

    fn unwrap_key(
        &self,
        envelope: &Envelope,
        aad: &Aad,
    ) -> Result<Zeroizing<[u8; KEY_LEN]>, CryptoError> {
        let master = self
            .find(&envelope.key_id)
            .ok_or_else(|| CryptoError::UnknownKey(envelope.key_id.clone()))?;
        let wrap_aad = wrap_aad(master.id(), aad);
        let bytes = Zeroizing::new(
            cipher(master.bytes())
                .decrypt(
                    Nonce::from_slice(&envelope.key_nonce),
                    Payload {
                        msg: &envelope.wrapped_key,
                        aad: wrap_aad.as_bytes(),
                    },
                )
                .map_err(|_| CryptoError::Authentication)?,
        );
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        if bytes.len() != KEY_LEN {
            return Err(CryptoError::Malformed("wrapped key has the wrong length"));
        }
        key.copy_from_slice(&bytes);
        Ok(key)
    }
}

/// Wraps a data key with a master key; the wrap is bound to the value's identity and to the
/// master key's id.
fn wrap(
    master: &MasterKey,
    data_key: &[u8; KEY_LEN],
    aad: &Aad,
) -> ([u8; NONCE_LEN], [u8; WRAPPED_KEY_LEN]) {
    let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
    let wrapped = cipher(master.bytes())
        .encrypt(
            &nonce,
            Payload {
                msg: data_key,
                aad: wrap_aad(master.id(), aad).as_bytes(),
            },
        )
        .expect("AES-GCM encryption of a key cannot fail");
    (
        nonce.into(),
        wrapped.try_into().expect("a wrapped key is 48 bytes"),
    )
}

fn wrap_aad(key_id: &KeyId, aad: &Aad) -> Aad {
    Aad::new("fluxbase data key wrap v1")
        .part(key_id.as_str().as_bytes())
        .part(aad.as_bytes())
}

fn cipher(key: &[u8; KEY_LEN]) -> Aes256Gcm {
    Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aad(version: &str) -> Aad {
        Aad::new("test").part(b"NAME").part(version.as_bytes())
    }

    #[test]
    fn seals_and_opens() {
        let ring = Keyring::new(MasterKey::generate());
        let envelope = ring.seal(b"value", &aad("1"));
        assert_eq!(
            ring.open(&envelope, &aad("1")).unwrap().as_slice(),
            b"value"
        );
    }

    #[test]
    fn refuses_other_identity_flipped_bytes_and_other_keys() {
        let ring = Keyring::new(MasterKey::generate());
        let envelope = ring.seal(b"value", &aad("1"));
        assert_eq!(
            ring.open(&envelope, &aad("2")),
            Err(CryptoError::Authentication)
        );

        for field in 0..3 {
            let mut bad = envelope.clone();
            match field {
                0 => bad.ciphertext[0] ^= 1,
                1 => bad.wrapped_key[5] ^= 1,
                _ => bad.value_nonce[0] ^= 1,
            }
            assert_eq!(ring.open(&bad, &aad("1")), Err(CryptoError::Authentication));
        }

        let other = Keyring::new(MasterKey::generate());
        assert!(matches!(
            other.open(&envelope, &aad("1")),
            Err(CryptoError::UnknownKey(_))
        ));
    }

    #[test]
    fn rewrap_moves_an_envelope_to_the_new_key() {
        let old_b64 = MasterKey::generate().to_base64();
        let old = || MasterKey::parse(old_b64.as_bytes(), "old").unwrap();
        let envelope = Keyring::new(old()).seal(b"value", &aad("1"));
        let new_b64 = MasterKey::generate().to_base64();
        let new = || MasterKey::parse(new_b64.as_bytes(), "new").unwrap();

        let rotating = Keyring::new(new()).with_extra(old());
        let moved = rotating.rewrap(&envelope, &aad("1")).unwrap();
        assert_eq!(&moved.key_id, new().id());
        assert_eq!(moved.ciphertext, envelope.ciphertext);

        let after = Keyring::new(new());
        assert_eq!(after.open(&moved, &aad("1")).unwrap().as_slice(), b"value");
        assert!(matches!(
            after.open(&envelope, &aad("1")),
            Err(CryptoError::UnknownKey(id)) if &id == old().id()
        ));
    }
}
