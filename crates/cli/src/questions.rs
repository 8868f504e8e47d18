//! Our users' questions, as `OpenSearch` queries: the demo prints their answers as text and
//! `seclog report` draws them. Every question is asked within a [`Scope`] (a period of
//! `@timestamp`, or all time).

use anyhow::{Context, Result};
use chrono::{DateTime, Timelike, Utc};
use serde_json::{json, Value};

use crate::aggregations::{buckets, doc_count, first_key, key, keyed_buckets, raw_buckets};
use crate::client::Client;

/// The period the questions are asked of: `@timestamp` from `since` (inclusive) to `until`
/// (exclusive); either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scope {
    /// The first instant counted.
    pub since: Option<DateTime<Utc>>,
    /// The first instant not counted.
    pub until: Option<DateTime<Utc>>,
}

impl Scope {
    /// All time.
    #[must_use]
    pub fn all() -> Self {
        Self::default()
    }

    /// `body` with its query (or every document) limited to the period.
    #[must_use]
    pub fn limit(&self, mut body: Value) -> Value {
        if self.since.is_none() && self.until.is_none() {
            return body;
        }
        let mut range = serde_json::Map::new();
        if let Some(since) = self.since {
            range.insert("gte".into(), json!(since.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)));
        }
        if let Some(until) = self.until {
            range.insert("lt".into(), json!(until.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)));
        }
        let mut filter = vec![json!({"range": {"@timestamp": range}})];
        if let Some(query) = body.get_mut("query").map(Value::take) {
            filter.push(query);
        }
        body["query"] = json!({"bool": {"filter": filter}});
        body
    }

    /// The period of `--since` (a duration back from `now`, as `7d` or `24h`, or a date) and
    /// `--until` (a date).
    ///
    /// # Errors
    /// A text that is neither.
    pub fn parse(since: Option<&str>, until: Option<&str>, now: DateTime<Utc>) -> Result<Self> {
        let since = since
            .map(|s| match seclog_detect::config::parse_duration(s) {
                Ok(back) => Ok(now - back),
                Err(_) => parse_date(s),
            })
            .transpose()?;
        let until = until.map(parse_date).transpose()?;
        if let (Some(s), Some(u)) = (since, until) {
            anyhow::ensure!(s < u, "--since ({s}) is not before --until ({u})");
        }
        Ok(Self { since, until })
    }

    /// Searches `index` with `body` limited to the period.
    async fn search(&self, client: &Client, index: &str, body: Value) -> Result<Value> {
        Ok(client.search(index, &self.limit(body)).await?)
    }

    /// How many documents of `index` fall in the period.
    ///
    /// # Errors
    /// When the search fails.
    pub async fn count(&self, client: &Client, index: &str) -> Result<u64> {
        let v = self.search(client, index, json!({"size": 0, "track_total_hits": true})).await?;
        Ok(v["hits"]["total"]["value"].as_u64().unwrap_or(0))
    }
}

// The families the questions are asked of, as the functions that write them name them.
pub use seclog_cloudtrail::PATTERN as CLOUDTRAIL;
pub use seclog_route53::PATTERN as ROUTE53;
pub use seclog_s3::ALB_PATTERN as ALB;
pub use seclog_securityhub::PATTERN as SECURITYHUB;
pub use seclog_vpcflow::PATTERN as VPCFLOW;
pub use seclog_waf::PATTERN as WAF;

/// The alerts of the scheduled alerter (any prefix).
pub const ALERTS: &str = "*-alerts-*";
/// Records dead-lettered by any function.
pub const DEADLETTERS: &str = "*-deadletter-*";

/// A console sign-in, as the answers list them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    /// When.
    pub time: String,
    /// Who (`user.name`).
    pub user: String,
    /// From where (`sourceIPAddress`).
    pub source: String,
    /// `success` or `failure`.
    pub outcome: String,
}

/// Events per hour of day (UTC), 0 to 23: when is our cloud busiest?
///
/// osmem has no script aggregations, so this asks for an hourly `date_histogram` and folds the
/// buckets by hour of day.
///
/// # Errors
/// When the search fails.
pub async fn events_per_hour_of_day(client: &Client, scope: &Scope) -> Result<[u64; 24]> {
    let body = json!({"size": 0, "aggs": {"h": {"date_histogram": {"field": "@timestamp", "fixed_interval": "1h", "min_doc_count": 1}}}});
    let v = scope.search(client, CLOUDTRAIL, body).await?;
    let mut hours = [0_u64; 24];
    for b in v["aggregations"]["h"]["buckets"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let key = b["key"].as_i64().context("bucket key")?;
        let hour = DateTime::from_timestamp_millis(key).context("bucket time")?.hour();
        hours[hour as usize] += doc_count(b);
    }
    Ok(hours)
}

/// The most frequent event names.
///
/// # Errors
/// When the search fails.
pub async fn top_event_names(client: &Client, scope: &Scope, n: usize) -> Result<Vec<(String, u64)>> {
    let body = json!({"size": 0, "aggs": {"names": {"terms": {"field": "eventName", "size": n}}}});
    let v = scope.search(client, CLOUDTRAIL, body).await?;
    Ok(buckets(&v["aggregations"]["names"]))
}

/// Failed console sign-ins, newest first.
///
/// # Errors
/// When the search fails.
pub async fn failed_console_logins(client: &Client, scope: &Scope) -> Result<Vec<SignIn>> {
    let query = json!({"bool": {"filter": [
        {"term": {"eventName": "ConsoleLogin"}},
        {"term": {"event.outcome": "failure"}}
    ]}});
    sign_ins(client, scope, query).await
}

/// Console sign-ins from addresses outside `allowed` (IPs or CIDR blocks): the `CloudTrail`
/// Lake example many teams run today. Sign-ins without an IP address count as outside.
///
/// # Errors
/// When the search fails.
pub async fn console_logins_outside(client: &Client, scope: &Scope, allowed: &[String]) -> Result<Vec<SignIn>> {
    let query = json!({"bool": {
        "filter": [{"term": {"eventName": "ConsoleLogin"}}],
        "must_not": allowed.iter().map(|cidr| json!({"term": {"source.ip": cidr}})).collect::<Vec<_>>()
    }});
    sign_ins(client, scope, query).await
}

/// The `_source` of each hit of a search response.
fn sources(response: &Value) -> impl Iterator<Item = &Value> {
    response["hits"]["hits"].as_array().map(Vec::as_slice).unwrap_or_default().iter().map(|h| &h["_source"])
}

/// A string field's text, `-` when missing.
fn text(value: &Value) -> String {
    value.as_str().unwrap_or("-").to_owned()
}

async fn sign_ins(client: &Client, scope: &Scope, query: Value) -> Result<Vec<SignIn>> {
    let body = json!({"size": 100, "query": query, "sort": [{"@timestamp": "desc"}]});
    let v = scope.search(client, CLOUDTRAIL, body).await?;
    Ok(sources(&v)
        .map(|s| SignIn {
            time: text(&s["@timestamp"]),
            user: text(&s["user"]["name"]),
            source: text(&s["sourceIPAddress"]),
            outcome: text(&s["event"]["outcome"]),
        })
        .collect())
}

/// The rules that blocked the most requests (`rule.id`; for rule groups, the group's rule id
/// is in `waf.terminating_rule.rule_id`).
///
/// # Errors
/// When the search fails.
pub async fn top_blocked_rules(client: &Client, scope: &Scope, n: usize) -> Result<Vec<(String, u64)>> {
    let body = json!({"size": 0, "query": {"term": {"action": "BLOCK"}},
        "aggs": {"rules": {"terms": {"field": "rule.id", "size": n}}}});
    let v = scope.search(client, WAF, body).await?;
    Ok(buckets(&v["aggregations"]["rules"]))
}

/// Requests per client country (WAF's own `httpRequest.country`), with how many were blocked:
/// `(country, requests, blocked)`.
///
/// # Errors
/// When the search fails.
pub async fn top_client_countries(client: &Client, scope: &Scope, n: usize) -> Result<Vec<(String, u64, u64)>> {
    let blocked = json!({"term": {"action": "BLOCK"}});
    terms_with_filter(client, scope, WAF, "source.geo.country_iso_code", n, blocked).await
}

/// Where `CloudTrail` calls come from, by the `GeoIP` country of `sourceIPAddress`:
/// `(country, calls, console sign-ins)`. Calls from AWS services (`AWS Internal`,
/// `*.amazonaws.com`) and private addresses have no country and are not counted.
///
/// # Errors
/// When the search fails.
pub async fn call_countries(client: &Client, scope: &Scope, n: usize) -> Result<Vec<(String, u64, u64)>> {
    let sign_ins = json!({"term": {"event.action": "ConsoleLogin"}});
    terms_with_filter(client, scope, CLOUDTRAIL, "source.geo.country_iso_code", n, sign_ins).await
}

/// The `n` most frequent values of `field` in `index`, each with how many documents have it and
/// how many of those match `filter`: `(value, documents, matching)`.
async fn terms_with_filter(
    client: &Client,
    scope: &Scope,
    index: &str,
    field: &str,
    n: usize,
    filter: Value,
) -> Result<Vec<(String, u64, u64)>> {
    let body = json!({"size": 0, "aggs": {"values": {"terms": {"field": field, "size": n},
        "aggs": {"matching": {"filter": filter}}}}});
    let v = scope.search(client, index, body).await?;
    Ok(keyed_buckets(&v["aggregations"]["values"], |b| doc_count(&b["matching"])))
}

/// A map of `CloudTrail` callers: `geotile_grid` cells of `source.geo.location` (zoom 3) with
/// the centroid of each: `(tile, calls, lat, lon)`, most calls first.
///
/// # Errors
/// When the search fails.
pub async fn call_map(client: &Client, scope: &Scope, n: usize) -> Result<Vec<(String, u64, f64, f64)>> {
    let body = json!({"size": 0, "aggs": {"tiles": {"geotile_grid": {"field": "source.geo.location", "precision": 3, "size": n},
        "aggs": {"centre": {"geo_centroid": {"field": "source.geo.location"}}}}}});
    let v = scope.search(client, CLOUDTRAIL, body).await?;
    Ok(raw_buckets(&v["aggregations"]["tiles"])
        .iter()
        .map(|b| {
            let centre = &b["centre"]["location"];
            (key(b), doc_count(b), centre["lat"].as_f64().unwrap_or(0.0), centre["lon"].as_f64().unwrap_or(0.0))
        })
        .collect())
}

/// `CloudTrail` calls whose user agent names a penetration-testing distribution:
/// `(time, user, source, event name, agent)`.
///
/// # Errors
/// When the search fails.
pub async fn pentest_agents(client: &Client, scope: &Scope, n: usize) -> Result<Vec<[String; 5]>> {
    let body = json!({"size": n, "query": {"term": {"user_agent.pentest": true}}, "sort": [{"@timestamp": "asc"}],
        "_source": ["@timestamp", "user.name", "source.address", "eventName", "user_agent.os.name"]});
    let v = scope.search(client, CLOUDTRAIL, body).await?;
    Ok(sources(&v)
        .map(|d| {
            [
                text(&d["@timestamp"]),
                text(&d["user"]["name"]),
                text(&d["source"]["address"]),
                text(&d["eventName"]),
                text(&d["user_agent"]["os"]["name"]),
            ]
        })
        .collect())
}

/// The source addresses that sent the most bytes: `(address, bytes, flows)`.
///
/// # Errors
/// When the search fails.
pub async fn top_talkers(client: &Client, scope: &Scope, n: usize) -> Result<Vec<(String, u64, u64)>> {
    let body = json!({"size": 0, "aggs": {"talkers": {"terms": {"field": "source.ip", "size": n, "order": {"bytes": "desc"}},
        "aggs": {"bytes": {"sum": {"field": "network.bytes"}}}}}});
    let v = scope.search(client, VPCFLOW, body).await?;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(raw_buckets(&v["aggregations"]["talkers"])
        .iter()
        .map(|b| (key(b), b["bytes"]["value"].as_f64().unwrap_or(0.0) as u64, doc_count(b)))
        .collect())
}

/// Rejected flows: how many, and the sources with the most rejected flows with the ports they
/// tried: `(total, [(source, flows, [ports])])`.
///
/// # Errors
/// When the search fails.
pub async fn rejected_flows(
    client: &Client,
    scope: &Scope,
    n: usize,
) -> Result<(u64, Vec<(String, u64, Vec<String>)>)> {
    let body = json!({"size": 0, "track_total_hits": true, "query": {"term": {"event.action": "reject"}},
        "aggs": {"sources": {"terms": {"field": "source.ip", "size": n},
            "aggs": {"ports": {"terms": {"field": "destination.port", "size": 5}}}}}});
    let v = scope.search(client, VPCFLOW, body).await?;
    let total = v["hits"]["total"]["value"].as_u64().unwrap_or(0);
    let sources = keyed_buckets(&v["aggregations"]["sources"], |b| raw_buckets(&b["ports"]).iter().map(key).collect());
    Ok((total, sources))
}

/// The most queried registered domains, over both kinds of query log: `(domain, queries)`.
///
/// # Errors
/// When the search fails.
pub async fn top_queried_domains(client: &Client, scope: &Scope, n: usize) -> Result<Vec<(String, u64)>> {
    let body =
        json!({"size": 0, "aggs": {"domains": {"terms": {"field": "dns.question.registered_domain", "size": n}}}});
    let v = scope.search(client, ROUTE53, body).await?;
    Ok(buckets(&v["aggregations"]["domains"]))
}

/// NXDOMAIN answers by source (the VPC client, or the public resolver): `(source, queries,
/// NXDOMAIN)` for the `n` busiest sources, most NXDOMAIN first (then the higher rate, then the
/// address). Many NXDOMAIN from one source is how generated-domain malware and scanning look.
///
/// # Errors
/// When the search fails.
pub async fn nxdomain_by_source(client: &Client, scope: &Scope, n: usize) -> Result<Vec<(String, u64, u64)>> {
    let nxdomain = json!({"term": {"dns.response_code": "NXDOMAIN"}});
    let mut rows = terms_with_filter(client, scope, ROUTE53, "source.ip", n, nxdomain).await?;
    // nx/total > other_nx/other_total, compared without division.
    rows.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| (b.2 * a.1).cmp(&(a.2 * b.1))).then_with(|| a.0.cmp(&b.0)));
    Ok(rows)
}

/// The queried names whose left-most label has the highest Shannon entropy (DNS tunnels and
/// generated domains): `(name, entropy, label length, source)`.
///
/// # Errors
/// When the search fails.
pub async fn highest_entropy_names(
    client: &Client,
    scope: &Scope,
    n: usize,
) -> Result<Vec<(String, f64, u64, String)>> {
    let body = json!({"size": n, "sort": [{"dns.question.first_label.entropy": "desc"}, {"dns.question.name": "asc"}],
        "_source": ["dns.question.name", "dns.question.first_label", "source.address"]});
    let v = scope.search(client, ROUTE53, body).await?;
    Ok(sources(&v)
        .map(|d| {
            let label = &d["dns"]["question"]["first_label"];
            (
                text(&d["dns"]["question"]["name"]),
                label["entropy"].as_f64().unwrap_or(0.0),
                label["length"].as_u64().unwrap_or(0),
                text(&d["source"]["address"]),
            )
        })
        .collect())
}

/// A product's findings: `(product, findings, [(severity, findings)])`.
pub type ProductFindings = (String, u64, Vec<(String, u64)>);

/// Findings per product and severity: `(product, findings, [(severity, findings)])`, most findings
/// first. One document per finding, so updates are not counted twice.
///
/// # Errors
/// When the search fails.
pub async fn findings_by_product(client: &Client, scope: &Scope, n: usize) -> Result<Vec<ProductFindings>> {
    let body = json!({"size": 0, "aggs": {"products": {"terms": {"field": "finding.product", "size": n},
        "aggs": {"severity": {"terms": {"field": "finding.severity.label", "size": 5}}}}}});
    let v = scope.search(client, SECURITYHUB, body).await?;
    Ok(keyed_buckets(&v["aggregations"]["products"], |b| buckets(&b["severity"])))
}

/// The controls with the most failed compliance checks: `(control, failed findings, title)`.
///
/// # Errors
/// When the search fails.
pub async fn top_failing_controls(client: &Client, scope: &Scope, n: usize) -> Result<Vec<(String, u64, String)>> {
    let body = json!({"size": 0, "query": {"bool": {"filter": [
            {"term": {"finding.compliance_status": "FAILED"}}, {"term": {"finding.record_state": "ACTIVE"}}]}},
        "aggs": {"controls": {"terms": {"field": "finding.control_id", "size": n},
            "aggs": {"title": {"terms": {"field": "finding.title.keyword", "size": 1}}}}}});
    let v = scope.search(client, SECURITYHUB, body).await?;
    Ok(keyed_buckets(&v["aggregations"]["controls"], |b| first_key(&b["title"])))
}

/// The load-balancer targets that answered 5xx most (or were not reached: the load balancer's own
/// 5xx), with the clients that got them: `(target, 5xx answers, [(client, answers)])`; a 5xx
/// without a target is counted under `-`.
///
/// # Errors
/// When the search fails.
pub async fn top_5xx_targets(
    client: &Client,
    scope: &Scope,
    n: usize,
) -> Result<Vec<(String, u64, Vec<(String, u64)>)>> {
    let body = json!({"size": 0, "query": {"range": {"http.response.status_code": {"gte": 500, "lte": 599}}},
        "aggs": {"targets": {"terms": {"field": "aws.elb.target_port", "size": n, "missing": "-"},
            "aggs": {"clients": {"terms": {"field": "client.ip", "size": 3}}}}}});
    let v = scope.search(client, ALB, body).await?;
    Ok(keyed_buckets(&v["aggregations"]["targets"], |b| {
        raw_buckets(&b["clients"]).iter().map(|c| (key(c), doc_count(c))).collect()
    }))
}

/// A date (`2026-01-31`, midnight UTC) or an RFC 3339 time.
///
/// # Errors
/// When `s` is neither.
pub fn parse_date(s: &str) -> Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.to_utc());
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .with_context(|| format!("`{s}` is neither a date (2026-01-31), an RFC 3339 time nor a duration (7d, 24h)"))
}

/// `CloudTrail` events per day (UTC): `(YYYY-MM-DD, events)`, oldest first, days without events
/// left out.
///
/// # Errors
/// When the search fails.
pub async fn events_per_day(client: &Client, scope: &Scope) -> Result<Vec<(String, u64)>> {
    let body = json!({"size": 0, "aggs": {"d": {"date_histogram": {"field": "@timestamp", "fixed_interval": "1d", "min_doc_count": 1}}}});
    let v = scope.search(client, CLOUDTRAIL, body).await?;
    let mut days = Vec::new();
    for b in raw_buckets(&v["aggregations"]["d"]) {
        let day = DateTime::from_timestamp_millis(b["key"].as_i64().context("bucket key")?).context("bucket time")?;
        days.push((day.format("%Y-%m-%d").to_string(), doc_count(b)));
    }
    Ok(days)
}

/// The alerts raised, by rule: `(rule title, level, alerts)`, most alerts first.
///
/// # Errors
/// When the search fails.
pub async fn alerts_by_rule(client: &Client, scope: &Scope, n: usize) -> Result<Vec<(String, String, u64)>> {
    let body = json!({"size": 0, "aggs": {"rules": {"terms": {"field": "rule.name", "size": n},
        "aggs": {"level": {"terms": {"field": "rule.level", "size": 1}}}}}});
    let v = scope.search(client, ALERTS, body).await?;
    Ok(raw_buckets(&v["aggregations"]["rules"])
        .iter()
        .map(|b| (key(b), first_key(&b["level"]), doc_count(b)))
        .collect())
}

#[cfg(test)]
mod tests;
