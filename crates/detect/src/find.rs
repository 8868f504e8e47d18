//! What each kind of rule finds in one window: documents marked by a rule, bursts counted by a
//! correlation, values first seen against a baseline, findings at or above a severity. Each search
//! is bounded, so a flood costs bounded memory and time.

use chrono::{DateTime, SecondsFormat, Utc};
use seclog_core::client::ClientError;
use seclog_rules::{Level, RuleInfo, RuleSet};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::handler::Deps;
use crate::hit::{alert_fields, Hit};
use crate::transform::{bursts, event_alert, summary_alert, threshold_alert, Alert};

/// At most this many matches are read for one correlation in one run (memory stays bounded).
pub const MAX_CORRELATION_HITS: usize = 5_000;

fn window(field: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Value {
    json!({"range": {field: {"gte": from.to_rfc3339_opts(SecondsFormat::Millis, true), "lte": to.to_rfc3339_opts(SecondsFormat::Millis, true)}}})
}

/// The documents of one run's window: those whose event happened in it, and those the functions
/// read in it (`event.ingested`), so that a record delivered later than the window is still seen.
/// Deterministic alert ids absorb the overlap.
fn recent(start: DateTime<Utc>, now: DateTime<Utc>) -> Value {
    json!({"bool": {"should": [window("@timestamp", start, now), window("event.ingested", start, now)], "minimum_should_match": 1}})
}

/// The earliest (`"min"`) or latest (`"max"`) event time among `query`'s documents, when there
/// are any.
async fn bound<S>(
    deps: &Deps<S>,
    indices: &str,
    query: &Value,
    which: &str,
) -> Result<Option<DateTime<Utc>>, ClientError> {
    let answer = deps
        .client
        .search(indices, &json!({"size": 0, "query": query, "aggs": {"bound": {which: {"field": "@timestamp"}}}}))
        .await?;
    let millis = answer["aggregations"]["bound"]["value"].as_f64();
    #[allow(clippy::cast_possible_truncation)]
    Ok(millis.and_then(|m| DateTime::from_timestamp_millis(m as i64)))
}

/// A search answer, as much of it as the alerter reads: each hit read into a [`Hit`] as the answer
/// is parsed.
#[derive(Default, Deserialize)]
struct Found {
    #[serde(default)]
    hits: FoundHits,
}

#[derive(Default, Deserialize)]
struct FoundHits {
    #[serde(default)]
    hits: Vec<Hit>,
}

/// The hits of a search for `body` in `indices`.
pub(crate) async fn hits<S>(deps: &Deps<S>, indices: &str, body: &Value) -> Result<Vec<Hit>, ClientError> {
    Ok(deps.client.search_as::<Found>(indices, body).await?.hits.hits)
}

/// The rules whose matches raise alerts of their own: at or above `ALERT_MIN_LEVEL`, and not only
/// counted by a correlation (Sigma's `generate: false`).
fn alerting_rules(rules: &RuleSet, min: Level) -> Vec<&RuleInfo> {
    let counted_only = |r: &RuleInfo| rules.correlations().iter().any(|c| !c.generate && c.counts(r));
    rules.rules().iter().filter(|r| r.about.level >= min && !counted_only(r)).collect()
}

pub(crate) async fn event_alerts<S>(
    deps: &Deps<S>,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<Alert>, ClientError> {
    let rules = alerting_rules(&deps.rules, deps.config.alert_min_level);
    if rules.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = rules.iter().map(|r| r.about.id.as_str()).collect();
    let matched = json!({"bool": {"filter": [{"terms": {"detection.rule_ids": ids}}, recent(start, now)]}});
    let counts = deps
        .client
        .search(&deps.config.indices, &json!({"size": 0, "query": matched, "aggs": {"rules": {"terms": {"field": "detection.rule_ids", "size": 1000}}}}))
        .await?;
    let cap = deps.config.max_alerts_per_rule;
    let mut alerts = Vec::new();
    for bucket in counts["aggregations"]["rules"]["buckets"].as_array().into_iter().flatten() {
        let (Some(id), Some(total)) = (bucket["key"].as_str(), bucket["doc_count"].as_u64()) else { continue };
        let Some(rule) = rules.iter().find(|r| r.about.id == id) else { continue };
        let query = json!({"bool": {"filter": [{"term": {"detection.rule_ids": id}}, recent(start, now)]}});
        let page = json!({"size": cap, "query": query, "sort": [{"@timestamp": "asc"}], "_source": alert_fields([])});
        let found = hits(deps, &deps.config.indices, &page).await?;
        alerts.extend(found.iter().filter_map(|h| event_alert(rule, h)));
        if total > found.len() as u64 {
            alerts.push(summary_alert(rule, total, found.len(), start, now));
        }
    }
    Ok(alerts)
}

/// The time ranges a correlation's bursts are counted in: the run's window reaching back one
/// timespan, and, when matches read in this run happened before that (a late delivery), a range
/// around those matches alone (from the earliest `first` less a timespan to the latest plus one).
/// Apart, each range is searched on its own, so that days of older matches between a late delivery
/// and the window never push the window's own burst out of a capped search.
async fn ranges<S>(
    deps: &Deps<S>,
    ids: &[&str],
    span: chrono::Duration,
    first: DateTime<Utc>,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<(DateTime<Utc>, DateTime<Utc>)>, ClientError> {
    let live = (start - span, now);
    if first >= live.0 {
        return Ok(vec![live]);
    }
    let late = json!({"bool": {"filter": [{"terms": {"detection.rule_ids": ids}}, recent(start, now),
        {"range": {"@timestamp": {"lt": live.0.to_rfc3339_opts(SecondsFormat::Millis, true)}}}]}});
    let last = bound(deps, &deps.config.indices, &late, "max").await?.unwrap_or(first);
    Ok(if last + span >= live.0 { vec![(first - span, now)] } else { vec![(first - span, last + span), live] })
}

pub(crate) async fn threshold_alerts<S>(
    deps: &Deps<S>,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<Alert>, ClientError> {
    let mut alerts = Vec::new();
    for correlation in deps.rules.correlations() {
        let ids: Vec<&str> =
            deps.rules.rules().iter().filter(|r| correlation.counts(r)).map(|r| r.about.id.as_str()).collect();
        let span = correlation.threshold.timespan();
        // Nothing new in the window: no burst can end in it.
        let new = json!({"bool": {"filter": [{"terms": {"detection.rule_ids": ids}}, recent(start, now)]}});
        let Some(first) = bound(deps, &deps.config.indices, &new, "min").await? else { continue };
        for (from, to) in ranges(deps, &ids, span, first, start, now).await? {
            let query =
                json!({"bool": {"filter": [{"terms": {"detection.rule_ids": ids}}, window("@timestamp", from, to)]}});
            let page = json!({"size": MAX_CORRELATION_HITS, "query": query, "sort": [{"@timestamp": "asc"}],
                "_source": alert_fields(correlation.threshold.group_by.iter().map(String::as_str))});
            let matches = hits(deps, &deps.config.indices, &page).await?;
            if matches.len() < usize::try_from(correlation.threshold.count).unwrap_or(usize::MAX) {
                continue;
            }
            let earlier = json!({"bool": {"filter": [{"term": {"rule.id": correlation.about.id}}, window("alert.window_end", from, to + span)]}});
            let earlier =
                json!({"size": 1000, "query": earlier, "_source": ["@timestamp", "alert.group", "alert.window_end"]});
            let alerted: Vec<(String, DateTime<Utc>, DateTime<Utc>)> =
                hits(deps, &deps.config.alerts_pattern(), &earlier)
                    .await?
                    .iter()
                    .filter_map(|h| {
                        let group = h.field("alert.group")?.as_str()?.to_owned();
                        let end = DateTime::parse_from_rfc3339(h.field("alert.window_end")?.as_str()?).ok()?.to_utc();
                        Some((group, h.time()?, end))
                    })
                    .collect();
            alerts
                .extend(bursts(correlation, &matches, &alerted).iter().filter_map(|b| threshold_alert(correlation, b)));
        }
    }
    Ok(alerts)
}

/// At most this many (entity, value) pairs are checked against their baseline in one run.
pub const MAX_FIRST_SEEN_PAIRS: usize = 200;

pub(crate) async fn first_seen_alerts<S>(
    deps: &Deps<S>,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<Alert>, ClientError> {
    let indices = deps.config.cloudtrail_indices();
    let mut alerts = Vec::new();
    for rule in crate::baseline::first_seen_rules() {
        let query = json!({"bool": {"filter": [rule.documents.clone(), recent(start, now),
            {"exists": {"field": rule.entity}}, {"exists": {"field": rule.value}}]}});
        let page = json!({"size": MAX_CORRELATION_HITS, "query": query, "sort": [{"@timestamp": "asc"}],
            "_source": alert_fields([rule.entity, rule.value])});
        // The first document of each (entity, value) pair in the window.
        let mut firsts: Vec<(String, String, Hit)> = Vec::new();
        for hit in hits(deps, &indices, &page).await? {
            let (Some(entity), Some(value)) = (hit.field(rule.entity), hit.field(rule.value)) else { continue };
            let (entity, value) = (text_of(entity), text_of(value));
            if firsts.len() < MAX_FIRST_SEEN_PAIRS && !firsts.iter().any(|(e, v, _)| *e == entity && *v == value) {
                firsts.push((entity, value, hit));
            }
        }
        for (entity, value, hit) in &firsts {
            // The baseline is the 30 days before the pair's first document (for a late delivery,
            // what came before it, not what was indexed since).
            let (from, to) = crate::baseline::baseline(hit.time().map_or(start, |t| t.min(start)));
            let history = json!({"bool": {"filter": [rule.documents.clone(), {"term": {rule.entity: entity}},
                {"range": {"@timestamp": {"gte": from.to_rfc3339_opts(SecondsFormat::Millis, true), "lt": to.to_rfc3339_opts(SecondsFormat::Millis, true)}}}]}});
            let seen = deps
                .client
                .search(
                    &indices,
                    &json!({"size": 0, "track_total_hits": true, "query": history,
                    "aggs": {"known": {"filter": {"term": {rule.value: value}}}}}),
                )
                .await?;
            let has_history = seen["hits"]["total"]["value"].as_u64().unwrap_or(0) > 0;
            let known = seen["aggregations"]["known"]["doc_count"].as_u64().unwrap_or(0) > 0;
            if !known && (has_history || deps.config.first_seen_without_history) {
                alerts.extend(crate::baseline::first_seen_alert(&rule, entity, value, hit));
            }
        }
    }
    Ok(alerts)
}

pub(crate) async fn finding_alerts<S>(
    deps: &Deps<S>,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<Alert>, ClientError> {
    let rule = crate::baseline::findings_rule();
    let labels = crate::baseline::severities_from(&deps.config.findings_min_severity);
    let query = json!({"bool": {
        "filter": [{"terms": {"finding.severity.label": labels}}, recent(start, now)],
        "must_not": [{"terms": {"finding.workflow_status": ["SUPPRESSED", "RESOLVED"]}}, {"term": {"finding.record_state": "ARCHIVED"}}]}});
    let page = json!({"size": deps.config.max_alerts_per_rule, "query": query, "sort": [{"@timestamp": "asc"}],
        "_source": alert_fields(["finding.id", "finding.severity.label", "finding.title", "finding.product_name"])});
    let found = hits(deps, &deps.config.findings_indices, &page).await?;
    Ok(found.iter().filter_map(|h| crate::baseline::finding_alert(&rule, h)).collect())
}

fn text_of(value: &Value) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_owned)
}
