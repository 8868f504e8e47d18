//! Cold start and peak memory of the real function binaries under cargo-lambda's runtime emulator
//! (`seclog_testkit::emulator`), as `scripts/bench` publishes them:
//!
//! `cargo run --release -p seclog-e2e --example lambda-bench -- <binary dir> <runs> <out.json>`
//!
//! Each function is started `runs` times from nothing (process start to its first poll of the
//! runtime API: init), against a real `osmem-server` and a real `moto` Firehose; the last start
//! is then invoked once with its pipeline's full batch (`seclog_testkit::batches`: 6 MB where the
//! trigger allows it), and the process's peak resident memory (`VmHWM`) is read after it answered.
//! The `s3` function reads ten CloudTrail files of 6 MB from a moto bucket (a full SQS batch), and
//! `detect` runs once over the documents the others indexed.
#![allow(clippy::unwrap_used, clippy::cast_precision_loss, missing_docs)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use seclog_testkit::batches;
use seclog_testkit::emulator::{Emulator, Instance};
use seclog_testkit::moto::Moto;
use serde_json::{json, Value};

/// One function's batch: (function, batch name, event, records, log bytes).
type Input = (&'static str, &'static str, Vec<u8>, usize, usize);

/// CloudTrail files in a full SQS batch of the `s3` function (its event source's batch size).
const S3_OBJECTS: usize = 10;

fn inputs(s3: Input) -> Vec<Input> {
    let cloudtrail = batches::cloudtrail(batches::REQUEST_LIMIT);
    let (waf, vpcflow, resolver, securityhub) =
        (batches::waf(), batches::vpcflow(), batches::route53_resolver(), batches::securityhub());
    vec![
        (
            "cloudtrail",
            "6 MB of recorded CloudTrail records (decompressed), one subscription event",
            serde_json::to_vec(&cloudtrail.event).unwrap(),
            cloudtrail.records,
            cloudtrail.bytes,
        ),
        ("waf", "6 MB Firehose request of WAF logs", serde_json::to_vec(&waf.event).unwrap(), waf.records, waf.bytes),
        (
            "vpcflow",
            "6 MB Firehose request of flow-log lines",
            serde_json::to_vec(&vpcflow.event).unwrap(),
            vpcflow.records,
            vpcflow.bytes,
        ),
        (
            "route53",
            "6 MB Firehose request of Resolver query logs",
            serde_json::to_vec(&resolver.event).unwrap(),
            resolver.records,
            resolver.bytes,
        ),
        (
            "securityhub",
            "256 KB EventBridge event of ASFF findings (EventBridge's limit)",
            serde_json::to_vec(&securityhub.event).unwrap(),
            securityhub.records,
            securityhub.bytes,
        ),
        s3,
        (
            "detect",
            "one scheduled run over the documents the functions above indexed",
            br#"{"detail-type": "Scheduled Event", "source": "aws.scheduler"}"#.to_vec(),
            0,
            0,
        ),
    ]
}

/// Ten CloudTrail files of 6 MB (decompressed), each with its own event ids, put gzipped into a
/// moto bucket, and the SQS event notifying them; and the `s3` function's own queue.
async fn s3_batch(moto: &Moto) -> (Input, String) {
    let sdk = seclog_e2e::moto_sdk(moto.url()).await;
    let s3 = seclog_e2e::moto_s3(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue = sqs.create_queue().queue_name("seclog-s3-bench").send().await.unwrap().queue_url.unwrap();
    s3.create_bucket().bucket("bench").send().await.unwrap();
    let (file, records) = batches::cloudtrail_file(batches::REQUEST_LIMIT);
    let text = String::from_utf8(file).unwrap();
    let mut messages = Vec::new();
    for i in 0..S3_OBJECTS {
        let key = format!(
            "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/30/111122223333_CloudTrail_us-east-1_20261130T2235Z_b{i}.json.gz"
        );
        let object = seclog_core::decode::gzip(text.replace("\"bench-", &format!("\"bench-{i}-")).as_bytes());
        let size = object.len();
        let body = aws_sdk_s3::primitives::ByteStream::from(object);
        s3.put_object().bucket("bench").key(&key).body(body).send().await.unwrap();
        let notification = json!({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": "bench", "arn": "arn:aws:s3:::bench"}, "object": {"key": key, "size": size}},
        }]});
        messages.push((format!("bench-{i}"), notification.to_string()));
    }
    let messages = messages.iter().map(|(id, body)| (id.as_str(), body.as_str()));
    let event = seclog_e2e::sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:seclog-s3-bench");
    let batch = "one SQS batch of ten notifications, each a 6 MB (decompressed) CloudTrail file on S3";
    (("s3", batch, event, records * S3_OBJECTS, text.len() * S3_OBJECTS), queue)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (dir, runs, out) = (PathBuf::from(&args[1]), args[2].parse::<usize>().unwrap().max(1), &args[3]);
    let (server, _client) = seclog_e2e::server().await;
    let moto = Moto::start();
    for (i, stream) in ["aws-waf-logs-bench", "vpc-flow-logs-bench", "route53-resolver-bench"].iter().enumerate() {
        seclog_e2e::firehose_to_s3(moto.url(), &moto, stream, &format!("reingested-{i}")).await;
    }
    let emulator = Emulator::start().unwrap();
    let mut env = seclog_testkit::emulator::environment(server.url(), moto.url());
    let (s3, queue) = s3_batch(&moto).await;
    env.extend([
        ("AWS_ENDPOINT_URL_S3", moto.url().to_owned()),
        ("AWS_ENDPOINT_URL_SQS", moto.url().to_owned()),
        ("CONTINUATION_QUEUE_URL", queue),
    ]);
    let mut results = Vec::new();
    for (name, batch, event, records, bytes) in inputs(s3) {
        let binary: &Path = &dir.join(name);
        let mut inits = Vec::new();
        let mut instance = None;
        for run in 0..runs {
            let started = Instance::start(&emulator, binary, &env).await.unwrap();
            inits.push(started.init.as_secs_f64() * 1000.0);
            if run + 1 == runs {
                instance = Some(started);
            } else {
                started.stop();
            }
        }
        let instance = instance.unwrap();
        let idle_kib = instance.peak_rss_kib().unwrap();
        let invoked = Instant::now();
        let (status, body) = emulator.invoke(&event).await.unwrap();
        let took = invoked.elapsed();
        assert_eq!(status, 200, "{name}: {}", String::from_utf8_lossy(&body[..body.len().min(2000)]));
        if let Ok(response) = serde_json::from_slice::<Value>(&body) {
            if let Some(answered) = response["records"].as_array() {
                assert_eq!(answered.len(), records, "{name}: every recordId answered");
            }
            if let Some(failed) = response["batchItemFailures"].as_array() {
                assert!(failed.is_empty(), "{name}: {response}");
            }
        }
        let peak_kib = instance.peak_rss_kib().unwrap();
        let (stdout, _) = instance.stop();
        let summary: Value = stdout.lines().rev().find_map(|l| serde_json::from_str(l).ok()).unwrap_or_default();
        let first = inits[0];
        inits.sort_by(f64::total_cmp);
        let init_median = inits[inits.len() / 2];
        eprintln!(
            "{name}: init median {init_median:.1} ms over {runs} starts (first {first:.1} ms); \
             {batch}: {records} records, answered in {:.0} ms, peak RSS {:.1} MiB (idle {:.1} MiB)",
            took.as_secs_f64() * 1000.0,
            peak_kib as f64 / 1024.0,
            idle_kib as f64 / 1024.0
        );
        results.push(json!({
            "function": name, "binary": binary, "runs": runs,
            "init_ms": {"median": init_median, "min": inits[0], "max": inits[inits.len() - 1], "first": first},
            "batch": batch, "records": records, "bytes": bytes, "event_bytes": event.len(),
            "invocation_ms": took.as_secs_f64() * 1000.0, "idle_rss_kib": idle_kib, "peak_rss_kib": peak_kib,
            "summary": summary,
        }));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    std::fs::write(out, serde_json::to_vec_pretty(&json!({ "functions": results })).unwrap()).unwrap();
}
