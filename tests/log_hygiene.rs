//! No payload fragment reaches a log line. Records carrying a marker string go through every path
//! that logs a refusal (a Firehose record that is not JSON, an EventBridge event whose detail holds
//! no findings, a CloudWatch Logs payload that is not a log message, a document the cluster refuses);
//! the marker must appear in no log line and no summary line, and still be kept where it belongs:
//! in the dead letter, with the full reason.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use seclog_core::decode::gzip_base64;
use seclog_e2e::{deps, fast_config, run, server};
use serde_json::json;

const MARKER: &str = "MARKER-c0ffee-payload";

#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn no_payload_fragment_is_logged() {
    let logs = Logs::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();
    let summaries = seclog_core::telemetry::capture();

    // Firehose: a record that is a JSON string, not an object.
    let record = format!("\"{MARKER}\"");
    let waf = seclog_testkit::invariants::firehose(&[record.as_bytes()], &seclog_waf::WafTransform::default());
    assert_eq!(waf.failed, 1);

    // EventBridge: the detail is a string, not findings.
    let event = json!({"version": "0", "id": "e-1", "detail-type": "Security Hub Findings - Imported",
        "source": "aws.securityhub", "account": "111122223333", "time": "2024-01-01T00:00:00Z",
        "region": "eu-west-1", "resources": [], "detail": MARKER});
    let raw = serde_json::value::to_raw_value(&event).unwrap();
    assert_eq!(seclog_testkit::fuzzing::eventbridge_invariants(&raw).delivery.dead_lettered, 1);

    // CloudWatch Logs: the payload is a JSON string, not a log message.
    let transform = seclog_cloudtrail::transform::Transformer::new(
        seclog_core::index::IndexPattern::new("cloudtrail", seclog_core::index::Rotation::Daily).unwrap(),
    );
    let data = gzip_base64(format!("\"{MARKER}\"").as_bytes());
    assert_eq!(seclog_testkit::invariants::subscription(&data, &transform).delivery.dead_lettered, 1);

    // A document the cluster refuses (a keyword field given an object): dead-lettered by the sink.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let (server, client) = server().await;
        let bad = json!({"eventID": "bad-1", "eventTime": "2024-01-01T00:00:00Z", "eventName": "B",
                         "userIdentity": {"type": {MARKER: MARKER}}});
        let payload = json!({"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "g", "logStream": "s",
            "subscriptionFilters": [], "logEvents": [{"id": "1", "timestamp": 0, "message": bad.to_string()}]});
        let ev = seclog_core::envelope::cloudwatch_logs::CloudWatchLogsEvent {
            awslogs: seclog_core::envelope::cloudwatch_logs::AwsLogs {
                data: gzip_base64(payload.to_string().as_bytes()),
            },
        };
        let s = run(&deps(fast_config(server.url())), &[ev], Duration::from_secs(30)).await.unwrap();
        assert_eq!(s[0].delivery.dead_lettered, 1);
        let hit = client.search("*-deadletter-*", &json!({})).await.unwrap();
        let letter = &hit["hits"]["hits"][0]["_source"]["deadletter"];
        assert!(letter["raw"].as_str().unwrap().contains(MARKER), "the dead letter keeps the record");
    });

    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let printed = String::from_utf8(summaries.lock().unwrap().clone()).unwrap();
    assert!(logged.lines().count() >= 3, "the refusals were logged: {logged}");
    for line in logged.lines().chain(printed.lines()) {
        assert!(!line.contains(MARKER), "a payload fragment in a log line: {line}");
    }
}
