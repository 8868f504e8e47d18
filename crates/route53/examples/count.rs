//! Runs one path of the Route 53 bench on its input a fixed number of times, for instruction
//! counting: `valgrind --tool=callgrind target/release/examples/count-route53
//! resolver|public handler|handler-rules|plain <n>` (the machine's timers are noisy; instruction
//! counts are not).
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../benches/support/baseline.rs"]
mod baseline;

use std::time::Duration;

use seclog_core::sink::delivery_stream::MemoryRecordSink;
use seclog_core::sink::MemorySink;
use seclog_route53::config::Config;
use seclog_route53::handler::{process, Deps, Route53Event};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (input, path, n): (&str, &str, usize) = (&args[1], &args[2], args[3].parse().unwrap());
    let event = if input == "resolver" {
        Route53Event::Firehose(seclog_testkit::batches::route53_resolver().event)
    } else {
        Route53Event::Logs(seclog_testkit::batches::route53_public().event)
    };
    let deps = Deps::new(Some(MemorySink::new()), MemoryRecordSink::new(), Config::default())
        .map_transform(|t| t.with_enricher(seclog_testkit::enricher()));
    let deps =
        if path == "handler-rules" { deps.map_transform(|t| t.with_rules(seclog_testkit::rules())) } else { deps };
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let handler = || {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        rt.block_on(process(&event, &deps, deadline)).unwrap();
        deps.reingest.take().len() + deps.sink.as_ref().unwrap().take().len()
    };
    let plain = || match &event {
        Route53Event::Firehose(request) => baseline::plain_resolver(request).len(),
        Route53Event::Logs(logs) => baseline::plain_public(logs).len(),
    };
    println!("{}", seclog_testkit::count::repeat(path, n, handler, plain));
}
