//! The host's HTTP client for the npm registry and its tarballs: TLS checked against the
//! system's certificate store (where a company's own authority is installed, as npm uses it),
//! and, for a registry a functions directory names, the host's import rule on every connection
//! (public addresses only unless `--allow-private-imports`, as for remote modules), applied to
//! the addresses a name resolves to. Owns that client; must not read or write any file.

use std::io;
use std::sync::Arc;
use std::sync::OnceLock;

use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::resolver::ResolvedSocketAddrs;
use ureq::unversioned::resolver::Resolver;
use ureq::unversioned::transport::DefaultConnector;
use ureq::unversioned::transport::NextTimeout;

use crate::modules::ImportAccess;

/// The client for `access` (one per rule, for the life of the process).
pub fn client(access: ImportAccess) -> &'static ureq::Agent {
    static PUBLIC_ONLY: OnceLock<ureq::Agent> = OnceLock::new();
    static ANY: OnceLock<ureq::Agent> = OnceLock::new();
    let cell = match access {
        ImportAccess::PublicOnly => &PUBLIC_ONLY,
        ImportAccess::Any => &ANY,
    };
    cell.get_or_init(|| {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                    .unversioned_rustls_crypto_provider(Arc::new(
                        rustls::crypto::aws_lc_rs::default_provider(),
                    ))
                    .build(),
            )
            .user_agent(concat!("fluxbase-runtime/", env!("CARGO_PKG_VERSION")))
            .build();
        ureq::Agent::with_parts(
            config,
            DefaultConnector::new(),
            ImportRule {
                access,
                names: DefaultResolver::default(),
            },
        )
    })
}

/// Name resolution under the host's import rule: with `PublicOnly`, only the public addresses
/// among the answers are connected to, and a name with none is refused.
#[derive(Debug)]
struct ImportRule {
    access: ImportAccess,
    names: DefaultResolver,
}

impl Resolver for ImportRule {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let all = self.names.resolve(uri, config, timeout)?;
        if self.access == ImportAccess::Any {
            return Ok(all);
        }
        let mut public = self.empty();
        for address in all.iter() {
            if crate::isolate::network::is_public(address.ip()) {
                public.push(*address);
            }
        }
        if public.is_empty() {
            let host = uri.host().unwrap_or_default();
            return Err(ureq::Error::Io(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "{host} is not a public address; the host fetches npm packages from public \
                     addresses only (--allow-private-imports lifts this)"
                ),
            )));
        }
        Ok(public)
    }
}
