//! Moving many secrets in at once: `secrets import --env-file` and `secrets set A=1 B=2 ...`,
//! locally, with `--url` and through the batch route, each one transaction (all or nothing).

use crate::support;

use support::server::{SERVICE_KEY, Server};
use support::{Host, Run};

/// A 200-line `.env` in every dotenv form (comments, blank lines, `export `, single and double
/// quotes, a multi-line value); with `bad_line`, that line is replaced by one that is no
/// `NAME=VALUE`. Returns the text and the number of entries.
fn dotenv_200(bad_line: Option<usize>) -> (String, usize) {
    let mut lines = Vec::new();
    let mut entries = 0;
    while lines.len() < 200 {
        let n = lines.len() + 1;
        if Some(n) == bad_line {
            lines.push("THIS LINE HAS NO EQUALS sk_hidden_value_123".to_owned());
            continue;
        }
        match n % 10 {
            1 => lines.push(format!("# section {n}")),
            2 => lines.push(String::new()),
            3 => lines.push(format!("export KEY_{n}=exported-{n}")),
            4 => lines.push(format!("KEY_{n}='single $NOT_EXPANDED {n}'")),
            5 => lines.push(format!("KEY_{n}=\"double # not a comment {n}\"")),
            6 if n < 199 => {
                lines.push(format!("KEY_{n}=\"first line {n}"));
                lines.push("second line\"".to_owned());
            }
            _ => lines.push(format!("key_{n}=plain-{n} # a trailing comment")),
        }
        if !matches!(n % 10, 1 | 2) {
            entries += 1;
        }
    }
    assert_eq!(lines.len(), 200);
    (lines.join("\n") + "\n", entries)
}

fn count_secrets(host: &Host, namespace: &str) -> usize {
    host.run(&["secrets", "list", "--namespace", namespace, "-o", "json"])
        .json()
        .as_array()
        .unwrap()
        .len()
}

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
fn an_import_with_one_bad_line_writes_nothing_and_names_the_line() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(".env");
    let (bad, _) = dotenv_200(Some(138));
    std::fs::write(&file, bad).unwrap();
    let path = file.display().to_string();
    let args = [
        "secrets",
        "import",
        "--env-file",
        &path,
        "--namespace",
        "billing",
    ];
    for run in [host.run(&args), remote(&host, &server, &args)] {
        run.fails_with(&format!("{path} line 138: cannot be parsed as NAME=VALUE"));
        assert!(run.stderr.contains("nothing was imported"), "{run:#?}");
        assert!(!run.stderr.contains("sk_hidden_value_123"), "{run:#?}");
    }
    assert_eq!(count_secrets(&host, "billing"), 0);
    assert!(
        host.audit().is_empty(),
        "nothing was written, nothing audited"
    );

    // The same file with the line fixed: every entry, in one transaction.
    let (good, entries) = dotenv_200(None);
    std::fs::write(&file, good).unwrap();
    let plan = host.run(&[
        "secrets",
        "import",
        "--env-file",
        &path,
        "--namespace",
        "billing",
        "--dry-run",
    ]);
    assert!(
        plan.ok().contains(&format!(
            "Dry run: {entries} secret(s) checked, nothing was written."
        )),
        "{plan:#?}"
    );
    assert_eq!(count_secrets(&host, "billing"), 0);
    let imported = host.run(&args);
    assert!(
        imported
            .ok()
            .contains(&format!("Wrote {entries} secret(s) in one transaction.")),
        "{imported:#?}"
    );
    assert_eq!(count_secrets(&host, "billing"), entries);
    // Each form was read as dotenv reads it (compared by digest: values are never shown).
    host.run(&[
        "secrets",
        "set",
        "PROBE_SINGLE=single $NOT_EXPANDED 4",
        "PROBE_DOUBLE=double # not a comment 5",
        "PROBE_MULTI=first line 6\nsecond line",
        "PROBE_PLAIN=plain-8",
        "PROBE_EXPORT=exported-3",
    ])
    .ok();
    for (imported, probe) in [
        ("KEY_4", "PROBE_SINGLE"),
        ("KEY_5", "PROBE_DOUBLE"),
        ("KEY_6", "PROBE_MULTI"),
        ("KEY_8", "PROBE_PLAIN"),
        ("KEY_3", "PROBE_EXPORT"),
    ] {
        assert_eq!(
            host.metadata(imported, Some("billing"))["digest"],
            host.metadata(probe, None)["digest"],
            "{imported}"
        );
    }

    // A second import writes the next version of each, through the server this time.
    let plan = remote(
        &host,
        &server,
        &[&args[..], &["--dry-run", "-o", "json"]].concat(),
    )
    .json();
    assert_eq!(plan["secrets"][0]["action"], "new version");
    let again = remote(&host, &server, &[&args[..], &["-o", "json"]].concat()).json();
    assert_eq!(again.as_array().unwrap().len(), entries);
    assert!(again.as_array().unwrap().iter().all(|m| m["version"] == 2));
}

#[test]
fn bad_files_are_refused_with_their_line() {
    let host = Host::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.env");
    let path = file.display().to_string();
    for (text, message) in [
        ("A=1\nB=\"never closed\nC=3\n", "line 2: cannot be parsed"),
        ("A=1\n\n9LIVES=x\n", "line 3: "),
        (
            "A=1\nB=2\na=3\n",
            "line 3: A is set a second time (first on line 1)",
        ),
        (
            "A=1\nEMPTY=\n",
            "line 2: the value of EMPTY: secret value is empty",
        ),
        ("# only a comment\n", "holds no NAME=VALUE line"),
    ] {
        std::fs::write(&file, text).unwrap();
        host.run(&["secrets", "import", "--env-file", &path])
            .fails_with(message);
    }
    host.run(&["secrets", "import", "--env-file", "/nonexistent/.env"])
        .fails_with("cannot read /nonexistent/.env");
    assert!(host.audit().is_empty());
}

#[test]
fn set_takes_several_name_value_pairs_in_one_transaction() {
    let host = Host::new();
    host.run(&["secrets", "set", "B", "old"]).ok();
    let set = host.run(&[
        "secrets",
        "set",
        "A=1",
        "B=two=2",
        "C=3",
        "--namespace",
        "ns",
    ]);
    assert_eq!(
        set.ok(),
        "Set A (namespace ns) to version 1.\nSet B (namespace ns) to version 1.\n\
         Set C (namespace ns) to version 1.\nWrote 3 secret(s) in one transaction.\n"
    );
    host.run(&["secrets", "set", "B=new"]).ok();
    assert_eq!(host.metadata("B", None)["version"], 2);
    host.run(&["secrets", "set", "PROBE", "two=2"]).ok();
    assert_eq!(
        host.metadata("B", Some("ns"))["digest"],
        host.metadata("PROBE", None)["digest"],
        "the value is everything after the first ="
    );

    for (args, message) in [
        (
            &["secrets", "set", "D=4", "hidden-value"][..],
            "argument 2 is not NAME=VALUE",
        ),
        (&["secrets", "set", "D=4", "E="], "E: secret value is empty"),
        (&["secrets", "set", "D=4", "9X=1"], "invalid secret name"),
        (
            &["secrets", "set", "D=4", "d=5"],
            "D (global) is given twice; nothing was written",
        ),
        (
            &["secrets", "set", "D=4", "E=5", "--if-version", "0"],
            "--if-version applies to one secret",
        ),
    ] {
        let run = host.run(args);
        run.fails_with(message);
        assert!(!run.stderr.contains("hidden-value"));
    }
    assert_eq!(
        host.run(&["secrets", "get", "D"]).code,
        1,
        "nothing of a refused batch was written"
    );
}

#[test]
fn the_batch_route_writes_all_or_nothing() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    let refused = server.request(
        "PATCH",
        "/api/v1/admin/secrets",
        true,
        Some(r#"{"secrets":[{"name":"OK_ONE","value":"v"},{"name":"bad-name","value":"hidden-value"}]}"#),
    );
    refused.error(400, "secrets[1]: invalid secret name");
    assert!(!refused.body.contains("hidden-value"));
    assert_eq!(count_secrets(&host, "default"), 0);
    server
        .request(
            "PATCH",
            "/api/v1/admin/secrets",
            true,
            Some(r#"{"secrets":[]}"#),
        )
        .error(400, "a batch holds 1 to 1000 secrets, not 0");

    let written = server.request(
        "PATCH",
        "/api/v1/admin/secrets",
        true,
        Some(
            r#"{"secrets":[{"name":"ONE","value":"v1","namespace":"default"},
                {"name":"TWO","value":"v2","namespace":"default","max_versions":3}]}"#,
        ),
    );
    let json = written.json();
    assert_eq!(json.as_array().unwrap().len(), 2);
    assert_eq!(json[1]["max_versions"], 3);
    assert_eq!(count_secrets(&host, "default"), 2);
}
