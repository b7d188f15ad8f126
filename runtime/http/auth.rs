//! The service key that guards the admin API (`FLUXBASE_SERVICE_KEY`, else `service.key` in the
//! data dir, generated mode 0600), and the middleware that checks it in constant time.
//! It never logs or echoes a key, and knows nothing of secrets, settings or the store.

use std::path::Path;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use super::api_error::ApiError;
use crate::{Error, Result};

/// Environment variable holding the service key.
pub const SERVICE_KEY_ENV: &str = "FLUXBASE_SERVICE_KEY";

/// The bearer token of the admin API. Never printed.
#[derive(Clone)]
pub struct ServiceKey(std::sync::Arc<SecretString>);

impl std::fmt::Debug for ServiceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServiceKey([REDACTED])")
    }
}

/// Shortest accepted service key, from the environment or the key file.
const MIN_SERVICE_KEY_LEN: usize = 16;

impl ServiceKey {
    /// The key from `FLUXBASE_SERVICE_KEY`, else from `<data dir>/service.key`, which is
    /// generated (mode 0600) on first start; returns where a new key was written.
    pub fn load_or_create(data_dir: &Path) -> Result<(Self, Option<std::path::PathBuf>)> {
        if let Ok(key) = std::env::var(SERVICE_KEY_ENV) {
            let key = key.trim().to_owned();
            if key.len() < MIN_SERVICE_KEY_LEN {
                return Err(Error::invalid(format!(
                    "{SERVICE_KEY_ENV} must be at least {MIN_SERVICE_KEY_LEN} characters"
                )));
            }
            return Ok((Self::new(key), None));
        }
        let path = data_dir.join("service.key");
        if path.exists() {
            let key = std::fs::read_to_string(&path)
                .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
            let key = key.trim();
            if key.len() < MIN_SERVICE_KEY_LEN {
                let what = if key.is_empty() {
                    "is empty".to_owned()
                } else {
                    format!("holds a key shorter than {MIN_SERVICE_KEY_LEN} characters")
                };
                return Err(Error::invalid(format!(
                    "{} {what}: write a longer key into it, or delete it to have a new one \
                     generated on the next start",
                    path.display()
                )));
            }
            return Ok((Self::new(key.to_owned()), None));
        }
        let key = crate::crypto::random_token();
        write_private(&path, &key)?;
        Ok((Self::new(key), Some(path)))
    }

    fn new(key: String) -> Self {
        ServiceKey(std::sync::Arc::new(SecretString::from(key)))
    }

    /// Whether `candidate` is the key, compared in constant time.
    ///
    /// Both sides are hashed with SHA-256 first and the two digests compared with
    /// `subtle::ConstantTimeEq`: the comparison always looks at 32 bytes, whatever the lengths
    /// and contents, so neither where the first difference is nor the key's length shows in its
    /// timing. (Hashing the candidate takes time that depends on the candidate's length only,
    /// which its sender knows anyway.)
    pub fn matches(&self, candidate: &str) -> bool {
        use sha2::{Digest, Sha256};
        let key = Sha256::digest(self.0.expose_secret().as_bytes());
        let candidate = Sha256::digest(candidate.as_bytes());
        bool::from(key.as_slice().ct_eq(candidate.as_slice()))
    }
}

fn write_private(path: &Path, content: &str) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let context = || format!("cannot write {}", path.display());
    let mut file = options.open(path).map_err(|e| Error::io(context(), e))?;
    file.write_all(format!("{content}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io(context(), e))
}

/// Middleware: 401 unless the request carries `Authorization: Bearer <service key>`.
pub async fn require_service_key(
    State(key): State<ServiceKey>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let refusal = match presented {
        Some(token) if key.matches(token.trim()) => return Ok(next.run(request).await),
        Some(_) => ApiError::new(StatusCode::UNAUTHORIZED, "invalid service key"),
        None => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing service key: send Authorization: Bearer <service key>",
        ),
    };
    Err(refuse(request, refusal).await)
}

/// Largest request body read (and dropped) before a refusal is sent.
const DRAIN_LIMIT: usize = 64 * 1024;

/// Reads and drops a small request body before a refusal goes out. Answering without reading
/// it makes the server close the connection on unread bytes, which resets it under a
/// keep-alive client that sent a body and then reads the answer (it sees "connection reset"
/// instead of the 401).
pub(super) async fn refuse(request: Request, refusal: ApiError) -> ApiError {
    let _ = axum::body::to_bytes(request.into_body(), DRAIN_LIMIT).await;
    refusal
}

#[cfg(test)]
mod tests {
    use super::ServiceKey;

    #[test]
    fn only_the_exact_key_matches() {
        let key = ServiceKey::new("test-service-key-0123456789".to_owned());
        assert!(key.matches("test-service-key-0123456789"));
        for wrong in [
            "",
            "test-service-key-012345678",   // a prefix
            "test-service-key-01234567890", // one byte longer
            "test-service-key-012345678x",  // same length, last byte differs
            "xest-service-key-0123456789",  // same length, first byte differs
            "TEST-SERVICE-KEY-0123456789",  // case matters
            "test-service-key-0123456789\0",
        ] {
            assert!(!key.matches(wrong), "{wrong:?} matched");
        }
    }

    #[test]
    fn the_debug_output_hides_the_key() {
        let key = ServiceKey::new("test-service-key-0123456789".to_owned());
        assert!(!format!("{key:?}").contains("0123456789"));
    }
}
