//! Sending: Slack incoming webhooks, generic JSON webhooks and an SNS topic. A send succeeds only
//! on a 2xx answer (or SNS's message id); anything else (a 429 with `Retry-After`, a 5xx, a
//! timeout) is a failure the next run retries. Errors never carry the URL: a webhook URL is its
//! own credential.

use std::time::Duration;

use serde_json::Value;

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
        match self {
            Self::Slack => "slack",
            Self::Webhook => "webhook",
            Self::Sns => "sns",
        }
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
    #[error("sns: {0}")]
    Publish(String),
    /// No answer: a timeout or a connection error (the URL left out).
    #[error("{destination} could not be reached: {source}")]
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
    /// [`SendError::Publish`] when SNS refuses or cannot be reached, or no SNS client was given.
    pub async fn publish(&self, topic: &str, subject: &str, message: &str) -> Result<(), SendError> {
        let client = self.sns.as_ref().ok_or_else(|| SendError::Publish("no SNS client".into()))?;
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
            .map_err(|e| SendError::Publish(aws_sdk_sns::error::DisplayErrorContext(e).to_string()))
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
