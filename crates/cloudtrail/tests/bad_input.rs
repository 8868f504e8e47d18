//! Every kind of bad input the issue lists, with its exact outcome, through the real handler.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use seclog_cloudtrail::config::FunctionConfig;
use seclog_cloudtrail::handler::{process, Deps};
use seclog_core::deadletter::DeadLetters;
use seclog_core::decode::gzip_base64;
use seclog_core::envelope::cloudwatch_logs::{AwsLogs, CloudWatchLogsEvent};
use seclog_core::sink::MemorySink;
use seclog_core::telemetry::InvocationSummary;
use serde_json::{json, Value};

fn deps() -> Deps<MemorySink> {
    let config = FunctionConfig { max_decoded_bytes: 1 << 20, ..FunctionConfig::default() };
    Deps::new(MemorySink::new(), DeadLetters::new("seclog").unwrap(), config)
}

async fn run(data: String) -> (InvocationSummary, Vec<Value>) {
    let deps = deps();
    let event = CloudWatchLogsEvent { awslogs: AwsLogs { data } };
    let summary = process(&event, &deps, tokio::time::Instant::now() + Duration::from_secs(5)).await.unwrap();
    let ndjson = deps.sink.take();
    let docs = ndjson.split(|b| *b == b'\n').filter(|l| !l.is_empty()).map(|l| serde_json::from_slice(l).unwrap());
    (summary, docs.collect())
}

/// The one dead letter a whole-payload failure produces: `(error_type, reason)`.
async fn payload_dead_letter(data: String) -> (String, String) {
    let (s, docs) = run(data).await;
    assert_eq!((s.received, s.delivery.dead_lettered, s.delivery.indexed), (1, 1, 0));
    assert_eq!(docs.len(), 2, "one action line, one document");
    assert!(docs[0]["create"]["_index"].as_str().unwrap().starts_with("seclog-deadletter-"));
    let letter = &docs[1]["deadletter"];
    assert!(letter["record_id"].as_str().unwrap().starts_with("payload-"));
    (letter["error_type"].as_str().unwrap().into(), letter["reason"].as_str().unwrap().into())
}

fn payload(events: &Value) -> String {
    let p = json!({"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "g", "logStream": "s",
                   "subscriptionFilters": ["f"], "logEvents": events});
    gzip_base64(p.to_string().as_bytes())
}

#[tokio::test]
async fn bad_base64() {
    let (kind, reason) = payload_dead_letter("not base64 at all!".into()).await;
    assert_eq!(kind, "bad_base64");
    assert!(reason.starts_with("payload is not valid base64"), "{reason}");
}

#[tokio::test]
async fn not_gzip() {
    use base64::Engine as _;
    let data = base64::engine::general_purpose::STANDARD.encode(br#"{"messageType":"DATA_MESSAGE"}"#);
    assert_eq!(payload_dead_letter(data).await.0, "not_compressed");
}

#[tokio::test]
async fn gzip_bomb_is_refused_at_the_cap() {
    // 16 MiB of zeros: about 16 KiB compressed; the cap is 1 MiB.
    let bomb = gzip_base64(&vec![0; 16 << 20]);
    let (kind, reason) = payload_dead_letter(bomb).await;
    assert_eq!(
        (kind.as_str(), reason.as_str()),
        ("too_large", "decompressed payload exceeds the cap of 1048576 bytes")
    );
}

#[tokio::test]
async fn truncated_envelope_json() {
    let data = gzip_base64(br#"{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1","#);
    assert_eq!(payload_dead_letter(data).await.0, "bad_json");
}

#[tokio::test]
async fn wrong_typed_envelope_json() {
    for bad in [json!({"messageType": "DATA_MESSAGE", "logEvents": "nope"}), json!([1, 2]), json!({"logEvents": []})] {
        let (kind, reason) = payload_dead_letter(gzip_base64(bad.to_string().as_bytes())).await;
        assert_eq!(kind, "bad_json", "{bad}");
        assert!(reason.starts_with("payload is not a valid CloudWatch Logs payload"), "{reason}");
    }
}

#[test]
fn wrong_typed_lambda_event_is_refused_by_the_runtime_type() {
    // The runtime deserialises the event before the handler runs; a wrong shape is an
    // invocation error (Lambda retries it twice, then its dead-letter queue keeps the event).
    assert!(serde_json::from_value::<CloudWatchLogsEvent>(json!({"awslogs": {"data": 5}})).is_err());
    assert!(serde_json::from_value::<CloudWatchLogsEvent>(json!({"records": []})).is_err());
}

#[tokio::test]
async fn control_message_is_acknowledged_and_produces_nothing() {
    let p = json!({"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
                   "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": 0, "message": "CWL CONTROL MESSAGE"}]});
    let (s, docs) = run(gzip_base64(p.to_string().as_bytes())).await;
    assert_eq!((s.received, s.dropped, s.delivery.indexed, s.delivery.dead_lettered), (1, 1, 0, 0));
    assert!(docs.is_empty());
}

#[tokio::test]
async fn empty_log_events() {
    let (s, docs) = run(payload(&json!([]))).await;
    assert_eq!((s.received, s.delivery.indexed, s.delivery.dead_lettered), (0, 0, 0));
    assert!(docs.is_empty());
}

#[tokio::test]
async fn bad_records_are_dead_lettered_and_the_rest_indexed() {
    let good = json!({"eventID": "e1", "eventTime": "2024-01-01T00:00:00Z"}).to_string();
    let events = json!([
        {"id": "1", "timestamp": 0, "message": good},
        {"id": "2", "timestamp": 0, "message": "plain text, not JSON"},
        {"id": "3", "timestamp": 0, "message": "{\"eventName\":\"NoId\",\"eventTime\":\"2024-01-01T00:00:00Z\"}"},
        {"id": "4", "timestamp": 0, "message": "{\"eventID\":\"e4\"}"},
        {"id": "5", "timestamp": 0, "message": "{\"eventID\":\"e5\",\"eventTime\":\"not a time\"}"},
    ]);
    let (s, docs) = run(payload(&events)).await;
    assert_eq!((s.received, s.delivery.indexed, s.delivery.dead_lettered), (5, 1, 4));
    let kinds: Vec<&str> = docs.iter().filter_map(|d| d["deadletter"]["error_type"].as_str()).collect();
    assert_eq!(kinds, ["bad_json", "missing_field", "missing_field", "bad_timestamp"]);
    let raws: Vec<&str> = docs.iter().filter_map(|d| d["deadletter"]["raw"].as_str()).collect();
    assert_eq!(raws[0], "plain text, not JSON", "the raw record is kept");
}

#[tokio::test]
async fn unknown_envelope_keys_are_tolerated() {
    let p = json!({"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "g", "logStream": "s",
                   "subscriptionFilters": [], "policyLevel": "ACCOUNT_LEVEL_POLICY", "somethingNew": {"x": 1},
                   "logEvents": [{"id": "1", "timestamp": 0, "message": "{\"eventID\":\"e\",\"eventTime\":\"2024-01-01T00:00:00Z\"}"}]});
    let (s, _) = run(gzip_base64(p.to_string().as_bytes())).await;
    assert_eq!((s.received, s.delivery.indexed), (1, 1));
}

#[tokio::test]
async fn a_pretty_printed_record_is_indexed_as_one_line() {
    let record = json!({"eventID": "e1", "eventTime": "2023-07-10T12:00:00Z", "eventName": "PutObject",
        "requestParameters": {"bucketName": "b", "key": "a\nb"}});
    let message = serde_json::to_string_pretty(&record).unwrap();
    let deps = deps();
    let event = CloudWatchLogsEvent {
        awslogs: AwsLogs { data: payload(&json!([{"id": "1", "timestamp": 1, "message": message}])) },
    };
    let summary = process(&event, &deps, tokio::time::Instant::now() + Duration::from_secs(5)).await.unwrap();
    assert_eq!(summary.delivery.indexed, 1);
    let ndjson = String::from_utf8(deps.sink.take()).unwrap();
    let lines: Vec<&str> = ndjson.lines().collect();
    assert_eq!(lines.len(), 2, "an action line and a one-line body: {ndjson}");
    let doc: Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(doc["requestParameters"]["key"], "a\nb");
}

#[tokio::test]
async fn an_unknown_message_type_is_dead_lettered_whole_not_dropped() {
    let p = json!({"messageType": "A_TYPE_AWS_ADDS_LATER", "owner": "1", "logGroup": "g", "logStream": "s",
                   "subscriptionFilters": ["f"], "logEvents": [{"id": "1", "timestamp": 0, "message": "{}"}]});
    let (kind, reason) = payload_dead_letter(gzip_base64(p.to_string().as_bytes())).await;
    assert_eq!(kind, "unknown_message_type");
    assert!(reason.contains("neither DATA_MESSAGE nor CONTROL_MESSAGE"), "{reason}");
}
