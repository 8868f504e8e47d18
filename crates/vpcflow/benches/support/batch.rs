//! The batch and the plain baseline, shared by the bench and the peak-memory example.

use base64::Engine as _;
use seclog_core::envelope::firehose::{FirehoseEvent, FirehoseResponse};
use seclog_core::firehose::{process, Settings};
use seclog_core::sink::firehose::MemoryRecordSink;
use seclog_vpcflow::DEFAULT_FORMAT;
use serde_json::{Map, Value};

/// Default-format flow-log lines, one per record, each distinct, to a 6 MB request.
pub(crate) fn batch() -> FirehoseEvent {
    seclog_testkit::firehose::request_at_limit("vpc-flow-logs-bench", |i| {
        let action = if i % 7 == 0 { "REJECT" } else { "ACCEPT" };
        format!(
            "2 123456789012 eni-0a1b2c3d4e5f60718 10.0.{}.{} 52.95.128.{} {} 443 6 {} {} {} {} {action} OK\n",
            i / 250 % 250,
            i % 250,
            i % 200,
            1024 + i % 60_000,
            1 + i % 40,
            100 + i * 13 % 90_000,
            1_699_999_800 + i % 3_600,
            1_699_999_860 + i % 3_600,
        )
        .into_bytes()
    })
}

/// The seclog step with `enricher`'s lookups, re-ingestion into memory included.
pub(crate) fn run(event: &FirehoseEvent, enricher: std::sync::Arc<seclog_enrich::Enricher>) -> FirehoseResponse {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let sink = MemoryRecordSink::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    let transform = seclog_vpcflow::VpcFlowTransform::default().with_enricher(enricher);
    let (response, _) = rt.block_on(process(event, &transform, &sink, &Settings::default(), deadline)).unwrap();
    response
}

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
