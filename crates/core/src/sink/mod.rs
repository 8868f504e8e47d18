//! Delivery of documents.
//!
//! [`BulkSink`] is the port handlers deliver through: the real [`opensearch::OpenSearchSink`], or
//! the in-memory [`MemorySink`] that handler unit tests and `seclog replay --output` use.

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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
        let mut report = DeliveryReport::default();
        // Sized up front, as the real sink sizes each bulk body.
        buf.reserve(docs.iter().map(opensearch::encoder::item_len).sum());
        for doc in &docs {
            opensearch::encoder::encode_item(&mut buf, doc, opensearch::encoder::IndexIn::ActionLine);
            if doc.dead_letter {
                report.dead_lettered += 1;
            } else {
                report.indexed += 1;
            }
        }
        Ok(report)
    }
}
