//! `fluxbase settings secrets` against a real store, locally and with `--url` against a real
//! server: the same output either way, and the API and the CLI see the same secrets.

use crate::settings_support;
use crate::support;

use settings_support::{server_env, token};
use support::Host;
use support::server::{SERVICE_KEY, Server};

#[test]
fn set_get_list_delete_with_the_conventions_of_secrets() {
    let host = Host::new();
    let run = |args: &[&str]| {
        let mut all = vec!["settings", "secrets"];
        all.extend(args);
        host.run(&all)
    };

    assert_eq!(run(&["list"]).ok(), "No settings secrets.\n");
    assert_eq!(
        run(&["set", "openai_key", "sk-system", "--description", "OpenAI"]).ok(),
        "Created settings secret OPENAI_KEY (system).\n"
    );
    assert_eq!(
        run(&["set", "OPENAI_KEY", "sk-system-2"]).ok(),
        "Replaced the value of settings secret OPENAI_KEY (system).\n"
    );
    let piped = host.run_with_stdin(
        &[
            "settings",
            "secrets",
            "set",
            "openai_key",
            "-",
            "--user",
            "alice",
        ],
        b"sk-alice\n",
    );
    assert_eq!(
        piped.ok(),
        "Created settings secret OPENAI_KEY (user alice).\n"
    );

    let system = run(&["get", "openai_key", "-o", "json"]).json();
    assert_eq!(system["scope"], "system");
    assert_eq!(system["description"], "OpenAI", "kept by the second set");
    let table = run(&["get", "OPENAI_KEY", "--user", "alice"]);
    assert!(
        table.ok().contains("alice") && table.ok().contains("user"),
        "{table:#?}"
    );

    let listed = run(&["list"]).ok().to_owned();
    assert!(
        listed.contains("OPENAI_KEY") && listed.contains("system"),
        "{listed}"
    );
    assert!(!listed.contains("alice"), "system list only: {listed}");
    let of_alice = run(&["list", "--user", "alice", "-o", "json"]).json();
    assert_eq!(of_alice.as_array().unwrap().len(), 1);
    assert_eq!(of_alice[0]["user"], "alice");
    assert_eq!(
        run(&["list", "--user", "bob", "-o", "json"]).json(),
        serde_json::json!([])
    );

    // No value is ever printed.
    for args in [
        &["list"][..],
        &["list", "--user", "alice", "-o", "json"],
        &["get", "OPENAI_KEY", "-o", "json"],
    ] {
        let out = run(args);
        assert!(!out.stdout.contains("sk-"), "{out:#?}");
    }

    // Errors: one line, exit 1.
    run(&["get", "missing", "--user", "bob"]).fails_with("no settings secret MISSING (user bob)");
    run(&["delete", "missing"]).fails_with("no settings secret MISSING (system)");
    run(&["set", "bad-key", "v"]).fails_with("invalid secret name");
    run(&["set", "K", "v", "--user", "a b"]).fails_with("invalid user id");
    run(&["set", "K", ""]).fails_with("secret value is empty");
    run(&["set", "FLUXBASE_K", "v"]).fails_with("reserved");

    assert_eq!(
        run(&["delete", "openai_key", "--user", "alice"]).ok(),
        "Deleted settings secret OPENAI_KEY (user alice).\n"
    );
    assert_eq!(
        run(&["delete", "openai_key", "-o", "json"]).json(),
        serde_json::json!({ "deleted": true })
    );
    assert_eq!(run(&["list", "-o", "json"]).json(), serde_json::json!([]));

    // Each change has its audit record, with the CLI's actor and no value.
    let audit: Vec<serde_json::Value> = host
        .audit()
        .into_iter()
        .filter(|r| r["action"].as_str().unwrap().starts_with("settings-"))
        .collect();
    assert_eq!(audit.len(), 5, "{audit:#?}");
    assert!(audit.iter().all(|r| r["actor"] == "cli:tester"));
    assert!(
        audit
            .iter()
            .any(|r| r["scope"] == "user" && r["detail"].as_str().unwrap().contains("user alice"))
    );
    assert!(!serde_json::to_string(&audit).unwrap().contains("sk-"));
}

#[test]
fn the_cli_prints_the_same_locally_and_through_a_server_and_sees_what_the_api_wrote() {
    let host = Host::new();
    let server = Server::start_with_env(&host, &[], &server_env());
    let remote = |args: &[&str]| {
        let mut all = vec!["settings", "secrets"];
        all.extend(args);
        host.run_with_env(
            &all,
            &[
                ("FLUXBASE_URL", server.base.as_str()),
                ("FLUXBASE_SERVICE_KEY", SERVICE_KEY),
            ],
        )
    };
    let local = |args: &[&str]| {
        let mut all = vec!["settings", "secrets"];
        all.extend(args);
        host.run(&all)
    };

    // Written through the CLI's remote mode, the user API and the local CLI.
    assert_eq!(
        remote(&["set", "REGION", "eu", "--description", "where"]).ok(),
        "Created settings secret REGION (system).\n"
    );
    assert_eq!(
        remote(&["set", "REGION", "us"]).ok(),
        "Replaced the value of settings secret REGION (system).\n"
    );
    let by_api = server.send(
        "PUT",
        "/api/v1/settings/secrets/api_key",
        Some(&token("user@example.com")),
        &[],
        Some(br#"{"value":"from-the-api"}"#),
        true,
    );
    assert_eq!(by_api.status, 201, "{by_api:#?}");
    local(&["set", "OTHER", "x", "--user", "user@example.com"]).ok();

    for args in [
        &["list"][..],
        &["list", "-o", "json"],
        &["list", "--user", "user@example.com"],
        &["list", "--user", "user@example.com", "-o", "json"],
        &["get", "region"],
        &["get", "region", "-o", "json"],
        &["get", "API_KEY", "--user", "user@example.com", "-o", "json"],
    ] {
        let (here, there) = (local(args), remote(args));
        assert_eq!(here.ok(), there.ok(), "{args:?}");
    }
    let listed = local(&["list", "--user", "user@example.com", "-o", "json"]).json();
    let keys: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["API_KEY", "OTHER"]);

    // The API answers what the CLI prints as JSON.
    let api = server.request(
        "GET",
        "/api/v1/admin/settings/secrets?user=user%40example.com",
        true,
        None,
    );
    assert_eq!(api.json(), listed);

    // Errors read the same.
    for args in [&["get", "nope"][..], &["delete", "nope", "--user", "bob"]] {
        let (here, there) = (local(args), remote(args));
        assert_eq!(here.code, 1);
        assert_eq!(here.stderr, there.stderr, "{args:?}");
    }
    assert_eq!(
        remote(&["delete", "REGION"]).ok(),
        "Deleted settings secret REGION (system).\n"
    );
    assert_eq!(local(&["list", "-o", "json"]).json(), serde_json::json!([]));
}
