//! Encryption at rest holds against someone who can write the database: altered bytes,
//! ciphertexts moved between rows, and the wrong master key are all refused.

use crate::support;

use support::{Backend, Host, open_database};

const KEY_A: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
const KEY_B: &str = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=";

async fn envelope(pool: &sqlx::AnyPool, name: &str, version: i64) -> Vec<u8> {
    sqlx::query_scalar(
        "SELECT v.envelope FROM secret_versions v JOIN secrets s ON s.id = v.secret_id \
         WHERE s.name = $1 AND v.version = $2",
    )
    .bind(name)
    .bind(version)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn overwrite(pool: &sqlx::AnyPool, name: &str, version: i64, envelope: &[u8]) {
    let done = sqlx::query(
        "UPDATE secret_versions SET envelope = $1 WHERE version = $2 AND secret_id = \
         (SELECT id FROM secrets WHERE name = $3)",
    )
    .bind(envelope)
    .bind(version)
    .bind(name)
    .execute(pool)
    .await
    .unwrap();
    assert_eq!(done.rows_affected(), 1);
}

#[tokio::test]
async fn a_flipped_ciphertext_byte_is_refused() {
    let host = Host::new();
    host.run(&["secrets", "set", "API", "first"]).ok();
    host.run(&["secrets", "set", "API", "second"]).ok();
    let pool = open_database(&host).await;
    let mut bytes = envelope(&pool, "API", 1).await;
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    overwrite(&pool, "API", 1, &bytes).await;
    pool.close().await;

    let refused = "API (global) version 1 failed to decrypt: its ciphertext was altered";
    host.run(&["secrets", "rollback", "API", "1"])
        .fails_with(refused);
    host.run(&["secrets", "verify"]).fails_with(refused);
    host.run_with_env(
        &["secrets", "rotate-key"],
        &[("FLUXBASE_NEW_ENCRYPTION_KEY", KEY_B)],
    )
    .fails_with(refused);
    host.run(&["secrets", "verify", "API"]).fails_with(refused);
    assert_eq!(host.versions("API", None), vec![1, 2], "nothing written");
    // Other secrets are unaffected.
    host.run(&["secrets", "set", "OTHER", "x"]).ok();
    host.run(&["secrets", "verify", "OTHER"]).ok();
}

#[tokio::test]
async fn a_ciphertext_moved_to_another_secret_or_version_is_refused() {
    let host = Host::new();
    host.run(&["secrets", "set", "FROM", "value-a"]).ok();
    host.run(&["secrets", "set", "TO", "value-b"]).ok();
    host.run(&["secrets", "set", "TO", "value-c"]).ok();
    host.run(&["secrets", "set", "TO", "value-d"]).ok();
    let pool = open_database(&host).await;

    // Another secret's ciphertext, same version number.
    let stolen = envelope(&pool, "FROM", 1).await;
    overwrite(&pool, "TO", 1, &stolen).await;
    // Another version's ciphertext of the same secret.
    let other_version = envelope(&pool, "TO", 3).await;
    overwrite(&pool, "TO", 2, &other_version).await;
    pool.close().await;

    host.run(&["secrets", "rollback", "TO", "1"])
        .fails_with("TO (global) version 1 failed to decrypt");
    host.run(&["secrets", "rollback", "TO", "2"])
        .fails_with("TO (global) version 2 failed to decrypt");
    host.run(&["secrets", "verify", "FROM"]).ok();
}

#[test]
fn the_wrong_master_key_is_refused_before_anything_runs() {
    let mut host = Host::new().with_env("FLUXBASE_ENCRYPTION_KEY", KEY_A);
    host.run(&["secrets", "set", "API", "value"]).ok();
    assert!(
        !host.data_dir.join("master.key").exists(),
        "no key file when the key comes from the environment"
    );

    host.set_env("FLUXBASE_ENCRYPTION_KEY", KEY_B);
    for args in [
        &["secrets", "list"][..],
        &["secrets", "get", "API"],
        &["secrets", "set", "API", "other"],
        &["secrets", "set", "NEW", "other"],
        &["secrets", "rollback", "API", "1"],
        &["secrets", "delete", "API"],
    ] {
        host.run(args)
            .fails_with("the master key does not match this store");
    }

    host.set_env("FLUXBASE_ENCRYPTION_KEY", "too-short");
    host.run(&["secrets", "list"])
        .fails_with("FLUXBASE_ENCRYPTION_KEY must be 32 raw bytes or the base64 of 32 bytes");

    // No key at all, and no key file: refused, and no new key is generated over the secrets.
    host.env.retain(|(k, _)| k != "FLUXBASE_ENCRYPTION_KEY");
    host.run(&["secrets", "list"])
        .fails_with(match host.backend() {
            Backend::Sqlite => {
                "this store holds encrypted secrets, but FLUXBASE_ENCRYPTION_KEY is not set"
            }
            Backend::Postgres => "set FLUXBASE_ENCRYPTION_KEY: a shared database needs the same",
        });
    assert!(!host.data_dir.join("master.key").exists());

    host.set_env("FLUXBASE_ENCRYPTION_KEY", KEY_A);
    host.run(&["secrets", "verify"]).ok();
    assert_eq!(host.versions("API", None), vec![1]);
}

#[test]
fn a_32_byte_raw_key_works_like_its_base64() {
    let raw = "0123456789abcdef0123456789abcdef";
    let host = Host::new().with_env("FLUXBASE_ENCRYPTION_KEY", raw);
    host.run(&["secrets", "set", "API", "value"]).ok();
    let mut host = host;
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
    host.set_env("FLUXBASE_ENCRYPTION_KEY", &encoded);
    host.run(&["secrets", "verify"]).ok();
}

#[test]
fn rotate_key_rewraps_every_version_with_a_key_file() {
    // SQLite only: the key file of the data directory is the embedded store's; a shared
    // database takes its key from the environment (the test below).
    let host = Host::sqlite();
    host.run(&["secrets", "set", "A", "1"]).ok();
    host.run(&["secrets", "set", "A", "2"]).ok();
    host.run(&["secrets", "set", "B", "3", "--namespace", "ns"])
        .ok();
    let key_file = host.data_dir.join("master.key");
    let old_key = std::fs::read_to_string(&key_file).unwrap();
    let old_ids: Vec<String> = history_key_ids(&host, "A", None);

    let rotated = host.run(&["secrets", "rotate-key", "-o", "json"]).json();
    assert_eq!(rotated["rewrapped_versions"], 3);
    let new_key = std::fs::read_to_string(&key_file).unwrap();
    assert_ne!(old_key, new_key);
    assert!(!host.data_dir.join("master.key.next").exists());
    let new_id = rotated["key_id"].as_str().unwrap().to_owned();
    assert_ne!(old_ids[0], new_id);
    assert_eq!(
        history_key_ids(&host, "A", None),
        vec![new_id.clone(), new_id.clone()]
    );
    assert_eq!(history_key_ids(&host, "B", Some("ns")), vec![new_id]);
    host.run(&["secrets", "verify"]).ok();
    host.run(&["secrets", "rollback", "A", "1"]).ok();

    // The old key no longer opens the store.
    std::fs::write(&key_file, old_key).unwrap();
    host.run(&["secrets", "list"])
        .fails_with("the master key does not match this store");
}

#[test]
fn rotate_key_from_the_environment_needs_the_new_key() {
    let mut host = Host::new().with_env("FLUXBASE_ENCRYPTION_KEY", KEY_A);
    host.run(&["secrets", "set", "A", "1"]).ok();
    host.run(&["secrets", "rotate-key"])
        .fails_with("put the new key in FLUXBASE_NEW_ENCRYPTION_KEY");
    host.set_env("FLUXBASE_NEW_ENCRYPTION_KEY", KEY_B);
    host.run(&["secrets", "rotate-key"]).ok();
    host.run(&["secrets", "list"])
        .fails_with("the master key does not match this store");
    host.env.retain(|(k, _)| k != "FLUXBASE_NEW_ENCRYPTION_KEY");
    host.set_env("FLUXBASE_ENCRYPTION_KEY", KEY_B);
    host.run(&["secrets", "verify"]).ok();
    let audit = host.audit();
    assert_eq!(audit[0]["action"], "rotate-key");
}

#[test]
fn an_interrupted_rotation_is_finished_at_the_next_start() {
    // A rotation that committed but was killed before moving master.key.next into place.
    // SQLite only: it is about the key file of the data directory, which only the embedded
    // store uses.
    let host = Host::sqlite();
    host.run(&["secrets", "set", "A", "1"]).ok();
    let key_file = host.data_dir.join("master.key");
    let old_key = std::fs::read_to_string(&key_file).unwrap();
    host.run(&["secrets", "rotate-key"]).ok();
    let new_key = std::fs::read_to_string(&key_file).unwrap();
    std::fs::write(host.data_dir.join("master.key.next"), &new_key).unwrap();
    std::fs::write(&key_file, &old_key).unwrap();

    let run = host.run(&["secrets", "verify"]);
    run.ok();
    assert!(
        run.stderr.contains("finished an interrupted key rotation"),
        "{run:#?}"
    );
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), new_key);
    assert!(!host.data_dir.join("master.key.next").exists());

    // A leftover of a rotation that never committed is dropped.
    std::fs::write(host.data_dir.join("master.key.next"), &old_key).unwrap();
    host.run(&["secrets", "verify"]).ok();
    assert!(!host.data_dir.join("master.key.next").exists());
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), new_key);

    // So is a torn one (a rotation killed while writing it), with a word about it.
    let half = &new_key[..new_key.len() / 2];
    for torn in ["", half] {
        std::fs::write(host.data_dir.join("master.key.next"), torn).unwrap();
        let run = host.run(&["secrets", "verify"]);
        run.ok();
        assert!(
            run.stderr.contains("left unreadable by a key rotation"),
            "{run:#?}"
        );
        assert!(!host.data_dir.join("master.key.next").exists());
        assert_eq!(std::fs::read_to_string(&key_file).unwrap(), new_key);
    }
}

#[test]
fn a_service_key_file_that_is_empty_or_short_stops_the_server_with_a_message() {
    let host = Host::sqlite();
    std::fs::create_dir_all(&host.data_dir).unwrap();
    let key_file = host.data_dir.join("service.key");
    for (content, message) in [
        ("", "service.key is empty"),
        ("\n", "service.key is empty"),
        ("x\n", "service.key holds a key shorter than 16 characters"),
    ] {
        std::fs::write(&key_file, content).unwrap();
        let mut command = host.command(&["serve", "--listen", "127.0.0.1:0"]);
        command.env_remove("FLUXBASE_SERVICE_KEY");
        command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        let mut child = command.spawn().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("{content:?}: the server started with this service.key");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{content:?}: {stderr}");
        assert!(stderr.contains(message), "{content:?}: {stderr}");
        assert!(
            stderr.contains("delete it to have a new one generated"),
            "{stderr}"
        );
    }
}

fn history_key_ids(host: &Host, name: &str, namespace: Option<&str>) -> Vec<String> {
    let mut args = vec!["secrets", "history", name, "-o", "json"];
    if let Some(ns) = namespace {
        args.extend(["--namespace", ns]);
    }
    host.run(&args)
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["key_id"].as_str().unwrap().to_owned())
        .collect()
}
