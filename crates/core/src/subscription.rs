//! The `CloudWatch` Logs subscription step, shared by every function a subscription invokes.
//!
//! A function supplies an [`EventTransform`] (one log event → one [`Document`]); [`process`]
//! decodes the event, transforms every log event, dead-letters those the transform refuses (with
//! the raw message and the reason) and delivers everything through a [`BulkSink`]:
//!
//! - a control message is acknowledged and produces nothing;
//! - a payload that cannot be decoded (bad base64, bad gzip, over the decompression cap, not a
//!   subscription payload) is dead-lettered whole, and the invocation succeeds: retrying cannot
//!   fix it;
//! - when documents cannot be delivered within the time left, the invocation fails and Lambda
//!   retries it (document ids are deterministic, so that is safe).

use std::borrow::Cow;

use chrono::SecondsFormat;
use tokio::time::Instant;

use crate::deadletter::Failure;
use crate::document::{digest_id, Document, Origin};
use crate::envelope::cloudwatch_logs::{self, CloudWatchLogsEvent, MessageType};
use crate::pipeline::Pipeline;
use crate::sink::BulkSink;
use crate::telemetry::{self, InvocationSummary};
use crate::DropRule;
use crate::{DecodeError, DeliveryError, RecordError};

/// Where a log event came from, besides its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventContext<'p> {
    /// The account that owns the log group.
    pub owner: &'p str,
    /// The log group.
    pub log_group: &'p str,
    /// The log stream.
    pub log_stream: &'p str,
    /// The event's `CloudWatch` Logs timestamp (epoch milliseconds).
    pub timestamp: i64,
    /// When the function read the event (RFC 3339, milliseconds): the documents' `event.ingested`.
    pub ingested: &'p str,
}

/// One log event's message → one document.
pub trait EventTransform: Sync {
    /// The dataset of the documents (and of dead letters of undecodable payloads).
    fn dataset(&self) -> &'static str;

    /// Transforms one message; `origin` goes into the document as it is.
    ///
    /// # Errors
    /// Why the message cannot be indexed; it is dead-lettered with that reason.
    fn transform<'a>(&self, message: &'a str, origin: Origin<'a>, context: &EventContext<'_>) -> DocumentResult<'a>;
}

/// A message's document, or why it cannot be indexed.
pub type DocumentResult<'a> = Result<Document<'a>, RecordError>;

/// Processes one CloudWatch Logs subscription event: a payload that cannot be decoded (or that
/// decompresses to more than `max_decoded_bytes`) is dead-lettered whole, a control message is
/// dropped by rule, and each log event is indexed or dead-lettered alone.
///
/// # Errors
/// A [`DeliveryError`] when the documents could not be delivered before `deadline`: the
/// subscription delivers the event again.
pub async fn process<S: BulkSink, T: EventTransform>(
    event: &CloudWatchLogsEvent,
    pipeline: &Pipeline<'_, S, T>,
    max_decoded_bytes: usize,
    deadline: Instant,
) -> Result<InvocationSummary, DeliveryError> {
    let started = std::time::Instant::now();
    let dataset = pipeline.transform.dataset();
    let mut summary = InvocationSummary { dataset, ..InvocationSummary::default() };
    let bytes = match cloudwatch_logs::decode(event, max_decoded_bytes) {
        Ok(bytes) => bytes,
        Err(e) => return undecodable(event, pipeline, deadline, &e, summary, started).await,
    };
    let payload = match cloudwatch_logs::parse(&bytes) {
        Ok(payload) => payload,
        Err(e) => return undecodable(event, pipeline, deadline, &e, summary, started).await,
    };
    summary.received = payload.log_events.len();
    match payload.message_type {
        MessageType::DataMessage => {}
        MessageType::ControlMessage => {
            summary.drop(DropRule::ControlMessage, payload.log_events.len());
            summary.emit(started.elapsed());
            return Ok(summary);
        }
        MessageType::Unknown => {
            summary.received = 0;
            let e = DecodeError::UnknownMessageType;
            return undecodable(event, pipeline, deadline, &e, summary, started).await;
        }
    }
    let now = (pipeline.clock)();
    let ingested = now.to_rfc3339_opts(SecondsFormat::Millis, true);
    let docs: Vec<Document<'_>> = payload
        .log_events
        .iter()
        .map(|ev| {
            let origin = Origin { dataset, record_id: Cow::Borrowed(&*ev.id), raw: Cow::Borrowed(&*ev.message) };
            let context = EventContext {
                owner: &payload.owner,
                log_group: &payload.log_group,
                log_stream: &payload.log_stream,
                timestamp: ev.timestamp,
                ingested: &ingested,
            };
            pipeline
                .transform
                .transform(&ev.message, origin.clone(), &context)
                .unwrap_or_else(|e| pipeline.deadletters.document(origin, &Failure::of_record(&e), now))
        })
        .collect();
    summary.deliver(pipeline.sink, docs, deadline, started).await
}

/// Retrying cannot fix an undecodable payload: it is dead-lettered whole, with the reason, and
/// the invocation succeeds.
async fn undecodable<S: BulkSink, T: EventTransform>(
    event: &CloudWatchLogsEvent,
    pipeline: &Pipeline<'_, S, T>,
    deadline: Instant,
    error: &DecodeError,
    mut summary: InvocationSummary,
    started: std::time::Instant,
) -> Result<InvocationSummary, DeliveryError> {
    telemetry::payload_undecodable(error.kind().as_str());
    summary.received = 1;
    let origin = Origin {
        dataset: summary.dataset,
        record_id: Cow::Owned(format!("payload-{}", digest_id(&event.awslogs.data))),
        raw: Cow::Borrowed(&event.awslogs.data),
    };
    let reason = error.to_string();
    let failure = Failure::of(error.kind().as_str(), &reason);
    let doc = pipeline.deadletters.document(origin, &failure, (pipeline.clock)());
    summary.finish(pipeline.sink.deliver(vec![doc], deadline).await, started)
}
