//! The server's side of the retention period: a task that destroys deleted secrets whose
//! retention has ended, so that a host that sees no writes still keeps its promise. (Every write
//! does the same in its own transaction.) The rule itself is `SecretsService::purge_expired`.

use std::sync::Arc;
use std::time::Duration;

use super::SecretsService;

/// How often the server looks for deleted secrets past their retention, at most.
const LONGEST_INTERVAL: Duration = Duration::from_secs(60);
/// How often at least (a short retention is checked more often, down to this).
const SHORTEST_INTERVAL: Duration = Duration::from_millis(250);

/// Destroys deleted secrets past their retention every so often (a minute, or half the
/// retention if that is shorter) until `stop` turns true. Failures are logged and retried at the
/// next tick.
pub async fn purge_periodically(
    secrets: Arc<SecretsService>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let interval = (secrets.retention / 2).clamp(SHORTEST_INTERVAL, LONGEST_INTERVAL);
    let mut every = tokio::time::interval(interval);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let stopping = tokio::select! {
            _ = every.tick() => false,
            _ = stop.wait_for(|stop| *stop) => true,
        };
        if stopping {
            return;
        }
        match secrets.purge_expired().await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(
                "destroyed {purged} deleted secret(s) whose retention period had ended"
            ),
            Err(error) => tracing::warn!("could not purge deleted secrets: {error}"),
        }
    }
}
