//! The invocation: which trigger sent the event, then the shared step for that trigger.

use chrono::Utc;
use lambda_runtime::LambdaEvent;
use seclog_core::deadletter::DeadLetters;
use seclog_core::envelope::cloudwatch_logs::{AwsLogs, CloudWatchLogsEvent};
use seclog_core::envelope::firehose::{FirehoseEvent, FirehoseRecord, FirehoseResponse};
use seclog_core::firehose;
use seclog_core::pipeline::Pipeline;
use seclog_core::sink::delivery_stream::{FirehoseSink, RecordSink};
use seclog_core::sink::opensearch::OpenSearchSink;
use seclog_core::sink::BulkSink;
use seclog_core::subscription;
use seclog_core::telemetry::InvocationSummary;
use seclog_core::DeliveryError;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::config::Config;
use crate::transform::Route53Transform;

/// What the function can be sent.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "AnyEvent")]
pub enum Route53Event {
    /// A Firehose data-transformation request (Resolver query logs delivered to Firehose).
    Firehose(FirehoseEvent),
    /// A `CloudWatch` Logs subscription event (public query logs, or Resolver query logs
    /// delivered to `CloudWatch` Logs).
    Logs(CloudWatchLogsEvent),
}

/// Both envelopes' members, to tell them apart without parsing the event twice.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AnyEvent {
    awslogs: Option<AwsLogs>,
    records: Option<Vec<FirehoseRecord>>,
    #[serde(default)]
    invocation_id: String,
    #[serde(default)]
    delivery_stream_arn: String,
    #[serde(default)]
    region: String,
}

/// An event of neither shape the function reads.
#[derive(Debug, thiserror::Error)]
#[error(
    "the event is neither a Firehose transformation request (`records`) nor a CloudWatch Logs subscription event \
     (`awslogs`)"
)]
pub struct NotARoute53Event;

impl TryFrom<AnyEvent> for Route53Event {
    type Error = NotARoute53Event;
    fn try_from(e: AnyEvent) -> Result<Self, NotARoute53Event> {
        match (e.awslogs, e.records) {
            (Some(awslogs), None) => Ok(Self::Logs(CloudWatchLogsEvent { awslogs })),
            (None, Some(records)) => Ok(Self::Firehose(FirehoseEvent {
                invocation_id: e.invocation_id,
                delivery_stream_arn: e.delivery_stream_arn,
                region: e.region,
                records,
            })),
            _ => Err(NotARoute53Event),
        }
    }
}

/// What the function answers: Firehose's response, or the summary of a subscription event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Route53Response {
    /// Every `recordId` with its result.
    Firehose(FirehoseResponse),
    /// What the subscription event became.
    Logs(InvocationSummary),
}

/// What an invocation needs, built once per container.
#[derive(Debug)]
pub struct Deps<S, R> {
    /// Where `CloudWatch` Logs documents go; `None` serves Firehose only.
    pub sink: Option<S>,
    /// Where Firehose records that must be re-ingested go.
    pub reingest: R,
    /// Record → document.
    pub transform: Route53Transform,
    /// Dead-letter documents for `CloudWatch` Logs messages that cannot be indexed.
    pub deadletters: DeadLetters,
    /// Settings.
    pub config: Config,
    /// When the function reads an event: `event.ingested` of the documents it writes itself, and
    /// the time of its dead letters (fixed in golden tests).
    pub clock: fn() -> chrono::DateTime<Utc>,
}

impl Deps<OpenSearchSink, FirehoseSink> {
    /// Builds the real dependencies: the sinks, the enrichment data (`ENRICH_DATA_DIR`) and the
    /// rules.
    ///
    /// # Errors
    /// When a sink cannot be built or the rules cannot be loaded.
    pub async fn init(config: Config) -> Result<Self, lambda_runtime::Error> {
        let rules =
            std::sync::Arc::new(seclog_rules::RuleSet::load_for(&config.rules, &[seclog_rules::LogSource::Dns])?);
        let enricher = seclog_enrich::Enricher::from_env();
        let sink = match config.opensearch.clone() {
            Some(c) => Some(OpenSearchSink::connect(c).await?),
            None => None,
        };
        let reingest = FirehoseSink::from_environment().await;
        Ok(Self::new(sink, reingest, config).map_transform(|t| t.with_enricher(enricher).with_rules(rules)))
    }
}

impl<S: BulkSink, R: RecordSink> Deps<S, R> {
    /// Dependencies around any sinks, without enrichment lookups.
    pub fn new(sink: Option<S>, reingest: R, config: Config) -> Self {
        let deadletters = config.opensearch.as_ref().map_or_else(DeadLetters::default, |c| c.deadletters.clone());
        let transform = Route53Transform::new(config.resolver_index.clone(), config.public_index.clone());
        Self { sink, reingest, transform, deadletters, config, clock: Utc::now }
    }

    /// The same dependencies, with `f`'s transform: one given the rules, the enrichment.
    #[must_use]
    pub fn map_transform(self, f: impl FnOnce(Route53Transform) -> Route53Transform) -> Self {
        Self { transform: f(self.transform), ..self }
    }
}

/// The Lambda entry point.
///
/// # Errors
/// See [`process`].
#[tracing::instrument(skip_all, fields(request_id = %event.context.request_id))]
pub async fn handle<S: BulkSink, R: RecordSink>(
    event: LambdaEvent<Route53Event>,
    deps: &Deps<S, R>,
) -> Result<Route53Response, DeliveryError> {
    let deadline = seclog_core::lambda::deadline_of(event.context.deadline, deps.config.deadline_margin);
    process(&event.payload, deps, deadline).await
}

/// Processes one event of either trigger.
///
/// # Errors
/// A [`DeliveryError`] when documents (`CloudWatch` Logs) or re-ingested records (Firehose) could
/// not be delivered in time, so that the invocation is retried; `NotConfigured` for a `CloudWatch`
/// Logs event when no `OpenSearch` endpoint is configured.
pub async fn process<S: BulkSink, R: RecordSink>(
    event: &Route53Event,
    deps: &Deps<S, R>,
    deadline: Instant,
) -> Result<Route53Response, DeliveryError> {
    match event {
        Route53Event::Firehose(request) => {
            let (response, _) =
                firehose::process(request, &deps.transform, &deps.reingest, &deps.config.settings, deadline).await?;
            Ok(Route53Response::Firehose(response))
        }
        Route53Event::Logs(logs) => {
            let sink = deps.sink.as_ref().ok_or_else(|| {
                DeliveryError::NotConfigured(
                    "a CloudWatch Logs event needs OPENSEARCH_ENDPOINT; this function serves Firehose only",
                )
            })?;
            let pipeline =
                Pipeline { sink, transform: &deps.transform, deadletters: &deps.deadletters, clock: deps.clock };
            let max_decoded_bytes = deps.config.settings.max_decoded_bytes;
            subscription::process(logs, &pipeline, max_decoded_bytes, deadline).await.map(Route53Response::Logs)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_told_apart_by_shape() {
        let logs: Route53Event = serde_json::from_str(r#"{"awslogs":{"data":"H4sI"}}"#).unwrap();
        assert!(matches!(logs, Route53Event::Logs(_)));
        let firehose: Route53Event = serde_json::from_str(
            r#"{"invocationId":"i","deliveryStreamArn":"arn:aws:firehose:us-east-1:1:deliverystream/s","region":"us-east-1",
                "records":[{"recordId":"1","approximateArrivalTimestamp":1,"data":"e30="}],"extra":true}"#,
        )
        .unwrap();
        assert!(matches!(firehose, Route53Event::Firehose(ref f) if f.records.len() == 1 && f.region == "us-east-1"));
        for neither in ["{}", r#"{"awslogs":{"data":"x"},"records":[]}"#, r#"{"detail":{}}"#] {
            let e = serde_json::from_str::<Route53Event>(neither).unwrap_err().to_string();
            assert!(e.starts_with("the event is neither a Firehose transformation request"), "{e}");
        }
        assert!(serde_json::from_str::<Route53Event>(r#"{"records":[{"recordId":1}]}"#).is_err());
    }
}
