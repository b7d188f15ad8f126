//! The digest of a secret's value: equal values show equal digests wherever they live, it is
//! keyed (no bare hash of a value is shown or stored), and a new master key changes it.

use crate::support;

use support::server::{SERVICE_KEY, Server};
use support::{Host, contains_bytes, sentinel, sha256_hex};

const NEW_KEY: &str = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=";

fn digest(host: &Host, name: &str, namespace: Option<&str>) -> String {
    host.metadata(name, namespace)["digest"]
        .as_str()
        .unwrap_or_else(|| panic!("{name} has a digest"))
        .to_owned()
}

#[test]
fn equal_values_show_equal_digests_across_namespaces_and_nothing_more() {
    let host = Host::new();
    let shared = sentinel();
    let other = sentinel() + "-other";
    host.run(&[
        "secrets",
        "set",
        "STRIPE_KEY",
        &shared,
        "--namespace",
        "staging",
    ])
    .ok();
    host.run(&[
        "secrets",
        "set",
        "STRIPE_KEY",
        &shared,
        "--namespace",
        "production",
    ])
    .ok();
    host.run(&["secrets", "set", "STRIPE_KEY", &other, "--namespace", "dev"])
        .ok();
    // A low-entropy value: the kind a bare hash would give away.
    host.run(&["secrets", "set", "PIN", "1234"]).ok();

    let staging = digest(&host, "STRIPE_KEY", Some("staging"));
    assert_eq!(staging.len(), 12);
    assert!(staging.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(staging, digest(&host, "STRIPE_KEY", Some("production")));
    assert_ne!(staging, digest(&host, "STRIPE_KEY", Some("dev")));

    // The listing shows the same digests, as JSON and in the table.
    let listing = host.run(&["secrets", "list", "-o", "json"]).json();
    let listed: Vec<&str> = listing
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["digest"].as_str().unwrap())
        .collect();
    assert_eq!(listed.iter().filter(|d| **d == staging).count(), 2);
    let table = host.run(&["secrets", "list"]);
    assert!(table.ok().contains("DIGEST"));
    assert!(table.ok().contains(&staging));
    assert!(host.run(&["secrets", "get", "PIN"]).ok().contains("digest"));

    // Not a bare hash: neither the SHA-256 of a value nor its prefix is printed or stored.
    let mut outputs = vec![table.stdout.clone(), listing.to_string()];
    outputs.push(host.run(&["secrets", "get", "PIN", "-o", "json"]).stdout);
    outputs.push(host.run(&["logs", "list", "--category", "audit"]).stdout);
    let stored = host.stored_bytes();
    for value in [shared.as_str(), other.as_str(), "1234"] {
        let bare = sha256_hex(value);
        for out in &outputs {
            assert!(
                !out.contains(&bare[..12]),
                "bare hash prefix of a value in {out}"
            );
        }
        for (place, bytes) in &stored {
            assert!(
                !contains_bytes(bytes, bare.as_bytes()),
                "bare hash in {place}"
            );
            assert!(
                !contains_bytes(bytes, &bare.as_bytes()[..12]),
                "bare hash prefix in {place}"
            );
        }
    }
    // Nor is the digest itself stored: it is computed from the decrypted value when shown.
    for (place, bytes) in &stored {
        assert!(
            !contains_bytes(bytes, staging.as_bytes()),
            "digest stored in {place}"
        );
    }
}

#[test]
fn a_new_value_changes_the_digest_and_a_rollback_brings_it_back() {
    let host = Host::new();
    host.run(&["secrets", "set", "TOKEN", "first-value"]).ok();
    let first = digest(&host, "TOKEN", None);
    let set = host
        .run(&["secrets", "set", "TOKEN", "second-value", "-o", "json"])
        .json();
    assert_ne!(
        set["digest"],
        first.as_str(),
        "set answers with the new digest"
    );
    assert_eq!(set["digest"], digest(&host, "TOKEN", None).as_str());
    let rolled = host
        .run(&["secrets", "rollback", "TOKEN", "1", "-o", "json"])
        .json();
    assert_eq!(rolled["digest"], first.as_str());
}

#[test]
fn rotating_the_master_key_changes_every_digest_but_keeps_them_equal() {
    let mut host = Host::new();
    host.run(&["secrets", "set", "A", "same-value"]).ok();
    host.run(&["secrets", "set", "B", "same-value", "--namespace", "ns"])
        .ok();
    let before = digest(&host, "A", None);
    let from_env = host.env.iter().any(|(k, _)| k == "FLUXBASE_ENCRYPTION_KEY");
    host.run_with_env(
        &["secrets", "rotate-key"],
        &[("FLUXBASE_NEW_ENCRYPTION_KEY", NEW_KEY)],
    )
    .ok();
    if from_env {
        host.set_env("FLUXBASE_ENCRYPTION_KEY", NEW_KEY);
    }
    let after = digest(&host, "A", None);
    assert_ne!(after, before, "the digest key comes from the master key");
    assert_eq!(after, digest(&host, "B", Some("ns")));
}

#[test]
fn the_remote_cli_and_the_api_show_the_same_digest() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    host.run(&["secrets", "set", "SHARED", "over-the-wire"])
        .ok();
    let local = digest(&host, "SHARED", None);
    let api = server.request("GET", "/api/v1/admin/secrets/SHARED", true, None);
    assert_eq!(api.json()["digest"], local.as_str());
    let remote = host.run_with_env(
        &["secrets", "list"],
        &[
            ("FLUXBASE_URL", &server.base),
            ("FLUXBASE_SERVICE_KEY", SERVICE_KEY),
        ],
    );
    assert!(remote.ok().contains(&local), "{remote:#?}");
}

#[tokio::test]
async fn a_value_that_does_not_decrypt_has_no_digest_and_the_listing_says_so() {
    let host = Host::new();
    host.run(&["secrets", "set", "INTACT", "fine"]).ok();
    host.run(&["secrets", "set", "ALTERED", "soon-altered"])
        .ok();
    let pool = support::open_database(&host).await;
    let mut envelope: Vec<u8> = sqlx::query_scalar(
        "SELECT v.envelope FROM secret_versions v JOIN secrets s ON s.id = v.secret_id \
         WHERE s.name = 'ALTERED'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let last = envelope.len() - 1;
    envelope[last] ^= 1;
    sqlx::query(
        "UPDATE secret_versions SET envelope = $1 \
         WHERE secret_id = (SELECT id FROM secrets WHERE name = 'ALTERED')",
    )
    .bind(envelope)
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let listing = host.run(&["secrets", "list", "-o", "json"]).json();
    let altered = &listing.as_array().unwrap()[0];
    assert_eq!(altered["name"], "ALTERED");
    assert_eq!(altered["digest"], serde_json::Value::Null);
    assert!(
        listing[1]["digest"].is_string(),
        "other secrets keep theirs"
    );
    let table = host.run(&["secrets", "list"]);
    assert!(
        table.ok().contains("(does not decrypt: run verify)"),
        "{table:#?}"
    );
    host.run(&["secrets", "verify"])
        .fails_with("ALTERED (global) version 1 failed to decrypt");
}
