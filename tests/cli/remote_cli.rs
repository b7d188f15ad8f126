//! `fluxbase secrets` and `fluxbase logs` with `--url` talk to a real server and print exactly
//! what the local mode prints.

use crate::support;

use support::server::{SERVICE_KEY, Server};
use support::{Host, Run};

fn remote(host: &Host, server: &Server, args: &[&str]) -> Run {
    host.run_with_env(
        args,
        &[
            ("FLUXBASE_URL", &server.base),
            ("FLUXBASE_SERVICE_KEY", SERVICE_KEY),
        ],
    )
}

#[test]
fn remote_commands_print_what_local_commands_print() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    let r = |args: &[&str]| remote(&host, &server, args);

    assert_eq!(
        r(&["secrets", "set", "api_key", "v1", "--description", "API"]).ok(),
        "Set API_KEY (global) to version 1.\n"
    );
    assert_eq!(
        r(&["secrets", "set", "API_KEY", "v2"]).ok(),
        "Set API_KEY (global) to version 2.\n"
    );
    assert_eq!(
        r(&[
            "secrets",
            "set",
            "API_KEY",
            "ns",
            "--namespace",
            "billing",
            "--expires",
            "30d"
        ])
        .ok(),
        "Set API_KEY (namespace billing) to version 1.\n"
    );
    assert_eq!(
        r(&["secrets", "rollback", "API_KEY", "1"]).ok(),
        "Rolled back API_KEY (global): version 3 holds the value of version 1.\n"
    );

    // Reads: the remote output is byte for byte the local one (same store behind both).
    for args in [
        &["secrets", "list"][..],
        &["secrets", "list", "--scope", "namespace"],
        &["secrets", "list", "-o", "json"],
        &["secrets", "get", "API_KEY"],
        &[
            "secrets",
            "get",
            "API_KEY",
            "--namespace",
            "billing",
            "-o",
            "json",
        ],
        &["secrets", "history", "API_KEY"],
        &["secrets", "history", "API_KEY", "-o", "json"],
        &["logs", "list", "--category", "audit"],
        &["logs", "list", "--search", "rollback", "-o", "json"],
    ] {
        let remote_out = r(args);
        let local_out = host.run(args);
        assert_eq!(remote_out.ok(), local_out.ok(), "{args:?}");
    }

    // Errors: the same one line.
    for (args, message) in [
        (&["secrets", "get", "NOPE"][..], "no secret NOPE (global)"),
        (
            &["secrets", "set", "API_KEY", "v", "--if-version", "1"],
            "API_KEY (global) is at version 3, not 1; nothing was changed",
        ),
        (
            &["secrets", "set", "NEW_ONE", "v", "--if-version", "2"],
            "NEW_ONE (global) is at version 0, not 2",
        ),
        (
            &["secrets", "set", "API_KEY", "v", "--if-version", "0"],
            "API_KEY (global) is at version 3, not 0",
        ),
        (
            &["secrets", "rollback", "API_KEY", "9"],
            "API_KEY (global) has no version 9",
        ),
        (
            &["secrets", "delete", "NOPE", "--namespace", "billing"],
            "no secret NOPE (namespace billing)",
        ),
    ] {
        r(args).fails_with(message);
        host.run(args).fails_with(message);
    }
    r(&["secrets", "rotate-key"]).fails_with("works on the store itself");

    assert!(
        r(&["secrets", "delete", "API_KEY", "--namespace", "billing"])
            .ok()
            .starts_with("Deleted API_KEY (namespace billing): its 1 version(s) are kept until ")
    );
    let audit = host.audit();
    assert!(
        audit.iter().all(|r| r["actor"] == "api:service-key"),
        "{audit:?}"
    );
}

#[test]
fn remote_mode_needs_the_service_key_and_a_reachable_server() {
    let host = Host::new();
    host.run_with_env(
        &["secrets", "list"],
        &[("FLUXBASE_URL", "http://127.0.0.1:9")],
    )
    .fails_with("--url needs the service key in FLUXBASE_SERVICE_KEY");
    host.run_with_env(
        &["secrets", "list"],
        &[
            ("FLUXBASE_URL", "http://127.0.0.1:9"),
            ("FLUXBASE_SERVICE_KEY", SERVICE_KEY),
        ],
    )
    .fails_with("cannot reach http://127.0.0.1:9");
    let server = Server::start(&host, &[]);
    host.run_with_env(
        &["secrets", "list"],
        &[
            ("FLUXBASE_URL", &server.base),
            ("FLUXBASE_SERVICE_KEY", "wrong-key-wrong-key"),
        ],
    )
    .fails_with("invalid service key");
}
