//! The `route53` function on its two triggers, each against a plain baseline of the same bytes:
//!
//! - Resolver query logs: a full 6 MB Firehose request, against per-record base64 decode +
//!   `serde_json::Value` parse + `@timestamp` + serialise + encode;
//! - public query logs: a 1 MB `CloudWatch` Logs subscription event delivered to a memory sink,
//!   against gunzip + payload parse + each line split into an object of its ten fields + serialise.
#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use base64::Engine as _;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use seclog_core::decode::gzip_base64;
use seclog_core::envelope::cloudwatch_logs::{self, AwsLogs, CloudWatchLogsEvent};
use seclog_core::envelope::firehose::FirehoseEvent;
use seclog_core::sink::firehose::MemoryRecordSink;
use seclog_core::sink::MemorySink;
use seclog_route53::handler::{process, Config, Deps, Route53Event};
use seclog_route53::PUBLIC_FIELDS;
use serde_json::{json, Map, Value};

const NAMES: [&str; 6] = [
    "www.example.co.uk.",
    "assets.shop.example.com.",
    "25.1.0.10.in-addr.arpa.",
    "does-not-exist.example.com.",
    "mzxw6ytboi4dsnrtgq2tmnzygezdcmrtgq2tmnzy.t.exfil.example.net.",
    "api.example.com.",
];

/// Distinct Resolver records to a 6 MB Firehose request.
fn resolver_request() -> FirehoseEvent {
    seclog_testkit::firehose::request_at_limit("route53-resolver-bench", |i| {
        json!({"version": "1.100000", "account_id": "111122223333", "region": "eu-west-1", "vpc_id": "vpc-0a1b2c3d",
            "query_timestamp": format!("2023-11-14T21:{:02}:{:02}Z", i / 60 % 60, i % 60),
            "query_name": NAMES[i % NAMES.len()], "query_type": "A", "query_class": "IN",
            "rcode": if i % 5 == 0 { "NXDOMAIN" } else { "NOERROR" },
            "answers": [{"Rdata": format!("192.0.2.{}", i % 250), "Type": "A", "Class": "IN"}],
            "srcaddr": format!("10.0.{}.{}", i / 250 % 250, i % 250), "srcport": (1024 + i % 60_000).to_string(),
            "transport": "UDP", "srcids": {"instance": "i-0a1b2c3d4e5f60718"}})
        .to_string()
        .into_bytes()
    })
}

/// Public query log lines to a 1 MB subscription event (`PutLogEvents` allows 1 MiB).
fn public_event() -> (CloudWatchLogsEvent, usize) {
    let resolvers = ["8.8.8.8", "121.134.0.1", "2001:4860:4860::8888", "52.95.128.179", "1.1.1.1"];
    let mut events = Vec::new();
    let mut size = 0;
    for i in 0.. {
        let name = NAMES[i % NAMES.len()].trim_end_matches('.');
        let line = format!(
            "1.0 2023-11-14T21:{:02}:{:02}.{:03}Z Z0123456789ABCDEFGHIJ {name} A {} UDP IAD89-C3 {} {}",
            i / 60 % 60,
            i % 60,
            i % 1000,
            if i % 5 == 0 { "NXDOMAIN" } else { "NOERROR" },
            resolvers[i % resolvers.len()],
            if i % 3 == 0 { "203.0.113.0/24" } else { "-" },
        );
        size += line.len() + 90;
        if size > 1_000_000 {
            break;
        }
        events
            .push(json!({"id": format!("{:056}", i), "timestamp": 1_700_000_000_000_u64 + i as u64, "message": line}));
    }
    let n = events.len();
    let payload = json!({"messageType": "DATA_MESSAGE", "owner": "111122223333", "logGroup": "/aws/route53/example.com",
        "logStream": "Z0123456789ABCDEFGHIJ/IAD89-C3", "subscriptionFilters": ["seclog"], "logEvents": events});
    (CloudWatchLogsEvent { awslogs: AwsLogs { data: gzip_base64(payload.to_string().as_bytes()) } }, n)
}

fn deps() -> Deps<MemorySink, MemoryRecordSink> {
    Deps::new(Some(MemorySink::new()), MemoryRecordSink::new(), Config::default())
}

fn run(event: &Route53Event, deps: &Deps<MemorySink, MemoryRecordSink>) -> usize {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    rt.block_on(process(event, deps, deadline)).unwrap();
    deps.sink.as_ref().unwrap().take().len()
}

/// Plain Firehose: decode, parse, add `@timestamp`, serialise, encode.
fn plain_resolver(event: &FirehoseEvent) -> Vec<u8> {
    let engine = base64::engine::general_purpose::STANDARD;
    let records: Vec<Value> = event
        .records
        .iter()
        .map(|r| {
            let mut log: Value = serde_json::from_slice(&engine.decode(&r.data).unwrap()).unwrap();
            log["@timestamp"] = log["query_timestamp"].clone();
            json!({"recordId": r.record_id, "result": "Ok", "data": engine.encode(serde_json::to_vec(&log).unwrap())})
        })
        .collect();
    serde_json::to_vec(&json!({ "records": records })).unwrap()
}

/// Plain subscription: gunzip, parse, split each line into its fields, serialise as bulk NDJSON.
fn plain_public(event: &CloudWatchLogsEvent) -> Vec<u8> {
    let bytes = cloudwatch_logs::decode(event, 64 << 20).unwrap();
    let payload: Value = serde_json::from_slice(&bytes).unwrap();
    let mut out = Vec::new();
    for e in payload["logEvents"].as_array().unwrap() {
        let line = e["message"].as_str().unwrap();
        let doc: Map<String, Value> =
            PUBLIC_FIELDS.iter().zip(line.split(' ')).map(|(n, v)| ((*n).to_owned(), Value::from(v))).collect();
        serde_json::to_writer(&mut out, &json!({"create": {"_index": "route53-public", "_id": e["id"]}})).unwrap();
        out.push(b'\n');
        serde_json::to_writer(&mut out, &doc).unwrap();
        out.push(b'\n');
    }
    out
}

fn bench(c: &mut Criterion) {
    let (deps, no_lookups) = (deps().with_enricher(seclog_testkit::enricher()), deps());
    let request = resolver_request();
    let mut group = c.benchmark_group("route53/resolver-firehose-6MB");
    group.throughput(Throughput::Elements(request.records.len() as u64));
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    let event = Route53Event::Firehose(request.clone());
    group.bench_function("seclog transformation", |b| b.iter(|| run(&event, &deps)));
    group.bench_function("seclog transformation, no lookups", |b| b.iter(|| run(&event, &no_lookups)));
    group.bench_function("plain decode+parse+serialise", |b| b.iter(|| plain_resolver(&request)));
    group.finish();

    let (logs, n) = public_event();
    let mut group = c.benchmark_group("route53/public-subscription-1MB");
    group.throughput(Throughput::Elements(n as u64));
    group.sample_size(20);
    let event = Route53Event::Logs(logs.clone());
    group.bench_function("seclog handler", |b| b.iter(|| run(&event, &deps)));
    group.bench_function("seclog handler, no lookups", |b| b.iter(|| run(&event, &no_lookups)));
    group.bench_function("plain gunzip+parse+serialise", |b| b.iter(|| plain_public(&logs)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
