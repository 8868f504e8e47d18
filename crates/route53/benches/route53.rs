//! The `route53` function on its two triggers, each against a plain baseline of the same bytes:
//!
//! - Resolver query logs: a full 6 MB Firehose request, against per-record base64 decode +
//!   `serde_json::Value` parse + `@timestamp` + serialise + encode;
//! - public query logs: a 1 MB `CloudWatch` Logs subscription event delivered to a memory sink,
//!   against gunzip + payload parse + each line split into an object of its ten fields + serialise.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "support/baseline.rs"]
mod baseline;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use seclog_core::sink::delivery_stream::MemoryRecordSink;
use seclog_core::sink::MemorySink;
use seclog_route53::config::Config;
use seclog_route53::handler::{process, Deps, Route53Event};

fn deps() -> Deps<MemorySink, MemoryRecordSink> {
    Deps::new(Some(MemorySink::new()), MemoryRecordSink::new(), Config::default())
}

fn run(event: &Route53Event, deps: &Deps<MemorySink, MemoryRecordSink>) -> usize {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    rt.block_on(process(event, deps, deadline)).unwrap();
    // The records a Firehose request puts back are dropped too, or they pile up over the
    // iterations (5 MB each) and every later variant runs in a bigger heap.
    deps.reingest.take().len() + deps.sink.as_ref().unwrap().take().len()
}

fn deps_with_rules() -> Deps<MemorySink, MemoryRecordSink> {
    deps().map_transform(|t| t.with_enricher(seclog_testkit::enricher()).with_rules(seclog_testkit::rules()))
}

fn bench(c: &mut Criterion) {
    let (deps, no_lookups) = (deps().map_transform(|t| t.with_enricher(seclog_testkit::enricher())), deps());
    let with_rules = deps_with_rules();
    let batch = seclog_testkit::batches::route53_resolver();
    seclog_testkit::batches::describe(
        "route53/resolver-firehose-6MB",
        &batch,
        "distinct Resolver query-log records to a 6 MB Firehose request",
    );
    let request = batch.event;
    let mut group = c.benchmark_group("route53/resolver-firehose-6MB");
    group.throughput(Throughput::Elements(request.records.len() as u64));
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    let variants = [("", &deps), (", with the bundled rules", &with_rules), (", no lookups", &no_lookups)];
    let event = Route53Event::Firehose(request.clone());
    for (variant, deps) in variants {
        group.bench_function(format!("seclog transformation{variant}"), |b| b.iter(|| run(&event, deps)));
    }
    group.bench_function("plain decode+parse+serialise", |b| b.iter(|| baseline::plain_resolver(&request)));
    group.finish();

    let batch = seclog_testkit::batches::route53_public();
    seclog_testkit::batches::describe(
        "route53/public-subscription-1MB",
        &batch,
        "public query-log lines to a 1 MB subscription payload",
    );
    let (logs, n) = (batch.event, batch.records);
    let mut group = c.benchmark_group("route53/public-subscription-1MB");
    group.throughput(Throughput::Elements(n as u64));
    group.sample_size(20);
    let event = Route53Event::Logs(logs.clone());
    for (variant, deps) in variants {
        group.bench_function(format!("seclog handler{variant}"), |b| b.iter(|| run(&event, deps)));
    }
    group.bench_function("plain gunzip+parse+serialise", |b| b.iter(|| baseline::plain_public(&logs)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
