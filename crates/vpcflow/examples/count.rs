//! Runs the VPC Flow Logs step (or the plain baseline) on the bench's 6 MB Firehose request a
//! fixed number of times, for instruction counting:
//! `valgrind --tool=callgrind target/release/examples/count-vpcflow handler|plain <n>`.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../benches/support/baseline.rs"]
mod baseline;

fn main() {
    let transform = seclog_vpcflow::VpcFlowTransform::default().with_enricher(seclog_testkit::enricher());
    seclog_testkit::count::firehose_main(&seclog_testkit::batches::vpcflow().event, &transform, baseline::plain);
}
