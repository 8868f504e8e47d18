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
    /// What kind of record error it makes, in dead-letter documents and metrics.
    #[must_use]
    pub fn kind(&self) -> RecordKind {
        match self {
            Self::Base64(_) => RecordKind::BadBase64,
            Self::NotCompressed(_) => RecordKind::NotCompressed,
            Self::Decompress(_) => RecordKind::BadCompression,
            Self::TooLarge { .. } => RecordKind::TooLarge,
            Self::Json { .. } => RecordKind::BadJson,
            Self::UnknownMessageType => RecordKind::UnknownMessageType,
        }
    }
}

/// Why a record cannot be indexed: the stable names dead letters, metrics and logs carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::Display, strum::VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum RecordKind {
    /// Not the JSON expected (or not JSON at all).
    BadJson,
    /// Not valid base64.
    BadBase64,
    /// Neither gzip nor zlib where compressed data was expected.
    NotCompressed,
    /// A corrupt or truncated compressed stream.
    BadCompression,
    /// Larger than the configured cap once decompressed.
    TooLarge,
    /// A `CloudWatch` Logs payload of neither message type.
    UnknownMessageType,
    /// A field the record needs is absent (or empty, or not a string).
    MissingField,
    /// A time that is not a date.
    BadTimestamp,
    /// No time at all (a flow-log line without `start` or `end`).
    MissingTime,
    /// A text line of the wrong shape (a public query log line).
    BadLine,
    /// A record of the wrong shape.
    BadRecord,
    /// An index family name the record would produce is not valid.
    BadIndex,
    /// A flow-log header line that does not parse.
    BadHeader,
    /// An empty record.
    EmptyRecord,
    /// A part of a split record is larger than one Firehose record.
    PartTooLarge,
    /// The invocation's byte or part budget is spent.
    InvocationBudget,
    /// Not an `EventBridge` event, or its detail is not what the source sends.
    BadEvent,
    /// An `EventBridge` event from a source or of a type the function does not read.
    UnsupportedEvent,
    /// Text that is not UTF-8.
    BadUtf8,
    /// A time too far from now (`TIME_WINDOW_*`): no index would be right.
    TimeOutOfRange,
    /// A flow-log line with another number of fields than its format.
    FieldCount,
    /// A flow-log number field that is not a number.
    BadNumber,
    /// A flow-log address field that is not an IP address.
    BadAddress,
    /// A record of none of the kinds the function reads.
    UnknownRecord,
    /// An S3 object whose key matches none of the layouts the function reads.
    UnknownObject,
}

impl RecordKind {
    /// The stable name (`bad_json`, `missing_field`, …).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl PartialEq<&str> for RecordKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for RecordKind {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

/// Why one record could not become a document. The record is dead-lettered with this reason.
///
/// The reason may quote the record (serde names the value it choked on), so it belongs in the
/// dead letter, next to the raw record, and never in a log line: logs take [`RecordError::kind`]
/// and [`RecordError::position`] only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    /// What kind of error (its stable name: `bad_json`, `missing_field`, …).
    pub kind: RecordKind,
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
    pub fn new(kind: RecordKind, reason: impl Into<String>) -> Self {
        Self { kind, reason: reason.into(), position: None }
    }

    /// A record that JSON could not take: `context: <serde's message>`, with serde's position.
    pub fn json(kind: RecordKind, context: &str, e: &serde_json::Error) -> Self {
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
    #[error("Firehose refused the records")]
    PutRefused(#[source] PutRefusal),
    /// Credentials could not be obtained (STS or the credentials endpoint failing): retried
    /// within the budget, then the invocation fails.
    #[error("no credentials to sign with")]
    Credentials(#[source] aws_credential_types::provider::error::CredentialsError),
    /// The request could not be signed.
    #[error("could not sign the request")]
    Signing(#[source] SigningError),
    /// The function is not configured for this kind of event (no sink for it): what it would need.
    #[error("not configured for this event: {0}")]
    NotConfigured(&'static str),
    /// The documents could not be written to the output (`seclog replay --output FILE`).
    #[error("the documents could not be written to the output")]
    Output(#[source] std::io::Error),
    /// The function's own setup is unusable (its HTTP client, an index or dead-letter name): no
    /// request was sent.
    #[error("the function's setup is unusable")]
    Setup(#[source] SetupError),
}

/// Why Firehose will not take records.
#[derive(Debug, thiserror::Error)]
pub enum PutRefusal {
    /// A record larger than one Firehose record may be.
    #[error("a record of {bytes} bytes exceeds Firehose's {limit}-byte limit")]
    RecordTooLarge {
        /// The record's size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The service refused the call (unknown stream, access denied, …).
    #[error("{code}: {message}")]
    Service {
        /// The service's error code.
        code: String,
        /// Its message.
        message: String,
    },
    /// A record the SDK would not build.
    #[error("a record could not be built")]
    Build(#[source] aws_sdk_firehose::error::BuildError),
    /// Records must be re-ingested, but the event does not say into which stream.
    #[error("records must be re-ingested but the event has no deliveryStreamArn")]
    NoStream,
    /// Re-ingestion stopped settling records (`seclog replay`): the round it gave up in.
    #[error("re-ingestion did not settle (round {0})")]
    NotSettled(u32),
}

/// Why a request could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// The request itself could not be built.
    #[error("the request could not be built")]
    Request(#[source] http::Error),
    /// The signing parameters were incomplete.
    #[error("the signing parameters are incomplete")]
    Params(#[source] aws_sigv4::sign::v4::signing_params::BuildError),
    /// The signer refused the request.
    #[error("the signer refused the request")]
    Sign(#[source] aws_sigv4::http_request::SigningError),
    /// Basic-auth credentials that are not header text (the credentials are not repeated).
    #[error("basic auth credentials are not valid header text")]
    BasicAuth,
    /// The signed request could not be handed to the HTTP client.
    #[error("the signed request could not be sent")]
    Convert(#[source] reqwest::Error),
}

/// What of the function's own setup is unusable.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The HTTP client could not be built.
    #[error("the HTTP client could not be built")]
    HttpClient(#[source] reqwest::Error),
    /// A family name is not a valid index name.
    #[error("family `{family}`")]
    Family {
        /// The family.
        family: String,
        /// What is wrong with it.
        #[source]
        source: crate::index::IndexNameError,
    },
    /// An index name that makes no URL with the endpoint.
    #[error("index `{index}`")]
    IndexUrl {
        /// The index.
        index: String,
        /// The URL parser's error.
        #[source]
        source: url::ParseError,
    },
}

/// An error and its sources, `: `-separated (`a: b: c`): what a log line or the Lambda error
/// response shows.
#[derive(Debug, Clone, Copy)]
pub struct Chain<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
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
            Self::Output(_) => "OutputFailed",
            Self::Setup(_) => "SetupFailed",
        }
    }
}

impl From<DeliveryError> for lambda_runtime::Diagnostic {
    fn from(e: DeliveryError) -> Self {
        Self { error_type: e.error_type().to_owned(), error_message: Chain(&e).to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_is_said_once_in_the_chain() {
        let refused = DeliveryError::PutRefused(PutRefusal::NotSettled(4));
        assert_eq!(Chain(&refused).to_string(), "Firehose refused the records: re-ingestion did not settle (round 4)");
        let diagnostic = lambda_runtime::Diagnostic::from(refused);
        assert_eq!(diagnostic.error_message, "Firehose refused the records: re-ingestion did not settle (round 4)");
    }

    /// Dead letters (`error.type`), the `Dropped` metrics, dashboards and alarms read these names:
    /// they do not change.
    #[test]
    fn record_kinds_and_drop_rules_keep_their_stable_names() {
        fn names<T: strum::VariantArray + Copy + Into<&'static str>>() -> Vec<&'static str> {
            T::VARIANTS.iter().map(|&v| v.into()).collect()
        }
        assert_eq!(
            names::<RecordKind>(),
            [
                "bad_json",
                "bad_base64",
                "not_compressed",
                "bad_compression",
                "too_large",
                "unknown_message_type",
                "missing_field",
                "bad_timestamp",
                "missing_time",
                "bad_line",
                "bad_record",
                "bad_index",
                "bad_header",
                "empty_record",
                "part_too_large",
                "invocation_budget",
                "bad_event",
                "unsupported_event",
                "bad_utf8",
                "time_out_of_range",
                "field_count",
                "bad_number",
                "bad_address",
                "unknown_record",
                "unknown_object"
            ]
        );
        assert_eq!(
            names::<crate::telemetry::DropRule>(),
            [
                "control_message",
                "detail_type",
                "digest_file",
                "empty_payload",
                "filter",
                "header_line",
                "object_gone",
                "test_event"
            ]
        );
    }
}
