//! A small `OpenSearch` client for what is not `_bulk`: searches, counts, templates, single-document
//! updates. Signed like the sink, never following redirects (the signature and security token
//! would go to another host), with answers read up to a cap.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::error::DeliveryError;
use crate::sink::opensearch::config::{Auth, OpenSearchConfig, SigningService};
use crate::sink::opensearch::signing::{basic_auth_header, Signer};

/// Answers larger than this are refused: searches here ask for bounded pages.
pub const MAX_ANSWER_BYTES: usize = 32 << 20;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with a status other than 2xx.
    #[error("{method} {path}: {status}: {reason}")]
    Status {
        /// The request's method.
        method: String,
        /// The request's path.
        path: String,
        /// The answer's status.
        status: u16,
        /// The start of the answer's body (`OpenSearch`'s error object).
        reason: String,
    },
    /// The request could not be sent or the answer not read.
    #[error("{method} {path}: {source}")]
    Transport {
        /// The request's method.
        method: String,
        /// The request's path.
        path: String,
        /// The HTTP client's error, without its URL.
        #[source]
        source: reqwest::Error,
    },
    /// The HTTP client could not be built.
    #[error("the HTTP client could not be built")]
    HttpClient(#[source] reqwest::Error),
    /// The path does not make a URL on the cluster's endpoint.
    #[error("bad path {path}")]
    Path {
        /// The path.
        path: String,
        /// Why.
        #[source]
        source: url::ParseError,
    },
    /// The request could not be built (its body, a header).
    #[error("the request could not be built")]
    Build(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The request could not be signed (no credentials, a bad basic-auth user).
    #[error("the request could not be signed")]
    Sign(#[from] DeliveryError),
    /// An answer to a count without a count.
    #[error("no count in the answer for {index}")]
    NoCount {
        /// The index (pattern) counted.
        index: String,
    },
    /// The answer is not what the caller reads (a typed search).
    #[error("{method} {path}: the answer cannot be read")]
    Unreadable {
        /// The request's method.
        method: String,
        /// The request's path.
        path: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The answer was larger than [`MAX_ANSWER_BYTES`].
    #[error("{method} {path}: the answer exceeds {MAX_ANSWER_BYTES} bytes")]
    TooLarge {
        /// The request's method.
        method: String,
        /// The request's path.
        path: String,
    },
}

impl ClientError {
    /// The server's status, when it answered.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// An HTTP client builder for a cluster: rustls (TLS verified) and no redirects, since a redirect
/// would carry the signature and `x-amz-security-token` to another host.
pub(crate) fn http_client() -> reqwest::ClientBuilder {
    reqwest::Client::builder().use_rustls_tls().redirect(reqwest::redirect::Policy::none())
}

/// A client for one cluster.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    config: OpenSearchConfig,
    signer: Option<Arc<Signer>>,
}

impl Client {
    /// A client for `config` (`SigV4` credentials come from the environment).
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub async fn new(config: OpenSearchConfig) -> Result<Self, ClientError> {
        let signer = Signer::for_auth(&config.auth).await;
        Self::with_signer(config, signer)
    }

    /// A client for `config` that signs with `signer` (none: unsigned), which it may share with a
    /// sink of the same cluster (one credentials cache, one assumed-role session).
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn with_signer(config: OpenSearchConfig, signer: Option<Arc<Signer>>) -> Result<Self, ClientError> {
        let http = http_client()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| ClientError::HttpClient(e.without_url()))?;
        Ok(Self { http, config, signer })
    }

    /// The cluster's configuration.
    #[must_use]
    pub fn config(&self) -> &OpenSearchConfig {
        &self.config
    }

    /// Whether the cluster is an `OpenSearch` Serverless collection (requests signed for `aoss`).
    #[must_use]
    pub fn is_serverless(&self) -> bool {
        matches!(self.config.auth, Auth::SigV4 { service: SigningService::Aoss, .. })
    }

    /// Sends a request with an optional JSON body and returns the JSON answer (`null` when the
    /// body is not JSON); a non-2xx status is an error that carries the server's reason.
    ///
    /// # Errors
    /// Transport errors, non-2xx answers, answers over [`MAX_ANSWER_BYTES`].
    pub async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, ClientError> {
        self.call_with(method, path, body, &[]).await
    }

    /// [`Client::call`] with extra request headers (signed with the rest), as `OpenSearch`
    /// Dashboards' `osd-xsrf`.
    ///
    /// # Errors
    /// See [`Client::call`].
    pub async fn call_with(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&'static str, &str)],
    ) -> Result<Value, ClientError> {
        let answer = self.answer(method, path, body, headers).await?;
        Ok(serde_json::from_slice(&answer).unwrap_or(Value::Null))
    }

    /// The body of a 2xx answer to a request; see [`Client::call`].
    async fn answer(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&'static str, &str)],
    ) -> Result<Vec<u8>, ClientError> {
        let url =
            self.config.endpoint.join(path).map_err(|source| ClientError::Path { path: path.to_owned(), source })?;
        let bytes = body.map(serde_json::to_vec).transpose().map_err(|e| ClientError::Build(e.into()))?;
        let mut req = http::Request::builder().method(method).uri(url.as_str());
        if bytes.is_some() {
            req = req.header("content-type", "application/json");
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Auth::Basic { username, password } = &self.config.auth {
            req = req.header(http::header::AUTHORIZATION, basic_auth_header(username, password)?);
        }
        let mut req = req.body(bytes.unwrap_or_default()).map_err(|e| ClientError::Build(e.into()))?;
        if let Some(signer) = &self.signer {
            signer.sign(&mut req).await?;
        }
        let transport = |source: reqwest::Error| ClientError::Transport {
            method: method.to_owned(),
            path: path.to_owned(),
            source: source.without_url(),
        };
        let req = reqwest::Request::try_from(req).map_err(|e| ClientError::Build(e.without_url().into()))?;
        let mut resp = self.http.execute(req).await.map_err(transport)?;
        let status = resp.status();
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(ClientError::TooLarge { method: method.to_owned(), path: path.to_owned() });
            }
            body.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            return Err(ClientError::Status {
                method: method.to_owned(),
                path: path.to_owned(),
                status: status.as_u16(),
                reason: String::from_utf8_lossy(&body).chars().take(500).collect(),
            });
        }
        Ok(body)
    }

    /// Makes everything written so far searchable.
    ///
    /// # Errors
    /// See [`Client::call`].
    pub async fn refresh(&self) -> Result<(), ClientError> {
        self.call("POST", "_refresh", None).await.map(|_| ())
    }

    /// Counts documents in `index` (a pattern is fine); 0 when nothing matches the pattern.
    ///
    /// # Errors
    /// See [`Client::call`]; an answer without a count.
    pub async fn count(&self, index: &str) -> Result<u64, ClientError> {
        let v =
            self.call("GET", &format!("{index}/_count?ignore_unavailable=true&allow_no_indices=true"), None).await?;
        v["count"].as_u64().ok_or_else(|| ClientError::NoCount { index: index.to_owned() })
    }

    /// Runs a search; an index pattern that matches nothing answers no hits.
    ///
    /// # Errors
    /// See [`Client::call`].
    pub async fn search(&self, index: &str, body: &Value) -> Result<Value, ClientError> {
        self.call("POST", &search_path(index), Some(body)).await
    }

    /// Runs a search and reads its answer straight into `T`, the parts of it the caller keeps: a
    /// page of thousands of hits is then never held as a tree of every value it carries.
    ///
    /// # Errors
    /// See [`Client::call`]; `Unreadable` when the answer is not a `T`.
    pub async fn search_as<T: serde::de::DeserializeOwned>(&self, index: &str, body: &Value) -> Result<T, ClientError> {
        let path = search_path(index);
        let answer = self.answer("POST", &path, Some(body), &[]).await?;
        serde_json::from_slice(&answer).map_err(|source| ClientError::Unreadable {
            method: "POST".into(),
            path,
            source,
        })
    }
}

fn search_path(index: &str) -> String {
    format!("{index}/_search?allow_no_indices=true&ignore_unavailable=true")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_request_that_cannot_be_made_is_a_typed_error_naming_why() {
        let client = Client::with_signer(OpenSearchConfig::local("http://127.0.0.1:9").unwrap(), None).unwrap();
        let err = client.call("GET", "http://[", None).await.unwrap_err();
        assert!(matches!(&err, ClientError::Path { path, .. } if path == "http://["), "{err:?}");
        assert_eq!(crate::error::Chain(&err).to_string(), "bad path http://[: invalid IPv6 address");
        assert_eq!(err.status(), None);
    }
}
