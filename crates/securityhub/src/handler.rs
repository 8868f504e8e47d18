//! The invocation: the shared `EventBridge` step with the findings an event carries, the filters,
//! and delivery through `_bulk` or a Firehose stream.

use chrono::Utc;
use lambda_runtime::LambdaEvent;

use seclog_core::deadletter::DeadLetters;
use seclog_core::document::{Document, Origin};
use seclog_core::envelope::eventbridge::EventBridgeEvent;
use seclog_core::eventbridge::{self, EventBridgeTransform, Outcome, Records};
use seclog_core::pipeline::Pipeline;
use seclog_core::sink::delivery_stream::{FirehoseSink, RecordSink, StreamSink};
use seclog_core::sink::opensearch::OpenSearchSink;
use seclog_core::sink::{BulkSink, DeliveryReport};
use seclog_core::telemetry::InvocationSummary;
use seclog_core::{DeliveryError, DropRule, RecordError};
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::time::Instant;

use crate::config::Config;
use crate::finding::{Format, DATASET};
use crate::transform::prepare;
use seclog_core::RecordKind;

/// Where documents go.
#[derive(Debug)]
pub enum Delivery<S, R> {
    /// `_bulk`, with external versioning.
    Bulk(S),
    /// `PutRecordBatch` into a Firehose stream (which assigns its own document ids).
    Firehose(StreamSink<R>),
}

impl<S: BulkSink, R: RecordSink> BulkSink for Delivery<S, R> {
    async fn deliver(&self, docs: Vec<Document<'_>>, deadline: Instant) -> Result<DeliveryReport, DeliveryError> {
        match self {
            Self::Bulk(sink) => sink.deliver(docs, deadline).await,
            Self::Firehose(stream) => stream.deliver(docs, deadline).await,
        }
    }
}

/// What an invocation needs, built once per container.
#[derive(Debug)]
pub struct Deps<S, R> {
    /// Where documents go.
    pub delivery: Delivery<S, R>,
    /// Dead-letter documents for events and findings that cannot be indexed.
    pub deadletters: DeadLetters,
    /// GeoIP, ASN and AWS-range lookups of source addresses.
    pub enricher: std::sync::Arc<seclog_enrich::Enricher>,
    /// Settings.
    pub config: Config,
    /// When the function reads an event: `event.ingested` of the documents it writes itself, and
    /// the time of its dead letters (fixed in golden tests).
    pub clock: fn() -> chrono::DateTime<Utc>,
}

impl Deps<OpenSearchSink, FirehoseSink> {
    /// Builds the real dependencies: where findings go, and the enrichment data
    /// (`ENRICH_DATA_DIR`).
    ///
    /// # Errors
    /// When the sink cannot be built.
    pub async fn init(config: Config) -> Result<Self, DeliveryError> {
        let delivery = match (&config.delivery_stream, &config.opensearch) {
            (Some(stream), _) => {
                Delivery::Firehose(StreamSink { stream: stream.clone(), sink: FirehoseSink::from_environment().await })
            }
            (None, Some(c)) => Delivery::Bulk(OpenSearchSink::connect(c.clone()).await?),
            (None, None) => return Err(DeliveryError::NotConfigured("OPENSEARCH_ENDPOINT or DELIVERY_STREAM_NAME")),
        };
        Ok(Self::new(delivery, config).with_enricher(seclog_enrich::Enricher::from_env()))
    }
}

impl<S: BulkSink, R: RecordSink> Deps<S, R> {
    /// Dependencies around a delivery, without enrichment lookups.
    pub fn new(delivery: Delivery<S, R>, config: Config) -> Self {
        let deadletters = config.opensearch.as_ref().map_or_else(DeadLetters::default, |c| c.deadletters.clone());
        Self {
            delivery,
            deadletters,
            enricher: std::sync::Arc::new(seclog_enrich::Enricher::disabled()),
            config,
            clock: Utc::now,
        }
    }

    /// The same dependencies, enriching source addresses with `enricher`.
    #[must_use]
    pub fn with_enricher(self, enricher: std::sync::Arc<seclog_enrich::Enricher>) -> Self {
        Self { enricher, ..self }
    }
}

/// The Lambda entry point.
///
/// # Errors
/// See [`process`].
#[tracing::instrument(skip_all, fields(request_id = %event.context.request_id))]
pub async fn handle<S: BulkSink, R: RecordSink>(
    event: LambdaEvent<Box<RawValue>>,
    deps: &Deps<S, R>,
) -> Result<InvocationSummary, DeliveryError> {
    let deadline = seclog_core::lambda::deadline_of(event.context.deadline, deps.config.deadline_margin);
    process(&event.payload, deps, deadline).await
}

/// The findings of an event, as the `EventBridge` step reads them.
struct Findings<'d> {
    config: &'d Config,
    enricher: &'d seclog_enrich::Enricher,
}

#[derive(Deserialize)]
struct Detail<'a> {
    #[serde(borrow)]
    findings: Option<Vec<&'a RawValue>>,
}

impl EventBridgeTransform for Findings<'_> {
    type Kind = Format;

    fn dataset(&self) -> &'static str {
        DATASET
    }

    /// Security Hub's `detail.findings[]` (ASFF) or GuardDuty's `detail`; other Security Hub
    /// events carry none (`detail_type`); other sources are dead-lettered (`unsupported_event`).
    fn records<'e>(&self, event: &EventBridgeEvent<'e>) -> Result<Records<'e, Format>, RecordError> {
        let (source, kind) = (&*event.source, &*event.detail_type);
        let detail =
            || event.detail.ok_or_else(|| RecordError::new(RecordKind::MissingField, "the event has no detail"));
        match source {
            "aws.securityhub" if kind.starts_with("Security Hub Findings") => {
                let detail: Detail<'e> = serde_json::from_str(detail()?.get())
                    .map_err(|e| RecordError::json(RecordKind::BadEvent, "detail is not an object of findings", &e))?;
                let findings = detail
                    .findings
                    .ok_or_else(|| RecordError::new(RecordKind::MissingField, "detail.findings is missing or null"))?;
                Ok(Records::Some(Format::Asff, findings))
            }
            "aws.securityhub" => Ok(Records::Skipped(DropRule::DetailType)),
            "aws.guardduty" if kind == "GuardDuty Finding" => Ok(Records::Some(Format::GuardDuty, vec![detail()?])),
            _ => Err(RecordError::new(
                RecordKind::UnsupportedEvent,
                format!(
                    "source `{}` with detail-type `{}` is neither Security Hub findings nor a GuardDuty finding",
                    seclog_core::json::shorten(source),
                    seclog_core::json::shorten(kind)
                ),
            )),
        }
    }

    /// The finding's document, or dropped by the filters (`filter`).
    fn transform<'e>(
        &self,
        format: Format,
        record: &'e RawValue,
        origin: Origin<'e>,
        ingested: &str,
    ) -> Result<Outcome<'e>, RecordError> {
        let c = self.config;
        let p = prepare(record, format, &c.index_prefix, c.window, origin, self.enricher, ingested)?;
        Ok(if c.filters.keep(&p.facts) { Outcome::Document(p.document) } else { Outcome::Dropped(DropRule::Filter) })
    }
}

/// Processes one event: one document per finding kept by the filters, the others dropped, and
/// dead letters for what cannot be indexed ([`seclog_core::eventbridge`]).
///
/// # Errors
/// A [`DeliveryError`] when documents could not be delivered within the time left: `EventBridge`
/// retries the event (and finally sends it to the target's dead-letter queue). Redelivery is
/// safe: ids are digests of finding ids and versions their `UpdatedAt`.
pub async fn process<S: BulkSink, R: RecordSink>(
    event: &RawValue,
    deps: &Deps<S, R>,
    deadline: Instant,
) -> Result<InvocationSummary, DeliveryError> {
    let transform = Findings { config: &deps.config, enricher: &deps.enricher };
    let pipeline =
        Pipeline { sink: &deps.delivery, transform: &transform, deadletters: &deps.deadletters, clock: deps.clock };
    eventbridge::process(event, &pipeline, deadline).await
}
