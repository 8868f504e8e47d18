//! What the bundled rules cost per record: every recorded CloudTrail record (parsed once, as the
//! transform parses it) against the CloudTrail rules.
#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use seclog_core::json::RawObject;
use seclog_rules::{RuleSet, RulesConfig};

fn records() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/cloudtrail");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if !path.to_string_lossy().ends_with(".payload.json") {
            continue;
        }
        let payload: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        for event in payload["logEvents"].as_array().into_iter().flatten() {
            if let Some(m) = event["message"].as_str() {
                if serde_json::from_str::<RawObject<'_>>(m).is_ok() {
                    out.push(m.to_owned());
                }
            }
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let rules = RuleSet::load(&RulesConfig::bundled()).unwrap();
    let texts = records();
    let parsed: Vec<RawObject<'_>> = texts.iter().map(|t| serde_json::from_str(t).unwrap()).collect();
    let mut group = c.benchmark_group("rules/cloudtrail-fixtures");
    group.throughput(Throughput::Elements(parsed.len() as u64));
    group.bench_function("evaluate every record", |b| {
        b.iter(|| parsed.iter().map(|r| rules.cloudtrail(r).rule_ids.len()).sum::<usize>());
    });
    group.finish();
    // What a cold start spends on the rules: parse, check and compile the bundled set.
    c.bench_function("rules/load the bundled set", |b| {
        b.iter(|| RuleSet::load(&RulesConfig::bundled()).unwrap().rules().len());
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
