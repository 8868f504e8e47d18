//! Runs the WAF step (or the plain baseline) on the bench's 6 MB Firehose request a fixed number
//! of times, for instruction counting:
//! `valgrind --tool=callgrind target/release/examples/count-waf handler|plain <n>`.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../benches/support/baseline.rs"]
mod baseline;

fn main() {
    let transform = seclog_waf::WafTransform::new(seclog_testkit::enricher());
    seclog_testkit::count::firehose_main(&seclog_testkit::batches::waf().event, &transform, baseline::plain);
}
