//! The plain baselines of the Route 53 benches: what a minimal forwarder does with the same bytes.
//! Shared by the criterion bench and the instruction-count example.

use seclog_core::envelope::cloudwatch_logs::{self, CloudWatchLogsEvent};
use seclog_core::envelope::firehose::FirehoseEvent;
use seclog_route53::PUBLIC_FIELDS;
use serde_json::{json, Map, Value};

/// Plain Firehose: decode, parse, add `@timestamp`, serialise, encode.
pub(crate) fn plain_resolver(event: &FirehoseEvent) -> Vec<u8> {
    seclog_testkit::bench::plain_firehose(event, |bytes| {
        let mut log: Value = serde_json::from_slice(bytes).unwrap();
        log["@timestamp"] = log["query_timestamp"].clone();
        log
    })
}

/// Plain subscription: gunzip, parse, split each line into its fields, serialise as bulk NDJSON.
pub(crate) fn plain_public(event: &CloudWatchLogsEvent) -> Vec<u8> {
    let bytes = cloudwatch_logs::decode(event, 64 << 20).unwrap();
    let payload: Value = serde_json::from_slice(&bytes).unwrap();
    let mut out = Vec::new();
    for e in payload["logEvents"].as_array().unwrap() {
        let line = e["message"].as_str().unwrap();
        let doc: Map<String, Value> =
            PUBLIC_FIELDS.iter().zip(line.split(' ')).map(|(n, v)| ((*n).to_owned(), Value::from(v))).collect();
        serde_json::to_writer(&mut out, &json!({"create": {"_index": "route53-public", "_id": e["id"]}})).unwrap();
        out.push(b'\n');
        serde_json::to_writer(&mut out, &doc).unwrap();
        out.push(b'\n');
    }
    out
}
