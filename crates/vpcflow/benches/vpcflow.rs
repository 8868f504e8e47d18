//! The VPC Flow Logs transformation step on a full 6 MB Firehose request of default-format lines,
//! against a plain per-record base64 decode + split into a JSON object of strings + serialise +
//! encode of the same request.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "support/batch.rs"]
mod support;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use support::{batch, plain, run};

fn bench(c: &mut Criterion) {
    let event = batch();
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
