//! Golden files for Firehose transformations: the exact response, and readable views of it.

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use seclog_core::envelope::firehose::{FirehoseEvent, RecordResult};
use seclog_core::firehose::{process, RecordTransform, Settings, TransformationSummary};
use seclog_core::sink::delivery_stream::MemoryRecordSink;

use crate::golden::{assert_golden, load};
use crate::sibling;

/// Runs `input` through `transform` and compares with its goldens: `<case>.expected.json` (the
/// response, exactly), `<case>.documents.ndjson` (the `Ok` documents, decoded) and
/// `<case>.reingested.ndjson` (each re-ingested record as a JSON string; absent when none). Returns the summary.
pub async fn assert_outcome<T: RecordTransform>(input: &Path, transform: &T) -> TransformationSummary {
    let event: FirehoseEvent = load(input);
    let sink = MemoryRecordSink::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let (response, summary) = process(&event, transform, &sink, &Settings::default(), deadline).await.unwrap();
    let ids: Vec<_> = response.records.iter().map(|r| &r.record_id).collect();
    let sent: Vec<_> = event.records.iter().map(|r| &r.record_id).collect();
    assert_eq!(ids, sent, "{}: every recordId once, in order", input.display());

    let mut exact = serde_json::to_vec_pretty(&response).unwrap();
    exact.push(b'\n');
    assert_golden(&sibling(input, ".expected.json"), &exact);

    let mut documents = Vec::new();
    for r in response.records.iter().filter(|r| r.result == RecordResult::Ok) {
        let doc = base64::engine::general_purpose::STANDARD.decode(&r.data).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&doc).unwrap();
        documents.extend(serde_json::to_vec(&doc).unwrap());
        documents.push(b'\n');
    }
    assert_golden(&sibling(input, ".documents.ndjson"), &documents);

    let mut reingested = Vec::new();
    for (_, record) in sink.take() {
        reingested.extend(serde_json::to_vec(&String::from_utf8_lossy(&record)).unwrap());
        reingested.push(b'\n');
    }
    let path = sibling(input, ".reingested.ndjson");
    if reingested.is_empty() {
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            let _ = std::fs::remove_file(&path);
        }
        assert!(!path.exists(), "{}: nothing was re-ingested", path.display());
    } else {
        assert_golden(&path, &reingested);
    }
    summary
}

/// A request of records made by `record(i)`, as many as fit Lambda's 6 MB request limit.
pub fn request_at_limit(stream: &str, mut record: impl FnMut(usize) -> Vec<u8>) -> FirehoseEvent {
    use seclog_core::envelope::firehose::FirehoseRecord;
    const LIMIT: usize = 6_291_456;
    let mut event = FirehoseEvent {
        invocation_id: "benchmark".into(),
        delivery_stream_arn: format!("arn:aws:firehose:us-east-1:123456789012:deliverystream/{stream}"),
        region: "us-east-1".into(),
        records: Vec::new(),
    };
    // {"recordId":"00000000","approximateArrivalTimestamp":1700000000000,"data":"…"},
    let mut size = 200;
    for i in 0.. {
        let next = FirehoseRecord::of_bytes(format!("{i:08}"), Some(1_700_000_000_000), &record(i));
        size += next.data.len() + 80;
        if size > LIMIT {
            break;
        }
        event.records.push(next);
    }
    assert!(serde_json::to_vec(&event).unwrap().len() <= LIMIT);
    event
}
