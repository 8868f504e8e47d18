//! Property tests of the decoders' contracts (`seclog_testkit::invariants`), whatever the input:
//! arbitrary text and bytes at each layer (the envelope, the compressed payload, the records), and
//! real recorded records with one value replaced by arbitrary JSON, truncated, or with a byte
//! changed. The fuzz targets in `fuzz/` check the same contracts for longer.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use seclog_testkit::fuzzing::eventbridge_invariants;
use seclog_testkit::fuzzing::{CLOUDTRAIL, ROUTE53, VPC, VPC_CUSTOM, WAF};
use seclog_testkit::invariants::{firehose, fixture_records, logs_payload, subscription, subscription_payload};
use serde_json::Value;

/// Arbitrary JSON, a few levels deep.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,24}".prop_map(Value::from),
        "[0-9.:a-f]{0,40}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(".{0,12}", inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every value's path in `v` (object keys and array indices).
fn paths(v: &Value, here: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    out.push(here.clone());
    match v {
        Value::Object(m) => m.iter().for_each(|(k, c)| {
            here.push(Value::from(k.as_str()));
            paths(c, here, out);
            here.pop();
        }),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, c)| {
            here.push(Value::from(i));
            paths(c, here, out);
            here.pop();
        }),
        _ => {}
    }
}

fn at<'v>(v: &'v mut Value, path: &[Value]) -> &'v mut Value {
    path.iter().fold(v, |v, step| match step {
        Value::String(k) => &mut v[k.as_str()],
        _ => &mut v[usize::try_from(step.as_u64().unwrap()).unwrap()],
    })
}

/// How a recorded record is damaged.
#[derive(Debug, Clone)]
enum Mutation {
    /// One value (chosen by `pick`) replaced by arbitrary JSON.
    Replace(usize, Value),
    /// Cut at a position.
    Truncate(usize),
    /// One byte changed.
    Byte(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<usize>(), json()).prop_map(|(p, v)| Mutation::Replace(p, v)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::Byte(p, b)),
    ]
}

fn mutate(seed: &[u8], m: &Mutation) -> Vec<u8> {
    match m {
        Mutation::Replace(pick, value) => {
            if let Ok(mut v) = serde_json::from_slice::<Value>(seed) {
                let mut all = Vec::new();
                paths(&v, &mut Vec::new(), &mut all);
                *at(&mut v, &all[pick % all.len()]) = value.clone();
                serde_json::to_vec(&v).unwrap()
            } else {
                // Not JSON (a VPC flow or a public-zone line): replace a space-separated field.
                let text = String::from_utf8_lossy(seed);
                let mut fields: Vec<String> = text.split(' ').map(str::to_owned).collect();
                let i = pick % fields.len();
                fields[i] = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
                fields.join(" ").into_bytes()
            }
        }
        Mutation::Truncate(at) => seed[..at % (seed.len() + 1)].to_vec(),
        Mutation::Byte(at, b) => {
            let mut out = seed.to_vec();
            if !out.is_empty() {
                let i = at % out.len();
                out[i] = *b;
            }
            out
        }
    }
}

/// Damaged copies of a source's recorded records.
fn damaged(source: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let seeds = fixture_records(source);
    assert!(!seeds.is_empty(), "{source}: no recorded records");
    (0..seeds.len(), mutation()).prop_map(move |(i, m)| mutate(&seeds[i], &m))
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn cloudwatch_logs_envelope_of_any_text(data in ".{0,300}") {
        subscription(&data, &*CLOUDTRAIL);
    }

    #[test]
    fn cloudwatch_logs_payload_of_any_bytes(payload in prop::collection::vec(any::<u8>(), 0..600)) {
        subscription_payload(&payload, &*CLOUDTRAIL);
    }

    #[test]
    fn cloudtrail_records_damaged_or_arbitrary(
        records in prop::collection::vec(prop_oneof![damaged("cloudtrail").prop_map(text), json().prop_map(|v| v.to_string())], 0..6),
    ) {
        subscription_payload(&logs_payload(&records), &*CLOUDTRAIL);
    }

    #[test]
    fn firehose_waf_records(records in prop::collection::vec(prop_oneof![damaged("waf"), prop::collection::vec(any::<u8>(), 0..200)], 0..8)) {
        firehose(&records.iter().map(Vec::as_slice).collect::<Vec<_>>(), &*WAF);
    }

    #[test]
    fn firehose_vpcflow_records_default_and_custom_format(records in prop::collection::vec(prop_oneof![damaged("vpcflow"), "[ -~]{0,120}".prop_map(String::into_bytes)], 0..8)) {
        let records: Vec<_> = records.iter().map(Vec::as_slice).collect();
        firehose(&records, &*VPC);
        firehose(&records, &*VPC_CUSTOM);
    }

    #[test]
    fn route53_records_on_both_triggers(records in prop::collection::vec(damaged("route53"), 0..6)) {
        firehose(&records.iter().map(Vec::as_slice).collect::<Vec<_>>(), &*ROUTE53);
        let messages: Vec<String> = records.into_iter().map(text).collect();
        subscription_payload(&logs_payload(&messages), &*ROUTE53);
    }

    #[test]
    fn eventbridge_events_damaged_or_arbitrary(event in prop_oneof![damaged("securityhub"), json().prop_map(|v| serde_json::to_vec(&v).unwrap())]) {
        // The runtime hands the handler only valid JSON; anything else never reaches it.
        if let Ok(raw) = serde_json::from_slice::<Box<serde_json::value::RawValue>>(&event) {
            eventbridge_invariants(&raw);
        }
    }
}

/// The time each Firehose transform hands on with a document is the document's own `@timestamp`
/// (the `s3` function names the document's index by it instead of reading the document again).
#[test]
fn each_documents_time_is_its_timestamp() {
    use seclog_core::firehose::{RecordContext, RecordTransform, Transformed};
    let context = RecordContext { arrival: chrono::DateTime::from_timestamp(1_700_000_000, 0) };
    let transforms: [(&str, &dyn RecordTransform); 3] = [("waf", &*WAF), ("vpcflow", &*VPC), ("route53", &*ROUTE53)];
    for (source, transform) in transforms {
        let mut documents = 0;
        for record in fixture_records(source) {
            let Ok(Transformed::Document { body, time }) = transform.transform(&record, &context) else { continue };
            let doc: Value = serde_json::from_slice(&body).unwrap();
            let written = chrono::DateTime::parse_from_rfc3339(doc["@timestamp"].as_str().unwrap()).unwrap();
            assert_eq!(written.timestamp_millis(), time.timestamp_millis(), "{source}: {doc}");
            documents += 1;
        }
        assert!(documents >= 10, "{source}: only {documents} documents");
    }
}
