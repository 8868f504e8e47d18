//! The VPC Flow Logs transformation step on a full 6 MB Firehose request of default-format lines,
//! against a plain per-record base64 decode + split into a JSON object of strings + serialise +
//! encode of the same request.
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
    let transform = seclog_vpcflow::VpcFlowTransform::default().with_enricher(enricher);
    let (response, _) = rt.block_on(process(event, &transform, &sink, &Settings::default(), deadline)).unwrap();
    response
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
