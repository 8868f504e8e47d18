//! The plain baseline of the WAF benches: what the console's Node.js blueprint processor does
//! with the same request.

use seclog_core::envelope::firehose::FirehoseEvent;
use serde_json::{json, Value};

/// Plain: decode, parse, date the timestamp (the blueprint's only change), serialise, encode.
pub(crate) fn plain(event: &FirehoseEvent) -> Vec<u8> {
    seclog_testkit::bench::plain_firehose(event, |bytes| {
        let mut log: Value = serde_json::from_slice(bytes).unwrap();
        let ms = log["timestamp"].as_i64().unwrap_or(0);
        log["timestamp"] = json!(chrono::DateTime::from_timestamp_millis(ms).unwrap().to_rfc3339());
        log
    })
}
