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
//! 4. When the `Ok` documents would not fit [`Settings::max_response_bytes`], documents are kept in
//!    request order while they fit; the rest are re-ingested as their *original* records into the
//!    same stream (`PutRecordBatch`) and answered `Dropped`, to be transformed by a later
//!    invocation. A document too large to fit any response is `ProcessingFailed`.
//!
//! Re-ingestion cannot loop: a re-ingested message is text, never a gzip envelope, so it is not
//! split again; a re-ingested original fits a response on its own (else it is
//! `ProcessingFailed`), and the first documents of a batch are always kept, so each invocation
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
use serde::Serialize;
use tokio::time::Instant;

use crate::config::{ConfigError, Env};
use crate::sink::firehose::FirehoseSink;

use crate::envelope::cloudwatch_logs::{self, MessageType};
use crate::envelope::firehose::{FirehoseEvent, FirehoseRecord, FirehoseResponse, RecordResult, ResponseRecord};
use crate::sink::firehose::{PartialPut, PutReport, RecordSink};
use crate::{decode, DeliveryError, RecordError};

/// Lambda's synchronous response limit is 6 MB (6,291,456 bytes); this leaves room for the
/// runtime's own framing.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 6_000_000;

/// What a transform made of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transformed {
    /// One document (serialised JSON).
    Document(Vec<u8>),
    /// Several records, each to be re-ingested and transformed on its own.
    Split(Vec<Vec<u8>>),
    /// Dropped on purpose by a documented filter (its rule: `header_line`, …).
    Drop(&'static str),
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
        let value = value.map_err(|e| RecordError::new("bad_json", format!("not JSON: {e}")))?;
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
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(Self::None),
            "newline" => Ok(Self::Newline),
            other => Err(format!("`{other}` is not one of none, newline")),
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

/// What one invocation did, logged once at its end.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TransformationSummary {
    /// The dataset.
    pub dataset: &'static str,
    /// Records received.
    pub received: usize,
    /// Answered `Ok`.
    pub ok: usize,
    /// Answered `Dropped` by a filter or as a control message.
    pub dropped: usize,
    /// Answered `ProcessingFailed`.
    pub failed: usize,
    /// Answered `Dropped` because their parts were re-ingested.
    pub split: usize,
    /// Answered `Dropped` because they did not fit the response and were re-ingested.
    pub overflowed: usize,
    /// Records put back into the stream.
    pub reingested: usize,
    /// Record retries of `PutRecordBatch`.
    pub put_retried: usize,
    /// `PutRecordBatch` calls.
    pub put_calls: usize,
    /// The response's serialised size.
    pub response_bytes: usize,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// Records answered `Dropped` on purpose, by rule.
    pub dropped_by: crate::telemetry::DroppedBy,
    /// 1 when the invocation failed (re-ingestion could not finish: Firehose retries it), else 0.
    pub invocation_failed: usize,
}

impl TransformationSummary {
    /// Prints the summary line (JSON, EMF; see [`crate::telemetry`]).
    pub fn emit(&self) {
        crate::telemetry::emit_transformation(self);
    }
}

/// A record's outcome before the response is fitted.
enum Step {
    Ok(Vec<u8>),
    Dropped(&'static str),
    Failed(RecordError),
    Split(Vec<Vec<u8>>),
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
    let mut budget = Budget { bytes: settings.max_invocation_bytes, parts: settings.max_invocation_parts };
    for record in &event.records {
        let (original, step) = record_step(record, transform, settings, &mut budget);
        decoded.push(original);
        steps.push(step);
    }

    let fitted = fit(event, &steps, settings);
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
                tracing::warn!(record_id = %record.record_id, error_type = e.kind, at = %e.loggable_position(), "record failed");
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

/// A record's original bytes and its step, charged to `budget`. A record whose decompression
/// stops at what the invocation has left (not at `MAX_DECODED_BYTES`) fails as `invocation_budget`.
fn record_step<T: RecordTransform>(
    record: &FirehoseRecord,
    transform: &T,
    settings: &Settings,
    budget: &mut Budget,
) -> (Vec<u8>, Step) {
    let bytes = match decode::base64(&record.data) {
        Ok(bytes) => bytes,
        Err(e) => return (Vec::new(), Step::Failed(RecordError::new(e.kind(), e.to_string()))),
    };
    let context =
        RecordContext { arrival: record.approximate_arrival_timestamp.and_then(DateTime::from_timestamp_millis) };
    // One record's decompression may not take more than the invocation has left.
    let left = budget.bytes.saturating_sub(bytes.len()).max(1024);
    let capped = Settings { max_decoded_bytes: settings.max_decoded_bytes.min(left), ..*settings };
    let step = match step_of(&bytes, transform, &capped, &context) {
        Step::Failed(e) if e.kind == "too_large" && left < settings.max_decoded_bytes => {
            // It needs at least one byte more than is left.
            Step::Failed(budget.spent(bytes.len(), left + 1, 0))
        }
        step => step,
    };
    let step = budget.charge(bytes.len(), step);
    (bytes, step)
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
        None => Err(PartialPut::none_of(
            records.len(),
            DeliveryError::PutRefused("records must be re-ingested but the event has no deliveryStreamArn".into()),
        )),
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
        error = %stopped.error,
        "re-ingestion stopped after part was accepted: the rest is answered ProcessingFailed"
    );
}

/// Runs a Firehose transformation function: settings from the environment, re-ingestion through
/// the real Firehose, and `transform` for each record.
///
/// # Errors
/// A configuration error at cold start, or the runtime's.
pub async fn serve<T: RecordTransform>(transform: T) -> Result<(), lambda_runtime::Error> {
    let (settings, margin) = Settings::from_env(&Env::process())?;
    let sink = FirehoseSink::from_environment().await;
    let (transform, sink, settings) = (&transform, &sink, &settings);
    lambda_runtime::run(lambda_runtime::service_fn(move |event: LambdaEvent<FirehoseEvent>| async move {
        let deadline = crate::lambda::deadline_of(event.context.deadline, margin);
        process(&event.payload, transform, sink, settings, deadline).await.map(|(response, _)| response)
    }))
    .await
}

/// The serialised size of a response.
#[must_use]
pub fn response_len(response: &FirehoseResponse) -> usize {
    EMPTY_RESPONSE_LEN
        + response
            .records
            .iter()
            .map(|r| ResponseRecord::serialised_len(&r.record_id, r.result, r.data.len()))
            .sum::<usize>()
        - usize::from(!response.records.is_empty())
}

/// `{"records":[]}`
const EMPTY_RESPONSE_LEN: usize = 14;

fn step_of<T: RecordTransform>(bytes: &[u8], transform: &T, settings: &Settings, context: &RecordContext) -> Step {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return envelope_step(bytes, transform, settings, context);
    }
    transformed(transform.transform(bytes, context))
}

fn transformed(result: Result<Transformed, RecordError>) -> Step {
    match result {
        Ok(Transformed::Document(mut doc)) => {
            crate::json::single_line(&mut doc);
            Step::Ok(doc)
        }
        Ok(Transformed::Split(parts)) => Step::Split(parts),
        Ok(Transformed::Drop(rule)) => Step::Dropped(rule),
        Err(e) => Step::Failed(e),
    }
}

/// A `CloudWatch` Logs subscription payload inside a Firehose record.
fn envelope_step<T: RecordTransform>(
    bytes: &[u8],
    transform: &T,
    settings: &Settings,
    context: &RecordContext,
) -> Step {
    let json = match decode::decompress_capped(bytes, settings.max_decoded_bytes) {
        Ok(json) => json,
        Err(e) => return Step::Failed(RecordError::new(e.kind(), e.to_string())),
    };
    let payload = match cloudwatch_logs::parse(&json) {
        Ok(payload) => payload,
        Err(e) => return Step::Failed(RecordError::new(e.kind(), e.to_string())),
    };
    match payload.message_type {
        MessageType::DataMessage => {}
        MessageType::ControlMessage => return Step::Dropped("control_message"),
        MessageType::Unknown => {
            let e = crate::DecodeError::UnknownMessageType;
            return Step::Failed(RecordError::new(e.kind(), e.to_string()));
        }
    }
    match payload.log_events.as_slice() {
        [] => Step::Dropped("empty_payload"),
        [one] => {
            // The log event's own time is better than the record's arrival.
            let context = RecordContext { arrival: DateTime::from_timestamp_millis(one.timestamp).or(context.arrival) };
            transformed(transform.transform(one.message.as_bytes(), &context))
        }
        many => Step::Split(many.iter().map(|e| e.message.as_bytes().to_vec()).collect()),
    }
}

/// What the invocation may still hold ([`Settings::max_invocation_bytes`],
/// [`Settings::max_invocation_parts`]).
struct Budget {
    bytes: usize,
    parts: usize,
}

impl Budget {
    /// Why a record that needs `original + held` bytes and `parts` parts does not fit.
    fn spent(&self, original: usize, held: usize, parts: usize) -> RecordError {
        let bytes = original + held;
        let reason = format!(
            "the invocation's budget is spent ({} bytes and {} parts left; this record needs {bytes} and {parts}): \
             MAX_INVOCATION_BYTES, MAX_INVOCATION_PARTS",
            self.bytes, self.parts
        );
        RecordError::new("invocation_budget", reason)
    }

    /// Charges a record's original and its step's output, or fails the record when they do not fit
    /// (its output is dropped at once). A split part larger than one Firehose record fails its
    /// record too: the stream would refuse it, and with it the whole re-ingestion.
    fn charge(&mut self, original: usize, step: Step) -> Step {
        let (held, parts) = match &step {
            Step::Ok(doc) => (doc.len(), 0),
            Step::Split(parts) => {
                if let Some(big) = parts.iter().find(|p| p.len() > crate::sink::firehose::MAX_RECORD_BYTES) {
                    let reason = format!(
                        "a log event of {} bytes is larger than one Firehose record ({} bytes)",
                        big.len(),
                        crate::sink::firehose::MAX_RECORD_BYTES
                    );
                    return Step::Failed(RecordError::new("part_too_large", reason));
                }
                (parts.iter().map(Vec::len).sum(), parts.len())
            }
            Step::Dropped(_) | Step::Failed(_) => (0, 0),
        };
        let bytes = original + held;
        if bytes > self.bytes || parts > self.parts {
            return Step::Failed(self.spent(original, held, parts));
        }
        self.bytes -= bytes;
        self.parts -= parts;
        step
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fit {
    Keep,
    Reingest,
    Never,
}

/// Which `Ok` documents the response keeps: every other entry is reserved first (at its empty-data
/// size), then documents in request order while they fit.
fn fit(event: &FirehoseEvent, steps: &[Step], settings: &Settings) -> Vec<Fit> {
    let max = settings.max_response_bytes;
    let delimiter = usize::from(settings.delimiter == Delimiter::Newline);
    let encoded = |doc: &[u8]| (doc.len() + delimiter).div_ceil(3) * 4;
    let small = |id: &str, result| ResponseRecord::serialised_len(id, result, 0);
    let ids = event.records.iter().map(|r| r.record_id.as_str());
    let mut used = EMPTY_RESPONSE_LEN
        + ids
            .clone()
            .zip(steps)
            .map(|(id, step)| match step {
                // An `Ok` that can never fit is answered `ProcessingFailed`, the longest result.
                Step::Failed(_) | Step::Ok(_) => small(id, RecordResult::ProcessingFailed),
                Step::Dropped(_) | Step::Split(_) => small(id, RecordResult::Dropped),
            })
            .sum::<usize>();
    ids.zip(steps)
        .map(|(id, step)| match step {
            Step::Ok(doc) => {
                let full = ResponseRecord::serialised_len(id, RecordResult::Ok, encoded(doc));
                let instead = small(id, RecordResult::ProcessingFailed);
                if EMPTY_RESPONSE_LEN + full > max {
                    Fit::Never
                } else if used - instead + full <= max {
                    used = used - instead + full;
                    Fit::Keep
                } else {
                    Fit::Reingest
                }
            }
            _ => Fit::Keep,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::firehose::FirehoseRecord;
    use crate::sink::firehose::MemoryRecordSink;
    use proptest::prelude::*;
    use RecordResult::{Dropped, Ok as Kept, ProcessingFailed as Failed};

    #[test]
    fn a_record_split_only_when_it_starts_with_two_whole_values() {
        assert_eq!(
            json_values(b"{\"a\":1} {\"b\":2}").unwrap(),
            Some(vec![b"{\"a\":1}".to_vec(), b"{\"b\":2}".to_vec()])
        );
        // An unparsable start keeps the record whole (it fails as one, all its bytes kept).
        for whole in [&b"x -20"[..], b"\xba -20", b"{\"a\": -20", b"{\"a\":1} x {\"b\":2}", b"{\"a\":1}"] {
            assert_eq!(json_values(whole).unwrap(), None, "{}", String::from_utf8_lossy(whole));
        }
    }

    /// `drop`, `split:a,b`, `bad`, or anything else → `{"n":"<text>"}`.
    struct Echo;
    impl RecordTransform for Echo {
        fn dataset(&self) -> &'static str {
            "test"
        }
        fn transform(&self, data: &[u8], _: &RecordContext) -> Result<Transformed, RecordError> {
            let text = std::str::from_utf8(data).map_err(|e| RecordError::new("bad_utf8", e.to_string()))?;
            match text {
                "drop" => Ok(Transformed::Drop("test_rule")),
                "bad" => Err(RecordError::new("bad_record", "bad")),
                t if t.starts_with("split:") => {
                    Ok(Transformed::Split(t[6..].split(',').map(|p| p.as_bytes().to_vec()).collect()))
                }
                t => Ok(Transformed::Document(serde_json::to_vec(&serde_json::json!({ "n": t })).unwrap())),
            }
        }
    }

    fn event(data: &[Vec<u8>]) -> FirehoseEvent {
        FirehoseEvent {
            invocation_id: "inv".into(),
            delivery_stream_arn: "arn:aws:firehose:us-east-1:123456789012:deliverystream/s".into(),
            region: "us-east-1".into(),
            records: data
                .iter()
                .enumerate()
                .map(|(i, d)| FirehoseRecord {
                    record_id: format!("r{i}"),
                    approximate_arrival_timestamp: Some(0),
                    data: base64::engine::general_purpose::STANDARD.encode(d),
                })
                .collect(),
        }
    }

    type Outcome = Result<(FirehoseResponse, TransformationSummary), DeliveryError>;

    fn run(event: &FirehoseEvent, settings: &Settings) -> (Outcome, Vec<Vec<u8>>) {
        let sink = MemoryRecordSink::new();
        let deadline = Instant::now() + std::time::Duration::from_secs(5);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let out = rt.block_on(process(event, &Echo, &sink, settings, deadline));
        (
            out,
            sink.take()
                .into_iter()
                .map(|(stream, r)| {
                    assert_eq!(stream, "s");
                    r
                })
                .collect(),
        )
    }

    fn results(response: &FirehoseResponse) -> Vec<(&str, RecordResult, String)> {
        let decode = |d: &str| String::from_utf8(base64::engine::general_purpose::STANDARD.decode(d).unwrap()).unwrap();
        response.records.iter().map(|r| (r.record_id.as_str(), r.result, decode(&r.data))).collect()
    }

    fn envelope(kind: &str, messages: &[&str]) -> Vec<u8> {
        let events: Vec<_> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| serde_json::json!({"id": i.to_string(), "timestamp": 0, "message": m}))
            .collect();
        let payload = serde_json::json!({"messageType": kind, "owner": "1", "logGroup": "g", "logStream": "s",
            "subscriptionFilters": ["f"], "logEvents": events});
        decode::gzip(payload.to_string().as_bytes())
    }

    #[test]
    fn every_record_is_answered_once_in_order() {
        let mut e = event(&[b"a".to_vec(), b"drop".to_vec(), b"bad".to_vec(), vec![0xff], b"split:x,y".to_vec()]);
        e.records.push(FirehoseRecord {
            record_id: "r5".into(),
            approximate_arrival_timestamp: None,
            data: "%%".into(),
        });
        let (out, put) = run(&e, &Settings::default());
        let (response, summary) = out.unwrap();
        assert_eq!(
            results(&response),
            [
                ("r0", Kept, r#"{"n":"a"}"#.to_owned()),
                ("r1", Dropped, String::new()),
                ("r2", Failed, String::new()),
                ("r3", Failed, String::new()),
                ("r4", Dropped, String::new()),
                ("r5", Failed, String::new()),
            ]
        );
        assert_eq!(put, [b"x".to_vec(), b"y".to_vec()]);
        assert_eq!((summary.ok, summary.dropped, summary.failed, summary.split, summary.reingested), (1, 1, 3, 1, 2));
        assert_eq!(summary.response_bytes, serde_json::to_vec(&response).unwrap().len());
    }

    #[test]
    fn empty_batch_is_an_empty_response() {
        let (out, put) = run(&event(&[]), &Settings::default());
        let (response, summary) = out.unwrap();
        assert!(response.records.is_empty() && put.is_empty());
        assert_eq!(summary.response_bytes, serde_json::to_vec(&response).unwrap().len());
    }

    #[test]
    fn newline_delimiter() {
        let settings = Settings { delimiter: Delimiter::Newline, ..Settings::default() };
        let (out, _) = run(&event(&[b"a".to_vec()]), &settings);
        assert_eq!(results(&out.unwrap().0)[0].2, "{\"n\":\"a\"}\n");
    }

    #[test]
    fn cloudwatch_logs_envelopes() {
        let e = event(&[
            envelope("CONTROL_MESSAGE", &["CWL CONTROL MESSAGE: Checking health of destination Firehose."]),
            envelope("DATA_MESSAGE", &["one"]),
            envelope("DATA_MESSAGE", &["m1", "m2", "m3"]),
            envelope("DATA_MESSAGE", &[]),
            vec![0x1f, 0x8b, 1, 2, 3],
            envelope("A_TYPE_AWS_ADDS_LATER", &["what is this?"]),
        ]);
        let (out, put) = run(&e, &Settings::default());
        let got: Vec<_> = results(&out.unwrap().0).into_iter().map(|(_, r, d)| (r, d)).collect();
        assert_eq!(
            got,
            [
                (RecordResult::Dropped, String::new()),
                (RecordResult::Ok, r#"{"n":"one"}"#.to_owned()),
                (RecordResult::Dropped, String::new()),
                (RecordResult::Dropped, String::new()),
                (RecordResult::ProcessingFailed, String::new()),
                // Not a control message: nothing says it may be dropped, so Firehose keeps it.
                (RecordResult::ProcessingFailed, String::new()),
            ]
        );
        assert_eq!(put, [b"m1".to_vec(), b"m2".to_vec(), b"m3".to_vec()]);
    }

    #[test]
    fn a_split_part_larger_than_a_firehose_record_fails_only_its_own_record() {
        let huge = "x".repeat(crate::sink::firehose::MAX_RECORD_BYTES + 1);
        let e = event(&[
            envelope("DATA_MESSAGE", &["p1", "p2"]),
            envelope("DATA_MESSAGE", &["small", &huge]),
            b"a".to_vec(),
        ]);
        let (out, put) = run(&e, &Settings::default());
        let (response, summary) = out.expect("the batch succeeds");
        let got: Vec<_> = results(&response).into_iter().map(|(_, r, _)| r).collect();
        assert_eq!(got, [Dropped, Failed, Kept]);
        assert_eq!(put, [b"p1".to_vec(), b"p2".to_vec()], "none of the failed record's parts is put");
        assert_eq!((summary.split, summary.failed), (1, 1));
    }

    #[test]
    fn records_past_the_invocation_budget_fail_alone_and_later_ones_that_fit_go_on() {
        // Parts: 3 fit, the next 3 do not (2 left), the last 2 do.
        let e = event(&[
            envelope("DATA_MESSAGE", &["a", "b", "c"]),
            envelope("DATA_MESSAGE", &["d", "e", "f"]),
            envelope("DATA_MESSAGE", &["g", "h"]),
        ]);
        let settings = Settings { max_invocation_parts: 5, ..Settings::default() };
        let (out, put) = run(&e, &settings);
        let got: Vec<_> = results(&out.unwrap().0).into_iter().map(|(_, r, _)| r).collect();
        assert_eq!(got, [Dropped, Failed, Dropped]);
        assert_eq!(put.len(), 5);

        // Bytes: each record holds its original and its document (about 2 × 3,000 bytes).
        let big = |c: char| c.to_string().repeat(3000).into_bytes();
        let e = event(&[big('a'), big('b'), big('c')]);
        let settings = Settings { max_invocation_bytes: 13_000, ..Settings::default() };
        let (out, _) = run(&e, &settings);
        let got: Vec<_> = results(&out.unwrap().0).into_iter().map(|(_, r, _)| r).collect();
        assert_eq!(got, [Kept, Kept, Failed]);
    }

    #[test]
    fn a_gzip_record_stopped_by_what_the_invocation_has_left_fails_as_the_budget_not_as_too_large() {
        let message = "x".repeat(100_000);
        let record = |data: &[u8]| FirehoseRecord {
            record_id: "1".into(),
            approximate_arrival_timestamp: None,
            data: base64::engine::general_purpose::STANDARD.encode(data),
        };
        let gzipped = envelope("DATA_MESSAGE", &[&message]);
        let settings = Settings::default();
        let mut budget = Budget { bytes: 50_000, parts: 10 };
        let (_, step) = record_step(&record(&gzipped), &Echo, &settings, &mut budget);
        assert!(matches!(&step, Step::Failed(e) if e.kind == "invocation_budget"), "{}", kind(&step));
        // Over MAX_DECODED_BYTES itself it is the record that is too large, whatever is left.
        let small = Settings { max_decoded_bytes: 20_000, ..settings };
        let (_, step) = record_step(&record(&gzipped), &Echo, &small, &mut budget);
        assert!(matches!(&step, Step::Failed(e) if e.kind == "too_large"), "{}", kind(&step));
        let mut plenty = Budget { bytes: 10_000_000, parts: 10 };
        let (_, step) = record_step(&record(&gzipped), &Echo, &settings, &mut plenty);
        assert!(matches!(step, Step::Ok(_)), "{}", kind(&step));
    }

    fn kind(step: &Step) -> &'static str {
        match step {
            Step::Ok(_) => "ok",
            Step::Dropped(_) => "dropped",
            Step::Failed(e) => e.kind,
            Step::Split(_) => "split",
        }
    }

    #[test]
    fn a_record_of_tiny_lines_cannot_become_half_a_million_parts() {
        let lines: Vec<String> = (0..60_000).map(|i| i.to_string()).collect();
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let e = event(&[envelope("DATA_MESSAGE", &lines)]);
        let (out, put) = run(&e, &Settings::default());
        let got: Vec<_> = results(&out.unwrap().0).into_iter().map(|(_, r, _)| r).collect();
        assert_eq!(got, [Failed], "over the default 50,000 parts");
        assert!(put.is_empty());
    }

    #[test]
    fn overflow_is_reingested_as_originals_and_huge_documents_fail() {
        let big = |c: char| c.to_string().repeat(3000).into_bytes();
        let e = event(&[big('a'), big('b'), big('c'), big('d').repeat(3), b"e".to_vec()]);
        let settings = Settings { max_response_bytes: 8_600, ..Settings::default() };
        let (out, put) = run(&e, &settings);
        let (response, summary) = out.unwrap();
        let got: Vec<_> = results(&response).into_iter().map(|(_, r, _)| r).collect();
        assert_eq!(got, [Kept, Kept, Dropped, Failed, Kept]);
        assert_eq!(put, [big('c')]);
        assert_eq!(summary.overflowed, 1);
        assert!(serde_json::to_vec(&response).unwrap().len() <= 8_600);
    }

    #[test]
    fn reingesting_without_a_stream_is_an_error() {
        let mut e = event(&[b"split:a,b".to_vec()]);
        e.delivery_stream_arn.clear();
        assert!(matches!(run(&e, &Settings::default()).0, Err(DeliveryError::PutRefused(_))));
    }

    proptest! {
        #[test]
        fn response_fits_and_nothing_is_lost(sizes in proptest::collection::vec(0_usize..4_000, 0..40), max in 200_usize..40_000) {
            let data: Vec<Vec<u8>> = sizes.iter().enumerate().map(|(i, n)| format!("{i}:{}", "x".repeat(*n)).into_bytes()).collect();
            let (out, put) = run(&event(&data), &Settings { max_response_bytes: max, ..Settings::default() });
            let (response, summary) = out.unwrap();
            let bytes = serde_json::to_vec(&response).unwrap();
            prop_assert!(bytes.len() <= max.max(summary.response_bytes));
            prop_assert_eq!(summary.response_bytes, bytes.len());
            let ids: Vec<_> = response.records.iter().map(|r| r.record_id.clone()).collect();
            prop_assert_eq!(ids, (0..data.len()).map(|i| format!("r{i}")).collect::<Vec<_>>());
            // Every record is kept, re-ingested whole, or failed as too large for any response.
            let mut reingested = put.into_iter();
            for (r, original) in response.records.iter().zip(&data) {
                match r.result {
                    RecordResult::Ok => {}
                    RecordResult::Dropped => prop_assert_eq!(reingested.next(), Some(original.clone())),
                    RecordResult::ProcessingFailed => {
                        let doc_len = original.len() + 8; // {"n":"…"}
                        let entry = ResponseRecord::serialised_len(&r.record_id, RecordResult::Ok, doc_len.div_ceil(3) * 4);
                        prop_assert!(EMPTY_RESPONSE_LEN + entry > max);
                    }
                }
            }
            prop_assert!(reingested.next().is_none());
        }
    }
}
