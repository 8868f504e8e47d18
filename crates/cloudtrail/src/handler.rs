//! The invocation: decode the subscription event, transform each log event, deliver.

use std::borrow::Cow;

use chrono::Utc;
use lambda_runtime::LambdaEvent;
use seclog_core::deadletter::{DeadLetters, Failure};
use seclog_core::document::{digest_id, Document, Origin};
use seclog_core::envelope::cloudwatch_logs::{self, CloudWatchLogsEvent, MessageType};
pub use seclog_core::lambda::deadline_of;
use seclog_core::sink::opensearch::OpenSearchSink;
use seclog_core::sink::BulkSink;
use seclog_core::telemetry::{self, InvocationSummary};
use seclog_core::DeliveryError;
use tokio::time::Instant;

use crate::config::{Config, FunctionConfig};
use crate::transform::{Transformer, DATASET};

/// What an invocation needs, built once per container.
#[derive(Debug)]
pub struct Deps<S> {
    /// Where documents go.
    pub sink: S,
    /// Record → document.
    pub transformer: Transformer,
    /// Dead-letter documents for records that cannot be indexed.
    pub deadletters: DeadLetters,
    /// Function settings.
    pub config: FunctionConfig,
    /// The time of failure written into dead-letter documents (fixed in golden tests).
    pub clock: fn() -> chrono::DateTime<Utc>,
}

impl Deps<OpenSearchSink> {
    /// Builds the real dependencies.
    ///
    /// # Errors
    /// When the sink cannot be built.
    pub async fn init(config: Config) -> Result<Self, DeliveryError> {
        let sink = OpenSearchSink::connect(config.opensearch).await?;
        let deadletters = sink.deadletters().clone();
        Ok(Self::new(sink, deadletters, config.function))
    }
}

impl<S: BulkSink> Deps<S> {
    /// Dependencies around any sink, without enrichment lookups.
    pub fn new(sink: S, deadletters: DeadLetters, config: FunctionConfig) -> Self {
        Self { sink, transformer: Transformer::new(config.index.clone()), deadletters, config, clock: Utc::now }
    }

    /// The same dependencies, enriching source addresses with `enricher`.
    #[must_use]
    pub fn with_enricher(self, enricher: std::sync::Arc<seclog_enrich::Enricher>) -> Self {
        Self { transformer: self.transformer.with_enricher(enricher), ..self }
    }
}

/// The Lambda entry point.
///
/// # Errors
/// A [`DeliveryError`] when documents could not be delivered within the time left; Lambda then
/// retries the invocation (document ids are deterministic, so that is safe).
#[tracing::instrument(skip_all, fields(request_id = %event.context.request_id))]
pub async fn handle<S: BulkSink>(
    event: LambdaEvent<CloudWatchLogsEvent>,
    deps: &Deps<S>,
) -> Result<InvocationSummary, DeliveryError> {
    let deadline = deadline_of(event.context.deadline, deps.config.deadline_margin);
    process(&event.payload, deps, deadline).await
}

/// Processes one subscription event. Used by [`handle`], `seclog replay` and the tests.
///
/// # Errors
/// See [`handle`].
pub async fn process<S: BulkSink>(
    event: &CloudWatchLogsEvent,
    deps: &Deps<S>,
    deadline: Instant,
) -> Result<InvocationSummary, DeliveryError> {
    let started = std::time::Instant::now();
    let mut summary = InvocationSummary { dataset: DATASET, ..InvocationSummary::default() };
    let bytes = match cloudwatch_logs::decode(event, deps.config.max_decoded_bytes) {
        Ok(bytes) => bytes,
        Err(e) => return undecodable(event, deps, deadline, &e, summary, started).await,
    };
    let payload = match cloudwatch_logs::parse(&bytes) {
        Ok(payload) => payload,
        Err(e) => return undecodable(event, deps, deadline, &e, summary, started).await,
    };
    summary.received = payload.log_events.len();
    if payload.message_type != MessageType::DataMessage {
        summary.dropped = payload.log_events.len();
        summary.emit(started.elapsed());
        return Ok(summary);
    }
    let now = (deps.clock)();
    let docs: Vec<Document<'_>> = payload
        .log_events
        .iter()
        .map(|ev| {
            let origin =
                Origin { dataset: DATASET, record_id: Cow::Borrowed(&*ev.id), raw: Cow::Borrowed(&*ev.message) };
            deps.transformer.transform(&ev.message, origin.clone()).unwrap_or_else(|e| {
                let failure = Failure { error_type: e.kind, reason: &e.reason, status: None, intended_index: None };
                deps.deadletters.document(origin, &failure, now)
            })
        })
        .collect();
    if docs.is_empty() {
        summary.emit(started.elapsed());
        return Ok(summary);
    }
    finish(deps.sink.deliver(docs, deadline).await, summary, started)
}

/// Retrying cannot fix an undecodable payload: it is dead-lettered whole, with the reason, and
/// the invocation succeeds.
async fn undecodable<S: BulkSink>(
    event: &CloudWatchLogsEvent,
    deps: &Deps<S>,
    deadline: Instant,
    error: &seclog_core::DecodeError,
    mut summary: InvocationSummary,
    started: std::time::Instant,
) -> Result<InvocationSummary, DeliveryError> {
    telemetry::payload_undecodable(error.kind(), error);
    summary.received = 1;
    let origin = Origin {
        dataset: DATASET,
        record_id: Cow::Owned(format!("payload-{}", digest_id(&event.awslogs.data))),
        raw: Cow::Borrowed(&event.awslogs.data),
    };
    let reason = error.to_string();
    let failure = Failure { error_type: error.kind(), reason: &reason, status: None, intended_index: None };
    let doc = deps.deadletters.document(origin, &failure, (deps.clock)());
    finish(deps.sink.deliver(vec![doc], deadline).await, summary, started)
}

fn finish(
    result: Result<seclog_core::sink::DeliveryReport, DeliveryError>,
    mut summary: InvocationSummary,
    started: std::time::Instant,
) -> Result<InvocationSummary, DeliveryError> {
    let report = result?;
    summary.indexed = report.indexed;
    summary.already_present = report.already_present;
    summary.dead_lettered = report.dead_lettered;
    summary.retried = report.retried;
    summary.bulk_requests = report.bulk_requests;
    summary.bytes_sent = report.bytes_sent;
    summary.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    summary.emit(started.elapsed());
    Ok(summary)
}
