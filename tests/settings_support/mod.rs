//! What the settings secrets tests share: the JWT secret of their servers and user tokens signed
//! with it (or, to be refused, with something else).

#![allow(dead_code)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};

use crate::support::server::Server;

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

/// Sets the settings secret `key` to `value` through the admin route: the system's, or `user`'s.
pub fn admin_put(server: &Server, key: &str, user: Option<&str>, value: &str) {
    let path = match user {
        Some(user) => format!("/api/v1/admin/settings/secrets/{key}?user={user}"),
        None => format!("/api/v1/admin/settings/secrets/{key}"),
    };
    let body = serde_json::json!({ "value": value }).to_string();
    let answer = server.request("PUT", &path, true, Some(&body));
    assert!(matches!(answer.status, 200 | 201), "{answer:#?}");
}

/// Sets the caller's own settings secret `key` to `value` with the user token `token`.
pub fn user_put(server: &Server, token: &str, key: &str, value: &str) {
    let body = serde_json::json!({ "value": value }).to_string();
    let answer = server.send(
        "PUT",
        &format!("/api/v1/settings/secrets/{key}"),
        Some(token),
        &[],
        Some(body.as_bytes()),
        true,
    );
    assert!(matches!(answer.status, 200 | 201), "{answer:#?}");
}
