//! Recorded events → golden outputs, compared exactly: Firehose requests (the response and its
//! documents) and `CloudWatch` Logs subscription events (the exact bulk NDJSON sent).
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use seclog_core::envelope::cloudwatch_logs;
use seclog_core::sink::delivery_stream::MemoryRecordSink;
use seclog_core::sink::MemorySink;
use seclog_route53::config::Config;
use seclog_route53::handler::{process, Deps, Route53Event, Route53Response};
use seclog_route53::Route53Transform;
use seclog_testkit::firehose_golden::assert_outcome;
use seclog_testkit::golden::{assert_golden, load};
use seclog_testkit::{inputs, sibling};

#[tokio::test]
async fn every_fixture_matches_its_golden_output() {
    let (enricher, rules) = (seclog_testkit::enricher(), seclog_testkit::rules());
    let mut deps = Deps::new(Some(MemorySink::new()), MemoryRecordSink::new(), Config::default())
        .map_transform(|t| t.with_enricher(enricher.clone()).with_rules(rules.clone()));
    deps.clock = seclog_testkit::golden::clock;
    let transform = Route53Transform::default().with_enricher(enricher).with_rules(rules);
    for input in inputs("route53") {
        match load(&input) {
            Route53Event::Firehose(_) => {
                let s = assert_outcome(&input, &transform).await;
                assert_eq!(s.ok + s.dropped + s.failed + s.split + s.overflowed, s.received, "{}", input.display());
            }
            event @ Route53Event::Logs(_) => {
                let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
                let Route53Response::Logs(summary) = process(&event, &deps, deadline).await.unwrap() else {
                    panic!("{}: a subscription event has a summary", input.display())
                };
                assert_eq!(
                    summary.delivery.indexed + summary.delivery.dead_lettered + summary.dropped,
                    summary.received,
                    "{}: every log event is accounted for",
                    input.display()
                );
                assert_golden(&sibling(&input, ".expected.ndjson"), &deps.sink.as_ref().unwrap().take());
            }
        }
    }
}

#[test]
fn readable_payloads_match_the_encoded_events() {
    for input in inputs("route53") {
        let Route53Event::Logs(event) = load(&input) else { continue };
        let bytes = cloudwatch_logs::decode(&event, 64 << 20).unwrap();
        let decoded: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let readable: serde_json::Value = load(&sibling(&input, ".payload.json"));
        assert_eq!(decoded, readable, "{}", input.display());
    }
}
