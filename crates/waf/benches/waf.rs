//! The WAF transformation step on a full 6 MB Firehose request of real CloudFront WAF logs,
//! against a plain per-record base64 decode + `serde_json::Value` parse + serialise + encode of
//! the same request (what the console's Node.js blueprint processor does).
#![allow(clippy::unwrap_used, missing_docs)]

use base64::Engine as _;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use seclog_core::envelope::firehose::{FirehoseEvent, FirehoseResponse};
use seclog_core::firehose::{process, Settings};
use seclog_core::sink::delivery_stream::MemoryRecordSink;
use serde_json::{json, Value};

/// The seclog step with `enricher`'s lookups, re-ingestion into memory included.
fn run(event: &FirehoseEvent, enricher: std::sync::Arc<seclog_enrich::Enricher>) -> FirehoseResponse {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let sink = MemoryRecordSink::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    let (response, _) = rt
        .block_on(process(event, &seclog_waf::WafTransform::new(enricher), &sink, &Settings::default(), deadline))
        .unwrap();
    response
}

/// Plain: decode, parse, date the timestamp (the blueprint's only change), serialise, encode.
fn plain(event: &FirehoseEvent) -> Vec<u8> {
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

const DESCRIPTION: &str = "real CloudFront WAF logs repeated to a 6 MB Firehose request";

fn bench(c: &mut Criterion) {
    let batch = seclog_testkit::batches::waf();
    seclog_testkit::batches::describe("waf/6MB", &batch, DESCRIPTION);
    let event = batch.event;
    let mut group = c.benchmark_group("waf/6MB");
    group.throughput(Throughput::Elements(event.records.len() as u64));
    group.sample_size(10).measurement_time(std::time::Duration::from_secs(10));
    group.bench_function("seclog transformation", |b| b.iter(|| run(&event, seclog_testkit::enricher())));
    let none = std::sync::Arc::new(seclog_enrich::Enricher::disabled());
    group.bench_function("seclog transformation, no lookups", |b| b.iter(|| run(&event, none.clone())));
    group.bench_function("plain decode+parse+serialise", |b| b.iter(|| plain(&event)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
