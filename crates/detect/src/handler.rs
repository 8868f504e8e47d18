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
use seclog_core::sink::opensearch::OpenSearchSink;
use seclog_core::sink::BulkSink;
use seclog_core::DeliveryError;
use seclog_rules::{Level, RuleInfo, RuleSet};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::config::DetectConfig;
use crate::notify::{Destination, Notifier};
use crate::transform::{bursts, event_alert, slack_message, summary_alert, threshold_alert, Alert, Hit};

/// At most this many matches are read for one correlation in one run (memory stays bounded).
pub const MAX_CORRELATION_HITS: usize = 5_000;

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
    #[error(transparent)]
    Sink(#[from] DeliveryError),
    /// The search client.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The notifier's HTTP client.
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    /// The Slack webhook's secret could not be read or does not hold a URL (its value is never
    /// repeated).
    #[error("the Slack webhook secret: {0}")]
    Secret(String),
}

/// The Slack webhook's URL from its secret: the secret string is the URL, or a JSON object with
/// `url`. An empty secret (as the CDK app creates it) sends nothing to Slack, with a warning.
///
/// # Errors
/// [`InitError::Secret`] when the secret cannot be read or holds something else.
pub async fn slack_from_secret(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
) -> Result<Option<url::Url>, InitError> {
    let secret = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| InitError::Secret(aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string()))?;
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
            .ok_or_else(|| InitError::Secret("a JSON secret needs a string `url`".into()))?
    } else {
        text.to_owned()
    };
    crate::config::webhook_url(&value).map(Some).map_err(InitError::Secret)
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
        let client = Client::new(opensearch.clone()).await?;
        let sink = OpenSearchSink::connect(opensearch).await?;
        let mut config = config;
        let mut notifier = Notifier::new(std::time::Duration::from_secs(10))?;
        let wants_aws = config.destinations.sns_topic_arn.is_some()
            || (config.destinations.slack.is_none() && config.destinations.slack_secret_arn.is_some());
        if wants_aws {
            let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
            if config.destinations.sns_topic_arn.is_some() {
                notifier = notifier.with_sns(aws_sdk_sns::Client::new(&sdk));
            }
            if let (None, Some(arn)) = (&config.destinations.slack, &config.destinations.slack_secret_arn) {
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
    #[error("OpenSearch: {0}")]
    Search(#[from] ClientError),
    /// Alerts could not be written.
    #[error("alerts could not be written: {0}")]
    Deliver(#[from] DeliveryError),
}

impl From<RunError> for lambda_runtime::Diagnostic {
    fn from(e: RunError) -> Self {
        let error_type = match &e {
            RunError::Search(_) => "SearchFailed",
            RunError::Deliver(d) => d.error_type(),
        };
        Self { error_type: error_type.to_owned(), error_message: e.to_string() }
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
    let mut alerts = event_alerts(deps, start, now).await?;
    alerts.extend(threshold_alerts(deps, start, now).await?);
    if deps.config.first_seen {
        alerts.extend(first_seen_alerts(deps, start, now).await?);
    }
    alerts.extend(finding_alerts(deps, start, now).await?);
    raise(deps, alerts, deadline, &mut report).await?;
    notify(deps, &mut report).await?;
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

fn window(field: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Value {
    json!({"range": {field: {"gte": from.to_rfc3339_opts(SecondsFormat::Millis, true), "lte": to.to_rfc3339_opts(SecondsFormat::Millis, true)}}})
}

fn hits(answer: &Value) -> Vec<Hit> {
    answer["hits"]["hits"].as_array().map(|a| a.iter().filter_map(Hit::from_search).collect()).unwrap_or_default()
}

/// The rules whose matches raise alerts of their own: at or above `ALERT_MIN_LEVEL`, and not only
/// counted by a correlation (Sigma's `generate: false`).
fn alerting_rules(rules: &RuleSet, min: Level) -> Vec<&RuleInfo> {
    let counted_only = |r: &RuleInfo| {
        rules
            .correlations()
            .iter()
            .any(|c| !c.generate && c.rules.iter().any(|x| *x == r.id || Some(x) == r.name.as_ref()))
    };
    rules.rules().iter().filter(|r| r.level >= min && !counted_only(r)).collect()
}

async fn event_alerts<S>(deps: &Deps<S>, start: DateTime<Utc>, now: DateTime<Utc>) -> Result<Vec<Alert>, ClientError> {
    let rules = alerting_rules(&deps.rules, deps.config.alert_min_level);
    if rules.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    let matched =
        json!({"bool": {"filter": [{"terms": {"detection.rule_ids": ids}}, window("@timestamp", start, now)]}});
    let counts = deps
        .client
        .search(&deps.config.indices, &json!({"size": 0, "query": matched, "aggs": {"rules": {"terms": {"field": "detection.rule_ids", "size": 1000}}}}))
        .await?;
    let cap = deps.config.max_alerts_per_rule;
    let mut alerts = Vec::new();
    for bucket in counts["aggregations"]["rules"]["buckets"].as_array().into_iter().flatten() {
        let (Some(id), Some(total)) = (bucket["key"].as_str(), bucket["doc_count"].as_u64()) else { continue };
        let Some(rule) = rules.iter().find(|r| r.id == id) else { continue };
        let query =
            json!({"bool": {"filter": [{"term": {"detection.rule_ids": id}}, window("@timestamp", start, now)]}});
        let page = deps
            .client
            .search(&deps.config.indices, &json!({"size": cap, "query": query, "sort": [{"@timestamp": "asc"}]}))
            .await?;
        let found = hits(&page);
        alerts.extend(found.iter().filter_map(|h| event_alert(rule, h)));
        if total > found.len() as u64 {
            alerts.push(summary_alert(rule, total, found.len(), start, now));
        }
    }
    Ok(alerts)
}

async fn threshold_alerts<S>(
    deps: &Deps<S>,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<Alert>, ClientError> {
    let mut alerts = Vec::new();
    for correlation in deps.rules.correlations() {
        let ids: Vec<&str> = deps
            .rules
            .rules()
            .iter()
            .filter(|r| correlation.rules.iter().any(|x| *x == r.id || Some(x) == r.name.as_ref()))
            .map(|r| r.id.as_str())
            .collect();
        let span = chrono::Duration::seconds(i64::try_from(correlation.timespan_seconds).unwrap_or(0));
        let from = start - span;
        let query =
            json!({"bool": {"filter": [{"terms": {"detection.rule_ids": ids}}, window("@timestamp", from, now)]}});
        let page = deps
            .client
            .search(
                &deps.config.indices,
                &json!({"size": MAX_CORRELATION_HITS, "query": query, "sort": [{"@timestamp": "asc"}]}),
            )
            .await?;
        let matches = hits(&page);
        if matches.len() < usize::try_from(correlation.threshold).unwrap_or(usize::MAX) {
            continue;
        }
        let earlier = json!({"bool": {"filter": [{"term": {"rule.id": correlation.id}}, window("alert.window_end", from, now + span)]}});
        let earlier =
            deps.client.search(&deps.config.alerts_pattern(), &json!({"size": 1000, "query": earlier})).await?;
        let alerted: Vec<(String, DateTime<Utc>, DateTime<Utc>)> = hits(&earlier)
            .iter()
            .filter_map(|h| {
                let group = h.field("alert.group")?.as_str()?.to_owned();
                let end = DateTime::parse_from_rfc3339(h.field("alert.window_end")?.as_str()?).ok()?.to_utc();
                Some((group, h.time()?, end))
            })
            .collect();
        alerts.extend(bursts(correlation, &matches, &alerted).iter().filter_map(|b| threshold_alert(correlation, b)));
    }
    Ok(alerts)
}

/// At most this many entities (users, principals) are checked against their baseline in one run.
pub const MAX_FIRST_SEEN_ENTITIES: usize = 200;

async fn first_seen_alerts<S>(
    deps: &Deps<S>,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<Alert>, ClientError> {
    let indices = deps.config.cloudtrail_indices();
    let mut alerts = Vec::new();
    for rule in crate::baseline::first_seen_rules() {
        let query = json!({"bool": {"filter": [rule.documents.clone(), window("@timestamp", start, now),
            {"exists": {"field": rule.entity}}, {"exists": {"field": rule.value}}]}});
        let page = deps
            .client
            .search(&indices, &json!({"size": MAX_CORRELATION_HITS, "query": query, "sort": [{"@timestamp": "asc"}]}))
            .await?;
        // The first document of each (entity, value) pair in the window.
        let mut firsts: Vec<(String, String, Hit)> = Vec::new();
        for hit in hits(&page) {
            let (Some(entity), Some(value)) = (hit.field(rule.entity), hit.field(rule.value)) else { continue };
            let (entity, value) = (text_of(entity), text_of(value));
            if !firsts.iter().any(|(e, v, _)| *e == entity && *v == value) {
                firsts.push((entity, value, hit));
            }
        }
        let mut entities: Vec<&str> = Vec::new();
        for (entity, _, _) in &firsts {
            if !entities.contains(&entity.as_str()) && entities.len() < MAX_FIRST_SEEN_ENTITIES {
                entities.push(entity);
            }
        }
        let (from, to) = crate::baseline::baseline(start);
        for entity in entities {
            let history = json!({"bool": {"filter": [rule.documents.clone(), {"term": {rule.entity: entity}},
                {"range": {"@timestamp": {"gte": from.to_rfc3339_opts(SecondsFormat::Millis, true), "lt": to.to_rfc3339_opts(SecondsFormat::Millis, true)}}}]}});
            let seen = deps
                .client
                .search(
                    &indices,
                    &json!({"size": 0, "track_total_hits": true, "query": history,
                    "aggs": {"values": {"terms": {"field": rule.value, "size": 1000}}}}),
                )
                .await?;
            let has_history = seen["hits"]["total"]["value"].as_u64().unwrap_or(0) > 0;
            if !has_history && !deps.config.first_seen_without_history {
                continue;
            }
            let known: Vec<String> = seen["aggregations"]["values"]["buckets"]
                .as_array()
                .map(|b| b.iter().map(|b| text_of(&b["key"])).collect())
                .unwrap_or_default();
            for (_, value, hit) in firsts.iter().filter(|(e, v, _)| e == entity && !known.contains(v)) {
                alerts.extend(crate::baseline::first_seen_alert(&rule, entity, value, hit));
            }
        }
    }
    Ok(alerts)
}

async fn finding_alerts<S>(
    deps: &Deps<S>,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<Alert>, ClientError> {
    let rule = crate::baseline::findings_rule();
    let labels = crate::baseline::severities_from(&deps.config.findings_min_severity);
    let query = json!({"bool": {
        "filter": [{"terms": {"finding.severity.label": labels}}, window("@timestamp", start, now)],
        "must_not": [{"terms": {"finding.workflow_status": ["SUPPRESSED", "RESOLVED"]}}, {"term": {"finding.record_state": "ARCHIVED"}}]}});
    let page = deps
        .client
        .search(
            &deps.config.findings_indices,
            &json!({"size": deps.config.max_alerts_per_rule, "query": query, "sort": [{"@timestamp": "asc"}]}),
        )
        .await?;
    Ok(hits(&page).iter().filter_map(|h| crate::baseline::finding_alert(&rule, h)).collect())
}

fn text_of(value: &Value) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_owned)
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
    let mut existing: Vec<String> = Vec::new();
    for chunk in alerts.chunks(1000) {
        let ids: Vec<&str> = chunk.iter().map(|a| a.id.as_str()).collect();
        let answer = deps
            .client
            .search(
                &deps.config.alerts_pattern(),
                &json!({"size": ids.len(), "_source": false, "query": {"ids": {"values": ids}}}),
            )
            .await?;
        existing.extend(hits(&answer).into_iter().map(|h| h.id));
    }
    let mut docs = Vec::new();
    for alert in alerts {
        if existing.contains(&alert.id) || docs.iter().any(|d: &Document<'_>| d.id == alert.id) {
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

/// Sends one alert to one destination.
async fn send<S>(
    deps: &Deps<S>,
    destination: Destination,
    target: &str,
    id: &str,
    index: &str,
    alert: &Value,
) -> Result<(), crate::notify::SendError> {
    match destination {
        Destination::Slack => {
            let message = slack_message(alert, deps.config.destinations.dashboards.as_ref());
            deps.notifier.post(destination, target, &message).await
        }
        Destination::Webhook => {
            deps.notifier.post(destination, target, &json!({"id": id, "index": index, "alert": alert})).await
        }
        Destination::Sns => {
            let subject = format!(
                "[{}] {}",
                alert["rule"]["level"].as_str().unwrap_or(""),
                alert["rule"]["name"].as_str().unwrap_or("")
            );
            deps.notifier.publish(target, &subject, &crate::transform::text_message(alert)).await
        }
    }
}

/// Sends the alerts at or above `NOTIFY_MIN_LEVEL` that are not sent yet, oldest first.
async fn notify<S>(deps: &Deps<S>, report: &mut RunReport) -> Result<(), ClientError> {
    let config = &deps.config;
    let destinations: Vec<(Destination, &str)> = [
        config.destinations.slack.as_ref().map(|u| (Destination::Slack, u.as_str())),
        config.destinations.webhook.as_ref().map(|u| (Destination::Webhook, u.as_str())),
        config.destinations.sns_topic_arn.as_deref().map(|t| (Destination::Sns, t)),
    ]
    .into_iter()
    .flatten()
    .collect();
    if destinations.is_empty() {
        return Ok(());
    }
    let levels: Vec<&str> = [Level::Informational, Level::Low, Level::Medium, Level::High, Level::Critical]
        .into_iter()
        .filter(|l| *l >= config.notify_min_level)
        .map(Level::as_str)
        .collect();
    let query = json!({"bool": {"filter": [{"terms": {"rule.level": levels}}], "must_not": [{"exists": {"field": "alert.notified_at"}}]}});
    let answer = deps
        .client
        .search(
            &config.alerts_pattern(),
            &json!({"size": config.notify_max_per_run, "seq_no_primary_term": true, "track_total_hits": true,
                    "query": query, "sort": [{"@timestamp": "asc"}]}),
        )
        .await?;
    let pending = answer["hits"]["hits"].as_array().cloned().unwrap_or_default();
    let total = answer["hits"]["total"]["value"].as_u64().unwrap_or(pending.len() as u64);
    for hit in &pending {
        let (Some(index), Some(id)) = (hit["_index"].as_str(), hit["_id"].as_str()) else { continue };
        let mut version = (hit["_seq_no"].as_u64(), hit["_primary_term"].as_u64());
        let alert = &hit["_source"];
        let mut done: Vec<String> = alert["alert"]["notified_to"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        for (destination, target) in &destinations {
            if done.iter().any(|d| d == destination.as_str()) {
                continue;
            }
            if let Err(e) = send(deps, *destination, target, id, index, alert).await {
                tracing::warn!(alert = id, error = %e, "Alert not sent; the next run retries.");
                report.send_failures.push(format!("{id}: {e}"));
                break;
            }
            report.sent.push(Sent { alert: id.to_owned(), destination: destination.as_str() });
            done.push(destination.as_str().to_owned());
            let mut mark = json!({"alert": {"notified_to": done}});
            if destinations.iter().all(|(d, _)| done.iter().any(|x| x == d.as_str())) {
                mark["alert"]["notified_at"] = json!(Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true));
            }
            let (Some(seq), Some(term)) = version else { break };
            let path = format!("{index}/_update/{id}?if_seq_no={seq}&if_primary_term={term}&refresh=true");
            match deps.client.call("POST", &path, Some(&json!({"doc": mark}))).await {
                Ok(answer) => version = (answer["_seq_no"].as_u64(), answer["_primary_term"].as_u64()),
                Err(e) if e.status() == Some(409) => {
                    tracing::warn!(alert = id, "Alert changed by another run while being sent; left to it.");
                    break;
                }
                Err(e) => return Err(e),
            }
        }
    }
    report.waiting = total.saturating_sub(pending.len() as u64);
    if report.waiting > 0 {
        let text = format!(
            "seclog: {} more alerts at or above {} are waiting; they are sent {} per run. Search {} for alert.notified_at missing.",
            report.waiting,
            config.notify_min_level,
            config.notify_max_per_run,
            config.alerts_pattern()
        );
        for (destination, target) in &destinations {
            let sent = match destination {
                Destination::Slack => deps.notifier.post(*destination, target, &json!({"text": text})).await,
                Destination::Webhook => {
                    deps.notifier.post(*destination, target, &json!({"summary": text, "waiting": report.waiting})).await
                }
                Destination::Sns => deps.notifier.publish(target, "seclog: alerts waiting", &text).await,
            };
            if let Err(e) = sent {
                report.send_failures.push(format!("summary: {e}"));
            }
        }
    }
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
