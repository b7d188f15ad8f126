//! Where `fetch` in function code may connect: by default public addresses only, so that a
//! function cannot reach the host's loopback services, its private network or a cloud's
//! metadata endpoint. Two checks in deno_fetch's own request path, redirects included: an IP
//! literal is refused before sending ([`refuse_non_public_literal`]), and a host name resolves
//! through [`PublicOnlyResolver`] to checked public addresses only, so no second lookup can race.
//! A function's `@fluxbase:allow-net` list narrows this further: the request hook refuses any
//! other host, on the isolate's own thread (each isolate has one), redirects included.
//! A `WebSocket` connects through deno_fetch's client (the same resolver) but not its request
//! path: its IP literals are checked by [`egress_check`], which the isolate's op state holds.

use std::cell::RefCell;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use deno_error::JsErrorBox;
use deno_fetch::dns::{Resolve, Resolving};
use fluxbase_ops::egress::EgressCheck;
use hyper_util::client::legacy::connect::dns::Name;

use crate::handlers::HostPattern;

thread_local! {
    /// The hosts the function on this thread's isolate may reach, if it narrowed them.
    static ALLOWED_HOSTS: RefCell<Option<Vec<HostPattern>>> = const { RefCell::new(None) };
}

/// Narrows `fetch` of the isolate on the calling thread to `hosts` (`None`: no narrowing).
/// Called on the isolate's thread when its function is loaded.
pub fn restrict_to(hosts: Option<Vec<HostPattern>>) {
    ALLOWED_HOSTS.with(|allowed| *allowed.borrow_mut() = hosts);
}

/// Which addresses `fetch` may connect to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NetworkAccess {
    /// Public addresses only: loopback, private, link-local (cloud metadata), shared (CGNAT),
    /// multicast and reserved addresses are refused (see [`is_public`]).
    #[default]
    PublicOnly,
    /// Any address, the host's own loopback and private networks included.
    Any,
}

/// The part of deno_fetch's options that `access` decides.
pub fn apply(access: NetworkAccess, options: &mut deno_fetch::Options) {
    match access {
        NetworkAccess::PublicOnly => {
            options.request_builder_hook = Some(refuse_non_public_literal);
            options.resolver = public_only_resolver(refusal);
        }
        NetworkAccess::Any => options.request_builder_hook = Some(refuse_unlisted_host),
    }
}

/// Whether `ip` is an address of the public internet. Not public: unspecified, "this
/// network" (0/8), loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7), shared
/// (100.64/10), link-local (169.254/16, fe80::/10), IETF protocol (192.0.0/24), benchmarking
/// (198.18/15), documentation, multicast, reserved (240/4) and broadcast; an IPv4-mapped or
/// IPv4-compatible IPv6 address is judged as the IPv4 address it carries.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || ip.is_documentation()
        || ip.is_multicast()
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    // ::a.b.c.d, the deprecated IPv4-compatible form; :: and ::1 fall in 0.0.0.0/8 this way.
    if segments[..6].iter().all(|&s| s == 0) {
        return is_public_v4(Ipv4Addr::from(ip.to_bits() as u32));
    }
    !(ip.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00 // unique local
        || (segments[0] & 0xffc0) == 0xfe80 // link-local
        || (segments[0] == 0x2001 && segments[1] == 0x0db8)) // documentation
}

/// The error a refused connection gives function code.
fn refusal(what: &str) -> String {
    format!(
        "fetch refused: {what}; function code may only reach public addresses \
         (start the host with --allow-private-network to lift this)"
    )
}

/// deno_fetch's request hook on a host that allows any address: refuses a request to a host
/// its function did not list in `@fluxbase:allow-net`.
fn refuse_unlisted_host(
    request: &mut http::Request<deno_fetch::ReqBody>,
) -> Result<(), JsErrorBox> {
    let Some(host) = request.uri().host() else {
        return Ok(());
    };
    check_listed(host)
}

/// Refuses `host` unless the function on this thread listed it (or listed nothing).
fn check_listed(host: &str) -> Result<(), JsErrorBox> {
    listed(host).map_err(JsErrorBox::type_error)
}

/// `Err` (the refusal) unless the function on this thread listed `host` in its
/// `@fluxbase:allow-net` (or listed nothing).
fn listed(host: &str) -> Result<(), String> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    ALLOWED_HOSTS.with(|allowed| match &*allowed.borrow() {
        Some(hosts) if !hosts.iter().any(|pattern| pattern.matches(bare)) => {
            let listed: Vec<&str> = hosts.iter().map(HostPattern::as_str).collect();
            Err(format!(
                "fetch refused: {bare} is not in this function's @fluxbase:allow-net list ({})",
                listed.join(", ")
            ))
        }
        _ => Ok(()),
    })
}

/// deno_fetch's request hook: refuses a request to a host its function did not list in
/// `@fluxbase:allow-net`, or whose URL names a non-public IP address.
fn refuse_non_public_literal(
    request: &mut http::Request<deno_fetch::ReqBody>,
) -> Result<(), JsErrorBox> {
    let Some(host) = request.uri().host() else {
        return Ok(());
    };
    check_listed(host)?;
    public_literal_or_name(host).map_err(JsErrorBox::type_error)
}

/// `Err` (the refusal) when `host`, the host part of a URL, is a non-public IP literal
/// (`[...]` around an IPv6 one); a host name passes, and is left to [`PublicOnlyResolver`].
fn public_literal_or_name(host: &str) -> Result<(), String> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    match bare.parse::<IpAddr>() {
        Ok(ip) if !is_public(ip) => Err(refusal(&format!("{host} is not a public address"))),
        _ => Ok(()),
    }
}

/// The check of the hosts function code connects to outside deno_fetch's request path (the
/// WebSocket handshake, see `js/99_global_scope.js`), for the op state: under `access`, the
/// same rule as `fetch`'s. Host names need no check here: the WebSocket client is deno_fetch's,
/// so they resolve through [`PublicOnlyResolver`] too.
pub fn egress_check(access: NetworkAccess) -> EgressCheck {
    match access {
        NetworkAccess::PublicOnly => EgressCheck(|host| {
            listed(host)?;
            public_literal_or_name(host)
        }),
        NetworkAccess::Any => EgressCheck(listed),
    }
}

/// A deno_fetch resolver that keeps only the public addresses of a name, and refuses a name
/// with none with `refusal(what)` (the message says which rule to lift, and how). The module
/// fetcher of the host (`crate::modules`) uses it too, with a message of its own.
pub fn public_only_resolver(refusal: fn(&str) -> String) -> deno_fetch::dns::Resolver {
    deno_fetch::dns::Resolver::custom(Arc::new(PublicOnlyResolver { refusal }))
}

/// Resolves host names with the system resolver and keeps only their public addresses.
#[derive(Debug)]
struct PublicOnlyResolver {
    /// The message of a refused name.
    refusal: fn(&str) -> String,
}

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let refusal = self.refusal;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let answers: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = answers
                .iter()
                .copied()
                .filter(|addr| is_public(addr.ip()))
                .collect();
            if public.is_empty() && !answers.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    refusal(&format!("{host} resolves to no public address")),
                ));
            }
            Ok(public.into_iter())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn non_public_addresses_are_not_public() {
        for s in [
            "0.0.0.0",
            "0.1.2.3",
            "127.0.0.1",
            "127.255.0.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "192.0.0.8",
            "198.18.0.1",
            "198.19.255.255",
            "192.0.2.1",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "::0.0.1.2",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip(s)), "{s} is not public");
        }
    }

    #[test]
    fn public_addresses_are_public() {
        for s in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.215.14",
            "172.32.0.1",
            "100.128.0.1",
            "198.20.0.1",
            "::ffff:1.1.1.1",
            "2606:4700::1111",
            "2a00:1450:4001::200e",
        ] {
            assert!(is_public(ip(s)), "{s} is public");
        }
    }

    fn literal_allowed(url: &str) -> bool {
        let mut request = http::Request::builder()
            .uri(url)
            .body(deno_fetch::ReqBody::empty())
            .unwrap();
        refuse_non_public_literal(&mut request).is_ok()
    }

    #[test]
    fn the_request_hook_refuses_non_public_literals_only() {
        for url in [
            "http://127.0.0.1:8787/api/v1/admin/secrets",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]:8787/",
            "http://[::ffff:7f00:1]/",
            "https://[fd00::1]/",
        ] {
            assert!(!literal_allowed(url), "{url} was let through");
        }
        for url in [
            "https://example.com/",
            "http://1.1.1.1/",
            "https://[2606:4700::1111]/",
        ] {
            assert!(literal_allowed(url), "{url} was refused");
        }
    }

    #[test]
    fn the_websocket_check_is_the_request_hooks_rule_and_lifted_by_any() {
        let public_only = egress_check(NetworkAccess::PublicOnly).0;
        for host in [
            "127.0.0.1",
            "169.254.169.254",
            "[::1]",
            "[::ffff:7f00:1]",
            "[fd00::1]",
        ] {
            let refusal = public_only(host).unwrap_err();
            assert!(
                refusal.contains(&format!("{host} is not a public address")),
                "{refusal}"
            );
        }
        for host in ["example.com", "localhost", "1.1.1.1", "[2606:4700::1111]"] {
            assert_eq!(
                public_only(host),
                Ok(()),
                "{host} (names are the resolver's)"
            );
        }
        let any = egress_check(NetworkAccess::Any).0;
        assert_eq!(any("127.0.0.1"), Ok(()));
    }

    #[tokio::test]
    async fn the_resolver_refuses_a_name_with_no_public_address() {
        let name: Name = "localhost".parse().unwrap();
        let error = PublicOnlyResolver { refusal }
            .resolve(name)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::PermissionDenied);
        assert!(
            error
                .to_string()
                .contains("localhost resolves to no public address")
        );
    }
}
