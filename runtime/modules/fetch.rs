//! One HTTP GET of a module URL by the host, through deno_fetch's own client (its TLS roots,
//! its proxy settings from the environment), under the host's import rule: public addresses
//! only unless `--allow-private-imports` (an IP literal is checked here, a name by the
//! resolver, which keeps only its public addresses). A redirect is returned, not followed (the
//! caller checks and caches each hop); a body over [`MAX_MODULE_BYTES`] is refused. It knows
//! nothing of caches, lock files or module types.

use std::net::IpAddr;
use std::time::Duration;

use deno_core::ModuleSpecifier;
use http_body_util::{BodyExt, Limited};

use super::ImportAccess;
use crate::isolate::network;

/// The largest module body the host downloads.
pub const MAX_MODULE_BYTES: usize = 10 * 1024 * 1024;
/// How long one download may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(60);

/// What the server answered.
#[derive(Debug)]
pub enum Answer {
    /// A body (2xx) and its `content-type`.
    Body {
        /// The body.
        bytes: Vec<u8>,
        /// The `content-type` header, if any.
        content_type: Option<String>,
    },
    /// A redirect (3xx) to this URL.
    Redirect(ModuleSpecifier),
}

/// The client the host downloads modules with, under `access`.
pub fn client(access: ImportAccess) -> Result<deno_fetch::Client, String> {
    let dns_resolver = match access {
        ImportAccess::PublicOnly => network::public_only_resolver(refusal),
        ImportAccess::Any => deno_fetch::dns::Resolver::default(),
    };
    deno_fetch::create_http_client(
        fluxbase_ops::navigator::USER_AGENT,
        deno_fetch::CreateHttpClientOptions {
            dns_resolver,
            ..Default::default()
        },
    )
    .map_err(|e| format!("cannot make the HTTP client: {e}"))
}

/// The refusal of a non-public address (`what` says which).
fn refusal(what: &str) -> String {
    format!(
        "{what}; the host imports modules from public addresses only (start it with \
         --allow-private-imports to lift this)"
    )
}

/// GETs `url` (the reason of a failure does not repeat the URL: the caller names it).
pub async fn get(
    client: &deno_fetch::Client,
    url: &ModuleSpecifier,
    access: ImportAccess,
) -> Result<Answer, String> {
    if access == ImportAccess::PublicOnly
        && let Some(deno_core::url::Host::Ipv4(_) | deno_core::url::Host::Ipv6(_)) = url.host()
    {
        let host = url.host_str().unwrap_or_default();
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if bare
            .parse::<IpAddr>()
            .is_ok_and(|ip| !network::is_public(ip))
        {
            return Err(refusal(&format!("{host} is not a public address")));
        }
    }
    let request = http::Request::builder()
        .method(http::Method::GET)
        .uri(url.as_str())
        .body(deno_fetch::ReqBody::empty())
        .map_err(|e| format!("not a URL the client can send: {e}"))?;
    let download = async {
        let response = client
            .clone()
            .send(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| format!("the server answered {status} without a location"))?;
            let next = url
                .join(location)
                .map_err(|e| format!("the server redirected to {location:?}: {e}"))?;
            return Ok(Answer::Redirect(next));
        }
        if !status.is_success() {
            return Err(format!("the server answered {status}"));
        }
        let content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = Limited::new(response.into_body(), MAX_MODULE_BYTES)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    format!(
                        "the module is larger than {} MiB",
                        MAX_MODULE_BYTES / (1024 * 1024)
                    )
                } else {
                    format!("reading the body failed: {e}")
                }
            })?;
        Ok(Answer::Body {
            bytes: body.to_bytes().to_vec(),
            content_type,
        })
    };
    tokio::time::timeout(FETCH_TIMEOUT, download)
        .await
        .map_err(|_| format!("no answer within {}s", FETCH_TIMEOUT.as_secs()))?
}
