//! Delivery of documents.
//!
//! [`BulkSink`] is the port handlers deliver through: the real [`opensearch::OpenSearchSink`], or
//! the in-memory [`MemorySink`] that handler unit tests use, or the [`WriterSink`] of `seclog replay
//! --output`.

pub mod backoff;
pub mod delivery_stream;
pub mod drive;
pub mod opensearch;

use std::future::Future;
use std::sync::Mutex;

use tokio::time::Instant;

use crate::document::Document;
use crate::DeliveryError;

/// What a delivery did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryReport {
    /// Documents newly written (dead-letter documents not included).
    pub indexed: usize,
    /// Documents that were already there (409 on `create`, or a stale external version).
    pub already_present: usize,
    /// Documents written to the dead-letter index instead of their own.
    pub dead_lettered: usize,
    /// Item retries made.
    pub retried: usize,
    /// Bulk requests sent.
    pub bulk_requests: usize,
    /// Uncompressed bulk bytes sent.
    pub bytes_sent: usize,
    /// How long each bulk request took, sending to reading the answer, in milliseconds.
    pub bulk_latency_ms: Vec<u64>,
}

impl DeliveryReport {
    /// Adds what another delivery did.
    pub fn add(&mut self, other: &Self) {
        self.indexed += other.indexed;
        self.already_present += other.already_present;
        self.dead_lettered += other.dead_lettered;
        self.retried += other.retried;
        self.bulk_requests += other.bulk_requests;
        self.bytes_sent += other.bytes_sent;
        self.bulk_latency_ms.extend_from_slice(&other.bulk_latency_ms);
    }
}

/// Somewhere documents can be delivered.
pub trait BulkSink: Sync {
    /// Delivers every document: each ends written, already present, or dead-lettered, or the
    /// call returns an error so that the invocation is retried.
    fn deliver(
        &self,
        docs: Vec<Document<'_>>,
        deadline: Instant,
    ) -> impl Future<Output = Result<DeliveryReport, DeliveryError>> + Send;
}

/// A borrowed sink delivers as its owner does (`seclog replay` shares one sink between functions).
impl<T: BulkSink> BulkSink for &T {
    fn deliver(
        &self,
        docs: Vec<Document<'_>>,
        deadline: Instant,
    ) -> impl Future<Output = Result<DeliveryReport, DeliveryError>> + Send {
        (**self).deliver(docs, deadline)
    }
}

/// A sink that keeps the bulk NDJSON it would send, and reports every document as indexed.
#[derive(Debug, Default)]
pub struct MemorySink {
    ndjson: Mutex<Vec<u8>>,
}

impl MemorySink {
    /// An empty sink.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the NDJSON collected so far.
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.ndjson.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

impl BulkSink for MemorySink {
    async fn deliver(&self, docs: Vec<Document<'_>>, _deadline: Instant) -> Result<DeliveryReport, DeliveryError> {
        let mut buf = self.ndjson.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(encode_all(&mut buf, &docs))
    }
}

/// Appends the bulk NDJSON of `docs` to `buf`, as every document written.
fn encode_all(buf: &mut Vec<u8>, docs: &[Document<'_>]) -> DeliveryReport {
    let mut report = DeliveryReport::default();
    // Sized up front, as the real sink sizes each bulk body.
    buf.reserve(docs.iter().map(opensearch::encoder::item_len).sum());
    for doc in docs {
        opensearch::encoder::encode_item(buf, doc, opensearch::encoder::IndexIn::ActionLine);
        if doc.dead_letter {
            report.dead_lettered += 1;
        } else {
            report.indexed += 1;
        }
    }
    report
}

/// A sink that writes the bulk NDJSON it would send to `W` as each delivery comes (`seclog replay
/// --output FILE`: it holds one delivery at a time, however many are replayed), and reports every
/// document as indexed.
#[derive(Debug)]
pub struct WriterSink<W> {
    out: Mutex<(W, Vec<u8>)>,
}

impl<W: std::io::Write + Send> WriterSink<W> {
    /// A sink writing to `out`.
    pub fn new(out: W) -> Self {
        Self { out: Mutex::new((out, Vec::new())) }
    }

    /// The writer, flushed.
    ///
    /// # Errors
    /// When flushing fails.
    pub fn finish(self) -> std::io::Result<W> {
        let (mut out, _) = self.out.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
        out.flush()?;
        Ok(out)
    }
}

impl<W: std::io::Write + Send> BulkSink for WriterSink<W> {
    async fn deliver(&self, docs: Vec<Document<'_>>, _deadline: Instant) -> Result<DeliveryReport, DeliveryError> {
        let mut guard = self.out.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (out, buf) = &mut *guard;
        buf.clear();
        let report = encode_all(buf, &docs);
        out.write_all(buf).map_err(DeliveryError::Output)?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Full;

    impl std::io::Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::new(std::io::ErrorKind::StorageFull, "disk full"))
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn docs() -> Vec<Document<'static>> {
        let origin = crate::document::Origin { dataset: "aws.cloudtrail", record_id: "r".into(), raw: "{}".into() };
        let doc = |id: &str| {
            let (index, body) = ("cloudtrail-2026.12.05".to_owned(), br#"{"a":1}"#.to_vec());
            Document::new(index, id.to_owned(), crate::document::WriteOp::Create, body, origin.clone())
        };
        vec![doc("one"), doc("two")]
    }

    #[tokio::test]
    async fn a_writer_sink_writes_each_delivery_as_it_comes() {
        let sink = WriterSink::new(Vec::new());
        let deadline = Instant::now();
        assert_eq!(sink.deliver(docs(), deadline).await.unwrap().indexed, 2);
        assert_eq!(sink.deliver(docs()[..1].to_vec(), deadline).await.unwrap().indexed, 1);
        let memory = MemorySink::new();
        memory.deliver(docs(), deadline).await.unwrap();
        memory.deliver(docs()[..1].to_vec(), deadline).await.unwrap();
        assert_eq!(sink.finish().unwrap(), memory.take());
    }

    #[tokio::test]
    async fn a_writer_that_fails_fails_the_delivery() {
        let err = WriterSink::new(Full).deliver(docs(), Instant::now()).await.unwrap_err();
        assert_eq!(err.error_type(), "OutputFailed");
        assert_eq!(
            crate::error::Chain(&err).to_string(),
            "the documents could not be written to the output: disk full"
        );
    }
}
