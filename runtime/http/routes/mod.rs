//! Every path of the HTTP API, one file each, named after its path, with the helpers two paths
//! share beside them (`secret_address.rs`, `settings_access.rs`). The tables here register each
//! handler with `routes!`, so the router and the OpenAPI document come from one list.
//! Handlers parse, call one service or the invoker, and shape the answer; they never reach the
//! store. Credentials are checked by the layers `http::router` puts around each table, not here.

pub(super) mod admin_handlers;
pub(super) mod admin_log_execution;
pub(super) mod admin_logs;
pub(super) mod admin_secret;
pub(super) mod admin_secret_destroy;
pub(super) mod admin_secret_history;
pub(super) mod admin_secret_rollback;
pub(super) mod admin_secret_stats;
pub(super) mod admin_secret_undelete;
pub(super) mod admin_secrets;
pub(super) mod admin_settings_secret;
pub(super) mod admin_settings_secrets;
pub(super) mod admin_stats_invocations;
pub(super) mod functions;
pub(super) mod health;
pub(super) mod job_enqueue;
pub(super) mod job_run;
pub(super) mod job_run_cancel;
pub(super) mod job_run_retry;
pub(super) mod job_runs;
pub(super) mod secret_address;
pub(super) mod settings_access;
pub(super) mod settings_secret;
pub(super) mod settings_secrets;

use axum::routing::any;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

/// The routes behind the service key.
pub(super) fn admin() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(
            admin_secrets::list,
            admin_secrets::create,
            admin_secrets::batch
        ))
        .routes(routes!(
            admin_secret::get,
            admin_secret::update,
            admin_secret::delete
        ))
        .routes(routes!(admin_secret_history::history))
        .routes(routes!(admin_secret_rollback::rollback))
        .routes(routes!(admin_secret_undelete::undelete))
        .routes(routes!(admin_secret_destroy::destroy))
        .routes(routes!(admin_secret_stats::stats))
        .routes(routes!(admin_logs::list))
        .routes(routes!(admin_log_execution::show))
        .routes(routes!(admin_handlers::list))
        .routes(routes!(admin_stats_invocations::invocations))
        .routes(routes!(admin_settings_secrets::list))
        .routes(routes!(
            admin_settings_secret::get,
            admin_settings_secret::put,
            admin_settings_secret::delete
        ))
}

/// The job routes: the service key or a user token.
pub(super) fn jobs() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(job_enqueue::enqueue))
        .routes(routes!(job_run::status))
        .routes(routes!(job_run_cancel::cancel))
        .routes(routes!(job_run_retry::retry))
        .routes(routes!(job_runs::list))
}

/// The routes of a user's own settings secrets (a user token, checked by their extractor).
pub(super) fn user() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(settings_secrets::list))
        .routes(routes!(
            settings_secret::get,
            settings_secret::put,
            settings_secret::delete
        ))
}

/// The open routes: health and the invocation endpoint.
pub(super) fn public() -> OpenApiRouter<AppState> {
    /// The invocation endpoint takes any method, which `routes!` cannot register, so its
    /// description comes from the handler's `#[utoipa::path]` through this document instead.
    #[derive(OpenApi)]
    #[openapi(paths(functions::invoke_root))]
    struct Invocation;

    OpenApiRouter::with_openapi(Invocation::openapi())
        .routes(routes!(health::health))
        .route("/functions/v1/{name}", any(functions::invoke_root))
        .route("/functions/v1/{name}/{*rest}", any(functions::invoke_path))
}
