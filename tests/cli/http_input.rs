//! Inputs the schema-driven run (`tests/schema/run.sh`) and the fuzz targets found answered
//! wrongly, each now answered as the OpenAPI document says, on SQLite and on PostgreSQL
//! (`FLUXBASE_TEST_BACKEND`).

use crate::support;

use support::Host;
use support::server::Server;

#[test]
fn inputs_that_broke_the_document_are_answered_as_it_says() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    let send = |method: &str, path: &str, body: &str| {
        server.request(method, path, true, (!body.is_empty()).then_some(body))
    };

    // JSON Schema's integer admits 1.0: versions written so are accepted, fractions are not.
    assert_eq!(
        send(
            "POST",
            "/api/v1/admin/secrets",
            r#"{"name":"INPUT","value":"one"}"#
        )
        .status,
        201
    );
    let second = send(
        "PUT",
        "/api/v1/admin/secrets/INPUT",
        r#"{"value":"two","if_version":1.0}"#,
    );
    assert_eq!(second.status, 200, "{second:#?}");
    assert_eq!(second.json()["version"], 2);
    send(
        "POST",
        "/api/v1/admin/secrets/INPUT/rollback",
        r#"{"version":1.5}"#,
    )
    .error(422, "invalid request body");

    // Rolling back to the current version is a conflict with the secret's state, not bad input.
    send(
        "POST",
        "/api/v1/admin/secrets/INPUT/rollback",
        r#"{"version":2}"#,
    )
    .error(409, "nothing to roll back");
    let rolled = send(
        "POST",
        "/api/v1/admin/secrets/INPUT/rollback",
        r#"{"version":1.0}"#,
    );
    assert_eq!(rolled.status, 200, "{rolled:#?}");
    assert_eq!(rolled.json()["version"], 3);

    // NUL cannot be stored in PostgreSQL text: refused as input on every store, never a 500.
    send(
        "PUT",
        "/api/v1/admin/secrets/INPUT",
        r#"{"description":"a\u0000b"}"#,
    )
    .error(400, "NUL");
    send(
        "POST",
        "/api/v1/admin/secrets",
        r#"{"name":"NUL_DESC","value":"v","description":"\u0000"}"#,
    )
    .error(400, "NUL");
    send(
        "PUT",
        "/api/v1/admin/settings/secrets/NUL_DESC",
        r#"{"value":"v","description":"\u0000"}"#,
    )
    .error(400, "NUL");
    send("GET", "/api/v1/admin/logs?search=a%00b", "").error(400, "NUL");
    send("GET", "/api/v1/admin/logs?name=%00", "").error(400, "NUL");

    // Expiries print as RFC 3339, so none lies past year 9999 or at the very instant of the call.
    for expires in ["9000y", "9999-12-31T23:59:59-01:00", "1ns"] {
        send(
            "PUT",
            "/api/v1/admin/secrets/INPUT",
            &format!(r#"{{"expires_at":"{expires}"}}"#),
        )
        .error(400, "expiry");
    }

    // Bodies not sent as JSON, or of the wrong shape: 415 and 422, as documented.
    let plain = server.send(
        "POST",
        "/api/v1/admin/secrets",
        Some(support::server::SERVICE_KEY),
        &[],
        Some(br#"{"name":"A","value":"v"}"#),
        false,
    );
    plain.error(415, "Content-Type: application/json");
    send(
        "POST",
        "/api/v1/admin/secrets",
        r#"{"name":"A","value":"v","extra":1}"#,
    )
    .error(422, "unknown field");
    let spec = server
        .request("GET", "/api/v1/openapi.json", false, None)
        .json();
    let responses = &spec["paths"]["/api/v1/admin/secrets"]["post"]["responses"];
    for status in ["400", "401", "409", "413", "415", "422", "201"] {
        assert!(
            responses.get(status).is_some(),
            "{status} is not documented"
        );
    }

    // Nothing refused above was written.
    let names: Vec<String> = send("GET", "/api/v1/admin/secrets", "")
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["INPUT"]);
    let input = send("GET", "/api/v1/admin/secrets/INPUT", "").json();
    assert_eq!(input["version"], 3);
    assert_eq!(input["description"], serde_json::Value::Null);
    assert_eq!(input["expires_at"], serde_json::Value::Null);
}

#[test]
fn a_function_error_holding_nul_is_recorded_with_the_rest_of_its_batch() {
    let dir = tempfile::tempdir().unwrap();
    let functions = dir.path().join("functions");
    std::fs::create_dir_all(&functions).unwrap();
    std::fs::write(
        functions.join("nul.ts"),
        "// @fluxbase:allow-unauthenticated\nexport default async function handler(req: Request): Promise<Response> {\n  \
         throw new Error(\"boom\\u0000zero\");\n}\n",
    )
    .unwrap();
    std::fs::write(
        functions.join("ok.ts"),
        "// @fluxbase:allow-unauthenticated\nexport default async function handler(req: Request): Promise<Response> {\n  \
         return new Response(\"ok\");\n}\n",
    )
    .unwrap();
    let host = Host::new();
    let server = Server::start_in(&host, &functions, &dir.path().join("jobs"), &[]);
    for _ in 0..3 {
        assert_eq!(
            server
                .request("GET", "/functions/v1/nul", false, None)
                .status,
            500
        );
        assert_eq!(
            server
                .request("GET", "/functions/v1/ok", false, None)
                .status,
            200
        );
    }
    // PostgreSQL cannot store NUL in text: it is replaced, and no record of the batch is lost.
    let records = server
        .request("GET", "/api/v1/admin/logs?category=execution", true, None)
        .json();
    let records = records.as_array().unwrap();
    assert_eq!(records.len(), 6, "{records:#?}");
    let failed: Vec<&str> = records
        .iter()
        .filter(|r| r["name"] == "nul")
        .map(|r| r["error"].as_str().unwrap())
        .collect();
    assert_eq!(failed.len(), 3);
    assert!(
        failed.iter().all(|e| e.contains("boom\u{FFFD}zero")),
        "{failed:?}"
    );
}

/// Sends `GET path` over a fresh connection with exactly these header lines (no `Host` unless
/// one is among them) and returns the status and body.
fn raw_get(server: &Server, path: &str, header_lines: &[&str]) -> (u16, String) {
    use std::io::{Read, Write};
    let address = server.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    let mut head = format!("GET {path} HTTP/1.1\r\nconnection: close\r\n");
    for line in header_lines {
        head.push_str(line);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    (status, body)
}

#[test]
fn the_host_header_never_changes_the_path_a_handler_sees() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    let address = server.base.trim_start_matches("http://").to_owned();
    let path = "/functions/v1/url_echo/sub?x=1";

    // A plain authority is used as is.
    let (status, body) = raw_get(&server, path, &["host: api.example.com:8443"]);
    assert_eq!(status, 200, "{body}");
    let seen: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        seen["url"],
        "http://api.example.com:8443/functions/v1/url_echo/sub?x=1"
    );

    // No Host, or an empty one: the address the server listens on.
    for lines in [&[][..], &["host: "][..]] {
        let (status, body) = raw_get(&server, path, lines);
        assert_eq!(status, 200, "{lines:?}: {body}");
        let seen: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(seen["host"], address.as_str(), "{lines:?}");
        assert_eq!(seen["pathname"], "/functions/v1/url_echo/sub", "{lines:?}");
    }

    // Anything else than a bare authority is refused, never pasted into the URL.
    for bad in [
        "host: x/functions/v1/url_echo/admin?",
        "host: a b",
        "host: user@evil.example",
        "host: x?y",
    ] {
        let (status, body) = raw_get(&server, path, &[bad]);
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(
            body.contains(r#""error":"invalid Host header""#),
            "{bad}: {body}"
        );
    }
}
