//! Every bundled rule that loads is exercised: a record that matches it and a near miss that does
//! not, written from the rule's own detection (`scripts/build-rule-cases.py`; `SigmaHQ` ships no
//! regression data for these rules).
#![allow(clippy::unwrap_used)]

use std::borrow::Cow;
use std::collections::BTreeSet;

use seclog_core::config::FromEnv;
use seclog_core::json::RawObject;
use seclog_rules::{DnsQuery, LogSource, RuleSet, RulesConfig};
use serde_json::Value;

fn cases(source: &str) -> Vec<Value> {
    let path = format!("{}/tests/cases/{source}.ndjson", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn text(v: &Value) -> Option<Cow<'_, str>> {
    v.as_str().map(Cow::Borrowed)
}

fn dns_query(record: &Value) -> DnsQuery<'_> {
    DnsQuery {
        query_type: text(&record["record_type"]),
        answers: match &record["answer"] {
            Value::String(s) => vec![Cow::Borrowed(s.as_str())],
            Value::Array(a) => a.iter().filter_map(text).collect(),
            _ => Vec::new(),
        },
        ..DnsQuery::new(text(&record["query"]).unwrap_or_default())
    }
}

#[test]
fn every_rule_that_loads_matches_its_record_and_not_its_near_miss() {
    // With both placeholders set, every rule that can load does.
    let config = RulesConfig::from_pairs(&[("ALLOWED_CIDRS", "10.0.0.0/8"), ("ALLOWED_COUNTRIES", "DE")]).unwrap();
    let rules = RuleSet::load(&config).unwrap();
    let mut failures = Vec::new();
    let mut covered: BTreeSet<(String, String)> = BTreeSet::new();
    for (source, kind) in [("cloudtrail", LogSource::CloudTrail), ("dns", LogSource::Dns)] {
        for case in cases(source) {
            let (rule, expect) = (case["rule"].as_str().unwrap(), case["expect"].as_str().unwrap());
            if !rules.rules().iter().any(|r| r.about.id == rule) {
                continue; // a rule that does not load (listed with its reason by the loading test)
            }
            let detection = match kind {
                LogSource::CloudTrail => {
                    let text = case["record"].to_string();
                    let record: RawObject<'_> = serde_json::from_str(&text).unwrap();
                    rules.cloudtrail(&record)
                }
                LogSource::Dns => rules.dns(&dns_query(&case["record"])),
            };
            let matched = detection.rule_ids.iter().any(|id| id == rule);
            if matched != (expect == "match") {
                failures.push(format!("{expect}: {} ({rule})", case["title"]));
            }
            covered.insert((rule.to_owned(), expect.to_owned()));
        }
    }
    assert!(failures.is_empty(), "{} cases fail:\n{}", failures.len(), failures.join("\n"));
    for rule in rules.rules() {
        for expect in ["match", "miss"] {
            assert!(
                covered.contains(&(rule.about.id.clone(), expect.to_owned())),
                "{} has no `{expect}` case",
                rule.about.title
            );
        }
    }
}
