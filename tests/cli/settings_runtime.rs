//! Settings secrets inside real isolates, through a real server: `secrets.get` resolves the
//! function secret, then the caller's settings secret, then the system's; `Deno.env` has them as
//! `FLUXBASE_USER_<KEY>` / `FLUXBASE_SETTING_<KEY>`; a warm isolate serving one user after
//! another never shows one user's secrets to the next; jobs enqueued with a user token get that
//! user's secrets; ciphertexts moved between users never open.

use crate::settings_support;
use crate::support;

use settings_support::{admin_put, server_env, token, user_put};
use support::server::{SERVICE_KEY, Server};
use support::{Host, sha256_hex};

fn start(host: &Host) -> Server {
    Server::start_with_env(host, &[], &server_env())
}

/// What the `settings` fixture saw for `name`, called with `token` (anonymous without).
fn probe(server: &Server, name: &str, token: Option<&str>) -> serde_json::Value {
    let answer = server.send(
        "GET",
        &format!("/functions/v1/settings?name={name}"),
        token,
        &[],
        None,
        false,
    );
    assert_eq!(answer.status, 200, "{answer:#?}");
    answer.json()
}

#[test]
fn secrets_get_resolves_function_secret_then_user_then_system() {
    let host = Host::new();
    let server = start(&host);
    let (alice, bob) = (token("alice"), token("bob"));

    // Nothing anywhere: get is undefined, getRequired throws.
    let seen = probe(&server, "order", Some(&alice));
    assert_eq!(seen["get"], serde_json::Value::Null);
    assert_eq!(seen["required"], "threw: Missing required secret: order");

    // A system settings secret: everyone sees it, as FLUXBASE_SETTING_ORDER too.
    admin_put(&server, "ORDER", None, "from-system");
    for caller in [None, Some(alice.as_str()), Some(bob.as_str())] {
        let seen = probe(&server, "order", caller);
        assert_eq!(seen["get"], "from-system", "{seen}");
        assert_eq!(seen["required"], "from-system");
        assert_eq!(seen["setting"], "from-system");
        assert_eq!(seen["user"], serde_json::Value::Null);
    }

    // Alice's own wins over the system's, for her only.
    user_put(&server, &alice, "order", "from-alice");
    let seen = probe(&server, "ORDER", Some(&alice));
    assert_eq!(seen["get"], "from-alice", "{seen}");
    assert_eq!(seen["user"], "from-alice");
    assert_eq!(seen["setting"], "from-system");
    assert_eq!(
        seen["settingsVars"],
        serde_json::json!(["FLUXBASE_SETTING_ORDER", "FLUXBASE_USER_ORDER"])
    );
    for caller in [None, Some(bob.as_str())] {
        let seen = probe(&server, "order", caller);
        assert_eq!(seen["get"], "from-system", "{seen}");
        assert_eq!(seen["user"], serde_json::Value::Null);
        assert_eq!(
            seen["settingsVars"],
            serde_json::json!(["FLUXBASE_SETTING_ORDER"])
        );
    }

    // A user-only key: the others do not see it, and getRequired throws for them.
    user_put(&server, &bob, "bob_only", "bobs");
    assert_eq!(probe(&server, "bob_only", Some(&bob))["get"], "bobs");
    let seen = probe(&server, "bob_only", Some(&alice));
    assert_eq!(seen["get"], serde_json::Value::Null);
    assert_eq!(seen["required"], "threw: Missing required secret: bob_only");

    // A function secret wins over both (the warm isolate is retired for the new secret).
    let set = host.run(&["secrets", "set", "ORDER", "from-function"]);
    set.ok();
    for caller in [None, Some(alice.as_str()), Some(bob.as_str())] {
        let seen = probe(&server, "order", caller);
        assert_eq!(seen["get"], "from-function", "{seen}");
        assert_eq!(seen["secret"], "from-function");
    }
    // The settings stay visible in Deno.env under their own names.
    assert_eq!(probe(&server, "order", Some(&alice))["user"], "from-alice");

    // The execution record names the settings secrets read, by variable.
    let logs = server
        .request(
            "GET",
            "/api/v1/admin/logs?category=execution&name=settings&limit=100",
            true,
            None,
        )
        .json();
    let accessed: Vec<String> = logs
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["secrets_accessed"].as_array().unwrap().clone())
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    for name in [
        "FLUXBASE_USER_ORDER",
        "FLUXBASE_SETTING_ORDER",
        "FLUXBASE_SECRET_ORDER",
    ] {
        assert!(
            accessed.iter().any(|a| a == name),
            "{name} not in {accessed:?}"
        );
    }
}

#[test]
fn a_warm_isolate_never_shows_one_users_secrets_to_the_next() {
    let host = Host::new();
    let server = start(&host);
    let users: Vec<(String, String)> = (0..4)
        .map(|i| (format!("user-{i}"), token(&format!("user-{i}"))))
        .collect();
    for (i, (_, token)) in users.iter().enumerate() {
        user_put(&server, token, "PERSONAL", &format!("personal-{i}"));
    }
    // Interleaved calls on the same warm isolate: each sees exactly its own.
    for round in 0..3 {
        for (i, (name, token)) in users.iter().enumerate() {
            let seen = probe(&server, "personal", Some(token));
            assert_eq!(
                seen["get"],
                format!("personal-{i}"),
                "{name} round {round}: {seen}"
            );
            assert_eq!(seen["user"], format!("personal-{i}"));
            let anonymous = probe(&server, "personal", None);
            assert_eq!(anonymous["get"], serde_json::Value::Null, "{anonymous}");
            assert_eq!(anonymous["settingsVars"], serde_json::json!([]));
        }
    }
}

fn enqueue(server: &Server, credential: &str) -> String {
    let answer = server.send(
        "POST",
        "/api/v1/jobs/settings",
        Some(credential),
        &[],
        Some(br#"{"name":"job_key"}"#),
        true,
    );
    assert_eq!(answer.status, 202, "{answer:#?}");
    answer.json()["id"].as_str().unwrap().to_owned()
}

#[test]
fn a_job_enqueued_with_a_user_token_gets_that_users_secrets() {
    let host = Host::new();
    let server = start(&host);
    let (alice, bob) = (token("alice"), token("bob"));
    admin_put(&server, "JOB_KEY", None, "system-job");
    user_put(&server, &alice, "JOB_KEY", "alice-job");

    let as_alice = enqueue(&server, &alice);
    let run = server.wait_for_run(&as_alice, &alice);
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["result"]["get"], sha256_hex("alice-job"));
    assert_eq!(run["result"]["user"], sha256_hex("alice-job"));

    let as_service = enqueue(&server, SERVICE_KEY);
    let run = server.wait_for_run(&as_service, SERVICE_KEY);
    assert_eq!(run["result"]["get"], sha256_hex("system-job"), "{run}");
    assert_eq!(run["result"]["user"], serde_json::Value::Null);

    // Bob's run sees the system value, and Bob cannot read Alice's run (nor the service's).
    let as_bob = enqueue(&server, &bob);
    assert_eq!(
        server.wait_for_run(&as_bob, &bob)["result"]["get"],
        sha256_hex("system-job")
    );
    server.job_run(&as_alice, &bob).error(404, "no job run");
    server.job_run(&as_service, &bob).error(404, "no job run");
    // The service key reads every run.
    assert_eq!(server.job_run(&as_alice, SERVICE_KEY).status, 200);
}

#[test]
fn a_ciphertext_moved_to_another_user_never_opens() {
    let host = Host::new();
    let server = start(&host);
    let (alice, bob) = (token("alice"), token("bob"));
    user_put(&server, &alice, "MOVED", "alice-only-value");
    user_put(&server, &bob, "MOVED", "bob-value");
    assert_eq!(probe(&server, "moved", Some(&bob))["get"], "bob-value");

    // Someone with write access to the database copies Alice's ciphertext into Bob's row.
    support::block_on(async {
        let db = support::open_database(&host).await;
        let alices: Vec<u8> = sqlx::query_scalar(
            "SELECT envelope FROM settings_secrets WHERE user_id = 'alice' AND name = 'MOVED'",
        )
        .fetch_one(&db)
        .await
        .unwrap();
        sqlx::query("UPDATE settings_secrets SET envelope = $1 WHERE user_id = 'bob'")
            .bind(alices)
            .execute(&db)
            .await
            .unwrap();
        // Decrypted settings are cached until the store generation moves, which every write
        // through fluxbase does; a write behind its back does not, so move it here.
        sqlx::query("UPDATE store_generation SET value = value + 1")
            .execute(&db)
            .await
            .unwrap();
        db.close().await;
    });
    // On SQLite, a server trusts the generation it read for up to a second while the change
    // mark beside the file is unchanged; every fluxbase writer rewrites the mark after its
    // commit, so do that too rather than race the second.
    let mut mark = host.db_path().into_os_string();
    mark.push(".changes");
    if let Ok(bytes) = std::fs::read(&mark) {
        let flipped: Vec<u8> = bytes.iter().map(|b| !b).collect();
        std::fs::write(&mark, flipped).unwrap();
    }

    // Bob's call fails without the value; Alice's still works.
    let answer = server.send(
        "GET",
        "/functions/v1/settings?name=moved",
        Some(&bob),
        &[],
        None,
        false,
    );
    assert_eq!(answer.status, 500, "{answer:#?}");
    assert!(!answer.body.contains("alice-only-value"), "{answer:#?}");
    let log = server.log_with("settings secret MOVED (user bob) failed to decrypt");
    assert!(!log.contains("alice-only-value"));
    assert_eq!(
        probe(&server, "moved", Some(&alice))["get"],
        "alice-only-value"
    );
}

/// The master key a rotation moves to (base64 of 32 bytes).
const NEW_KEY: &str = "bmV3LWtleS1mb3Itcm90YXRpb24tMzItYnl0ZXMtISE=";

#[test]
fn settings_secrets_survive_a_master_key_rotation() {
    let mut host = Host::new();
    host.run(&["settings", "secrets", "set", "ROTATED", "system-before"])
        .ok();
    host.run(&[
        "settings",
        "secrets",
        "set",
        "ROTATED",
        "alice-before",
        "--user",
        "alice",
    ])
    .ok();
    host.run(&["secrets", "set", "FUNCTION_ONE", "f"]).ok();
    let rotated = host.run_with_env(
        &["secrets", "rotate-key"],
        &[("FLUXBASE_NEW_ENCRYPTION_KEY", NEW_KEY)],
    );
    rotated.ok();
    let audit = host.audit();
    assert!(
        audit.iter().any(|r| r["action"] == "rotate-key"
            && r["detail"].as_str().unwrap().contains("2 settings secret")),
        "{audit:#?}"
    );
    if host.backend() == support::Backend::Postgres {
        // With the key in the environment, the operator swaps it after the rotation.
        host.set_env("FLUXBASE_ENCRYPTION_KEY", NEW_KEY);
    }
    let server = start(&host);
    assert_eq!(probe(&server, "rotated", None)["get"], "system-before");
    assert_eq!(
        probe(&server, "rotated", Some(&token("alice")))["get"],
        "alice-before"
    );
}
