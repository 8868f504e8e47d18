//! The WAF transformation step on a full 6 MB Firehose request of real CloudFront WAF logs,
//! against a plain per-record base64 decode + `serde_json::Value` parse + serialise + encode of
//! the same request (what the console's Node.js blueprint processor does).
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "support/baseline.rs"]
mod baseline;

use baseline::plain;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use seclog_core::envelope::firehose::{FirehoseEvent, FirehoseResponse};
use seclog_core::firehose::{process, Settings};
use seclog_core::sink::delivery_stream::MemoryRecordSink;

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
