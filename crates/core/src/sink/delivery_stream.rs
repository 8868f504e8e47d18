//! Records into a Firehose delivery stream with `PutRecordBatch`.
//!
//! Used to re-ingest what does not fit a transformation response, and by functions that deliver
//! through Firehose. Calls respect the API's limits (500 records, 4 MiB, 1,000 KiB per record);
//! the records a call reports as failed are retried with full-jitter backoff until the deadline,
//! after which the caller gets a [`PartialPut`]: the error, and which records the stream holds.
//! Firehose gives every record it accepts a random id, so a record put twice is two documents: the
//! caller decides from what was accepted whether retrying the whole invocation is safe.

use std::future::Future;
use std::sync::Mutex;

use aws_sdk_firehose::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_firehose::operation::put_record_batch::PutRecordBatchError;
use aws_sdk_firehose::primitives::Blob;
use aws_sdk_firehose::types::Record;
use tokio::time::Instant;

use super::backoff::Backoff;
use super::drive::{drive, Attempt, Left};
use super::{BulkSink, DeliveryReport};
use crate::document::Document;
use crate::error::PutRefusal;
use crate::DeliveryError;

/// At most this many records per `PutRecordBatch` call.
pub const MAX_BATCH_RECORDS: usize = 500;
/// At most this many data bytes per call.
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;
/// At most this many bytes per record.
pub const MAX_RECORD_BYTES: usize = 1_000 * 1024;

/// What a put did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutReport {
    /// Records accepted by the stream.
    pub put: usize,
    /// Record retries made.
    pub retried: usize,
    /// `PutRecordBatch` calls made.
    pub calls: usize,
}

/// A put that stopped before every record was accepted.
#[derive(Debug)]
pub struct PartialPut {
    /// Why it stopped.
    pub error: DeliveryError,
    /// Per record given, whether the stream accepted it (and holds it now).
    pub accepted: Vec<bool>,
    /// What was done until then.
    pub report: PutReport,
}

impl PartialPut {
    /// A put that stopped before any of `n` records was accepted.
    #[must_use]
    pub fn none_of(n: usize, error: DeliveryError) -> Self {
        Self { error, accepted: vec![false; n], report: PutReport::default() }
    }

    /// Whether the stream holds any of the records: then a retry of the whole invocation would
    /// put those again.
    #[must_use]
    pub fn accepted_any(&self) -> bool {
        self.accepted.contains(&true)
    }
}

impl From<PartialPut> for DeliveryError {
    fn from(p: PartialPut) -> Self {
        p.error
    }
}

/// Somewhere records can be put.
pub trait RecordSink: Sync {
    /// Puts every record into `stream`, or says which it could not.
    fn put(
        &self,
        stream: &str,
        records: Vec<Vec<u8>>,
        deadline: Instant,
    ) -> impl Future<Output = Result<PutReport, PartialPut>> + Send;
}

/// The real sink.
#[derive(Debug, Clone)]
pub struct FirehoseSink {
    client: aws_sdk_firehose::Client,
    backoff: Backoff,
}

impl FirehoseSink {
    /// A sink on the Lambda environment's credentials and region (`AWS_ENDPOINT_URL_FIREHOSE`
    /// overrides the endpoint, as for every AWS SDK).
    pub async fn from_environment() -> Self {
        let sdk = crate::lambda::sdk_config(None).await;
        Self::new(aws_sdk_firehose::Client::new(&sdk), Backoff::default())
    }

    /// A sink on `client`.
    #[must_use]
    pub fn new(client: aws_sdk_firehose::Client, backoff: Backoff) -> Self {
        Self { client, backoff }
    }
}

/// Splits `records` into calls within the API's limits, keeping their order.
///
/// # Errors
/// A record larger than [`MAX_RECORD_BYTES`] (the stream would refuse it).
pub fn batches(records: Vec<Vec<u8>>) -> Result<Vec<Vec<Vec<u8>>>, DeliveryError> {
    let mut out: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut bytes = 0;
    for record in records {
        if record.len() > MAX_RECORD_BYTES {
            return Err(DeliveryError::PutRefused(PutRefusal::RecordTooLarge {
                bytes: record.len(),
                limit: MAX_RECORD_BYTES,
            }));
        }
        match out.last_mut() {
            Some(batch) if batch.len() < MAX_BATCH_RECORDS && bytes + record.len() <= MAX_BATCH_BYTES => {
                bytes += record.len();
                batch.push(record);
            }
            _ => {
                bytes = record.len();
                out.push(vec![record]);
            }
        }
    }
    Ok(out)
}

impl RecordSink for FirehoseSink {
    async fn put(&self, stream: &str, records: Vec<Vec<u8>>, deadline: Instant) -> Result<PutReport, PartialPut> {
        let n = records.len();
        let batches = batches(records).map_err(|e| PartialPut::none_of(n, e))?;
        let mut accepted = vec![false; n];
        let mut report = PutReport::default();
        let mut first = 0;
        for batch in batches {
            let len = batch.len();
            let pending = (first..first + len).zip(batch).collect();
            let mut call =
                Call { client: &self.client, stream, deadline, report: &mut report, accepted: &mut accepted };
            if let Err(error) = drive(&mut call, pending, &self.backoff, deadline).await {
                return Err(PartialPut { error, accepted, report });
            }
            first += len;
        }
        Ok(report)
    }
}

/// One `PutRecordBatch` call of a batch: the records the stream accepts are marked in `accepted`,
/// those it refuses are left to try again.
struct Call<'a> {
    client: &'a aws_sdk_firehose::Client,
    stream: &'a str,
    deadline: Instant,
    report: &'a mut PutReport,
    accepted: &'a mut [bool],
}

impl Attempt<(usize, Vec<u8>)> for Call<'_> {
    /// Puts `pending` (each record with its place among all the records given).
    async fn attempt(
        &mut self,
        mut pending: Vec<(usize, Vec<u8>)>,
        attempt: u32,
    ) -> Result<Left<(usize, Vec<u8>)>, DeliveryError> {
        if attempt > 1 {
            self.report.retried += pending.len();
        }
        self.report.calls += 1;
        let entries = pending.iter().map(|(_, data)| Record::builder().data(Blob::new(data.clone())).build());
        let entries =
            entries.collect::<Result<Vec<_>, _>>().map_err(|e| DeliveryError::PutRefused(PutRefusal::Build(e)))?;
        let left = self.deadline.saturating_duration_since(Instant::now());
        let call = self.client.put_record_batch().delivery_stream_name(self.stream).set_records(Some(entries)).send();
        let reason = match tokio::time::timeout(left, call).await {
            Err(_) => "timed out".to_owned(),
            Ok(Err(e)) => retryable_reason(e)?,
            Ok(Ok(output)) => {
                let responses = output.request_responses();
                let failed: Vec<bool> = if output.failed_put_count() == 0 {
                    vec![false; pending.len()]
                } else {
                    (0..pending.len()).map(|i| responses.get(i).is_none_or(|r| r.error_code().is_some())).collect()
                };
                let reason = responses
                    .iter()
                    .find_map(|r| r.error_code().map(|c| format!("{c}: {}", r.error_message().unwrap_or(""))))
                    .unwrap_or_default();
                let before = pending.len();
                let mut i = 0;
                pending.retain(|(place, _)| {
                    i += 1;
                    if !failed[i - 1] {
                        self.accepted[*place] = true;
                    }
                    failed[i - 1]
                });
                self.report.put += before - pending.len();
                reason
            }
        };
        if !pending.is_empty() {
            tracing::warn!(attempt, failing = pending.len(), reason = %reason, "PutRecordBatch left records to retry");
        }
        Ok(Left { items: pending, reason })
    }
}

/// The reason to retry after a failed call, or the error when retrying cannot help.
fn retryable_reason<R: std::fmt::Debug>(e: SdkError<PutRecordBatchError, R>) -> Result<String, DeliveryError> {
    match e {
        SdkError::ServiceError(service) => {
            let err = service.into_err();
            if matches!(err, PutRecordBatchError::ServiceUnavailableException(_)) {
                Ok(err.to_string())
            } else {
                Err(DeliveryError::PutRefused(PutRefusal::Service {
                    code: err.code().unwrap_or("error").to_owned(),
                    message: err.to_string(),
                }))
            }
        }
        other => Ok(format!("{}", aws_sdk_firehose::error::DisplayErrorContext(other))),
    }
}

/// A [`BulkSink`] that puts each document's body into a Firehose stream, which writes it to
/// `OpenSearch` under an id of its own (dead letters too: the stream is the only way out).
#[derive(Debug)]
pub struct StreamSink<R> {
    /// The stream.
    pub stream: String,
    /// The client.
    pub sink: R,
}

impl<R: RecordSink> BulkSink for StreamSink<R> {
    async fn deliver(&self, docs: Vec<Document<'_>>, deadline: Instant) -> Result<DeliveryReport, DeliveryError> {
        let dead_lettered = docs.iter().filter(|d| d.dead_letter).count();
        let indexed = docs.len() - dead_lettered;
        let bytes_sent = docs.iter().map(|d| d.body.len()).sum();
        let report = self.sink.put(&self.stream, docs.into_iter().map(|d| d.body).collect(), deadline).await?;
        Ok(DeliveryReport {
            indexed,
            dead_lettered,
            retried: report.retried,
            bulk_requests: report.calls,
            bytes_sent,
            ..DeliveryReport::default()
        })
    }
}

/// A sink that keeps what it was given, for tests and `seclog replay`.
#[derive(Debug, Default)]
pub struct MemoryRecordSink {
    records: Mutex<Vec<(String, Vec<u8>)>>,
}

impl MemoryRecordSink {
    /// An empty sink.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the `(stream, record)` pairs put so far.
    pub fn take(&self) -> Vec<(String, Vec<u8>)> {
        std::mem::take(&mut *self.records.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

impl RecordSink for MemoryRecordSink {
    async fn put(&self, stream: &str, records: Vec<Vec<u8>>, _deadline: Instant) -> Result<PutReport, PartialPut> {
        let n = records.len();
        let calls = batches(records.clone()).map_err(|e| PartialPut::none_of(n, e))?.len();
        let put = records.len();
        let mut held = self.records.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        held.extend(records.into_iter().map(|r| (stream.to_owned(), r)));
        Ok(PutReport { put, retried: 0, calls })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_respect_count_and_bytes() {
        let b = batches(vec![vec![0_u8; 10]; 1201]).unwrap();
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), [500, 500, 201]);
        let b = batches(vec![vec![0_u8; MAX_RECORD_BYTES]; 9]).unwrap();
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 1]);
        assert!(b.iter().all(|batch| batch.iter().map(Vec::len).sum::<usize>() <= MAX_BATCH_BYTES));
        assert!(batches(vec![]).unwrap().is_empty());
        assert!(matches!(batches(vec![vec![0; MAX_RECORD_BYTES + 1]]), Err(DeliveryError::PutRefused(_))));
    }
}
