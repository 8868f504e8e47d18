//! The cloudtrail handler (decode, transform, bulk NDJSON encoding) against a plain base64 +
//! gunzip + `serde_json::Value` parse + serialise of the same event, on a real ~1 MB batch.
#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Duration;

#[path = "support/baseline.rs"]
mod baseline;

use baseline::plain;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use seclog_cloudtrail::config::FunctionConfig;
use seclog_cloudtrail::handler::{process, Deps};
use seclog_core::deadletter::DeadLetters;
use seclog_core::envelope::cloudwatch_logs::{self, CloudWatchLogsEvent};
use seclog_core::sink::MemorySink;
use seclog_testkit::batches::{describe, Batch};

fn load(name: &str) -> CloudWatchLogsEvent {
    seclog_testkit::golden::load(&seclog_testkit::fixtures("cloudtrail").join(format!("{name}.input.json")))
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let bare = || Deps::new(MemorySink::new(), DeadLetters::new("seclog").unwrap(), FunctionConfig::default());
    let (deps, no_lookups) = (bare().map_transformer(|t| t.with_enricher(seclog_testkit::enricher())), bare());
    let with_rules =
        bare().map_transformer(|t| t.with_enricher(seclog_testkit::enricher()).with_rules(seclog_testkit::rules()));
    for name in ["invictus-ir-01", "stratus-red-team"] {
        let event = load(name);
        let decoded = cloudwatch_logs::decode(&event, 64 << 20).unwrap();
        let records = cloudwatch_logs::parse(&decoded).unwrap().log_events.len();
        let group_name = format!("cloudtrail/{name}");
        let batch = Batch { event: (), records, bytes: decoded.len() };
        describe(&group_name, &batch, &format!("the recorded subscription event `{name}`"));
        let mut group = c.benchmark_group(group_name);
        group.throughput(Throughput::Bytes(decoded.len() as u64));
        group.sample_size(20).measurement_time(Duration::from_secs(5));
        for (label, deps) in [
            ("seclog handler", &deps),
            ("seclog handler, with the bundled rules", &with_rules),
            ("seclog handler, no lookups", &no_lookups),
        ] {
            group.bench_function(label, |b| {
                b.iter(|| {
                    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
                    let summary = rt.block_on(process(&event, deps, deadline)).unwrap();
                    assert_eq!(summary.received, records);
                    deps.sink.take()
                });
            });
        }
        group.bench_function("plain gunzip+parse+serialise", |b| b.iter(|| plain(&event)));
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
