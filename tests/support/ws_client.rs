//! A WebSocket client for tests: the HTTP/1.1 upgrade handshake written out by hand (so a
//! refused one shows its status and body, and the 101's headers can be read), then
//! fastwebsockets' frames (masked, as a client sends them) over the same TCP connection.

use std::time::Duration;

use fastwebsockets::{Frame, OpCode, Payload, Role, WebSocket};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The `Sec-WebSocket-Key` every handshake sends (RFC 6455's example), so that the
/// `Sec-WebSocket-Accept` a server answers is always the same.
pub const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// How long a read waits before the test fails.
const READ_TIMEOUT: Duration = Duration::from_secs(20);

/// The server's answer to the handshake.
#[derive(Debug)]
pub struct Handshake {
    /// Status code (101 when the server switched protocols).
    pub status: u16,
    /// Headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body of a refusal (empty after a 101).
    pub body: String,
}

impl Handshake {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the next read brought.
#[derive(Debug, Clone, PartialEq)]
pub enum Received {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// A close frame: its code (1005 without one) and reason.
    Close(u16, String),
    /// A ping (only from a socket that does not answer them, see [`Socket::answering`]).
    Ping,
    /// The connection ended (or broke) without a close frame; the error says how.
    Ended(String),
}

/// An open client socket.
pub struct Socket(WebSocket<TcpStream>);

/// Opens a connection to `base` (`http://host:port`) and asks for a WebSocket at `path`, with
/// `headers` besides the handshake's own. Returns the answer, and the socket when it is a 101.
pub async fn connect(
    base: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (Handshake, Option<Socket>) {
    let address = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.expect("connect");
    let mut request = format!(
        "GET {path} HTTP/1.1\r\nhost: {address}\r\nupgrade: websocket\r\nconnection: \
         Upgrade\r\nsec-websocket-key: {KEY}\r\nsec-websocket-version: 13\r\n"
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    // Byte by byte up to the blank line: what follows a 101 is the first frames.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let byte = tokio::time::timeout(READ_TIMEOUT, stream.read_u8())
            .await
            .expect("the handshake's answer in time")
            .expect("the handshake's answer");
        head.push(byte);
    }
    let head = String::from_utf8(head).expect("a text head");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("bad status line in {head:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let mut handshake = Handshake {
        status,
        headers,
        body: String::new(),
    };
    if status == 101 {
        return (
            handshake,
            Some(Socket(WebSocket::after_handshake(stream, Role::Client))),
        );
    }
    let length: usize = handshake
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    stream
        .read_exact(&mut body)
        .await
        .expect("the refusal's body");
    handshake.body = String::from_utf8_lossy(&body).into_owned();
    (handshake, None)
}

impl Socket {
    /// The same socket answering pings and close frames by itself (as it does from the start),
    /// or not: then it shows pings and answers nothing, like a client that has hung.
    pub fn answering(mut self, answers: bool) -> Self {
        self.0.set_auto_pong(answers);
        self.0.set_auto_close(answers);
        self
    }

    /// Sends a text message.
    pub async fn send_text(&mut self, text: &str) {
        let frame = Frame::text(Payload::Borrowed(text.as_bytes()));
        self.0.write_frame(frame).await.expect("send text");
    }

    /// Sends a binary message.
    pub async fn send_binary(&mut self, bytes: &[u8]) {
        let frame = Frame::binary(Payload::Borrowed(bytes));
        self.0.write_frame(frame).await.expect("send binary");
    }

    /// Starts the closing handshake with `code` and `reason`.
    pub async fn close(&mut self, code: u16, reason: &str) {
        let frame = Frame::close(code, reason.as_bytes());
        self.0.write_frame(frame).await.expect("send close");
    }

    /// The next message, close frame or end (pings are answered on the way, unless the socket
    /// does not answer them). Panics after 20 s without one.
    pub async fn receive(&mut self) -> Received {
        let frame = tokio::time::timeout(READ_TIMEOUT, self.0.read_frame())
            .await
            .expect("something from the server in time");
        let frame = match frame {
            Ok(frame) => frame,
            Err(error) => return Received::Ended(error.to_string()),
        };
        match frame.opcode {
            OpCode::Text => Received::Text(String::from_utf8(frame.payload.to_vec()).unwrap()),
            OpCode::Binary => Received::Binary(frame.payload.to_vec()),
            OpCode::Close if frame.payload.len() >= 2 => Received::Close(
                u16::from_be_bytes([frame.payload[0], frame.payload[1]]),
                String::from_utf8_lossy(&frame.payload[2..]).into_owned(),
            ),
            OpCode::Close => Received::Close(1005, String::new()),
            OpCode::Ping => Received::Ping,
            other => panic!("unexpected {other:?} frame"),
        }
    }
}
