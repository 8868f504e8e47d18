//! What a handler prints: one JSON line per invocation that is also a CloudWatch Embedded Metric
//! Format document, whose metrics agree with what the invocation did. The lines are captured from
//! the real handlers (the CloudWatch Logs subscription path against a real `osmem-server` behind the
//! fault proxy, and the Firehose path), then parsed as CloudWatch would.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use seclog_core::telemetry::{capture, InvocationSummary};
use seclog_e2e::{deps, event, fast_config, run, server};
use seclog_testkit::firehose_golden::assert_outcome;
use seclog_testkit::proxy::{Fault, FaultProxy};
use serde_json::Value;

/// The captured lines since the last call, each parsed and checked against the EMF specification:
/// an `_aws` block with a millisecond timestamp, namespace `seclog`, dimension `dataset` present as
/// a string member, and every declared metric present as a number or an array of numbers.
fn lines(buffer: &std::sync::Mutex<Vec<u8>>) -> Vec<Value> {
    let bytes = std::mem::take(&mut *buffer.lock().unwrap());
    let text = String::from_utf8(bytes).unwrap();
    text.lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap();
            let aws = &v["_aws"];
            assert!(aws["Timestamp"].as_i64().unwrap() > 1_700_000_000_000);
            let [directive] = aws["CloudWatchMetrics"].as_array().unwrap().as_slice() else { panic!("one directive") };
            assert_eq!(directive["Namespace"], "seclog");
            assert_eq!(directive["Dimensions"], serde_json::json!([["dataset"]]));
            assert!(v["dataset"].as_str().unwrap().starts_with("aws."));
            assert_eq!(v["message"], "Invocation summary.");
            for metric in directive["Metrics"].as_array().unwrap() {
                let name = metric["Name"].as_str().unwrap();
                assert!(["Count", "Bytes", "Milliseconds"].contains(&metric["Unit"].as_str().unwrap()));
                let value = &v[name];
                let numbers = value.as_array().map_or_else(|| vec![value.clone()], Clone::clone);
                assert!(!numbers.is_empty() && numbers.iter().all(Value::is_u64), "{name}: {value}");
            }
            v
        })
        .collect()
}

fn metric(line: &Value, name: &str) -> u64 {
    line[name].as_u64().unwrap_or_else(|| panic!("{name} in {line}"))
}

#[tokio::test]
async fn every_invocation_prints_one_summary_line_whose_metrics_match_what_it_did() {
    let buffer = capture();

    // CloudTrail through partial bulk failures: retries and latencies are counted.
    let (server, _client) = server().await;
    let proxy = FaultProxy::start(server.url(), vec![Fault::PartialBulk { every: 4, status: 429 }]).await;
    let summaries =
        run(&deps(fast_config(&proxy.url())), &[event("stratus-red-team")], Duration::from_secs(30)).await.unwrap();
    let [summary]: [InvocationSummary; 1] = summaries.try_into().unwrap();
    let [line] = lines(&buffer).try_into().unwrap();
    assert_eq!(line["dataset"], "aws.cloudtrail");
    assert_eq!(metric(&line, "RecordsIn"), summary.received as u64);
    assert_eq!(metric(&line, "Indexed"), summary.delivery.indexed as u64);
    assert!(summary.delivery.indexed > 0);
    assert_eq!(metric(&line, "DeadLettered"), summary.delivery.dead_lettered as u64);
    assert_eq!(metric(&line, "Retried"), proxy.stats().items_failed as u64);
    assert!(summary.delivery.retried > 0);
    assert_eq!(metric(&line, "BulkRequests"), summary.delivery.bulk_requests as u64);
    assert_eq!(line["BulkLatency"].as_array().unwrap().len(), summary.delivery.bulk_requests);
    assert_eq!(metric(&line, "BytesSent"), summary.delivery.bytes_sent as u64);
    assert_eq!(metric(&line, "Dropped"), 0);
    assert_eq!(metric(&line, "Duration"), summary.duration_ms);

    // An invocation that fails still prints its line, with Failed: 1.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    run(&deps(fast_config(&closed)), &[event("stratus-red-team")], Duration::from_millis(500)).await.unwrap_err();
    let [line] = lines(&buffer).try_into().unwrap();
    assert_eq!(metric(&line, "Failed"), 1);
    assert_eq!(metric(&line, "Indexed"), 0);
    assert!(metric(&line, "RecordsIn") > 0);

    // A control message: its records are dropped on purpose, by rule.
    let summaries =
        run(&deps(fast_config(&proxy.url())), &[event("synthetic-control-message")], Duration::from_secs(30))
            .await
            .unwrap();
    let [line] = lines(&buffer).try_into().unwrap();
    assert!(summaries[0].dropped > 0);
    assert_eq!(metric(&line, "Dropped"), summaries[0].dropped as u64);
    assert_eq!(metric(&line, "Dropped.control_message"), summaries[0].dropped as u64);
    assert_eq!(metric(&line, "Indexed"), 0);
    assert!(line.get("BulkLatency").is_none(), "no request, no latency sample");

    // The Firehose path: control messages and header-only records are dropped by their rules.
    let input = seclog_testkit::fixtures("vpcflow").join("synthetic-envelopes-and-bad-input.input.json");
    let transform = seclog_vpcflow::VpcFlowTransform::default().with_enricher(seclog_testkit::enricher());
    let summary = assert_outcome(&input, &transform).await;
    let [line] = lines(&buffer).try_into().unwrap();
    assert_eq!(line["dataset"], "aws.vpcflow");
    assert_eq!(metric(&line, "RecordsIn"), summary.received as u64);
    assert_eq!(metric(&line, "Ok"), summary.ok as u64);
    assert_eq!(metric(&line, "ProcessingFailed"), summary.failed as u64);
    assert_eq!(summary.dropped, 2);
    assert_eq!(metric(&line, "Dropped"), 2);
    assert_eq!(metric(&line, "Dropped.control_message"), 1);
    assert_eq!(metric(&line, "Dropped.header_line"), 1);
    assert_eq!(metric(&line, "Reingested"), summary.reingested as u64);
    assert_eq!(metric(&line, "ResponseBytes"), summary.response_bytes as u64);
}
