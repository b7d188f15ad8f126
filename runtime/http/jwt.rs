//! User tokens: HS256 JWTs signed with `FLUXBASE_JWT_SECRET`, whose `sub` is the user id.
//! Accepted only with a matching signature, an HS256 header, an `exp` not passed and an `nbf`
//! (if any) come, both with a small leeway ([`DEFAULT_LEEWAY_SECONDS`]), and a valid [`UserId`];
//! the audience is not checked. It verifies only: no store, and it never logs a token.

use std::sync::Arc;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::invoke::CallUser;
use crate::settings::UserId;
use crate::{Error, Result};

/// Environment variable holding the secret that signs user tokens.
pub const JWT_SECRET_ENV: &str = "FLUXBASE_JWT_SECRET";
/// Environment variable holding the clock-skew leeway, in seconds, for `exp` and `nbf`.
pub const JWT_LEEWAY_ENV: &str = "FLUXBASE_JWT_LEEWAY_SECONDS";
/// Leeway for `exp` and `nbf` unless `FLUXBASE_JWT_LEEWAY_SECONDS` says otherwise.
pub const DEFAULT_LEEWAY_SECONDS: u64 = 5;
/// Largest accepted leeway: more would keep expired tokens usable for minutes.
const MAX_LEEWAY_SECONDS: u64 = 300;
/// Shortest accepted secret, in bytes: HS256 wants at least as many as its output.
const MIN_SECRET_LEN: usize = 32;

/// Verifies user tokens. Never printed.
#[derive(Clone)]
pub struct UserTokens {
    key: Arc<DecodingKey>,
    validation: Arc<Validation>,
}

impl std::fmt::Debug for UserTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UserTokens([REDACTED])")
    }
}

/// Why a user token was refused; the message never contains the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The token's signature does not match the configured secret.
    #[error("invalid user token: the signature does not match")]
    BadSignature,
    /// The token's `exp` has passed.
    #[error("the user token has expired")]
    Expired,
    /// The token's `nbf` has not come yet.
    #[error("the user token is not valid yet")]
    NotYetValid,
    /// A required claim (`sub`, `exp`) is missing.
    #[error("invalid user token: it has no {0} claim")]
    MissingClaim(String),
    /// The `sub` claim is not a valid user id.
    #[error("invalid user token: its sub is not a valid user id")]
    BadSubject,
    /// The header names another algorithm than HS256.
    #[error("invalid user token: it must be signed with HS256")]
    WrongAlgorithm,
    /// Not a JWT at all, or a claim of the wrong type.
    #[error("invalid user token: it is not a well-formed JWT")]
    Malformed,
}

/// The claims read from a token once it is verified (`sub` is checked after the library's
/// validation, which reports a missing one by name).
#[derive(Deserialize)]
struct Claims {
    sub: Option<serde_json::Value>,
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

impl UserTokens {
    /// The verifier for the secret in `FLUXBASE_JWT_SECRET`, or `None` when it is not set
    /// (user tokens are then refused everywhere and ignored on function calls).
    pub fn from_env() -> Result<Option<Self>> {
        let leeway = match std::env::var(JWT_LEEWAY_ENV) {
            Ok(raw) => raw
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|seconds| *seconds <= MAX_LEEWAY_SECONDS)
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "{JWT_LEEWAY_ENV} must be a whole number of seconds from 0 to \
                         {MAX_LEEWAY_SECONDS}, not {raw:?}"
                    ))
                })?,
            Err(_) => DEFAULT_LEEWAY_SECONDS,
        };
        match std::env::var(JWT_SECRET_ENV) {
            Ok(secret) if !secret.is_empty() => Self::new(secret.as_bytes(), leeway).map(Some),
            _ => Ok(None),
        }
    }

    /// A verifier for tokens signed with `secret` (at least 32 bytes), accepting `exp` and `nbf`
    /// up to `leeway_seconds` off.
    pub fn new(secret: &[u8], leeway_seconds: u64) -> Result<Self> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(Error::invalid(format!(
                "{JWT_SECRET_ENV} must be at least {MIN_SECRET_LEN} bytes"
            )));
        }
        let key = DecodingKey::from_secret(secret)
            .map_err(|e| Error::invalid(format!("{JWT_SECRET_ENV} is not usable: {e}")))?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = false;
        validation.leeway = leeway_seconds;
        Ok(UserTokens {
            key: Arc::new(key),
            validation: Arc::new(validation),
        })
    }

    /// The user a token was issued for, with all its claims, if the token is valid.
    pub fn verify(&self, token: &str) -> Result<CallUser, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token.as_bytes(), &self.key, &self.validation)
            .map_err(|error| match error.kind() {
                ErrorKind::InvalidSignature => TokenError::BadSignature,
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::ImmatureSignature => TokenError::NotYetValid,
                ErrorKind::MissingRequiredClaim(claim) => TokenError::MissingClaim(claim.clone()),
                ErrorKind::InvalidAlgorithm
                | ErrorKind::InvalidAlgorithmName
                | ErrorKind::UnsupportedAlgorithm => TokenError::WrongAlgorithm,
                ErrorKind::InvalidSubject => TokenError::BadSubject,
                _ => TokenError::Malformed,
            })?;
        let Claims { sub, mut rest } = data.claims;
        match sub {
            Some(serde_json::Value::String(sub)) => {
                let id = UserId::parse(&sub).map_err(|_| TokenError::BadSubject)?;
                rest.insert("sub".into(), serde_json::Value::String(sub));
                Ok(CallUser {
                    id,
                    claims: serde_json::Value::Object(rest),
                })
            }
            _ => Err(TokenError::BadSubject),
        }
    }
}

/// Whether `token` has the shape of a JWT (three dot-separated parts), as opposed to another
/// kind of bearer token (a service key, an API key of the function's own).
pub fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3 && !token.contains(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header, encode};

    const SECRET: &[u8] = b"a-test-jwt-secret-of-32-bytes-or-more!";

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    fn token(alg: Algorithm, secret: &[u8], claims: serde_json::Value) -> String {
        encode(
            &Header::new(alg),
            &claims,
            &EncodingKey::from_secret(secret).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn accepts_a_valid_token_and_names_each_refusal() {
        let tokens = UserTokens::new(SECRET, DEFAULT_LEEWAY_SECONDS).unwrap();
        let exp = now() + 600;
        let good = token(
            Algorithm::HS256,
            SECRET,
            serde_json::json!({ "sub": "alice", "exp": exp, "aud": "authenticated" }),
        );
        assert_eq!(tokens.verify(&good).unwrap().id.as_str(), "alice");

        let cases = [
            (
                token(
                    Algorithm::HS256,
                    b"another-secret-that-is-long-enough!!",
                    serde_json::json!({ "sub": "alice", "exp": exp }),
                ),
                TokenError::BadSignature,
            ),
            (
                token(
                    Algorithm::HS256,
                    SECRET,
                    serde_json::json!({ "sub": "alice", "exp": now() - 3600 }),
                ),
                TokenError::Expired,
            ),
            (
                token(Algorithm::HS256, SECRET, serde_json::json!({ "exp": exp })),
                TokenError::MissingClaim("sub".into()),
            ),
            (
                token(
                    Algorithm::HS256,
                    SECRET,
                    serde_json::json!({ "sub": "alice" }),
                ),
                TokenError::MissingClaim("exp".into()),
            ),
            (
                token(
                    Algorithm::HS512,
                    SECRET,
                    serde_json::json!({ "sub": "alice", "exp": exp }),
                ),
                TokenError::WrongAlgorithm,
            ),
            (
                token(
                    Algorithm::HS256,
                    SECRET,
                    serde_json::json!({ "sub": "a b", "exp": exp }),
                ),
                TokenError::BadSubject,
            ),
            ("not-a-jwt".to_owned(), TokenError::Malformed),
        ];
        for (token, expected) in cases {
            assert_eq!(tokens.verify(&token), Err(expected));
        }
    }

    #[test]
    fn refuses_short_secrets_and_tells_jwts_from_other_tokens() {
        assert!(UserTokens::new(b"short", DEFAULT_LEEWAY_SECONDS).is_err());
        assert!(looks_like_jwt("a.b.c"));
        assert!(!looks_like_jwt("test-service-key-0123456789"));
        assert!(
            !format!(
                "{:?}",
                UserTokens::new(SECRET, DEFAULT_LEEWAY_SECONDS).unwrap()
            )
            .contains("secret")
        );
    }
}
