//! The database itself enforces the model: one row per (scope, namespace, name), including for
//! global secrets, and no namespace on a global secret or missing on a namespaced one.

mod support;

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
