//! Firehose's part for the Firehose pipelines in `seclog replay`, the demo and the end-to-end tests:
//! transform a recorded request with the real transform, re-ingest what it asks to (as Firehose
//! would, by transforming those records in a further request), index the `Ok` documents into the
//! family's daily index, and dead-letter the `ProcessingFailed` ones (Firehose would write them to
//! its S3 error output).
//!
//! Firehose assigns document ids itself; here the id is a digest of the stream and the record id,
//! so replaying a request twice does not duplicate.

use std::borrow::Cow;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use seclog_core::deadletter::{DeadLetters, Failure};
use seclog_core::document::{digest_id, Document, Origin, WriteOp};
use seclog_core::envelope::firehose::{FirehoseEvent, FirehoseRecord, RecordResult};
use seclog_core::firehose::{process, RecordTransform, Settings};
use seclog_core::index::{IndexPattern, Rotation};
use seclog_core::sink::firehose::MemoryRecordSink;
use seclog_core::sink::{BulkSink, DeliveryReport};
use seclog_core::DeliveryError;
use tokio::time::Instant;

/// Rounds of re-ingestion followed before giving up (the transforms never need more than one).
const MAX_ROUNDS: usize = 4;

/// What replaying one request did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Records of the request.
    pub received: usize,
    /// Dropped on purpose (filters, control messages, header-only records).
    pub dropped: usize,
    /// Records re-ingested (split envelopes and lines, overflow).
    pub reingested: usize,
    /// What the sink did with the documents and dead letters.
    pub delivery: DeliveryReport,
}

#[derive(serde::Deserialize)]
struct Timestamp {
    #[serde(rename = "@timestamp")]
    at: DateTime<Utc>,
}

/// Replays `event` through `transform` into `sink`.
///
/// # Errors
/// When the sink fails, or re-ingestion does not settle.
pub async fn replay<T: RecordTransform, S: BulkSink>(
    event: &FirehoseEvent,
    transform: &T,
    family: &str,
    sink: &S,
    deadletters: &DeadLetters,
    deadline: Instant,
) -> Result<Outcome, DeliveryError> {
    let pattern = IndexPattern::new(family, Rotation::Daily)
        .map_err(|reason| DeliveryError::Setup(format!("family `{family}` {reason}")))?;
    let mut outcome = Outcome { received: event.records.len(), ..Outcome::default() };
    let mut current = event.clone();
    for round in 0..MAX_ROUNDS {
        let reingest = MemoryRecordSink::new();
        let (response, summary) = process(&current, transform, &reingest, &Settings::default(), deadline).await?;
        outcome.dropped += summary.dropped;
        let now = Utc::now();
        let mut docs = Vec::new();
        for (record, answer) in current.records.iter().zip(&response.records) {
            let origin = Origin {
                dataset: transform.dataset(),
                record_id: Cow::Borrowed(record.record_id.as_str()),
                raw: Cow::Borrowed(record.data.as_str()),
            };
            match answer.result {
                RecordResult::Ok => {
                    let body = base64::engine::general_purpose::STANDARD.decode(&answer.data).unwrap_or_default();
                    let time = serde_json::from_slice::<Timestamp>(&body).map_or(now, |t| t.at);
                    let id = digest_id(&format!("{}/{}", current.delivery_stream_arn, record.record_id));
                    docs.push(Document::new(pattern.name_for(time), id, WriteOp::Create, body, origin));
                }
                RecordResult::ProcessingFailed => {
                    let failure = Failure {
                        error_type: "processing_failed",
                        reason:
                            "the transform answered ProcessingFailed; Firehose writes the record to its error output",
                        status: None,
                        intended_index: None,
                    };
                    docs.push(deadletters.document(origin, &failure, now));
                }
                RecordResult::Dropped => {}
            }
        }
        if !docs.is_empty() {
            let report = sink.deliver(docs, deadline).await?;
            add(&mut outcome.delivery, &report);
        }
        let put = reingest.take();
        if put.is_empty() {
            return Ok(outcome);
        }
        outcome.reingested += put.len();
        let invocation_id = format!("{}/{}", current.invocation_id, round + 1);
        let records = put
            .into_iter()
            .enumerate()
            .map(|(i, (_, data))| FirehoseRecord {
                record_id: format!("{invocation_id}/{i}"),
                approximate_arrival_timestamp: current.records.first().and_then(|r| r.approximate_arrival_timestamp),
                data: base64::engine::general_purpose::STANDARD.encode(data),
            })
            .collect();
        current = FirehoseEvent { invocation_id, records, ..current };
    }
    Err(DeliveryError::PutRefused(format!("re-ingestion did not settle after {MAX_ROUNDS} rounds")))
}

fn add(total: &mut DeliveryReport, report: &DeliveryReport) {
    total.indexed += report.indexed;
    total.already_present += report.already_present;
    total.dead_lettered += report.dead_lettered;
    total.retried += report.retried;
    total.bulk_requests += report.bulk_requests;
    total.bytes_sent += report.bytes_sent;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_family_that_cannot_name_an_index_is_a_setup_error_and_sends_nothing() {
        let event = FirehoseEvent {
            invocation_id: "i".into(),
            delivery_stream_arn: "arn:aws:firehose:us-east-1:123456789012:deliverystream/s".into(),
            region: "us-east-1".into(),
            records: Vec::new(),
        };
        let sink = seclog_core::sink::MemorySink::new();
        let deadletters = DeadLetters::new("seclog").unwrap();
        let deadline = Instant::now() + std::time::Duration::from_secs(5);
        let transform = seclog_waf::WafTransform::default();
        let err = replay(&event, &transform, "Not Valid", &sink, &deadletters, deadline).await.unwrap_err();
        assert!(matches!(&err, DeliveryError::Setup(reason) if reason.contains("family `Not Valid`")), "{err}");
        assert_eq!(err.error_type(), "SetupFailed");
        assert!(sink.take().is_empty());
    }
}
