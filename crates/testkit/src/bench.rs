//! The criterion group of the Firehose pipelines' benches (WAF, VPC Flow Logs): the step with
//! lookups, without them, and the plain baseline, on one full request.

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use seclog_core::envelope::firehose::FirehoseEvent;
use seclog_core::firehose::RecordTransform;
use seclog_enrich::Enricher;

use crate::batches::{describe, Batch};
use crate::count::firehose_step;

/// The group `name` on `batch` (`what` says what it is, for the report): `transform(enricher)`
/// with the default data's lookups and with none, against `plain` under the label `plain_label`.
pub fn firehose_group<T: RecordTransform>(
    c: &mut Criterion,
    name: &str,
    (batch, what): (Batch<FirehoseEvent>, &str),
    transform: impl Fn(Arc<Enricher>) -> T,
    (plain_label, plain): (&str, fn(&FirehoseEvent) -> Vec<u8>),
) {
    describe(name, &batch, what);
    let event = batch.event;
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(event.records.len() as u64));
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    for (label, enricher) in [
        ("seclog transformation", crate::enricher()),
        ("seclog transformation, no lookups", Arc::new(Enricher::disabled())),
    ] {
        let transform = transform(enricher);
        group.bench_function(label, |b| b.iter(|| firehose_step(&rt, &event, &transform)));
    }
    group.bench_function(plain_label, |b| b.iter(|| plain(&event)));
    group.finish();
}

/// The plain baselines' Firehose step: each record decoded, made into a JSON document by `doc`
/// (a parse, or a split into fields), serialised, encoded and answered `Ok`.
pub fn plain_firehose(event: &FirehoseEvent, doc: impl Fn(&[u8]) -> serde_json::Value) -> Vec<u8> {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    let records: Vec<serde_json::Value> = event
        .records
        .iter()
        .map(|r| {
            let data = engine.encode(serde_json::to_vec(&doc(&engine.decode(&r.data).unwrap())).unwrap());
            serde_json::json!({"recordId": r.record_id, "result": "Ok", "data": data})
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({ "records": records })).unwrap()
}
