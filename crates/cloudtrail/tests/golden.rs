//! Fixture in → expected bulk NDJSON out, compared exactly, for every recorded event.
#![allow(clippy::unwrap_used)]

use seclog_cloudtrail::config::FunctionConfig;
use seclog_cloudtrail::handler::{process, Deps};
use seclog_core::deadletter::DeadLetters;
use seclog_core::envelope::cloudwatch_logs;
use seclog_core::sink::MemorySink;
use seclog_testkit::golden::{assert_golden, load};
use seclog_testkit::{inputs, sibling};
use std::time::Duration;

#[tokio::test]
async fn every_fixture_matches_its_golden_output() {
    let config = FunctionConfig::default();
    let mut deps = Deps::new(MemorySink::new(), DeadLetters::new("seclog").unwrap(), config)
        .map_transformer(|t| t.with_enricher(seclog_testkit::enricher()).with_rules(seclog_testkit::rules()));
    deps.clock = seclog_testkit::golden::clock;
    for input in inputs("cloudtrail") {
        let event = load(&input);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let summary = process(&event, &deps, deadline).await.unwrap();
        let ndjson = deps.sink.take();
        assert_eq!(
            summary.delivery.indexed + summary.delivery.dead_lettered + summary.dropped,
            summary.received,
            "{}: every record is accounted for",
            input.display()
        );
        assert_golden(&sibling(&input, ".expected.ndjson"), &ndjson);
    }
}

#[test]
fn readable_payloads_match_the_encoded_events() {
    for input in inputs("cloudtrail") {
        let bytes = cloudwatch_logs::decode(&load(&input), 64 << 20).unwrap();
        let decoded: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let readable: serde_json::Value = load(&sibling(&input, ".payload.json"));
        assert_eq!(decoded, readable, "{}", input.display());
    }
}
