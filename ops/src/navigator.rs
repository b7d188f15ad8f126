//! What `navigator` (js/05_navigator.js) takes from the host: the user agent, which is also
//! the `User-Agent` header `fetch` sends (runtime/isolate/boot.rs reads [`USER_AGENT`]), and the
//! number of CPUs this process may run on. It reads nothing else of the host.

use deno_core::op2;

/// The user agent of function code: `navigator.userAgent`, and what `fetch` sends as
/// `User-Agent`, one string as in Deno (where both are `Deno/<version>`).
pub const USER_AGENT: &str = "fluxbase-runtime";

/// `navigator.userAgent`.
#[op2]
#[string]
pub fn op_navigator_user_agent() -> String {
    USER_AGENT.to_owned()
}

/// `navigator.hardwareConcurrency`: the parallelism this process may use (CPU affinity and
/// cgroup quota included), as `std::thread::available_parallelism` gives it; 1 if unknown.
#[op2(fast)]
#[smi]
pub fn op_navigator_hardware_concurrency() -> u32 {
    std::thread::available_parallelism()
        .map(|n| u32::try_from(n.get()).unwrap_or(u32::MAX))
        .unwrap_or(1)
}
