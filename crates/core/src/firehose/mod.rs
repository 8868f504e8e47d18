//! The Firehose data-transformation step, shared by every Firehose function.
//!
//! A function supplies a [`RecordTransform`] (bytes of one record → one document); this module
//! answers every `recordId` exactly once and keeps the response under Lambda's 6 MB limit:
//!
//! 1. Each record's `data` is base64-decoded; bad base64 is `ProcessingFailed` for that record only.
//! 2. A gzip record is a `CloudWatch` Logs subscription payload (streams fed by a subscription):
//!    a control message is `Dropped`; one log event is transformed in place; several are
//!    *split* — each event's message is re-ingested as its own record and the original is
//!    `Dropped`, because `OpenSearch` destinations index one document per record.
//! 3. Anything else goes to the transform, which returns a document, a split (for example a
//!    record holding several flow-log lines), a drop, or a [`RecordError`] (`ProcessingFailed`).
//! 4. The response is filled as records are transformed, in request order, with an answer reserved
//!    for every record not yet transformed. A document is kept while [`Settings::max_response_bytes`]
//!    provably has room for it; the first that does not fit fills the response: it, and every record
//!    after it *untransformed*, are re-ingested as their *original* records into the same stream
//!    (`PutRecordBatch`) and answered `Dropped`, to be transformed by a later invocation (work that
//!    could not be answered is not done). So a bad record after that point is answered
//!    `ProcessingFailed` in the invocation that transforms it, not this one. A document too large to
//!    fit any response is `ProcessingFailed`.
//!
//! Re-ingestion cannot loop: a split's parts are text, never a gzip envelope, so they are not
//! split again (a gzip record put back untransformed is split when it is transformed); a
//! re-ingested original fits a response on its own (else it is `ProcessingFailed`), and the first
//! record of a batch is always transformed and its document kept when it fits, so each invocation
//! makes progress. Parts produced by a transform's split must be single records (a transform
//! never splits its own parts). If re-ingestion fails after retries before the stream accepted
//! any record, the invocation fails and Firehose retries it (then sends the batch to its error
//! output). If the stream accepted some, a retry would put those again as new documents: the
//! records not wholly accepted are answered `ProcessingFailed` instead (Firehose writes their
//! originals to its error output) and the invocation succeeds.
//!
//! `Dropped` and `ProcessingFailed` entries carry empty `data`: Firehose requires the field, and
//! writes the record it holds (not the response's data) to its error output.

use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use lambda_runtime::LambdaEvent;
use tokio::time::Instant;

use crate::config::{ConfigError, Env};
use crate::sink::delivery_stream::FirehoseSink;
use crate::DropRule;

use crate::envelope::firehose::{FirehoseEvent, FirehoseResponse, RecordResult, ResponseRecord};
use crate::sink::delivery_stream::{PartialPut, PutReport, RecordSink};
pub use crate::telemetry::TransformationSummary;
use crate::{decode, DeliveryError, RecordError};

mod fit;
mod step;

use crate::RecordKind;
pub use fit::response_len;
use fit::{Fit, Room};
use step::{record_step, Budget, Step};

/// Lambda's synchronous response limit is 6 MB (6,291,456 bytes); this leaves room for the
/// runtime's own framing.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 6_000_000;

/// What a transform made of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transformed {
    /// One document.
    Document {
        /// The serialised JSON.
        body: Vec<u8>,
        /// The time it is of (its `@timestamp`), which names its index where it is written
        /// through `_bulk` (the `s3` function reads the same records from S3).
        time: DateTime<Utc>,
    },
    /// Several records, each to be re-ingested and transformed on its own.
    Split(Vec<Vec<u8>>),
    /// Dropped on purpose by a documented rule.
    Drop(DropRule),
}

/// Bytes of one record → a document.
pub trait RecordTransform: Sync {
    /// The dataset (`aws.waf`, …), for logs.
    fn dataset(&self) -> &'static str;

    /// Transforms one record.
    ///
    /// # Errors
    /// Why the record cannot be transformed; it is answered `ProcessingFailed`.
    fn transform(&self, data: &[u8], context: &RecordContext) -> Result<Transformed, RecordError>;
}

/// The values of a record holding several JSON values (NDJSON, or concatenated), each as its own
/// part for [`Transformed::Split`]; `None` when it holds at most one (or its first is not JSON,
/// which the transform then refuses).
///
/// # Errors
/// `bad_json` when a value after the first is not JSON.
pub fn json_values(data: &[u8]) -> Result<Option<Vec<Vec<u8>>>, RecordError> {
    let mut values = serde_json::Deserializer::from_slice(data).into_iter::<&serde_json::value::RawValue>();
    // Split only when the record starts with two whole values: a record that is not such a sequence
    // stays whole, so that it fails as one and keeps all its bytes (fuzzing found a record whose
    // unparsable start was dropped while a number after it was put back on its own).
    let Some(Ok(first)) = values.next() else { return Ok(None) };
    let Some(Ok(second)) = values.next() else { return Ok(None) };
    let mut parts = vec![first.get().as_bytes().to_vec(), second.get().as_bytes().to_vec()];
    for value in values {
        let value = value.map_err(|e| RecordError::new(RecordKind::BadJson, format!("not JSON: {e}")))?;
        parts.push(value.get().as_bytes().to_vec());
    }
    Ok(Some(parts))
}

/// What Firehose says about a record besides its bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordContext {
    /// When the record reached Firehose (the time of records that carry none of their own).
    pub arrival: Option<DateTime<Utc>>,
}

/// How a record ends its delivered bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimiter {
    /// Nothing: for `OpenSearch` destinations, which index each record as one document.
    None,
    /// A newline: for S3 destinations, where Firehose concatenates records, so objects are NDJSON.
    Newline,
}

impl std::str::FromStr for Delimiter {
    type Err = crate::config::NotOneOf;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(Self::None),
            "newline" => Ok(Self::Newline),
            other => Err(crate::config::NotOneOf::new(other, "none, newline")),
        }
    }
}

/// Settings of the transformation step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// The largest response to return.
    pub max_response_bytes: usize,
    /// The decompression cap for gzip records.
    pub max_decoded_bytes: usize,
    /// How each delivered record ends.
    pub delimiter: Delimiter,
    /// What one invocation may hold at once: originals, documents and split parts together.
    /// A record that would pass it is answered `ProcessingFailed` (`invocation_budget`).
    pub max_invocation_bytes: usize,
    /// Split parts one invocation may re-ingest (each is a `PutRecordBatch` entry).
    pub max_invocation_parts: usize,
}

/// 64 MiB: with the runtime, the enrichment data and one record's decompression at its 32 MiB cap,
/// a 128 MB function keeps room to spare.
pub const DEFAULT_MAX_INVOCATION_BYTES: usize = 64 << 20;

/// 50,000 parts: 100 `PutRecordBatch` calls of 500.
pub const DEFAULT_MAX_INVOCATION_PARTS: usize = 50_000;

impl Settings {
    /// Reads the settings every Firehose function shares:
    ///
    /// | variable | default | meaning |
    /// |---|---|---|
    /// | `RECORD_DELIMITER` | `none` | `none` for `OpenSearch` destinations, `newline` for S3 |
    /// | `MAX_RESPONSE_BYTES` | `6000000` | the largest response; the rest is re-ingested |
    /// | `MAX_DECODED_BYTES` | `33554432` | cap on a gzip record's decompressed size |
    /// | `DEADLINE_MARGIN_MS` | `2000` | time kept free before the Lambda deadline |
    /// | `MAX_INVOCATION_BYTES` | `67108864` | what one invocation may hold (originals, documents, parts) |
    /// | `MAX_INVOCATION_PARTS` | `50000` | split parts one invocation may re-ingest |
    ///
    /// # Errors
    /// A [`ConfigError`] naming the variable.
    pub fn from_env(env: &Env<'_>) -> Result<(Self, Duration), ConfigError> {
        let defaults = Self::default();
        let settings = Self {
            max_response_bytes: env.parse_or("MAX_RESPONSE_BYTES", defaults.max_response_bytes)?,
            max_decoded_bytes: env.max_decoded_bytes(defaults.max_decoded_bytes)?,
            delimiter: env.parse_or("RECORD_DELIMITER", defaults.delimiter)?,
            max_invocation_bytes: env.parse_or("MAX_INVOCATION_BYTES", defaults.max_invocation_bytes)?,
            max_invocation_parts: env.parse_or("MAX_INVOCATION_PARTS", defaults.max_invocation_parts)?,
        };
        if !(64 * 1024..=6_291_456).contains(&settings.max_response_bytes) {
            return Err(ConfigError::Invalid {
                var: "MAX_RESPONSE_BYTES",
                reason: "must be between 65536 and 6291456 (Lambda's limit)".into(),
            });
        }
        Ok((settings, env.deadline_margin()?))
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            max_decoded_bytes: decode::DEFAULT_MAX_DECODED_BYTES,
            delimiter: Delimiter::None,
            max_invocation_bytes: DEFAULT_MAX_INVOCATION_BYTES,
            max_invocation_parts: DEFAULT_MAX_INVOCATION_PARTS,
        }
    }
}

/// Transforms a request into its response, re-ingesting what must be.
///
/// # Errors
/// When records that had to be re-ingested could not be, and the stream accepted none of them
/// (Firehose retries the invocation).
pub async fn process<T: RecordTransform, R: RecordSink>(
    event: &FirehoseEvent,
    transform: &T,
    reingest: &R,
    settings: &Settings,
    deadline: Instant,
) -> Result<(FirehoseResponse, TransformationSummary), DeliveryError> {
    let started = std::time::Instant::now();
    let mut summary =
        TransformationSummary { dataset: transform.dataset(), received: event.records.len(), ..Default::default() };
    let mut decoded = Vec::with_capacity(event.records.len());
    let mut steps = Vec::with_capacity(event.records.len());
    let mut fitted = Vec::with_capacity(event.records.len());
    let mut budget = Budget { bytes: settings.max_invocation_bytes, parts: settings.max_invocation_parts };
    let mut room = Room::new(event, settings);
    for record in &event.records {
        let (original, step) = if room.is_full() {
            // Put back as it came: a later invocation transforms it (bad base64 fails now).
            match decode::base64(&record.data) {
                Ok(bytes) => (bytes, Step::Deferred),
                Err(e) => (Vec::new(), Step::Failed(RecordError::new(e.kind(), e.to_string()))),
            }
        } else {
            record_step(record, transform, settings, &mut budget)
        };
        fitted.push(room.place(&record.record_id, &step));
        decoded.push(original);
        steps.push(step);
    }

    let mut to_put: Vec<Vec<u8>> = Vec::new();
    // For each entry of `to_put`: the response record it answers for, and whether it is a part.
    let mut put_for: Vec<(usize, bool)> = Vec::new();
    let mut records = Vec::with_capacity(steps.len());
    for (((record, step), fit), original) in event.records.iter().zip(steps).zip(fitted).zip(decoded) {
        let (result, data) = match (step, fit) {
            (Step::Ok(doc), Fit::Keep) => {
                summary.ok += 1;
                (RecordResult::Ok, doc)
            }
            (Step::Ok(_), Fit::Reingest) => {
                summary.overflowed += 1;
                put_for.push((records.len(), false));
                to_put.push(original);
                (RecordResult::Dropped, Vec::new())
            }
            (Step::Deferred, _) => {
                summary.overflowed += 1;
                summary.untransformed += 1;
                put_for.push((records.len(), false));
                to_put.push(original);
                (RecordResult::Dropped, Vec::new())
            }
            (Step::Ok(doc), Fit::Never) => {
                summary.failed += 1;
                tracing::warn!(record_id = %record.record_id, bytes = doc.len(), "document too large for any response");
                (RecordResult::ProcessingFailed, Vec::new())
            }
            (Step::Split(parts), _) => {
                summary.split += 1;
                put_for.extend(std::iter::repeat_n((records.len(), true), parts.len()));
                to_put.extend(parts);
                (RecordResult::Dropped, Vec::new())
            }
            (Step::Dropped(rule), _) => {
                summary.dropped += 1;
                *summary.dropped_by.entry(rule).or_default() += 1;
                (RecordResult::Dropped, Vec::new())
            }
            (Step::Failed(e), _) => {
                summary.failed += 1;
                tracing::warn!(record_id = %record.record_id, error_type = e.kind.as_str(), at = %e.loggable_position(), "record failed");
                (RecordResult::ProcessingFailed, Vec::new())
            }
        };
        let data = if result == RecordResult::Ok {
            let mut data = data;
            if settings.delimiter == Delimiter::Newline {
                data.push(b'\n');
            }
            base64::engine::general_purpose::STANDARD.encode(&data)
        } else {
            String::new()
        };
        records.push(ResponseRecord { record_id: record.record_id.clone(), result, data });
    }

    if !to_put.is_empty() {
        let n = to_put.len();
        match put_back(event, reingest, to_put, deadline).await {
            Ok(report) => {
                summary.reingested = n;
                summary.put_calls = report.calls;
                summary.put_retried = report.retried;
            }
            // Nothing is in the stream yet: failing the invocation is safe, its retry puts each
            // record once.
            Err(stopped) if !stopped.accepted_any() => {
                summary.invocation_failed = 1;
                summary.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                summary.emit();
                return Err(stopped.error);
            }
            // Part is in the stream: a retry of the invocation would put that part again (as new
            // documents). Answer the records not (wholly) accepted `ProcessingFailed` instead, so
            // that Firehose writes their originals to its error output, and succeed.
            Err(stopped) => fail_unaccepted(&stopped, &put_for, &mut records, &mut summary),
        }
    }
    let response = FirehoseResponse { records };
    summary.response_bytes = response_len(&response);
    summary.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    summary.emit();
    Ok((response, summary))
}

/// Puts `records` back into the request's own stream.
async fn put_back<R: RecordSink>(
    event: &FirehoseEvent,
    reingest: &R,
    records: Vec<Vec<u8>>,
    deadline: Instant,
) -> Result<PutReport, PartialPut> {
    match event.delivery_stream_name() {
        Some(stream) => reingest.put(stream, records, deadline).await,
        None => Err(PartialPut::none_of(records.len(), DeliveryError::PutRefused(crate::error::PutRefusal::NoStream))),
    }
}

/// Answers `ProcessingFailed` each record that re-ingestion did not wholly put back (`put_for`:
/// the response record of each put entry, and whether the entry is a split part).
fn fail_unaccepted(
    stopped: &PartialPut,
    put_for: &[(usize, bool)],
    records: &mut [ResponseRecord],
    summary: &mut TransformationSummary,
) {
    summary.reingested = stopped.accepted.iter().filter(|a| **a).count();
    summary.put_calls = stopped.report.calls;
    summary.put_retried = stopped.report.retried;
    let mut failed = 0;
    for (&(at, part), accepted) in put_for.iter().zip(&stopped.accepted) {
        let record = &mut records[at];
        if !accepted && record.result == RecordResult::Dropped {
            record.result = RecordResult::ProcessingFailed;
            failed += 1;
            // It was counted as split or overflowed; now it is counted as failed.
            if part {
                summary.split -= 1;
            } else {
                summary.overflowed -= 1;
            }
        }
    }
    summary.failed += failed;
    tracing::warn!(
        failed,
        accepted = summary.reingested,
        error = %crate::error::Chain(&stopped.error),
        "re-ingestion stopped after part was accepted: the rest is answered ProcessingFailed"
    );
}

/// What a Firehose transformation function needs, built once per container: its transform, the
/// stream records are put back into, and the step's settings.
#[derive(Debug)]
pub struct Deps<T, R> {
    /// Record → document.
    pub transform: T,
    /// Where records that do not fit the response go back.
    pub reingest: R,
    /// The step's settings.
    pub settings: Settings,
    /// Time kept free before the Lambda deadline.
    pub deadline_margin: Duration,
}

impl<T: RecordTransform> Deps<T, FirehoseSink> {
    /// `transform` with re-ingestion through the real Firehose.
    pub async fn init(transform: T, settings: Settings, deadline_margin: Duration) -> Self {
        Self { transform, reingest: FirehoseSink::from_environment().await, settings, deadline_margin }
    }
}

/// The Lambda entry point of every Firehose transformation function.
///
/// # Errors
/// When records that had to be re-ingested could not be (see [`process`]).
pub async fn handle<T: RecordTransform, R: RecordSink>(
    event: LambdaEvent<FirehoseEvent>,
    deps: &Deps<T, R>,
) -> Result<FirehoseResponse, DeliveryError> {
    let deadline = crate::lambda::deadline_of(event.context.deadline, deps.deadline_margin);
    process(&event.payload, &deps.transform, &deps.reingest, &deps.settings, deadline)
        .await
        .map(|(response, _)| response)
}

#[cfg(test)]
mod tests;
