//! The plain baseline of the WAF benches: what the console's Node.js blueprint processor does
//! with the same request.

use base64::Engine as _;
use seclog_core::envelope::firehose::FirehoseEvent;
use serde_json::{json, Value};

/// Plain: decode, parse, date the timestamp (the blueprint's only change), serialise, encode.
pub(crate) fn plain(event: &FirehoseEvent) -> Vec<u8> {
    let engine = base64::engine::general_purpose::STANDARD;
    let records: Vec<Value> = event
        .records
        .iter()
        .map(|r| {
            let bytes = engine.decode(&r.data).unwrap();
            let mut log: Value = serde_json::from_slice(&bytes).unwrap();
            let ms = log["timestamp"].as_i64().unwrap_or(0);
            log["timestamp"] = json!(chrono::DateTime::from_timestamp_millis(ms).unwrap().to_rfc3339());
            json!({"recordId": r.record_id, "result": "Ok", "data": engine.encode(serde_json::to_vec(&log).unwrap())})
        })
        .collect();
    serde_json::to_vec(&json!({ "records": records })).unwrap()
}
