//! The benchmark inputs: each pipeline's payload at its trigger's limit, built from recorded or
//! synthetic records. Shared by the criterion benches (throughput against a plain baseline) and
//! the Lambda emulator measurement (cold start, peak memory of the real function binaries).

use base64::Engine as _;
use seclog_core::decode::gzip_base64;
use seclog_core::envelope::cloudwatch_logs::{AwsLogs, CloudWatchLogsEvent};
use seclog_core::envelope::firehose::FirehoseEvent;
use serde_json::{json, Value};

use crate::firehose_golden::request_at_limit;

/// Lambda's limit on a synchronous request (Firehose's transformation requests).
pub const REQUEST_LIMIT: usize = 6_291_456;
/// `EventBridge`'s limit on one event.
pub const EVENT_LIMIT: usize = 256 * 1024;

/// A benchmark input and what it holds.
#[derive(Debug, Clone)]
pub struct Batch<T> {
    /// The event as the function receives it.
    pub event: T,
    /// Records (log events, Firehose records, findings) in it.
    pub records: usize,
    /// Bytes of log data the function decodes: the decompressed subscription payload, the decoded
    /// Firehose record data, or the `EventBridge` event.
    pub bytes: usize,
}

/// A subscription event of `payload` (a CloudWatch Logs `DATA_MESSAGE`).
fn logs_event(payload: &Value) -> (CloudWatchLogsEvent, usize) {
    let text = payload.to_string();
    (CloudWatchLogsEvent { awslogs: AwsLogs { data: gzip_base64(text.as_bytes()) } }, text.len())
}

/// A subscription event of log events, as many as fit `limit` decompressed payload bytes.
fn logs_batch(
    group: &str,
    stream: &str,
    limit: usize,
    mut message: impl FnMut(usize) -> String,
) -> Batch<CloudWatchLogsEvent> {
    let mut events = Vec::new();
    let mut size = 200;
    for i in 0.. {
        let m = message(i);
        // {"id":"<56 digits>","timestamp":1700000000000,"message":"…"}, with JSON escapes
        size += serde_json::to_string(&m).unwrap().len() + 100;
        if size > limit {
            break;
        }
        events.push(json!({"id": format!("{i:056}"), "timestamp": 1_700_000_000_000_u64 + i as u64, "message": m}));
    }
    let records = events.len();
    let (event, bytes) = logs_event(&json!({"messageType": "DATA_MESSAGE", "owner": "111122223333",
        "logGroup": group, "logStream": stream, "subscriptionFilters": ["seclog"], "logEvents": events}));
    Batch { event, records, bytes }
}

fn firehose_batch(stream: &str, record: impl FnMut(usize) -> Vec<u8>) -> Batch<FirehoseEvent> {
    let event = request_at_limit(stream, record);
    let engine = base64::engine::general_purpose::STANDARD;
    let bytes = event.records.iter().map(|r| engine.decode(&r.data).map_or(0, |d| d.len())).sum();
    Batch { records: event.records.len(), event, bytes }
}

/// The recorded `CloudTrail` records, each copy with its own `eventID`, to `limit` bytes of
/// decompressed subscription payload.
#[must_use]
pub fn cloudtrail(limit: usize) -> Batch<CloudWatchLogsEvent> {
    let seeds: Vec<Value> = crate::invariants::fixture_records("cloudtrail")
        .iter()
        .filter_map(|r| serde_json::from_slice::<Value>(r).ok())
        .filter(|v| v["eventID"].is_string() && v["eventTime"].is_string())
        .collect();
    logs_batch("aws-cloudtrail-logs-bench", "111122223333_CloudTrail_us-east-1", limit, |i| {
        let mut v = seeds[i % seeds.len()].clone();
        v["eventID"] = json!(format!("bench-{i:08}-{}", v["eventID"].as_str().unwrap_or_default()));
        v.to_string()
    })
}

/// Real `CloudFront` WAF logs repeated to a 6 MB Firehose request.
#[must_use]
pub fn waf() -> Batch<FirehoseEvent> {
    let sample: FirehoseEvent = crate::golden::load(&crate::fixtures("waf").join("opensearch-catalog.input.json"));
    let logs: Vec<Vec<u8>> =
        sample.records.iter().map(|r| base64::engine::general_purpose::STANDARD.decode(&r.data).unwrap()).collect();
    firehose_batch("aws-waf-logs-bench", |i| logs[i % logs.len()].clone())
}

/// Default-format flow-log lines, one per record, each distinct, to a 6 MB Firehose request.
#[must_use]
pub fn vpcflow() -> Batch<FirehoseEvent> {
    firehose_batch("vpc-flow-logs-bench", |i| {
        let action = if i % 7 == 0 { "REJECT" } else { "ACCEPT" };
        format!(
            "2 123456789012 eni-0a1b2c3d4e5f60718 10.0.{}.{} 52.95.128.{} {} 443 6 {} {} {} {} {action} OK\n",
            i / 250 % 250,
            i % 250,
            i % 200,
            1024 + i % 60_000,
            1 + i % 40,
            100 + i * 13 % 90_000,
            1_699_999_800 + i % 3_600,
            1_699_999_860 + i % 3_600,
        )
        .into_bytes()
    })
}

/// Query names of the Route 53 batches: registered domains under multi-label suffixes, a reverse
/// lookup, an NXDOMAIN and a high-entropy (tunnel-like) name.
pub const ROUTE53_NAMES: [&str; 6] = [
    "www.example.co.uk.",
    "assets.shop.example.com.",
    "25.1.0.10.in-addr.arpa.",
    "does-not-exist.example.com.",
    "mzxw6ytboi4dsnrtgq2tmnzygezdcmrtgq2tmnzy.t.exfil.example.net.",
    "api.example.com.",
];

/// Distinct Resolver query-log records to a 6 MB Firehose request.
#[must_use]
pub fn route53_resolver() -> Batch<FirehoseEvent> {
    firehose_batch("route53-resolver-bench", |i| {
        json!({"version": "1.100000", "account_id": "111122223333", "region": "eu-west-1", "vpc_id": "vpc-0a1b2c3d",
            "query_timestamp": format!("2023-11-14T21:{:02}:{:02}Z", i / 60 % 60, i % 60),
            "query_name": ROUTE53_NAMES[i % ROUTE53_NAMES.len()], "query_type": "A", "query_class": "IN",
            "rcode": if i % 5 == 0 { "NXDOMAIN" } else { "NOERROR" },
            "answers": [{"Rdata": format!("192.0.2.{}", i % 250), "Type": "A", "Class": "IN"}],
            "srcaddr": format!("10.0.{}.{}", i / 250 % 250, i % 250), "srcport": (1024 + i % 60_000).to_string(),
            "transport": "UDP", "srcids": {"instance": "i-0a1b2c3d4e5f60718"}})
        .to_string()
        .into_bytes()
    })
}

/// Public hosted-zone query-log lines (five public resolvers, some with an EDNS client subnet)
/// to a 1 MB subscription payload (`PutLogEvents` takes 1 MiB).
#[must_use]
pub fn route53_public() -> Batch<CloudWatchLogsEvent> {
    let resolvers = ["8.8.8.8", "121.134.0.1", "2001:4860:4860::8888", "52.95.128.179", "1.1.1.1"];
    logs_batch("/aws/route53/example.com", "Z0123456789ABCDEFGHIJ/IAD89-C3", 1_000_000, |i| {
        let name = ROUTE53_NAMES[i % ROUTE53_NAMES.len()].trim_end_matches('.');
        format!(
            "1.0 2023-11-14T21:{:02}:{:02}.{:03}Z Z0123456789ABCDEFGHIJ {name} A {} UDP IAD89-C3 {} {}",
            i / 60 % 60,
            i % 60,
            i % 1000,
            if i % 5 == 0 { "NXDOMAIN" } else { "NOERROR" },
            resolvers[i % resolvers.len()],
            if i % 3 == 0 { "203.0.113.0/24" } else { "-" },
        )
    })
}

/// The recorded Security Hub batch's findings, repeated with distinct ids to one `EventBridge`
/// event at its 256 KB limit.
#[must_use]
pub fn securityhub() -> Batch<Value> {
    let mut event: Value = crate::golden::load(&crate::fixtures("securityhub").join("asr-simdata-batch-0.input.json"));
    let sample = event["detail"]["findings"].as_array().unwrap().clone();
    // The event without findings, then each finding and its comma.
    event["detail"]["findings"] = json!([]);
    let mut size = event.to_string().len();
    let mut findings = Vec::new();
    for i in 0.. {
        let mut f = sample[i % sample.len()].clone();
        f["Id"] = json!(format!("{}-{i}", f["Id"].as_str().unwrap()));
        size += f.to_string().len() + 1;
        if size > EVENT_LIMIT {
            break;
        }
        findings.push(f);
    }
    let records = findings.len();
    event["detail"]["findings"] = Value::Array(findings);
    let bytes = event.to_string().len();
    assert!(bytes <= EVENT_LIMIT);
    Batch { event, records, bytes }
}

/// Writes what a criterion group measured on (`target/bench/inputs/<group>.json`), so that
/// `scripts/bench` can turn criterion's times into records/s and MB/s.
pub fn describe<T>(group: &str, batch: &Batch<T>, what: &str) {
    let dir = crate::target_dir().join("bench/inputs");
    std::fs::create_dir_all(&dir).unwrap();
    let body = json!({"group": group, "records": batch.records, "bytes": batch.bytes, "input": what});
    std::fs::write(dir.join(format!("{}.json", group.replace('/', "_"))), body.to_string()).unwrap();
}

/// The recorded CloudTrail records, each copy with its own `eventID`, as one `{"Records":[…]}`
/// file of about `size` bytes, as CloudTrail delivers to S3 (before gzip); and its record count.
pub fn cloudtrail_file(size: usize) -> (Vec<u8>, usize) {
    let seeds: Vec<Value> = crate::invariants::fixture_records("cloudtrail")
        .iter()
        .filter_map(|r| serde_json::from_slice::<Value>(r).ok())
        .filter(|v| v["eventID"].is_string() && v["eventTime"].is_string())
        .collect();
    let mut records = Vec::new();
    let mut bytes = 0;
    while bytes < size {
        let mut v = seeds[records.len() % seeds.len()].clone();
        v["eventID"] = json!(format!("bench-{:08}", records.len()));
        bytes += v.to_string().len() + 1;
        records.push(v);
    }
    let n = records.len();
    (serde_json::to_vec(&json!({ "Records": records })).unwrap(), n)
}
