//! No route that needs a credential answers without a valid one. The routes are taken from the
//! server's own OpenAPI document, so a route added there is checked here without a change: every
//! operation whose `security` is not empty is sent, for its method, without credentials, with
//! keys that are wrong in ways a comparison could get wrong (same length, last byte only, one
//! byte more or less), and with the other kind of credential; each must be a 401
//! `{"error": ...}`, and none may change anything.

use crate::settings_support;
use crate::support;

use jsonwebtoken::Algorithm;
use settings_support::{JWT_SECRET, now, server_env, sign, token, unsigned};
use support::Host;
use support::server::{SERVICE_KEY, Server};

/// One operation of the document: method, path template, and the credentials it takes.
#[derive(Debug)]
struct Operation {
    method: String,
    path: String,
    schemes: Vec<String>,
}

fn operations(spec: &serde_json::Value) -> Vec<Operation> {
    let default_security = &spec["security"];
    let mut found = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if !["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                continue;
            }
            let security = operation.get("security").unwrap_or(default_security);
            let requirements = security.as_array().unwrap();
            // An empty requirement (`{}`) among them makes a credential optional: the route is
            // open (a function decides by its own annotation whether it needs one).
            let optional = requirements
                .iter()
                .any(|requirement| requirement.as_object().unwrap().is_empty());
            let schemes: Vec<String> = requirements
                .iter()
                .flat_map(|requirement| requirement.as_object().unwrap().keys().cloned())
                .filter(|_| !optional)
                .collect();
            found.push(Operation {
                method: method.to_uppercase(),
                path: path.clone(),
                schemes,
            });
        }
    }
    found
}

/// The concrete path, and a body the route would accept with the right credential.
fn request_for(operation: &Operation) -> (String, Option<&'static str>) {
    let path = operation
        .path
        .replace("{name}", "AUTH_PROBE")
        .replace("{key}", "AUTH_PROBE")
        .replace("{id}", "00000000-0000-4000-8000-000000000000");
    let body = match (operation.method.as_str(), operation.path.as_str()) {
        ("POST", "/api/v1/admin/secrets") => Some(r#"{"name":"AUTH_PROBE","value":"probe"}"#),
        ("POST", p) if p.ends_with("/rollback") => Some(r#"{"version":1}"#),
        ("POST", p) if p.starts_with("/api/v1/jobs/") => Some(r#"{"probe":true}"#),
        ("PUT", _) => Some(r#"{"value":"probe"}"#),
        _ => None,
    };
    (path, body)
}

/// Wrong keys a comparison could mistake for the right one.
fn wrong_keys() -> Vec<String> {
    let key = SERVICE_KEY;
    let last_byte_off = format!(
        "{}{}",
        &key[..key.len() - 1],
        if key.ends_with('x') { 'y' } else { 'x' }
    );
    let first_byte_off = format!("x{}", &key[1..]);
    vec![
        "x".repeat(key.len()),
        last_byte_off,
        first_byte_off,
        format!("{key}x"),
        key[..key.len() - 1].to_owned(),
        String::new(),
    ]
}

#[test]
fn no_protected_route_answers_without_a_valid_credential() {
    let host = Host::new();
    let server = Server::start_with_env(&host, &[], &server_env());
    let spec = server
        .request("GET", "/api/v1/openapi.json", false, None)
        .json();
    let all = operations(&spec);
    let protected: Vec<&Operation> = all.iter().filter(|op| !op.schemes.is_empty()).collect();
    // The document still describes every protected route (the router and it must not drift).
    let described: Vec<String> = protected
        .iter()
        .map(|op| format!("{} {}", op.method, op.path))
        .collect();
    for route in [
        "GET /api/v1/admin/secrets",
        "POST /api/v1/admin/secrets",
        "GET /api/v1/admin/secrets/{name}",
        "PUT /api/v1/admin/secrets/{name}",
        "DELETE /api/v1/admin/secrets/{name}",
        "GET /api/v1/admin/secrets/{name}/history",
        "POST /api/v1/admin/secrets/{name}/rollback",
        "GET /api/v1/admin/logs",
        "GET /api/v1/admin/settings/secrets",
        "GET /api/v1/admin/settings/secrets/{key}",
        "PUT /api/v1/admin/settings/secrets/{key}",
        "DELETE /api/v1/admin/settings/secrets/{key}",
        "POST /api/v1/jobs/{name}",
        "GET /api/v1/jobs/runs/{id}",
        "GET /api/v1/settings/secrets",
        "GET /api/v1/settings/secrets/{key}",
        "PUT /api/v1/settings/secrets/{key}",
        "DELETE /api/v1/settings/secrets/{key}",
    ] {
        assert!(
            described.iter().any(|d| d == route),
            "{route} is not in the OpenAPI document as a protected route: {described:#?}"
        );
    }
    // Only the public routes go without a credential.
    for op in all.iter().filter(|op| op.schemes.is_empty()) {
        assert!(
            op.path == "/health" || op.path.starts_with("/functions/v1/"),
            "{} {} needs no credential",
            op.method,
            op.path
        );
    }

    let forged = [
        unsigned("alice"),
        sign(
            Algorithm::HS256,
            "another-secret-0123456789abcdef0123456789",
            serde_json::json!({ "sub": "alice", "exp": now() + 600 }),
        ),
        sign(
            Algorithm::HS256,
            JWT_SECRET,
            serde_json::json!({ "sub": "alice", "exp": now() - 600 }),
        ),
    ];
    let mut checked = 0;
    for op in &protected {
        let (path, body) = request_for(op);
        let mut refused = |credential: Option<&str>, why: &str| {
            // A refused request's body is not read, so the server closes the connection after
            // its answer; a fresh connection each time keeps the client from reusing a closed one.
            let answer = server.send(
                &op.method,
                &path,
                credential,
                &[("connection", "close")],
                body.map(str::as_bytes),
                true,
            );
            assert_eq!(
                answer.status, 401,
                "{} {path} with {why} answered {answer:#?}",
                op.method
            );
            assert!(
                answer.json()["error"].is_string(),
                "{} {path}: {answer:#?}",
                op.method
            );
            checked += 1;
        };
        refused(None, "no credential");
        for wrong in wrong_keys() {
            refused(Some(wrong.as_str()), &format!("the wrong key {wrong:?}"));
        }
        for forged_token in &forged {
            refused(
                Some(forged_token.as_str()),
                "a forged or expired user token",
            );
        }
        if !op.schemes.iter().any(|s| s == "userToken") {
            refused(Some(&token("alice")), "a valid user token");
        }
        if !op.schemes.iter().any(|s| s == "serviceKey") {
            refused(Some(SERVICE_KEY), "the service key");
        }
        // Another scheme with the right key is no credential either.
        let basic = server.send(
            &op.method,
            &path,
            None,
            &[
                ("authorization", &format!("Basic {SERVICE_KEY}")),
                ("connection", "close"),
            ],
            body.map(str::as_bytes),
            true,
        );
        assert_eq!(basic.status, 401, "{} {path} with Basic", op.method);
    }
    assert!(checked >= protected.len() * 10, "only {checked} checks ran");

    // The refused requests changed nothing and ran nothing: no audit record, no execution.
    assert_eq!(
        server
            .request("GET", "/api/v1/admin/logs", true, None)
            .json(),
        serde_json::json!([])
    );

    // With the right credential the very same requests get past authentication.
    for op in &protected {
        let (path, body) = request_for(op);
        let credential = if op.schemes.iter().any(|s| s == "serviceKey") {
            SERVICE_KEY.to_owned()
        } else {
            token("alice")
        };
        let answer = server.send(
            &op.method,
            &path,
            Some(&credential),
            &[],
            body.map(str::as_bytes),
            true,
        );
        assert!(
            answer.status != 401 && answer.status != 405 && answer.status < 500,
            "{} {path} with the right credential answered {answer:#?}",
            op.method
        );
    }
}

#[test]
fn token_times_get_a_small_explicit_leeway_that_can_be_configured() {
    let host = Host::new();
    let at = |exp_offset: i64, nbf_offset: Option<i64>| {
        let mut claims = serde_json::json!({ "sub": "alice", "exp": now() + exp_offset });
        if let Some(nbf) = nbf_offset {
            claims["nbf"] = (now() + nbf).into();
        }
        sign(Algorithm::HS256, JWT_SECRET, claims)
    };
    let user_list = |server: &Server, token: &str| {
        server
            .send(
                "GET",
                "/api/v1/settings/secrets",
                Some(token),
                &[],
                None,
                false,
            )
            .status
    };

    // The default: 5 s. Expired 20 s ago, or valid only in 20 s: refused (the library's
    // default of 60 s accepted both). Within 2 s: accepted.
    let server = Server::start_with_env(&host, &[], &server_env());
    assert_eq!(user_list(&server, &at(-20, None)), 401);
    assert_eq!(user_list(&server, &at(600, Some(20))), 401);
    assert_eq!(user_list(&server, &at(-2, None)), 200);
    drop(server);

    // FLUXBASE_JWT_LEEWAY_SECONDS=30 accepts the token that expired 20 s ago.
    let mut env = server_env();
    env.push(("FLUXBASE_JWT_LEEWAY_SECONDS", "30"));
    let server = Server::start_with_env(&host, &[], &env);
    assert_eq!(user_list(&server, &at(-20, None)), 200);
    assert_eq!(user_list(&server, &at(-40, None)), 401);
    drop(server);

    // A leeway that is not a number of seconds, or too long, stops the server with a message.
    for bad in ["soon", "-1", "3600"] {
        let run = host.run_with_env(
            &["serve", "--listen", "127.0.0.1:0"],
            &[
                ("FLUXBASE_JWT_SECRET", JWT_SECRET),
                ("FLUXBASE_JWT_LEEWAY_SECONDS", bad),
                ("FLUXBASE_SERVICE_KEY", SERVICE_KEY),
            ],
        );
        run.fails_with("FLUXBASE_JWT_LEEWAY_SECONDS must be a whole number of seconds");
    }
}
