//! A secret value never leaves the store in clear: not in any command's output, not in a log
//! line at the most verbose level, not in any byte of the database files or rows.

use crate::support;

use support::{Backend, Host, contains_bytes, hex, sentinel};

#[test]
fn a_sentinel_value_appears_in_no_output_no_log_and_no_database_byte() {
    let secret = sentinel();
    let host = Host::new().with_env("FLUXBASE_LOG", "trace");
    let mut runs = vec![
        host.run(&["secrets", "set", "LEAK", &secret, "--description", "d"]),
        host.run_with_stdin(&["secrets", "set", "LEAK", "-"], secret.as_bytes()),
        host.run(&[
            "secrets",
            "set",
            "LEAK",
            &secret,
            "--namespace",
            "ns",
            "--expires",
            "1d",
        ]),
        host.run(&["secrets", "set", "OTHER", "plain"]),
    ];
    for output in ["table", "json"] {
        for args in [
            &["secrets", "list"][..],
            &["secrets", "get", "LEAK"],
            &["secrets", "get", "LEAK", "--namespace", "ns"],
            &["secrets", "history", "LEAK"],
            &["secrets", "verify"],
            &["logs", "list"],
        ] {
            let mut args = args.to_vec();
            args.extend(["-o", output]);
            runs.push(host.run(&args));
        }
    }
    runs.push(host.run(&["secrets", "rollback", "LEAK", "1"]));
    runs.push(host.run(&["secrets", "rotate-key"]));
    // Refused commands must not echo the value either.
    runs.push(host.run(&["secrets", "set", "LEAK", &secret, "--if-version", "1"]));
    runs.push(host.run(&["secrets", "set", "LEAK", &secret, "--expires", "whenever"]));
    runs.push(host.run(&["secrets", "set", "bad-name", &secret]));
    runs.push(host.run(&["secrets", "set", "LEAK", &secret, "--namespace", "Bad"]));
    runs.push(host.run(&["secrets", "delete", "LEAK", "--namespace", "ns"]));

    assert!(runs.iter().filter(|r| r.code == 0).count() >= 10);
    assert!(
        runs.iter()
            .any(|r| r.stderr.contains("TRACE") || r.stderr.contains("DEBUG")),
        "the most verbose logging was on"
    );
    for run in &runs {
        assert!(!run.stdout.contains(&secret), "value in stdout: {run:#?}");
        assert!(!run.stderr.contains(&secret), "value in stderr: {run:#?}");
    }

    // Every file of the data directory, and on PostgreSQL every row of every table.
    let stored = host.stored_bytes();
    for (place, bytes) in &stored {
        for needle in [secret.clone(), hex(secret.as_bytes())] {
            assert!(
                !contains_bytes(bytes, needle.as_bytes()),
                "value in clear in {place}"
            );
        }
    }
    let places = stored.len();
    match host.backend() {
        Backend::Sqlite => assert!(places >= 2, "database and key file were checked"),
        Backend::Postgres => assert!(places >= 4, "every table was checked: {places}"),
    }
}
