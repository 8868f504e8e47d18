//! Matches → alerts, pure: what an alert says, its deterministic id, bursts, and the messages sent.
//!
//! Ids make every re-run, redelivery and replay safe: an event alert is named by its rule and the
//! document that matched; a burst by its correlation, its group and the first event of the burst;
//! a summary by its rule and the run's window. Alerts are written with `create`, so an alert that
//! exists is never raised again.

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};
use seclog_core::document::digest_id;
use seclog_rules::{About, Correlation, RuleInfo};

use crate::hit::Hit;
use serde_json::{json, Value};

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum AlertKind {
    /// One document matched a rule.
    Event,
    /// A correlation counted a burst.
    Threshold,
    /// More matches of one rule in one run than alerts may be raised for them.
    Summary,
}

impl AlertKind {
    /// `event`, `threshold`, `summary`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// An alert, ready to be written with `create`.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Its deterministic id.
    pub id: String,
    /// Its event time (the triggering event's).
    pub time: DateTime<Utc>,
    /// The document.
    pub body: Value,
}

/// What every alert says of its rule; DRL 1.1 asks that the author travel with every match.
fn body(rule: &About, kind: AlertKind, time: DateTime<Utc>, count: u64, hits: &[&Hit], message: &str) -> Value {
    let first = hits.first();
    let pick = |path: &str| first.and_then(|h| h.field(path)).cloned();
    let mut doc = json!({
        "@timestamp": time.to_rfc3339_opts(SecondsFormat::Millis, true),
        "event": {"kind": "alert", "dataset": "seclog.alerts"},
        "rule": {
            "id": rule.id, "name": rule.title, "level": rule.level.as_str(),
            "author": rule.author, "tags": rule.tags, "references": rule.references,
        },
        "alert": {
            "kind": kind.as_str(),
            "count": count,
            "event_ids": hits.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(),
            "indices": dedup(hits.iter().map(|h| h.index.as_str())),
        },
        "message": message,
    });
    let fields = [
        ("source", "ip", pick("source.ip")),
        ("source", "geo", pick("source.geo.country_iso_code").map(|c| json!({"country_iso_code": c}))),
        ("source", "as", pick("source.as.number").map(|n| json!({"number": n}))),
        ("user", "name", pick("user.name")),
        ("cloud", "region", pick("cloud.region")),
        ("cloud", "account", pick("cloud.account.id").map(|id| json!({"id": id}))),
        ("event", "action", pick("event.action")),
    ];
    for (object, key, value) in fields {
        if let Some(value) = value {
            let slot = doc.as_object_mut().and_then(|d| d.entry(object).or_insert_with(|| json!({})).as_object_mut());
            if let Some(slot) = slot {
                slot.insert(key.to_owned(), value);
            }
        }
    }
    doc
}

fn dedup<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// Who, from where, where: the readable part of a message.
fn describe(hit: &Hit) -> String {
    let mut out = String::new();
    if let Some(action) = hit.text("event.action").or_else(|| hit.text("dns.question.name")) {
        out.push_str(&action);
    }
    if let Some(user) = hit.text("user.name") {
        let _ = write!(out, " by {user}");
    }
    if let Some(ip) = hit.text("source.ip").or_else(|| hit.text("sourceIPAddress")) {
        let _ = write!(out, " from {ip}");
        let place: Vec<String> =
            [hit.text("source.geo.country_iso_code"), hit.text("source.as.number").map(|n| format!("AS{n}"))]
                .into_iter()
                .flatten()
                .collect();
        if !place.is_empty() {
            let _ = write!(out, " ({})", place.join(", "));
        }
    }
    if let Some(account) = hit.text("cloud.account.id") {
        let _ = write!(out, " in account {account}");
        if let Some(region) = hit.text("cloud.region") {
            let _ = write!(out, " {region}");
        }
    }
    out.trim().to_owned()
}

/// The alert for one document that matched `rule`.
#[must_use]
pub fn event_alert(rule: &RuleInfo, hit: &Hit) -> Option<Alert> {
    let time = hit.time()?;
    let message =
        format!("{}: {} at {}", rule.about.title, describe(hit), time.to_rfc3339_opts(SecondsFormat::Secs, true));
    let body = body(&rule.about, AlertKind::Event, time, 1, &[hit], &message);
    Some(Alert { id: digest_id(&format!("event\n{}\n{}\n{}", rule.about.id, hit.index, hit.id)), time, body })
}

/// One alert for the matches of `rule` past what one run may raise.
#[must_use]
pub fn summary_alert(
    rule: &RuleInfo,
    total: u64,
    raised: usize,
    window_start: DateTime<Utc>,
    window_end: DateTime<Utc>,
) -> Alert {
    let message = format!(
        "{}: {total} matches between {} and {}; alerts were raised for the first {raised}, search detection.rule_ids:{} for the rest",
        rule.about.title,
        window_start.to_rfc3339_opts(SecondsFormat::Secs, true),
        window_end.to_rfc3339_opts(SecondsFormat::Secs, true),
        rule.about.id
    );
    let body = body(&rule.about, AlertKind::Summary, window_end, total, &[], &message);
    Alert {
        id: digest_id(&format!("summary\n{}\n{}", rule.about.id, window_start.timestamp())),
        time: window_end,
        body,
    }
}

/// A burst: `count` matches of one group within the correlation's time span from `first`.
#[derive(Debug, Clone, PartialEq)]
pub struct Burst<'h> {
    /// The group's values, joined (`203.0.113.9`).
    pub group: String,
    /// The matches inside the span, oldest first.
    pub hits: Vec<&'h Hit>,
}

/// A group's matches with their times.
type Timed<'h> = Vec<(&'h Hit, DateTime<Utc>)>;

/// The group of a hit under `group_by`; `None` when a field is missing.
fn group_of(hit: &Hit, group_by: &[String]) -> Option<String> {
    let parts: Option<Vec<String>> = group_by.iter().map(|f| hit.text(f)).collect();
    parts.map(|p| p.join(" / "))
}

/// The bursts of an `event_count` correlation among `hits` (sorted by time), leaving out matches
/// inside a span that already alerted (`alerted`: group and span start, span end). Once a group
/// has alerted, its matches inside that alert's time span raise nothing new.
#[must_use]
pub fn bursts<'h>(
    correlation: &Correlation,
    hits: &'h [Hit],
    alerted: &[(String, DateTime<Utc>, DateTime<Utc>)],
) -> Vec<Burst<'h>> {
    let span = correlation.threshold.timespan();
    let mut groups: Vec<(String, Timed<'h>)> = Vec::new();
    for hit in hits {
        let (Some(group), Some(time)) = (group_of(hit, &correlation.threshold.group_by), hit.time()) else { continue };
        let covered = alerted.iter().any(|(g, start, end)| *g == group && time >= *start && time <= *end);
        if covered {
            continue;
        }
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, list)) => list.push((hit, time)),
            None => groups.push((group, vec![(hit, time)])),
        }
    }
    let mut out = Vec::new();
    for (group, mut list) in groups {
        list.sort_by_key(|(h, t)| (*t, h.id.clone()));
        let mut i = 0;
        while i < list.len() {
            let start = list[i].1;
            let inside: Vec<&Hit> = list[i..].iter().take_while(|(_, t)| *t <= start + span).map(|(h, _)| *h).collect();
            if inside.len() as u64 >= correlation.threshold.count {
                i += inside.len();
                out.push(Burst { group: group.clone(), hits: inside });
            } else {
                i += 1;
            }
        }
    }
    out
}

/// The alert for a burst.
#[must_use]
pub fn threshold_alert(correlation: &Correlation, burst: &Burst<'_>) -> Option<Alert> {
    let first = burst.hits.first()?;
    let time = first.time()?;
    let minutes = correlation.threshold.timespan().num_minutes();
    let message = format!(
        "{}: {} matches within {minutes} minutes for {}, the first {} at {}",
        correlation.about.title,
        burst.hits.len(),
        burst.group,
        describe(first),
        time.to_rfc3339_opts(SecondsFormat::Secs, true)
    );
    let mut body = body(&correlation.about, AlertKind::Threshold, time, burst.hits.len() as u64, &burst.hits, &message);
    let end = time + correlation.threshold.timespan();
    body["alert"]["group"] = json!(burst.group);
    body["alert"]["window_end"] = json!(end.to_rfc3339_opts(SecondsFormat::Millis, true));
    Some(Alert {
        id: digest_id(&format!("threshold\n{}\n{}\n{}", correlation.about.id, burst.group, first.id)),
        time,
        body,
    })
}

/// A Slack Block Kit message for an alert: rule and level, who, from where, when, account and
/// region, and a link to the event in OpenSearch Dashboards when its address is known.
#[must_use]
pub fn slack_message(alert: &Value, dashboards: Option<&url::Url>) -> Value {
    let text = |path: &str| -> String {
        let v = path.split('.').try_fold(alert, |v, k| v.get(k)).unwrap_or(&Value::Null);
        v.as_str().map_or_else(|| if v.is_null() { "—".to_owned() } else { v.to_string() }, str::to_owned)
    };
    let level = text("rule.level");
    let mut fields = vec![
        json!({"type": "mrkdwn", "text": format!("*Level*\n{level}")}),
        json!({"type": "mrkdwn", "text": format!("*When*\n{}", text("@timestamp"))}),
        json!({"type": "mrkdwn", "text": format!("*Who*\n{}", text("user.name"))}),
        json!({"type": "mrkdwn", "text": format!("*From*\n{} ({}, AS{})", text("source.ip"), text("source.geo.country_iso_code"), text("source.as.number"))}),
        json!({"type": "mrkdwn", "text": format!("*Account*\n{} {}", text("cloud.account.id"), text("cloud.region"))}),
        json!({"type": "mrkdwn", "text": format!("*Rule author*\n{}", text("rule.author"))}),
    ];
    fields.truncate(10);
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": truncate(&format!("[{level}] {}", text("rule.name")), 150)}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(&escape_slack(&text("message")), 3000)}}),
        json!({"type": "section", "fields": fields}),
    ];
    if let (Some(base), Some(index), Some(id)) =
        (dashboards, alert["alert"]["indices"][0].as_str(), alert["alert"]["event_ids"][0].as_str())
    {
        if let Ok(link) = base.join(&format!("app/discover#/doc/{index}/{index}?id={id}")) {
            blocks.push(json!({"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Open the event"}, "url": link.as_str()}]}));
        }
    }
    json!({"text": truncate(&text("message"), 3000), "blocks": blocks})
}

/// The plain text of an alert, for SNS subscribers (e-mail, SMS): the readable line, then who,
/// from where, when and where, and the rule's author.
#[must_use]
pub fn text_message(alert: &Value) -> String {
    let field = |path: &str| -> String {
        let v = path.split('.').try_fold(alert, |v, k| v.get(k)).unwrap_or(&Value::Null);
        v.as_str().map_or_else(|| if v.is_null() { "-".to_owned() } else { v.to_string() }, str::to_owned)
    };
    format!(
        "{}\n\nrule: {} ({}), by {}\nwhen: {}\nwho: {}\nfrom: {} ({}, AS{})\naccount: {} {}\nalert: {} x{}\n",
        field("message"),
        field("rule.name"),
        field("rule.level"),
        field("rule.author"),
        field("@timestamp"),
        field("user.name"),
        field("source.ip"),
        field("source.geo.country_iso_code"),
        field("source.as.number"),
        field("cloud.account.id"),
        field("cloud.region"),
        field("alert.kind"),
        field("alert.count"),
    )
}

/// Slack's control characters in text taken from logs.
fn escape_slack(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use seclog_rules::{Level, Threshold};

    fn rule() -> Correlation {
        let about = About {
            id: "c1".into(),
            title: "Burst".into(),
            author: Some("seclog".into()),
            level: Level::High,
            tags: Vec::new(),
            references: Vec::new(),
            file: String::new(),
        };
        Correlation {
            about,
            rules: vec!["r".into()],
            threshold: Threshold { group_by: vec!["sourceIPAddress".into()], timespan_seconds: 600, count: 5 },
            generate: false,
        }
    }

    fn hit(id: &str, ip: &str, minute: u32) -> Hit {
        Hit::new(
            "cloudtrail-2026.12.01".into(),
            id.into(),
            json!({"@timestamp": format!("2026-12-01T09:{minute:02}:00Z"), "sourceIPAddress": ip}),
        )
    }

    #[test]
    fn five_in_ten_minutes_is_one_burst_and_what_follows_inside_its_span_raises_nothing() {
        let hits: Vec<Hit> = (0..7).map(|i| hit(&format!("e{i}"), "203.0.113.9", i)).collect();
        let b = bursts(&rule(), &hits, &[]);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].hits.len(), 7, "all seven fall within ten minutes of the first");
        let a = threshold_alert(&rule(), &b[0]).unwrap();
        assert_eq!(a.body["alert"]["count"], 7);
        // A later run that sees only the tail, with the alert's span known, raises nothing.
        let start = hits[0].time().unwrap();
        let alerted = vec![("203.0.113.9".to_owned(), start, start + chrono::Duration::minutes(10))];
        assert!(bursts(&rule(), &hits[2..], &alerted).is_empty());
    }

    #[test]
    fn four_is_no_burst_and_groups_are_counted_apart() {
        let mut hits: Vec<Hit> = (0..4).map(|i| hit(&format!("a{i}"), "203.0.113.9", i)).collect();
        hits.extend((0..4).map(|i| hit(&format!("b{i}"), "198.51.100.1", i)));
        assert!(bursts(&rule(), &hits, &[]).is_empty());
        // Five spread over more than ten minutes are no burst either.
        let spread: Vec<Hit> = (0..5).map(|i| hit(&format!("s{i}"), "203.0.113.9", i * 3)).collect();
        assert!(bursts(&rule(), &spread, &[]).is_empty());
    }

    #[test]
    fn a_correlation_longer_than_time_itself_counts_without_overflowing() {
        // 200,000,000,000 days: past what a date can hold. The rules loader refuses such a
        // correlation; one built by hand is counted over the longest span instead.
        let mut forever = rule();
        forever.threshold.timespan_seconds = 200_000_000_000 * 86_400;
        let hits: Vec<Hit> = (0..5).map(|i| hit(&format!("e{i}"), "203.0.113.9", i)).collect();
        let b = bursts(&forever, &hits, &[]);
        assert_eq!(b.len(), 1);
        let alert = threshold_alert(&forever, &b[0]).unwrap();
        assert_eq!(alert.body["alert"]["window_end"], "2027-12-02T09:00:00.000Z");
    }

    #[test]
    fn ids_are_deterministic_and_differ_by_cause() {
        let hits: Vec<Hit> = (0..5).map(|i| hit(&format!("e{i}"), "203.0.113.9", i)).collect();
        let one = threshold_alert(&rule(), &bursts(&rule(), &hits, &[])[0]).unwrap();
        let two = threshold_alert(&rule(), &bursts(&rule(), &hits, &[])[0]).unwrap();
        assert_eq!(one, two);
        let other: Vec<Hit> = (0..5).map(|i| hit(&format!("e{i}"), "198.51.100.1", i)).collect();
        assert_ne!(one.id, threshold_alert(&rule(), &bursts(&rule(), &other, &[])[0]).unwrap().id);
    }

    #[test]
    fn a_burst_alert_carries_its_correlation_s_author_and_tags() {
        let rules = seclog_testkit::rules();
        let title = "AWS Console Sign-In Brute-Force Burst";
        let correlation = rules.correlations().iter().find(|c| c.about.title == title).unwrap();
        let hits: Vec<Hit> = (0..5).map(|i| hit(&format!("e{i}"), "203.0.113.9", i)).collect();
        let alert = threshold_alert(correlation, &bursts(correlation, &hits, &[])[0]).unwrap();
        assert_eq!(alert.body["rule"]["author"], "seclog");
        assert_eq!(alert.body["rule"]["tags"], json!(["attack.credential-access", "attack.t1110.001"]));
    }

    #[test]
    fn a_slack_message_escapes_what_came_from_the_logs() {
        let alert = json!({"rule": {"name": "R", "level": "high"}, "message": "<script>&", "@timestamp": "t"});
        let m = slack_message(&alert, None);
        assert_eq!(m["blocks"][1]["text"]["text"], "&lt;script&gt;&amp;");
    }
}
