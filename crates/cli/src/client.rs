//! A small `OpenSearch` client for the command: templates, refresh, counts and searches, signed
//! the same way as the sink.

use anyhow::{bail, Context, Result};
use seclog_core::sink::opensearch::config::{Auth, OpenSearchConfig, SigningService};
use seclog_core::sink::opensearch::signing::{basic_auth_header, Signer};
use serde_json::Value;

/// A client for one cluster.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    config: OpenSearchConfig,
    signer: Option<Signer>,
}

impl Client {
    /// A client for `config` (`SigV4` credentials come from the environment).
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub async fn new(config: OpenSearchConfig) -> Result<Self> {
        let signer = Signer::for_auth(&config.auth).await;
        let http = reqwest::Client::builder().use_rustls_tls().build()?;
        Ok(Self { http, config, signer })
    }

    /// Whether the cluster is an `OpenSearch` Serverless collection (requests signed for `aoss`).
    #[must_use]
    pub fn is_serverless(&self) -> bool {
        matches!(self.config.auth, Auth::SigV4 { service: SigningService::Aoss, .. })
    }

    /// Sends a request with an optional JSON body and returns the JSON answer; a non-2xx status
    /// is an error that carries the server's reason.
    ///
    /// # Errors
    /// Transport errors and non-2xx answers.
    pub async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value> {
        let url = self.config.endpoint.join(path).with_context(|| format!("bad path {path}"))?;
        let bytes = body.map(serde_json::to_vec).transpose()?.unwrap_or_default();
        let mut req = http::Request::builder().method(method).uri(url.as_str());
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        if let Auth::Basic { username, password } = &self.config.auth {
            req = req.header(http::header::AUTHORIZATION, basic_auth_header(username, password)?);
        }
        let mut req = req.body(bytes)?;
        if let Some(signer) = &self.signer {
            signer.sign(&mut req).await?;
        }
        let resp = self.http.execute(reqwest::Request::try_from(req)?).await?;
        let status = resp.status();
        let text = resp.text().await?;
        if !status.is_success() {
            bail!("{method} {path}: {status}: {}", text.chars().take(500).collect::<String>());
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Makes everything written so far searchable.
    ///
    /// # Errors
    /// See [`Client::call`].
    pub async fn refresh(&self) -> Result<()> {
        self.call("POST", "_refresh", None).await.map(|_| ())
    }

    /// Counts documents in `index` (a pattern is fine); 0 when nothing matches the pattern.
    ///
    /// # Errors
    /// See [`Client::call`].
    pub async fn count(&self, index: &str) -> Result<u64> {
        let v =
            self.call("GET", &format!("{index}/_count?ignore_unavailable=true&allow_no_indices=true"), None).await?;
        v["count"].as_u64().context("no count in the answer")
    }

    /// Runs a search.
    ///
    /// # Errors
    /// See [`Client::call`].
    pub async fn search(&self, index: &str, body: &Value) -> Result<Value> {
        self.call("POST", &format!("{index}/_search?allow_no_indices=true&ignore_unavailable=true"), Some(body)).await
    }
}
