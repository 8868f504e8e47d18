//! The soak: a large, varied synthetic stream through the real handlers into a real `osmem-server`
//! behind the project's fault proxy — 429 and 503 storms, responses slower than the client's
//! timeout, connection resets, partial bulk failures, storms long enough to fail an invocation — with
//! whole invocations delivered again the way Lambda does (a failed one retried, up to twice; a
//! successful one sometimes twice, as at-least-once delivery allows), plus Firehose requests at the
//! 6 MB limit with re-ingestion. At the end: documents in the server + dead letters = distinct
//! inputs, duplicates = 0; it prints the handler process's peak memory and the retry statistics.
//!
//! `SOAK_EVENTS` CloudTrail records (default 5,000 in batches of 500, as in the test command: every
//! kind of fault at least once), counted and cleared from the server every `SOAK_WINDOW` records
//! (default 100,000, a multiple of 500) and `SOAK_FIREHOSE`
//! Firehose requests of 6 MB (default 1), `SOAK_SEED`; the published run:
//! `SOAK_EVENTS=1000000 SOAK_FIREHOSE=10 cargo test --release -p seclog-e2e --test soak -- --nocapture`.
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

use std::io::Write as _;
use std::time::{Duration, Instant};

use base64::Engine as _;
use seclog_core::envelope::cloudwatch_logs::{AwsLogs, CloudWatchLogsEvent};
use seclog_core::envelope::firehose::{FirehoseEvent, RecordResult};
use seclog_core::firehose::{process, Settings};
use seclog_core::sink::delivery_stream::MemoryRecordSink;
use seclog_e2e::{deps, fast_config, server};
use seclog_testkit::proxy::{Fault, FaultProxy};
use serde_json::{json, Value};

const BATCH: usize = 500;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Varied `CloudTrail` records; about 0.5% lack their `eventID` and 0.2% are cut short (both
/// must end as dead letters).
struct Records {
    rng: fastrand::Rng,
    n: u64,
}

const CALLS: &[(&str, &str, bool)] = &[
    ("s3.amazonaws.com", "GetObject", true),
    ("s3.amazonaws.com", "PutObject", false),
    ("s3.amazonaws.com", "ListBuckets", true),
    ("iam.amazonaws.com", "CreateUser", false),
    ("iam.amazonaws.com", "AttachRolePolicy", false),
    ("sts.amazonaws.com", "AssumeRole", true),
    ("sts.amazonaws.com", "GetCallerIdentity", true),
    ("ec2.amazonaws.com", "DescribeInstances", true),
    ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", false),
    ("ec2.amazonaws.com", "RunInstances", false),
    ("kms.amazonaws.com", "Decrypt", true),
    ("lambda.amazonaws.com", "Invoke", false),
    ("signin.amazonaws.com", "ConsoleLogin", false),
    ("cloudtrail.amazonaws.com", "StopLogging", false),
    ("dynamodb.amazonaws.com", "GetItem", true),
    ("secretsmanager.amazonaws.com", "GetSecretValue", true),
];
const AGENTS: &[&str] = &[
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64.amzn.2023",
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.1 lang/python#3.12.2",
    "aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0 Safari/537.36",
    "Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.42.0",
    "AWS Internal",
    "console.amazonaws.com",
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.6.9-amd64 exe/x86_64.kali.2024",
];
const REGIONS: &[&str] = &["eu-west-1", "us-east-1", "us-west-2", "ap-southeast-2", "eu-central-1", "sa-east-1"];

impl Records {
    fn ip(&mut self) -> String {
        let r = &mut self.rng;
        match r.u8(0..10) {
            0 => "ec2.amazonaws.com".into(),
            1 => format!("10.{}.{}.{}", r.u8(..), r.u8(..), r.u8(1..255)),
            2 => format!("2a05:d018:{:x}:{:x}::{:x}", r.u16(..), r.u16(..), r.u16(1..)),
            _ => format!("{}.{}.{}.{}", r.u8(1..224), r.u8(..), r.u8(..), r.u8(1..255)),
        }
    }

    /// The next record and whether it should be indexed (or dead-lettered).
    fn next(&mut self) -> (String, bool) {
        self.n += 1;
        let n = self.n;
        let ip = self.ip();
        let r = &mut self.rng;
        let (source, name, read_only) = CALLS[r.usize(..CALLS.len())];
        let account = format!("{:012}", 111_111_111_111_u64 * (1 + r.u64(0..5)));
        let seconds = r.i64(0..30 * 86_400);
        let time = chrono::DateTime::from_timestamp(1_709_251_200 + seconds, 0).unwrap();
        let failed = r.u8(0..20) == 0;
        let mut record = json!({
            "eventVersion": if r.bool() { "1.08" } else { "1.09" },
            "userIdentity": match r.u8(0..4) {
                0 => json!({"type": "Root", "principalId": account, "arn": format!("arn:aws:iam::{account}:root"), "accountId": account}),
                1 => json!({"type": "IAMUser", "principalId": format!("AIDA{n:016X}"), "arn": format!("arn:aws:iam::{account}:user/u{}", r.u16(..)), "accountId": account, "userName": format!("u{}", r.u16(..))}),
                2 => json!({"type": "AWSService", "invokedBy": "lambda.amazonaws.com"}),
                _ => json!({"type": "AssumedRole", "principalId": format!("AROA{n:016X}:session"), "arn": format!("arn:aws:sts::{account}:assumed-role/r{}/session", r.u8(..)), "accountId": account,
                    "sessionContext": {"sessionIssuer": {"type": "Role", "arn": format!("arn:aws:iam::{account}:role/r{}", r.u8(..))}, "attributes": {"mfaAuthenticated": "false", "creationDate": time.to_rfc3339()}}}),
            },
            "eventTime": time.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "eventSource": source,
            "eventName": name,
            "awsRegion": REGIONS[r.usize(..REGIONS.len())],
            "sourceIPAddress": ip,
            "userAgent": AGENTS[r.usize(..AGENTS.len())],
            "requestParameters": if read_only && r.bool() { Value::Null } else {
                // Free-form and ever-changing keys: they must never become fields of their own.
                json!({ "bucketName": format!("b{}", r.u16(..)), format!("k{}", r.u32(..)): { format!("n{}", r.u16(..)): r.u64(..) }, "tags": [r.u8(..), "x"] })
            },
            "responseElements": if name == "ConsoleLogin" { json!({"ConsoleLogin": if failed { "Failure" } else { "Success" }}) } else { Value::Null },
            "requestID": format!("{n:032x}"),
            "eventID": format!("{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}", n >> 32, (n >> 16) & 0xffff, n & 0xfff, r.u16(..) & 0xfff, n),
            "readOnly": read_only,
            "eventType": if name == "ConsoleLogin" { "AwsConsoleSignIn" } else { "AwsApiCall" },
            "managementEvent": true,
            "recipientAccountId": account,
            "eventCategory": "Management",
        });
        if failed && name != "ConsoleLogin" {
            record["errorCode"] = json!("AccessDenied");
            record["errorMessage"] = json!(format!("User is not authorized to perform: {source}:{name}"));
        }
        match r.u16(0..1000) {
            0..=4 => {
                record.as_object_mut().unwrap().remove("eventID");
                (record.to_string(), false)
            }
            5..=6 => {
                let text = record.to_string();
                (text[..text.len() / 2].to_owned(), false)
            }
            _ => (record.to_string(), true),
        }
    }
}

/// A subscription event of `messages`, as CloudWatch Logs sends it (gzip, base64).
fn envelope(first_id: u64, messages: &[String]) -> CloudWatchLogsEvent {
    let events: Vec<Value> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| json!({ "id": format!("{:056}", first_id + i as u64), "timestamp": 1_709_251_200_000_i64, "message": m }))
        .collect();
    let payload = json!({ "messageType": "DATA_MESSAGE", "owner": "111111111111", "logGroup": "aws-cloudtrail-logs",
        "logStream": "111111111111_CloudTrail_eu-west-1", "subscriptionFilters": ["seclog"], "logEvents": events });
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&serde_json::to_vec(&payload).unwrap()).unwrap();
    CloudWatchLogsEvent {
        awslogs: AwsLogs { data: base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap()) },
    }
}

/// The kinds of fault, taken in turn by successive invocations so that even a short soak meets
/// each: none, a 429 storm, a 503 storm, a response slower than the client's timeout, connection
/// resets, partial bulk failures, and a storm that outlasts the sink's retries and fails the
/// invocation (only on a first delivery, so Lambda's two retries always suffice).
const KINDS: usize = 7;

fn faults(kind: usize, rng: &mut fastrand::Rng, first_delivery: bool) -> Vec<Fault> {
    match kind % KINDS {
        1 => vec![Fault::Status(429); rng.usize(1..6)],
        2 => vec![Fault::Status(503); rng.usize(1..4)],
        3 => vec![Fault::Delay(Duration::from_millis(1_500))],
        4 => vec![Fault::Reset; rng.usize(1..3)],
        5 => vec![Fault::PartialBulk { every: rng.usize(2..10), status: 429 }; rng.usize(1..3)],
        // Outlasts every retry however many daily indices (one request each) the batch spans; the
        // plan is cleared before the next invocation.
        6 if first_delivery => vec![Fault::Status(503); 5_000],
        _ => Vec::new(),
    }
}

/// `(CloudTrail documents, dead letters)` in the server now.
async fn counted(client: &seclog_cli::client::Client) -> (u64, u64) {
    client.refresh().await.unwrap();
    (client.count("cloudtrail-*").await.unwrap(), client.count("*-deadletter-*").await.unwrap())
}

/// The handler process's peak resident memory (`VmHWM`), in MB.
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

#[derive(Debug, Default)]
struct Tally {
    invocations: usize,
    failed_invocations: usize,
    redelivered_after_success: usize,
    retried_items: usize,
    bulk_requests: usize,
    already_present: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_nothing_lost_nothing_duplicated_under_every_fault() {
    let (events, requests, seed) = (env("SOAK_EVENTS", 5_000), env("SOAK_FIREHOSE", 1), env("SOAK_SEED", 7));
    let started = Instant::now();
    let (server, client) = server().await;
    let proxy = FaultProxy::start(server.url(), []).await;
    proxy.forget_bodies();
    let mut config = fast_config(&proxy.url());
    config.request_timeout = Duration::from_secs(1);
    let deps = deps(config);
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut records = Records { rng: fastrand::Rng::with_seed(seed + 1), n: 0 };
    let (mut good, mut bad, mut tally) = (0_u64, 0_u64, Tally::default());
    let (mut indexed, mut dead, window) = (0_u64, 0_u64, env("SOAK_WINDOW", 100_000));

    let (mut sent, mut batch) = (0_u64, 0_usize);
    while sent < events {
        batch += 1;
        let n = BATCH.min((events - sent) as usize);
        let mut messages = Vec::with_capacity(n);
        for _ in 0..n {
            let (text, indexable) = records.next();
            if indexable {
                good += 1;
            } else {
                bad += 1;
            }
            messages.push(text);
        }
        let event = envelope(sent, &messages);
        sent += n as u64;
        // Lambda's asynchronous invocation: the first delivery and up to two retries.
        let mut delivered = false;
        for attempt in 0..3 {
            // What an earlier plan did not use must not leak into this invocation.
            proxy.clear_plan();
            proxy.push(faults(batch, &mut rng, attempt == 0));
            tally.invocations += 1;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
            match seclog_cloudtrail::handler::process(&event, &deps, deadline).await {
                Ok(s) => {
                    tally.retried_items += s.delivery.retried;
                    tally.bulk_requests += s.delivery.bulk_requests;
                    tally.already_present += s.delivery.already_present;
                    delivered = true;
                    break;
                }
                Err(_) => tally.failed_invocations += 1,
            }
        }
        assert!(delivered, "an invocation failed three times: Lambda would send it to the DLQ");
        // At-least-once delivery: sometimes a successful invocation comes again.
        if rng.u8(0..50) == 0 {
            proxy.clear_plan();
            tally.redelivered_after_success += 1;
            tally.invocations += 1;
            let s = seclog_cloudtrail::handler::process(
                &event,
                &deps,
                tokio::time::Instant::now() + Duration::from_secs(30),
            )
            .await
            .unwrap();
            tally.already_present += s.delivery.already_present;
        }
        // osmem keeps everything in memory (~35 KB per CloudTrail document): every window, count
        // what is there and start afresh. Redeliveries never cross a window, so a duplicate would
        // still show as one document too many.
        if sent % window == 0 && sent < events {
            let (d, l) = counted(&client).await;
            (indexed, dead) = (indexed + d, dead + l);
            client.call("DELETE", "/cloudtrail-*,*-deadletter-*", None).await.unwrap();
        }
    }
    let cloudtrail_time = started.elapsed();

    let (firehose_in, firehose_answered, rounds) = firehose_soak(requests).await;

    let (d, l) = counted(&client).await;
    (indexed, dead) = (indexed + d, dead + l);
    let stats = proxy.stats();
    eprintln!(
        "soak: {events} CloudTrail records in {} invocations ({} failed and retried, {} delivered twice) in {:.1} s;\n\
         \x20     {good} to index, {bad} to dead-letter → {indexed} documents + {dead} dead letters in osmem \
         (duplicates: {});\n\
         \x20     {} bulk requests, {} proxied requests, {} injected faults, {} items failed by injection, {} item retries, \
         {} writes found already present;\n\
         \x20     Firehose: {requests} requests at 6 MB, {firehose_in} records answered once each in {rounds} rounds;\n\
         \x20     peak RSS of the handler process {:.1} MB; total {:.1} s",
        tally.invocations,
        tally.failed_invocations,
        tally.redelivered_after_success,
        cloudtrail_time.as_secs_f64(),
        i128::from(indexed + dead) - i128::from(good + bad),
        tally.bulk_requests,
        stats.requests,
        stats.faults,
        stats.items_failed,
        tally.retried_items,
        tally.already_present,
        peak_rss_mb(),
        started.elapsed().as_secs_f64(),
    );
    assert_eq!((indexed, dead), (good, bad), "documents + dead letters = distinct inputs, no duplicates");
    assert_eq!(firehose_answered, firehose_in);
    assert!(batch >= KINDS, "every kind of fault at least once: {batch} invocations");
    assert!(
        stats.faults > 0 && tally.failed_invocations > 0 && tally.retried_items > 0,
        "faults were injected: {tally:?}"
    );
}

/// Firehose: requests at the 6 MB limit, records that do not fit put back and processed again
/// until every record has its final answer exactly once. Returns (records in, answered, rounds).
async fn firehose_soak(requests: u64) -> (usize, usize, usize) {
    let (mut firehose_in, mut firehose_answered, mut rounds) = (0_usize, 0_usize, 0_usize);
    let waf = &*seclog_testkit::fuzzing::WAF;
    // Real WAF records (the well-formed ones), each copy with its own client and request id.
    let seeds: Vec<Value> = seclog_testkit::invariants::fixture_records("waf")
        .iter()
        .filter_map(|r| serde_json::from_slice::<Value>(r).ok())
        .filter(|v| v["httpRequest"].is_object() && v["timestamp"].is_number())
        .collect();
    let mut k = 0_usize;
    for _ in 0..requests {
        let mut request = seclog_testkit::firehose_golden::request_at_limit("aws-waf-logs-soak", |i| {
            k += 1;
            let mut v = seeds[(k + i) % seeds.len()].clone();
            v["httpRequest"]["clientIp"] =
                json!(format!("{}.{}.{}.{}", 1 + k % 223, k % 251, (k / 7) % 251, 1 + k % 250));
            v["httpRequest"]["requestId"] = json!(format!("soak-{k}"));
            serde_json::to_vec(&v).unwrap()
        });
        firehose_in += request.records.len();
        loop {
            rounds += 1;
            let sink = MemoryRecordSink::new();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
            let (response, summary) = process(&request, waf, &sink, &Settings::default(), deadline).await.unwrap();
            assert_eq!(response.records.len(), request.records.len(), "every recordId answered");
            let put_back = sink.take();
            firehose_answered += summary.ok + summary.failed + summary.dropped;
            assert_eq!(summary.overflowed + summary.split, put_back.len());
            assert!(response.records.iter().all(|r| r.result != RecordResult::Ok || !r.data.is_empty()));
            if put_back.is_empty() {
                break;
            }
            request = FirehoseEvent {
                records: put_back
                    .into_iter()
                    .enumerate()
                    .map(|(i, (_, data))| {
                        let id = format!("again-{rounds}-{i}");
                        seclog_core::envelope::firehose::FirehoseRecord::of_bytes(id, Some(1_709_251_200_000), &data)
                    })
                    .collect(),
                ..request
            };
        }
    }

    (firehose_in, firehose_answered, rounds)
}
