//! What the settings secrets tests share: the JWT secret of their servers and user tokens signed
//! with it (or, to be refused, with something else).

#![allow(dead_code)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};

/// The `FLUXBASE_JWT_SECRET` of the test servers.
pub const JWT_SECRET: &str = "settings-tests-jwt-secret-0123456789abcdef";

/// Seconds since the epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A token with `claims`, signed with `secret` using `alg`.
pub fn sign(alg: Algorithm, secret: &str, claims: serde_json::Value) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()).unwrap(),
    )
    .unwrap()
}

/// A valid user token for `user`, good for ten minutes.
pub fn token(user: &str) -> String {
    sign(
        Algorithm::HS256,
        JWT_SECRET,
        serde_json::json!({ "sub": user, "exp": now() + 600, "aud": "authenticated" }),
    )
}

/// An unsigned token (`alg: none`) claiming to be `user`.
pub fn unsigned(user: &str) -> String {
    let part = |value: serde_json::Value| URL_SAFE_NO_PAD.encode(value.to_string());
    format!(
        "{}.{}.",
        part(serde_json::json!({ "alg": "none", "typ": "JWT" })),
        part(serde_json::json!({ "sub": user, "exp": now() + 600 }))
    )
}

/// The environment of a server that accepts user tokens.
pub fn server_env() -> Vec<(&'static str, &'static str)> {
    vec![("FLUXBASE_JWT_SECRET", JWT_SECRET)]
}
