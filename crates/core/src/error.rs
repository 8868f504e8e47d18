//! Error types shared by the functions.
//!
//! Two kinds are kept apart: a [`RecordError`] concerns one record, which is dead-lettered (or
//! answered `ProcessingFailed`) while its neighbours go on; a [`DeliveryError`] fails the whole
//! invocation so that AWS retries it.

use std::fmt;

/// Why an envelope or payload could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The data was not valid base64.
    #[error("payload is not valid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// The data was neither gzip nor zlib.
    #[error("payload is not gzip or zlib compressed (first bytes {0:02x?})")]
    NotCompressed(Vec<u8>),
    /// The compressed stream was corrupt or truncated.
    #[error("payload could not be decompressed: {0}")]
    Decompress(#[source] std::io::Error),
    /// Decompression would exceed the configured cap (a decompression bomb or an oversized batch).
    #[error("decompressed payload exceeds the cap of {cap} bytes")]
    TooLarge {
        /// The cap in bytes.
        cap: usize,
    },
    /// The decoded bytes were not the expected JSON.
    #[error("payload is not a valid {what}: {source}")]
    Json {
        /// What was expected.
        what: &'static str,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// A CloudWatch Logs payload whose `messageType` is neither of the two AWS documents.
    #[error("messageType is neither DATA_MESSAGE nor CONTROL_MESSAGE")]
    UnknownMessageType,
}

impl DecodeError {
    /// A short stable name for the error, used in dead-letter documents and metrics.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Base64(_) => "bad_base64",
            Self::NotCompressed(_) => "not_compressed",
            Self::Decompress(_) => "bad_compression",
            Self::TooLarge { .. } => "too_large",
            Self::Json { .. } => "bad_json",
            Self::UnknownMessageType => "unknown_message_type",
        }
    }
}

/// Why one record could not become a document. The record is dead-lettered with this reason.
///
/// The reason may quote the record (serde names the value it choked on), so it belongs in the
/// dead letter, next to the raw record, and never in a log line: logs take [`RecordError::kind`]
/// and [`RecordError::position`] only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    /// A short stable name (`bad_json`, `missing_field`, …).
    pub kind: &'static str,
    /// A human-readable reason, for the dead letter.
    pub reason: String,
    /// Where in the record parsing stopped, when a parser said so.
    pub position: Option<Position>,
}

/// A place in a record: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The line.
    pub line: usize,
    /// The column.
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {} column {}", self.line, self.column)
    }
}

impl RecordError {
    /// A new record error.
    pub fn new(kind: &'static str, reason: impl Into<String>) -> Self {
        Self { kind, reason: reason.into(), position: None }
    }

    /// A record that JSON could not take: `context: <serde's message>`, with serde's position.
    pub fn json(kind: &'static str, context: &str, e: &serde_json::Error) -> Self {
        let position = (e.line() > 0).then(|| Position { line: e.line(), column: e.column() });
        let reason = if context.is_empty() { e.to_string() } else { format!("{context}: {e}") };
        Self { kind, reason, position }
    }

    /// What a log line may say of this error: its kind and, if known, where parsing stopped.
    pub fn loggable_position(&self) -> String {
        self.position.map_or_else(|| "-".to_owned(), |p| p.to_string())
    }
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.reason)
    }
}

impl std::error::Error for RecordError {}

/// Delivery failed in a way that must fail the invocation, so that Lambda (or Firehose) retries
/// it; deterministic document ids make that retry safe.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// Retryable failures remained when the time budget or attempt limit was spent.
    #[error("{remaining} documents still failing after {attempts} attempts ({last_reason})")]
    RetriesExhausted {
        /// Documents not yet written.
        remaining: usize,
        /// Attempts made.
        attempts: u32,
        /// The last failure seen.
        last_reason: String,
    },
    /// The cluster refused the request as a whole (authentication, authorisation, bad endpoint).
    #[error("OpenSearch refused the bulk request with status {status}: {reason}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The reason the server gave, shortened.
        reason: String,
    },
    /// A dead-letter document could not be written: that would lose data.
    #[error("{count} dead-letter documents could not be written: {reason}")]
    DeadLetterFailed {
        /// How many.
        count: usize,
        /// The first reason.
        reason: String,
    },
    /// Firehose refused records in a way retrying cannot fix (unknown stream, access denied, a
    /// record over the size limit).
    #[error("Firehose refused the records: {0}")]
    PutRefused(String),
    /// Credentials could not be obtained (STS or the credentials endpoint failing): retried
    /// within the budget, then the invocation fails.
    #[error("no credentials to sign with: {0}")]
    Credentials(String),
    /// The request could not be signed.
    #[error("could not sign the request: {0}")]
    Signing(String),
    /// The function is not configured for this kind of event (no sink for it).
    #[error("not configured for this event: {0}")]
    NotConfigured(String),
    /// The function's own setup is unusable (its HTTP client, an index or dead-letter name): no
    /// request was sent.
    #[error("the function's setup is unusable: {0}")]
    Setup(String),
}

impl DeliveryError {
    /// A stable error type for the Lambda runtime's error response.
    #[must_use]
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::RetriesExhausted { .. } => "RetriesExhausted",
            Self::Refused { .. } => "BulkRefused",
            Self::DeadLetterFailed { .. } => "DeadLetterFailed",
            Self::PutRefused(_) => "PutRefused",
            Self::Credentials(_) => "NoCredentials",
            Self::Signing(_) => "SigningFailed",
            Self::NotConfigured(_) => "NotConfigured",
            Self::Setup(_) => "SetupFailed",
        }
    }
}

impl From<DeliveryError> for lambda_runtime::Diagnostic {
    fn from(e: DeliveryError) -> Self {
        Self { error_type: e.error_type().to_owned(), error_message: e.to_string() }
    }
}
