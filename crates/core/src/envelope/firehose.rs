//! The Firehose data-transformation request and response.
//!
//! Request `{invocationId, deliveryStreamArn, region, records[{recordId, approximateArrivalTimestamp,
//! data}]}`; response `{records[{recordId, result, data}]}`. See
//! <https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html>.
//!
//! `data` stays base64 text here and is decoded per record by the transformation: one bad record
//! must fail alone (`aws_lambda_events`' type decodes every record while deserialising the
//! event, so one bad record would fail the whole batch).

use serde::{Deserialize, Serialize};

/// The request as the Lambda runtime delivers it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FirehoseEvent {
    /// The invocation's id.
    pub invocation_id: String,
    /// `arn:aws:firehose:<region>:<account>:deliverystream/<name>`.
    pub delivery_stream_arn: String,
    /// The stream's region.
    pub region: String,
    /// The records to transform.
    pub records: Vec<FirehoseRecord>,
}

impl FirehoseEvent {
    /// The delivery stream's name, from its ARN.
    #[must_use]
    pub fn delivery_stream_name(&self) -> Option<&str> {
        self.delivery_stream_arn.split_once(":deliverystream/").map(|(_, name)| name).filter(|n| !n.is_empty())
    }
}

/// One record of the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FirehoseRecord {
    /// Echoed in the response.
    pub record_id: String,
    /// Epoch milliseconds.
    #[serde(default)]
    pub approximate_arrival_timestamp: Option<i64>,
    /// Base64 of the record's bytes.
    pub data: String,
}

impl FirehoseRecord {
    /// A record of `bytes`, base64-encoded as Firehose sends them (re-ingestion rounds of `seclog
    /// replay`, tests).
    #[must_use]
    pub fn of_bytes(record_id: String, approximate_arrival_timestamp: Option<i64>, bytes: &[u8]) -> Self {
        use base64::Engine as _;
        let data = base64::engine::general_purpose::STANDARD.encode(bytes);
        Self { record_id, approximate_arrival_timestamp, data }
    }
}

/// What became of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecordResult {
    /// Transformed; Firehose delivers `data`.
    Ok,
    /// Intentionally not delivered (a documented filter, or re-ingested as other records).
    Dropped,
    /// Could not be transformed; Firehose writes the original record to its error output.
    ProcessingFailed,
}

/// The response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirehoseResponse {
    /// One entry per request record, in request order.
    pub records: Vec<ResponseRecord>,
}

/// One record of the response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseRecord {
    /// The request record's id.
    pub record_id: String,
    /// Its outcome.
    pub result: RecordResult,
    /// Base64 of the transformed bytes; empty unless `result` is `Ok` (Firehose requires the
    /// field; for `ProcessingFailed` it writes the record it holds, not this).
    pub data: String,
}

impl ResponseRecord {
    /// Its size in the serialised response, with the separating comma.
    #[must_use]
    pub fn serialised_len(record_id: &str, result: RecordResult, data_len: usize) -> usize {
        let result_len = match result {
            RecordResult::Ok => 2,
            RecordResult::Dropped => 7,
            RecordResult::ProcessingFailed => 16,
        };
        // {"recordId":"…","result":"…","data":"…"},
        json_string_len(record_id) + result_len + data_len + 38
    }
}

/// The serialised length of `s` as a JSON string, without the quotes.
fn json_string_len(s: &str) -> usize {
    s.bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0..0x20 => 6,
            _ => 1,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_name_from_arn() {
        let mut e: FirehoseEvent = serde_json::from_str(r#"{"records":[]}"#).unwrap();
        assert_eq!(e.delivery_stream_name(), None);
        e.delivery_stream_arn = "arn:aws:firehose:us-east-1:123456789012:deliverystream/aws-waf-logs-x".into();
        assert_eq!(e.delivery_stream_name(), Some("aws-waf-logs-x"));
    }

    #[test]
    fn serialised_len_is_exact() {
        for (id, result, data) in [
            ("49546986683135544286507457936321625675700192471156785154", RecordResult::Ok, "eyJhIjoxfQ=="),
            ("id-with-\"quote\"\n\u{1}", RecordResult::Dropped, ""),
            ("x", RecordResult::ProcessingFailed, ""),
        ] {
            let r = ResponseRecord { record_id: id.into(), result, data: data.into() };
            let len = serde_json::to_string(&r).unwrap().len() + 1;
            assert_eq!(ResponseRecord::serialised_len(id, result, data.len()), len, "{id}");
        }
    }
}
