//! Isolate reuse is exact: under the per-function policy an isolate keeps its module state
//! across invocations of one function in one namespace and nothing else; a secret change, a
//! source change, the idle time or the invocation limit retire it, and a retired isolate never
//! runs again. Under per-invocation every call gets a fresh isolate. Pre-booted isolates behave
//! like freshly booted ones.

use crate::support;

use std::collections::HashSet;
use std::time::Duration;

use crate::in_process::Runtime;
use fluxbase::invoke::{Call, InvokerConfig, Isolation};
use fluxbase::isolate::{HttpRequest, RequestBody};

/// `(isolate id, count, secret)` from the counter fixture (or `counter_twin`).
async fn count(runtime: &Runtime, name: &str) -> (String, u64, Option<String>) {
    let body = runtime.json(name).await;
    (
        body["isolate"].as_str().unwrap().to_owned(),
        body["count"].as_u64().unwrap(),
        body["secret"].as_str().map(str::to_owned),
    )
}

#[tokio::test]
async fn per_function_keeps_module_state_and_sees_every_secret_change_at_once() {
    let runtime = Runtime::new().await;
    runtime.set("COUNTER_SECRET", "one", None).await;
    let (first, n, secret) = count(&runtime, "counter").await;
    assert_eq!((n, secret.as_deref()), (1, Some("one")));
    for expected in 2..=4 {
        let (isolate, n, _) = count(&runtime, "counter").await;
        assert_eq!((isolate.as_str(), n), (first.as_str(), expected), "reused");
    }

    // A change reaches the very next invocation, in a new isolate; the old one never returns.
    runtime.set("COUNTER_SECRET", "two", None).await;
    let (second, n, secret) = count(&runtime, "counter").await;
    assert_eq!((n, secret.as_deref()), (1, Some("two")));
    assert_ne!(
        second, first,
        "the isolate that held the old value was retired"
    );
    runtime
        .set("COUNTER_SECRET", "three", Some("default"))
        .await;
    let (third, _, secret) = count(&runtime, "counter").await;
    assert_eq!(
        secret.as_deref(),
        Some("three"),
        "the namespace secret wins"
    );
    for _ in 0..3 {
        let (isolate, _, secret) = count(&runtime, "counter").await;
        assert_eq!(isolate, third);
        assert_eq!(secret.as_deref(), Some("three"));
    }
    // A change in another namespace leaves this one's isolate alone.
    runtime
        .set("COUNTER_SECRET", "elsewhere", Some("other"))
        .await;
    let (isolate, _, secret) = count(&runtime, "counter").await;
    assert_eq!(
        (isolate.as_str(), secret.as_deref()),
        (third.as_str(), Some("three"))
    );
}

#[tokio::test]
async fn two_functions_never_share_an_isolate() {
    let runtime = Runtime::new().await;
    let mut seen = Vec::new();
    for round in 1..=3 {
        let (a, n_a, _) = count(&runtime, "counter").await;
        let (b, n_b, _) = count(&runtime, "counter_twin").await;
        assert_eq!(
            (n_a, n_b),
            (round, round),
            "each function counts its own calls"
        );
        assert_ne!(a, b);
        seen.push((a, b));
    }
    assert!(
        seen.windows(2).all(|w| w[0] == w[1]),
        "each kept its isolate"
    );
}

#[tokio::test]
async fn per_invocation_never_carries_anything_over() {
    let runtime = Runtime::with(InvokerConfig {
        isolation: Isolation::PerInvocation,
        preboot: 2,
        ..InvokerConfig::default()
    })
    .await;
    runtime.invoker.prepare();
    let mut isolates = HashSet::new();
    for _ in 0..8 {
        let (isolate, n, _) = count(&runtime, "counter").await;
        assert_eq!(n, 1, "module state starts over");
        assert!(isolates.insert(isolate), "an isolate is used once");
    }
    assert_eq!(runtime.invoker.idle_isolates(), 0);
}

#[tokio::test]
async fn the_invocation_limit_and_the_idle_time_retire_an_isolate_for_good() {
    let runtime = Runtime::with(InvokerConfig {
        max_executions_per_isolate: 3,
        idle_timeout: Duration::from_millis(300),
        ..InvokerConfig::default()
    })
    .await;
    let mut retired = HashSet::new();
    for call in 0..9 {
        let (isolate, n, _) = count(&runtime, "counter").await;
        assert_eq!(n, call % 3 + 1, "three invocations per isolate");
        assert!(!retired.contains(&isolate), "a retired isolate ran again");
        if n == 3 {
            retired.insert(isolate.clone());
        }
    }
    assert_eq!(retired.len(), 3);

    let (kept, n, _) = count(&runtime, "counter").await;
    assert_eq!(n, 1);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (after_idle, n, _) = count(&runtime, "counter").await;
    assert_eq!(n, 1, "an idle isolate is retired");
    assert_ne!(after_idle, kept);
    // The periodic sweep retires idle isolates without waiting for the next call.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(runtime.invoker.idle_isolates(), 1);
    assert_eq!(runtime.invoker.retire_idle(), 1);
    assert_eq!(runtime.invoker.idle_isolates(), 0);
}

#[tokio::test]
async fn a_changed_namespace_line_or_source_gets_a_new_isolate_with_that_namespaces_secrets() {
    let runtime = Runtime::new().await;
    runtime.set("COUNTER_SECRET", "of a", Some("a")).await;
    runtime.set("COUNTER_SECRET", "of b", Some("b")).await;
    let dir = tempfile::tempdir().unwrap();
    let source =
        std::fs::read_to_string(support::fixtures("functions").join("counter.ts")).unwrap();
    let file = dir.path().join("counter.ts");
    let call = || async {
        let request = HttpRequest {
            method: "GET".into(),
            url: "http://localhost/functions/v1/counter".into(),
            headers: Vec::new(),
            body: RequestBody::None,
            upgrade: None,
        };
        let outcome = runtime
            .invoker
            .execute(Call::function(dir.path(), "counter", request))
            .await
            .unwrap();
        let response = outcome.response().unwrap();
        let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
        (
            body["isolate"].as_str().unwrap().to_owned(),
            body["count"].as_u64().unwrap(),
            body["secret"].as_str().unwrap().to_owned(),
        )
    };

    std::fs::write(&file, format!("// @fluxbase:namespace a\n{source}")).unwrap();
    let (in_a, _, secret) = call().await;
    assert_eq!(secret, "of a");
    let (again, n, _) = call().await;
    assert_eq!((again.as_str(), n), (in_a.as_str(), 2));

    std::fs::write(&file, format!("// @fluxbase:namespace b\n{source}")).unwrap();
    let (in_b, n, secret) = call().await;
    assert_eq!((n, secret.as_str()), (1, "of b"));
    assert_ne!(
        in_b, in_a,
        "namespace b never runs in namespace a's isolate"
    );
}

#[test]
fn a_secret_set_by_another_process_reaches_the_next_invocation_of_a_running_server() {
    let host = support::Host::new();
    host.run(&["secrets", "set", "API_KEY", "first"]).ok();
    let server = support::server::Server::start(&host, &[]);
    let value = || {
        server
            .request("GET", "/functions/v1/secrets?name=api_key", false, None)
            .json()["value"]
            .clone()
    };
    assert_eq!(value(), "first");
    assert_eq!(
        value(),
        "first",
        "served from the warm isolate and the cache"
    );
    // The CLI is another process writing to the same store: the server's cache must notice.
    for next in ["second", "third"] {
        host.run(&["secrets", "set", "API_KEY", next]).ok();
        assert_eq!(value(), next);
    }
    host.run(&["secrets", "delete", "API_KEY"]).ok();
    assert_eq!(value(), serde_json::Value::Null);
}
