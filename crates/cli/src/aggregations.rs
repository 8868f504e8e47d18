//! Reading the buckets of a search's aggregations.

use serde_json::Value;

/// The buckets of a terms (or any bucket) aggregation; none when it has none.
pub(crate) fn raw_buckets(agg: &Value) -> &[Value] {
    agg["buckets"].as_array().map(Vec::as_slice).unwrap_or_default()
}

/// A bucket key as text (numbers and addresses too).
pub(crate) fn key(bucket: &Value) -> String {
    match &bucket["key"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The key of an aggregation's first bucket (the top term of a `size: 1` terms aggregation); empty
/// when it has none.
pub(crate) fn first_key(agg: &Value) -> String {
    raw_buckets(agg).first().map(key).unwrap_or_default()
}

/// How many documents a bucket (or a single-bucket aggregation such as `filter`) counted.
pub(crate) fn doc_count(bucket: &Value) -> u64 {
    bucket["doc_count"].as_u64().unwrap_or(0)
}

/// `(key, doc_count, what read reads of it)` of each bucket (its sub-aggregations, say).
pub(crate) fn keyed_buckets<T>(agg: &Value, read: impl Fn(&Value) -> T) -> Vec<(String, u64, T)> {
    raw_buckets(agg).iter().map(|b| (key(b), doc_count(b), read(b))).collect()
}

/// `(key, doc_count)` of each bucket with a text key.
pub(crate) fn buckets(agg: &Value) -> Vec<(String, u64)> {
    raw_buckets(agg).iter().map(|b| (b["key"].as_str().unwrap_or_default().to_owned(), doc_count(b))).collect()
}
