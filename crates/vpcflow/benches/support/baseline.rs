//! The plain baseline of the VPC Flow Logs benches: what a minimal Firehose processor does with
//! the same request.

use base64::Engine as _;
use seclog_core::envelope::firehose::FirehoseEvent;
use seclog_vpcflow::DEFAULT_FORMAT;
use serde_json::{Map, Value};

/// Plain: decode, split on spaces, zip with the default field names into a JSON object of
/// strings (what a minimal Firehose processor does), serialise, encode.
pub(crate) fn plain(event: &FirehoseEvent) -> Vec<u8> {
    let engine = base64::engine::general_purpose::STANDARD;
    let names: Vec<&str> =
        DEFAULT_FORMAT.split_whitespace().map(|f| f.trim_start_matches("${").trim_end_matches('}')).collect();
    let records: Vec<Value> = event
        .records
        .iter()
        .map(|r| {
            let bytes = engine.decode(&r.data).unwrap();
            let line = std::str::from_utf8(&bytes).unwrap().trim_end();
            let doc: Map<String, Value> =
                names.iter().zip(line.split(' ')).map(|(n, v)| ((*n).to_owned(), Value::from(v))).collect();
            let data = engine.encode(serde_json::to_vec(&doc).unwrap());
            serde_json::json!({"recordId": r.record_id, "result": "Ok", "data": data})
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({ "records": records })).unwrap()
}
