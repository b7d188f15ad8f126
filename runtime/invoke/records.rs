//! Execution records written in the background, many per transaction: the caller goes on at
//! once, and one durable commit serves every record waiting. [`RecordWriter::flush`] waits until
//! all handed over so far is committed (log routes, the CLI and a stopping server call it); a
//! crash can lose the last batch in flight. It writes what it is given, already redacted, and
//! reads nothing back.

use std::sync::OnceLock;

use tokio::sync::{mpsc, oneshot};

use crate::store::{ExecutionRecord, Store};

/// Records committed in one transaction at most.
const MAX_BATCH: usize = 512;

enum Message {
    Record(Box<ExecutionRecord>),
    Flush(oneshot::Sender<()>),
}

/// See the module documentation. The writer task starts with the first record, on the tokio
/// runtime of its caller, and ends when the writer is dropped, after writing what it holds.
pub(super) struct RecordWriter {
    store: Store,
    sender: OnceLock<mpsc::UnboundedSender<Message>>,
}

impl RecordWriter {
    pub(super) fn new(store: Store) -> Self {
        RecordWriter {
            store,
            sender: OnceLock::new(),
        }
    }

    /// Hands a record over for writing.
    pub(super) fn write(&self, record: ExecutionRecord) {
        if self
            .sender()
            .send(Message::Record(Box::new(record)))
            .is_err()
        {
            tracing::error!("the execution record writer has stopped; a record was lost");
        }
    }

    /// Waits until every record handed over so far is committed (or has failed to be).
    pub(super) async fn flush(&self) {
        let Some(sender) = self.sender.get() else {
            return;
        };
        let (done, flushed) = oneshot::channel();
        if sender.send(Message::Flush(done)).is_ok() {
            let _ = flushed.await;
        }
    }

    fn sender(&self) -> &mpsc::UnboundedSender<Message> {
        self.sender.get_or_init(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            tokio::spawn(run(self.store.clone(), receiver));
            sender
        })
    }
}

async fn run(store: Store, mut receiver: mpsc::UnboundedReceiver<Message>) {
    let mut batch = Vec::new();
    let mut waiting = Vec::new();
    while let Some(first) = receiver.recv().await {
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Record(record) => batch.push(*record),
                Message::Flush(done) => waiting.push(done),
            }
            if batch.len() < MAX_BATCH {
                next = receiver.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            if let Err(error) = store.record_executions(&batch).await {
                tracing::error!(
                    "could not store {} execution record(s): {error}",
                    batch.len()
                );
            }
            batch.clear();
        }
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
}
