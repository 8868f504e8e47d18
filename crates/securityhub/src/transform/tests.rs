//! Unit tests of `transform` (and of what `finding` derives).

use super::*;
use crate::finding::{slug, Severity};
use chrono::{DateTime, SecondsFormat, Utc};
use seclog_core::config::FromEnv;
use serde_json::{json, Value};
use std::borrow::Cow;

fn origin() -> Origin<'static> {
    Origin { dataset: DATASET, record_id: Cow::Borrowed("e1/0"), raw: Cow::Borrowed("") }
}

fn run(finding: &Value, format: Format) -> Result<(Prepared<'static>, Value), RecordError> {
    let raw: &'static RawValue = Box::leak(serde_json::value::to_raw_value(finding).unwrap());
    let p = prepare(raw, format, "securityhub", TimeWindow::ANY, origin(), &Enricher::disabled(), "")?;
    let doc = serde_json::from_slice(&p.document.body).unwrap();
    Ok((p, doc))
}

#[test]
fn with_the_deployed_window_a_finding_created_far_from_now_names_no_index() {
    let window = crate::config::Config::from_env(&seclog_core::config::Env::from_lookup(|k| {
        (k == "DELIVERY_STREAM_NAME").then(|| "findings".to_owned())
    }))
    .unwrap()
    .window;
    assert_eq!(window, TimeWindow::default());
    let now = Utc::now();
    let finding = |created: DateTime<Utc>| {
        let created = created.to_rfc3339_opts(SecondsFormat::Millis, true);
        json!({"SchemaVersion": "2018-10-08", "Id": "f1", "ProductName": "GuardDuty", "CreatedAt": created,
            "UpdatedAt": created, "Severity": {"Label": "HIGH"}})
    };
    let prepare_at = |created| {
        let raw: &'static RawValue = Box::leak(serde_json::value::to_raw_value(&finding(created)).unwrap());
        prepare(raw, Format::Asff, "securityhub", window, origin(), &Enricher::disabled(), "").map(|p| p.document.index)
    };
    assert_eq!(prepare_at(now), Ok(now.format("securityhub-guardduty-%Y.%m").to_string()));
    for far in [now - chrono::TimeDelta::days(401), now + chrono::TimeDelta::days(8)] {
        assert_eq!(prepare_at(far).unwrap_err().kind, "time_out_of_range", "{far}");
    }
}

#[test]
fn versions_order_by_updated_at_then_break_ties_by_state() {
    let (a, b) = (r#"{"Workflow":{"Status":"NEW"}}"#, r#"{"Workflow":{"Status":"NOTIFIED"}}"#);
    assert!(version(1_001, a).unwrap() > version(1_000, b).unwrap());
    assert!(version(1_001, b).unwrap() > version(1_000, a).unwrap());
    assert_ne!(version(1_000, a), version(1_000, b), "these two states differ in their tie-break");
    assert_eq!(version(1_000, a), version(1_000, a));
    let spelt_otherwise = "{ \"Workflow\" : {\n  \"Status\": \"NEW\" } }";
    assert_eq!(version(1_000, a), version(1_000, spelt_otherwise), "formatting is not state");
    let (ab, ba) = (r#"{"A":1,"B":{"C":2,"D":3}}"#, r#"{"B":{"D":3,"C":2},"A":1}"#);
    assert_eq!(version(1_000, ab), version(1_000, ba), "nor is key order");
    // The tie-break is the first 16 bits of the canonical JSON's SHA-256, modulo 1000:
    // sha256(`{"Workflow":{"Status":"NEW"}}`) starts 7241, sha256(`{"A":1,"B":{"C":2,"D":3}}`) c201.
    assert_eq!(version(1_000, a), Some(1_000_000 + 0x7241 % 1000));
    assert_eq!(version(1_000, ba), Some(1_000_000 + 0xc201 % 1000));
    assert_eq!(version(-1, a), None);
    assert!(version(i64::MAX, a).is_none(), "never wraps");
}

#[test]
fn only_known_products_get_an_index_family_of_their_own() {
    assert_eq!(index_part("guardduty"), "guardduty");
    assert_eq!(index_part("security-hub"), "security-hub");
    assert_eq!(index_part("decoydetector"), "other");
    assert_eq!(index_part(&slug("Anything A Member Account Imports 7")), "other");
}

#[test]
fn slugs() {
    assert_eq!(slug("Security Hub"), "security-hub");
    assert_eq!(slug("GuardDuty"), "guardduty");
    assert_eq!(slug("  Machine Data Analytics!! "), "machine-data-analytics");
    assert_eq!(slug("Inspector/v2"), "inspector-v2");
    assert_eq!(slug("データ"), "unknown");
    assert_eq!(slug(&"a".repeat(60)).len(), 40);
}

#[test]
fn severities() {
    assert_eq!(Severity::of_normalized(0.0), Severity::Informational);
    assert_eq!(Severity::of_normalized(30.0), Severity::Low);
    assert_eq!(Severity::of_normalized(70.0), Severity::High);
    assert_eq!(Severity::of_guardduty(8.9), Severity::High);
    assert_eq!(Severity::of_guardduty(2.0), Severity::Low);
    assert_eq!("high".parse::<Severity>().unwrap(), Severity::High);
    assert!(Severity::Critical > Severity::Medium);
    assert!("severe".parse::<Severity>().is_err());
}

#[test]
fn asff_finding() {
    let f = json!({"SchemaVersion": "2018-10-08", "Id": "arn:aws:securityhub:eu-west-1:111111111111:subscription/x/finding/1",
        "ProductArn": "arn:aws:securityhub:eu-west-1::product/aws/securityhub", "GeneratorId": "aws-foundational-security-best-practices/v/1.0.0/RDS.6",
        "AwsAccountId": "111111111111", "Region": "eu-west-1", "Types": ["Software and Configuration Checks"],
        "CreatedAt": "2020-11-04T23:43:29.220Z", "UpdatedAt": "2020-12-01T10:00:00.000000Z", "Title": "RDS.6",
        "Severity": {"Normalized": 10, "Label": "LOW"}, "Compliance": {"Status": "FAILED", "SecurityControlId": "RDS.6"},
        "Workflow": {"Status": "NEW"}, "RecordState": "ACTIVE",
        "ProductFields": {"aws/securityhub/ProductName": "Security Hub", "RelatedAWSResources:0/name": "x"},
        "Resources": [{"Type": "AwsRdsDbInstance", "Id": "arn:aws:rds:eu-west-1:111111111111:db:db-1", "Details": {"AwsRdsDbInstance": {"x": 1}}}],
        "Network": {"SourceIpV4": "10.0.0.1"}, "event": "collides"});
    let (p, doc) = run(&f, Format::Asff).unwrap();
    assert_eq!(p.document.index, "securityhub-security-hub-2020.11", "the month of CreatedAt");
    assert_eq!(p.document.id, digest_id("arn:aws:securityhub:eu-west-1:111111111111:subscription/x/finding/1"));
    let WriteOp::IndexExternal { version } = p.document.op else { panic!("external version") };
    assert_eq!(version / 1000, 1_606_816_800_000, "UpdatedAt in milliseconds first");
    assert_eq!(p.facts, Facts { product: "security-hub".into(), severity: Severity::Low, active: true });
    assert_eq!(doc["@timestamp"], "2020-12-01T10:00:00.000Z");
    assert_eq!(doc["cloud"], json!({"provider": "aws", "account": {"id": "111111111111"}, "region": "eu-west-1"}));
    assert_eq!(doc["finding"]["control_id"], "RDS.6");
    assert_eq!(doc["finding"]["compliance_status"], "FAILED");
    assert_eq!(
        doc["finding"]["resource"],
        json!({"types": ["AwsRdsDbInstance"], "ids": ["arn:aws:rds:eu-west-1:111111111111:db:db-1"]})
    );
    assert_eq!(doc["source"], json!({"address": "10.0.0.1", "ip": "10.0.0.1", "address_class": "private"}));
    assert_eq!(doc["securityhub_event"], "collides");
    assert_eq!(doc["Resources"][0]["Details"]["AwsRdsDbInstance"]["x"], 1);
}

#[test]
fn asff_fallbacks() {
    let f = json!({"Id": "x", "UpdatedAt": "2019-04-18T14:51:55.000000Z", "Severity": {"Normalized": 30},
        "ProductArn": "arn:aws:securityhub:us-east-2:1:product/sumologicinc/sumologic-mda", "RecordState": "ARCHIVED",
        "Compliance": "odd"});
    let (p, doc) = run(&f, Format::Asff).unwrap();
    assert_eq!(p.facts, Facts { product: "sumologic-mda".into(), severity: Severity::Low, active: false });
    assert_eq!(
        p.document.index, "securityhub-other-2019.04",
        "UpdatedAt's month without CreatedAt; a partner product: the other family"
    );
    assert_eq!(doc["Compliance"], json!({"_value": "\"odd\""}));
}

#[test]
fn guardduty_finding() {
    let f = json!({"accountId": "123456789012", "region": "us-east-1", "partition": "aws",
        "arn": "arn:aws:guardduty:us-east-1:123456789012:detector/d1/finding/f1", "id": "f1",
        "type": "UnauthorizedAccess:EC2/SSHBruteForce", "severity": 8, "title": "SSH brute force",
        "createdAt": "2025-02-25 20:40:06.721", "updatedAt": "2025-02-26T01:00:00.000Z",
        "resource": {"resourceType": "Instance"},
        "service": {"archived": false, "detectorId": "d1", "action": {"networkConnectionAction": {"remoteIpDetails": {"ipAddressV4": "198.51.100.7"}}}}});
    let (p, doc) = run(&f, Format::GuardDuty).unwrap();
    assert_eq!(p.document.index, "securityhub-guardduty-2025.02");
    assert_eq!(p.document.id, digest_id("arn:aws:guardduty:us-east-1:123456789012:detector/d1/finding/f1"));
    assert_eq!(p.facts, Facts { product: "guardduty".into(), severity: Severity::High, active: true });
    assert_eq!(doc["finding"]["severity"], json!({"label": "HIGH", "normalized": 80}));
    assert_eq!(doc["finding"]["types"], json!(["UnauthorizedAccess:EC2/SSHBruteForce"]));
    assert_eq!(doc["source"]["ip"], "198.51.100.7");
    assert_eq!(doc["finding"]["created_at"], "2025-02-25T20:40:06.721Z");
}

#[test]
fn bad_findings_have_exact_outcomes() {
    let kind = |f: Value, format| run(&f, format).unwrap_err().kind;
    assert_eq!(kind(json!({"UpdatedAt": "2020-01-01T00:00:00Z"}), Format::Asff), "missing_field");
    assert_eq!(kind(json!({"Id": "", "UpdatedAt": "2020-01-01T00:00:00Z"}), Format::Asff), "missing_field");
    assert_eq!(kind(json!({"Id": "x"}), Format::Asff), "bad_timestamp");
    assert_eq!(kind(json!({"Id": "x", "UpdatedAt": "soon"}), Format::Asff), "bad_timestamp");
    assert_eq!(kind(json!({"Id": "x", "UpdatedAt": "1960-01-01T00:00:00Z"}), Format::Asff), "bad_timestamp");
    assert_eq!(kind(json!([1]), Format::Asff), "bad_json");
    assert_eq!(kind(json!({"type": "x", "updatedAt": "2020-01-01T00:00:00Z"}), Format::GuardDuty), "missing_field");
}
