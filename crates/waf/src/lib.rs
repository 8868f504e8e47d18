//! AWS WAF logs, delivered by Firehose, into documents for `OpenSearch`.
//!
//! The function is a Firehose data-transformation processor: [`seclog_core::firehose`] answers
//! every record; [`WafTransform`] turns one WAF log into one document:
//!
//! - `timestamp` (epoch milliseconds) becomes an ISO-8601 UTC date with milliseconds (the index
//!   pattern most WAF dashboards use takes `timestamp` as its time field); the original stays in
//!   `timestamp_ms`, and `@timestamp` is the same date. An RFC 3339 string `timestamp` (seen in edited samples) is
//!   accepted; anything else is `bad_timestamp`.
//! - Header names are attacker-controlled and never become field names: `httpRequest.headers`
//!   stays an array of `{name, value}`, and `host`, `user-agent`, `referer`, `x-forwarded-for` and
//!   `content-type` (first occurrence, any case) are copied to `waf.headers.*`.
//! - Derived: `waf.labels` (label names), `waf.terminating_rule` (id, type, the rule group and the
//!   rule inside it when a group terminated, action), `waf.rate_based_rule` (the rate-based rule
//!   that terminated, or the first listed), `source.ip` = `httpRequest.clientIp` with its address
//!   class, `source.geo.country_iso_code` = WAF's own `httpRequest.country`, `rule.*`, `event.*`,
//!   and `cloud.*` from the web ACL's ARN.
//! - Open-ended parts (`ruleGroupList`, `terminatingRuleMatchDetails`, `rateBasedRuleList`,
//!   `nonTerminatingMatchingRules`, `requestHeadersInserted`, `captchaResponse`,
//!   `challengeResponse`) are `flat_object` in the template; a value of another shape is kept as
//!   `{"_value": "<JSON text>"}`.
//!
//! A record holding several JSON logs (NDJSON) is split into one record per log. A record that is
//! not a JSON object is `bad_json`.

pub mod config;
pub mod handler;
mod transform;

/// The index family Firehose writes the documents to (the stream's destination).
pub const FAMILY: &str = "waf";
/// Every index of the family, as searches and reports name it.
pub const PATTERN: &str = "waf-*";

pub use transform::{WafTransform, DATASET};
