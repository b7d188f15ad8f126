//! Undoing a delete, and removing for good: soft delete with a retention period, `undelete`,
//! `destroy`, the purge at the end of the retention, and `--max-versions`, through the real
//! binary (and a real server) on the suite's store.

use std::time::{Duration, Instant};

use crate::support;

use support::server::Server;
use support::{Backend, Host, contains_bytes, fixtures, hex, open_database};

/// The names of the `FLUXBASE_SECRET_*` variables a function of `namespace` is given.
fn injected(host: &Host, namespace: &str) -> Vec<String> {
    let dir = fixtures("functions").display().to_string();
    let run = host.run(&[
        "functions",
        "invoke",
        "env",
        "--dir",
        &dir,
        "--namespace",
        namespace,
    ]);
    let json: serde_json::Value = serde_json::from_str(run.ok()).unwrap();
    json["env"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| k.starts_with("FLUXBASE_SECRET_"))
        .cloned()
        .collect()
}

fn names(listing: &serde_json::Value) -> Vec<String> {
    listing
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect()
}

fn audit_actions(host: &Host) -> Vec<String> {
    host.audit()
        .iter()
        .map(|r| r["action"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn delete_keeps_every_version_and_undelete_restores_them() {
    let host = Host::new();
    for value in ["value-one", "value-two", "value-three"] {
        host.run(&["secrets", "set", "API_KEY", value, "--namespace", "billing"])
            .ok();
    }
    host.run(&["secrets", "set", "OTHER", "kept"]).ok();
    let before = host.metadata("API_KEY", Some("billing"));
    assert_eq!(
        injected(&host, "billing"),
        ["FLUXBASE_SECRET_API_KEY", "FLUXBASE_SECRET_OTHER"]
    );

    let deleted = host.run(&["secrets", "delete", "API_KEY", "--namespace", "billing"]);
    assert!(
        deleted
            .ok()
            .starts_with("Deleted API_KEY (namespace billing): its 3 version(s) are kept until "),
        "{deleted:#?}"
    );
    // Not injected, not listed, not readable; listed with --deleted, with its retention.
    assert_eq!(injected(&host, "billing"), ["FLUXBASE_SECRET_OTHER"]);
    let live = host.run(&["secrets", "list", "-o", "json"]).json();
    assert_eq!(names(&live), ["OTHER"]);
    let gone = host
        .run(&["secrets", "list", "--deleted", "-o", "json"])
        .json();
    assert_eq!(names(&gone), ["API_KEY"]);
    let deleted_at = gone[0]["deleted_at"].as_str().unwrap();
    let purge_at = gone[0]["purge_at"].as_str().unwrap();
    let days = chrono::DateTime::parse_from_rfc3339(purge_at).unwrap()
        - chrono::DateTime::parse_from_rfc3339(deleted_at).unwrap();
    assert_eq!(days.num_days(), 30, "the default retention is 30 days");
    let table = host.run(&["secrets", "list", "--deleted"]);
    assert!(table.ok().contains("DESTROYED AFTER"), "{table:#?}");
    assert!(table.ok().contains(purge_at), "{table:#?}");
    for args in [
        &["secrets", "get", "API_KEY", "--namespace", "billing"][..],
        &["secrets", "history", "API_KEY", "--namespace", "billing"],
        &[
            "secrets",
            "rollback",
            "API_KEY",
            "1",
            "--namespace",
            "billing",
        ],
        &["secrets", "delete", "API_KEY", "--namespace", "billing"],
    ] {
        host.run(args).fails_with(
            "secret API_KEY (namespace billing) is deleted; \
             `fluxbase secrets undelete API_KEY --namespace billing` restores it until ",
        );
    }
    host.run(&["secrets", "undelete", "OTHER"])
        .fails_with("secret OTHER (global) is not deleted; nothing to undelete");
    host.run(&["secrets", "undelete", "NEVER"])
        .fails_with("no secret NEVER (global)");

    let restored = host.run(&["secrets", "undelete", "API_KEY", "--namespace", "billing"]);
    assert_eq!(
        restored.ok(),
        "Restored API_KEY (namespace billing) at version 3.\n"
    );
    let after = host.metadata("API_KEY", Some("billing"));
    for field in [
        "version",
        "digest",
        "description",
        "expires_at",
        "created_at",
    ] {
        assert_eq!(after[field], before[field], "{field} restored");
    }
    assert_eq!(after["deleted_at"], serde_json::Value::Null);
    assert_eq!(host.versions("API_KEY", Some("billing")), vec![1, 2, 3]);
    assert_eq!(
        injected(&host, "billing"),
        ["FLUXBASE_SECRET_API_KEY", "FLUXBASE_SECRET_OTHER"]
    );
    // Every version came back: the first one's value can be restored.
    host.run(&[
        "secrets",
        "rollback",
        "API_KEY",
        "1",
        "--namespace",
        "billing",
    ])
    .ok();
    host.run(&["secrets", "set", "PROBE", "value-one"]).ok();
    assert_eq!(
        host.metadata("API_KEY", Some("billing"))["digest"],
        host.metadata("PROBE", None)["digest"],
        "version 4 holds version 1's value"
    );
    assert!(
        host.run(&["secrets", "verify"])
            .ok()
            .contains("All 6 version(s)")
    );

    let actions = audit_actions(&host);
    assert_eq!(
        actions[..4],
        ["set", "rollback", "undelete", "delete"],
        "{actions:?}"
    );
    support::assert_database_is_whole(&host);
}

#[test]
fn a_new_value_brings_a_deleted_secret_back_with_its_history() {
    let host = Host::new();
    host.run(&["secrets", "set", "TOKEN", "first"]).ok();
    host.run(&["secrets", "delete", "TOKEN"]).ok();
    // Check-and-set treats a deleted secret as absent.
    host.run(&["secrets", "set", "TOKEN", "second", "--if-version", "1"])
        .fails_with("TOKEN (global) is at version 0, not 1");
    let set = host.run(&["secrets", "set", "TOKEN", "second", "--if-version", "0"]);
    assert_eq!(set.ok(), "Set TOKEN (global) to version 2.\n");
    assert_eq!(host.versions("TOKEN", None), vec![1, 2]);
    assert!(
        names(
            &host
                .run(&["secrets", "list", "--deleted", "-o", "json"])
                .json()
        )
        .is_empty()
    );
    let audit = host.audit();
    assert_eq!(audit[0]["action"], "set");
    assert_eq!(
        audit[0]["detail"],
        "brought back from deletion by a new value"
    );
}

/// Every ciphertext stored for `name`, from the database itself.
async fn envelopes(host: &Host, name: &str) -> Vec<Vec<u8>> {
    let pool = open_database(host).await;
    let found: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT v.envelope FROM secret_versions v JOIN secrets s ON s.id = v.secret_id \
         WHERE s.name = $1 ORDER BY v.version",
    )
    .bind(name)
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    found
}

/// Asserts that no stored byte (database file, write-ahead log, PostgreSQL rows) holds any part
/// of these ciphertexts: each is looked for by its 32 last bytes (sealed value and tag), raw and
/// in hex.
fn assert_no_trace_of(host: &Host, ciphertexts: &[Vec<u8>]) {
    let stored = host.stored_bytes();
    assert!(!stored.is_empty());
    for ciphertext in ciphertexts {
        let tail = &ciphertext[ciphertext.len() - 32..];
        for (place, bytes) in &stored {
            assert!(!contains_bytes(bytes, tail), "ciphertext left in {place}");
            assert!(
                !contains_bytes(bytes, hex(tail).as_bytes()),
                "ciphertext (hex) left in {place}"
            );
        }
    }
}

#[tokio::test]
async fn destroy_wipes_every_version_of_a_live_or_deleted_secret() {
    let host = Host::new();
    for value in ["doomed-1", "doomed-2", "doomed-3"] {
        host.run(&["secrets", "set", "DOOMED", value]).ok();
    }
    host.run(&["secrets", "set", "DELETED_FIRST", "also-doomed"])
        .ok();
    host.run(&["secrets", "set", "SURVIVOR", "stays"]).ok();
    let doomed = envelopes(&host, "DOOMED").await;
    let deleted_first = envelopes(&host, "DELETED_FIRST").await;
    let survivor = envelopes(&host, "SURVIVOR").await;
    assert_eq!(doomed.len(), 3);
    // The check itself finds a ciphertext that is there.
    let stored = host.stored_bytes();
    let tail = &survivor[0][survivor[0].len() - 32..];
    assert!(stored.iter().any(|(_, bytes)| {
        contains_bytes(bytes, tail) || contains_bytes(bytes, hex(tail).as_bytes())
    }));

    let destroyed = host.run(&["secrets", "destroy", "DOOMED"]);
    assert_eq!(
        destroyed.ok(),
        "Destroyed DOOMED (global): its 3 version(s) are wiped and cannot be restored.\n"
    );
    host.run(&["secrets", "delete", "DELETED_FIRST"]).ok();
    let json = host
        .run(&["secrets", "destroy", "DELETED_FIRST", "-o", "json"])
        .json();
    assert_eq!(
        json,
        serde_json::json!({ "destroyed": true, "versions": 1 })
    );

    assert_no_trace_of(&host, &doomed);
    assert_no_trace_of(&host, &deleted_first);
    for name in ["DOOMED", "DELETED_FIRST"] {
        host.run(&["secrets", "undelete", name])
            .fails_with(&format!("no secret {name} (global)"));
        host.run(&["secrets", "destroy", name])
            .fails_with(&format!("no secret {name} (global)"));
    }
    assert!(
        names(
            &host
                .run(&["secrets", "list", "--deleted", "-o", "json"])
                .json()
        )
        .is_empty()
    );
    assert_eq!(
        names(&host.run(&["secrets", "list", "-o", "json"]).json()),
        ["SURVIVOR"]
    );
    assert!(
        host.run(&["secrets", "verify"])
            .ok()
            .contains("All 1 version(s)")
    );
    let audit = host.audit();
    assert_eq!(audit[0]["action"], "destroy");
    assert_eq!(
        audit[0]["detail"],
        "destroyed 1 version(s); their values are wiped"
    );
    support::assert_database_is_whole(&host);
    if host.backend() == Backend::Sqlite {
        let wal = host.data_dir.join("fluxbase.db-wal");
        let size = std::fs::metadata(&wal).map_or(0, |m| m.len());
        assert_eq!(
            size, 0,
            "the write-ahead log was truncated after the destroy"
        );
    }
}

#[test]
fn the_next_write_after_the_retention_destroys_a_deleted_secret() {
    let host = Host::new().with_env("FLUXBASE_DELETED_RETENTION", "1ms");
    host.run(&["secrets", "set", "SHORT_LIVED", "soon-gone"])
        .ok();
    host.run(&["secrets", "delete", "SHORT_LIVED"]).ok();
    std::thread::sleep(Duration::from_millis(20));
    host.run(&["secrets", "set", "UNRELATED", "write"]).ok();
    assert!(
        names(
            &host
                .run(&["secrets", "list", "--deleted", "-o", "json"])
                .json()
        )
        .is_empty()
    );
    host.run(&["secrets", "undelete", "SHORT_LIVED"])
        .fails_with("no secret SHORT_LIVED (global)");
    let purge = host
        .audit()
        .into_iter()
        .find(|r| r["action"] == "purge")
        .expect("the purge is audited");
    assert_eq!(purge["actor"], "fluxbase:retention");
    assert_eq!(purge["name"], "SHORT_LIVED");

    host.run_with_env(
        &["secrets", "list"],
        &[("FLUXBASE_DELETED_RETENTION", "soon")],
    )
    .fails_with("invalid FLUXBASE_DELETED_RETENTION \"soon\": use a duration such as 30d");
}

#[test]
fn the_server_destroys_deleted_secrets_when_their_retention_ends() {
    let host = Host::new();
    let server = Server::start_with_env(&host, &[], &[("FLUXBASE_DELETED_RETENTION", "1s")]);
    let created = server.request(
        "POST",
        "/api/v1/admin/secrets",
        true,
        Some(r#"{"name":"EPHEMERAL","value":"short-retention"}"#),
    );
    assert_eq!(created.status, 201, "{created:?}");
    let deleted = server.request("DELETE", "/api/v1/admin/secrets/EPHEMERAL", true, None);
    assert_eq!(deleted.json()["versions"], 1);
    let listed = server.request("GET", "/api/v1/admin/secrets?deleted=true", true, None);
    assert_eq!(names(&listed.json()), ["EPHEMERAL"]);

    // No write follows: the server's own task destroys it.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let listed = server.request("GET", "/api/v1/admin/secrets?deleted=true", true, None);
        if names(&listed.json()).is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "still kept after 15 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    server
        .request(
            "POST",
            "/api/v1/admin/secrets/EPHEMERAL/undelete",
            true,
            None,
        )
        .error(404, "no secret EPHEMERAL (global)");
    server.log_with("destroyed 1 deleted secret(s) whose retention period had ended");
}

#[test]
fn undelete_and_destroy_over_the_api_and_the_remote_cli() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    let remote = |args: &[&str]| {
        host.run_with_env(
            args,
            &[
                ("FLUXBASE_URL", &server.base),
                ("FLUXBASE_SERVICE_KEY", support::server::SERVICE_KEY),
            ],
        )
    };
    remote(&["secrets", "set", "REMOTE", "r1", "--max-versions", "2"]).ok();
    remote(&["secrets", "set", "REMOTE", "r0"]).ok();
    remote(&["secrets", "set", "REMOTE", "r2"]).ok();
    assert_eq!(
        host.versions("REMOTE", None),
        vec![2, 3],
        "--max-versions over --url"
    );
    remote(&["secrets", "rollback", "REMOTE", "1"])
        .fails_with("version 1 of secret REMOTE (global) was destroyed");
    remote(&["secrets", "set", "REMOTE", "r2", "--max-versions", "0"]).ok();
    let local_digest = host.metadata("REMOTE", None)["digest"].clone();
    assert!(
        remote(&["secrets", "delete", "REMOTE"])
            .ok()
            .starts_with("Deleted REMOTE (global): its 3 version(s) are kept until ")
    );
    let deleted = remote(&["secrets", "list", "--deleted", "-o", "json"]).json();
    assert_eq!(names(&deleted), ["REMOTE"]);
    assert_eq!(deleted[0]["digest"], local_digest);
    remote(&["secrets", "get", "REMOTE"]).fails_with("secret REMOTE (global) is deleted");
    assert_eq!(
        remote(&["secrets", "undelete", "REMOTE"]).ok(),
        "Restored REMOTE (global) at version 4.\n"
    );
    remote(&["secrets", "undelete", "REMOTE"]).fails_with("is not deleted; nothing to undelete");
    server
        .request("POST", "/api/v1/admin/secrets/REMOTE/undelete", true, None)
        .error(409, "is not deleted");
    assert_eq!(host.versions("REMOTE", None), vec![2, 3, 4]);
    assert_eq!(
        remote(&["secrets", "destroy", "REMOTE"]).ok(),
        "Destroyed REMOTE (global): its 3 version(s) are wiped and cannot be restored.\n"
    );
    server
        .request("POST", "/api/v1/admin/secrets/REMOTE/destroy", true, None)
        .error(404, "no secret REMOTE (global)");
    let audit = host.audit();
    let actions: Vec<&str> = audit
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions[..3], ["destroy", "undelete", "delete"]);
    assert!(
        audit.iter().all(|r| r["actor"] == "api:service-key"),
        "{audit:?}"
    );
}

#[test]
fn max_versions_destroys_older_versions_and_they_cannot_be_rolled_back_to() {
    let host = Host::new();
    host.run(&["secrets", "set", "ROLLING", "roll-1", "--max-versions", "2"])
        .ok();
    for value in ["roll-2", "roll-3", "roll-4"] {
        host.run(&["secrets", "set", "ROLLING", value]).ok();
    }
    assert_eq!(host.versions("ROLLING", None), vec![3, 4]);
    let meta = host.metadata("ROLLING", None);
    assert_eq!(meta["max_versions"], 2);
    assert_eq!(meta["pruned_through"], 2);
    let history = host.run(&["secrets", "history", "ROLLING"]);
    assert!(
        history.ok().contains(
            "Versions 1 to 2 were destroyed: the secret keeps its newest 2 (max-versions)."
        ),
        "{history:#?}"
    );
    for version in ["1", "2"] {
        host.run(&["secrets", "rollback", "ROLLING", version])
            .fails_with(&format!(
                "version {version} of secret ROLLING (global) was destroyed (the secret keeps only \
             its newest versions, --max-versions); it cannot be restored"
            ));
    }
    host.run(&["secrets", "rollback", "ROLLING", "3"]).ok();
    assert_eq!(host.versions("ROLLING", None), vec![4, 5]);
    let prunes: Vec<String> = host
        .audit()
        .iter()
        .filter(|r| r["action"] == "prune")
        .map(|r| r["detail"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        prunes,
        [
            "destroyed versions 3 to 3: the secret keeps its newest 2 (max-versions)",
            "destroyed versions 2 to 2: the secret keeps its newest 2 (max-versions)",
            "destroyed versions 1 to 1: the secret keeps its newest 2 (max-versions)",
        ]
    );

    // Lowering the cap prunes at the next write; 0 removes it.
    host.run(&["secrets", "set", "ROLLING", "roll-6", "--max-versions", "1"])
        .ok();
    assert_eq!(host.versions("ROLLING", None), vec![6]);
    host.run(&["secrets", "set", "ROLLING", "roll-7", "--max-versions", "0"])
        .ok();
    host.run(&["secrets", "set", "ROLLING", "roll-8"]).ok();
    assert_eq!(host.versions("ROLLING", None), vec![6, 7, 8]);
    assert_eq!(
        host.metadata("ROLLING", None)["max_versions"],
        serde_json::Value::Null
    );
    host.run(&["secrets", "set", "ROLLING", "x", "--max-versions=-3"])
        .fails_with("max-versions must be between 1 and 1000000 (0 removes the cap), not -3");
    assert!(
        host.run(&["secrets", "verify"])
            .ok()
            .contains("All 3 version(s)")
    );
    support::assert_database_is_whole(&host);
}

#[test]
fn max_versions_over_the_api() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    let created = server.request(
        "POST",
        "/api/v1/admin/secrets",
        true,
        Some(r#"{"name":"CAPPED","value":"c1","max_versions":1}"#),
    );
    assert_eq!(created.json()["max_versions"], 1);
    server.request(
        "PUT",
        "/api/v1/admin/secrets/CAPPED",
        true,
        Some(r#"{"value":"c2"}"#),
    );
    let history = server.request("GET", "/api/v1/admin/secrets/CAPPED/history", true, None);
    assert_eq!(history.json().as_array().unwrap().len(), 1);
    server
        .request(
            "POST",
            "/api/v1/admin/secrets/CAPPED/rollback",
            true,
            Some(r#"{"version":1}"#),
        )
        .error(404, "version 1 of secret CAPPED (global) was destroyed");
    server
        .request(
            "PUT",
            "/api/v1/admin/secrets/CAPPED",
            true,
            Some(r#"{"max_versions":-1}"#),
        )
        .error(400, "max-versions must be between 1 and 1000000");
    let removed = server.request(
        "PUT",
        "/api/v1/admin/secrets/CAPPED",
        true,
        Some(r#"{"max_versions":0}"#),
    );
    assert_eq!(removed.json()["max_versions"], serde_json::Value::Null);
}

#[test]
fn a_running_server_stops_injecting_a_deleted_secret_at_once_and_undelete_brings_it_back() {
    let host = Host::new();
    host.run(&["secrets", "set", "API_KEY", "warm-value"]).ok();
    let server = Server::start(&host, &[]);
    let seen = || {
        let answer = server.request("GET", "/functions/v1/secrets?name=API_KEY", false, None);
        answer.json()["value"].clone()
    };
    assert_eq!(seen(), "warm-value");
    assert_eq!(seen(), "warm-value", "a warm isolate");
    host.run(&["secrets", "delete", "API_KEY"]).ok();
    assert_eq!(
        seen(),
        serde_json::Value::Null,
        "deleted: gone from the next call"
    );
    host.run(&["secrets", "undelete", "API_KEY"]).ok();
    assert_eq!(seen(), "warm-value");
    host.run(&["secrets", "destroy", "API_KEY"]).ok();
    assert_eq!(seen(), serde_json::Value::Null);
}
