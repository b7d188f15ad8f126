//! Request and response bodies that stream between the host and a handler: a request body
//! absent, read whole, or pulled chunk by chunk; a response streamed to a [`ResponseSink`] as
//! its head and then its chunks, with backpressure through a bounded channel. Channels only:
//! it neither reads nor changes what it carries, and redacts nothing (a response is the answer).

use std::fmt;

use tokio::sync::{mpsc, oneshot};

/// One chunk of a streamed request body, or why the stream broke (for example, the body went
/// over the size limit). The message becomes the error the handler's read rejects with.
pub type RequestChunk = Result<Vec<u8>, String>;

/// The body of a request handed to a handler.
#[derive(Default)]
pub enum RequestBody {
    /// No body (`GET`, `HEAD`).
    #[default]
    None,
    /// The whole body, already read.
    Full(Vec<u8>),
    /// Chunks as they arrive; the sender closing ends the body.
    Stream(mpsc::Receiver<RequestChunk>),
}

impl RequestBody {
    /// Whether there is a body at all (an empty `Full` body is still a body).
    pub fn is_some(&self) -> bool {
        !matches!(self, RequestBody::None)
    }
}

impl fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestBody::None => f.write_str("None"),
            RequestBody::Full(bytes) => write!(f, "Full({} bytes)", bytes.len()),
            RequestBody::Stream(_) => f.write_str("Stream"),
        }
    }
}

impl From<Option<Vec<u8>>> for RequestBody {
    fn from(body: Option<Vec<u8>>) -> Self {
        body.map_or(RequestBody::None, RequestBody::Full)
    }
}

/// Status and headers of a handler's response, sent before its body.
#[derive(Clone, Default)]
pub struct ResponseHead {
    /// Status code.
    pub status: u16,
    /// Header pairs as `Headers` iterates them.
    pub headers: Vec<(String, String)>,
    /// The whole body, when the handler's `Response` held it in memory (a string, bytes, JSON);
    /// `None` when the body follows as chunks.
    pub body: Option<Vec<u8>>,
}

impl fmt::Debug for ResponseHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseHead")
            .field("status", &self.status)
            .field("header_names", &crate::state::header_names(&self.headers))
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .finish()
    }
}

/// Where a streamed response goes. Dropping it (the invocation ended) closes the body.
#[derive(Debug)]
pub struct ResponseSink {
    pub(crate) head: Option<oneshot::Sender<ResponseHead>>,
    pub(crate) chunks: mpsc::Sender<Vec<u8>>,
    pub(crate) complete: Option<oneshot::Sender<()>>,
}

/// The receiving ends of a [`ResponseSink`].
#[derive(Debug)]
pub struct ResponseReceiver {
    /// Resolves with the head once the handler returned its `Response`; fails if the
    /// invocation ended without one.
    pub head: oneshot::Receiver<ResponseHead>,
    /// The body chunks; ends when the handler's body ends or the invocation stops.
    pub chunks: mpsc::Receiver<Vec<u8>>,
    /// Resolves when the response is whole while the invocation goes on (work the handler
    /// handed to `waitUntil`): the response may go out before the invocation ends. Fails when
    /// the invocation ended first.
    pub complete: oneshot::Receiver<()>,
}

impl ResponseSink {
    /// A sink and its receiver, buffering at most `capacity` chunks (at least one).
    pub fn channel(capacity: usize) -> (ResponseSink, ResponseReceiver) {
        let (head_tx, head_rx) = oneshot::channel();
        let (chunk_tx, chunk_rx) = mpsc::channel(capacity.max(1));
        let (complete_tx, complete_rx) = oneshot::channel();
        (
            ResponseSink {
                head: Some(head_tx),
                chunks: chunk_tx,
                complete: Some(complete_tx),
            },
            ResponseReceiver {
                head: head_rx,
                chunks: chunk_rx,
                complete: complete_rx,
            },
        )
    }
}
