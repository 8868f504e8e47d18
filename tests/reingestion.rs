//! Re-ingestion through a real `moto` Firehose (which writes delivered records to its S3 at once),
//! and `PutRecordBatch` partial failures, refusals and limits through the fault-injecting proxy
//! (moto never reports partial failures and does not enforce the batch limits).
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use base64::Engine as _;
use seclog_core::envelope::firehose::{FirehoseEvent, FirehoseRecord, RecordResult};
use seclog_core::firehose::{process, Settings};
use seclog_core::sink::backoff::Backoff;
use seclog_core::sink::delivery_stream::{FirehoseSink, RecordSink, MAX_BATCH_RECORDS};
use seclog_core::DeliveryError;
use seclog_e2e::{firehose_to_s3, s3_objects};
use seclog_testkit::moto::Moto;
use seclog_testkit::proxy::{Fault, FaultProxy};
use seclog_vpcflow::VpcFlowTransform;
use tokio::time::Instant;

const STREAM: &str = "vpc-flow-logs-seclog";
const BUCKET: &str = "seclog-reingested";

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn fast() -> Backoff {
    Backoff { base: Duration::from_millis(5), max: Duration::from_millis(50), max_attempts: 5 }
}

/// A flow-log line per record, each distinct (its source port), ending with a newline.
/// A delivery stream to S3 on a local moto, reached through a fault-injecting proxy.
async fn stream_behind_proxy() -> (Moto, FaultProxy, FirehoseSink) {
    let moto = Moto::start();
    let proxy = FaultProxy::start(moto.url(), []).await;
    let sink = FirehoseSink::new(firehose_to_s3(&proxy.url(), &moto, STREAM, BUCKET).await, fast());
    (moto, proxy, sink)
}

fn flow_lines(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(
                "2 123456789012 eni-0a1b2c3d4e5f60718 10.0.{}.{} 52.95.128.179 {} 443 6 10 8400 1699999800 1699999860 ACCEPT OK\n",
                i / 250 % 250,
                i % 250,
                1024 + i
            )
        })
        .collect()
}

fn request(lines: &[String]) -> FirehoseEvent {
    FirehoseEvent {
        invocation_id: "invocation".into(),
        delivery_stream_arn: format!("arn:aws:firehose:us-east-1:123456789012:deliverystream/{STREAM}"),
        region: "us-east-1".into(),
        records: lines
            .iter()
            .enumerate()
            .map(|(i, l)| FirehoseRecord::of_bytes(format!("{i:08}"), Some(1_700_000_000_000), l.as_bytes()))
            .collect(),
    }
}

#[tokio::test]
async fn overflow_at_the_6_mb_limit_is_reingested_into_the_stream_and_nothing_is_lost() {
    let moto = Moto::start();
    let sink = FirehoseSink::new(firehose_to_s3(moto.url(), &moto, STREAM, BUCKET).await, fast());
    // A request at Lambda's 6 MB limit whose documents are ten times their lines.
    let mut lines = flow_lines(24_000);
    while serde_json::to_vec(&request(&lines)).unwrap().len() > 6_291_456 {
        lines.pop();
    }
    let event = request(&lines);
    let deadline = Instant::now() + Duration::from_secs(120);
    let (response, summary) =
        process(&event, &VpcFlowTransform::default(), &sink, &Settings::default(), deadline).await.unwrap();

    let bytes = serde_json::to_vec(&response).unwrap();
    assert!(bytes.len() <= Settings::default().max_response_bytes, "response of {} bytes", bytes.len());
    assert_eq!(summary.response_bytes, bytes.len());
    let ids: Vec<_> = response.records.iter().map(|r| r.record_id.as_str()).collect();
    let sent: Vec<_> = event.records.iter().map(|r| r.record_id.as_str()).collect();
    assert_eq!(ids, sent, "every recordId once, in order");

    let kept: Vec<&String> =
        lines.iter().zip(&response.records).filter(|(_, r)| r.result == RecordResult::Ok).map(|(l, _)| l).collect();
    let dropped: Vec<&String> = lines
        .iter()
        .zip(&response.records)
        .filter(|(_, r)| r.result == RecordResult::Dropped)
        .map(|(l, _)| l)
        .collect();
    assert!(!kept.is_empty() && !dropped.is_empty());
    assert_eq!(kept.len() + dropped.len(), lines.len(), "nothing failed");
    assert_eq!((summary.overflowed, summary.reingested), (dropped.len(), dropped.len()));
    assert_eq!(summary.put_calls, dropped.len().div_ceil(MAX_BATCH_RECORDS), "500 records per call");

    // What the stream received is exactly the records answered Dropped, once each.
    let received = s3_objects(&moto, BUCKET).await;
    let mut received: Vec<&str> = received.split_inclusive('\n').collect();
    received.sort_unstable();
    let mut expected: Vec<&str> = dropped.iter().map(|l| l.as_str()).collect();
    expected.sort_unstable();
    assert_eq!(received.len(), expected.len());
    assert!(received == expected, "the stream holds exactly the re-ingested records");
}

#[tokio::test]
async fn records_a_put_reports_failed_are_retried_alone() {
    let (moto, proxy, sink) = stream_behind_proxy().await;
    let before = proxy.stats().bodies.len();
    // First call: records 1 and 3 of 5 fail; second call (503): the whole call fails; third: forwarded.
    proxy.push([
        Fault::Respond { status: 200, body: answer(&[1, 3], 5) },
        Fault::Respond { status: 503, body: r#"{"__type":"ServiceUnavailableException","message":"busy"}"#.into() },
    ]);
    let records: Vec<Vec<u8>> = (0..5).map(|i| format!("record-{i};").into_bytes()).collect();
    let report = sink.put(STREAM, records, Instant::now() + Duration::from_secs(30)).await.unwrap();
    assert_eq!(report.put, 5);
    // The SDK's own retry answers the 503; ours re-sends the two records the first call failed.
    assert_eq!(report.retried, 2, "two records retried");
    let bodies = &proxy.stats().bodies[before..];
    let sent = |body: &[u8]| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_slice(body).unwrap();
        v["Records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| String::from_utf8(b64().decode(r["Data"].as_str().unwrap()).unwrap()).unwrap())
            .collect()
    };
    assert_eq!(bodies.len(), 3);
    assert_eq!(sent(&bodies[0]).len(), 5);
    assert_eq!(sent(&bodies[1]), ["record-1;", "record-3;"]);
    assert_eq!(sent(&bodies[2]), ["record-1;", "record-3;"]);
    assert_eq!(s3_objects(&moto, BUCKET).await, "record-1;record-3;", "only the retried records reached the stream");
}

#[tokio::test]
async fn refusals_fail_at_once_and_persistent_failures_exhaust_the_retries() {
    let (_moto, proxy, sink) = stream_behind_proxy().await;
    let deadline = || Instant::now() + Duration::from_secs(30);
    let before = proxy.stats().bodies.len();
    proxy.push([Fault::Respond {
        status: 400,
        body: r#"{"__type":"ResourceNotFoundException","message":"Firehose nope not found"}"#.into(),
    }]);
    let err = sink.put("nope", vec![b"x".to_vec()], deadline()).await.unwrap_err().error;
    assert!(matches!(err, DeliveryError::PutRefused(_)), "{err}");
    assert_eq!(proxy.stats().bodies.len() - before, 1, "a refusal is not retried");

    let always = r#"{"FailedPutCount":1,"Encrypted":false,"RequestResponses":[{"ErrorCode":"InternalFailure","ErrorMessage":"x"}]}"#;
    proxy.push((0..5).map(|_| Fault::Respond { status: 200, body: always.into() }));
    let err = sink.put(STREAM, vec![b"y".to_vec()], deadline()).await.unwrap_err().error;
    assert!(matches!(err, DeliveryError::RetriesExhausted { remaining: 1, attempts: 5, .. }), "{err}");
}

#[tokio::test]
async fn calls_respect_the_record_and_byte_limits() {
    let (_moto, proxy, sink) = stream_behind_proxy().await;
    let before = proxy.stats().bodies.len();
    // 1,100 small records (count-bound) then 9 records of 1,000 KiB (byte-bound: 4 per call).
    let mut records: Vec<Vec<u8>> = (0..1_100).map(|i| format!("{i:05}\n").into_bytes()).collect();
    records.extend((0..9).map(|i| vec![b'a' + i; 1_000 * 1024]));
    let report = sink.put(STREAM, records, Instant::now() + Duration::from_secs(60)).await.unwrap();
    assert_eq!(report.put, 1_109);
    let counts: Vec<(usize, usize)> = proxy.stats().bodies[before..]
        .iter()
        .map(|body| {
            let v: serde_json::Value = serde_json::from_slice(body).unwrap();
            let recs = v["Records"].as_array().unwrap();
            let bytes = recs.iter().map(|r| b64().decode(r["Data"].as_str().unwrap()).unwrap().len()).sum();
            (recs.len(), bytes)
        })
        .collect();
    assert_eq!(counts.iter().map(|c| c.0).collect::<Vec<_>>(), [500, 500, 104, 4, 1]);
    assert!(counts.iter().all(|(_, bytes)| *bytes <= 4 * 1024 * 1024));
    assert_eq!(counts[2].1, 100 * 6 + 4 * 1_000 * 1024, "the byte limit closes the third call");
}

/// A `PutRecordBatch` answer in which the records at `failed` (of `n`) failed.
fn answer(failed: &[usize], n: usize) -> String {
    let e: Vec<_> = (0..n)
        .map(|i| {
            if failed.contains(&i) {
                serde_json::json!({"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down."})
            } else {
                serde_json::json!({"RecordId": format!("r{i}")})
            }
        })
        .collect();
    serde_json::json!({"FailedPutCount": failed.len(), "Encrypted": false, "RequestResponses": e}).to_string()
}

/// 1,200 flow records in a request whose response holds about a tenth of them: the rest must be
/// re-ingested, in three calls (500, 500 and the remainder), into a stream behind the proxy.
struct Overflowing {
    moto: Moto,
    proxy: FaultProxy,
    sink: FirehoseSink,
    lines: Vec<String>,
    event: FirehoseEvent,
    settings: Settings,
}

impl Overflowing {
    async fn start() -> Self {
        let (moto, proxy, sink) = stream_behind_proxy().await;
        let lines = flow_lines(1_200);
        let event = request(&lines);
        let settings = Settings { max_response_bytes: 256 * 1024, ..Settings::default() };
        Self { moto, proxy, sink, lines, event, settings }
    }

    /// The next call through `proxy` fails every one of its 500 records, on each of its 5 attempts.
    fn fail_a_call_on(proxy: &FaultProxy) {
        let every: Vec<usize> = (0..500).collect();
        proxy.push((0..5).map(|_| Fault::Respond { status: 200, body: answer(&every, 500) }));
    }
}

#[tokio::test]
async fn a_put_that_stops_after_part_was_accepted_fails_only_the_rest_so_no_retry_puts_anything_twice() {
    let Overflowing { moto, proxy, sink, lines, event, settings } = Overflowing::start().await;
    // The first call reaches the stream; the second fails.
    proxy.push([Fault::Delay(Duration::ZERO)]);
    Overflowing::fail_a_call_on(&proxy);
    let deadline = Instant::now() + Duration::from_secs(60);
    let (response, summary) = process(&event, &VpcFlowTransform::default(), &sink, &settings, deadline).await.unwrap();

    let with = |result: RecordResult| -> Vec<&String> {
        lines.iter().zip(&response.records).filter(|(_, r)| r.result == result).map(|(l, _)| l).collect()
    };
    let (ok, dropped, failed) =
        (with(RecordResult::Ok), with(RecordResult::Dropped), with(RecordResult::ProcessingFailed));
    assert_eq!(ok.len() + dropped.len() + failed.len(), 1_200, "each record answered once");
    assert!(ok.len() > 50 && ok.len() < 300, "{} fit the response", ok.len());
    assert_eq!(
        (dropped.len(), failed.len()),
        (500, 1_200 - ok.len() - 500),
        "accepted: Dropped; the rest: ProcessingFailed"
    );
    assert_eq!((summary.reingested, summary.failed), (500, failed.len()));
    // The stream holds exactly the records answered Dropped; the rest go to Firehose's error
    // output with their original bytes, and since the invocation succeeds nothing is put again.
    let mut received: Vec<String> = s3_objects(&moto, BUCKET).await.split_inclusive('\n').map(str::to_owned).collect();
    received.sort_unstable();
    let mut expected: Vec<String> = dropped.iter().map(|l| (*l).clone()).collect();
    expected.sort_unstable();
    assert!(received == expected, "{} received, {} answered Dropped", received.len(), expected.len());
}

#[tokio::test]
async fn a_put_that_stops_before_anything_was_accepted_fails_the_invocation_whose_retry_duplicates_nothing() {
    let Overflowing { moto, proxy, sink, lines, event, settings } = Overflowing::start().await;
    Overflowing::fail_a_call_on(&proxy);
    let deadline = || Instant::now() + Duration::from_secs(60);
    let err = process(&event, &VpcFlowTransform::default(), &sink, &settings, deadline()).await.unwrap_err();
    assert!(matches!(err, DeliveryError::RetriesExhausted { remaining: 500, attempts: 5, .. }), "{err}");
    assert_eq!(s3_objects(&moto, BUCKET).await, "", "nothing reached the stream");

    // Firehose retries the invocation: every overflowing record reaches the stream once.
    let (response, _) = process(&event, &VpcFlowTransform::default(), &sink, &settings, deadline()).await.unwrap();
    let dropped = lines.iter().zip(&response.records).filter(|(_, r)| r.result == RecordResult::Dropped).count();
    assert_eq!(s3_objects(&moto, BUCKET).await.lines().count(), dropped);
    assert_eq!(dropped, 1_200 - response.records.iter().filter(|r| r.result == RecordResult::Ok).count());
}
