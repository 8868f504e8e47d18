//! Unit tests of the Firehose transformation step.

use super::*;
use crate::envelope::firehose::FirehoseRecord;
use crate::sink::delivery_stream::MemoryRecordSink;
use crate::RecordKind;
use fit::EMPTY_RESPONSE_LEN;
use proptest::prelude::*;
use RecordResult::{Dropped, Ok as Kept, ProcessingFailed as Failed};

#[test]
fn a_record_split_only_when_it_starts_with_two_whole_values() {
    assert_eq!(json_values(b"{\"a\":1} {\"b\":2}").unwrap(), Some(vec![b"{\"a\":1}".to_vec(), b"{\"b\":2}".to_vec()]));
    // An unparsable start keeps the record whole (it fails as one, all its bytes kept).
    for whole in [&b"x -20"[..], b"\xba -20", b"{\"a\": -20", b"{\"a\":1} x {\"b\":2}", b"{\"a\":1}"] {
        assert_eq!(json_values(whole).unwrap(), None, "{}", String::from_utf8_lossy(whole));
    }
}

/// `drop`, `split:a,b`, `bad`, or anything else → `{"n":"<text>"}`.
struct Echo;
impl RecordTransform for Echo {
    fn dataset(&self) -> &'static str {
        "test"
    }
    fn transform(&self, data: &[u8], _: &RecordContext) -> Result<Transformed, RecordError> {
        let text = std::str::from_utf8(data).map_err(|e| RecordError::new(RecordKind::BadUtf8, e.to_string()))?;
        match text {
            "drop" => Ok(Transformed::Drop(DropRule::Filter)),
            "bad" => Err(RecordError::new(RecordKind::BadRecord, "bad")),
            t if t.starts_with("split:") => {
                Ok(Transformed::Split(t[6..].split(',').map(|p| p.as_bytes().to_vec()).collect()))
            }
            t => Ok(Transformed::Document {
                body: serde_json::to_vec(&serde_json::json!({ "n": t })).unwrap(),
                time: chrono::DateTime::UNIX_EPOCH,
            }),
        }
    }
}

fn event(data: &[Vec<u8>]) -> FirehoseEvent {
    FirehoseEvent {
        invocation_id: "inv".into(),
        delivery_stream_arn: "arn:aws:firehose:us-east-1:123456789012:deliverystream/s".into(),
        region: "us-east-1".into(),
        records: data.iter().enumerate().map(|(i, d)| FirehoseRecord::of_bytes(format!("r{i}"), Some(0), d)).collect(),
    }
}

type Outcome = Result<(FirehoseResponse, TransformationSummary), DeliveryError>;

fn run(event: &FirehoseEvent, settings: &Settings) -> (Outcome, Vec<Vec<u8>>) {
    run_with(event, &Echo, settings)
}

fn run_with(event: &FirehoseEvent, transform: &impl RecordTransform, settings: &Settings) -> (Outcome, Vec<Vec<u8>>) {
    let sink = MemoryRecordSink::new();
    let deadline = Instant::now() + std::time::Duration::from_secs(5);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let out = rt.block_on(process(event, transform, &sink, settings, deadline));
    (
        out,
        sink.take()
            .into_iter()
            .map(|(stream, r)| {
                assert_eq!(stream, "s");
                r
            })
            .collect(),
    )
}

fn results(response: &FirehoseResponse) -> Vec<(&str, RecordResult, String)> {
    let decode = |d: &str| String::from_utf8(base64::engine::general_purpose::STANDARD.decode(d).unwrap()).unwrap();
    response.records.iter().map(|r| (r.record_id.as_str(), r.result, decode(&r.data))).collect()
}

fn envelope(kind: &str, messages: &[&str]) -> Vec<u8> {
    let events: Vec<_> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| serde_json::json!({"id": i.to_string(), "timestamp": 0, "message": m}))
        .collect();
    let payload = serde_json::json!({"messageType": kind, "owner": "1", "logGroup": "g", "logStream": "s",
        "subscriptionFilters": ["f"], "logEvents": events});
    decode::gzip(payload.to_string().as_bytes())
}

#[test]
fn every_record_is_answered_once_in_order() {
    let mut e = event(&[b"a".to_vec(), b"drop".to_vec(), b"bad".to_vec(), vec![0xff], b"split:x,y".to_vec()]);
    e.records.push(FirehoseRecord { record_id: "r5".into(), approximate_arrival_timestamp: None, data: "%%".into() });
    let (out, put) = run(&e, &Settings::default());
    let (response, summary) = out.unwrap();
    assert_eq!(
        results(&response),
        [
            ("r0", Kept, r#"{"n":"a"}"#.to_owned()),
            ("r1", Dropped, String::new()),
            ("r2", Failed, String::new()),
            ("r3", Failed, String::new()),
            ("r4", Dropped, String::new()),
            ("r5", Failed, String::new()),
        ]
    );
    assert_eq!(put, [b"x".to_vec(), b"y".to_vec()]);
    assert_eq!((summary.ok, summary.dropped, summary.failed, summary.split, summary.reingested), (1, 1, 3, 1, 2));
    assert_eq!(summary.response_bytes, serde_json::to_vec(&response).unwrap().len());
}

#[test]
fn empty_batch_is_an_empty_response() {
    let (out, put) = run(&event(&[]), &Settings::default());
    let (response, summary) = out.unwrap();
    assert!(response.records.is_empty() && put.is_empty());
    assert_eq!(summary.response_bytes, serde_json::to_vec(&response).unwrap().len());
}

#[test]
fn newline_delimiter() {
    let settings = Settings { delimiter: Delimiter::Newline, ..Settings::default() };
    let (out, _) = run(&event(&[b"a".to_vec()]), &settings);
    assert_eq!(results(&out.unwrap().0)[0].2, "{\"n\":\"a\"}\n");
}

#[test]
fn cloudwatch_logs_envelopes() {
    let e = event(&[
        envelope("CONTROL_MESSAGE", &["CWL CONTROL MESSAGE: Checking health of destination Firehose."]),
        envelope("DATA_MESSAGE", &["one"]),
        envelope("DATA_MESSAGE", &["m1", "m2", "m3"]),
        envelope("DATA_MESSAGE", &[]),
        vec![0x1f, 0x8b, 1, 2, 3],
        envelope("A_TYPE_AWS_ADDS_LATER", &["what is this?"]),
    ]);
    let (out, put) = run(&e, &Settings::default());
    let got: Vec<_> = results(&out.unwrap().0).into_iter().map(|(_, r, d)| (r, d)).collect();
    assert_eq!(
        got,
        [
            (RecordResult::Dropped, String::new()),
            (RecordResult::Ok, r#"{"n":"one"}"#.to_owned()),
            (RecordResult::Dropped, String::new()),
            (RecordResult::Dropped, String::new()),
            (RecordResult::ProcessingFailed, String::new()),
            // Not a control message: nothing says it may be dropped, so Firehose keeps it.
            (RecordResult::ProcessingFailed, String::new()),
        ]
    );
    assert_eq!(put, [b"m1".to_vec(), b"m2".to_vec(), b"m3".to_vec()]);
}

#[test]
fn a_split_part_larger_than_a_firehose_record_fails_only_its_own_record() {
    let huge = "x".repeat(crate::sink::delivery_stream::MAX_RECORD_BYTES + 1);
    let e =
        event(&[envelope("DATA_MESSAGE", &["p1", "p2"]), envelope("DATA_MESSAGE", &["small", &huge]), b"a".to_vec()]);
    let (out, put) = run(&e, &Settings::default());
    let (response, summary) = out.expect("the batch succeeds");
    let got: Vec<_> = results(&response).into_iter().map(|(_, r, _)| r).collect();
    assert_eq!(got, [Dropped, Failed, Kept]);
    assert_eq!(put, [b"p1".to_vec(), b"p2".to_vec()], "none of the failed record's parts is put");
    assert_eq!((summary.split, summary.failed), (1, 1));
}

#[test]
fn records_past_the_invocation_budget_fail_alone_and_later_ones_that_fit_go_on() {
    // Parts: 3 fit, the next 3 do not (2 left), the last 2 do.
    let e = event(&[
        envelope("DATA_MESSAGE", &["a", "b", "c"]),
        envelope("DATA_MESSAGE", &["d", "e", "f"]),
        envelope("DATA_MESSAGE", &["g", "h"]),
    ]);
    let settings = Settings { max_invocation_parts: 5, ..Settings::default() };
    let (out, put) = run(&e, &settings);
    let got: Vec<_> = results(&out.unwrap().0).into_iter().map(|(_, r, _)| r).collect();
    assert_eq!(got, [Dropped, Failed, Dropped]);
    assert_eq!(put.len(), 5);

    // Bytes: each record holds its original and its document (about 2 × 3,000 bytes).
    let big = |c: char| c.to_string().repeat(3000).into_bytes();
    let e = event(&[big('a'), big('b'), big('c')]);
    let settings = Settings { max_invocation_bytes: 13_000, ..Settings::default() };
    let (out, _) = run(&e, &settings);
    let got: Vec<_> = results(&out.unwrap().0).into_iter().map(|(_, r, _)| r).collect();
    assert_eq!(got, [Kept, Kept, Failed]);
}

#[test]
fn a_gzip_record_stopped_by_what_the_invocation_has_left_fails_as_the_budget_not_as_too_large() {
    let message = "x".repeat(100_000);
    let record = |data: &[u8]| FirehoseRecord::of_bytes("1".into(), None, data);
    let gzipped = envelope("DATA_MESSAGE", &[&message]);
    let settings = Settings::default();
    let mut budget = Budget { bytes: 50_000, parts: 10 };
    let (_, step) = record_step(&record(&gzipped), &Echo, &settings, &mut budget);
    assert!(matches!(&step, Step::Failed(e) if e.kind == "invocation_budget"), "{}", kind(&step));
    // Over MAX_DECODED_BYTES itself it is the record that is too large, whatever is left.
    let small = Settings { max_decoded_bytes: 20_000, ..settings };
    let (_, step) = record_step(&record(&gzipped), &Echo, &small, &mut budget);
    assert!(matches!(&step, Step::Failed(e) if e.kind == "too_large"), "{}", kind(&step));
    let mut plenty = Budget { bytes: 10_000_000, parts: 10 };
    let (_, step) = record_step(&record(&gzipped), &Echo, &settings, &mut plenty);
    assert!(matches!(step, Step::Ok(_)), "{}", kind(&step));
}

fn kind(step: &Step) -> &'static str {
    match step {
        Step::Ok(_) => "ok",
        Step::Dropped(_) => "dropped",
        Step::Failed(e) => e.kind.as_str(),
        Step::Split(_) => "split",
        Step::Deferred => "deferred",
    }
}

#[test]
fn a_record_of_tiny_lines_cannot_become_half_a_million_parts() {
    let lines: Vec<String> = (0..60_000).map(|i| i.to_string()).collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let e = event(&[envelope("DATA_MESSAGE", &lines)]);
    let (out, put) = run(&e, &Settings::default());
    let got: Vec<_> = results(&out.unwrap().0).into_iter().map(|(_, r, _)| r).collect();
    assert_eq!(got, [Failed], "over the default 50,000 parts");
    assert!(put.is_empty());
}

#[test]
fn overflow_is_reingested_as_originals_and_what_follows_it_is_not_transformed() {
    let big = |c: char| c.to_string().repeat(3000).into_bytes();
    let e = event(&[big('a'), big('b'), big('c'), big('d').repeat(3), b"bad".to_vec(), b"e".to_vec()]);
    let settings = Settings { max_response_bytes: 8_600, ..Settings::default() };
    let counting = Counting::default();
    let (out, put) = run_with(&e, &counting, &settings);
    let (response, summary) = out.unwrap();
    let got: Vec<_> = results(&response).into_iter().map(|(_, r, _)| r).collect();
    assert_eq!(got, [Kept, Kept, Dropped, Dropped, Dropped, Dropped]);
    assert_eq!(put, [big('c'), big('d').repeat(3), b"bad".to_vec(), b"e".to_vec()], "the originals, in order");
    assert_eq!((summary.overflowed, summary.untransformed), (4, 3));
    assert_eq!(counting.calls.load(std::sync::atomic::Ordering::Relaxed), 3, "a, b and c only");
    assert!(serde_json::to_vec(&response).unwrap().len() <= 8_600);

    // The next invocation transforms what was put back: the huge document fails there, and the
    // bad record too, in the invocation that transforms it.
    let (out, _) = run(&event(&put[1..]), &settings);
    let got: Vec<_> = results(&out.unwrap().0).into_iter().map(|(_, r, _)| r).collect();
    assert_eq!(got, [Failed, Failed, Kept]);
}

/// [`Echo`], counting its calls.
#[derive(Default)]
struct Counting {
    calls: std::sync::atomic::AtomicUsize,
}

impl RecordTransform for Counting {
    fn dataset(&self) -> &'static str {
        "test"
    }
    fn transform(&self, data: &[u8], context: &RecordContext) -> Result<Transformed, RecordError> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Echo.transform(data, context)
    }
}

#[test]
fn reingesting_without_a_stream_is_an_error() {
    let mut e = event(&[b"split:a,b".to_vec()]);
    e.delivery_stream_arn.clear();
    assert!(matches!(run(&e, &Settings::default()).0, Err(DeliveryError::PutRefused(_))));
}

proptest! {
    #[test]
    fn response_fits_and_nothing_is_lost(sizes in proptest::collection::vec(0_usize..4_000, 0..40), max in 200_usize..40_000) {
        let data: Vec<Vec<u8>> = sizes.iter().enumerate().map(|(i, n)| format!("{i}:{}", "x".repeat(*n)).into_bytes()).collect();
        let (out, put) = run(&event(&data), &Settings { max_response_bytes: max, ..Settings::default() });
        let (response, summary) = out.unwrap();
        let bytes = serde_json::to_vec(&response).unwrap();
        prop_assert!(bytes.len() <= max.max(summary.response_bytes));
        prop_assert_eq!(summary.response_bytes, bytes.len());
        let ids: Vec<_> = response.records.iter().map(|r| r.record_id.clone()).collect();
        prop_assert_eq!(ids, (0..data.len()).map(|i| format!("r{i}")).collect::<Vec<_>>());
        // Every record is kept, re-ingested whole, or failed as too large for any response.
        let mut reingested = put.into_iter();
        for (r, original) in response.records.iter().zip(&data) {
            match r.result {
                RecordResult::Ok => {}
                RecordResult::Dropped => prop_assert_eq!(reingested.next(), Some(original.clone())),
                RecordResult::ProcessingFailed => {
                    let doc_len = original.len() + 8; // {"n":"…"}
                    let entry = ResponseRecord::serialised_len(&r.record_id, RecordResult::Ok, doc_len.div_ceil(3) * 4);
                    prop_assert!(EMPTY_RESPONSE_LEN + entry > max);
                }
            }
        }
        prop_assert!(reingested.next().is_none());
    }
}
