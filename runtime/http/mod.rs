//! The embedded HTTP server (axum on hyper): the router with its credential layers, the
//! application state, the start-up line and graceful stop. Behind it: the admin API for secrets,
//! settings and logs, the user settings routes, jobs, the function endpoint, health, OpenAPI.
//! It holds services only (secrets, settings, invoker, job queue, log book), never the store:
//! no handler runs SQL, decrypts or reaches an isolate except through the invoker.

mod api_error;
mod auth;
mod body_check;
mod client_address;
mod cors;
mod dashboard;
mod extract;
mod jwt;
mod openapi;
mod rate_limit;
mod routes;
mod schemas;
mod upgrade;
mod user_auth;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router, middleware};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use api_error::{ApiError, OUT_OF_MEMORY};
pub use auth::{SERVICE_KEY_ENV, ServiceKey};
pub use body_check::{AdminBody, CheckedBody, check_admin_body};
pub use jwt::{JWT_SECRET_ENV, TokenError, UserTokens};
pub use rate_limit::RateLimits;
pub use upgrade::OpenSockets;

use crate::handlers::{self, HandlerKind};
use crate::invoke::Invoker;
use crate::jobs::JobQueue;
use crate::logs::LogBook;
use crate::secrets::SecretsService;
use crate::settings::SettingsService;
use crate::{Error, Result};

/// Largest admin request body.
const ADMIN_BODY_LIMIT: usize = 256 * 1024;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory of the functions.
    pub functions_dir: PathBuf,
    /// Directory of the jobs.
    pub jobs_dir: PathBuf,
    /// Largest function request body, in bytes (413 above).
    pub body_limit: usize,
    /// How long in-flight requests may run after a shutdown signal.
    pub shutdown_grace: Duration,
}

/// What every handler can reach: the services, the invoker and the server's options.
#[derive(Clone)]
pub struct AppState {
    /// Function secrets (admin routes).
    pub secrets: Arc<SecretsService>,
    /// Settings secrets (admin and user routes).
    pub settings: Arc<SettingsService>,
    /// Runs functions (the invocation endpoint).
    pub invoker: Arc<Invoker>,
    /// The durable job queue (job routes).
    pub jobs: JobQueue,
    /// Execution and audit records (logs routes).
    pub logs: LogBook,
    /// How the server runs.
    pub options: Arc<ServeOptions>,
    /// Verifies user tokens; `None` when `FLUXBASE_JWT_SECRET` is unset (user tokens refused).
    pub tokens: Option<UserTokens>,
    /// The admin API's key (also accepted by functions that require a caller).
    pub service_key: ServiceKey,
    /// The per-caller counters of functions with `@fluxbase:rate-limit`.
    pub rate_limits: rate_limit::RateLimits,
    /// The WebSockets functions accepted, closed and waited for when the server stops.
    pub sockets: OpenSockets,
}

/// Every route: the tables of [`routes`], each behind its credential check, and the OpenAPI
/// document generated from the same tables.
pub fn router(state: AppState) -> Router {
    let key = state.service_key.clone();
    let either = user_auth::EitherCredential {
        key: key.clone(),
        tokens: state.tokens.clone(),
    };
    let admin = routes::admin()
        .layer(DefaultBodyLimit::max(ADMIN_BODY_LIMIT))
        .route_layer(middleware::from_fn_with_state(
            key,
            auth::require_service_key,
        ));
    let jobs = routes::jobs()
        .layer(DefaultBodyLimit::max(ADMIN_BODY_LIMIT))
        .route_layer(middleware::from_fn_with_state(
            either,
            user_auth::require_service_key_or_user,
        ));
    let user = routes::user().layer(DefaultBodyLimit::max(ADMIN_BODY_LIMIT));
    let (router, api) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(admin)
        .merge(jobs)
        .merge(user)
        .merge(routes::public())
        .split_for_parts();
    let document = Arc::new(openapi::document(api));
    router
        .route(
            "/api/v1/openapi.json",
            get(move || async move { Json(document.as_ref().clone()) }),
        )
        .merge(dashboard::router())
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such route") })
        .layer(middleware::from_fn(client_address::record_client_address))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Writes the one line that says the server is up (tests and operators wait for it): where it
/// listens, its database, and the functions and jobs it serves.
pub fn announce(options: &ServeOptions, database: &str) -> Result<()> {
    let names = |dir: &PathBuf, kind| -> Result<String> {
        let found: Vec<String> = handlers::discover(dir, kind)?
            .into_iter()
            .map(|h| h.name)
            .collect();
        Ok(if found.is_empty() {
            "none".into()
        } else {
            found.join(", ")
        })
    };
    tracing::info!(
        "fluxbase listening on http://{} (database {database}; functions in {}: {}; jobs in {}: {})",
        options.listen,
        options.functions_dir.display(),
        names(&options.functions_dir, HandlerKind::Function)?,
        options.jobs_dir.display(),
        names(&options.jobs_dir, HandlerKind::Job)?,
    );
    Ok(())
}

/// Serves every route on `listener` until SIGTERM or Ctrl-C; then tells `stop` (the host's
/// workers and the relays of open WebSockets listen to it), stops accepting and lets in-flight
/// requests and the executions of open WebSockets (closed with 1001) finish for up to the grace
/// period.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    stop: tokio::sync::watch::Sender<bool>,
) -> Result<()> {
    let grace = state.options.shutdown_grace;
    let sockets = state.sockets.clone();
    let mut stopping = stop.subscribe();
    // The peer address is the key of a rate limit for callers without a user token.
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: no new connections, letting in-flight requests finish");
        let _ = stop.send(true);
    });
    // An upgraded connection is no longer the server's: its socket is waited for on its own.
    let server = async move {
        let served = server.await;
        sockets.closed().await;
        served
    };
    tokio::select! {
        served = server => served.map_err(|e| Error::io("server failed", e)),
        () = async move {
            let _ = stopping.wait_for(|stop| *stop).await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!("in-flight requests still running after {grace:?}; exiting");
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
