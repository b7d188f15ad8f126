//! Per-caller rate limits of functions (`@fluxbase:rate-limit 60/min`): a GCRA limiter
//! (governor) per function and limit, keyed by caller, so `60/min` allows a burst of 60 and
//! then one call a second. Counters live in this host's memory: hosts sharing a store count
//! separately. It counts calls only: who the caller is, the HTTP layer says.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::handlers::RateLimit;

/// Callers tracked per limiter before those that are back to a full allowance are forgotten.
const FORGET_ABOVE: usize = 10_000;

/// One limiter per function and limit.
type Limiters = HashMap<(String, RateLimit), Arc<DefaultKeyedRateLimiter<String>>>;

/// The limiters of every function with a rate limit, made on its first call.
#[derive(Clone, Default)]
pub struct RateLimits {
    limiters: Arc<Mutex<Limiters>>,
}

impl RateLimits {
    /// Counts one call of `function` by `caller` against `limit`: `Err(wait)` when the caller
    /// has used up its allowance and may call again after `wait`.
    pub fn check(&self, function: &str, limit: RateLimit, caller: &str) -> Result<(), Duration> {
        let limiter = self.limiter(function, limit);
        if limiter.len() > FORGET_ABOVE {
            limiter.retain_recent();
        }
        limiter
            .check_key(&caller.to_owned())
            .map_err(|refused| refused.wait_time_from(DefaultClock::default().now()))
    }

    fn limiter(&self, function: &str, limit: RateLimit) -> Arc<DefaultKeyedRateLimiter<String>> {
        let mut limiters = self.limiters.lock().unwrap_or_else(|e| e.into_inner());
        limiters
            .entry((function.to_owned(), limit))
            .or_insert_with(|| Arc::new(RateLimiter::keyed(quota(limit))))
            .clone()
    }
}

/// `count` calls per `per_seconds`: a burst of `count`, refilled evenly over the period.
fn quota(limit: RateLimit) -> Quota {
    let count = NonZeroU32::new(limit.count).unwrap_or(NonZeroU32::MIN);
    let every = Duration::from_secs(limit.per_seconds) / count.get();
    Quota::with_period(every.max(Duration::from_nanos(1)))
        .expect("a period longer than zero")
        .allow_burst(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_gets_its_burst_then_waits_and_others_are_unaffected() {
        let limits = RateLimits::default();
        let limit = RateLimit {
            count: 3,
            per_seconds: 60,
        };
        for _ in 0..3 {
            assert!(limits.check("f", limit, "alice").is_ok());
        }
        let wait = limits.check("f", limit, "alice").unwrap_err();
        assert!(
            wait > Duration::from_secs(15) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(limits.check("f", limit, "bob").is_ok());
        assert!(limits.check("g", limit, "alice").is_ok());
    }
}
