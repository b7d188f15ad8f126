//! The stored form of one encrypted value and its binary encoding: format (1), key id length
//! (1), key id, key nonce (12), wrapped data key (48), value nonce (12), value ciphertext with
//! tag (>= 16). Encoding only: it holds no key, seals nothing and knows nothing of the store.

use super::CryptoError;
use super::master_key::KeyId;

/// Version byte of the current encoding.
const FORMAT_V1: u8 = 1;
/// AES-GCM nonce length: 96 bits.
pub(crate) const NONCE_LEN: usize = 12;
/// AES-GCM tag length.
pub(crate) const TAG_LEN: usize = 16;
/// A wrapped 256-bit data key: the key and its tag.
pub(crate) const WRAPPED_KEY_LEN: usize = 32 + TAG_LEN;
/// Longest key id an envelope can name.
const MAX_KEY_ID_LEN: usize = 64;

/// One encrypted value: its data key wrapped by a master key, and the value sealed by the data
/// key.
#[derive(Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Id of the master key that wrapped the data key.
    pub key_id: KeyId,
    /// Nonce of the data-key wrap.
    pub key_nonce: [u8; NONCE_LEN],
    /// The data key sealed by the master key.
    pub wrapped_key: [u8; WRAPPED_KEY_LEN],
    /// Nonce of the value seal.
    pub value_nonce: [u8; NONCE_LEN],
    /// The value sealed by the data key, tag included.
    pub ciphertext: Vec<u8>,
}

impl Envelope {
    /// Encodes the envelope for storage.
    pub fn encode(&self) -> Vec<u8> {
        let id = self.key_id.as_str().as_bytes();
        let mut out = Vec::with_capacity(
            2 + id.len() + 2 * NONCE_LEN + WRAPPED_KEY_LEN + self.ciphertext.len(),
        );
        out.push(FORMAT_V1);
        out.push(u8::try_from(id.len()).expect("key ids are short"));
        out.extend_from_slice(id);
        out.extend_from_slice(&self.key_nonce);
        out.extend_from_slice(&self.wrapped_key);
        out.extend_from_slice(&self.value_nonce);
        out.extend_from_slice(&self.ciphertext);
        out
    }

    /// Decodes stored bytes, checking every length; never panics on any input.
    pub fn decode(bytes: &[u8]) -> Result<Self, CryptoError> {
        let mut rest = bytes;
        let mut take = |n: usize| -> Result<&[u8], CryptoError> {
            if rest.len() < n {
                return Err(CryptoError::Malformed("truncated"));
            }
            let (head, tail) = rest.split_at(n);
            rest = tail;
            Ok(head)
        };
        if take(1)?[0] != FORMAT_V1 {
            return Err(CryptoError::Malformed("unknown format version"));
        }
        let id_len = usize::from(take(1)?[0]);
        if id_len == 0 || id_len > MAX_KEY_ID_LEN {
            return Err(CryptoError::Malformed("bad key id length"));
        }
        let key_id = std::str::from_utf8(take(id_len)?)
            .map_err(|_| CryptoError::Malformed("key id is not text"))?
            .to_owned();
        let key_nonce = take(NONCE_LEN)?.try_into().expect("length checked");
        let wrapped_key = take(WRAPPED_KEY_LEN)?.try_into().expect("length checked");
        let value_nonce = take(NONCE_LEN)?.try_into().expect("length checked");
        if rest.len() < TAG_LEN {
            return Err(CryptoError::Malformed("ciphertext shorter than its tag"));
        }
        Ok(Envelope {
            key_id: KeyId::from_stored(key_id),
            key_nonce,
            wrapped_key,
            value_nonce,
            ciphertext: rest.to_vec(),
        })
    }
}

impl std::fmt::Debug for Envelope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Envelope")
            .field("key_id", &self.key_id)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Envelope {
        Envelope {
            key_id: KeyId::from_stored("0011223344556677".into()),
            key_nonce: [1; NONCE_LEN],
            wrapped_key: [2; WRAPPED_KEY_LEN],
            value_nonce: [3; NONCE_LEN],
            ciphertext: vec![4; 20],
        }
    }

    #[test]
    fn round_trips() {
        let envelope = sample();
        assert_eq!(Envelope::decode(&envelope.encode()).unwrap(), envelope);
    }

    #[test]
    fn every_truncation_is_refused() {
        let bytes = sample().encode();
        for len in 0..bytes.len() - 4 {
            assert!(Envelope::decode(&bytes[..len]).is_err(), "length {len}");
        }
    }
}
