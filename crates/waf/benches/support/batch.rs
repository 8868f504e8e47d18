//! The batch and the plain baseline, shared by the bench and the peak-memory example.

use base64::Engine as _;
use seclog_core::envelope::firehose::{FirehoseEvent, FirehoseResponse};
use seclog_core::firehose::{process, Settings};
use seclog_core::sink::firehose::MemoryRecordSink;
use serde_json::{json, Value};

/// Real CloudFront WAF logs repeated to a 6 MB request, each with its own request id.
pub(crate) fn batch() -> FirehoseEvent {
    let path = format!("{}/../../fixtures/waf/opensearch-catalog.input.json", env!("CARGO_MANIFEST_DIR"));
    let sample: FirehoseEvent = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let logs: Vec<Vec<u8>> =
        sample.records.iter().map(|r| base64::engine::general_purpose::STANDARD.decode(&r.data).unwrap()).collect();
    seclog_testkit::firehose::request_at_limit("aws-waf-logs-bench", |i| logs[i % logs.len()].clone())
}

/// The seclog step with `enricher`'s lookups, re-ingestion into memory included.
pub(crate) fn run(event: &FirehoseEvent, enricher: std::sync::Arc<seclog_enrich::Enricher>) -> FirehoseResponse {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let sink = MemoryRecordSink::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    let (response, _) = rt
        .block_on(process(event, &seclog_waf::WafTransform::new(enricher), &sink, &Settings::default(), deadline))
        .unwrap();
    response
}

/// Plain: decode, parse, date the timestamp (the seed's only change), serialise, encode.
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
