//! Sending: Slack incoming webhooks and generic JSON webhooks. A send succeeds only on a 2xx
//! answer; anything else (a 429 with `Retry-After`, a 5xx, a timeout) is a failure the next run
//! retries. Errors never carry the URL: a webhook URL is its own credential.

use std::time::Duration;

use serde_json::Value;
use url::Url;

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// A Slack incoming webhook (Block Kit).
    Slack,
    /// A generic JSON webhook (the alert document and its id).
    Webhook,
}

impl Destination {
    /// `slack`, `webhook`: the names kept in `alert.notified_to`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Slack => "slack",
            Self::Webhook => "webhook",
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
        Ok(Self { http })
    }

    /// Posts `body` as JSON to `url`.
    ///
    /// # Errors
    /// A [`SendError`] for anything but a 2xx answer.
    pub async fn post(&self, destination: Destination, url: &Url, body: &Value) -> Result<(), SendError> {
        let name = destination.as_str();
        let transport =
            |source: reqwest::Error| SendError::Transport { destination: name, source: source.without_url() };
        let resp = self
            .http
            .post(url.clone())
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
