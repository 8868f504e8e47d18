//! The `s3` function's object reader on the objects AWS writes at their usual large sizes — a
//! 50 MB (decompressed) CloudTrail file of recorded records and a 100 MB default-format flow-log
//! file — against a plain gunzip + parse into a JSON tree + serialise of the same bytes.
#![allow(clippy::unwrap_used, clippy::cast_precision_loss, missing_docs)]

#[path = "support/objects.rs"]
mod objects;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use objects::{flow_file, plain_flows, plain_trail, seclog, trail_file, FLOWS, TRAIL};
use seclog_core::decode::gzip;
use seclog_s3::transform::Transforms;

fn bench(c: &mut Criterion) {
    let transforms = Transforms::new(seclog_testkit::enricher(), seclog_testkit::rules());
    // `cargo bench` passes --bench: MiB; under `cargo test` (one unoptimised run of each) 16 KiB units.
    let unit = if std::env::args().any(|a| a == "--bench") { 1 << 20 } else { 1 << 14 };
    for (name, key, (file, n), plain) in [
        ("s3/cloudtrail-50MB", TRAIL, trail_file(50 * unit), plain_trail as fn(&[u8]) -> usize),
        ("s3/vpcflow-100MB", FLOWS, flow_file(100 * unit), plain_flows as fn(&[u8]) -> usize),
    ] {
        let object = gzip(&file);
        let what = format!(
            "a gzipped S3 object ({:.1} MiB compressed) read record by record",
            object.len() as f64 / 1_048_576.0
        );
        seclog_testkit::batches::describe(
            name,
            &seclog_testkit::batches::Batch { event: (), records: n, bytes: file.len() },
            &what,
        );
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(file.len() as u64));
        group.sample_size(10).measurement_time(std::time::Duration::from_secs(20));
        group.bench_function("seclog object reader", |b| b.iter(|| seclog(key, &object, &transforms)));
        group.bench_function("plain gunzip+parse+serialise", |b| b.iter(|| plain(&object)));
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
