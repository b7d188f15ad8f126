//! Where `fetch` in function code may connect, against a real `fluxbase serve` and a real HTTP
//! service on the host's loopback: refused by default (by address, by a name that resolves to
//! it, in IPv4-mapped IPv6 form) without a byte reaching the service, reached with
//! `--allow-private-network`, for the server and for a one-shot `functions invoke`; an
//! `EventSource` (which connects through fetch) and a `WebSocket` (fetch's client, its own
//! request) follow the same rule.

use crate::support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;
use support::Host;
use support::fixtures;
use support::server::Server;

/// What the loopback service answers.
const INTERNAL_BODY: &str = "internal service";

/// An HTTP service on 127.0.0.1 that counts the connections it accepts.
struct LoopbackService {
    port: u16,
    connections: Arc<AtomicUsize>,
}

impl LoopbackService {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                counted.fetch_add(1, Ordering::SeqCst);
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{INTERNAL_BODY}",
                    INTERNAL_BODY.len()
                );
            }
        });
        LoopbackService { port, connections }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// What `egress.ts` reports for a fetch of `url`.
fn fetch_through(server: &Server, url: &str) -> Value {
    let answer = server.request(
        "GET",
        &format!("/functions/v1/egress?url={}", encode(url)),
        false,
        None,
    );
    assert_eq!(answer.status, 200, "{answer:#?}");
    answer.json()
}

/// Percent-encodes a URL for a query parameter.
fn encode(url: &str) -> String {
    deno_core::url::form_urlencoded::byte_serialize(url.as_bytes()).collect()
}

#[track_caller]
fn assert_refused(report: &Value, reason: &str) {
    let refused = report["refused"].as_str().unwrap_or_default();
    assert!(refused.contains("fetch refused"), "not refused: {report}");
    assert!(refused.contains(reason), "{reason:?} not in {refused:?}");
    assert!(refused.contains("--allow-private-network"), "{refused:?}");
}

#[test]
fn function_code_cannot_reach_the_hosts_loopback_by_default() {
    let service = LoopbackService::start();
    let host = Host::new();
    let server = Server::start(&host, &[]);
    let port = service.port;

    let by_address = fetch_through(&server, &format!("http://127.0.0.1:{port}/"));
    assert_refused(&by_address, "127.0.0.1 is not a public address");
    let by_name = fetch_through(&server, &format!("http://localhost:{port}/"));
    assert_refused(&by_name, "localhost resolves to no public address");
    let mapped = fetch_through(&server, &format!("http://[::ffff:127.0.0.1]:{port}/"));
    assert_refused(&mapped, "is not a public address");
    let metadata = fetch_through(&server, "http://169.254.169.254/latest/meta-data/");
    assert_refused(&metadata, "169.254.169.254 is not a public address");
    // The admin API of this very server is on loopback too.
    let admin = fetch_through(&server, &format!("{}/api/v1/admin/secrets", server.base));
    assert_refused(&admin, "127.0.0.1 is not a public address");

    assert_eq!(service.connections(), 0, "a refused fetch still connected");
    // The refusal is the handler's to catch: the host goes on serving.
    let hello = server.request("GET", "/functions/v1/hello", false, None);
    assert_eq!(hello.status, 200, "{hello:#?}");
}

#[test]
fn allow_private_network_lets_function_code_reach_the_loopback() {
    let service = LoopbackService::start();
    let host = Host::new();
    let server = Server::start(&host, &["--allow-private-network"]);
    for url in [
        format!("http://127.0.0.1:{}/", service.port),
        format!("http://localhost:{}/", service.port),
    ] {
        let report = fetch_through(&server, &url);
        assert_eq!(report["status"], 200, "{url}: {report}");
        assert_eq!(report["body"], INTERNAL_BODY, "{url}: {report}");
    }
    assert_eq!(service.connections(), 2);
}

#[test]
fn a_one_shot_invoke_follows_the_same_rule() {
    let service = LoopbackService::start();
    let host = Host::new();
    let functions = fixtures("functions").display().to_string();
    let target = format!(
        "egress?url={}",
        encode(&format!("http://127.0.0.1:{}/", service.port))
    );

    let refused = host.run(&["functions", "invoke", &target, "--dir", &functions]);
    let report: Value = serde_json::from_str(refused.ok()).unwrap();
    assert_refused(&report, "127.0.0.1 is not a public address");
    assert_eq!(service.connections(), 0);

    let allowed = host.run(&[
        "functions",
        "invoke",
        &target,
        "--dir",
        &functions,
        "--allow-private-network",
    ]);
    let report: Value = serde_json::from_str(allowed.ok()).unwrap();
    assert_eq!(report["body"], INTERNAL_BODY, "{report}");
    assert_eq!(service.connections(), 1);
}

#[test]
fn an_event_source_follows_the_same_rule() {
    let service = LoopbackService::start();
    let host = Host::new();
    let functions = fixtures("functions").display().to_string();
    let target = format!(
        "egress_eventsource?url={}",
        encode(&format!("http://127.0.0.1:{}/", service.port))
    );

    // Refused before connecting: the source errs and reconnects later (readyState CONNECTING).
    let refused = host.run(&["functions", "invoke", &target, "--dir", &functions]);
    let report: Value = serde_json::from_str(refused.ok()).unwrap();
    assert_eq!(
        report,
        serde_json::json!({"event": "error", "readyState": 0})
    );
    assert_eq!(
        service.connections(),
        0,
        "a refused EventSource still connected"
    );

    // Allowed, it connects; the service answers text/plain, not text/event-stream, so the
    // source fails for good (readyState CLOSED).
    let allowed = host.run(&[
        "functions",
        "invoke",
        &target,
        "--dir",
        &functions,
        "--allow-private-network",
    ]);
    let report: Value = serde_json::from_str(allowed.ok()).unwrap();
    assert_eq!(
        report,
        serde_json::json!({"event": "error", "readyState": 2})
    );
    assert_eq!(service.connections(), 1);
}

#[test]
fn a_websocket_follows_the_same_rule() {
    let service = LoopbackService::start();
    let host = Host::new();
    let port = service.port;
    let open = |server: &Server, url: &str| -> Value {
        let answer = server.request(
            "GET",
            &format!("/functions/v1/websocket_echo?url={}", encode(url)),
            false,
            None,
        );
        assert_eq!(answer.status, 200, "{answer:#?}");
        answer.json()
    };

    let server = Server::start(&host, &[]);
    // An IP literal is refused when the socket is made, as fetch refuses it.
    for (url, literal) in [
        (format!("ws://127.0.0.1:{port}/"), "127.0.0.1"),
        (
            format!("ws://[::ffff:127.0.0.1]:{port}/"),
            "[::ffff:7f00:1]",
        ),
        (format!("http://2130706433:{port}/"), "127.0.0.1"),
        ("ws://169.254.169.254/".to_owned(), "169.254.169.254"),
    ] {
        let events = open(&server, &url);
        let refusal = events[0].as_str().unwrap_or_default();
        assert!(
            refusal.starts_with(&format!(
                "TypeError: fetch refused: {literal} is not a public address"
            )),
            "{url}: {events}"
        );
    }
    // A name resolves through fetch's resolver: no public address, no connection.
    let by_name = open(&server, &format!("ws://localhost:{port}/"));
    assert_eq!(by_name[1][0], "error", "{by_name}");
    assert_eq!(by_name.as_array().unwrap().last().unwrap()[0], "close");
    assert_eq!(
        service.connections(),
        0,
        "a refused WebSocket still connected"
    );

    // Allowed, it connects (and fails the handshake: the service does not speak WebSocket).
    let allowed = Server::start(&host, &["--allow-private-network"]);
    let events = open(&allowed, &format!("ws://127.0.0.1:{port}/"));
    assert_eq!(events[1][0], "error", "{events}");
    assert_eq!(service.connections(), 1);
}
