//! Recorded events → the exact bulk NDJSON sent, for every fixture, in name order.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use seclog_core::sink::delivery_stream::MemoryRecordSink;
use seclog_core::sink::MemorySink;
use seclog_securityhub::config::Config;
use seclog_securityhub::handler::{process, Delivery, Deps};
use seclog_testkit::golden::{assert_golden, load};
use seclog_testkit::{inputs, sibling};
use serde_json::value::RawValue;

#[tokio::test]
async fn every_fixture_matches_its_golden_output() {
    let mut deps = Deps::<MemorySink, MemoryRecordSink>::new(Delivery::Bulk(MemorySink::new()), Config::default())
        .with_enricher(seclog_testkit::enricher());
    deps.clock = seclog_testkit::golden::clock;
    let Delivery::Bulk(sink) = &deps.delivery else { unreachable!() };
    for input in inputs("securityhub") {
        let event: Box<RawValue> = load(&input);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let s = process(&event, &deps, deadline).await.unwrap();
        assert_eq!(
            s.delivery.indexed + s.delivery.dead_lettered + s.dropped,
            s.received,
            "{}: every finding is accounted for",
            input.display()
        );
        assert_golden(&sibling(&input, ".expected.ndjson"), &sink.take());
    }
}
