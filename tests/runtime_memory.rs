//! Memory of warm invocations, alone in its test binary: it measures this process's RSS, which
//! tests running beside it in the same process (booting and retiring isolates) would disturb.

#[path = "support/runtime.rs"]
mod in_process;
mod support;

use in_process::Runtime;

/// Resident set size of this process, from /proc.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb * 1024
}

#[tokio::test]
async fn a_thousand_sequential_invocations_succeed_within_a_memory_bound() {
    let runtime = Runtime::new().await;
    runtime.set("API_KEY", "k", None).await;
    for i in 0..100 {
        let body = runtime.json(&format!("hello?name=w{i}")).await;
        assert_eq!(body["message"], format!("hello, w{i}"));
    }
    let warmed = rss_bytes();
    for i in 0..1_000 {
        let body = runtime.json(&format!("hello?name=n{i}")).await;
        assert_eq!(body["message"], format!("hello, n{i}"));
    }
    let grown = rss_bytes().saturating_sub(warmed);
    assert!(
        grown < 48 * 1024 * 1024,
        "RSS grew by {} MiB over 1,000 invocations",
        grown / (1024 * 1024)
    );
    assert_eq!(runtime.records().await.len(), 1_100);
}
