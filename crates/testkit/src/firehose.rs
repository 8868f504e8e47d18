//! Golden files for Firehose transformations: the exact response, and readable views of it.

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use seclog_core::envelope::firehose::{FirehoseEvent, RecordResult};
use seclog_core::firehose::{process, RecordTransform, Settings, TransformationSummary};
use seclog_core::sink::firehose::MemoryRecordSink;

use crate::golden::assert_golden;
use crate::sibling;

/// Loads a recorded request.
pub fn load(input: &Path) -> FirehoseEvent {
    serde_json::from_slice(&std::fs::read(input).unwrap()).unwrap()
}

/// Runs `input` through `transform` and compares with its goldens: `<case>.expected.json` (the
/// response, exactly), `<case>.documents.ndjson` (the `Ok` documents, decoded) and
/// `<case>.reingested.ndjson` (each re-ingested record as a JSON string; absent when none). Returns the summary.
pub async fn assert_outcome<T: RecordTransform>(input: &Path, transform: &T) -> TransformationSummary {
    let event = load(input);
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
