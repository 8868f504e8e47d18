//! Runs one path of the benchmark a fixed number of times, for instruction counting:
//! `valgrind --tool=callgrind target/release/examples/count-cloudtrail handler|handler-rules|plain <fixture> <n>`
//! (`handler-lookups` and `handler-lookups-rules`: with the enrichment lookups, as deployed)
//! (the machine's timers are noisy; instruction counts are not).
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../benches/support/baseline.rs"]
mod baseline;

use std::time::Duration;

use seclog_cloudtrail::config::FunctionConfig;
use seclog_cloudtrail::handler::{process, Deps};
use seclog_core::deadletter::DeadLetters;
use seclog_core::envelope::cloudwatch_logs::CloudWatchLogsEvent;
use seclog_core::sink::MemorySink;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = seclog_testkit::fixtures("cloudtrail").join(format!("{}.input.json", args[2]));
    let event: CloudWatchLogsEvent = seclog_testkit::golden::load(&path);
    let n: usize = args[3].parse().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let deps = Deps::new(MemorySink::new(), DeadLetters::new("seclog").unwrap(), FunctionConfig::default());
    // `handler-rules`: the same handler evaluating the bundled rules; `-lookups`: with enrichment.
    let deps = if args[1].contains("-lookups") {
        deps.map_transformer(|t| t.with_enricher(seclog_testkit::enricher()))
    } else {
        deps
    };
    let deps = if args[1].ends_with("-rules") {
        deps.map_transformer(|t| t.with_rules(seclog_testkit::rules()))
    } else {
        deps
    };
    let handler = || {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        rt.block_on(process(&event, &deps, deadline)).unwrap();
        deps.sink.take().len()
    };
    println!("{}", seclog_testkit::count::repeat(&args[1], n, handler, || baseline::plain(&event).len()));
}
