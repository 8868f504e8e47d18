//! The `CloudWatch` Logs subscription event.
//!
//! Lambda receives `{"awslogs":{"data":"<base64 of gzip of the payload>"}}`; the payload is
//! `{messageType, owner, logGroup, logStream, subscriptionFilters, logEvents[{id, timestamp,
//! message}]}`. See
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#LambdaFunctionExample>.
//!
//! Decoding is two-stage: [`CloudWatchLogsEvent`] is owned (the runtime needs that), then
//! [`decode()`] gunzips once into an owned buffer and [`LogsPayload`] borrows from it.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{decode, DecodeError};

/// The event as the Lambda runtime delivers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloudWatchLogsEvent {
    /// The encoded payload.
    pub awslogs: AwsLogs,
}

/// The `awslogs` member of the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsLogs {
    /// Base64 of the gzip-compressed [`LogsPayload`] JSON.
    pub data: String,
}

/// What the subscription delivers: log data, or a control message that checks reachability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MessageType {
    /// Log events to process.
    DataMessage,
    /// A reachability check: acknowledged, produces nothing.
    ControlMessage,
    /// A type AWS may add later. Nothing says it may be dropped, so it is not a control message:
    /// the payload is dead-lettered whole (`unknown_message_type`), never silently acknowledged.
    #[serde(other)]
    Unknown,
}

/// The decoded payload. Borrows from the decompressed buffer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogsPayload<'a> {
    /// Data or control.
    pub message_type: MessageType,
    /// The account that owns the log group.
    #[serde(borrow, default)]
    pub owner: Cow<'a, str>,
    /// The log group name.
    #[serde(borrow, default)]
    pub log_group: Cow<'a, str>,
    /// The log stream name.
    #[serde(borrow, default)]
    pub log_stream: Cow<'a, str>,
    /// The subscription filters that matched.
    #[serde(borrow, default)]
    pub subscription_filters: Vec<Cow<'a, str>>,
    /// The log events (empty for control messages).
    #[serde(borrow, default)]
    pub log_events: Vec<LogEvent<'a>>,
    /// Keys AWS adds that we do not model (such as `policyLevel`), kept, never an error.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// One log event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEvent<'a> {
    /// `CloudWatch` Logs' unique id of the event: stable across redeliveries.
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// Ingestion time in epoch milliseconds.
    pub timestamp: i64,
    /// The log line.
    #[serde(borrow)]
    pub message: Cow<'a, str>,
}

/// Decodes `awslogs.data` into the JSON bytes of the payload, with a decompression cap.
///
/// # Errors
/// Bad base64, not compressed, corrupt, or over the cap.
pub fn decode(event: &CloudWatchLogsEvent, max_decoded: usize) -> Result<Vec<u8>, DecodeError> {
    decode::gunzip_base64(&event.awslogs.data, max_decoded)
}

/// Parses decoded payload bytes, borrowing from them.
///
/// # Errors
/// [`DecodeError::Json`] when the bytes are not a subscription payload (truncated, wrong types).
pub fn parse(bytes: &[u8]) -> Result<LogsPayload<'_>, DecodeError> {
    serde_json::from_slice(bytes).map_err(|source| DecodeError::Json { what: "CloudWatch Logs payload", source })
}

/// Encodes a payload into a Lambda event (for fixtures, tests and benchmarks).
///
/// # Errors
/// Only if the payload cannot be serialised, which does not happen for this type.
pub fn encode(payload: &LogsPayload<'_>) -> Result<CloudWatchLogsEvent, serde_json::Error> {
    let json = serde_json::to_vec(payload)?;
    Ok(CloudWatchLogsEvent { awslogs: AwsLogs { data: decode::gzip_base64(&json) } })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PAYLOAD: &str = r#"{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"logEvents":[{"id":"1","timestamp":1,"message":"{\"a\":1}"}],"policyLevel":"ACCOUNT_LEVEL_POLICY"}"#;

    fn event_of(json: &str) -> CloudWatchLogsEvent {
        CloudWatchLogsEvent { awslogs: AwsLogs { data: decode::gzip_base64(json.as_bytes()) } }
    }

    #[test]
    fn decodes_and_keeps_unknown_keys() {
        let bytes = decode(&event_of(PAYLOAD), 1 << 20).unwrap();
        let p = parse(&bytes).unwrap();
        assert_eq!(p.message_type, MessageType::DataMessage);
        assert_eq!(p.log_events.len(), 1);
        assert_eq!(p.log_events[0].message, r#"{"a":1}"#);
        assert_eq!(p.other["policyLevel"], "ACCOUNT_LEVEL_POLICY");
    }

    #[test]
    fn round_trips() {
        let bytes = decode(&event_of(PAYLOAD), 1 << 20).unwrap();
        let p = parse(&bytes).unwrap();
        let again = decode(&encode(&p).unwrap(), 1 << 20).unwrap();
        assert_eq!(parse(&again).unwrap(), p);
    }

    #[test]
    fn control_message() {
        let json = r#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}"#;
        let bytes = decode(&event_of(json), 1 << 20).unwrap();
        assert_eq!(parse(&bytes).unwrap().message_type, MessageType::ControlMessage);
    }

    #[test]
    fn truncated_and_wrong_typed_json_are_typed_errors() {
        for bad in [&PAYLOAD[..40], r#"{"messageType":"DATA_MESSAGE","logEvents":"nope"}"#, "[]", "null"] {
            let bytes = decode(&event_of(bad), 1 << 20).unwrap();
            assert!(matches!(parse(&bytes), Err(DecodeError::Json { .. })), "{bad}");
        }
    }

    #[test]
    fn the_runtime_event_round_trips() {
        let e = event_of(PAYLOAD);
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<CloudWatchLogsEvent>(&json).unwrap(), e);
    }

    proptest! {
        #[test]
        fn parse_never_panics(b in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse(&b);
        }
    }
}
