//! A search's matches as the alerter keeps them: each document's id and the few values an alert
//! shows, by dotted path, read straight from the answer.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

/// The fields of a document an alert shows (its time, who, from where, where, what), and so the
/// only ones the alerter reads of a match, with those its search groups or compares by: a search
/// for 5,000 matches then costs their ids and these few values, not 5,000 whole documents.
pub const ALERT_FIELDS: [&str; 10] = [
    "@timestamp",
    "event.action",
    "dns.question.name",
    "user.name",
    "source.ip",
    "sourceIPAddress",
    "source.geo.country_iso_code",
    "source.as.number",
    "cloud.account.id",
    "cloud.region",
];

/// [`ALERT_FIELDS`] and `more`: what a search for matches asks `_source` for.
#[must_use]
pub fn alert_fields<'a>(more: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut fields = ALERT_FIELDS.to_vec();
    fields.extend(more.into_iter().filter(|f| !ALERT_FIELDS.contains(f)));
    fields
}

/// A document a search found, as the alerter keeps it: its fields by dotted path (`source.ip`),
/// the values only (each object's map is gone, so 5,000 matches stay a few megabytes).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(from = "SearchHit")]
pub struct Hit {
    /// Its index.
    pub index: String,
    /// Its id.
    pub id: String,
    /// Each value of its `_source` (or of the fields asked for) that is not an object or `null`,
    /// by its dotted path; arrays are values.
    pub fields: Vec<(String, Value)>,
}

/// One element of a search answer's `hits.hits`, as `OpenSearch` writes it.
#[derive(Deserialize)]
struct SearchHit {
    #[serde(rename = "_index", default)]
    index: String,
    #[serde(rename = "_id", default)]
    id: String,
    #[serde(rename = "_source", default)]
    source: Value,
}

impl From<SearchHit> for Hit {
    fn from(hit: SearchHit) -> Self {
        Self::new(hit.index, hit.id, hit.source)
    }
}

impl Hit {
    /// The hit of document `id` in `index` whose `_source` is `source`.
    #[must_use]
    pub fn new(index: String, id: String, source: Value) -> Self {
        let mut fields = Vec::new();
        flatten(&mut String::new(), source, &mut fields);
        Self { index, id, fields }
    }

    /// The document's event time.
    #[must_use]
    pub fn time(&self) -> Option<DateTime<Utc>> {
        self.field("@timestamp")?.as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.to_utc())
    }

    /// A value by dotted path (`user.name` is the `name` of the object `user`, or a key
    /// `"user.name"`, as `OpenSearch` reads it).
    #[must_use]
    pub fn field(&self, path: &str) -> Option<&Value> {
        self.fields.iter().find(|(p, _)| p == path).map(|(_, v)| v)
    }

    pub(crate) fn text(&self, path: &str) -> Option<String> {
        self.field(path).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
    }
}

/// The values under `value` by dotted path from `path`: objects are walked, `null`s left out.
fn flatten(path: &mut String, value: Value, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let len = path.len();
                if len > 0 {
                    path.push('.');
                }
                path.push_str(&key);
                flatten(path, value, out);
                path.truncate(len);
            }
        }
        Value::Null => {}
        value => out.push((path.clone(), value)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// An answer as `OpenSearch` writes it, its `_source` filtered to a few fields: each hit keeps
    /// its values by dotted path, arrays whole, `null`s and `_score`/`sort` left out; a hit of a
    /// search with `"_source": false` keeps its id.
    #[test]
    fn hits_are_read_from_an_answer_into_values_by_path() {
        #[derive(Deserialize)]
        struct Answer {
            hits: Inner,
        }
        #[derive(Deserialize)]
        struct Inner {
            hits: Vec<Hit>,
        }
        let answer = json!({"took": 3, "hits": {"total": {"value": 2, "relation": "eq"}, "hits": [
            {"_index": "cloudtrail-2026.12.01", "_id": "e1", "_score": null, "sort": [1_764_579_600_000_u64],
             "_source": {"@timestamp": "2026-12-01T09:00:00Z", "source": {"ip": "203.0.113.9", "as": {"number": 64_500},
                 "geo": null}, "user.name": "alice", "related": {"ip": ["203.0.113.9", "10.0.0.1"]}}},
            {"_index": "seclog-alerts-2026.12", "_id": "a1"}]}});
        let hits = serde_json::from_value::<Answer>(answer).unwrap().hits.hits;
        assert_eq!(hits[0].id, "e1");
        assert_eq!(hits[0].time(), DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z").ok().map(|t| t.to_utc()));
        assert_eq!(hits[0].field("source.as.number"), Some(&json!(64_500)));
        assert_eq!(hits[0].field("user.name"), Some(&json!("alice")), "a dotted key reads as its path");
        assert_eq!(hits[0].field("related.ip"), Some(&json!(["203.0.113.9", "10.0.0.1"])));
        assert_eq!(hits[0].field("source.geo"), None);
        assert_eq!(hits[0].field("source"), None, "objects are walked, not kept");
        assert_eq!(hits[0].fields.len(), 5);
        assert_eq!(
            (hits[1].index.as_str(), hits[1].id.as_str(), hits[1].fields.len()),
            ("seclog-alerts-2026.12", "a1", 0)
        );
    }
}
