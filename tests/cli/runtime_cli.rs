//! `fluxbase functions invoke`, `jobs run` and `logs list` through the built binary.

use crate::support;

use support::Host;
use support::fixtures;

fn functions() -> String {
    fixtures("functions").display().to_string()
}

fn jobs() -> String {
    fixtures("jobs").display().to_string()
}

#[test]
fn invoke_prints_the_body_or_the_whole_response_with_i() {
    let host = Host::new();
    let body = host.run(&[
        "functions",
        "invoke",
        "hello?name=cli",
        "--dir",
        &functions(),
    ]);
    assert_eq!(
        body.ok(),
        r#"{"message":"hello, cli","method":"GET","path":"/functions/v1/hello"}"#
    );
    assert!(
        !host.data_dir.join("master.key").exists(),
        "reading needs no key file"
    );

    let full = host.run(&[
        "functions",
        "invoke",
        "echo/sub?q=1",
        "--dir",
        &functions(),
        "-i",
        "-X",
        "put",
        "-d",
        "payload",
        "-H",
        "Content-Type: text/plain",
        "-H",
        "X-Custom: yes",
    ]);
    let text = full.ok();
    assert!(text.starts_with("HTTP/1.1 201 Created\n"), "{text}");
    assert!(text.contains("\nx-echo: yes\n"), "{text}");
    let json: serde_json::Value = serde_json::from_str(text.split("\n\n").nth(1).unwrap()).unwrap();
    assert_eq!(json["method"], "PUT");
    assert_eq!(json["path"], "/functions/v1/echo/sub");
    assert_eq!(json["query"]["q"], "1");
    assert_eq!(json["contentType"], "text/plain");
    assert_eq!(json["custom"], "yes");
    assert_eq!(json["body"], "payload");
}

#[test]
fn the_host_environment_wins_and_is_otherwise_invisible() {
    let host = Host::new()
        .with_env("FLUXBASE_SECRET_API_KEY", "from-host")
        .with_env("SOME_HOST_VARIABLE", "not-for-functions")
        .with_env("HOME", "/home/host");
    host.run(&["secrets", "set", "API_KEY", "from-store"]).ok();
    host.run(&["secrets", "set", "STORED_ONLY", "stored"]).ok();

    let secrets = host.run(&[
        "functions",
        "invoke",
        "secrets?name=API_KEY",
        "--dir",
        &functions(),
    ]);
    let json: serde_json::Value = serde_json::from_str(secrets.ok()).unwrap();
    assert_eq!(json["value"], "from-host");

    let env = host.run(&["functions", "invoke", "env", "--dir", &functions()]);
    let json: serde_json::Value = serde_json::from_str(env.ok()).unwrap();
    let names: Vec<&String> = json["env"].as_object().unwrap().keys().collect();
    assert_eq!(
        names,
        [
            "FLUXBASE_EXECUTION_ID",
            "FLUXBASE_FUNCTION_NAME",
            "FLUXBASE_FUNCTION_NAMESPACE",
            "FLUXBASE_SECRET_API_KEY",
            "FLUXBASE_SECRET_STORED_ONLY",
        ]
    );
    assert_eq!(json["home"], serde_json::Value::Null);
}

#[test]
fn the_namespace_flag_applies_to_functions_without_their_own() {
    let host = Host::new();
    host.run(&["secrets", "set", "API_KEY", "global"]).ok();
    host.run(&[
        "secrets",
        "set",
        "API_KEY",
        "team-a",
        "--namespace",
        "team-a",
    ])
    .ok();
    let run = |ns: &str| {
        let out = host.run(&[
            "functions",
            "invoke",
            "secrets",
            "--dir",
            &functions(),
            "--namespace",
            ns,
        ]);
        serde_json::from_str::<serde_json::Value>(out.ok()).unwrap()["value"].clone()
    };
    assert_eq!(run("team-a"), "team-a");
    assert_eq!(run("team-b"), "global");
    host.run(&[
        "functions",
        "invoke",
        "secrets",
        "--dir",
        &functions(),
        "--namespace",
        "Bad",
    ])
    .fails_with("invalid namespace");
}

#[test]
fn failures_exit_non_zero_with_one_clear_line() {
    let host = Host::new();
    let dir = functions();
    let cases: &[(&[&str], &str)] = &[
        (
            &["functions", "invoke", "nope", "--dir", &dir],
            "no function nope in",
        ),
        (
            &["functions", "invoke", "../etc", "--dir", &dir],
            "invalid function name",
        ),
        (
            &["functions", "invoke", "throws", "--dir", &dir],
            "function throws uncaught exception: Error: handler exploded on purpose",
        ),
        (
            &["functions", "invoke", "syntax_error", "--dir", &dir],
            "syntax_error.ts:3:",
        ),
        (
            &["functions", "invoke", "missing_import", "--dir", &dir],
            "does_not_exist.ts",
        ),
        (
            &[
                "functions",
                "invoke",
                "infinite_loop",
                "--dir",
                &dir,
                "--timeout",
                "1s",
            ],
            "function infinite_loop timed out after 1s",
        ),
        (
            &[
                "functions",
                "invoke",
                "memory_bomb",
                "--dir",
                &dir,
                "--heap-limit-mb",
                "64",
            ],
            "function memory_bomb ran out of memory (heap limit 64 MiB)",
        ),
        (
            &[
                "functions",
                "invoke",
                "secrets?required=1&name=MISSING",
                "--dir",
                &dir,
            ],
            "Missing required secret: MISSING",
        ),
        (
            &[
                "functions",
                "invoke",
                "hello",
                "--dir",
                &dir,
                "-H",
                "no-colon",
            ],
            "invalid header",
        ),
        (
            &["jobs", "run", "fails", "--dir", &jobs()],
            "job fails uncaught exception: Error: job failed on purpose",
        ),
        (
            &[
                "jobs",
                "run",
                "summarize",
                "--dir",
                &jobs(),
                "--payload",
                "{not json",
            ],
            "--payload is not valid JSON",
        ),
    ];
    for (args, message) in cases {
        host.run(args).fails_with(message);
    }
}

#[test]
fn jobs_run_prints_the_result_and_logs_find_secret_readers() {
    let host = Host::new();
    host.run(&["secrets", "set", "REPORT_TOKEN", "tok"]).ok();
    let result = host
        .run(&[
            "jobs",
            "run",
            "summarize",
            "--dir",
            &jobs(),
            "--payload",
            r#"{"items":[5,6]}"#,
        ])
        .json();
    assert_eq!(result["count"], 2);
    assert_eq!(result["sum"], 11);
    host.run(&["functions", "invoke", "hello", "--dir", &functions()])
        .ok();

    let found = host
        .run(&["logs", "list", "--search", "FLUXBASE_SECRET", "-o", "json"])
        .json();
    let found = found.as_array().unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["category"], "execution");
    assert_eq!(found[0]["name"], "summarize");
    assert_eq!(
        found[0]["secrets_accessed"][0],
        "FLUXBASE_SECRET_REPORT_TOKEN"
    );

    let executions = host
        .run(&["logs", "list", "--category", "execution", "-o", "json"])
        .json();
    let names: Vec<&str> = executions
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["hello", "summarize"], "newest first");
    let by_name = host
        .run(&["logs", "list", "--name", "hello", "-o", "json"])
        .json();
    assert_eq!(by_name.as_array().unwrap().len(), 1);
}

#[test]
fn logs_list_shows_the_matching_console_lines_and_logs_show_the_whole_record() {
    let host = Host::new();
    host.run(&["secrets", "set", "LEAK", "cli-leaky-value-777"])
        .ok();
    let failed = host.run(&[
        "functions",
        "invoke",
        "leaky?do=log-then-throw&name=LEAK",
        "--dir",
        &functions(),
    ]);
    assert_ne!(failed.code, 0, "{failed:#?}");

    let table = host.run(&["logs", "list", "--search", "value is"]);
    let table = table.ok();
    assert!(
        table.contains("> info: about to fail, value is [REDACTED]"),
        "{table}"
    );
    assert!(!table.contains("cli-leaky-value"), "{table}");

    let listed = host
        .run(&["logs", "list", "--name", "leaky", "-o", "json"])
        .json();
    let id = listed[0]["id"]
        .as_str()
        .expect("an execution id")
        .to_owned();
    let shown = host.run(&["logs", "show", &id]);
    let shown = shown.ok();
    for part in [
        id.as_str(),
        "status:   failed",
        "read:     FLUXBASE_SECRET_LEAK",
        "error:    Error: failed after logging",
        "info: about to fail, value is [REDACTED]",
    ] {
        assert!(shown.contains(part), "{part:?} not in {shown}");
    }
    assert!(!shown.contains("cli-leaky-value"), "{shown}");
    let json = host.run(&["logs", "show", &id, "-o", "json"]).json();
    assert_eq!(json["id"], id.as_str());
    assert_eq!(json["status"], "failed");

    host.run(&["logs", "show", "no-such-execution"])
        .fails_with("no execution record no-such-execution");
}

#[test]
fn the_loader_answers_alike_for_present_and_missing_files_outside_the_directory() {
    let host = Host::new();
    let outside = tempfile::tempdir().unwrap();
    let present = outside.path().join("present.ts");
    std::fs::write(&present, "export const x = 1;").unwrap();
    let missing = outside.path().join("missing.ts");
    let probe = |path: &std::path::Path| {
        let query = format!("import_probe?path=file://{}", path.display());
        host.run(&["functions", "invoke", &query, "--dir", &functions()])
            .ok()
            .replace(&path.display().to_string(), "PATH")
    };
    let (for_present, for_missing) = (probe(&present), probe(&missing));
    assert_eq!(for_present, for_missing);
    assert!(
        for_present.contains("is outside the function directory"),
        "{for_present}"
    );
    // Inside the directory, a missing module is still reported as missing.
    let inside = fixtures("functions").join("no_such_module.ts");
    assert!(
        probe(&inside).contains("Module not found"),
        "{}",
        probe(&inside)
    );
}

#[test]
fn handlers_may_call_deno_serve_or_return_answers_and_json_values() {
    let host = Host::new();
    let invoke = |target: &str, extra: &[&str]| {
        let mut args = vec!["functions", "invoke", target, "--dir"];
        let dir = functions();
        args.push(&dir);
        args.extend(extra);
        host.run(&args)
    };
    let served = invoke("shape_serve", &["-d", r#"{"name":"Functions"}"#, "-i"]);
    let served = served.ok();
    assert!(served.starts_with("HTTP/1.1 200"), "{served}");
    assert!(
        served.contains("content-type: application/json"),
        "{served}"
    );
    assert!(
        served.ends_with(r#"{"message":"Hello Functions!"}"#),
        "{served}"
    );
    assert_eq!(
        invoke("shape_serve_options", &[]).ok(),
        "served with options"
    );

    let answer = invoke("shape_answer?as=answer", &["-i"]);
    let answer = answer.ok();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    assert!(answer.contains("x-shape: answer"), "{answer}");
    assert!(answer.ends_with(r#"{"created":true}"#), "{answer}");
    let text = invoke("shape_answer?as=text", &["-i"]);
    assert!(text.ok().starts_with("HTTP/1.1 202"), "{text:#?}");
    assert!(text.ok().ends_with("accepted as text"), "{text:#?}");
    let json = invoke("shape_answer", &["-i"]);
    assert!(json.ok().starts_with("HTTP/1.1 200"), "{json:#?}");
    assert!(
        json.ok()
            .ends_with(r#"{"items":[1,2,3],"status_text":"a plain JSON value"}"#),
        "{json:#?}"
    );
    let nothing = invoke("shape_answer?as=nothing", &["-i"]);
    assert!(nothing.ok().starts_with("HTTP/1.1 204"), "{nothing:#?}");
    invoke("shape_answer?as=function", &[]).fails_with("neither a Response nor JSON");
}
