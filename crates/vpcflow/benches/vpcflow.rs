//! The VPC Flow Logs transformation step on a full 6 MB Firehose request of default-format lines,
//! against a plain per-record base64 decode + split into a JSON object of strings + serialise +
//! encode of the same request.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "support/baseline.rs"]
mod baseline;

use criterion::{criterion_group, criterion_main, Criterion};

fn bench(c: &mut Criterion) {
    seclog_testkit::bench::firehose_group(
        c,
        "vpcflow/6MB",
        (
            seclog_testkit::batches::vpcflow(),
            "default-format flow-log lines, one per record, to a 6 MB Firehose request",
        ),
        |enricher| seclog_vpcflow::VpcFlowTransform::default().with_enricher(enricher),
        ("plain decode+split+serialise", baseline::plain),
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
