//! Unit tests of `transform`.

use super::*;
use serde_json::{json, Value};

fn run(log: &Value) -> Value {
    serde_json::from_slice(&transform_one(log.to_string().as_bytes(), &Enricher::disabled()).unwrap().1).unwrap()
}

#[test]
fn timestamp_becomes_a_date_and_keeps_its_millis() {
    let doc = run(&json!({"timestamp": 1_533_689_070_589_i64, "action": "ALLOW"}));
    assert_eq!(doc["timestamp"], "2018-08-08T00:44:30.589Z");
    assert_eq!(doc["@timestamp"], "2018-08-08T00:44:30.589Z");
    assert_eq!(doc["timestamp_ms"], 1_533_689_070_589_i64);
    let doc = run(&json!({"timestamp": "2024-03-20T10:30:00.000Z"}));
    assert_eq!(doc["timestamp_ms"], 1_710_930_600_000_i64);
}

#[test]
fn headers_are_promoted_not_turned_into_fields() {
    let doc = run(&json!({"timestamp": 0, "httpRequest": {"clientIp": "10.0.0.1", "headers": [
        {"name": "Host", "value": "example.com"}, {"name": "host", "value": "second"},
        {"name": "User-Agent", "value": "curl/8"}, {"name": "X-Evil.Name", "value": "x"},
        {"name": "X-Forwarded-For", "value": "1.2.3.4, 5.6.7.8"}, {"name": "content-type", "value": "text/html"},
        {"name": "referer"}]}}));
    assert_eq!(
        doc["waf"]["headers"],
        json!({"host": "example.com", "user_agent": "curl/8", "x_forwarded_for": "1.2.3.4, 5.6.7.8",
            "content_type": "text/html"})
    );
    assert_eq!(doc["httpRequest"]["headers"].as_array().unwrap().len(), 7);
    assert_eq!(doc["source"], json!({"address": "10.0.0.1", "ip": "10.0.0.1", "address_class": "private"}));
}

#[test]
fn group_terminating_rule_and_labels() {
    let doc = run(&json!({"timestamp": 0, "terminatingRuleId": "AWS-AWSManagedRulesCommonRuleSet",
        "terminatingRuleType": "MANAGED_RULE_GROUP", "action": "BLOCK",
        "webaclId": "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/acl/1",
        "ruleGroupList": [{"ruleGroupId": "AWS#AWSManagedRulesAmazonIpReputationList", "terminatingRule": null},
            {"ruleGroupId": "AWS#AWSManagedRulesCommonRuleSet", "terminatingRule": {"ruleId": "SizeRestrictions_BODY", "action": "BLOCK"}}],
        "labels": [{"name": "awswaf:managed:aws:core-rule-set:SizeRestrictions_Body"}],
        "httpRequest": {"clientIp": "203.0.113.9", "country": "KR"}}));
    assert_eq!(
        doc["waf"]["terminating_rule"],
        json!({"id": "AWS-AWSManagedRulesCommonRuleSet", "type": "MANAGED_RULE_GROUP",
            "rule_group_id": "AWS#AWSManagedRulesCommonRuleSet", "rule_id": "SizeRestrictions_BODY", "action": "BLOCK"})
    );
    assert_eq!(
        doc["rule"],
        json!({"id": "AWS-AWSManagedRulesCommonRuleSet", "ruleset": "AWS#AWSManagedRulesCommonRuleSet"})
    );
    assert_eq!(doc["waf"]["labels"], json!(["awswaf:managed:aws:core-rule-set:SizeRestrictions_Body"]));
    assert_eq!(doc["cloud"], json!({"provider": "aws", "account": {"id": "123456789012"}, "region": "eu-west-1"}));
    assert_eq!(doc["source"]["geo"], json!({"country_iso_code": "KR"}));
}

#[test]
fn rate_based_rule_details() {
    let doc = run(&json!({"timestamp": 0, "terminatingRuleId": "limit-ip", "terminatingRuleType": "RATE_BASED",
        "action": "BLOCK", "rateBasedRuleList": [
            {"rateBasedRuleId": "a", "rateBasedRuleName": "other", "limitKey": "IP", "maxRateAllowed": 5},
            {"rateBasedRuleId": "b", "rateBasedRuleName": "limit-ip", "limitKey": "IP", "maxRateAllowed": 100,
             "evaluationWindowSec": "300", "limitValue": "203.0.113.9"}]}));
    assert_eq!(
        doc["waf"]["rate_based_rule"],
        json!({"id": "b", "name": "limit-ip", "limit_key": "IP", "limit_value": "203.0.113.9",
            "max_rate_allowed": 100, "evaluation_window_sec": 300})
    );
}

#[test]
fn odd_shapes_are_wrapped_and_colliding_keys_renamed() {
    let doc = run(&json!({"timestamp": 0, "ruleGroupList": "x", "labels": [1], "event": "mine",
        "httpRequest": null}));
    assert_eq!(doc["ruleGroupList"], json!({"_value": "\"x\""}));
    assert_eq!(doc["labels"], json!({"_value": "[1]"}));
    assert_eq!(doc["waf_event"], "mine");
    assert_eq!(doc["httpRequest"], Value::Null);
}

#[test]
fn bad_records_have_exact_outcomes() {
    let kind = |s: &str| WafTransform::default().transform(s.as_bytes(), &RecordContext::default()).unwrap_err().kind;
    assert_eq!(kind("not json"), "bad_json");
    assert_eq!(kind("[1]"), "bad_json");
    assert_eq!(kind(r#"{"timestamp":1"#), "bad_json");
    assert_eq!(kind(r#"{"action":"ALLOW"}"#), "bad_timestamp");
    assert_eq!(kind(r#"{"timestamp":"yesterday"}"#), "bad_timestamp");
    assert_eq!(kind(r#"{"timestamp":true}"#), "bad_timestamp");
    assert_eq!(kind(r#"{"timestamp":1e300}"#), "bad_timestamp");
}

#[test]
fn several_logs_in_one_record_are_split() {
    let out = WafTransform::default()
        .transform(b"{\"timestamp\":1}\n{\"timestamp\":2}\n", &RecordContext::default())
        .unwrap();
    assert_eq!(out, Transformed::Split(vec![b"{\"timestamp\":1}".to_vec(), b"{\"timestamp\":2}".to_vec()]));
    assert!(matches!(
        WafTransform::default().transform(b"{\"timestamp\":1}\n", &RecordContext::default()).unwrap(),
        Transformed::Document { .. }
    ));
}
