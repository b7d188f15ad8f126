//! The egress check of the connections function code opens outside deno_fetch's own request
//! path: the WebSocket handshake, which shares fetch's client (and so its resolver, which keeps
//! host names to public addresses) but not the request hook that refuses a non-public IP
//! literal. The host puts its rule in the op state ([`EgressCheck`]); this module holds no rule.

use deno_core::{OpState, op2};
use deno_error::JsErrorBox;

/// The host's rule for the host part of a URL (`127.0.0.1`, `[::1]`, `example.com`): `Err`
/// with the message function code sees when it may not connect there.
#[derive(Clone, Copy)]
pub struct EgressCheck(pub fn(&str) -> Result<(), String>);

/// Checks `host` against the isolate's [`EgressCheck`]; an isolate without one refuses every
/// host (fail closed).
#[op2(fast)]
pub fn op_egress_check_host(state: &mut OpState, #[string] host: &str) -> Result<(), JsErrorBox> {
    let check = state
        .try_borrow::<EgressCheck>()
        .ok_or_else(|| JsErrorBox::type_error("this isolate has no egress rule"))?;
    (check.0)(host).map_err(JsErrorBox::type_error)
}
