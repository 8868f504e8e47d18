//! Unit tests of `transform`.

use super::*;
use seclog_core::index::Rotation;
use serde_json::{json, Value};

fn run(record: &Value) -> Result<Value, RecordError> {
    let t = Transformer::new(IndexPattern::new("cloudtrail", Rotation::Daily).unwrap());
    let msg = record.to_string();
    let origin = Origin { dataset: DATASET, record_id: Cow::Borrowed("1"), raw: Cow::Borrowed("") };
    let doc = t.transform(&msg, origin, "")?;
    assert_eq!(doc.index, "cloudtrail-2023.07.10");
    Ok(serde_json::from_slice(&doc.body).unwrap())
}

fn base(identity: &Value) -> Value {
    json!({"eventID": "e1", "eventTime": "2023-07-10T12:00:00Z", "eventName": "X", "userIdentity": identity})
}

#[test]
fn user_name_for_every_identity_type() {
    let cases = [
        (json!({"type": "Root", "arn": "arn:aws:iam::1:root"}), Some("root")),
        (json!({"type": "IAMUser", "userName": "alice"}), Some("alice")),
        (
            json!({"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/Admin/bob@example.com",
                "sessionContext": {"sessionIssuer": {"userName": "Admin"}}}),
            Some("bob@example.com"),
        ),
        (json!({"type": "FederatedUser", "arn": "arn:aws:sts::1:federated-user/carol"}), Some("carol")),
        (json!({"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"}), Some("cloudtrail.amazonaws.com")),
        (json!({"type": "AWSAccount", "accountId": "111122223333"}), Some("111122223333")),
        (json!({"type": "IdentityCenterUser", "onBehalfOf": {"userId": "u-1"}}), Some("u-1")),
        (json!({"type": "Unknown", "principalId": "p"}), Some("p")),
        (json!({"type": 7}), None),
        (json!("not an object"), None),
    ];
    for (identity, expected) in cases {
        let doc = run(&base(&identity)).unwrap();
        assert_eq!(doc["user"]["name"].as_str(), expected, "{identity}");
    }
}

#[test]
fn related_user_has_role_and_session() {
    let doc = run(&base(&json!({"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/Admin/bob",
        "sessionContext": {"sessionIssuer": {"userName": "Admin"}}})))
    .unwrap();
    assert_eq!(doc["related"]["user"], json!(["bob", "Admin"]));
}

#[test]
fn outcome_and_source() {
    let mut r = base(&json!({"type": "IAMUser", "userName": "a"}));
    r["sourceIPAddress"] = json!("ec2.amazonaws.com");
    r["errorCode"] = json!("AccessDenied");
    let doc = run(&r).unwrap();
    assert_eq!(doc["event"]["outcome"], "failure");
    assert_eq!(doc["source"], json!({"address": "ec2.amazonaws.com", "address_class": "aws_service"}));
    assert!(doc.get("related").unwrap().get("ip").is_none());

    let mut r = base(&json!({"type": "IAMUser", "userName": "a"}));
    r["eventName"] = json!("ConsoleLogin");
    r["sourceIPAddress"] = json!("1.2.3.4");
    r["responseElements"] = json!({"ConsoleLogin": "Failure"});
    let doc = run(&r).unwrap();
    assert_eq!(doc["event"]["outcome"], "failure");
    assert_eq!(doc["source"]["ip"], "1.2.3.4");
    assert_eq!(doc["related"]["ip"], json!(["1.2.3.4"]));
}

#[test]
fn free_form_scalars_are_wrapped() {
    let mut r = base(&json!(null));
    r["requestParameters"] = json!("a string");
    r["responseElements"] = json!(null);
    r["additionalEventData"] = json!([1, 2]);
    r["serviceEventDetails"] = json!({"k": {"deep": [1]}});
    r["resources"] = json!(["arn:aws:iam::1:role/x"]);
    r["tlsDetails"] = json!([{"tlsVersion": "TLSv1.3"}]);
    let doc = run(&r).unwrap();
    assert_eq!(doc["resources"], json!({"_value": "[\"arn:aws:iam::1:role/x\"]"}));
    assert_eq!(doc["tlsDetails"], json!([{"tlsVersion": "TLSv1.3"}]));
    assert_eq!(doc["userIdentity"], json!(null));
    assert_eq!(doc["requestParameters"], json!({"_value": "\"a string\""}));
    assert_eq!(doc["responseElements"], json!(null));
    assert_eq!(doc["additionalEventData"], json!({"_value": "[1,2]"}));
    assert_eq!(doc["serviceEventDetails"], json!({"k": {"deep": [1]}}));
}

#[test]
fn colliding_keys_are_renamed_not_lost() {
    let mut r = base(&json!(null));
    r["event"] = json!("mine");
    let doc = run(&r).unwrap();
    assert_eq!(doc["cloudtrail_event"], "mine");
    assert_eq!(doc["event"]["dataset"], DATASET);
}

#[test]
fn bad_records_have_exact_outcomes() {
    let t = Transformer::new(IndexPattern::new("cloudtrail", Rotation::Daily).unwrap());
    let kind = |msg: &str| {
        let origin = Origin { dataset: DATASET, record_id: Cow::Borrowed("1"), raw: Cow::Borrowed("") };
        t.transform(msg, origin, "").unwrap_err().kind
    };
    assert_eq!(kind("not json"), "bad_json");
    assert_eq!(kind("[1,2]"), "bad_json");
    assert_eq!(kind(r#"{"eventID":"x""#), "bad_json");
    assert_eq!(kind(r#"{"eventTime":"2023-07-10T12:00:00Z"}"#), "missing_field");
    assert_eq!(kind(r#"{"eventID":"x"}"#), "missing_field");
    assert_eq!(kind(r#"{"eventID":5,"eventTime":"2023-07-10T12:00:00Z"}"#), "missing_field");
    assert_eq!(kind(r#"{"eventID":"x","eventTime":"yesterday"}"#), "bad_timestamp");
}

#[test]
fn long_ids_are_digested() {
    let mut r = base(&json!(null));
    r["eventID"] = json!("x".repeat(600));
    let t = Transformer::new(IndexPattern::new("cloudtrail", Rotation::Daily).unwrap());
    let msg = r.to_string();
    let origin = Origin { dataset: DATASET, record_id: Cow::Borrowed("1"), raw: Cow::Borrowed("") };
    let doc = t.transform(&msg, origin, "").unwrap();
    assert_eq!(doc.id.len(), 64);
}

#[test]
fn the_free_form_keys_are_the_templates_flat_objects() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../templates/cloudtrail.json");
    let template: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let properties = template["template"]["mappings"]["properties"].as_object().unwrap();
    let mut flat: Vec<&str> =
        properties.iter().filter(|(_, m)| m["type"] == "flat_object").map(|(k, _)| k.as_str()).collect();
    let mut free = FREE_FORM.to_vec();
    flat.sort_unstable();
    free.sort_unstable();
    assert_eq!(flat, free);
}

#[test]
fn the_rules_read_the_identity_the_transform_read_as_they_would_read_it_themselves() {
    let rules = Arc::new(RuleSet::load(&seclog_rules::RulesConfig::bundled()).unwrap());
    let t = Transformer::new(IndexPattern::new("cloudtrail", Rotation::Daily).unwrap()).with_rules(rules.clone());
    let imds = "arn:aws:sts::1:assumed-role/aws:ec2-instance/i-1";
    let issuer =
        |issuer: Value| json!({"type": "AssumedRole", "arn": imds, "sessionContext": {"sessionIssuer": issuer}});
    let identities = [
        json!({"type": "Root", "arn": "arn:aws:iam::1:root"}),
        json!({"type": "root"}),
        issuer(json!({"type": "Role", "userName": "Admin"})),
        issuer(json!({"type": null})),
        issuer(json!({})),
        issuer(Value::Null),
        json!({"type": "AssumedRole", "sessionContext": null}),
        json!({"type": null, "arn": null}),
        json!({"type": ["Root"]}),
        json!({"type": "AssumedRole", "sessionContext": [{"sessionIssuer": {"type": "Role"}}]}),
        json!(["Root"]),
        json!("Root"),
        json!({"type": 7, "arn": imds}),
        Value::Null,
    ];
    let mut matched = 0;
    for identity in identities {
        let record = base(&identity);
        let text = record.to_string();
        let origin = Origin { dataset: DATASET, record_id: Cow::Borrowed("1"), raw: Cow::Borrowed("") };
        let doc: Value = serde_json::from_slice(&t.transform(&text, origin, "").unwrap().body).unwrap();
        let read: Record<'_> = serde_json::from_str(&text).unwrap();
        let expected = rules.cloudtrail(&read).rule_ids;
        let written: Vec<String> = serde_json::from_value(doc["detection"]["rule_ids"].clone()).unwrap_or_default();
        assert_eq!(written, expected, "{identity}");
        matched += usize::from(!expected.is_empty());
    }
    // Root usage, role misuse and the IMDS rule match some of them.
    assert!(matched >= 5, "{matched}");
}
