//! Request and response bodies stream through `/functions/v1/:name`: a handler answers before
//! the request body has ended, a response arrives chunk by chunk, a broken stream cuts the
//! connection, a client that leaves stops the handler's stream, and the body limit holds for
//! bodies with and without a length.

use crate::support;

use std::time::{Duration, Instant};

use support::Host;
use support::raw_http::Exchange;
use support::server::Server;

fn executions(server: &Server, name: &str) -> Vec<serde_json::Value> {
    server
        .request(
            "GET",
            &format!("/api/v1/admin/logs?category=execution&name={name}"),
            true,
            None,
        )
        .json()
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Waits (up to `limit`) for the first execution record of `name`.
fn first_execution(server: &Server, name: &str, limit: Duration) -> serde_json::Value {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(record) = executions(server, name).into_iter().next() {
            return record;
        }
        assert!(
            Instant::now() < deadline,
            "no execution of {name} recorded within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_handler_answers_each_chunk_before_the_request_body_has_ended() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    let mut exchange = Exchange::start(
        &server.base,
        "POST",
        "/functions/v1/stream_upper",
        &[("content-type", "text/plain")],
        true,
    );
    // Each echo is read before the next chunk is sent: if either body were buffered until
    // the request ended, this would wait for ever (the read times out after 20 s).
    exchange.send_chunk(b"first chunk, ").unwrap();
    let head = exchange.read_head();
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert!(head.header("x-fluxbase-execution-id").is_some());
    assert_eq!(exchange.read_chunk().unwrap().unwrap(), b"FIRST CHUNK, ");
    for word in ["second, ", "third: déjà vu"] {
        exchange.send_chunk(word.as_bytes()).unwrap();
        let echoed = exchange.read_chunk().unwrap().unwrap();
        assert_eq!(String::from_utf8(echoed).unwrap(), word.to_uppercase());
    }
    exchange.end_body().unwrap();
    assert_eq!(
        exchange.read_chunk().unwrap(),
        None,
        "the body ends properly"
    );
    assert_eq!(
        first_execution(&server, "stream_upper", Duration::from_secs(10))["status"],
        "succeeded"
    );
}

#[test]
fn a_streamed_response_arrives_chunk_by_chunk() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    let mut exchange = Exchange::start(
        &server.base,
        "GET",
        "/functions/v1/stream_ticks?count=5",
        &[],
        false,
    );
    let head = exchange.read_head();
    assert_eq!(head.status, 200);
    assert_eq!(head.header("transfer-encoding"), Some("chunked"));
    assert_eq!(head.header("content-length"), None);
    let mut chunks = Vec::new();
    while let Some(chunk) = exchange.read_chunk().unwrap() {
        chunks.push(String::from_utf8(chunk).unwrap());
    }
    // The handler pauses 20 ms between lines, so each line is a chunk of its own.
    assert_eq!(
        chunks,
        ["tick 1\n", "tick 2\n", "tick 3\n", "tick 4\n", "tick 5\n"]
    );
}

#[test]
fn a_stream_that_breaks_cuts_the_connection_and_is_recorded_as_failed() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    let mut exchange = Exchange::start(
        &server.base,
        "GET",
        "/functions/v1/stream_ticks?count=3&fail=1",
        &[],
        false,
    );
    assert_eq!(exchange.read_head().status, 200);
    assert_eq!(exchange.read_chunk().unwrap().unwrap(), b"tick 1\n");
    assert!(
        exchange.read_chunk().is_err(),
        "the body must not end as if it were complete"
    );
    let record = first_execution(&server, "stream_ticks", Duration::from_secs(10));
    assert_eq!(record["status"], "failed");
    assert!(
        record["error"]
            .as_str()
            .unwrap()
            .contains("the tick source broke"),
        "{record}"
    );
    let hello = server.request("GET", "/functions/v1/hello", false, None);
    assert_eq!(hello.status, 200, "the host keeps serving");
}

#[test]
fn a_client_that_leaves_stops_the_handlers_stream() {
    let host = Host::new();
    let server = Server::start(&host, &[]);
    // 100,000 lines 20 ms apart would take over half an hour to send.
    let mut exchange = Exchange::start(
        &server.base,
        "GET",
        "/functions/v1/stream_ticks?count=100000",
        &[],
        false,
    );
    assert_eq!(exchange.read_head().status, 200);
    assert_eq!(exchange.read_chunk().unwrap().unwrap(), b"tick 1\n");
    drop(exchange);
    // The execution ends (and is recorded) only once the stream has stopped.
    let record = first_execution(&server, "stream_ticks", Duration::from_secs(60));
    assert_eq!(record["status"], "succeeded", "{record}");
}

#[test]
fn bodies_up_to_the_limit_stream_in_and_larger_ones_are_413() {
    let host = Host::new();
    let server = Server::start(&host, &["--body-limit-mb", "1"]);
    let limit = 1024 * 1024;
    let body: Vec<u8> = (0..limit).map(|i| (i % 251) as u8).collect();
    let sum = body
        .iter()
        .fold(0u64, |sum, b| (sum + u64::from(*b)) % 65521);

    // Exactly the limit, in 64 KiB chunks without a length: all of it reaches the handler.
    let mut exchange = Exchange::start(&server.base, "POST", "/functions/v1/body_size", &[], true);
    for chunk in body.chunks(64 * 1024) {
        exchange.send_chunk(chunk).unwrap();
    }
    exchange.end_body().unwrap();
    let head = exchange.read_head();
    assert_eq!(head.status, 200);
    let length: usize = head.header("content-length").unwrap().parse().unwrap();
    let answer: serde_json::Value =
        serde_json::from_slice(&exchange.read_exact_body(length)).unwrap();
    assert_eq!(answer, serde_json::json!({ "size": limit, "sum": sum }));

    // One byte more without a length: the handler's read fails, and the answer is 413.
    let mut exchange = Exchange::start(&server.base, "POST", "/functions/v1/body_size", &[], true);
    for chunk in body.chunks(64 * 1024) {
        exchange.send_chunk(chunk).unwrap();
    }
    // The byte over the limit and the end of the body in one write, so that the server has
    // read everything when it answers.
    exchange.send_raw(b"1\r\n!\r\n0\r\n\r\n").unwrap();
    let head = exchange.read_head();
    assert_eq!(head.status, 413, "{head:?}");
    let length: usize = head.header("content-length").unwrap().parse().unwrap();
    let error: serde_json::Value =
        serde_json::from_slice(&exchange.read_exact_body(length)).unwrap();
    assert_eq!(
        error["error"],
        "request body is larger than the limit of 1048576 bytes"
    );

    // A length over the limit is refused before the handler runs: at once for a client that
    // waits for `100 Continue`, after the body for one that sends it straight away.
    let too_long = (limit + 1).to_string();
    let mut exchange = Exchange::start(
        &server.base,
        "POST",
        "/functions/v1/body_size",
        &[("content-length", &too_long), ("expect", "100-continue")],
        false,
    );
    assert_eq!(exchange.read_head().status, 413);
    let big = vec![b'x'; limit + 1];
    server
        .send(
            "POST",
            "/functions/v1/body_size",
            None,
            &[],
            Some(&big),
            false,
        )
        .error(413, "larger than the limit");

    // A small body with a length arrives whole.
    let answer = server.send(
        "PUT",
        "/functions/v1/body_size",
        None,
        &[],
        Some(b"0123456789"),
        false,
    );
    assert_eq!(answer.json(), serde_json::json!({ "size": 10, "sum": 525 }));
    assert_eq!(
        executions(&server, "body_size").len(),
        3,
        "the bodies refused for their length never reached the handler"
    );
}

#[test]
fn a_host_with_every_slot_taken_and_a_full_queue_answers_503() {
    let host = Host::new();
    let server = Server::start(&host, &["--max-concurrent", "1", "--max-queued", "0"]);
    // One invocation holds the only slot while its body streams (50 lines, 20 ms apart).
    let mut busy = Exchange::start(
        &server.base,
        "GET",
        "/functions/v1/stream_ticks?count=50",
        &[],
        false,
    );
    assert_eq!(busy.read_head().status, 200);
    assert_eq!(busy.read_chunk().unwrap().unwrap(), b"tick 1\n");
    server
        .request("GET", "/functions/v1/hello", false, None)
        .error(
            503,
            "the host is busy: 1 invocations are running and 0 are waiting",
        );
    while busy.read_chunk().unwrap().is_some() {}
    let hello = server.request("GET", "/functions/v1/hello", false, None);
    assert_eq!(
        hello.status, 200,
        "the slot is free again once the stream ended"
    );
}
