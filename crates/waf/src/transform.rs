//! One WAF log → one document. Pure: no I/O.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use seclog_core::ecs::{Account, Cloud, Event, Head, Written};
use seclog_core::firehose::{RecordContext, RecordTransform, Transformed};
use seclog_core::json::{shorten, Key, RawObject, ShapeGuard};
use seclog_core::RecordError;
use seclog_core::RecordKind;
use seclog_enrich::{Enricher, IpEnrichment};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

/// The dataset name of every WAF document.
pub const DATASET: &str = "aws.waf";

/// Keys the template maps as `flat_object` (or object).
const OBJECT_MAPPED: ShapeGuard = ShapeGuard(&[
    "ruleGroupList",
    "terminatingRuleMatchDetails",
    "rateBasedRuleList",
    "nonTerminatingMatchingRules",
    "requestHeadersInserted",
    "captchaResponse",
    "challengeResponse",
    "httpRequest",
    "labels",
]);

/// Top-level keys the derived block writes; a log key of the same name is kept as `waf_<key>`.
const DERIVED_KEYS: [&str; 7] = ["@timestamp", "event", "cloud", "source", "rule", "waf", "timestamp_ms"];

/// The headers promoted to `waf.headers.*`, by lower-case name.
const PROMOTED: [(&str, &str); 5] = [
    ("host", "host"),
    ("user-agent", "user_agent"),
    ("referer", "referer"),
    ("x-forwarded-for", "x_forwarded_for"),
    ("content-type", "content_type"),
];

/// WAF log → document.
#[derive(Debug, Clone)]
pub struct WafTransform {
    enricher: Arc<Enricher>,
}

impl Default for WafTransform {
    /// Without GeoIP or AWS-range lookups (WAF's own country code is kept).
    fn default() -> Self {
        Self::new(Arc::new(Enricher::disabled()))
    }
}

impl WafTransform {
    /// A transform enriching `httpRequest.clientIp` with `enricher`.
    #[must_use]
    pub fn new(enricher: Arc<Enricher>) -> Self {
        Self { enricher }
    }
}

impl RecordTransform for WafTransform {
    fn dataset(&self) -> &'static str {
        DATASET
    }

    fn transform(&self, data: &[u8], _: &RecordContext) -> Result<Transformed, RecordError> {
        if let Some(parts) = seclog_core::firehose::json_values(data)? {
            // Several logs in one record: each becomes its own record.
            return Ok(Transformed::Split(parts));
        }
        transform_one(data, &self.enricher).map(|(time, body)| Transformed::Document { body, time })
    }
}

/// Transforms one log.
///
/// # Errors
/// `bad_json` when not a JSON object; `bad_timestamp` when `timestamp` is missing or neither epoch
/// milliseconds nor an RFC 3339 date.
pub(crate) fn transform_one(data: &[u8], enricher: &Enricher) -> Result<(DateTime<Utc>, Vec<u8>), RecordError> {
    let log: RawObject<'_> =
        serde_json::from_slice(data).map_err(|e| RecordError::json(RecordKind::BadJson, "not a JSON object", &e))?;
    let (time, millis) = timestamp(&log)?;
    let (head, derived) = Derived::of(&log, time, enricher);
    let mut body = Vec::with_capacity(data.len() + 1024);
    let own = LogFields { log: &log, timestamp: &head.timestamp, millis };
    serde_json::to_writer(&mut body, &Written { head: &head, derived: &derived, own })
        .map_err(|e| RecordError::json(RecordKind::BadJson, "", &e))?;
    Ok((time, body))
}

fn timestamp(log: &RawObject<'_>) -> Result<(DateTime<Utc>, i64), RecordError> {
    let raw = log.get("timestamp").ok_or_else(|| RecordError::new(RecordKind::BadTimestamp, "timestamp is missing"))?;
    let time = if let Ok(ms) = serde_json::from_str::<i64>(raw.get()) {
        DateTime::from_timestamp_millis(ms)
    } else {
        seclog_core::json::str_of(raw).and_then(|s| DateTime::parse_from_rfc3339(&s).ok()).map(|t| t.to_utc())
    };
    let time = time.ok_or_else(|| {
        RecordError::new(
            RecordKind::BadTimestamp,
            format!("timestamp `{}` is neither epoch milliseconds nor an RFC 3339 date", shorten(raw.get())),
        )
    })?;
    Ok((time, time.timestamp_millis()))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct HttpRequest<'a> {
    #[serde(borrow)]
    client_ip: Option<Cow<'a, str>>,
    #[serde(borrow)]
    country: Option<Cow<'a, str>>,
    #[serde(borrow)]
    headers: Option<Vec<Header<'a>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Header<'a> {
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    value: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
struct Label<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct RuleGroup<'a> {
    #[serde(borrow)]
    rule_group_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    terminating_rule: Option<GroupRule<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct GroupRule<'a> {
    #[serde(borrow)]
    rule_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    action: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct RateBased<'a> {
    #[serde(rename = "rateBasedRuleId", borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(rename = "rateBasedRuleName", borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    limit_key: Option<Cow<'a, str>>,
    limit_value: Option<serde_json::Value>,
    max_rate_allowed: Option<serde_json::Value>,
    evaluation_window_sec: Option<serde_json::Value>,
}

/// The derived block after the head.
#[serde_with::skip_serializing_none]
#[derive(Debug, Serialize)]
struct Derived<'a> {
    source: Option<Source<'a>>,
    rule: Option<Rule<'a>>,
    waf: Waf<'a>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Serialize)]
struct Source<'a> {
    address: Cow<'a, str>,
    ip: Option<String>,
    address_class: &'static str,
    geo: Option<Geo<'a>>,
    #[serde(flatten)]
    enrichment: Option<Arc<IpEnrichment>>,
}

#[derive(Debug, Serialize)]
struct Geo<'a> {
    country_iso_code: Cow<'a, str>,
}

#[derive(Debug, Serialize)]
struct Rule<'a> {
    id: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ruleset: Option<Cow<'a, str>>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Default, Serialize)]
struct Waf<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    labels: Vec<Cow<'a, str>>,
    terminating_rule: Option<TerminatingRule<'a>>,
    rate_based_rule: Option<RateBasedRule<'a>>,
    #[serde(skip_serializing_if = "Headers::is_empty")]
    headers: Headers<'a>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Serialize)]
struct TerminatingRule<'a> {
    id: Cow<'a, str>,
    #[serde(rename = "type")]
    kind: Option<Cow<'a, str>>,
    rule_group_id: Option<Cow<'a, str>>,
    rule_id: Option<Cow<'a, str>>,
    action: Option<Cow<'a, str>>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Serialize)]
struct RateBasedRule<'a> {
    id: Option<Cow<'a, str>>,
    name: Option<Cow<'a, str>>,
    limit_key: Option<Cow<'a, str>>,
    limit_value: Option<String>,
    max_rate_allowed: Option<u64>,
    evaluation_window_sec: Option<u64>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Default, Serialize)]
struct Headers<'a> {
    host: Option<Cow<'a, str>>,
    user_agent: Option<Cow<'a, str>>,
    referer: Option<Cow<'a, str>>,
    x_forwarded_for: Option<Cow<'a, str>>,
    content_type: Option<Cow<'a, str>>,
}

impl Headers<'_> {
    fn is_empty(&self) -> bool {
        self.host.is_none()
            && self.user_agent.is_none()
            && self.referer.is_none()
            && self.x_forwarded_for.is_none()
            && self.content_type.is_none()
    }
}

impl<'a> Headers<'a> {
    fn promote(headers: Vec<Header<'a>>) -> Self {
        let mut out = Self::default();
        for Header { name, value } in headers {
            let (Some(name), Some(value)) = (name, value) else { continue };
            let Some((_, field)) = PROMOTED.iter().find(|(h, _)| name.eq_ignore_ascii_case(h)) else { continue };
            let slot = match *field {
                "host" => &mut out.host,
                "user_agent" => &mut out.user_agent,
                "referer" => &mut out.referer,
                "x_forwarded_for" => &mut out.x_forwarded_for,
                _ => &mut out.content_type,
            };
            slot.get_or_insert(value);
        }
        out
    }
}

/// A number, or a string holding one.
fn number(value: Option<&serde_json::Value>) -> Option<u64> {
    match value? {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl<'a> Derived<'a> {
    fn of(log: &RawObject<'a>, time: DateTime<Utc>, enricher: &Enricher) -> (Head<'a>, Self) {
        let request: HttpRequest<'a> = log.parse("httpRequest").unwrap_or_default();
        let action = log.str("action");
        let terminating = terminating_rule(log, action.clone());
        let rule = terminating.as_ref().map(|t| Rule { id: t.id.clone(), ruleset: t.rule_group_id.clone() });
        let labels = log
            .parse::<Vec<Label<'a>>>("labels")
            .unwrap_or_default()
            .into_iter()
            .map(|l| l.name)
            .filter(|n| !n.is_empty())
            .collect();
        let source = request.client_ip.filter(|ip| !ip.is_empty()).map(|address| {
            let (class, ip) = seclog_enrich::classify(&address);
            let enrichment = ip.and_then(|ip| enricher.lookup(ip));
            // WAF's own country code stands in when the GeoIP database has no answer.
            let geo = request
                .country
                .filter(|c| !c.is_empty() && c != "-" && enrichment.as_ref().is_none_or(|e| e.geo.is_none()))
                .map(|c| Geo { country_iso_code: c });
            Source { ip: ip.map(|ip| ip.to_string()), address, address_class: class.as_str(), geo, enrichment }
        });
        let acl = log.str("webaclId");
        let (account, region) = acl.as_deref().map(arn_account_region).unwrap_or_default();
        let rate_based_rule = rate_based_rule(log, terminating.as_ref());
        let head = Head::at(
            time,
            Event { action, ..Event::of(DATASET) },
            Cloud {
                account: account.map(|id| Account { id: Cow::Owned(id.to_owned()) }),
                ..Cloud::aws(None, region.map(|r| Cow::Owned(r.to_owned())))
            },
        );
        let derived = Self {
            source,
            rule,
            waf: Waf {
                labels,
                terminating_rule: terminating,
                rate_based_rule,
                headers: request.headers.map(Headers::promote).unwrap_or_default(),
            },
        };
        (head, derived)
    }
}

/// `account` and `region` of `arn:aws:wafv2:<region>:<account>:…` (WAF Classic ids are not ARNs).
fn arn_account_region(arn: &str) -> (Option<&str>, Option<&str>) {
    let mut parts = arn.split(':');
    if parts.next() != Some("arn") {
        return (None, None);
    }
    let (_, _, region, account) = (parts.next(), parts.next(), parts.next(), parts.next());
    (account.filter(|a| !a.is_empty()), region.filter(|r| !r.is_empty()))
}

fn terminating_rule<'a>(log: &RawObject<'a>, action: Option<Cow<'a, str>>) -> Option<TerminatingRule<'a>> {
    let id = log.str("terminatingRuleId").filter(|s| !s.is_empty())?;
    let kind = log.str("terminatingRuleType");
    let group = log
        .parse::<Vec<RuleGroup<'a>>>("ruleGroupList")
        .unwrap_or_default()
        .into_iter()
        .find(|g| g.terminating_rule.as_ref().is_some_and(|r| r.rule_id.is_some()));
    let (rule_group_id, rule_id, group_action) = match group {
        Some(RuleGroup { rule_group_id, terminating_rule: Some(rule) }) => (rule_group_id, rule.rule_id, rule.action),
        _ => (None, None, None),
    };
    Some(TerminatingRule { id, kind, rule_group_id, rule_id, action: group_action.or(action) })
}

fn rate_based_rule<'a>(log: &RawObject<'a>, terminating: Option<&TerminatingRule<'a>>) -> Option<RateBasedRule<'a>> {
    let rules = log.parse::<Vec<RateBased<'a>>>("rateBasedRuleList").unwrap_or_default();
    let id = terminating.map(|t| t.id.as_ref());
    let pick =
        rules.iter().position(|r| id.is_some() && (r.name.as_deref() == id || r.id.as_deref() == id)).unwrap_or(0);
    let rule = rules.into_iter().nth(pick)?;
    let limit_value = rule.limit_value.as_ref().map(|v| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    Some(RateBasedRule {
        max_rate_allowed: number(rule.max_rate_allowed.as_ref()),
        evaluation_window_sec: number(rule.evaluation_window_sec.as_ref()),
        id: rule.id,
        name: rule.name,
        limit_key: rule.limit_key,
        limit_value,
    })
}

/// The log's own fields: `timestamp` kept as the derived time and as `timestamp_ms`, a key the
/// derived block writes kept as `waf_<key>`.
struct LogFields<'o, 'a> {
    log: &'o RawObject<'a>,
    timestamp: &'o str,
    millis: i64,
}

impl Serialize for LogFields<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.log.0.len() + 1))?;
        for (Key(key), raw) in &self.log.0 {
            let key: &str = key;
            if key == "timestamp" {
                map.serialize_entry("timestamp", self.timestamp)?;
                map.serialize_entry("timestamp_ms", &self.millis)?;
            } else if DERIVED_KEYS.contains(&key) {
                map.serialize_entry(&format!("waf_{key}"), raw)?;
            } else {
                OBJECT_MAPPED.write_entry(&mut map, key, raw)?;
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests;
