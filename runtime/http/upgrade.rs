//! A function's WebSocket, on the host's side. A request to `/functions/v1/...` whose client
//! asks for a WebSocket gets a socket pair ([`offer`]): one end goes to the isolate with the
//! request, and when the function accepts (it answers with the 101 of `Deno.upgradeWebSocket`),
//! [`UpgradeBridge::relay`] takes hyper's upgraded connection and copies bytes both ways until
//! the execution ends. It looks at the function's frames only as far as their boundaries, so
//! that when a limit ends the execution it can close the socket itself, with 1011 and the limit
//! (the isolate was terminated and can send nothing); an uncaught error cuts the connection
//! without a close frame, as the end of Deno's process does; a stopping server closes its open
//! sockets with 1001 and waits for their executions ([`OpenSockets`]). It neither reads nor
//! changes what the socket carries, and knows nothing of handlers, secrets or isolates.

use std::future::Future;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::task::TaskTracker;

use crate::invoke::{ExecutionFailure, Outcome};
use crate::isolate::UpgradeSocket;

/// How long the relay still forwards the function's last frames after its execution ended
/// (normally none are left: the isolate's end is shut before the execution ends), and waits
/// for the client's answer to the close frame it sent.
const DRAIN: Duration = Duration::from_secs(1);

/// Bytes read from the isolate's end at a time.
const CHUNK: usize = 16 * 1024;

/// The close code sent when a limit ends the execution (RFC 6455: "internal error").
const LIMIT_CLOSE_CODE: u16 = 1011;

/// The close code and reason a stopping server sends, Deno's (RFC 6455: "going away").
const GOING_AWAY_CLOSE_CODE: u16 = 1001;
const GOING_AWAY_REASON: &str = "Server shutting down";

/// Longest close reason a close frame may carry (RFC 6455, 5.5: 125 bytes of payload).
const MAX_CLOSE_REASON: usize = 123;

/// The host's side of a connection offered to a function: hyper's pending upgrade, and the end
/// of the socket pair whose other end the isolate has.
pub(crate) struct UpgradeBridge {
    on_upgrade: OnUpgrade,
    host_end: UnixStream,
}

/// How an execution that served a socket ended, which says how the relay ends the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SocketEnd {
    /// It ended by itself (the socket was closed, or the client went away): nothing to add.
    Ended,
    /// An uncaught error ended it: the connection is cut without a close frame.
    Cut,
    /// A limit ended it: the client gets a close frame with 1011 and this reason.
    Limit(String),
}

impl SocketEnd {
    /// How the execution `result` ends its socket.
    pub(crate) fn of(result: &crate::Result<Outcome>) -> SocketEnd {
        match result {
            Ok(_) => SocketEnd::Ended,
            Err(crate::Error::Execution { failure, .. }) => match failure {
                ExecutionFailure::Boot(_) | ExecutionFailure::Exception(_) => SocketEnd::Cut,
                ExecutionFailure::Timeout(_)
                | ExecutionFailure::CpuTime(_)
                | ExecutionFailure::OutOfMemory { .. }
                | ExecutionFailure::Cancelled => SocketEnd::Limit(failure.to_string()),
            },
            Err(_) => SocketEnd::Cut,
        }
    }
}

/// A bridge and the isolate's end of it, when the request asks for a WebSocket and hyper can
/// upgrade its connection (HTTP/1.1 with `Upgrade: websocket`); `None` otherwise, and then the
/// function cannot accept a socket (`Deno.upgradeWebSocket` still checks the headers as Deno
/// does). The request keeps its `Connection` and `Upgrade` headers for the function to see.
pub(crate) fn offer(parts: &mut http::request::Parts) -> Option<(UpgradeBridge, UpgradeSocket)> {
    if !asks_for_websocket(&parts.headers) {
        return None;
    }
    let on_upgrade = parts.extensions.remove::<OnUpgrade>()?;
    let (host_end, isolate_end) = match UnixStream::pair() {
        Ok(pair) => pair,
        Err(error) => {
            tracing::error!(%error, "cannot make the socket pair of a WebSocket");
            return None;
        }
    };
    Some((
        UpgradeBridge {
            on_upgrade,
            host_end,
        },
        UpgradeSocket::new(isolate_end),
    ))
}

/// Whether `Upgrade` names `websocket` (a comma-separated list, case-insensitive).
fn asks_for_websocket(headers: &HeaderMap) -> bool {
    headers.get_all(header::UPGRADE).iter().any(|value| {
        value.to_str().is_ok_and(|list| {
            list.split(',')
                .any(|token| token.trim().eq_ignore_ascii_case("websocket"))
        })
    })
}

/// Gives the function's 101 the `Connection: upgrade` and `Upgrade: websocket` a client needs
/// (RFC 6455, 4.1) and the route drops from a handler's headers as hop-by-hop.
pub(crate) fn switching_protocols(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
}

/// The relays of the sockets functions accepted, so that a stopping server closes them and
/// waits for their executions to end: each relay sends its client a close frame, 1001 `Server
/// shutting down` (Deno's), and the client's answer reaches the function as any close does.
#[derive(Clone)]
pub struct OpenSockets {
    relays: TaskTracker,
    stopping: watch::Receiver<bool>,
}

impl OpenSockets {
    /// No socket yet; `stopping` turns true when the server stops.
    pub fn new(stopping: watch::Receiver<bool>) -> Self {
        OpenSockets {
            relays: TaskTracker::new(),
            stopping,
        }
    }

    /// Runs the relay of `bridge` (`UpgradeBridge::relay`) as one of the open sockets.
    pub(crate) fn relay(
        &self,
        bridge: UpgradeBridge,
        ended: impl Future<Output = SocketEnd> + Send + 'static,
    ) {
        let stopping = self.stopping.clone();
        self.relays.spawn(bridge.relay(ended, stopping));
    }

    /// Resolves once every relay has ended (no new one may start after this is called).
    pub(crate) async fn closed(&self) {
        self.relays.close();
        self.relays.wait().await;
    }
}

impl UpgradeBridge {
    /// Relays the upgraded connection to the isolate once hyper has sent the 101, until the
    /// isolate's end closes (its execution ended) and `ended` says how; then ends the
    /// connection accordingly. When `stopping` turns true it closes the socket with 1001
    /// first. Without an upgrade (the client left first) the isolate's end is dropped, which
    /// ends the socket there.
    async fn relay(
        self,
        ended: impl Future<Output = SocketEnd>,
        mut stopping: watch::Receiver<bool>,
    ) {
        let isolate = match self
            .host_end
            .set_nonblocking(true)
            .and_then(|()| tokio::net::UnixStream::from_std(self.host_end))
        {
            Ok(isolate) => isolate,
            Err(error) => {
                tracing::error!(%error, "cannot relay a WebSocket");
                return;
            }
        };
        let client = match self.on_upgrade.await {
            Ok(upgraded) => TokioIo::new(upgraded),
            Err(error) => {
                tracing::debug!(%error, "a WebSocket upgrade did not happen");
                return;
            }
        };
        let (mut client_read, mut client_write) = tokio::io::split(client);
        let (mut isolate_read, mut isolate_write) = isolate.into_split();
        let mut out = Outbound::default();
        let mut ended = std::pin::pin!(ended);
        let mut end = None;
        let mut deadline = None;
        {
            // The client's frames go to the isolate as they come (its close frame included);
            // the isolate's end is shut for writing when the client's side ends.
            let inbound = async {
                let _ = tokio::io::copy(&mut client_read, &mut isolate_write).await;
                let _ = isolate_write.shutdown().await;
            };
            let mut inbound = std::pin::pin!(inbound);
            let mut inbound_done = false;
            // Never, if the server's stop signal is gone without having been given.
            let stop = async {
                if stopping.wait_for(|stop| *stop).await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            let mut stop = std::pin::pin!(stop);
            let mut buffer = vec![0; CHUNK];
            loop {
                tokio::select! {
                    () = &mut inbound, if !inbound_done => inbound_done = true,
                    () = &mut stop, if !out.stopping => {
                        out.stopping = true;
                        if !out.going_away(&mut client_write).await {
                            break;
                        }
                    }
                    read = isolate_read.read(&mut buffer) => {
                        let n = match read {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        if out.host_closed {
                            // Nothing of the function's may follow the host's close frame.
                            continue;
                        }
                        out.frames.feed(&buffer[..n]);
                        // A client that stops reading slows the function down (the socket
                        // pair fills up), but holds the relay only until its execution ended.
                        let write = client_write.write_all(&buffer[..n]);
                        let mut write = std::pin::pin!(write);
                        let written = loop {
                            tokio::select! {
                                written = &mut write => break written.is_ok(),
                                how = &mut ended, if end.is_none() => {
                                    end = Some(how);
                                    deadline = Some(Instant::now() + DRAIN);
                                }
                                () = passed(deadline) => break false,
                            }
                        };
                        if !written {
                            out.intact = false;
                            break;
                        }
                        if out.stopping && !out.going_away(&mut client_write).await {
                            break;
                        }
                    }
                    how = &mut ended, if end.is_none() => {
                        end = Some(how);
                        deadline = Some(Instant::now() + DRAIN);
                    }
                    () = passed(deadline) => break,
                }
            }
        }
        let end = match end {
            Some(end) => end,
            None => ended.await,
        };
        if let SocketEnd::Limit(reason) = &end
            && out.may_close()
        {
            let frame = close_frame(LIMIT_CLOSE_CODE, reason);
            out.intact = client_write.write_all(&frame).await.is_ok();
        }
        let _ = client_write.shutdown().await;
        if end != SocketEnd::Cut && out.intact {
            // The server ends the TCP connection first (RFC 6455, 7.1.1), but still takes what
            // the client sends for a moment (its answer to a close frame, a late pong): data
            // arriving at a closed socket would reset the connection, which can lose the close
            // frame on its way to the client.
            let _ = tokio::time::timeout(DRAIN, drain(&mut client_read)).await;
        }
    }
}

/// The relay's view of what went to the client.
#[derive(Debug)]
struct Outbound {
    /// Where the function's frames end, and whether it sent a close frame.
    frames: FrameScanner,
    /// Every byte the function sent reached the client.
    intact: bool,
    /// The server is stopping: the host closes the socket at the next frame boundary.
    stopping: bool,
    /// The host sent a close frame of its own.
    host_closed: bool,
}

impl Default for Outbound {
    fn default() -> Self {
        Outbound {
            frames: FrameScanner::default(),
            intact: true,
            stopping: false,
            host_closed: false,
        }
    }
}

impl Outbound {
    /// Whether the host may send a close frame now: between two of the function's frames, none
    /// of them a close frame, and none from the host before.
    fn may_close(&self) -> bool {
        self.intact && !self.host_closed && self.frames.at_boundary() && !self.frames.close_sent()
    }

    /// Sends the close frame of a stopping server when it may be sent now. False when the
    /// client cannot be written to.
    async fn going_away(&mut self, client: &mut (impl AsyncWrite + Unpin)) -> bool {
        if !self.may_close() {
            return true;
        }
        self.host_closed = true;
        let frame = close_frame(GOING_AWAY_CLOSE_CODE, GOING_AWAY_REASON);
        let sent = client.write_all(&frame).await.is_ok();
        self.intact = sent;
        sent
    }
}

/// Resolves once `deadline` has passed; never without one.
async fn passed(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Reads and drops what `reader` sends until it ends.
async fn drain(reader: &mut (impl AsyncRead + Unpin)) {
    let mut buffer = [0; 512];
    while matches!(reader.read(&mut buffer).await, Ok(n) if n > 0) {}
}

/// A server's close frame (unmasked) with `code` and `reason`, the reason cut to what a close
/// frame holds, on a character boundary.
fn close_frame(code: u16, reason: &str) -> Vec<u8> {
    let mut end = reason.len().min(MAX_CLOSE_REASON);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let reason = &reason.as_bytes()[..end];
    let mut frame = Vec::with_capacity(4 + reason.len());
    // FIN and the close opcode; the payload length fits the 7-bit form.
    frame.push(0x88);
    frame.push((2 + reason.len()) as u8);
    frame.extend_from_slice(&code.to_be_bytes());
    frame.extend_from_slice(reason);
    frame
}

/// Follows the frames the function sends, by their headers alone: where one ends (a frame may
/// be sent only between two), and whether a close frame went out.
#[derive(Debug, Default)]
struct FrameScanner {
    /// The header read so far of the frame that begins next (at most 14 bytes).
    header: Vec<u8>,
    /// Payload bytes of the current frame still to come.
    payload_left: u64,
    /// Whether a close frame was sent.
    close_sent: bool,
}

impl FrameScanner {
    /// Takes the next bytes sent.
    fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.payload_left > 0 {
                let skipped = bytes
                    .len()
                    .min(usize::try_from(self.payload_left).unwrap_or(usize::MAX));
                self.payload_left -= skipped as u64;
                bytes = &bytes[skipped..];
                continue;
            }
            self.header.push(bytes[0]);
            bytes = &bytes[1..];
            if let Some(payload) = self.header_complete() {
                if self.header[0] & 0x0f == 0x8 {
                    self.close_sent = true;
                }
                self.header.clear();
                self.payload_left = payload;
            }
        }
    }

    /// The payload length once the header read so far is whole.
    fn header_complete(&self) -> Option<u64> {
        let header = &self.header;
        if header.len() < 2 {
            return None;
        }
        let masked = header[1] & 0x80 != 0;
        let (length_bytes, short) = match header[1] & 0x7f {
            126 => (2, None),
            127 => (8, None),
            short => (0, Some(u64::from(short))),
        };
        let total = 2 + length_bytes + if masked { 4 } else { 0 };
        if header.len() < total {
            return None;
        }
        Some(short.unwrap_or_else(|| {
            header[2..2 + length_bytes]
                .iter()
                .fold(0, |length, byte| (length << 8) | u64::from(*byte))
        }))
    }

    /// Whether every frame sent so far is whole.
    fn at_boundary(&self) -> bool {
        self.header.is_empty() && self.payload_left == 0
    }

    /// Whether a close frame was sent.
    fn close_sent(&self) -> bool {
        self.close_sent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An unmasked frame as a server sends it.
    fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut frame = vec![0x80 | opcode];
        match payload.len() {
            n if n < 126 => frame.push(n as u8),
            n if n <= 0xffff => {
                frame.push(126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(payload);
        frame
    }

    #[test]
    fn the_scanner_finds_frame_boundaries_in_any_cut() {
        let mut stream = frame(0x1, b"hello");
        stream.extend(frame(0x2, &[7; 300]));
        stream.extend(frame(0x2, &vec![1; 70_000]));
        // Each cut of the stream into two reads: only the ends of frames are boundaries.
        let ends = [7, 7 + 304, stream.len()];
        for cut in 0..=stream.len() {
            let mut scanner = FrameScanner::default();
            scanner.feed(&stream[..cut]);
            assert_eq!(
                scanner.at_boundary(),
                cut == 0 || ends.contains(&cut),
                "cut at {cut}"
            );
            scanner.feed(&stream[cut..]);
            assert!(scanner.at_boundary());
            assert!(!scanner.close_sent());
        }
    }

    #[test]
    fn the_scanner_sees_a_close_frame_and_a_masked_header() {
        let mut scanner = FrameScanner::default();
        // A masked frame: 4 key bytes after the length.
        scanner.feed(&[0x81, 0x83, 1, 2, 3, 4, b'a', b'b']);
        assert!(!scanner.at_boundary());
        scanner.feed(b"c");
        assert!(scanner.at_boundary());
        scanner.feed(&frame(0x8, &[0x03, 0xe8]));
        assert!(scanner.close_sent());
    }

    #[test]
    fn a_close_frame_carries_the_code_and_a_reason_cut_on_a_character_boundary() {
        assert_eq!(
            close_frame(1011, "timed out"),
            [&[0x88, 11, 0x03, 0xf3][..], b"timed out"].concat()
        );
        let long = "é".repeat(100);
        let frame = close_frame(1011, &long);
        assert_eq!(frame[1] as usize, frame.len() - 2);
        assert!(frame.len() - 4 <= MAX_CLOSE_REASON);
        assert!(std::str::from_utf8(&frame[4..]).is_ok());
    }

    #[test]
    fn only_an_upgrade_to_websocket_is_offered() {
        let mut headers = HeaderMap::new();
        assert!(!asks_for_websocket(&headers));
        headers.insert(header::UPGRADE, HeaderValue::from_static("h2c"));
        assert!(!asks_for_websocket(&headers));
        headers.insert(header::UPGRADE, HeaderValue::from_static("foo, WebSocket"));
        assert!(asks_for_websocket(&headers));
    }
}
