//! Every kind of bad input the issue lists, with its exact outcome, through the real handler.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use seclog_core::sink::delivery_stream::MemoryRecordSink;
use seclog_core::sink::MemorySink;
use seclog_core::telemetry::InvocationSummary;
use seclog_securityhub::config::{Config, Filters};
use seclog_securityhub::handler::{process, Delivery, Deps};
use seclog_securityhub::Severity;
use serde_json::{json, Value};

fn finding(id: &str, updated: &str) -> Value {
    json!({"SchemaVersion": "2018-10-08", "Id": id, "ProductArn": "arn:aws:securityhub:eu-west-1::product/aws/guardduty",
        "ProductName": "GuardDuty", "AwsAccountId": "111111111111", "Region": "eu-west-1", "CreatedAt": "2024-03-10T10:00:00Z",
        "UpdatedAt": updated, "Severity": {"Label": "MEDIUM"}, "RecordState": "ACTIVE", "Title": "t"})
}

fn imported(findings: &Value) -> Value {
    json!({"version": "0", "id": "e1", "detail-type": "Security Hub Findings - Imported", "source": "aws.securityhub",
        "account": "111111111111", "time": "2024-03-10T10:00:00Z", "region": "eu-west-1", "resources": [],
        "detail": {"findings": findings}})
}

/// Runs `event` with `config`: the summary and the documents sent (action line, body).
async fn run_with(event: &Value, config: Config) -> (InvocationSummary, Vec<(Value, Value)>) {
    let deps = Deps::<MemorySink, MemoryRecordSink>::new(Delivery::Bulk(MemorySink::new()), config);
    let raw = serde_json::value::to_raw_value(event).unwrap();
    let summary = process(&raw, &deps, tokio::time::Instant::now() + Duration::from_secs(5)).await.unwrap();
    let Delivery::Bulk(sink) = &deps.delivery else { unreachable!() };
    let lines: Vec<Value> = sink
        .take()
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    (summary, lines.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect())
}

async fn run(event: &Value) -> (InvocationSummary, Vec<(Value, Value)>) {
    run_with(event, Config::default()).await
}

fn dead_letter(doc: &(Value, Value)) -> (&str, &str) {
    let d = &doc.1["deadletter"];
    (d["error_type"].as_str().unwrap(), d["reason"].as_str().unwrap())
}

#[tokio::test]
async fn an_event_from_another_source_is_dead_lettered_whole() {
    let event = json!({"id": "e9", "detail-type": "Object Created", "source": "aws.s3", "detail": {"bucket": {}}});
    let (s, docs) = run(&event).await;
    assert_eq!((s.received, s.delivery.dead_lettered, s.delivery.indexed), (1, 1, 0));
    assert_eq!(
        dead_letter(&docs[0]),
        ("unsupported_event", "source `aws.s3` with detail-type `Object Created` is neither Security Hub findings nor a GuardDuty finding")
    );
    assert_eq!(docs[0].1["deadletter"]["record_id"], "e9");
    let (_, docs) = run(&json!([1, 2])).await;
    assert_eq!(dead_letter(&docs[0]).0, "bad_event");
}

#[tokio::test]
async fn findings_missing_or_empty() {
    let mut missing = imported(&json!([]));
    missing["detail"] = json!({"actionName": "x"});
    let (s, docs) = run(&missing).await;
    assert_eq!((s.received, s.delivery.dead_lettered), (1, 1));
    assert_eq!(dead_letter(&docs[0]), ("missing_field", "detail.findings is missing or null"));
    let (s, docs) = run(&imported(&json!([]))).await;
    assert_eq!(
        (s.received, s.delivery.indexed, s.delivery.dead_lettered, docs.len()),
        (0, 0, 0, 0),
        "nothing to do is a success"
    );
    let mut no_detail = imported(&json!([]));
    no_detail.as_object_mut().unwrap().remove("detail");
    assert_eq!(dead_letter(&run(&no_detail).await.1[0]), ("missing_field", "the event has no detail"));
}

#[tokio::test]
async fn a_finding_missing_id_or_updated_at_is_dead_lettered_alone() {
    let mut no_id = finding("x", "2024-03-10T11:00:00Z");
    no_id.as_object_mut().unwrap().remove("Id");
    let mut no_updated = finding("y", "2024-03-10T11:00:00Z");
    no_updated.as_object_mut().unwrap().remove("UpdatedAt");
    let event = imported(&json!([no_id, finding("ok", "2024-03-10T11:00:00Z"), no_updated]));
    let (s, docs) = run(&event).await;
    assert_eq!((s.received, s.delivery.indexed, s.delivery.dead_lettered), (3, 1, 2));
    assert_eq!(dead_letter(&docs[0]), ("missing_field", "Id is missing or not a non-empty string"));
    assert_eq!(docs[0].1["deadletter"]["record_id"], "e1/0");
    assert_eq!(docs[1].0["index"]["_index"], "securityhub-guardduty-2024.03");
    assert_eq!(docs[1].0["index"]["version_type"], "external");
    assert_eq!(dead_letter(&docs[2]), ("bad_timestamp", "UpdatedAt is missing"));
}

#[tokio::test]
async fn a_256_kb_event_with_many_findings_is_one_document_each() {
    let one = finding("finding-0000", "2024-03-10T11:00:00Z").to_string().len() + 1;
    let findings: Vec<Value> =
        (0..250_000 / one).map(|i| finding(&format!("finding-{i:04}"), "2024-03-10T11:00:00Z")).collect();
    let size = imported(&json!(findings)).to_string().len();
    assert!((240_000..=256 * 1024).contains(&size), "{size}");
    let (s, docs) = run(&imported(&json!(findings))).await;
    assert_eq!((s.received, s.delivery.indexed), (findings.len(), findings.len()));
    let ids: std::collections::HashSet<&str> = docs.iter().map(|d| d.0["index"]["_id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), findings.len(), "distinct ids");
}

#[tokio::test]
async fn unknown_extra_fields_are_kept() {
    let mut f = finding("x", "2024-03-10T11:00:00Z");
    f["NewAsffField"] = json!({"nested": [1, {"deeper": true}]});
    let mut event = imported(&json!([f]));
    event["detail"]["newDetailField"] = json!(1);
    event["brandNew"] = json!("x");
    let (s, docs) = run(&event).await;
    assert_eq!(s.delivery.indexed, 1);
    assert_eq!(docs[0].1["NewAsffField"]["nested"][1]["deeper"], true);
}

#[tokio::test]
async fn filters_drop_on_purpose() {
    let mut archived = finding("b", "2024-03-10T11:00:00Z");
    archived["RecordState"] = json!("ARCHIVED");
    let mut low = finding("c", "2024-03-10T11:00:00Z");
    low["Severity"] = json!({"Label": "LOW"});
    let mut config = finding("d", "2024-03-10T11:00:00Z");
    config["ProductName"] = json!("Config");
    let event = imported(&json!([finding("a", "2024-03-10T11:00:00Z"), archived, low, config]));
    let filters =
        Filters { min_severity: Some(Severity::Medium), products: vec!["guardduty".into()], active_only: true };
    let (s, docs) = run_with(&event, Config { filters, ..Config::default() }).await;
    assert_eq!((s.received, s.delivery.indexed, s.dropped, docs.len()), (4, 1, 3, 1));
    let (s, _) = run(
        &json!({"id": "i", "detail-type": "Security Hub Insight Results", "source": "aws.securityhub", "detail": {}}),
    )
    .await;
    assert_eq!((s.received, s.dropped, s.delivery.indexed), (1, 1, 0), "no findings in insight results: skipped");
}
