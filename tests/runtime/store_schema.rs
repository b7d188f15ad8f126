//! The database itself enforces the model: one row per (scope, namespace, name), including for
//! global secrets, and no namespace on a global secret or missing on a namespaced one.

use crate::support;

use support::{Host, open_database};

async fn insert(pool: &sqlx::AnyPool, scope: &str, namespace: &str, name: &str) -> bool {
    sqlx::query(
        "INSERT INTO secrets (scope, namespace, name, current_version, created_at, updated_at) \
         VALUES ($1, $2, $3, 1, 0, 0)",
    )
    .bind(scope)
    .bind(namespace)
    .bind(name)
    .execute(pool)
    .await
    .is_ok()
}

#[tokio::test]
async fn uniqueness_and_scope_rules_are_constraints() {
    let host = Host::new();
    host.run(&["secrets", "set", "TAKEN", "v"]).ok();
    let pool = open_database(&host).await;

    assert!(
        !insert(&pool, "global", "", "TAKEN").await,
        "global duplicated"
    );
    assert!(insert(&pool, "namespace", "a", "TAKEN").await);
    assert!(
        !insert(&pool, "namespace", "a", "TAKEN").await,
        "namespace duplicated"
    );
    assert!(insert(&pool, "namespace", "b", "TAKEN").await);
    assert!(
        !insert(&pool, "global", "a", "OTHER").await,
        "global secret with a namespace"
    );
    assert!(
        !insert(&pool, "namespace", "", "OTHER").await,
        "namespaced secret without one"
    );
    assert!(!insert(&pool, "planet", "", "OTHER").await, "unknown scope");
    pool.close().await;
}

/// The record writer stores a busy server's executions in batches of up to hundreds, in one
/// transaction; every record of a batch must come back whole.
#[tokio::test]
async fn a_batch_of_execution_records_is_stored_whole() {
    use fluxbase::store::{ExecutionRecord, LogFilter, LogLine, Store};
    use fluxbase::time::Timestamp;

    let host = Host::new();
    host.run(&["secrets", "list"]).ok();
    let store = Store::open(&host.database_url()).await.unwrap();
    let records: Vec<ExecutionRecord> = (0..150)
        .map(|i| ExecutionRecord {
            id: format!("batch-{i:03}"),
            kind: "function".into(),
            name: format!("fn{}", i % 7),
            namespace: "default".into(),
            status: if i % 2 == 0 { "succeeded" } else { "failed" }.into(),
            started_at: Timestamp::from_millis(1_000_000 + i),
            duration_ms: i,
            logs: vec![LogLine {
                level: "log".into(),
                message: format!("line {i}"),
            }],
            secrets_accessed: vec![format!("FLUXBASE_SECRET_S{i}")],
            error: (i % 2 == 1).then(|| format!("boom {i}\0")),
        })
        .collect();
    store.record_executions(&records).await.unwrap();

    let stored = store
        .executions(&LogFilter {
            name: None,
            search: None,
            limit: 1000,
            ..LogFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(stored.len(), 150);
    for record in &records {
        let back = stored.iter().find(|r| r.id == record.id).unwrap();
        assert_eq!(back.name, record.name);
        assert_eq!(back.status, record.status);
        assert_eq!(back.started_at, record.started_at);
        assert_eq!(back.duration_ms, record.duration_ms);
        assert_eq!(back.logs, record.logs);
        assert_eq!(back.secrets_accessed, record.secrets_accessed);
        assert_eq!(
            back.error,
            record.error.as_ref().map(|e| e.replace('\0', "\u{FFFD}"))
        );
    }
    store.close().await;
}
