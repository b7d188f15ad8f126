//! Middleware: every request runs with its client's network address as the address that the
//! audit records it writes carry (`fluxbase logs list --category audit` shows it). The address is
//! the TCP peer's: behind a proxy, the proxy's. It owns no credential check and no behaviour of
//! any route.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;

/// Runs the request within [`crate::store::with_client_address`] when the server knows its peer.
pub async fn record_client_address(request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.to_string());
    match peer {
        Some(peer) => crate::store::with_client_address(peer, next.run(request)).await,
        None => next.run(request).await,
    }
}
