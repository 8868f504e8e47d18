//! The WAF transformation step on a full 6 MB Firehose request of real CloudFront WAF logs,
//! against a plain per-record base64 decode + `serde_json::Value` parse + serialise + encode of
//! the same request (what the console's Node.js blueprint processor does).
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "support/baseline.rs"]
mod baseline;

use criterion::{criterion_group, criterion_main, Criterion};

fn bench(c: &mut Criterion) {
    seclog_testkit::bench::firehose_group(
        c,
        "waf/6MB",
        (seclog_testkit::batches::waf(), "real CloudFront WAF logs repeated to a 6 MB Firehose request"),
        seclog_waf::WafTransform::new,
        ("plain decode+parse+serialise", baseline::plain),
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
