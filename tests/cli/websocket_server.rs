//! A function accepts a WebSocket with `Deno.upgradeWebSocket`, through a real `fluxbase
//! serve` and a real client (`support::ws_client`): messages both ways, either side closing,
//! the idle timeout, an uncaught error, the wall clock, heap and CPU-time limits, a stopping server, the
//! function's auth, a request that is no upgrade, and the same client transcript from the real Deno's `Deno.serve` running
//! the same fixture. (The WebSocket client of function code is `websocket.rs`.)

use crate::conformance::deno;
use crate::support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::server::{SERVICE_KEY, Server};
use support::ws_client::{self, Received, Socket};
use support::{Host, block_on, fixtures};

/// The fixture's socket, offering the `chat` subprotocol.
const CHAT: &str = "/functions/v1/websocket_server?protocol=chat";

/// Opens `path` on `server` (no credential, offering `chat`), asserting the 101; returns the
/// socket and the id of its execution record.
async fn open(server: &Server, path: &str) -> (Socket, String) {
    let offer = [("sec-websocket-protocol", "chat")];
    let (handshake, socket) = ws_client::connect(&server.base, path, &offer).await;
    assert_eq!(handshake.status, 101, "{handshake:#?}");
    let id = handshake
        .header("x-fluxbase-execution-id")
        .expect("the execution id")
        .to_owned();
    (socket.unwrap(), id)
}

/// The execution record `id` once it is written (when the execution has ended).
fn record(server: &Server, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let answer = server.request(
            "GET",
            &format!("/api/v1/admin/logs/executions/{id}"),
            true,
            None,
        );
        if answer.status == 200 {
            return answer.json();
        }
        assert!(Instant::now() < deadline, "no record {id}: {answer:#?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The console lines of a record.
fn console(record: &Value) -> Vec<String> {
    record["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["message"].as_str().unwrap().to_owned())
        .collect()
}

/// What the client sees of one conversation with the fixture at `base`: the handshake's status
/// and WebSocket headers, the function's first message, the echoes of a text and a binary
/// message, and the close frame the function sends when asked to close.
async fn conversation(base: &str) -> Value {
    let (handshake, socket) =
        ws_client::connect(base, CHAT, &[("sec-websocket-protocol", "chat, superchat")]).await;
    let mut socket = socket.unwrap_or_else(|| panic!("{handshake:#?}"));
    let mut seen = vec![json!([
        handshake.status,
        handshake.header("sec-websocket-accept"),
        handshake.header("sec-websocket-protocol"),
        handshake.header("upgrade").map(str::to_ascii_lowercase),
    ])];
    let Received::Text(first) = socket.receive().await else {
        panic!("no first message")
    };
    seen.push(serde_json::from_str(&first).unwrap());
    socket.send_text("héllo, wörld ✓").await;
    seen.push(json!(format!("{:?}", socket.receive().await)));
    socket.send_binary(&[0, 1, 2, 255]).await;
    seen.push(json!(format!("{:?}", socket.receive().await)));
    socket.send_text("close me").await;
    seen.push(json!(format!("{:?}", socket.receive().await)));
    Value::Array(seen)
}

/// What the client sees when the function throws in `onmessage`.
async fn thrown(base: &str) -> Received {
    let offer = [("sec-websocket-protocol", "chat")];
    let (_, socket) = ws_client::connect(base, CHAT, &offer).await;
    let mut socket = socket.unwrap();
    assert!(matches!(socket.receive().await, Received::Text(_)));
    socket.send_text("throw").await;
    socket.receive().await
}

#[test]
fn a_function_echoes_text_and_binary_and_sees_the_client_close() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    block_on(async {
        let (mut socket, id) = open(&server, CHAT).await;
        assert!(matches!(socket.receive().await, Received::Text(_)));
        socket.send_text("one").await;
        assert_eq!(socket.receive().await, Received::Text("one".into()));
        socket.send_binary(&[9, 8, 7]).await;
        assert_eq!(socket.receive().await, Received::Binary(vec![9, 8, 7]));
        // The execution lasts as long as the socket: no record yet.
        let running = server.request(
            "GET",
            &format!("/api/v1/admin/logs/executions/{id}"),
            true,
            None,
        );
        assert_eq!(running.status, 404, "{running:#?}");
        std::thread::sleep(Duration::from_millis(300));
        socket.close(4000, "bye").await;
        assert_eq!(
            socket.receive().await,
            Received::Close(4000, "bye".into()),
            "the function answers the close"
        );
        let record = record(&server, &id);
        assert_eq!(record["status"], "succeeded", "{record}");
        assert!(record["duration_ms"].as_i64().unwrap() >= 300, "{record}");
        assert_eq!(console(&record), ["close 4000 \"bye\" true 3"], "{record}");
    });
}

#[test]
fn the_function_closes_with_its_code_and_reason() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    block_on(async {
        let (mut socket, id) = open(&server, CHAT).await;
        assert!(matches!(socket.receive().await, Received::Text(_)));
        socket.send_text("close me").await;
        assert_eq!(
            socket.receive().await,
            Received::Close(4001, "server bye".into())
        );
        let record = record(&server, &id);
        assert_eq!(record["status"], "succeeded", "{record}");
        assert_eq!(
            console(&record),
            ["close 4001 \"server bye\" true 3"],
            "{record}"
        );
    });
}

#[test]
fn an_uncaught_error_fails_the_execution_and_cuts_the_connection() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    block_on(async {
        for (message, error) in [
            ("throw", "Error: thrown in onmessage"),
            ("reject", "Error: rejected in onmessage"),
        ] {
            // An idle timeout of 1 s: its timer must not outlive the execution (below).
            let (mut socket, id) = open(&server, &format!("{CHAT}&idle=1")).await;
            assert!(matches!(socket.receive().await, Received::Text(_)));
            socket.send_text(message).await;
            // As when the error ends Deno's process: no close frame, the connection ends.
            let end = socket.receive().await;
            assert!(matches!(end, Received::Ended(_)), "{message}: {end:?}");
            let record = record(&server, &id);
            assert_eq!(record["status"], "failed", "{record}");
            assert!(
                record["error"].as_str().unwrap().contains(error),
                "{record}"
            );
            // Nothing of the socket runs after the error, as in Deno.
            assert_eq!(console(&record), Vec::<String>::new(), "{record}");
        }
        // The warm isolate serves the next socket, and the cut sockets' idle timers (a ping
        // after 0.5 s, a close after 1 s) never fire into it.
        let (mut socket, id) = open(&server, CHAT).await;
        assert!(matches!(socket.receive().await, Received::Text(_)));
        std::thread::sleep(Duration::from_millis(1_500));
        socket.send_text("still here").await;
        assert_eq!(socket.receive().await, Received::Text("still here".into()));
        socket.close(1000, "").await;
        assert_eq!(socket.receive().await, Received::Close(1000, String::new()));
        let record = record(&server, &id);
        assert_eq!(record["status"], "succeeded", "{record}");
        assert_eq!(console(&record), ["close 1000 \"\" true 3"], "{record}");
    });
}

#[test]
fn the_wall_clock_ends_a_socket_with_1011_and_an_upgrade_needs_a_caller() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    let path = "/functions/v1/websocket_limited";
    block_on(async {
        // Without `@fluxbase:allow-unauthenticated`, no credential is no upgrade.
        let (refused, socket) = ws_client::connect(&server.base, path, &[]).await;
        assert_eq!(refused.status, 401, "{refused:#?}");
        assert!(socket.is_none());
        assert!(refused.body.contains("needs a user token"), "{refused:#?}");

        let bearer = format!("Bearer {SERVICE_KEY}");
        let (handshake, socket) =
            ws_client::connect(&server.base, path, &[("authorization", &bearer)]).await;
        assert_eq!(handshake.status, 101, "{handshake:#?}");
        let id = handshake
            .header("x-fluxbase-execution-id")
            .unwrap()
            .to_owned();
        let mut socket = socket.unwrap();
        let opened = Instant::now();
        socket.send_text("ping").await;
        assert_eq!(socket.receive().await, Received::Text("ping".into()));
        // The function's 2 s wall clock ends the execution and the host closes the socket.
        assert_eq!(
            socket.receive().await,
            Received::Close(1011, "timed out after 2s".into())
        );
        assert!(opened.elapsed() < Duration::from_secs(10));
        let record = record(&server, &id);
        assert_eq!(record["status"], "timeout", "{record}");
        assert_eq!(console(&record), ["open"], "{record}");
    });
}

#[test]
fn a_socket_whose_client_answers_no_ping_is_closed_after_its_idle_timeout() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    block_on(async {
        // `idleTimeout: 1`: a ping after 0.5 s of silence, a close 0.5 s later without a pong.
        let (socket, id) = open(&server, &format!("{CHAT}&idle=1")).await;
        let mut socket = socket.answering(false);
        assert!(matches!(socket.receive().await, Received::Text(_)));
        assert_eq!(socket.receive().await, Received::Ping);
        assert_eq!(
            socket.receive().await,
            Received::Close(1001, "No response from ping frame.".into())
        );
        let record = record(&server, &id);
        assert_eq!(record["status"], "succeeded", "{record}");
        let lines = console(&record);
        assert_eq!(lines[0], "error No response from ping frame.", "{record}");
        assert_eq!(
            lines[1], "close 1001 \"No response from ping frame.\" false 3",
            "{record}"
        );
    });
}

#[test]
fn the_heap_and_cpu_time_limits_end_a_socket_with_1011() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    block_on(async {
        for (message, reason, status) in [
            (
                "eat",
                "ran out of memory (heap limit 32 MiB)",
                "out_of_memory",
            ),
            ("spin", "used more than 300ms of CPU time", "cpu_limit"),
        ] {
            let (handshake, socket) =
                ws_client::connect(&server.base, "/functions/v1/websocket_limits", &[]).await;
            let id = handshake
                .header("x-fluxbase-execution-id")
                .unwrap()
                .to_owned();
            let mut socket = socket.unwrap_or_else(|| panic!("{handshake:#?}"));
            socket.send_text("hi").await;
            assert_eq!(socket.receive().await, Received::Text("hi".into()));
            socket.send_text(message).await;
            // At once, not when the wall clock (30 s) runs out.
            assert_eq!(socket.receive().await, Received::Close(1011, reason.into()));
            let record = record(&server, &id);
            assert_eq!(record["status"], status, "{record}");
        }
    });
}

#[test]
fn a_stopping_server_closes_its_sockets_with_1001_and_keeps_their_records() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    let id = block_on(async {
        let (mut socket, id) = open(&server, CHAT).await;
        assert!(matches!(socket.receive().await, Received::Text(_)));
        let stopping = std::thread::spawn(move || server.terminate());
        // Deno's code and reason; the client's answer reaches the function, whose execution
        // ends before the server does.
        assert_eq!(
            socket.receive().await,
            Received::Close(1001, "Server shutting down".into())
        );
        assert_eq!(stopping.join().unwrap(), Some(0));
        id
    });
    let record = host.run(&["logs", "show", &id, "-o", "json"]).json();
    assert_eq!(record["status"], "succeeded", "{record}");
    assert_eq!(
        console(&record),
        ["close 1001 \"Server shutting down\" true 3"],
        "{record}"
    );
}

#[test]
fn a_request_that_is_no_upgrade_gets_the_error_deno_throws() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    let answer = server.request("GET", "/functions/v1/websocket_server", false, None);
    assert_eq!(answer.status, 400, "{answer:#?}");
    assert_eq!(
        answer.body,
        "TypeError: Invalid Header: 'upgrade' header must contain 'websocket'"
    );
    // Uncaught, it fails the call like any exception.
    let answer = server.request("GET", "/functions/v1/websocket_limited", true, None);
    answer.error(500, "'upgrade' header must contain 'websocket'");
}

/// The fixture served by the real Deno's `Deno.serve`, stopped when dropped.
struct DenoServer {
    child: Child,
    base: String,
}

impl DenoServer {
    fn start(deno: &Path, fixture: &Path) -> Self {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/serve_fixture.ts");
        let mut child = Command::new(deno)
            .args([
                "run",
                "--quiet",
                "--no-config",
                "--no-lock",
                "--allow-net=127.0.0.1",
                "--allow-read",
            ])
            .arg(script)
            .arg(fixture)
            .env("DENO_NO_UPDATE_CHECK", "1")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start Deno");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("Deno prints its port");
        let port: u16 = line.trim().parse().expect("a port number");
        DenoServer {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for DenoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_client_sees_the_same_conversation_as_with_deno() {
    let Some(deno) = deno() else { return };
    let host = Host::new();
    let server = Server::start(&host, &[]);
    let theirs = DenoServer::start(&deno, &fixtures("functions").join("websocket_server.ts"));
    block_on(async {
        let ours = conversation(&server.base).await;
        assert_eq!(ours, conversation(&theirs.base).await, "differs from Deno");
        assert_eq!(
            ours[0],
            json!([101, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "chat", "websocket"])
        );
        assert_eq!(
            ours[3],
            json!(format!("{:?}", Received::Binary(vec![0, 1, 2, 255])))
        );
        // Deno's process ends with the error (the last thing asked of it).
        let ended = |received| matches!(received, Received::Ended(_));
        assert!(ended(thrown(&server.base).await));
        assert!(ended(thrown(&theirs.base).await));
    });
}
