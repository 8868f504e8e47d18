//! The invocation: which event it is, one document per finding, the filters, delivery.

use std::borrow::Cow;

use chrono::{SecondsFormat, Utc};
use lambda_runtime::LambdaEvent;

use seclog_core::deadletter::{DeadLetters, Failure};
use seclog_core::document::{digest_id, Document, Origin};
use seclog_core::envelope::eventbridge::EventBridgeEvent;
use seclog_core::sink::firehose::{FirehoseSink, RecordSink};
use seclog_core::sink::opensearch::OpenSearchSink;
use seclog_core::sink::{BulkSink, DeliveryReport};
use seclog_core::telemetry::InvocationSummary;
use seclog_core::{DeliveryError, RecordError};
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::time::Instant;

use crate::config::Config;
use crate::finding::{Format, DATASET};
use crate::transform::prepare;

/// Where documents go.
#[derive(Debug)]
pub enum Delivery<S, R> {
    /// `_bulk`, with external versioning.
    Bulk(S),
    /// `PutRecordBatch` into a Firehose stream (which assigns its own document ids).
    Firehose {
        /// The stream.
        stream: String,
        /// The client.
        sink: R,
    },
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
    /// The time of failure written into dead-letter documents (fixed in golden tests).
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
                Delivery::Firehose { stream: stream.clone(), sink: FirehoseSink::from_environment().await }
            }
            (None, Some(c)) => Delivery::Bulk(OpenSearchSink::connect(c.clone()).await?),
            (None, None) => {
                return Err(DeliveryError::NotConfigured("OPENSEARCH_ENDPOINT or DELIVERY_STREAM_NAME".into()))
            }
        };
        Ok(Self::new(delivery, config).with_enricher(seclog_enrich::Enricher::from_env()))
    }
}

impl<S: BulkSink, R: RecordSink> Deps<S, R> {
    /// Dependencies around a delivery, without enrichment lookups.
    pub fn new(delivery: Delivery<S, R>, config: Config) -> Self {
        let prefix = config.opensearch.as_ref().map_or("seclog", |c| c.deadletter_prefix.as_str());
        let deadletters = DeadLetters::new(prefix)
            .unwrap_or_else(|_| unreachable!("the prefix was validated with the configuration"));
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

/// What an event holds.
enum Findings<'a> {
    /// Findings to write, in their format.
    Some(Format, Vec<&'a RawValue>),
    /// An event of a kind that carries no findings (`Security Hub Insight Results`): skipped.
    Skipped,
}

#[derive(Deserialize)]
struct Detail<'a> {
    #[serde(borrow)]
    findings: Option<Vec<&'a RawValue>>,
}

/// Which findings `event` carries.
fn findings<'a>(event: &EventBridgeEvent<'a>) -> Result<Findings<'a>, RecordError> {
    let (source, kind) = (&*event.source, &*event.detail_type);
    let detail = || event.detail.ok_or_else(|| RecordError::new("missing_field", "the event has no detail"));
    match source {
        "aws.securityhub" if kind.starts_with("Security Hub Findings") => {
            let detail: Detail<'a> = serde_json::from_str(detail()?.get())
                .map_err(|e| RecordError::json("bad_event", "detail is not an object of findings", &e))?;
            let findings = detail
                .findings
                .ok_or_else(|| RecordError::new("missing_field", "detail.findings is missing or null"))?;
            Ok(Findings::Some(Format::Asff, findings))
        }
        "aws.securityhub" => Ok(Findings::Skipped),
        "aws.guardduty" if kind == "GuardDuty Finding" => Ok(Findings::Some(Format::GuardDuty, vec![detail()?])),
        _ => Err(RecordError::new(
            "unsupported_event",
            format!(
                "source `{}` with detail-type `{}` is neither Security Hub findings nor a GuardDuty finding",
                seclog_core::json::shorten(source),
                seclog_core::json::shorten(kind)
            ),
        )),
    }
}

/// Processes one event: one document per finding kept by the filters, the others dropped, and
/// anything that cannot be indexed dead-lettered with its raw JSON and the reason.
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
    let started = std::time::Instant::now();
    let mut summary = InvocationSummary { dataset: DATASET, ..InvocationSummary::default() };
    let now = (deps.clock)();
    let ingested = now.to_rfc3339_opts(SecondsFormat::Millis, true);
    let whole = |e: &RecordError, id: &str| {
        let origin = Origin {
            dataset: DATASET,
            record_id: Cow::Owned(if id.is_empty() {
                format!("event-{}", digest_id(event.get()))
            } else {
                id.to_owned()
            }),
            raw: Cow::Borrowed(event.get()),
        };
        deps.deadletters.document(
            origin,
            &Failure { error_type: e.kind, reason: &e.reason, status: None, intended_index: None },
            now,
        )
    };
    let parsed: Result<EventBridgeEvent<'_>, _> = serde_json::from_str(event.get());
    let docs = match parsed {
        Err(e) => {
            summary.received = 1;
            vec![whole(&RecordError::json("bad_event", "not an EventBridge event", &e), "")]
        }
        Ok(ev) => match findings(&ev) {
            Err(e) => {
                summary.received = 1;
                tracing::warn!(error_type = e.kind, at = %e.loggable_position(), "Event dead-lettered.");
                vec![whole(&e, &ev.id)]
            }
            Ok(Findings::Skipped) => {
                summary.received = 1;
                summary.drop("detail_type", 1);
                Vec::new()
            }
            Ok(Findings::Some(format, findings)) => {
                summary.received = findings.len();
                let mut docs = Vec::with_capacity(findings.len());
                for (i, raw) in findings.into_iter().enumerate() {
                    let origin = Origin {
                        dataset: DATASET,
                        record_id: Cow::Owned(format!("{}/{i}", ev.id)),
                        raw: Cow::Borrowed(raw.get()),
                    };
                    match prepare(
                        raw,
                        format,
                        &deps.config.index_prefix,
                        deps.config.window,
                        origin.clone(),
                        &deps.enricher,
                        &ingested,
                    ) {
                        Ok(p) if deps.config.filters.keep(&p.facts) => docs.push(p.document),
                        Ok(_) => summary.drop("filter", 1),
                        Err(e) => {
                            let failure =
                                Failure { error_type: e.kind, reason: &e.reason, status: None, intended_index: None };
                            docs.push(deps.deadletters.document(origin, &failure, now));
                        }
                    }
                }
                docs
            }
        },
    };
    if !docs.is_empty() {
        match deliver(&deps.delivery, docs, deadline).await {
            Ok(report) => summary.add_delivery(&report),
            Err(e) => {
                summary.failed = 1;
                summary.emit(started.elapsed());
                return Err(e);
            }
        }
    }
    summary.emit(started.elapsed());
    Ok(summary)
}

/// Delivers through `_bulk`, or puts the bodies (dead letters too: the stream is the only way
/// out) into the Firehose stream.
async fn deliver<S: BulkSink, R: RecordSink>(
    delivery: &Delivery<S, R>,
    docs: Vec<Document<'_>>,
    deadline: Instant,
) -> Result<DeliveryReport, DeliveryError> {
    match delivery {
        Delivery::Bulk(sink) => sink.deliver(docs, deadline).await,
        Delivery::Firehose { stream, sink } => {
            let dead_lettered = docs.iter().filter(|d| d.dead_letter).count();
            let indexed = docs.len() - dead_lettered;
            let bytes_sent = docs.iter().map(|d| d.body.len()).sum();
            let report = sink.put(stream, docs.into_iter().map(|d| d.body).collect(), deadline).await?;
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
}
