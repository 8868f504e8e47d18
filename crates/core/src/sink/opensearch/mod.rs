//! The `OpenSearch` `_bulk` sink.
//!
//! Documents are grouped by index and chunked by bytes and count, encoded as NDJSON, gzipped,
//! signed and posted to `/<index>/_bulk` (never the root `_bulk`: see [`encoder`]).
//! Each answer becomes a plan ([`mod@plan`]: pure, tested on canned answers, with the rules of
//! [`retry`]): written or already present is done; retryable items are sent again with exponential backoff and full jitter while the time budget lasts;
//! permanent failures are written to the dead-letter index with the raw record and the reason.
//! Retryable failures left when the budget is spent fail the call, so the invocation is retried.

pub mod config;
pub mod encoder;
pub mod plan;
pub mod response;
pub mod retry;
pub mod signing;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::time::Instant;

use self::config::{Auth, OpenSearchConfig};
use self::plan::{plan, reply_of, Reply};
use self::signing::Signer;
use super::drive::{drive, Attempt, Left};
use super::{BulkSink, DeliveryReport};
use crate::deadletter::{DeadLetters, Failure};
use crate::document::Document;
use crate::error::{Chain, SetupError, SigningError};
use crate::DeliveryError;

/// The most of a response body that is read: a bulk answer for 5,000 documents is about 1.5 MB, so
/// anything larger is not an answer to our request (and must not exhaust a 128 MB function).
pub const MAX_RESPONSE_BYTES: usize = 16 << 20;

/// Delivers documents to an `OpenSearch` cluster.
#[derive(Debug)]
pub struct OpenSearchSink {
    http: reqwest::Client,
    /// The endpoint as a base URL (ending in `/`) that `<index>/_bulk` is joined to.
    base_url: url::Url,
    config: OpenSearchConfig,
    signer: Option<Arc<Signer>>,
    deadletters: DeadLetters,
}

/// The fate of one document after [`OpenSearchSink::write`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Pending,
    Written,
    AlreadyPresent,
    Permanent { status: u16, error_type: String, reason: String },
}

/// Counters kept across the write passes of one delivery.
#[derive(Default)]
struct Stats {
    retried: usize,
    bulk_requests: usize,
    bytes_sent: usize,
    bulk_latency_ms: Vec<u64>,
}

impl OpenSearchSink {
    /// Builds the sink, resolving credentials for `SigV4` from the environment (or the role).
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub async fn connect(config: OpenSearchConfig) -> Result<Self, DeliveryError> {
        let signer = Signer::for_auth(&config.auth).await;
        Self::with_signer(config, signer)
    }

    /// Builds the sink with a given signer (tests, callers with their own credentials, and a
    /// signer shared with a [`crate::client::Client`] of the same cluster).
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn with_signer(config: OpenSearchConfig, signer: Option<Arc<Signer>>) -> Result<Self, DeliveryError> {
        let http = crate::client::http_client()
            .https_only(config.endpoint.scheme() == "https")
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(50))
            .build()
            .map_err(|e| DeliveryError::Setup(SetupError::HttpClient(e)))?;
        let mut base_url = config.endpoint.clone();
        if !base_url.path().ends_with('/') {
            base_url.set_path(&format!("{}/", base_url.path()));
        }
        let deadletters = config.deadletters.clone();
        Ok(Self { http, base_url, config, signer, deadletters })
    }

    /// The dead-letter builder this sink uses.
    #[must_use]
    pub fn deadletters(&self) -> &DeadLetters {
        &self.deadletters
    }

    /// Writes `docs` until each is written, already present or permanently failed, or the budget
    /// is spent. Returns the outcomes and, if retryable failures remain, the error to raise.
    async fn write(
        &self,
        docs: &[Document<'_>],
        deadline: Instant,
        stats: &mut Stats,
    ) -> Result<(Vec<Outcome>, Option<DeliveryError>), DeliveryError> {
        let mut pass = Pass { sink: self, docs, deadline, outcomes: vec![Outcome::Pending; docs.len()], stats };
        let exhausted = match drive(&mut pass, (0..docs.len()).collect(), &self.config.backoff, deadline).await {
            Ok(_) => None,
            Err(e @ DeliveryError::RetriesExhausted { .. }) => {
                tracing::warn!(error = %Chain(&e), "Retry budget spent.");
                Some(e)
            }
            Err(e) => return Err(e),
        };
        Ok((pass.outcomes, exhausted))
    }

    /// Splits the pending items into requests of one index each, of at most `max_bulk_bytes` and
    /// `max_bulk_docs`; indices in the order they first appear, items in their order.
    fn chunks(&self, docs: &[Document<'_>], pending: &[usize]) -> Vec<Vec<usize>> {
        let (max_bytes, max_docs) = (self.config.max_bulk_bytes.get(), self.config.max_bulk_docs.get());
        let mut by_index: Vec<Vec<usize>> = Vec::new();
        let mut position: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for &i in pending {
            let at = *position.entry(docs[i].index.as_str()).or_insert_with(|| {
                by_index.push(Vec::new());
                by_index.len() - 1
            });
            by_index[at].push(i);
        }
        let mut chunks = Vec::new();
        for group in by_index {
            let mut current = Vec::new();
            let mut size = 0;
            for i in group {
                let len = encoder::item_len(&docs[i]);
                if !current.is_empty() && (size + len > max_bytes || current.len() >= max_docs) {
                    chunks.push(std::mem::take(&mut current));
                    size = 0;
                }
                size += len;
                current.push(i);
            }
            if !current.is_empty() {
                chunks.push(current);
            }
        }
        chunks
    }

    /// Sends one bulk request. Transport failures and retryable statuses become
    /// [`Reply::RetryAll`]; a refusal of the whole request is an error.
    async fn send(
        &self,
        docs: &[Document<'_>],
        chunk: &[usize],
        deadline: Instant,
        stats: &mut Stats,
    ) -> Result<Reply, DeliveryError> {
        let mut body = Vec::with_capacity(chunk.iter().map(|&i| encoder::item_len(&docs[i])).sum());
        for &i in chunk {
            encoder::encode_item(&mut body, &docs[i], encoder::IndexIn::Url);
        }
        stats.bulk_requests += 1;
        stats.bytes_sent += body.len();
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Ok(Reply::RetryAll("time budget spent".into()));
        }
        let req = match self.build_request(&docs[chunk[0]].index, body).await {
            Ok(req) => req,
            // STS throttling or a credentials endpoint hiccup: back off like any other retry.
            Err(e @ DeliveryError::Credentials(_)) => return Ok(Reply::RetryAll(Chain(&e).to_string())),
            Err(e) => return Err(e),
        };
        let timeout = self.config.request_timeout.min(remaining);
        let sent = Instant::now();
        let response = match tokio::time::timeout(timeout, self.http.execute(req)).await {
            Err(_) => return Ok(Reply::RetryAll(format!("no response within {} ms", timeout.as_millis()))),
            Ok(Err(e)) => return Ok(Reply::RetryAll(format!("transport error: {}", Chain(&e.without_url())))),
            Ok(Ok(r)) => r,
        };
        let code = response.status().as_u16();
        let read_timeout = self.config.request_timeout.min(deadline.saturating_duration_since(Instant::now()));
        let bytes = match tokio::time::timeout(read_timeout, read_capped(response, MAX_RESPONSE_BYTES)).await {
            Ok(Ok(b)) => b,
            Ok(Err(reason)) => return Ok(Reply::RetryAll(reason)),
            Err(_) => {
                return Ok(Reply::RetryAll(format!("response body not read within {} ms", read_timeout.as_millis())))
            }
        };
        stats.bulk_latency_ms.push(u64::try_from(sent.elapsed().as_millis()).unwrap_or(u64::MAX));
        reply_of(code, &bytes, chunk.len())
    }

    async fn build_request(&self, index: &str, body: Vec<u8>) -> Result<reqwest::Request, DeliveryError> {
        let url = self
            .base_url
            .join(&format!("{index}/_bulk"))
            .map_err(|source| DeliveryError::Setup(SetupError::IndexUrl { index: index.to_owned(), source }))?;
        let mut builder = http::Request::builder()
            .method("POST")
            .uri(url.as_str())
            .header("content-type", "application/x-ndjson")
            .header("accept-encoding", "identity");
        let body = if self.config.gzip {
            builder = builder.header("content-encoding", "gzip");
            crate::decode::gzip(&body)
        } else {
            body
        };
        if let Auth::Basic { username, password } = &self.config.auth {
            builder = builder.header(http::header::AUTHORIZATION, signing::basic_auth_header(username, password)?);
        }
        let mut request = builder.body(body).map_err(|e| DeliveryError::Signing(SigningError::Request(e)))?;
        if let Some(signer) = &self.signer {
            signer.sign(&mut request).await?;
        }
        reqwest::Request::try_from(request).map_err(|e| DeliveryError::Signing(SigningError::Convert(e)))
    }
}

/// One attempt of [`OpenSearchSink::write`]: every pending document sent once, in chunks, each
/// answer's plan carried out.
struct Pass<'s, 'd, 'a> {
    sink: &'s OpenSearchSink,
    docs: &'d [Document<'a>],
    deadline: Instant,
    outcomes: Vec<Outcome>,
    stats: &'s mut Stats,
}

impl Attempt<usize> for Pass<'_, '_, '_> {
    async fn attempt(&mut self, pending: Vec<usize>, attempt: u32) -> Result<Left<usize>, DeliveryError> {
        if attempt > 1 {
            self.stats.retried += pending.len();
        }
        let mut left = Left::nothing();
        let mut queue: VecDeque<Vec<usize>> = self.sink.chunks(self.docs, &pending).into();
        while let Some(chunk) = queue.pop_front() {
            let reply = self.sink.send(self.docs, &chunk, self.deadline, self.stats).await?;
            let plan = plan(&chunk, |i| self.docs[i].op, reply);
            for i in plan.written {
                self.outcomes[i] = Outcome::Written;
            }
            for i in plan.already_present {
                self.outcomes[i] = Outcome::AlreadyPresent;
            }
            for (i, r) in plan.permanent {
                self.outcomes[i] = Outcome::Permanent { status: r.status, error_type: r.error_type, reason: r.reason };
            }
            if let Some((a, b)) = plan.split {
                queue.push_front(b);
                queue.push_front(a);
            }
            if let Some(reason) = plan.retry_reason {
                left.reason = reason;
            }
            left.items.extend(plan.retry);
        }
        Ok(left)
    }
}

impl BulkSink for OpenSearchSink {
    async fn deliver(&self, docs: Vec<Document<'_>>, deadline: Instant) -> Result<DeliveryReport, DeliveryError> {
        let mut stats = Stats::default();
        let (outcomes, exhausted) = self.write(&docs, deadline, &mut stats).await?;
        let mut report = DeliveryReport::default();
        let now = Utc::now();
        let mut letters = Vec::new();
        for (doc, outcome) in docs.into_iter().zip(outcomes) {
            match outcome {
                Outcome::Written | Outcome::AlreadyPresent if doc.dead_letter => report.dead_lettered += 1,
                Outcome::Written => report.indexed += 1,
                Outcome::AlreadyPresent => report.already_present += 1,
                Outcome::Pending => {}
                Outcome::Permanent { status, error_type, reason } => {
                    tracing::warn!(
                        record_id = %doc.origin.record_id,
                        index = %doc.index,
                        status,
                        error_type = %error_type,
                        "Document refused; dead-lettering."
                    );
                    let failure = Failure {
                        error_type: &error_type,
                        reason: &reason,
                        status: Some(status),
                        intended_index: Some(&doc.index),
                    };
                    letters.push(self.deadletters.document(doc.origin, &failure, now));
                }
            }
        }
        if !letters.is_empty() {
            let (dl_outcomes, dl_exhausted) = self.write(&letters, deadline, &mut stats).await?;
            let failed: Vec<_> =
                dl_outcomes.iter().filter(|o| !matches!(o, Outcome::Written | Outcome::AlreadyPresent)).collect();
            if let Some(first) = failed.first() {
                let count = failed.len();
                // The server's reason can quote the document ("Preview of field's value: …"): only its type.
                let reason = match (first, &dl_exhausted) {
                    (Outcome::Permanent { error_type, status, .. }, _) => format!("{error_type} (status {status})"),
                    (_, Some(e)) => e.to_string(),
                    _ => "unknown".into(),
                };
                tracing::error!(count, reason = %reason, "Dead-letter documents could not be written.");
                return Err(DeliveryError::DeadLetterFailed { count, reason });
            }
            report.dead_lettered += letters.len();
        }
        report.retried = stats.retried;
        report.bulk_requests = stats.bulk_requests;
        report.bytes_sent = stats.bytes_sent;
        report.bulk_latency_ms = stats.bulk_latency_ms;
        match exhausted {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }
}

/// Reads a response body chunk by chunk, refusing one larger than `cap` before holding it.
async fn read_capped(mut response: reqwest::Response, cap: usize) -> Result<Vec<u8>, String> {
    if response.content_length().is_some_and(|n| n > cap as u64) {
        return Err(format!("response body larger than {cap} bytes"));
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) if body.len() + chunk.len() > cap => {
                return Err(format!("response body larger than {cap} bytes"));
            }
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => return Ok(body),
            Err(e) => return Err(format!("reading response: {}", Chain(&e.without_url()))),
        }
    }
}
