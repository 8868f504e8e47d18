//! The VPC Flow Logs transformation step on a full 6 MB Firehose request of default-format lines,
//! against a plain per-record base64 decode + split into a JSON object of strings + serialise +
//! encode of the same request.
#![allow(clippy::unwrap_used, missing_docs)]

use base64::Engine as _;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use seclog_core::envelope::firehose::{FirehoseEvent, FirehoseResponse};
use seclog_core::firehose::{process, Settings};
use seclog_core::sink::delivery_stream::MemoryRecordSink;
use seclog_vpcflow::DEFAULT_FORMAT;
use serde_json::{Map, Value};

/// The seclog step with `enricher`'s lookups, re-ingestion into memory included.
fn run(event: &FirehoseEvent, enricher: std::sync::Arc<seclog_enrich::Enricher>) -> FirehoseResponse {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let sink = MemoryRecordSink::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    let transform = seclog_vpcflow::VpcFlowTransform::default().with_enricher(enricher);
    let (response, _) = rt.block_on(process(event, &transform, &sink, &Settings::default(), deadline)).unwrap();
    response
}

/// Plain: decode, split on spaces, zip with the default field names into a JSON object of
/// strings (what a minimal Firehose processor does), serialise, encode.
fn plain(event: &FirehoseEvent) -> Vec<u8> {
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

const DESCRIPTION: &str = "default-format flow-log lines, one per record, to a 6 MB Firehose request";

fn bench(c: &mut Criterion) {
    let batch = seclog_testkit::batches::vpcflow();
    seclog_testkit::batches::describe("vpcflow/6MB", &batch, DESCRIPTION);
    let event = batch.event;
    let mut group = c.benchmark_group("vpcflow/6MB");
    group.throughput(Throughput::Elements(event.records.len() as u64));
    group.sample_size(10).measurement_time(std::time::Duration::from_secs(10));
    group.bench_function("seclog transformation", |b| b.iter(|| run(&event, seclog_testkit::enricher())));
    let none = std::sync::Arc::new(seclog_enrich::Enricher::disabled());
    group.bench_function("seclog transformation, no lookups", |b| b.iter(|| run(&event, none.clone())));
    group.bench_function("plain decode+split+serialise", |b| b.iter(|| plain(&event)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
