//! The settings secrets API of a real `fluxbase serve`: user tokens are checked (bad signature,
//! expired, no `sub`, wrong algorithm are 401), users only ever see their own settings secrets,
//! and the admin routes manage the system's and any user's.

use crate::settings_support;
use crate::support;

use jsonwebtoken::Algorithm;
use settings_support::{JWT_SECRET, now, server_env, sign, token, unsigned};
use support::Host;
use support::server::{Answer, SERVICE_KEY, Server};

fn start(host: &Host) -> Server {
    Server::start_with_env(host, &[], &server_env())
}

/// A request with `token` as bearer (none without), `body` as JSON.
fn call(
    server: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Answer {
    server.send(method, path, token, &[], body.map(str::as_bytes), true)
}

fn keys(answer: &Answer) -> Vec<String> {
    assert_eq!(answer.status, 200, "{answer:#?}");
    answer
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["key"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn user_tokens_are_refused_unless_valid() {
    let host = Host::new();
    let server = start(&host);
    let path = "/api/v1/settings/secrets";
    let exp = now() + 600;
    let refused = [
        (None, "missing user token"),
        (
            Some(sign(
                Algorithm::HS256,
                "another-secret-of-enough-length-0123456789",
                serde_json::json!({ "sub": "alice", "exp": exp }),
            )),
            "signature does not match",
        ),
        (
            Some(sign(
                Algorithm::HS256,
                JWT_SECRET,
                serde_json::json!({ "sub": "alice", "exp": now() - 3600 }),
            )),
            "expired",
        ),
        (
            Some(sign(
                Algorithm::HS256,
                JWT_SECRET,
                serde_json::json!({ "exp": exp }),
            )),
            "no sub claim",
        ),
        (
            Some(sign(
                Algorithm::HS256,
                JWT_SECRET,
                serde_json::json!({ "sub": "alice" }),
            )),
            "no exp claim",
        ),
        (
            Some(sign(
                Algorithm::HS512,
                JWT_SECRET,
                serde_json::json!({ "sub": "alice", "exp": exp }),
            )),
            "HS256",
        ),
        (Some(unsigned("alice")), "not a well-formed JWT"),
        (Some(SERVICE_KEY.to_owned()), "not a well-formed JWT"),
    ];
    for (credential, needle) in &refused {
        for (method, route, body) in [
            ("GET", path.to_owned(), None),
            ("GET", format!("{path}/API_KEY"), None),
            ("PUT", format!("{path}/API_KEY"), Some(r#"{"value":"v"}"#)),
            ("DELETE", format!("{path}/API_KEY"), None),
        ] {
            call(&server, method, &route, credential.as_deref(), body).error(401, needle);
        }
    }
    // The same checks guard function calls made with a JWT and jobs enqueued with one.
    for (credential, needle) in &refused[1..7] {
        call(
            &server,
            "GET",
            "/functions/v1/hello",
            credential.as_deref(),
            None,
        )
        .error(401, needle);
        call(
            &server,
            "POST",
            "/api/v1/jobs/settings",
            credential.as_deref(),
            Some(r#"{"name":"X"}"#),
        )
        .error(401, needle);
    }
    // A bearer token that is not a JWT is the function's business.
    let answer = call(
        &server,
        "GET",
        "/functions/v1/hello",
        Some("opaque-token"),
        None,
    );
    assert_eq!(answer.status, 200, "{answer:#?}");
    // Nothing was written by a refused request.
    assert_eq!(
        keys(&call(
            &server,
            "GET",
            "/api/v1/admin/settings/secrets?user=alice",
            Some(SERVICE_KEY),
            None
        )),
        Vec::<String>::new()
    );
    let ok = call(&server, "GET", path, Some(&token("alice")), None);
    assert_eq!(keys(&ok), Vec::<String>::new());
}

#[test]
fn a_user_never_sees_or_changes_another_users_settings_secrets() {
    let host = Host::new();
    let server = start(&host);
    let (alice, bob) = (token("alice"), token("bob"));
    let base = "/api/v1/settings/secrets";

    let created = call(
        &server,
        "PUT",
        &format!("{base}/openai_key"),
        Some(&alice),
        Some(r#"{"value":"alice-value","description":"Alice's key"}"#),
    );
    assert_eq!(created.status, 201, "{created:#?}");
    let meta = created.json();
    assert_eq!(meta["key"], "OPENAI_KEY");
    assert_eq!(meta["scope"], "user");
    assert_eq!(meta["user"], "alice");
    assert_eq!(meta["description"], "Alice's key");
    assert!(!created.body.contains("alice-value"));

    // Bob sees nothing of Alice's, whichever way he asks.
    assert_eq!(
        keys(&call(&server, "GET", base, Some(&bob), None)),
        Vec::<String>::new()
    );
    call(
        &server,
        "GET",
        &format!("{base}/OPENAI_KEY"),
        Some(&bob),
        None,
    )
    .error(404, "no settings secret OPENAI_KEY (user bob)");
    call(
        &server,
        "GET",
        &format!("{base}?user=alice"),
        Some(&bob),
        None,
    )
    .error(400, "unknown field");
    call(
        &server,
        "GET",
        &format!("{base}/OPENAI_KEY?user=alice"),
        Some(&bob),
        None,
    )
    .error(400, "unknown field");
    call(
        &server,
        "DELETE",
        &format!("{base}/OPENAI_KEY"),
        Some(&bob),
        None,
    )
    .error(404, "no settings secret");

    // Bob's own secret of the same key is another secret.
    let bobs = call(
        &server,
        "PUT",
        &format!("{base}/OPENAI_KEY"),
        Some(&bob),
        Some(r#"{"value":"bob-value"}"#),
    );
    assert_eq!(bobs.status, 201, "{bobs:#?}");
    assert_eq!(bobs.json()["description"], serde_json::Value::Null);
    let replaced = call(
        &server,
        "PUT",
        &format!("{base}/OPENAI_KEY"),
        Some(&alice),
        Some(r#"{"value":"alice-value-2"}"#),
    );
    assert_eq!(replaced.status, 200, "{replaced:#?}");
    assert_eq!(replaced.json()["description"], "Alice's key", "kept");

    // The admin routes: system by default, a user's with ?user=.
    let admin = |method: &str, path: &str, body: Option<&str>| {
        call(&server, method, path, Some(SERVICE_KEY), body)
    };
    let system = admin(
        "PUT",
        "/api/v1/admin/settings/secrets/OPENAI_KEY",
        Some(r#"{"value":"system-value"}"#),
    );
    assert_eq!(system.status, 201, "{system:#?}");
    assert_eq!(system.json()["scope"], "system");
    assert_eq!(system.json()["user"], serde_json::Value::Null);
    assert_eq!(
        keys(&admin("GET", "/api/v1/admin/settings/secrets", None)),
        ["OPENAI_KEY"]
    );
    let of_alice = admin(
        "GET",
        "/api/v1/admin/settings/secrets/OPENAI_KEY?user=alice",
        None,
    );
    assert_eq!(of_alice.json()["user"], "alice", "{of_alice:#?}");
    admin(
        "GET",
        "/api/v1/admin/settings/secrets/OPENAI_KEY?user=carol",
        None,
    )
    .error(404, "no settings secret OPENAI_KEY (user carol)");
    admin("GET", "/api/v1/admin/settings/secrets?user=a%20b", None).error(400, "user id");
    // User tokens do not open the admin routes, nor the service key the user routes.
    call(
        &server,
        "GET",
        "/api/v1/admin/settings/secrets",
        Some(&alice),
        None,
    )
    .error(401, "invalid service key");
    call(&server, "GET", base, Some(SERVICE_KEY), None).error(401, "user token");

    // Bob deletes his; Alice's and the system's stay.
    let deleted = call(
        &server,
        "DELETE",
        &format!("{base}/openai_key"),
        Some(&bob),
        None,
    );
    assert_eq!(deleted.json(), serde_json::json!({ "deleted": true }));
    assert_eq!(
        keys(&call(&server, "GET", base, Some(&bob), None)),
        Vec::<String>::new()
    );
    assert_eq!(
        keys(&call(&server, "GET", base, Some(&alice), None)),
        ["OPENAI_KEY"]
    );
    assert_eq!(
        keys(&admin("GET", "/api/v1/admin/settings/secrets", None)),
        ["OPENAI_KEY"]
    );

    // Invalid input is a 4xx JSON error.
    call(
        &server,
        "PUT",
        &format!("{base}/bad-key"),
        Some(&alice),
        Some(r#"{"value":"v"}"#),
    )
    .error(400, "invalid secret name");
    call(
        &server,
        "PUT",
        &format!("{base}/K"),
        Some(&alice),
        Some(r#"{"value":""}"#),
    )
    .error(400, "empty");
    call(
        &server,
        "PUT",
        &format!("{base}/K"),
        Some(&alice),
        Some(r#"{"valu":"v"}"#),
    )
    .error(422, "unknown field");

    // Every change is audited, by who made it, never with a value.
    let audit = admin(
        "GET",
        "/api/v1/admin/logs?category=audit&search=settings",
        None,
    );
    let records = audit.json();
    let actors: Vec<&str> = records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["actor"].as_str().unwrap())
        .collect();
    assert!(
        actors.contains(&"user:alice") && actors.contains(&"user:bob"),
        "{actors:?}"
    );
    assert!(actors.contains(&"api:service-key"), "{actors:?}");
    assert!(!audit.body.contains("-value"), "{}", audit.body);
}

#[test]
fn without_a_jwt_secret_user_routes_are_refused_and_functions_ignore_tokens() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    call(
        &server,
        "GET",
        "/api/v1/settings/secrets",
        Some(&token("alice")),
        None,
    )
    .error(401, "FLUXBASE_JWT_SECRET");
    let answer = call(
        &server,
        "GET",
        "/functions/v1/hello",
        Some(&token("alice")),
        None,
    );
    assert_eq!(answer.status, 200, "{answer:#?}");
    // The admin settings routes work without user tokens.
    let put = call(
        &server,
        "PUT",
        "/api/v1/admin/settings/secrets/REGION",
        Some(SERVICE_KEY),
        Some(r#"{"value":"eu"}"#),
    );
    assert_eq!(put.status, 201, "{put:#?}");
}

#[test]
fn a_short_jwt_secret_is_refused_at_start() {
    let host = Host::new();
    let run = host.run_with_env(
        &["serve", "--listen", "127.0.0.1:0"],
        &[
            ("FLUXBASE_JWT_SECRET", "short"),
            ("FLUXBASE_SERVICE_KEY", SERVICE_KEY),
        ],
    );
    run.fails_with("FLUXBASE_JWT_SECRET must be at least 32 bytes");
}

#[test]
fn the_openapi_document_describes_the_settings_routes() {
    let host = Host::new();
    let server = start(&host);
    let spec = call(&server, "GET", "/api/v1/openapi.json", None, None).json();
    let paths = spec["paths"].as_object().unwrap();
    for path in [
        "/api/v1/admin/settings/secrets",
        "/api/v1/admin/settings/secrets/{key}",
        "/api/v1/settings/secrets",
        "/api/v1/settings/secrets/{key}",
        "/api/v1/admin/secrets",
    ] {
        assert!(paths.contains_key(path), "{path} is not described");
    }
    let own = &paths["/api/v1/settings/secrets/{key}"];
    assert_eq!(
        own["put"]["security"][0]["userToken"],
        serde_json::json!([])
    );
    assert!(own["put"]["responses"]["401"].is_object());
    for method in ["get", "put", "delete"] {
        let names: Vec<&str> = own[method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["key"], "{method}: no ?user= for users");
    }
    assert_eq!(
        spec["components"]["securitySchemes"]["userToken"]["bearerFormat"],
        "JWT"
    );
    assert!(spec["components"]["schemas"]["SettingMetadata"].is_object());
}
