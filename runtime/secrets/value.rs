//! A secret's plaintext value. It lives in a [`SecretString`], which zeroes its memory on drop
//! and prints as `[REDACTED]` in `Debug` output, so it cannot reach a log line by accident.
//! It checks size and encoding only; it is never stored or encrypted here.

use secrecy::{ExposeSecret, SecretString};

use crate::{Error, Result};

/// Largest accepted value, in bytes of UTF-8.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

/// A validated plaintext value: non-empty UTF-8, at most 64 KiB.
pub struct SecretValue(SecretString);

impl SecretValue {
    /// Validates and takes ownership of `value`.
    pub fn new(value: String) -> Result<Self> {
        let value = SecretString::from(value);
        let len = value.expose_secret().len();
        if len == 0 {
            return Err(Error::invalid("secret value is empty"));
        }
        if len > MAX_VALUE_BYTES {
            return Err(Error::invalid(format!(
                "secret value is {len} bytes; the limit is {MAX_VALUE_BYTES} bytes (64 KiB)"
            )));
        }
        Ok(SecretValue(value))
    }

    /// Takes decrypted bytes, which must be UTF-8.
    pub(crate) fn from_plaintext(bytes: zeroize::Zeroizing<Vec<u8>>) -> Option<Self> {
        let text = std::str::from_utf8(&bytes).ok()?;
        Some(SecretValue(SecretString::from(text.to_owned())))
    }

    /// The plaintext, for encryption and for injection into an isolate. Keep the borrow short.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretValue([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_size_and_hides_from_debug() {
        assert!(SecretValue::new(String::new()).is_err());
        assert!(SecretValue::new("x".repeat(MAX_VALUE_BYTES)).is_ok());
        assert!(SecretValue::new("x".repeat(MAX_VALUE_BYTES + 1)).is_err());
        let value = SecretValue::new("hunter2".into()).unwrap();
        assert!(!format!("{value:?}").contains("hunter2"));
        assert_eq!(value.expose(), "hunter2");
    }
}
