//! Associated data: the identity a ciphertext is bound to, as unambiguous length-prefixed parts.
//! It names no table or row itself: callers (secrets, settings) say what the identity is.

/// Associated data for an AEAD seal, built from length-prefixed parts so that no two different
/// identities encode to the same bytes (`("ab", "c")` differs from `("a", "bc")`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aad(Vec<u8>);

impl Aad {
    /// Starts associated data with a label that names its purpose and format version.
    pub fn new(label: &str) -> Self {
        Aad(Vec::with_capacity(64)).part(label.as_bytes())
    }

    /// Appends one part.
    pub fn part(mut self, bytes: &[u8]) -> Self {
        let len = u32::try_from(bytes.len()).expect("associated data part over 4 GiB");
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(bytes);
        self
    }

    /// The encoded bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::Aad;

    #[test]
    fn parts_are_unambiguous() {
        let a = Aad::new("t").part(b"ab").part(b"c");
        let b = Aad::new("t").part(b"a").part(b"bc");
        assert_ne!(a, b);
    }
}
