//! The WebSocket a function accepts with `Deno.upgradeWebSocket`: the isolate's end of the
//! connection the host is upgrading ([`UpgradeSocket`], handed over with the request) becomes
//! deno_websocket's server-side socket when the handler returns the upgrade response, and is
//! shut when the invocation ends, however it ends; plus the `Sec-WebSocket-Accept` value of the
//! handshake. It opens no connection (the host made the socket pair and relays its other end to
//! the client) and never reads what the socket carries: the function's messages are its own
//! answer, like a response body, and are not redacted.

use std::fmt;
use std::net::Shutdown;
use std::os::unix::net::UnixStream;

use base64::Engine as _;
use deno_core::{OpState, ResourceId, op2};
use deno_error::JsErrorBox;
use sha1::{Digest as _, Sha1};

/// The isolate's end of a connection whose client asked for a WebSocket: one end of a socket
/// pair whose other end the host relays to the client once the HTTP upgrade is done. Dropping
/// it unused tells the host the function did not accept the socket.
pub struct UpgradeSocket(UnixStream);

impl UpgradeSocket {
    /// Wraps the isolate's end of the pair (the host's end stays with the host).
    pub fn new(end: UnixStream) -> Self {
        UpgradeSocket(end)
    }
}

impl fmt::Debug for UpgradeSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UpgradeSocket")
    }
}

/// The connection of the running invocation, until its handler accepts it.
struct PendingUpgrade(UpgradeSocket);

/// The socket the running invocation accepted: its resource, and a second handle on the same
/// socket through which the host's side is shut at once when the invocation ends (the resource
/// itself may be held a while longer by deno_websocket's pending reads and writes).
struct AcceptedSocket {
    rid: ResourceId,
    end: UnixStream,
}

/// Keeps the request's connection for the handler (called as the invocation is taken).
pub(crate) fn offer(state: &mut OpState, socket: UpgradeSocket) {
    state.put(PendingUpgrade(socket));
}

/// Ends the invocation's socket: a connection not accepted is dropped, an accepted one is shut
/// both ways (the host sees it end; deno_websocket's pending read ends) and its resource closed.
pub(crate) fn end(state: &mut OpState) {
    state.try_take::<PendingUpgrade>();
    if let Some(accepted) = state.try_take::<AcceptedSocket>() {
        let _ = accepted.end.shutdown(Shutdown::Both);
        // Already gone when the socket's own close handshake ended it.
        if let Ok(resource) = state.resource_table.take_any(accepted.rid) {
            resource.close();
        }
    }
}

/// The `Sec-WebSocket-Accept` value for a client's `Sec-WebSocket-Key` (RFC 6455, 4.2.2):
/// base64 of the SHA-1 of the key followed by the protocol's GUID.
#[op2]
#[string]
pub(crate) fn op_upgrade_accept_key(#[string] key: &str) -> String {
    accept_key(key)
}

fn accept_key(key: &str) -> String {
    const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    let mut sha1 = Sha1::new();
    sha1.update(key.as_bytes());
    sha1.update(GUID);
    base64::engine::general_purpose::STANDARD.encode(sha1.finalize())
}

/// Accepts the running invocation's connection as a server-side WebSocket and returns its
/// resource id. Throws when the request's connection cannot be upgraded (no client connection,
/// as in `functions invoke`, or it was accepted already).
#[op2(fast)]
#[smi]
pub(crate) fn op_upgrade_accept(state: &mut OpState) -> Result<ResourceId, JsErrorBox> {
    let PendingUpgrade(UpgradeSocket(end)) =
        state.try_take::<PendingUpgrade>().ok_or_else(|| {
            JsErrorBox::type_error(
                "this request's connection cannot be upgraded to a WebSocket: only a request \
             served by `fluxbase serve` can be, once",
            )
        })?;
    let failed = |e: std::io::Error| {
        JsErrorBox::type_error(format!("the WebSocket connection cannot be used: {e}"))
    };
    let handle = end.try_clone().map_err(failed)?;
    end.set_nonblocking(true).map_err(failed)?;
    let stream = tokio::net::UnixStream::from_std(end).map_err(failed)?;
    let rid = deno_websocket::ws_create_server_stream(
        state,
        deno_net::raw::NetworkStream::Unix(stream),
        bytes::Bytes::new(),
    );
    state.put(AcceptedSocket { rid, end: handle });
    Ok(rid)
}

/// Cuts the accepted connection without a close frame (an uncaught error ended the
/// invocation, as it ends Deno's process): the client sees the connection end, and the
/// socket's pending read ends, which closes it.
#[op2(fast)]
pub(crate) fn op_upgrade_abort(state: &mut OpState) {
    if let Some(accepted) = state.try_borrow::<AcceptedSocket>() {
        let _ = accepted.end.shutdown(Shutdown::Both);
    }
}

#[cfg(test)]
mod tests {
    use super::accept_key;

    #[test]
    fn the_accept_key_is_the_one_of_rfc_6455() {
        // The example of RFC 6455, section 1.3.
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
