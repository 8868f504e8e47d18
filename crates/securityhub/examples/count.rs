//! Runs one path of the Security Hub bench on its 256 KB event a fixed number of times, for
//! instruction counting: `valgrind --tool=callgrind target/release/examples/count-securityhub
//! handler|plain <n>` (the machine's timers are noisy; instruction counts are not).
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../benches/support/baseline.rs"]
mod baseline;

use std::time::Duration;

use seclog_core::sink::delivery_stream::MemoryRecordSink;
use seclog_core::sink::MemorySink;
use seclog_securityhub::config::Config;
use seclog_securityhub::handler::{process, Delivery, Deps};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (path, n): (&str, usize) = (&args[1], args[2].parse().unwrap());
    let event = serde_json::value::to_raw_value(&seclog_testkit::batches::securityhub().event).unwrap();
    let deps = Deps::<MemorySink, MemoryRecordSink>::new(Delivery::Bulk(MemorySink::new()), Config::default())
        .with_enricher(seclog_testkit::enricher());
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let handler = || {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        rt.block_on(process(&event, &deps, deadline)).unwrap();
        let Delivery::Bulk(sink) = &deps.delivery else { unreachable!() };
        sink.take().len()
    };
    println!("{}", seclog_testkit::count::repeat(path, n, handler, || baseline::plain(&event).len()));
}
