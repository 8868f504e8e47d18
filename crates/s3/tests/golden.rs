//! Objects in AWS's S3 layouts (`fixtures/s3/<bucket>/AWSLogs/…`) → expected bulk NDJSON,
//! compared exactly: one golden per log kind.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use seclog_core::deadletter::DeadLetters;
use seclog_core::sink::{BulkSink, MemorySink};
use seclog_s3::layout::KindRules;
use seclog_s3::transform::{ObjectReader, ObjectRef, Transforms};
use seclog_testkit::golden::assert_golden;

fn fixed_clock() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T03:04:05Z").unwrap().to_utc()
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/s3")
}

/// Every object under `dir`, as (bucket, key, path).
fn objects(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            objects(&path, found);
        } else if path.extension().is_some_and(|e| e == "gz") {
            found.push(path);
        }
    }
}

#[tokio::test]
async fn every_object_matches_its_golden_output() {
    let transforms = Transforms::new(seclog_testkit::enricher(), seclog_testkit::rules());
    let deadletters = DeadLetters::new("seclog").unwrap();
    let mut paths = Vec::new();
    objects(&root(), &mut paths);
    paths.sort();
    assert_eq!(paths.len(), 7, "one object per log kind");
    for path in paths {
        let relative = path.strip_prefix(root()).unwrap().to_str().unwrap().to_owned();
        let (bucket, key) = relative.split_once('/').unwrap();
        let placed = KindRules::default().place(key).unwrap();
        let object = ObjectRef { bucket, key, version: "fixture" };
        let mut reader = ObjectReader::new(&transforms, &deadletters, placed, object, fixed_clock());
        let read = reader.read_all(std::fs::File::open(&path).unwrap(), 64 << 20);
        assert!(read.failed.is_none(), "{key}: {:?}", read.failed);
        let sink = MemorySink::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let report = sink.deliver(read.docs, deadline).await.unwrap();
        assert_eq!(report.indexed + report.dead_lettered + read.dropped.len(), read.records, "{key}");
        assert_golden(&root().join(format!("{}.expected.ndjson", placed.kind)), &sink.take());
    }
}
