//! The admin API and the function endpoint of a real `fluxbase serve`, over real HTTP.

use crate::support;

use support::Host;
use support::server::{SERVICE_KEY, Server};

#[test]
fn admin_routes_refuse_requests_without_the_service_key() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    let routes = [
        ("GET", "/api/v1/admin/secrets"),
        ("POST", "/api/v1/admin/secrets"),
        ("GET", "/api/v1/admin/secrets/A"),
        ("PUT", "/api/v1/admin/secrets/A"),
        ("DELETE", "/api/v1/admin/secrets/A"),
        ("GET", "/api/v1/admin/secrets/A/history"),
        ("POST", "/api/v1/admin/secrets/A/rollback"),
        ("GET", "/api/v1/admin/logs"),
    ];
    let body = r#"{"name":"A","value":"v","version":1}"#;
    for (method, path) in routes {
        server
            .send(method, path, None, &[], Some(body.as_bytes()), true)
            .error(401, "missing service key");
        let wrong = format!("{}x", &SERVICE_KEY[..SERVICE_KEY.len() - 1]);
        server
            .send(method, path, Some(&wrong), &[], Some(body.as_bytes()), true)
            .error(401, "invalid service key");
        server
            .send(
                method,
                path,
                Some("short"),
                &[],
                Some(body.as_bytes()),
                true,
            )
            .error(401, "invalid service key");
    }
    // Nothing was written by the refused requests.
    assert_eq!(
        server
            .request("GET", "/api/v1/admin/secrets", true, None)
            .json(),
        serde_json::json!([])
    );
    assert_eq!(
        server.request("GET", "/health", false, None).json()["status"],
        "ok"
    );
}

#[test]
fn the_secret_life_cycle_over_http() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    let created = server.request(
        "POST",
        "/api/v1/admin/secrets",
        true,
        Some(r#"{"name":"stripe_key","value":"v1","description":"Stripe","expires_at":"2099-01-01T00:00:00Z"}"#),
    );
    assert_eq!(created.status, 201, "{created:#?}");
    let meta = created.json();
    assert_eq!(meta["name"], "STRIPE_KEY");
    assert_eq!(meta["version"], 1);
    assert_eq!(meta["expires_at"], "2099-01-01T00:00:00Z");
    assert!(meta.get("value").is_none());

    server
        .request(
            "POST",
            "/api/v1/admin/secrets",
            true,
            Some(r#"{"name":"STRIPE_KEY","value":"again"}"#),
        )
        .error(409, "already exists");
    let namespaced = server.request(
        "POST",
        "/api/v1/admin/secrets",
        true,
        Some(r#"{"name":"STRIPE_KEY","value":"ns","namespace":"billing"}"#),
    );
    assert_eq!(namespaced.status, 201);
    assert_eq!(namespaced.json()["scope"], "namespace");

    let updated = server.request(
        "PUT",
        "/api/v1/admin/secrets/stripe_key",
        true,
        Some(r#"{"value":"v2"}"#),
    );
    assert_eq!(updated.json()["version"], 2);
    assert_eq!(updated.json()["description"], "Stripe", "kept");
    let metadata_only = server.request(
        "PUT",
        "/api/v1/admin/secrets/STRIPE_KEY",
        true,
        Some(r#"{"description":null,"expires_at":"2098-01-01T00:00:00Z"}"#),
    );
    assert_eq!(metadata_only.json()["version"], 2, "no new version");
    assert_eq!(metadata_only.json()["description"], serde_json::Value::Null);
    assert_eq!(metadata_only.json()["expires_at"], "2098-01-01T00:00:00Z");
    server
        .request(
            "PUT",
            "/api/v1/admin/secrets/MISSING",
            true,
            Some(r#"{"value":"v"}"#),
        )
        .error(404, "no secret MISSING (global)");
    server
        .request(
            "PUT",
            "/api/v1/admin/secrets/MISSING",
            true,
            Some(r#"{"description":"d"}"#),
        )
        .error(404, "no secret MISSING (global)");

    let got = server.request(
        "GET",
        "/api/v1/admin/secrets/STRIPE_KEY?namespace=billing",
        true,
        None,
    );
    assert_eq!(got.json()["namespace"], "billing");
    assert_eq!(got.json()["version"], 1);
    let list = server
        .request("GET", "/api/v1/admin/secrets?scope=global", true, None)
        .json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    let list = server
        .request("GET", "/api/v1/admin/secrets?namespace=billing", true, None)
        .json();
    assert_eq!(list.as_array().unwrap().len(), 1);

    let rolled = server.request(
        "POST",
        "/api/v1/admin/secrets/STRIPE_KEY/rollback",
        true,
        Some(r#"{"version":1}"#),
    );
    assert_eq!(rolled.json()["version"], 3);
    let history = server
        .request(
            "GET",
            "/api/v1/admin/secrets/STRIPE_KEY/history",
            true,
            None,
        )
        .json();
    assert_eq!(history.as_array().unwrap().len(), 3);
    assert_eq!(history[2]["restored_from"], 1);
    assert_eq!(history[2]["created_by"], "api:service-key");
    server
        .request(
            "POST",
            "/api/v1/admin/secrets/STRIPE_KEY/rollback",
            true,
            Some(r#"{"version":9}"#),
        )
        .error(404, "has no version 9");

    let deleted = server.request(
        "DELETE",
        "/api/v1/admin/secrets/STRIPE_KEY?namespace=billing",
        true,
        None,
    );
    let deleted = deleted.json();
    assert_eq!(deleted["deleted"], true);
    assert_eq!(deleted["version"], 1);
    assert_eq!(deleted["versions"], 1);
    assert!(deleted["purge_at"].as_str().is_some(), "{deleted}");
    server
        .request(
            "GET",
            "/api/v1/admin/secrets/STRIPE_KEY?namespace=billing",
            true,
            None,
        )
        .error(404, "secret STRIPE_KEY (namespace billing) is deleted");

    let audit = server
        .request(
            "GET",
            "/api/v1/admin/logs?category=audit&limit=100",
            true,
            None,
        )
        .json();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["delete", "rollback", "update", "set", "set", "set"]
    );
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["actor"] == "api:service-key")
    );

    // The CLI sees what the API wrote: same store.
    drop(server);
    let listed = host.run(&["secrets", "list", "-o", "json"]).json();
    assert_eq!(listed[0]["version"], 3);
}

#[test]
fn bad_requests_get_a_4xx_json_error_and_write_nothing() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    let post = |body: &str| server.request("POST", "/api/v1/admin/secrets", true, Some(body));
    post("{not json").error(400, "not valid JSON");
    post(r#"{"name":"A","value":"v","valu":"x"}"#).error(422, "unknown field `valu`");
    post(r#"{"name":"A"}"#).error(422, "missing field `value`");
    post(r#"{"name":"A","value":123456789}"#).error(422, "invalid type");
    assert!(
        !post(r#"{"name":"A","value":123456789}"#)
            .body
            .contains("123456789")
    );
    post(r#"{"name":"1A","value":"v"}"#).error(400, "cannot start with a digit");
    post(r#"{"name":"FLUXBASE_X","value":"v"}"#).error(400, "prefix is reserved");
    post(r#"{"name":"A","value":""}"#).error(400, "secret value is empty");
    post(r#"{"name":"A","value":"v","scope":"planet"}"#).error(400, "invalid scope");
    post(r#"{"name":"A","value":"v","namespace":"Bad"}"#).error(400, "invalid namespace");
    post(r#"{"name":"A","value":"v","scope":"namespace"}"#).error(400, "needs --namespace");
    post(r#"{"name":"A","value":"v","expires_at":"someday"}"#).error(400, "invalid expiry");
    post(r#"{"name":"A","value":"v","expires_at":"2001-01-01T00:00:00Z"}"#)
        .error(400, "in the past");
    let big = format!(r#"{{"name":"A","value":"{}"}}"#, "x".repeat(70 * 1024));
    post(&big).error(400, "the limit is 65536 bytes");
    let huge = format!(r#"{{"name":"A","value":"{}"}}"#, "x".repeat(300 * 1024));
    assert_eq!(post(&huge).status, 413);
    let no_type = server.send(
        "POST",
        "/api/v1/admin/secrets",
        Some(SERVICE_KEY),
        &[],
        Some(b"{}"),
        false,
    );
    no_type.error(415, "Content-Type: application/json");
    server
        .request("GET", "/api/v1/admin/secrets?scope=planet", true, None)
        .error(400, "invalid scope");
    server
        .request("GET", "/api/v1/admin/secrets?bogus=1", true, None)
        .error(400, "invalid query string");
    server
        .request("GET", "/api/v1/admin/secrets/bad-name", true, None)
        .error(400, "use only letters");
    server
        .request("GET", "/api/v1/admin/logs?category=nope", true, None)
        .error(400, "invalid category");
    server
        .request("GET", "/api/v1/admin/logs?limit=0", true, None)
        .error(400, "limit must be between");
    server
        .request(
            "POST",
            "/api/v1/admin/secrets/A/rollback",
            true,
            Some(r#"{"version":"one"}"#),
        )
        .error(422, "invalid type");
    server
        .request("GET", "/no/such/route", false, None)
        .error(404, "no such route");
    assert_eq!(
        server
            .request("GET", "/api/v1/admin/secrets", true, None)
            .json(),
        serde_json::json!([])
    );
}

#[test]
fn functions_are_invoked_with_the_full_request() {
    let host = Host::new();
    host.run(&["secrets", "set", "API_KEY", "from-store"]).ok();
    let server = Server::start(&host, &["--body-limit-mb", "1"]);

    let hello = server.request("GET", "/functions/v1/hello/deep/path?name=web", false, None);
    assert_eq!(hello.status, 200);
    assert_eq!(hello.json()["path"], "/functions/v1/hello/deep/path");
    assert_eq!(hello.json()["message"], "hello, web");
    assert!(hello.header("x-fluxbase-execution-id").is_some());

    let echo = server.send(
        "PATCH",
        "/functions/v1/echo?x=1",
        None,
        &[("content-type", "text/plain"), ("x-custom", "c")],
        Some(b"streamed body"),
        false,
    );
    assert_eq!(echo.status, 201);
    assert_eq!(echo.header("x-echo"), Some("yes"));
    let json = echo.json();
    assert_eq!(json["method"], "PATCH");
    assert_eq!(json["body"], "streamed body");
    assert_eq!(json["custom"], "c");

    let secret = server.request("GET", "/functions/v1/secrets?name=api_key", false, None);
    assert_eq!(secret.json()["value"], "from-store");

    let big = vec![b'x'; 1024 * 1024 + 1];
    server
        .send("POST", "/functions/v1/echo", None, &[], Some(&big), false)
        .error(413, "larger than the limit");
    server
        .request("GET", "/functions/v1/throws", false, None)
        .error(
            500,
            "uncaught exception: Error: handler exploded on purpose",
        );
    server
        .request("GET", "/functions/v1/nope", false, None)
        .error(404, "no function nope");
    assert_eq!(
        server
            .request("GET", "/functions/v1/hello", false, None)
            .status,
        200
    );
}

#[test]
fn a_timeout_is_504_and_running_out_of_memory_546() {
    let host = Host::new();
    let server = Server::start(&host, &["--function-timeout", "1s"]);
    server
        .request("GET", "/functions/v1/infinite_loop", false, None)
        .error(504, "timed out after 1s");
    drop(server);
    // The memory bomb gets time to reach its heap limit: under a 1 s timeout, on two cores
    // shared with other test binaries, it sometimes timed out first (504) in full runs.
    let server = Server::start(
        &host,
        &["--function-timeout", "60s", "--heap-limit-mb", "64"],
    );
    server
        .request("GET", "/functions/v1/memory_bomb", false, None)
        .error(546, "ran out of memory (heap limit 64 MiB)");
    assert_eq!(
        server
            .request("GET", "/functions/v1/hello", false, None)
            .status,
        200
    );
}

#[test]
fn the_openapi_document_describes_every_admin_route() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    let spec = server
        .request("GET", "/api/v1/openapi.json", false, None)
        .json();
    assert_eq!(spec["openapi"], "3.1.0");
    let paths = spec["paths"].as_object().unwrap();
    for path in [
        "/health",
        "/api/v1/admin/secrets",
        "/api/v1/admin/secrets/{name}",
        "/api/v1/admin/secrets/{name}/history",
        "/api/v1/admin/secrets/{name}/rollback",
        "/api/v1/admin/logs",
        "/functions/v1/{name}",
    ] {
        assert!(paths.contains_key(path), "{path} is not described");
    }
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    assert_eq!(server.request("GET", "/health", false, None).status, 200);
    assert_eq!(server.terminate(), Some(0));
}

#[test]
fn a_sentinel_value_appears_in_no_response_header_or_log_line() {
    let secret = support::sentinel();
    let host = Host::new();
    let server = Server::start(&host, &[]);
    let mut answers = vec![
        server.request(
            "POST",
            "/api/v1/admin/secrets",
            true,
            Some(&format!(r#"{{"name":"LEAK","value":"{secret}"}}"#)),
        ),
        server.request(
            "POST",
            "/api/v1/admin/secrets",
            true,
            Some(&format!(r#"{{"name":"LEAK","value":"{secret}"}}"#)),
        ),
        server.request(
            "PUT",
            "/api/v1/admin/secrets/LEAK",
            true,
            Some(&format!(r#"{{"value":"{secret}"}}"#)),
        ),
        server.request(
            "PUT",
            "/api/v1/admin/secrets/NOPE",
            true,
            Some(&format!(r#"{{"value":"{secret}"}}"#)),
        ),
        server.request(
            "POST",
            "/api/v1/admin/secrets",
            true,
            Some(&format!(r#"{{"name":"bad-name","value":"{secret}"}}"#)),
        ),
        server.request(
            "POST",
            "/api/v1/admin/secrets",
            true,
            Some(&format!(r#"{{"name":"X","value":"{secret}","extra":1}}"#)),
        ),
        server.request(
            "POST",
            "/api/v1/admin/secrets",
            true,
            Some(&format!(r#"{{"name":"X","value":["{secret}"]}}"#)),
        ),
        server.request(
            "POST",
            "/api/v1/admin/secrets",
            true,
            Some(&format!(r#"{{"name":"X","value":"{secret}"#)),
        ),
        server.request("GET", "/api/v1/admin/secrets", true, None),
        server.request("GET", "/api/v1/admin/secrets/LEAK", true, None),
        server.request("GET", "/api/v1/admin/secrets/LEAK/history", true, None),
        server.request(
            "POST",
            "/api/v1/admin/secrets/LEAK/rollback",
            true,
            Some(r#"{"version":1}"#),
        ),
        server.request("GET", "/api/v1/admin/logs?limit=1000", true, None),
        server.request("GET", "/functions/v1/logs", false, None),
        server.request(
            "GET",
            "/functions/v1/secrets?name=MISSING&required=1",
            false,
            None,
        ),
        server.request("DELETE", "/api/v1/admin/secrets/LEAK", true, None),
    ];
    host.run(&["secrets", "set", "API_KEY", &secret]).ok();
    answers.push(server.request("GET", "/functions/v1/logs", false, None));
    answers.push(server.request("GET", "/api/v1/admin/logs?category=execution", true, None));
    for answer in &answers {
        assert!(
            !answer.body.contains(&secret),
            "value in a body: {answer:#?}"
        );
        for (name, value) in &answer.headers {
            assert!(!value.contains(&secret), "value in header {name}");
        }
    }
    let log = server.log.lock().unwrap().clone();
    assert!(log.len() > answers.len(), "request logging was on: {log:?}");
    for line in &log {
        assert!(!line.contains(&secret), "value in a log line: {line}");
    }
}

#[test]
fn new_and_changed_handler_files_are_picked_up_without_a_restart() {
    let host = Host::new();
    let dir = tempfile::tempdir().unwrap();
    let functions = dir.path().join("functions");
    std::fs::create_dir_all(&functions).unwrap();
    let write = |name: &str, text: &str| {
        let source = format!(
            "// @fluxbase:allow-unauthenticated\nexport default async function handler(_req: Request): Promise<Response> {{\n  return new Response({text:?});\n}}\n"
        );
        std::fs::write(functions.join(name), source).unwrap();
    };
    write("greet.ts", "first");
    let server = Server::start_in(&host, &functions, &dir.path().join("jobs"), &[]);
    assert_eq!(
        server
            .request("GET", "/functions/v1/greet", false, None)
            .body,
        "first"
    );

    // The same size and a new modification time, as an editor saving a file would.
    std::thread::sleep(std::time::Duration::from_millis(20));
    write("greet.ts", "again");
    assert_eq!(
        server
            .request("GET", "/functions/v1/greet", false, None)
            .body,
        "again"
    );

    server
        .request("GET", "/functions/v1/added", false, None)
        .error(404, "no function added");
    write("added.ts", "new file");
    assert_eq!(
        server
            .request("GET", "/functions/v1/added", false, None)
            .body,
        "new file"
    );
}
