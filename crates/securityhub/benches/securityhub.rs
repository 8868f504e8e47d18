//! The `securityhub` handler on a 256 KB `EventBridge` event (its maximum) of real ASFF findings,
//! delivered to a memory sink, against a plain parse of the event + one `serde_json::Value` per
//! finding + serialise as bulk NDJSON.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "support/baseline.rs"]
mod baseline;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use seclog_core::sink::delivery_stream::MemoryRecordSink;
use seclog_core::sink::MemorySink;
use seclog_securityhub::config::Config;
use seclog_securityhub::handler::{process, Delivery, Deps};

fn bench(c: &mut Criterion) {
    let batch = seclog_testkit::batches::securityhub();
    seclog_testkit::batches::describe(
        "securityhub/256KB",
        &batch,
        "the recorded ASFF findings repeated to one 256 KB EventBridge event",
    );
    let (event, n) = (serde_json::value::to_raw_value(&batch.event).unwrap(), batch.records);
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let deps = |enricher| {
        Deps::<MemorySink, MemoryRecordSink>::new(Delivery::Bulk(MemorySink::new()), Config::default())
            .with_enricher(enricher)
    };
    let with = deps(seclog_testkit::enricher());
    let without = deps(std::sync::Arc::new(seclog_enrich::Enricher::disabled()));
    let mut group = c.benchmark_group("securityhub/256KB");
    group.throughput(Throughput::Elements(n as u64));
    group.sample_size(30);
    for (label, deps) in [("seclog handler", &with), ("seclog handler, no lookups", &without)] {
        group.bench_function(label, |b| {
            b.iter(|| {
                let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
                let s = rt.block_on(process(&event, deps, deadline)).unwrap();
                assert_eq!(s.delivery.indexed, n);
                let Delivery::Bulk(sink) = &deps.delivery else { unreachable!() };
                sink.take()
            });
        });
    }
    group.bench_function("plain parse+serialise", |b| b.iter(|| baseline::plain(&event)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
