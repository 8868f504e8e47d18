//! Runs the WAF step (or the plain baseline) on the bench's 6 MB Firehose request a fixed number
//! of times, for instruction counting:
//! `valgrind --tool=callgrind target/release/examples/count handler|plain <n>` (the machine's
//! timers are noisy; instruction counts are not). Prints what the step answered.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../benches/support/baseline.rs"]
mod baseline;

use seclog_core::firehose::{process, Settings};
use seclog_core::sink::delivery_stream::MemoryRecordSink;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args[2].parse().unwrap();
    let event = seclog_testkit::batches::waf().event;
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let transform = seclog_waf::WafTransform::new(seclog_testkit::enricher());
    for _ in 0..n {
        if args[1] == "handler" {
            let sink = MemoryRecordSink::new();
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
            let (_, s) = rt.block_on(process(&event, &transform, &sink, &Settings::default(), deadline)).unwrap();
            println!(
                "received {} ok {} overflowed {} untransformed {}",
                s.received, s.ok, s.overflowed, s.untransformed
            );
        } else {
            println!("{}", baseline::plain(&event).len());
        }
    }
}
