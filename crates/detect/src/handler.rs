//! One run: search the window for rule matches and bursts, raise the alerts that do not exist yet,
//! then send the alerts not yet sent. `OpenSearch` is the only state: an alert exists or not (ids
//! are deterministic, alerts are created with `create`), and it records where it was sent
//! (`alert.notified_to`, then `alert.notified_at` once every destination took it), each mark made
//! with optimistic concurrency after the destination accepted the message.

use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use seclog_core::client::{Client, ClientError};
use seclog_core::document::{Document, Origin, WriteOp};
use seclog_core::sink::opensearch::config::OpenSearchConfig;
use seclog_core::sink::opensearch::signing::Signer;
use seclog_core::sink::opensearch::OpenSearchSink;
use seclog_core::sink::BulkSink;
use seclog_core::DeliveryError;
use seclog_rules::{Level, RuleSet};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::config::DetectConfig;
use crate::find::{self, hits};
use crate::notify::Notifier;
use crate::transform::Alert;

/// What a run needs, built once per container.
#[derive(Debug)]
pub struct Deps<S> {
    /// Where alerts are created.
    pub sink: S,
    /// Searches and updates.
    pub client: Client,
    /// The rules whose matches become alerts.
    pub rules: Arc<RuleSet>,
    /// The alerter's settings.
    pub config: DetectConfig,
    /// Sends messages.
    pub notifier: Notifier,
}

/// Why the alerter could not start.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The sink.
    #[error("the alerts sink")]
    Sink(#[from] DeliveryError),
    /// The search client.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The notifier's HTTP client.
    #[error("the notifier's HTTP client")]
    Http(#[from] reqwest::Error),
    /// The Slack webhook's secret could not be read.
    #[error("the Slack webhook secret could not be read")]
    SecretUnreadable(
        #[source]
        Box<
            aws_sdk_secretsmanager::error::SdkError<
                aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError,
            >,
        >,
    ),
    /// The secret is JSON without a string `url`.
    #[error("the Slack webhook secret: a JSON secret needs a string `url`")]
    SecretWithoutUrl,
    /// The secret does not hold a webhook URL (its value is never repeated).
    #[error("the Slack webhook secret")]
    SecretNotAWebhook(#[source] crate::config::WebhookError),
}

/// The Slack webhook's URL from its secret: the secret string is the URL, or a JSON object with
/// `url`. An empty secret (as the CDK app creates it) sends nothing to Slack, with a warning.
///
/// # Errors
/// [`InitError::SecretUnreadable`], [`InitError::SecretWithoutUrl`], [`InitError::SecretNotAWebhook`].
pub async fn slack_from_secret(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
) -> Result<Option<url::Url>, InitError> {
    let secret =
        client.get_secret_value().secret_id(arn).send().await.map_err(|e| InitError::SecretUnreadable(Box::new(e)))?;
    let text = secret.secret_string().unwrap_or_default().trim();
    if text.is_empty() {
        tracing::warn!(
            "The Slack webhook secret is empty: alerts are not sent to Slack until it holds the webhook's URL."
        );
        return Ok(None);
    }
    let value = if text.starts_with('{') {
        serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| v["url"].as_str().map(str::to_owned))
            .ok_or(InitError::SecretWithoutUrl)?
    } else {
        text.to_owned()
    };
    crate::config::webhook_url(&value).map(Some).map_err(InitError::SecretNotAWebhook)
}

impl Deps<OpenSearchSink> {
    /// Builds the real dependencies.
    ///
    /// # Errors
    /// When a client cannot be built.
    pub async fn init(
        opensearch: OpenSearchConfig,
        config: DetectConfig,
        rules: Arc<RuleSet>,
    ) -> Result<Self, InitError> {
        // One signer for searches and writes: one credentials cache, one assumed-role session.
        let signer = Signer::for_auth(&opensearch.auth).await;
        let client = Client::with_signer(opensearch.clone(), signer.clone())?;
        let sink = OpenSearchSink::with_signer(opensearch, signer)?;
        let mut config = config;
        let mut notifier = Notifier::new(std::time::Duration::from_secs(10))?;
        let wants_aws = config.destinations.sns_topic_arn.is_some()
            || (config.destinations.slack.is_none() && config.slack_secret_arn.is_some());
        if wants_aws {
            let sdk = seclog_core::lambda::sdk_config(None).await;
            if config.destinations.sns_topic_arn.is_some() {
                notifier = notifier.with_sns(aws_sdk_sns::Client::new(&sdk));
            }
            if let (None, Some(arn)) = (&config.destinations.slack, &config.slack_secret_arn) {
                config.destinations.slack = slack_from_secret(&aws_sdk_secretsmanager::Client::new(&sdk), arn).await?;
            }
        }
        Ok(Self { sink, client, rules, config, notifier })
    }
}

/// Why a run failed; the next run catches up (its window overlaps this one's).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// `OpenSearch` could not be searched or updated.
    #[error("OpenSearch could not be searched or updated")]
    Search(#[from] ClientError),
    /// Alerts could not be written.
    #[error("alerts could not be written")]
    Deliver(#[from] DeliveryError),
}

impl From<RunError> for lambda_runtime::Diagnostic {
    fn from(e: RunError) -> Self {
        let error_type = match &e {
            RunError::Search(_) => "SearchFailed",
            RunError::Deliver(d) => d.error_type(),
        };
        Self { error_type: error_type.to_owned(), error_message: seclog_core::error::Chain(&e).to_string() }
    }
}

/// An alert this run raised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Raised {
    /// Its id.
    pub id: String,
    /// Its rule's title.
    pub rule: String,
    /// Its rule's level.
    pub level: Level,
    /// Its readable line.
    pub message: String,
}

/// A message this run sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sent {
    /// The alert's id.
    pub alert: String,
    /// Where.
    pub destination: &'static str,
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunReport {
    /// The window searched, by event time.
    pub window: (String, String),
    /// Alerts raised by this run.
    pub raised: Vec<Raised>,
    /// Alerts found again that existed already (an overlapping window, a replay).
    pub already_raised: usize,
    /// Messages sent.
    pub sent: Vec<Sent>,
    /// Sends that failed (retried by the next run), without URLs.
    pub send_failures: Vec<String>,
    /// Alerts waiting to be sent past this run's cap.
    pub waiting: u64,
}

/// One run at `now`: raise, then notify.
///
/// # Errors
/// A [`RunError`] when `OpenSearch` cannot be searched or written; nothing is marked sent that was
/// not sent, and the next run catches up.
pub async fn run<S: BulkSink>(deps: &Deps<S>, now: DateTime<Utc>, deadline: Instant) -> Result<RunReport, RunError> {
    let lookback = chrono::Duration::from_std(deps.config.lookback).unwrap_or(chrono::Duration::minutes(30));
    let start = now - lookback;
    let mut report = RunReport {
        window: (start.to_rfc3339_opts(SecondsFormat::Secs, true), now.to_rfc3339_opts(SecondsFormat::Secs, true)),
        ..RunReport::default()
    };
    let mut alerts = find::event_alerts(deps, start, now).await?;
    alerts.extend(find::threshold_alerts(deps, start, now).await?);
    if deps.config.first_seen {
        alerts.extend(find::first_seen_alerts(deps, start, now).await?);
    }
    alerts.extend(find::finding_alerts(deps, start, now).await?);
    raise(deps, alerts, deadline, &mut report).await?;
    crate::notify::notify(deps, &mut report).await?;
    tracing::info!(
        raised = report.raised.len(),
        already_raised = report.already_raised,
        sent = report.sent.len(),
        send_failures = report.send_failures.len(),
        waiting = report.waiting,
        "Detection run."
    );
    Ok(report)
}

/// Creates the alerts that do not exist yet.
async fn raise<S: BulkSink>(
    deps: &Deps<S>,
    alerts: Vec<Alert>,
    deadline: Instant,
    report: &mut RunReport,
) -> Result<(), RunError> {
    if alerts.is_empty() {
        return Ok(());
    }
    let mut existing: std::collections::HashSet<String> = std::collections::HashSet::new();
    for chunk in alerts.chunks(1000) {
        let ids: Vec<&str> = chunk.iter().map(|a| a.id.as_str()).collect();
        let query = json!({"size": ids.len(), "_source": false, "query": {"ids": {"values": ids}}});
        existing.extend(hits(deps, &deps.config.alerts_pattern(), &query).await?.into_iter().map(|h| h.id));
    }
    let mut docs = Vec::new();
    for alert in alerts {
        // `insert` is false for an alert that exists, or that this run found twice.
        if !existing.insert(alert.id.clone()) {
            report.already_raised += 1;
            continue;
        }
        report.raised.push(Raised {
            id: alert.id.clone(),
            rule: alert.body["rule"]["name"].as_str().unwrap_or_default().to_owned(),
            level: crate::config::parse_level(alert.body["rule"]["level"].as_str().unwrap_or_default())
                .unwrap_or(Level::Medium),
            message: alert.body["message"].as_str().unwrap_or_default().to_owned(),
        });
        let body = serde_json::to_vec(&alert.body).unwrap_or_default();
        let origin = Origin { dataset: "seclog.alerts", record_id: alert.id.clone().into(), raw: String::new().into() };
        docs.push(Document::new(deps.config.alerts_index(alert.time), alert.id, WriteOp::Create, body, origin));
    }
    if !docs.is_empty() {
        let delivered = deps.sink.deliver(docs, deadline).await?;
        report.already_raised += delivered.already_present;
    }
    deps.client
        .call(
            "POST",
            &format!("{}/_refresh?allow_no_indices=true&ignore_unavailable=true", deps.config.alerts_pattern()),
            None,
        )
        .await?;
    Ok(())
}

/// The Lambda entry point: one run at the time of invocation (the scheduler's event is not read).
///
/// # Errors
/// See [`run`]; Lambda retries the asynchronous invocation, and the next run overlaps it anyway.
#[tracing::instrument(skip_all, fields(request_id = %event.context.request_id))]
pub async fn handle<S: BulkSink>(
    event: lambda_runtime::LambdaEvent<Value>,
    deps: &Deps<S>,
) -> Result<RunReport, RunError> {
    let deadline = seclog_core::lambda::deadline_of(event.context.deadline, std::time::Duration::from_secs(5));
    run(deps, Utc::now(), deadline).await
}
