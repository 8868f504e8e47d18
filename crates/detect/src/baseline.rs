//! The alerter's own rules, evaluated over history rather than one record: a value first seen for
//! an entity against a 30-day baseline, and Security Hub and GuardDuty findings at or above a
//! severity. Each is a [`RuleInfo`] like a Sigma rule's, so alerts carry the same rule block.

use chrono::{DateTime, SecondsFormat, Utc};
use seclog_core::document::digest_id;
use seclog_rules::{About, Level, LogSource, RuleInfo};
use serde_json::{json, Value};

use crate::hit::Hit;
use crate::transform::Alert;

/// A value first seen for an entity: a country for a user's console sign-ins, a network for a
/// principal's API calls.
#[derive(Debug, Clone)]
pub struct FirstSeen {
    /// The rule alerts name.
    pub rule: RuleInfo,
    /// Which documents count (a query clause).
    pub documents: Value,
    /// The entity (`user.name`, `userIdentity.arn`).
    pub entity: &'static str,
    /// The value (`source.geo.country_iso_code`, `source.as.number`).
    pub value: &'static str,
    /// How the value reads in a message (`country`, `network AS`).
    pub value_name: &'static str,
}

fn seclog_rule(id: &str, title: &str, tags: &[&str]) -> RuleInfo {
    let about = About {
        id: id.to_owned(),
        title: title.to_owned(),
        author: Some("seclog".to_owned()),
        level: Level::High,
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        references: Vec::new(),
        file: "built into the alerter".to_owned(),
    };
    RuleInfo { about, name: None, source: LogSource::CloudTrail }
}

/// The two first-seen rules seclog ships.
#[must_use]
pub fn first_seen_rules() -> Vec<FirstSeen> {
    vec![
        FirstSeen {
            rule: seclog_rule(
                seclog_rules::ids::NEW_COUNTRY,
                "AWS Console Sign-In From a Country New for the User",
                &["attack.initial-access", "attack.t1078.004"],
            ),
            documents: json!({"bool": {"filter": [{"term": {"event.action": "ConsoleLogin"}}, {"term": {"event.outcome": "success"}}]}}),
            entity: "user.name",
            value: "source.geo.country_iso_code",
            value_name: "country",
        },
        FirstSeen {
            rule: seclog_rule(
                seclog_rules::ids::NEW_NETWORK,
                "AWS API Call From a Network New for the Principal",
                &["attack.initial-access", "attack.t1078.004"],
            ),
            documents: json!({"bool": {"filter": [{"term": {"eventType": "AwsApiCall"}}]}}),
            entity: "userIdentity.arn",
            value: "source.as.number",
            value_name: "network AS",
        },
    ]
}

/// The findings rule: a Security Hub or GuardDuty finding at or above `min` (a severity label),
/// new or raised.
#[must_use]
pub fn findings_rule() -> RuleInfo {
    seclog_rule(
        "e5b0a7d3-94c2-4f1e-8a6b-2d7c9f3e0b14",
        "Security Hub or GuardDuty Finding at or Above the Alert Severity",
        &[],
    )
}

/// Severity labels at or above `min`, Security Hub's order.
#[must_use]
pub fn severities_from(min: &str) -> Vec<&'static str> {
    const ORDER: [&str; 5] = ["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"];
    let from = ORDER.iter().position(|l| l.eq_ignore_ascii_case(min)).unwrap_or(3);
    ORDER[from..].to_vec()
}

/// The alert for a value first seen: named by rule, entity and value, so it is raised once.
#[must_use]
pub fn first_seen_alert(rule: &FirstSeen, entity: &str, value: &str, hit: &Hit) -> Option<Alert> {
    let time = hit.time()?;
    let message = format!(
        "{}: {entity} from {} {value}, not seen for them in the previous 30 days, at {}",
        rule.rule.about.title,
        rule.value_name,
        time.to_rfc3339_opts(SecondsFormat::Secs, true)
    );
    let mut alert = crate::transform::event_alert(&rule.rule, hit)?;
    alert.id = digest_id(&format!("first_seen\n{}\n{entity}\n{value}", rule.rule.about.id));
    alert.body["alert"]["kind"] = json!("first_seen");
    alert.body["alert"]["group"] = json!(format!("{entity} / {value}"));
    alert.body["message"] = json!(message);
    Some(alert)
}

/// The alert for a finding at its severity: named by finding and label, so a raised severity is
/// a new alert and a redelivery is not.
#[must_use]
pub fn finding_alert(rule: &RuleInfo, hit: &Hit) -> Option<Alert> {
    let id = hit.field("finding.id")?.as_str()?;
    let label = hit.field("finding.severity.label")?.as_str()?;
    let level = match label {
        "CRITICAL" => Level::Critical,
        "HIGH" => Level::High,
        "MEDIUM" => Level::Medium,
        "LOW" => Level::Low,
        _ => Level::Informational,
    };
    let mut rule = rule.clone();
    rule.about.level = level;
    let title = hit.field("finding.title").and_then(Value::as_str).unwrap_or("(no title)");
    let product = hit.field("finding.product_name").and_then(Value::as_str).unwrap_or("Security Hub");
    let account = hit.field("cloud.account.id").and_then(Value::as_str).unwrap_or("?");
    let mut alert = crate::transform::event_alert(&rule, hit)?;
    alert.id = digest_id(&format!("finding\n{}\n{id}\n{label}", rule.about.id));
    alert.body["alert"]["kind"] = json!("finding");
    alert.body["message"] = json!(format!("{product} finding [{label}]: {title} in account {account}"));
    Some(alert)
}

/// The baseline window of a first-seen rule: the 30 days before `start` (the earliest new
/// document of the entity, or the run's window start).
#[must_use]
pub fn baseline(start: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (start - chrono::Duration::days(30), start)
}
