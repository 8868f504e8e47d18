//! Sending: Slack incoming webhooks, generic JSON webhooks and an SNS topic. A send succeeds only
//! on a 2xx answer (or SNS's message id); anything else (a 429 with `Retry-After`, a 5xx, a
//! timeout) is a failure the next run retries. Errors never carry the URL: a webhook URL is its
//! own credential.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use seclog_core::client::ClientError;
use seclog_rules::Level;
use serde_json::{json, Value};

use crate::handler::{Deps, RunReport, Sent};
use crate::transform::slack_message;

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum Destination {
    /// A Slack incoming webhook (Block Kit).
    Slack,
    /// A generic JSON webhook (the alert document and its id).
    Webhook,
    /// An SNS topic (a subject and a readable text).
    Sns,
}

impl Destination {
    /// `slack`, `webhook`: the names kept in `alert.notified_to`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Why a send failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The destination answered, but not with success.
    #[error("{destination} answered {status}{}", retry_after.as_ref().map(|r| format!(" (Retry-After {r})")).unwrap_or_default())]
    Status {
        /// Which destination.
        destination: &'static str,
        /// Its answer's status.
        status: u16,
        /// Its `Retry-After`, when it said one.
        retry_after: Option<String>,
    },
    /// SNS refused the message or could not be reached.
    #[error("sns did not take the message")]
    Publish(#[source] Box<aws_sdk_sns::error::SdkError<aws_sdk_sns::operation::publish::PublishError>>),
    /// The alerter was built without an SNS client.
    #[error("sns: no SNS client")]
    NoSns,
    /// No answer: a timeout or a connection error (the URL left out).
    #[error("{destination} could not be reached")]
    Transport {
        /// Which destination.
        destination: &'static str,
        /// The HTTP client's error, without its URL.
        #[source]
        source: reqwest::Error,
    },
}

/// Sends messages.
#[derive(Debug, Clone)]
pub struct Notifier {
    http: reqwest::Client,
    sns: Option<aws_sdk_sns::Client>,
}

impl Notifier {
    /// A notifier whose sends give up after `timeout`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .build()
            .map_err(reqwest::Error::without_url)?;
        Ok(Self { http, sns: None })
    }

    /// The same notifier, publishing to SNS with `client`.
    #[must_use]
    pub fn with_sns(self, client: aws_sdk_sns::Client) -> Self {
        Self { sns: Some(client), ..self }
    }

    /// Publishes `subject` and `message` to `topic`.
    ///
    /// # Errors
    /// [`SendError::Publish`] when SNS refuses or cannot be reached; [`SendError::NoSns`].
    pub async fn publish(&self, topic: &str, subject: &str, message: &str) -> Result<(), SendError> {
        let client = self.sns.as_ref().ok_or(SendError::NoSns)?;
        // SNS subjects: at most 100 printable ASCII characters, no line breaks.
        let subject: String = subject.chars().filter(|c| c.is_ascii() && !c.is_ascii_control()).take(100).collect();
        client
            .publish()
            .topic_arn(topic)
            .subject(subject)
            .message(message)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| SendError::Publish(Box::new(e)))
    }

    /// Posts `body` as JSON to `url`.
    ///
    /// # Errors
    /// A [`SendError`] for anything but a 2xx answer.
    pub async fn post(&self, destination: Destination, url: &str, body: &Value) -> Result<(), SendError> {
        let name = destination.as_str();
        let transport =
            |source: reqwest::Error| SendError::Transport { destination: name, source: source.without_url() };
        let resp = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(transport)?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
        Err(SendError::Status { destination: name, status: status.as_u16(), retry_after })
    }
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
            let message = slack_message(alert, deps.config.dashboards.as_ref());
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
pub(crate) async fn notify<S>(deps: &Deps<S>, report: &mut RunReport) -> Result<(), ClientError> {
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
                let e = seclog_core::error::Chain(&e);
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
                report.send_failures.push(format!("summary: {}", seclog_core::error::Chain(&e)));
            }
        }
    }
    Ok(())
}
