//! Firehose's part for the Firehose pipelines in `seclog replay`, the demo and the end-to-end tests:
//! transform a recorded request with the real transform, re-ingest what it asks to (as Firehose
//! would, by transforming those records in a further request), index the `Ok` documents into the
//! family's daily index, and dead-letter the `ProcessingFailed` ones (Firehose would write them to
//! its S3 error output).
//!
//! Firehose assigns document ids itself; here the id is a digest of the stream and the record id,
//! so replaying a request twice does not duplicate.

use std::borrow::Cow;
use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use seclog_core::deadletter::{DeadLetters, Failure};
use seclog_core::document::{digest_id, Document, Origin, WriteOp};
use seclog_core::envelope::firehose::{FirehoseEvent, FirehoseRecord, RecordResult};
use seclog_core::error::{PutRefusal, SetupError};
use seclog_core::firehose::{process, RecordTransform, Settings};
use seclog_core::index::{IndexPattern, Rotation};
use seclog_core::sink::backoff::Backoff;
use seclog_core::sink::delivery_stream::MemoryRecordSink;
use seclog_core::sink::drive::{drive, Attempt, Left};
use seclog_core::sink::{BulkSink, DeliveryReport};
use seclog_core::DeliveryError;
use tokio::time::Instant;

/// Rounds of re-ingestion followed beyond one per record before giving up. A round that settles
/// nothing and changes nothing ends the replay at once; one that answers what fits the response
/// and puts the rest back (a full 6 MB VPC request takes eight) or splits records into parts (one
/// level deep) goes on.
const EXTRA_ROUNDS: u32 = 4;

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
        .map_err(|source| DeliveryError::Setup(SetupError::Family { family: family.to_owned(), source }))?;
    let mut round = Round {
        event,
        invocation_id: event.invocation_id.clone(),
        transform,
        pattern,
        sink,
        deadletters,
        deadline,
        outcome: Outcome { received: event.records.len(), ..Outcome::default() },
    };
    // Firehose re-ingests at once: rounds follow each other without a wait.
    let max_attempts = u32::try_from(event.records.len()).unwrap_or(u32::MAX).saturating_add(EXTRA_ROUNDS);
    let rounds = Backoff { base: Duration::ZERO, max: Duration::ZERO, max_attempts };
    drive(&mut round, event.records.clone(), &rounds, deadline).await.map_err(|e| match e {
        DeliveryError::RetriesExhausted { attempts, .. } => DeliveryError::PutRefused(PutRefusal::NotSettled(attempts)),
        other => other,
    })?;
    Ok(round.outcome)
}

/// One round of Firehose's: a request of `records` transformed, its answers delivered, and what it
/// re-ingested left for the next round.
struct Round<'a, T, S> {
    event: &'a FirehoseEvent,
    invocation_id: String,
    transform: &'a T,
    pattern: IndexPattern,
    sink: &'a S,
    deadletters: &'a DeadLetters,
    deadline: Instant,
    outcome: Outcome,
}

impl<T: RecordTransform, S: BulkSink> Attempt<FirehoseRecord> for Round<'_, T, S> {
    async fn attempt(
        &mut self,
        records: Vec<FirehoseRecord>,
        round: u32,
    ) -> Result<Left<FirehoseRecord>, DeliveryError> {
        let current = FirehoseEvent {
            invocation_id: self.invocation_id.clone(),
            delivery_stream_arn: self.event.delivery_stream_arn.clone(),
            region: self.event.region.clone(),
            records,
        };
        let reingest = MemoryRecordSink::new();
        let (response, summary) =
            process(&current, self.transform, &reingest, &Settings::default(), self.deadline).await?;
        self.outcome.dropped += summary.dropped;
        let now = Utc::now();
        let mut docs = Vec::new();
        for (record, answer) in current.records.iter().zip(&response.records) {
            let origin = Origin {
                dataset: self.transform.dataset(),
                record_id: Cow::Borrowed(record.record_id.as_str()),
                raw: Cow::Borrowed(record.data.as_str()),
            };
            match answer.result {
                RecordResult::Ok => {
                    let body = base64::engine::general_purpose::STANDARD.decode(&answer.data).unwrap_or_default();
                    let time = serde_json::from_slice::<Timestamp>(&body).map_or(now, |t| t.at);
                    let id = digest_id(&format!("{}/{}", current.delivery_stream_arn, record.record_id));
                    docs.push(Document::new(self.pattern.name_for(time), id, WriteOp::Create, body, origin));
                }
                RecordResult::ProcessingFailed => {
                    let failure = Failure::of(
                        "processing_failed",
                        "the transform answered ProcessingFailed; Firehose writes the record to its error output",
                    );
                    docs.push(self.deadletters.document(origin, &failure, now));
                }
                RecordResult::Dropped => {}
            }
        }
        let docs_settled = docs.len() + summary.dropped;
        if !docs.is_empty() {
            let report = self.sink.deliver(docs, self.deadline).await?;
            self.outcome.delivery.add(&report);
        }
        let put = reingest.take();
        self.outcome.reingested += put.len();
        // Each round's request is named after the one that re-ingested its records.
        self.invocation_id = format!("{}/{round}", self.invocation_id);
        let arrival = current.records.first().and_then(|r| r.approximate_arrival_timestamp);
        let items = put
            .into_iter()
            .enumerate()
            .map(|(i, (_, data))| FirehoseRecord::of_bytes(format!("{}/{i}", self.invocation_id), arrival, &data))
            .collect::<Vec<FirehoseRecord>>();
        let unchanged = items.len() == current.records.len()
            && items.iter().zip(&current.records).all(|(put, given)| put.data == given.data);
        if docs_settled == 0 && unchanged {
            return Err(DeliveryError::PutRefused(PutRefusal::NotSettled(round)));
        }
        Ok(Left { items, reason: "records re-ingested".into() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sink_and_deadline() -> (seclog_core::sink::MemorySink, DeadLetters, Instant) {
        let deadline = Instant::now() + std::time::Duration::from_secs(120);
        (seclog_core::sink::MemorySink::new(), DeadLetters::new("seclog").unwrap(), deadline)
    }

    #[tokio::test]
    async fn a_full_vpc_request_settles_over_as_many_rounds_as_its_answers_need() {
        // 26,905 flow-log lines: each answer is about eleven times its line, so a round answers
        // what fits 6 MB and puts the rest back untransformed, eight rounds and more.
        let batch = seclog_testkit::batches::vpcflow();
        let (sink, deadletters, deadline) = sink_and_deadline();
        let transform = seclog_vpcflow::VpcFlowTransform::default().with_enricher(seclog_testkit::enricher());
        let outcome = replay(&batch.event, &transform, "vpcflow", &sink, &deadletters, deadline).await.unwrap();
        assert_eq!(outcome.received, 26_905);
        assert_eq!(outcome.delivery.indexed, 26_905);
        assert_eq!(outcome.delivery.dead_lettered, 0);
        assert!(outcome.reingested > 26_905, "{}", outcome.reingested);
        assert_eq!(sink.take().split(|b| *b == b'\n').filter(|l| !l.is_empty()).count(), 2 * 26_905);
    }

    /// Puts every record back as it came.
    struct PutsEverythingBack;

    impl RecordTransform for PutsEverythingBack {
        fn dataset(&self) -> &'static str {
            "test.stuck"
        }

        fn transform(
            &self,
            data: &[u8],
            _: &seclog_core::firehose::RecordContext,
        ) -> Result<seclog_core::firehose::Transformed, seclog_core::RecordError> {
            Ok(seclog_core::firehose::Transformed::Split(vec![data.to_vec()]))
        }
    }

    #[tokio::test]
    async fn a_transform_that_settles_nothing_fails_the_replay_at_once() {
        let batch = seclog_testkit::batches::vpcflow();
        let (sink, deadletters, deadline) = sink_and_deadline();
        let err = replay(&batch.event, &PutsEverythingBack, "stuck", &sink, &deadletters, deadline).await.unwrap_err();
        assert_eq!(
            seclog_core::error::Chain(&err).to_string(),
            "Firehose refused the records: re-ingestion did not settle (round 1)"
        );
        assert!(sink.take().is_empty());
    }

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
        assert!(
            matches!(&err, DeliveryError::Setup(SetupError::Family { family, source: seclog_core::index::IndexNameError::Character('N') })
                if family == "Not Valid"),
            "{err}"
        );
        assert_eq!(
            seclog_core::error::Chain(&err).to_string(),
            "the function's setup is unusable: family `Not Valid`: must not contain `N` (lowercase, no spaces or \\ / * ? \" < > | , # :)"
        );
        assert_eq!(err.error_type(), "SetupFailed");
        assert!(sink.take().is_empty());
    }
}
