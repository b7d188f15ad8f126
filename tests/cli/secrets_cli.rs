//! The `fluxbase secrets` life cycle through the real binary and a real store.

use crate::support;

use support::{Backend, Host};

#[test]
fn full_life_cycle() {
    let host = Host::new();
    life_cycle(&host);
    match host.backend() {
        Backend::Sqlite => assert!(host.data_dir.join("master.key").exists()),
        Backend::Postgres => assert!(
            !host.data_dir.exists(),
            "nothing written locally for a server database"
        ),
    }
}

#[test]
fn a_shared_database_needs_an_explicit_key() {
    if let Some(mut host) = Host::postgres("a_shared_database_needs_an_explicit_key") {
        host.env.retain(|(k, _)| k != "FLUXBASE_ENCRYPTION_KEY");
        host.run(&["secrets", "list"])
            .fails_with("set FLUXBASE_ENCRYPTION_KEY: a shared database needs the same master key");
    }
}

fn life_cycle(host: &Host) {
    let first = host.run(&[
        "secrets",
        "set",
        "stripe_key",
        "v1",
        "--description",
        "Stripe",
    ]);
    assert!(first.ok().contains("Set STRIPE_KEY (global) to version 1."));
    let generated = first.stderr.contains("generated a new master key");
    assert_eq!(
        generated,
        host.env.iter().all(|(k, _)| k != "FLUXBASE_ENCRYPTION_KEY"),
        "a key is generated (and announced) only without a configured one: {first:#?}"
    );

    let second = host.run(&["secrets", "set", "STRIPE_KEY", "v2"]);
    assert!(!second.stderr.contains("generated"), "announced once only");
    assert!(second.ok().contains("version 2"));

    let meta = host.metadata("Stripe_Key", None);
    assert_eq!(meta["name"], "STRIPE_KEY");
    assert_eq!(meta["scope"], "global");
    assert_eq!(meta["namespace"], serde_json::Value::Null);
    assert_eq!(meta["version"], 2);
    assert_eq!(
        meta["description"], "Stripe",
        "description kept across versions"
    );
    assert_eq!(meta["expired"], false);
    assert!(meta.get("value").is_none());

    let table = host.run(&["secrets", "list"]);
    assert!(table.ok().contains("STRIPE_KEY"));
    assert!(table.ok().contains("Stripe"));

    assert_eq!(host.versions("stripe_key", None), vec![1, 2]);
    let rolled = host.run(&["secrets", "rollback", "stripe_key", "1"]);
    assert!(
        rolled
            .ok()
            .contains("version 3 holds the value of version 1")
    );
    let history = host
        .run(&["secrets", "history", "stripe_key", "-o", "json"])
        .json();
    assert_eq!(history[2]["version"], 3);
    assert_eq!(history[2]["restored_from"], 1);
    assert_eq!(history[2]["created_by"], "cli:tester");
    assert!(
        host.run(&["secrets", "verify"])
            .ok()
            .contains("All 3 version(s)")
    );

    let deleted = host.run(&["secrets", "delete", "stripe_key"]);
    assert!(
        deleted
            .ok()
            .contains("Deleted STRIPE_KEY (global): its 3 version(s) are kept until ")
    );
    host.run(&["secrets", "get", "stripe_key"])
        .fails_with("secret STRIPE_KEY (global) is deleted");
    assert!(host.run(&["secrets", "list"]).ok().contains("No secrets."));

    let actions: Vec<String> = host
        .audit()
        .iter()
        .map(|r| format!("{} {}", r["action"].as_str().unwrap(), r["version"]))
        .collect();
    assert_eq!(
        actions,
        ["delete 3", "rollback 3", "set 2", "set 1"],
        "every change audited, newest first"
    );
}

#[test]
fn namespace_and_global_secrets_are_separate() {
    let host = Host::new();
    host.run(&["secrets", "set", "DB_URL", "global-value"]).ok();
    host.run(&[
        "secrets",
        "set",
        "DB_URL",
        "billing-value",
        "--namespace",
        "billing",
    ])
    .ok();
    host.run(&[
        "secrets",
        "set",
        "DB_URL",
        "search-value",
        "--scope",
        "namespace",
        "--namespace",
        "search",
    ])
    .ok();

    assert_eq!(host.metadata("DB_URL", None)["scope"], "global");
    let billing = host.metadata("DB_URL", Some("billing"));
    assert_eq!(billing["scope"], "namespace");
    assert_eq!(billing["namespace"], "billing");

    let all = host.run(&["secrets", "list", "-o", "json"]).json();
    assert_eq!(all.as_array().unwrap().len(), 3);
    let globals = host
        .run(&["secrets", "list", "--scope", "global", "-o", "json"])
        .json();
    assert_eq!(globals.as_array().unwrap().len(), 1);
    let namespaced = host
        .run(&["secrets", "list", "--scope", "namespace", "-o", "json"])
        .json();
    assert_eq!(namespaced.as_array().unwrap().len(), 2);
    let search = host
        .run(&["secrets", "list", "--namespace", "search", "-o", "json"])
        .json();
    assert_eq!(search.as_array().unwrap().len(), 1);
    assert_eq!(search[0]["namespace"], "search");

    // Versions are per secret: a new global version leaves the namespace ones alone.
    host.run(&["secrets", "set", "DB_URL", "global-2"]).ok();
    assert_eq!(host.versions("DB_URL", None), vec![1, 2]);
    assert_eq!(host.versions("DB_URL", Some("billing")), vec![1]);

    // Deleting one leaves the others.
    host.run(&["secrets", "delete", "DB_URL", "--namespace", "billing"])
        .ok();
    host.run(&["secrets", "get", "DB_URL", "--namespace", "billing"])
        .fails_with(
            "secret DB_URL (namespace billing) is deleted; \
             `fluxbase secrets undelete DB_URL --namespace billing` restores it until ",
        );
    assert_eq!(host.metadata("DB_URL", None)["version"], 2);
    assert_eq!(host.metadata("DB_URL", Some("search"))["version"], 1);
}

#[test]
fn value_can_come_from_stdin() {
    let host = Host::new();
    host.run_with_stdin(&["secrets", "set", "PEM", "-"], b"line1\nline2\n")
        .ok();
    assert_eq!(host.metadata("PEM", None)["version"], 1);
    host.run_with_stdin(&["secrets", "set", "EMPTY", "-"], b"\n")
        .fails_with("secret value is empty");
}

#[test]
fn expiry_is_recorded_and_reported() {
    let host = Host::new();
    host.run(&["secrets", "set", "TOKEN", "t", "--expires", "30d"])
        .ok();
    let meta = host.metadata("TOKEN", None);
    let expires =
        chrono::DateTime::parse_from_rfc3339(meta["expires_at"].as_str().unwrap()).unwrap();
    let days = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_hours() as f64 / 24.0;
    assert!((29.9..=30.0).contains(&days), "30d is {days} days away");
    assert_eq!(meta["expired"], false);

    host.run(&["secrets", "set", "SHORT", "s", "--expires", "1s"])
        .ok();
    std::thread::sleep(std::time::Duration::from_millis(1_200));
    assert_eq!(host.metadata("SHORT", None)["expired"], true);
    assert!(host.run(&["secrets", "list"]).ok().contains("(expired)"));

    host.run(&[
        "secrets",
        "set",
        "DATED",
        "d",
        "--expires",
        "2099-01-31T00:00:00Z",
    ])
    .ok();
    assert_eq!(
        host.metadata("DATED", None)["expires_at"],
        "2099-01-31T00:00:00Z"
    );

    // A new value without --expires does not expire; the description is kept.
    host.run(&["secrets", "set", "SHORT", "s2"]).ok();
    let renewed = host.metadata("SHORT", None);
    assert_eq!(renewed["expires_at"], serde_json::Value::Null);
    assert_eq!(renewed["expired"], false);
}

#[test]
fn check_and_set_refuses_a_stale_version() {
    let host = Host::new();
    host.run(&["secrets", "set", "K", "a", "--if-version", "0"])
        .ok();
    host.run(&["secrets", "set", "K", "b", "--if-version", "0"])
        .fails_with("K (global) is at version 1, not 0; nothing was changed");
    host.run(&["secrets", "set", "K", "b", "--if-version", "1"])
        .ok();
    host.run(&["secrets", "set", "K", "c", "--if-version", "1"])
        .fails_with("is at version 2, not 1");
    host.run(&["secrets", "rollback", "K", "1", "--if-version", "1"])
        .fails_with("is at version 2, not 1");
    assert_eq!(
        host.versions("K", None),
        vec![1, 2],
        "refused writes left nothing behind"
    );
    assert_eq!(host.audit().len(), 2);
}

#[test]
fn every_bad_input_is_refused_with_a_clear_message() {
    let host = Host::new();
    host.run(&["secrets", "set", "GOOD", "v"]).ok();

    let cases: &[(&[&str], &str)] = &[
        (&["secrets", "get", "MISSING"], "no secret MISSING (global)"),
        (
            &["secrets", "delete", "MISSING"],
            "no secret MISSING (global)",
        ),
        (
            &["secrets", "history", "MISSING"],
            "no secret MISSING (global)",
        ),
        (
            &["secrets", "rollback", "MISSING", "1"],
            "no secret MISSING (global)",
        ),
        (
            &["secrets", "get", "GOOD", "--namespace", "other"],
            "no secret GOOD (namespace other)",
        ),
        (
            &["secrets", "set", "1ABC", "v"],
            "cannot start with a digit",
        ),
        (
            &["secrets", "set", "A-B", "v"],
            "use only letters, digits and _",
        ),
        (
            &["secrets", "set", "FLUXBASE_TOKEN", "v"],
            "prefix is reserved",
        ),
        (
            &["secrets", "get", "bad name"],
            "use only letters, digits and _",
        ),
        (
            &["secrets", "set", "A", "v", "--namespace", "Prod"],
            "invalid namespace \"Prod\"",
        ),
        (
            &["secrets", "set", "A", "v", "--namespace", "a.b"],
            "invalid namespace",
        ),
        (
            &["secrets", "set", "A", "v", "--scope", "namespace"],
            "--scope namespace needs --namespace",
        ),
        (
            &[
                "secrets",
                "set",
                "A",
                "v",
                "--scope",
                "global",
                "--namespace",
                "x",
            ],
            "a global secret has no namespace",
        ),
        (
            &["secrets", "set", "A", "v", "--expires", "soon"],
            "invalid expiry \"soon\"",
        ),
        (
            &["secrets", "set", "A", "v", "--expires", "30"],
            "invalid expiry",
        ),
        (
            &[
                "secrets",
                "set",
                "A",
                "v",
                "--expires",
                "2001-01-01T00:00:00Z",
            ],
            "is in the past",
        ),
        (&["secrets", "set", "A", ""], "secret value is empty"),
        (
            &["secrets", "rollback", "GOOD", "7"],
            "GOOD (global) has no version 7",
        ),
        (
            &["secrets", "rollback", "GOOD", "1"],
            "version 1 is already the current version of GOOD (global)",
        ),
        (&["secrets", "rollback", "GOOD", "0"], "has no version 0"),
    ];
    for (args, message) in cases {
        host.run(args).fails_with(message);
    }
    let long_name = "N".repeat(129);
    host.run(&["secrets", "set", &long_name, "v"])
        .fails_with("longer than 128 characters");
    let big = "x".repeat(64 * 1024 + 1);
    host.run_with_stdin(&["secrets", "set", "BIG", "-"], big.as_bytes())
        .fails_with("the limit is 65536 bytes");
    let invalid_utf8 = host.run_with_stdin(&["secrets", "set", "BIN", "-"], &[0xff, 0xfe]);
    assert_ne!(invalid_utf8.code, 0);
    assert!(
        invalid_utf8.stderr.starts_with("error: "),
        "{invalid_utf8:#?}"
    );

    // A name without a value (it is not NAME=VALUE either).
    host.run(&["secrets", "set", "ONLY_NAME"])
        .fails_with("a value is missing: give `secrets set NAME VALUE`");
    // Usage errors come from clap with its own exit code.
    let usage = host.run(&["secrets", "set"]);
    assert_eq!(usage.code, 2, "{usage:#?}");
    let bad_scope = host.run(&["secrets", "list", "--scope", "planet"]);
    assert_eq!(bad_scope.code, 2, "{bad_scope:#?}");

    // Nothing was written by any refused command.
    assert_eq!(
        host.run(&["secrets", "list", "-o", "json"])
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(host.versions("GOOD", None), vec![1]);
    assert_eq!(host.audit().len(), 1);
}
