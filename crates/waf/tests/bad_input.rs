//! Exact outcomes for odd input, through the shared Firehose step and the WAF transform.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use base64::Engine as _;
use seclog_core::envelope::firehose::{FirehoseEvent, FirehoseRecord, FirehoseResponse, RecordResult};
use seclog_core::firehose::{process, Settings, TransformationSummary};
use seclog_core::sink::delivery_stream::MemoryRecordSink;
use seclog_waf::WafTransform;

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn request(records: Vec<String>) -> FirehoseEvent {
    FirehoseEvent {
        invocation_id: "i".into(),
        delivery_stream_arn: "arn:aws:firehose:us-east-1:123456789012:deliverystream/aws-waf-logs-test".into(),
        region: "us-east-1".into(),
        records: records
            .into_iter()
            .enumerate()
            .map(|(i, data)| FirehoseRecord { record_id: format!("{i}"), approximate_arrival_timestamp: None, data })
            .collect(),
    }
}

async fn run(event: &FirehoseEvent) -> (FirehoseResponse, TransformationSummary, Vec<Vec<u8>>) {
    let sink = MemoryRecordSink::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let (response, summary) =
        process(event, &WafTransform::default(), &sink, &Settings::default(), deadline).await.unwrap();
    assert_eq!(summary.response_bytes, serde_json::to_vec(&response).unwrap().len());
    (response, summary, sink.take().into_iter().map(|(_, r)| r).collect())
}

/// A WAF log of about `size` bytes (a long user agent).
fn log(i: usize, size: usize) -> String {
    let ua = "x".repeat(size.saturating_sub(300));
    format!(
        r#"{{"timestamp":{},"webaclId":"arn:aws:wafv2:us-east-1:123456789012:regional/webacl/a/1","action":"ALLOW","terminatingRuleId":"Default_Action","httpRequest":{{"clientIp":"198.51.100.{}","country":"US","headers":[{{"name":"user-agent","value":"{ua}"}}]}}}}"#,
        1_700_000_000_000_u64 + i as u64,
        i % 250
    )
}

#[tokio::test]
async fn an_empty_batch_is_an_empty_response() {
    let (response, summary, put) = run(&request(vec![])).await;
    assert!(response.records.is_empty() && put.is_empty());
    assert_eq!(summary.received, 0);
}

#[tokio::test]
async fn a_single_1_mb_record_is_transformed() {
    let (response, summary, put) = run(&request(vec![b64(log(0, 1_000_000).as_bytes())])).await;
    assert_eq!(response.records[0].result, RecordResult::Ok);
    assert_eq!((summary.ok, summary.overflowed), (1, 0));
    assert!(put.is_empty());
}

#[tokio::test]
async fn a_batch_at_the_6_mb_limit_answers_every_record_and_reingests_the_overflow() {
    let mut logs: Vec<String> = (0..6_000).map(|i| log(i, 700)).collect();
    while serde_json::to_vec(&request(logs.iter().map(|l| b64(l.as_bytes())).collect())).unwrap().len() > 6_291_456 {
        logs.pop();
    }
    let event = request(logs.iter().map(|l| b64(l.as_bytes())).collect());
    let (response, summary, put) = run(&event).await;
    assert_eq!(response.records.len(), logs.len());
    assert!(summary.response_bytes <= Settings::default().max_response_bytes);
    assert!(summary.overflowed > 0, "documents are larger than their logs");
    assert_eq!(summary.ok + summary.overflowed, logs.len());
    let overflowed: Vec<&[u8]> = logs
        .iter()
        .zip(&response.records)
        .filter(|(_, r)| r.result == RecordResult::Dropped)
        .map(|(l, _)| l.as_bytes())
        .collect();
    assert_eq!(put.iter().map(Vec::as_slice).collect::<Vec<_>>(), overflowed, "the originals, in order");
}

#[tokio::test]
async fn bad_records_fail_alone() {
    use RecordResult::{Ok as Kept, ProcessingFailed as Failed};
    let records = vec![
        "@@@".to_owned(),
        b64(b"{\"timestamp\":"),
        b64(br#"{"timestamp":"12:00"}"#),
        b64(br#"{"timestamp":1700000000000,"action":"ALLOW","unknownField":{"deep":[1,"a"]}}"#),
        b64(b"\"a string\""),
    ];
    let (response, _, _) = run(&request(records)).await;
    let results: Vec<_> = response.records.iter().map(|r| r.result).collect();
    assert_eq!(results, [Failed, Failed, Failed, Kept, Failed]);
}
