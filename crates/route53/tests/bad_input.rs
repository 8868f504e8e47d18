//! Every kind of bad input the issue lists, with its exact outcome, through the real handler on
//! both triggers.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use base64::Engine as _;
use seclog_core::decode::gzip_base64;
use seclog_core::envelope::cloudwatch_logs::{AwsLogs, CloudWatchLogsEvent};
use seclog_core::envelope::firehose::{FirehoseEvent, FirehoseRecord, RecordResult};
use seclog_core::sink::delivery_stream::MemoryRecordSink;
use seclog_core::sink::MemorySink;
use seclog_core::DeliveryError;
use seclog_route53::config::Config;
use seclog_route53::handler::{process, Deps, Route53Event, Route53Response};
use serde_json::{json, Value};

fn deps() -> Deps<MemorySink, MemoryRecordSink> {
    Deps::new(Some(MemorySink::new()), MemoryRecordSink::new(), Config::default())
}

fn deadline() -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(5)
}

/// One log event through the subscription path: the document it became (or its dead letter).
async fn via_logs(message: &str) -> Value {
    let deps = deps();
    let payload = json!({"messageType": "DATA_MESSAGE", "owner": "111122223333", "logGroup": "/aws/route53/example.com",
        "logStream": "Z1/IAD89-C3", "subscriptionFilters": ["f"],
        "logEvents": [{"id": "37925570582592924718011383573461958126", "timestamp": 1_700_000_000_000_i64, "message": message}]});
    let event = Route53Event::Logs(CloudWatchLogsEvent {
        awslogs: AwsLogs { data: gzip_base64(payload.to_string().as_bytes()) },
    });
    let Route53Response::Logs(summary) = process(&event, &deps, deadline()).await.unwrap() else { panic!() };
    assert_eq!(summary.received, 1);
    let ndjson = deps.sink.as_ref().unwrap().take();
    let lines: Vec<Value> =
        ndjson.split(|b| *b == b'\n').filter(|l| !l.is_empty()).map(|l| serde_json::from_slice(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "one action line, one document");
    lines[1].clone()
}

/// One record through the Firehose path: its result and, when `Ok`, its document.
async fn via_firehose(record: &[u8]) -> (RecordResult, Option<Value>) {
    let deps = deps();
    let event = Route53Event::Firehose(FirehoseEvent {
        invocation_id: "i".into(),
        delivery_stream_arn: "arn:aws:firehose:us-east-1:111122223333:deliverystream/s".into(),
        region: "us-east-1".into(),
        records: vec![FirehoseRecord::of_bytes("r1".into(), Some(1_700_000_000_000), record)],
    });
    let Route53Response::Firehose(response) = process(&event, &deps, deadline()).await.unwrap() else { panic!() };
    let answer = &response.records[0];
    let doc = (answer.result == RecordResult::Ok).then(|| {
        serde_json::from_slice(&base64::engine::general_purpose::STANDARD.decode(&answer.data).unwrap()).unwrap()
    });
    (answer.result, doc)
}

fn dead_letter(doc: &Value) -> (&str, &str) {
    (doc["deadletter"]["error_type"].as_str().unwrap(), doc["deadletter"]["reason"].as_str().unwrap())
}

#[tokio::test]
async fn a_line_with_too_few_fields_is_dead_lettered() {
    let doc = via_logs("1.0 2023-11-14T21:00:00Z Z1 example.com A NOERROR UDP IAD89-C3").await;
    assert_eq!(dead_letter(&doc), ("bad_line", "a public query log line has 10 fields, this one 8"));
    assert_eq!(doc["deadletter"]["raw"], "1.0 2023-11-14T21:00:00Z Z1 example.com A NOERROR UDP IAD89-C3");
}

#[tokio::test]
async fn a_bad_timestamp_is_refused_on_both_paths() {
    let doc = via_logs("1.0 2023-13-45T99:00:00Z Z1 example.com A NOERROR UDP IAD89-C3 8.8.8.8 -").await;
    assert_eq!(dead_letter(&doc), ("bad_timestamp", "query_timestamp `2023-13-45T99:00:00Z` is not a date"));
    let (result, _) = via_firehose(br#"{"query_name":"example.com.","query_timestamp":"1700000000"}"#).await;
    assert_eq!(result, RecordResult::ProcessingFailed);
}

#[tokio::test]
async fn non_ascii_and_escaped_names_are_indexed() {
    let record = json!({"query_timestamp": "2023-11-14T21:00:00Z", "query_name": "café.例え.jp.", "query_type": "A",
        "rcode": "NOERROR", "answers": [], "srcaddr": "10.0.0.1", "srcport": "5353"});
    let (result, doc) = via_firehose(record.to_string().as_bytes()).await;
    assert_eq!(result, RecordResult::Ok);
    let question = &doc.unwrap()["dns"]["question"];
    assert_eq!(question["name"], "café.例え.jp");
    assert_eq!(question["top_level_domain"], "jp");
    assert_eq!(question["registered_domain"], "例え.jp");
    assert_eq!(question["first_label"]["length"], 5, "bytes of `café`");

    let doc =
        via_logs("1.0 2023-11-14T21:00:00Z Z1 a\\032b\\\\c\\.d.example.com A NXDOMAIN UDP IAD89-C3 8.8.8.8 -").await;
    assert_eq!(doc["query_name"], "a\\032b\\\\c\\.d.example.com");
    assert_eq!(doc["dns"]["question"]["name"], "a\\032b\\\\c\\.d.example.com");
    assert_eq!(doc["dns"]["question"]["label_count"], 3, "escaped dots do not split labels");
    assert_eq!(doc["dns"]["question"]["first_label"]["length"], 7, "`a b\\c.d`");
}

#[tokio::test]
async fn an_empty_answers_list_has_no_answers_or_addresses() {
    let record = json!({"query_timestamp": "2023-11-14T21:00:00Z", "query_name": "nope.example.com.", "query_type": "A",
        "rcode": "NXDOMAIN", "answers": []});
    let (result, doc) = via_firehose(record.to_string().as_bytes()).await;
    assert_eq!(result, RecordResult::Ok);
    let doc = doc.unwrap();
    assert_eq!(doc["answers"], json!([]));
    assert_eq!((doc["dns"].get("answers"), doc["dns"].get("resolved_ip")), (None, None));
    assert_eq!(doc["dns"]["response_code"], "NXDOMAIN");
}

#[tokio::test]
async fn a_record_of_neither_kind_is_refused_clearly() {
    let doc = via_logs(r#"{"eventID":"e1","eventTime":"2023-11-14T21:00:00Z"}"#).await;
    let (kind, reason) = dead_letter(&doc);
    assert_eq!(kind, "unknown_record");
    assert!(reason.starts_with("neither a Resolver query log"), "{reason}");
    for record in [&b"2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK"[..], b"<html>", b"\xff\xfe"] {
        let (result, _) = via_firehose(record).await;
        assert_eq!(result, RecordResult::ProcessingFailed, "{}", String::from_utf8_lossy(record));
    }
}

#[tokio::test]
async fn an_event_of_neither_trigger_is_refused_clearly() {
    let e = serde_json::from_str::<Route53Event>(r#"{"source":"aws.securityhub","detail":{}}"#).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the event is neither a Firehose transformation request (`records`) nor a CloudWatch Logs subscription \
         event (`awslogs`)"
    );
}

#[tokio::test]
async fn a_subscription_event_without_an_endpoint_fails_the_invocation() {
    let deps: Deps<MemorySink, MemoryRecordSink> = Deps::new(None, MemoryRecordSink::new(), Config::default());
    let event = Route53Event::Logs(CloudWatchLogsEvent { awslogs: AwsLogs { data: gzip_base64(b"{}") } });
    let e = process(&event, &deps, deadline()).await.unwrap_err();
    assert!(matches!(e, DeliveryError::NotConfigured(_)), "{e}");
    assert_eq!(e.error_type(), "NotConfigured");
}
