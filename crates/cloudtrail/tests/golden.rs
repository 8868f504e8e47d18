//! Fixture in → expected bulk NDJSON out, compared exactly, for every recorded event.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Utc};
use seclog_cloudtrail::config::FunctionConfig;
use seclog_cloudtrail::handler::{process, Deps};
use seclog_core::deadletter::DeadLetters;
use seclog_core::envelope::cloudwatch_logs::{self, CloudWatchLogsEvent};
use seclog_core::sink::MemorySink;
use seclog_testkit::{golden::assert_golden, inputs, sibling};
use std::time::Duration;

fn fixed_clock() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z").unwrap().to_utc()
}

fn deps() -> Deps<MemorySink> {
    let mut deps = Deps::new(MemorySink::new(), DeadLetters::new("seclog").unwrap(), FunctionConfig::default())
        .with_enricher(seclog_testkit::enricher())
        .with_rules(seclog_testkit::rules());
    deps.clock = fixed_clock;
    deps
}

fn load(path: &std::path::Path) -> CloudWatchLogsEvent {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[tokio::test]
async fn every_fixture_matches_its_golden_output() {
    let deps = deps();
    for input in inputs("cloudtrail") {
        let event = load(&input);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let summary = process(&event, &deps, deadline).await.unwrap();
        let ndjson = deps.sink.take();
        assert_eq!(
            summary.indexed + summary.dead_lettered + summary.dropped,
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
        let readable: serde_json::Value =
            serde_json::from_slice(&std::fs::read(sibling(&input, ".payload.json")).unwrap()).unwrap();
        assert_eq!(decoded, readable, "{}", input.display());
    }
}
