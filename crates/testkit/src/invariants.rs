//! The contracts every decoder keeps whatever its input, checked the same way by the property tests
//! of the normal test command and by the fuzz targets in `fuzz/`: nothing is lost or answered twice,
//! failures are typed, and every document is one line of valid JSON.

use std::io::Write as _;
use std::time::Duration;

use base64::Engine as _;
use seclog_core::deadletter::DeadLetters;
use seclog_core::envelope::cloudwatch_logs::{AwsLogs, CloudWatchLogsEvent};
use seclog_core::envelope::firehose::{FirehoseEvent, FirehoseRecord, RecordResult};
use seclog_core::firehose::{process, RecordTransform, Settings, TransformationSummary};
use seclog_core::pipeline::Pipeline;
use seclog_core::sink::delivery_stream::MemoryRecordSink;
use seclog_core::sink::MemorySink;
use seclog_core::subscription::{self, EventTransform};
use seclog_core::telemetry::InvocationSummary;

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap()
}

fn deadline() -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(30)
}

/// One document body: a JSON object on one line.
pub fn assert_document(body: &[u8]) {
    assert!(!body.contains(&b'\n'), "a document spans lines: {}", String::from_utf8_lossy(body));
    let value: serde_json::Value =
        serde_json::from_slice(body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)));
    assert!(value.is_object(), "not an object: {value}");
}

/// A Firehose request of `records` through `transform`: it succeeds (re-ingestion into memory
/// cannot fail, unless the request names no stream); every `recordId` is answered once and in order; `Ok` data is one document,
/// `Dropped`/`ProcessingFailed` carry none; the counts add up; the response fits the limit; every
/// re-ingested record is non-empty.
pub fn firehose<T: RecordTransform>(records: &[&[u8]], transform: &T) -> TransformationSummary {
    firehose_event(&request(records), transform)
}

/// A Firehose request of `records`, ids `r0`, `r1`, ….
#[must_use]
pub fn request(records: &[&[u8]]) -> FirehoseEvent {
    FirehoseEvent {
        invocation_id: "fuzz".into(),
        delivery_stream_arn: "arn:aws:firehose:eu-west-1:123456789012:deliverystream/fuzz".into(),
        region: "eu-west-1".into(),
        records: records
            .iter()
            .enumerate()
            .map(|(i, data)| FirehoseRecord::of_bytes(format!("r{i}"), Some(1_700_000_000_000), data))
            .collect(),
    }
}

/// [`firehose`] for a whole request as Firehose sends it (ids may repeat: each is answered once
/// per record, in order).
pub fn firehose_event<T: RecordTransform>(event: &FirehoseEvent, transform: &T) -> TransformationSummary {
    let sink = MemoryRecordSink::new();
    let settings = Settings::default();
    let (response, summary) = match runtime().block_on(process(event, transform, &sink, &settings, deadline())) {
        Ok(done) => done,
        // Records to put back, and no stream to put them in: a typed error, and Firehose retries.
        Err(e) => {
            assert!(event.delivery_stream_name().is_none(), "in-memory re-ingestion failed: {e}");
            return TransformationSummary::default();
        }
    };
    let sent: Vec<_> = event.records.iter().map(|r| &r.record_id).collect();
    let answered: Vec<_> = response.records.iter().map(|r| &r.record_id).collect();
    assert_eq!(answered, sent, "every recordId once, in order");
    for record in &response.records {
        if record.result == RecordResult::Ok {
            assert_document(&BASE64.decode(&record.data).expect("Ok data is base64"));
        } else {
            assert!(record.data.is_empty(), "{:?} with data", record.result);
        }
    }
    let s = &summary;
    assert_eq!(s.ok + s.dropped + s.failed + s.split + s.overflowed, s.received, "{s:?}");
    assert_eq!(s.dropped, s.dropped_by.values().sum::<usize>(), "every drop has its rule");
    assert!(serde_json::to_vec(&response).unwrap().len() <= settings.max_response_bytes);
    let put_back = sink.take();
    assert!(put_back.iter().all(|(_, data)| !data.is_empty()), "an empty record put back: {s:?}, {put_back:?}");
    summary
}

/// A CloudWatch Logs subscription event whose `data` is `data` (any text) through `transform` into
/// memory: it succeeds; an undecodable payload is one dead letter with a typed reason; otherwise every
/// log event ends as exactly one document (its own or a dead letter) or is dropped by a rule; every
/// body is one line of JSON.
pub fn subscription<T: EventTransform>(data: &str, transform: &T) -> InvocationSummary {
    let event = CloudWatchLogsEvent { awslogs: AwsLogs { data: data.to_owned() } };
    let sink = MemorySink::new();
    let deadletters = DeadLetters::new("seclog").unwrap();
    let pipeline = Pipeline {
        sink: &sink,
        transform,
        deadletters: &deadletters,
        clock: || chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
    };
    let summary =
        runtime().block_on(subscription::process(&event, &pipeline, 1 << 20, deadline())).expect("memory sink");
    let (documents, letters) = bulk_items(&sink.take());
    assert_eq!((summary.delivery.indexed, summary.delivery.dead_lettered), (documents, letters));
    if summary.received == 0 && letters == 1 && documents == 0 {
        return summary; // the whole payload could not be decoded: one dead letter
    }
    assert_eq!(documents + letters + summary.dropped, summary.received, "{summary:?}");
    summary
}

/// The items of a bulk body: each an action line naming an index and a non-empty id, and one
/// document (one line of JSON); dead letters carry a typed reason. Returns `(documents, dead letters)`.
/// (Ids may repeat: two records with the same event id are one document, on purpose.)
pub fn bulk_items(ndjson: &[u8]) -> (usize, usize) {
    let mut lines = ndjson.split(|&b| b == b'\n').filter(|l| !l.is_empty());
    let (mut documents, mut dead_letters) = (0, 0);
    while let Some(action) = lines.next() {
        let action: serde_json::Value = serde_json::from_slice(action).expect("action line");
        let op = action.as_object().and_then(|o| o.values().next()).expect("one operation");
        assert!(op["_index"].as_str().is_some_and(|i| !i.is_empty()), "no index: {action}");
        assert!(op["_id"].as_str().is_some_and(|i| !i.is_empty()), "no id: {action}");
        let body = lines.next().expect("a body after each action");
        assert_document(body);
        let body: serde_json::Value = serde_json::from_slice(body).unwrap();
        if op["_index"].as_str().unwrap_or_default().contains("-deadletter-") {
            dead_letters += 1;
            assert!(body["deadletter"]["error_type"].as_str().is_some_and(|t| !t.is_empty()), "untyped: {body}");
        } else {
            documents += 1;
        }
    }
    (documents, dead_letters)
}

/// [`subscription()`] with `payload` gzip-compressed and base64-encoded, as CloudWatch Logs sends it:
/// the bytes reach the JSON parser.
pub fn subscription_payload<T: EventTransform>(payload: &[u8], transform: &T) -> InvocationSummary {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(payload).unwrap();
    subscription(&BASE64.encode(gz.finish().unwrap()), transform)
}

/// A CloudWatch Logs payload of `messages`, as a subscription sends it.
#[must_use]
pub fn logs_payload(messages: &[String]) -> Vec<u8> {
    let events: Vec<_> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| serde_json::json!({ "id": format!("{:056}", i), "timestamp": 1_700_000_000_000_i64 + i64::try_from(i).unwrap_or(0), "message": m }))
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "fuzz",
        "logStream": "fuzz",
        "subscriptionFilters": ["fuzz"],
        "logEvents": events,
    }))
    .unwrap()
}

/// The records of a source's recorded inputs, as a transform sees them: each Firehose record's
/// bytes, each log event's message of a subscription event, or a whole `EventBridge` event. The seeds
/// of the property tests' mutations and of the fuzz corpora.
#[must_use]
pub fn fixture_records(source: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for input in crate::inputs(source) {
        let bytes = std::fs::read(&input).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        if let Some(records) = value["records"].as_array() {
            out.extend(records.iter().filter_map(|r| BASE64.decode(r["data"].as_str()?).ok()));
        } else if let Some(data) = value["awslogs"]["data"].as_str() {
            let Ok(payload) = seclog_core::decode::gunzip_base64(data, 1 << 24) else { continue };
            let Ok(payload) = serde_json::from_slice::<serde_json::Value>(&payload) else { continue };
            for event in payload["logEvents"].as_array().into_iter().flatten() {
                out.extend(event["message"].as_str().map(|m| m.as_bytes().to_vec()));
            }
        } else {
            out.push(bytes);
        }
    }
    out
}
