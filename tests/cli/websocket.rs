//! The WebSocket client of function code against a real server: the real Deno's
//! `Deno.upgradeWebSocket` echo server (`tests/conformance/ws_echo_server.ts`) on the loopback.
//! The same fixture run under fluxbase (one-shot, and served from isolates restored from the
//! startup snapshot) and under Deno sees the same events. (Where a WebSocket may connect is in
//! `egress.rs`.)

use crate::conformance::{deno, under_deno_with};
use crate::support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};
use support::Host;
use support::fixtures;
use support::server::Server;

/// The echo server, stopped when dropped.
struct EchoServer {
    child: Child,
    port: u16,
}

impl EchoServer {
    fn start(deno: &Path) -> Self {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/ws_echo_server.ts");
        let mut child = Command::new(deno)
            .args([
                "run",
                "--quiet",
                "--no-config",
                "--no-lock",
                "--allow-net=127.0.0.1",
            ])
            .arg(script)
            .env("DENO_NO_UPDATE_CHECK", "1")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the Deno echo server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("the echo server prints its port");
        let port = line.trim().parse().expect("a port number");
        EchoServer { child, port }
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_websocket_talks_to_a_real_server_as_under_deno() {
    let Some(deno) = deno() else { return };
    let server = EchoServer::start(&deno);
    let url = format!("ws://127.0.0.1:{}/", server.port);
    let target = format!(
        "websocket_echo?url={}",
        deno_core::url::form_urlencoded::byte_serialize(url.as_bytes()).collect::<String>()
    );

    let host = Host::new();
    let functions = fixtures("functions").display().to_string();
    let ours: Value = serde_json::from_str(
        host.run(&[
            "functions",
            "invoke",
            &target,
            "--dir",
            &functions,
            "--allow-private-network",
        ])
        .ok(),
    )
    .unwrap();
    assert_eq!(
        ours,
        json!([
            ["created", 0, url],
            ["open", 1, "echo"],
            ["message", "hello, déjà vu", true],
            ["message", [1, 2, 3, 255], true],
            ["close", 1000, "done", true, 3],
        ])
    );

    let spec = json!({
        "file": fixtures("functions").join("websocket_echo.ts"),
        "method": "GET",
        "url": format!("http://localhost/functions/v1/{target}"),
        "headers": [],
        "body": null,
    });
    let theirs = under_deno_with(&deno, &spec, &["--allow-net=127.0.0.1"]);
    assert_eq!(theirs["status"], 200, "{theirs}");
    let theirs: Value = serde_json::from_str(theirs["body"].as_str().unwrap()).unwrap();
    assert_eq!(ours, theirs, "the events differ from Deno's");

    // The served isolates boot from the startup snapshot, which holds the WebSocket module.
    let served = Server::start(&host, &["--allow-private-network"]);
    let answer = served.request("GET", &format!("/functions/v1/{target}"), false, None);
    assert_eq!(answer.status, 200, "{answer:#?}");
    assert_eq!(
        answer.json(),
        ours,
        "served from the snapshot, the events differ"
    );
}
