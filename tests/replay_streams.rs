//! `seclog replay --output FILE` streams: what it holds does not grow with the number of files it
//! replays (a backfill of a thousand recorded events must not need a thousand events' documents in
//! memory). Its own test binary: it measures this process's peak memory.
#![allow(clippy::unwrap_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use seclog_cli::replay::{replay_to_output, Options};
use seclog_enrich::Enricher;

const MIB: u64 = 1024 * 1024;

/// `n` copies of a 671-record CloudTrail subscription event (1.5 MB of bulk NDJSON each) in `dir`.
fn copies(dir: &Path, n: usize) -> Vec<PathBuf> {
    let fixture = seclog_testkit::fixtures("cloudtrail").join("invictus-ir-01.input.json");
    seclog_testkit::copies(dir, n, &std::fs::read(fixture).unwrap())
}

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Replays `files` into `out`: how far the process's resident memory rose above where it started,
/// in bytes, and how many bytes were written.
async fn replay_growth(files: &[PathBuf], out: &Path) -> (u64, u64) {
    // Writing 5 resets the peak (VmHWM) to the current resident size.
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let before = status_kib("VmRSS:");
    let options = Options::new(Arc::new(Enricher::disabled()));
    let report = replay_to_output(files, &options, Some(out), |_, _, _| {}).await.unwrap();
    assert!(!report.failed());
    let peak = status_kib("VmHWM:");
    ((peak.saturating_sub(before)) * 1024, std::fs::metadata(out).unwrap().len())
}

#[tokio::test(flavor = "current_thread")]
async fn replay_to_a_file_does_not_grow_with_the_number_of_files() {
    let dir = tempfile::tempdir().unwrap();
    let few = copies(&dir.path().join("few"), 4);
    let many = copies(&dir.path().join("many"), 60);
    let out = dir.path().join("out.ndjson");

    let (few_growth, few_bytes) = replay_growth(&few, &out).await;
    let (many_growth, many_bytes) = replay_growth(&many, &out).await;

    // Every file's documents were written: 15 times the files, 15 times the bytes (the same ids).
    assert!(few_bytes > 5 * MIB, "{few_bytes}");
    assert_eq!(many_bytes, 15 * few_bytes);
    // Held in memory, the 60 files' documents would be 90 MB more.
    assert!(
        many_growth < few_growth + 24 * MIB,
        "replaying 60 files grew memory by {} MiB, 4 files by {} MiB",
        many_growth / MIB,
        few_growth / MIB
    );
}
