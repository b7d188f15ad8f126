//! Functions and jobs from `fixtures/` through the real invoker, isolates and SQLite store.

use crate::support;

use std::time::Duration;

use crate::in_process::{Runtime, failure};
use fluxbase::invoke::{Call, ExecutionFailure, InvokerConfig, Isolation};
use fluxbase::secrets::Namespace;
use fluxbase::time::Timestamp;
use support::fixtures;

#[tokio::test]
async fn deno_env_holds_exactly_the_injected_variables() {
    let runtime = Runtime::new().await;
    runtime.set("API_KEY", "global-key", None).await;
    runtime.set("ONLY_HERE", "ns-value", Some("default")).await;
    runtime.set("ELSEWHERE", "other-ns", Some("billing")).await;

    let body = runtime.json("env").await;
    let env = body["env"].as_object().unwrap();
    let mut names: Vec<&str> = env.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "FLUXBASE_EXECUTION_ID",
            "FLUXBASE_FUNCTION_NAME",
            "FLUXBASE_FUNCTION_NAMESPACE",
            "FLUXBASE_SECRET_API_KEY",
            "FLUXBASE_SECRET_ONLY_HERE",
        ]
    );
    assert_eq!(env["FLUXBASE_SECRET_API_KEY"], "global-key");
    assert_eq!(env["FLUXBASE_SECRET_ONLY_HERE"], "ns-value");
    assert_eq!(env["FLUXBASE_FUNCTION_NAME"], "env");
    assert_eq!(env["FLUXBASE_FUNCTION_NAMESPACE"], "default");
    assert_eq!(
        body["home"],
        serde_json::Value::Null,
        "host HOME is not visible"
    );
    assert_eq!(
        body["path"],
        serde_json::Value::Null,
        "host PATH is not visible"
    );
    assert_eq!(body["afterSet"], "1");
    assert_eq!(body["afterDelete"], serde_json::Value::Null);
    assert_eq!(body["has"], true);

    // Each execution has its own id, and what one execution set is gone in the next.
    let again = runtime.json("env").await;
    assert_ne!(
        again["env"]["FLUXBASE_EXECUTION_ID"],
        body["env"]["FLUXBASE_EXECUTION_ID"]
    );
    assert!(again["env"].get("LOCAL_ONLY").is_none());
}

#[tokio::test]
async fn secrets_get_is_case_insensitive_and_get_required_names_what_is_missing() {
    let runtime = Runtime::new().await;
    runtime.set("STRIPE_KEY", "sk_test_abc", None).await;

    let found = runtime.json("secrets?name=stripe_key").await;
    assert_eq!(found["value"], "sk_test_abc");
    assert_eq!(found["env"], "sk_test_abc");
    let missing = runtime.json("secrets?name=NOPE").await;
    assert_eq!(missing["value"], serde_json::Value::Null);
    assert_eq!(missing["type"], "undefined");

    let error = runtime
        .get("secrets?name=NOPE&required=1")
        .await
        .unwrap_err();
    let (failure, id) = failure(error);
    match &failure {
        ExecutionFailure::Exception(message) => {
            assert!(
                message.contains("Missing required secret: NOPE"),
                "{message}"
            )
        }
        other => panic!("{other:?}"),
    }
    let record = runtime.record(&id).await;
    assert_eq!(record.status, "failed");
    assert!(record.error.unwrap().contains("NOPE"));
}

#[tokio::test]
async fn namespace_secrets_win_and_other_namespaces_stay_invisible() {
    let runtime = Runtime::with(InvokerConfig {
        default_namespace: Namespace::parse("search").unwrap(),
        ..InvokerConfig::default()
    })
    .await;
    runtime.set("DB_URL", "global-db", None).await;
    runtime.set("DB_URL", "billing-db", Some("billing")).await;
    runtime
        .set("SEARCH_KEY", "search-only", Some("search"))
        .await;

    // billing.ts declares its namespace, which wins over the host's --namespace.
    let billing = runtime.json("billing").await;
    assert_eq!(billing["namespace"], "billing");
    assert_eq!(billing["dbUrl"], "billing-db");
    assert_eq!(
        billing["searchKey"],
        serde_json::Value::Null,
        "other namespace"
    );

    // A function without the line runs in the host's namespace and falls back to global.
    let search = runtime.json("secrets?name=DB_URL").await;
    assert_eq!(search["value"], "global-db");
    let own = runtime.json("secrets?name=SEARCH_KEY").await;
    assert_eq!(own["value"], "search-only");
}

#[tokio::test]
async fn an_expired_namespace_secret_gives_way_to_the_global_one_and_says_so() {
    let runtime = Runtime::new().await;
    runtime.set("DB_URL", "global-db", None).await;
    let soon = Timestamp::from_millis(Timestamp::now().millis() + 300);
    runtime
        .set_expiring("DB_URL", "billing-db", Some("billing"), Some(soon))
        .await;
    assert_eq!(runtime.json("billing").await["dbUrl"], "billing-db");

    tokio::time::sleep(Duration::from_millis(400)).await;
    let (response, id) = runtime.get("billing").await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(body["dbUrl"], "global-db");
    let record = runtime.record(&id).await;
    assert!(
        record.logs.iter().any(|l| l.level == "system"
            && l.message
                .contains("DB_URL of namespace billing has expired; using the global")),
        "{:?}",
        record.logs
    );

    // An expired secret with no global fallback is simply absent.
    let past = Timestamp::from_millis(Timestamp::now().millis() + 200);
    runtime
        .set_expiring("SEARCH_KEY", "x", Some("billing"), Some(past))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        runtime.json("billing").await["searchKey"],
        serde_json::Value::Null
    );
}

#[tokio::test]
async fn a_secret_change_reaches_the_next_invocation_of_a_warm_isolate() {
    let runtime = Runtime::new().await;
    runtime.set("API_KEY", "first", None).await;
    assert_eq!(runtime.json("secrets").await["value"], "first");
    runtime.set("API_KEY", "second", None).await;
    assert_eq!(runtime.json("secrets").await["value"], "second");
    runtime.set("API_KEY", "third", Some("default")).await;
    assert_eq!(runtime.json("secrets").await["value"], "third");
}

#[tokio::test]
async fn console_output_is_kept_with_secret_values_redacted() {
    let runtime = Runtime::new().await;
    runtime.set("API_KEY", "sk_live_redact_me_123", None).await;
    let (response, id) = runtime.get("logs").await.unwrap();
    assert_eq!(response.body, b"logged");
    let record = runtime.record(&id).await;
    let lines: Vec<(&str, &str)> = record
        .logs
        .iter()
        .map(|l| (l.level.as_str(), l.message.as_str()))
        .collect();
    assert_eq!(
        lines,
        [
            ("info", "the key is [REDACTED]"),
            ("info", "interpolated [REDACTED] twice [REDACTED]"),
            ("warn", "{ nested: { key: \"[REDACTED]\" } }"),
            ("error", "plain line without secrets"),
        ]
    );
    assert_eq!(record.secrets_accessed, ["FLUXBASE_SECRET_API_KEY"]);
    assert_eq!(record.status, "succeeded");
    assert_eq!(record.kind, "function");
}

#[tokio::test]
async fn web_apis_relative_imports_and_every_export_shape_work() {
    let runtime = Runtime::new().await;
    let apis = runtime.json("webapis").await;
    for (name, value) in apis.as_object().unwrap() {
        assert!(
            !value.as_str().is_some_and(|v| v.starts_with("ERROR")),
            "{name}: {value}"
        );
    }
    assert_eq!(
        apis["subtle.digest"],
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(apis["url"], "https://example.com/b?x=1#h");
    assert_eq!(apis["fetch.data_url"], "hi there");
    assert_eq!(apis["randomUUID"], true);

    let imports = runtime.json("imports").await;
    assert_eq!(imports["shared"], "hello from shared, imports");
    assert_eq!(imports["lib"], "HEY!");
    assert_eq!(imports["local"], 42);

    let (object, _) = runtime.get("object_export").await.unwrap();
    assert_eq!(object.body, b"object fetch GET");
    let (named, _) = runtime.get("named_export/x").await.unwrap();
    assert_eq!(named.status, 202);
    assert_eq!(named.body, b"named handler /functions/v1/named_export/x");
}

#[tokio::test]
async fn a_broadcast_channel_reaches_its_own_isolate_only_and_navigator_is_the_hosts() {
    let runtime = Runtime::new().await;
    let first = runtime.json("broadcast?post=one").await;
    assert_eq!(first["heard"], serde_json::json!(["one"]));
    // Another function listens on a channel of the same name, in an isolate of its own.
    let twin = runtime.json("broadcast_twin?post=two").await;
    assert_eq!(twin["heard"], serde_json::json!(["two"]));
    let again = runtime.json("broadcast").await;
    assert_eq!(
        again["heard"],
        serde_json::json!(["one"]),
        "the twin's message stayed in the twin's isolate"
    );

    // The user agent is the one `fetch` sends; the CPU count is what this process may use.
    assert_eq!(first["userAgent"], "fluxbase-runtime");
    let cpus = std::thread::available_parallelism().unwrap().get();
    assert_eq!(first["hardwareConcurrency"], cpus);
    assert_eq!(first["language"], "en-US");
}

#[tokio::test]
async fn load_errors_name_the_file_and_line() {
    let runtime = Runtime::new().await;
    let (syntax, id) = failure(runtime.get("syntax_error").await.unwrap_err());
    let shown = syntax.to_string();
    assert!(
        shown.starts_with("cannot load: SyntaxError") && shown.contains("syntax_error.ts:3:"),
        "{shown}"
    );
    assert_eq!(runtime.record(&id).await.status, "failed");

    let (missing, _) = failure(runtime.get("missing_import").await.unwrap_err());
    assert!(
        missing.to_string().contains("does_not_exist.ts"),
        "{missing}"
    );

    let not_found = runtime.get("no_such_function").await.unwrap_err();
    assert!(
        matches!(not_found, fluxbase::Error::NoHandler { .. }),
        "{not_found}"
    );
    assert!(
        not_found
            .to_string()
            .contains("no function no_such_function")
    );
}

#[tokio::test]
async fn a_thrown_error_fails_the_invocation_and_the_host_carries_on() {
    let runtime = Runtime::new().await;
    let (thrown, id) = failure(runtime.get("throws").await.unwrap_err());
    assert_eq!(
        thrown.to_string(),
        "uncaught exception: Error: handler exploded on purpose"
    );
    assert_eq!(runtime.record(&id).await.status, "failed");
    assert_eq!(runtime.json("hello").await["message"], "hello, world");
}

#[tokio::test]
async fn a_runaway_loop_times_out_and_a_memory_bomb_hits_the_heap_limit() {
    let runtime = Runtime::with(InvokerConfig {
        function_timeout: Duration::from_secs(2),
        heap_limit_bytes: 64 * 1024 * 1024,
        ..InvokerConfig::default()
    })
    .await;

    let (looped, id) = failure(runtime.get("infinite_loop").await.unwrap_err());
    assert_eq!(looped, ExecutionFailure::Timeout(Duration::from_secs(2)));
    assert_eq!(runtime.record(&id).await.status, "timeout");

    let (bomb, id) = failure(runtime.get("memory_bomb").await.unwrap_err());
    assert_eq!(
        bomb,
        ExecutionFailure::OutOfMemory {
            limit_bytes: 64 * 1024 * 1024
        }
    );
    assert_eq!(runtime.record(&id).await.status, "out_of_memory");

    // The same once an op has resolved and a timer is pending: not a timeout.
    let (bomb, id) = failure(runtime.get("memory_bomb_after_await").await.unwrap_err());
    assert_eq!(
        bomb,
        ExecutionFailure::OutOfMemory {
            limit_bytes: 64 * 1024 * 1024
        }
    );
    assert_eq!(runtime.record(&id).await.status, "out_of_memory");

    // Other invocations carry on.
    assert_eq!(
        runtime.json("hello?name=after").await["message"],
        "hello, after"
    );
}

#[tokio::test]
async fn jobs_get_their_payload_secrets_and_identity_and_keep_their_result() {
    let runtime = Runtime::new().await;
    runtime.set("REPORT_TOKEN", "tok_hidden_42", None).await;
    let outcome = runtime
        .invoker
        .execute(Call::job(
            &fixtures("jobs"),
            "summarize",
            serde_json::json!({ "items": [1, 2, 3, 4] }),
        ))
        .await
        .unwrap();
    let execution_id = outcome.execution_id.clone();
    assert_eq!(
        outcome.result().unwrap(),
        serde_json::json!({
            "count": 4, "sum": 10, "job": "summarize", "namespace": "default", "hasId": true
        })
    );
    let record = runtime.record(&execution_id).await;
    assert_eq!(record.kind, "job");
    assert_eq!(record.secrets_accessed, ["FLUXBASE_SECRET_REPORT_TOKEN"]);
    assert_eq!(
        record.logs[0].message,
        "summarizing 4 items with token [REDACTED]"
    );

    let error = runtime
        .invoker
        .execute(Call::job(
            &fixtures("jobs"),
            "fails",
            serde_json::Value::Null,
        ))
        .await
        .unwrap_err();
    let (failed, _) = failure(error);
    assert_eq!(
        failed.to_string(),
        "uncaught exception: Error: job failed on purpose"
    );
}

#[tokio::test]
async fn sixty_fresh_isolates_in_a_row_all_boot_and_resolve_promises() {
    // Each isolate has an OS thread of its own, created and ended with it: sixty in a row must
    // all boot, run timers and resolve promises (an engine whose per-thread state outlived its
    // isolates stopped doing so after about 30).
    let runtime = Runtime::with(InvokerConfig {
        isolation: Isolation::PerInvocation,
        ..InvokerConfig::default()
    })
    .await;
    for i in 0..60 {
        let body = runtime.json(&format!("webapis?i={i}")).await;
        assert_eq!(body["setTimeout"], "fired", "isolate {i}");
        assert_eq!(body["readablestream"], "xy", "isolate {i}");
    }
}
