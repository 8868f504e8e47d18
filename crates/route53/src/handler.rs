//! The invocation: which trigger sent the event, then the shared step for that trigger.

use std::time::Duration;

use chrono::Utc;
use lambda_runtime::LambdaEvent;
use seclog_core::config::{ConfigError, Env};
use seclog_core::deadletter::DeadLetters;
use seclog_core::envelope::cloudwatch_logs::{AwsLogs, CloudWatchLogsEvent};
use seclog_core::envelope::firehose::{FirehoseEvent, FirehoseRecord, FirehoseResponse};
use seclog_core::firehose::{self, Settings};
use seclog_core::index::{IndexPattern, Rotation, TimeWindow};
use seclog_core::sink::firehose::{FirehoseSink, RecordSink};
use seclog_core::sink::opensearch::config::OpenSearchConfig;
use seclog_core::sink::opensearch::OpenSearchSink;
use seclog_core::sink::BulkSink;
use seclog_core::subscription::{self, Pipeline};
use seclog_core::telemetry::InvocationSummary;
use seclog_core::DeliveryError;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

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

impl TryFrom<AnyEvent> for Route53Event {
    type Error = String;
    fn try_from(e: AnyEvent) -> Result<Self, String> {
        match (e.awslogs, e.records) {
            (Some(awslogs), None) => Ok(Self::Logs(CloudWatchLogsEvent { awslogs })),
            (None, Some(records)) => Ok(Self::Firehose(FirehoseEvent {
                invocation_id: e.invocation_id,
                delivery_stream_arn: e.delivery_stream_arn,
                region: e.region,
                records,
            })),
            _ => Err("the event is neither a Firehose transformation request (`records`) nor a CloudWatch Logs \
                      subscription event (`awslogs`)"
                .into()),
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

/// The function's configuration, read once at cold start.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `RESOLVER_INDEX_PREFIX` | `route53-resolver` | Resolver logs from `CloudWatch` Logs go to `<prefix>-YYYY.MM.DD` |
/// | `PUBLIC_INDEX_PREFIX` | `route53-public` | public query logs go to `<prefix>-YYYY.MM.DD` |
/// | `INDEX_ROTATION` | `daily` | `daily`, `monthly` or `none` |
/// | `OPENSEARCH_ENDPOINT` | unset | needed for `CloudWatch` Logs events; without it the function serves Firehose only |
///
/// plus the Firehose settings of [`Settings::from_env`] (`MAX_DECODED_BYTES` and
/// `DEADLINE_MARGIN_MS` apply to both triggers) and, with an endpoint, the `OpenSearch` variables
/// of [`seclog_core::sink::opensearch::config`]. Firehose requests never use the endpoint: the
/// delivery stream writes the documents.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where `CloudWatch` Logs documents go, when configured.
    pub opensearch: Option<OpenSearchConfig>,
    /// The index family of Resolver logs (`CloudWatch` Logs path).
    pub resolver_index: IndexPattern,
    /// The index family of public query logs.
    pub public_index: IndexPattern,
    /// The Firehose step's settings.
    pub settings: Settings,
    /// Time kept free before the Lambda deadline.
    pub deadline_margin: Duration,
}

impl Default for Config {
    fn default() -> Self {
        let daily = |prefix| IndexPattern::new(prefix, Rotation::Daily).unwrap_or_else(|_| unreachable!("valid"));
        Self {
            opensearch: None,
            resolver_index: daily("route53-resolver"),
            public_index: daily("route53-public"),
            settings: Settings::default(),
            deadline_margin: seclog_core::config::DEFAULT_DEADLINE_MARGIN,
        }
    }
}

impl Config {
    /// Reads the configuration.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first bad variable.
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let rotation: Rotation = env.parse_or("INDEX_ROTATION", Rotation::Daily)?;
        let window = TimeWindow::from_env(env)?;
        let family = |var: &'static str, default: &str| {
            let prefix = env.get(var).unwrap_or_else(|| default.into());
            let pattern =
                IndexPattern::new(prefix.trim(), rotation).map_err(|reason| ConfigError::Invalid { var, reason });
            pattern.map(|p| p.within(window))
        };
        let (settings, deadline_margin) = Settings::from_env(env)?;
        let opensearch = match env.get("OPENSEARCH_ENDPOINT") {
            Some(_) => Some(OpenSearchConfig::from_env(env)?),
            None => None,
        };
        Ok(Self {
            opensearch,
            resolver_index: family("RESOLVER_INDEX_PREFIX", "route53-resolver")?,
            public_index: family("PUBLIC_INDEX_PREFIX", "route53-public")?,
            settings,
            deadline_margin,
        })
    }
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
    /// The time of failure written into dead-letter documents (fixed in golden tests).
    pub clock: fn() -> chrono::DateTime<Utc>,
}

impl Deps<OpenSearchSink, FirehoseSink> {
    /// Builds the real dependencies.
    ///
    /// # Errors
    /// When the sink cannot be built.
    pub async fn init(config: Config) -> Result<Self, DeliveryError> {
        let sink = match config.opensearch.clone() {
            Some(c) => Some(OpenSearchSink::connect(c).await?),
            None => None,
        };
        let reingest = FirehoseSink::from_environment().await;
        Ok(Self::new(sink, reingest, config))
    }
}

impl<S: BulkSink, R: RecordSink> Deps<S, R> {
    /// Dependencies around any sinks, without enrichment lookups.
    pub fn new(sink: Option<S>, reingest: R, config: Config) -> Self {
        let deadletters =
            DeadLetters::new(config.opensearch.as_ref().map_or("seclog", |c| c.deadletter_prefix.as_str()))
                .unwrap_or_else(|_| unreachable!("the prefix was validated with the configuration"));
        let transform = Route53Transform::new(config.resolver_index.clone(), config.public_index.clone());
        Self { sink, reingest, transform, deadletters, config, clock: Utc::now }
    }

    /// The same dependencies, enriching addresses with `enricher`.
    #[must_use]
    pub fn with_enricher(self, enricher: std::sync::Arc<seclog_enrich::Enricher>) -> Self {
        Self { transform: self.transform.with_enricher(enricher), ..self }
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
                    "a CloudWatch Logs event needs OPENSEARCH_ENDPOINT; this function serves Firehose only".into(),
                )
            })?;
            let pipeline = Pipeline {
                sink,
                transform: &deps.transform,
                deadletters: &deps.deadletters,
                max_decoded_bytes: deps.config.settings.max_decoded_bytes,
                clock: deps.clock,
            };
            subscription::process(logs, &pipeline, deadline).await.map(Route53Response::Logs)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

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

    #[test]
    fn configuration() {
        let mut map: HashMap<String, String> = HashMap::new();
        let c = Config::from_env(&Env::from_map(&map)).unwrap();
        assert!(c.opensearch.is_none());
        assert_eq!((c.resolver_index.prefix(), c.public_index.prefix()), ("route53-resolver", "route53-public"));
        map.insert("PUBLIC_INDEX_PREFIX".into(), "Bad Name".into());
        let e = Config::from_env(&Env::from_map(&map)).unwrap_err();
        assert!(e.to_string().starts_with("PUBLIC_INDEX_PREFIX is invalid"), "{e}");
        map.remove("PUBLIC_INDEX_PREFIX");
        map.insert("OPENSEARCH_ENDPOINT".into(), "https://search.example.com".into());
        map.insert("AWS_REGION".into(), "us-east-1".into());
        assert!(Config::from_env(&Env::from_map(&map)).unwrap().opensearch.is_some());
    }
}
