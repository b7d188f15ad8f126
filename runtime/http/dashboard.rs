//! The admin dashboard at `/admin/`: static files compiled into the binary (`dashboard/`), served
//! with strict security headers on every answer. It owns only the serving of those files; the
//! dashboard itself talks to the JSON admin API with the service key the person signs in with,
//! so nothing here checks credentials or reads the store.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

/// The Content-Security-Policy of every dashboard answer: scripts, styles and API calls from this
/// origin only, no inline script or style, no framing, no `<base>`, forms posting nowhere else.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'self'";

/// One file of the dashboard: its name under `/admin/`, media type and content.
struct Asset {
    name: &'static str,
    media_type: &'static str,
    body: &'static str,
}

/// Declares the dashboard's files, each compiled in from `runtime/http/dashboard/`.
macro_rules! assets {
    ($($name:literal => $media_type:literal),* $(,)?) => {
        &[$(Asset {
            name: $name,
            media_type: $media_type,
            body: include_str!(concat!("dashboard/", $name)),
        }),*]
    };
}

/// Every file of the dashboard.
const ASSETS: &[Asset] = assets! {
    "index.html" => "text/html; charset=utf-8",
    "app.css" => "text/css; charset=utf-8",
    "app.js" => "text/javascript; charset=utf-8",
    "api.js" => "text/javascript; charset=utf-8",
    "dom.js" => "text/javascript; charset=utf-8",
    "secrets.js" => "text/javascript; charset=utf-8",
    "settings.js" => "text/javascript; charset=utf-8",
    "handlers.js" => "text/javascript; charset=utf-8",
    "logs.js" => "text/javascript; charset=utf-8",
    "chart.js" => "text/javascript; charset=utf-8",
};

/// The dashboard's routes: `/admin` (redirects), `/admin/` (the page), `/admin/<file>`.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/admin",
            get(|| async { secured(Redirect::permanent("/admin/")) }),
        )
        .route("/admin/", get(|| async { secured(file("index.html")) }))
        .route(
            "/admin/{file}",
            get(|Path(name): Path<String>| async move { secured(file(&name)) }),
        )
}

/// The file `name`, or a plain 404.
fn file(name: &str) -> Response {
    match ASSETS.iter().find(|asset| asset.name == name) {
        Some(asset) => ([(header::CONTENT_TYPE, asset.media_type)], asset.body).into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// `answer` with the dashboard's security headers.
fn secured(answer: impl IntoResponse) -> Response {
    let mut response = answer.into_response();
    let headers = response.headers_mut();
    let fixed = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        // The page holds nothing secret, but a stale copy after an upgrade would talk to an API
        // it does not match.
        (header::CACHE_CONTROL, "no-cache"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
