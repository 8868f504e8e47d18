//! The body of the pipelines' `count` examples: one path of a benchmark run a fixed number of
//! times, for instruction counting under `valgrind --tool=callgrind` (the machine's timers are
//! noisy; instruction counts are not).

use seclog_core::envelope::firehose::{FirehoseEvent, FirehoseResponse};
use seclog_core::firehose::{process, RecordTransform, Settings, TransformationSummary};
use seclog_core::sink::delivery_stream::MemoryRecordSink;
use tokio::runtime::Runtime;

/// Runs `plain` when `path` is `plain`, else `handler`, `n` times: the bytes they made in all.
pub fn repeat(path: &str, n: usize, mut handler: impl FnMut() -> usize, mut plain: impl FnMut() -> usize) -> usize {
    (0..n).map(|_| if path == "plain" { plain() } else { handler() }).sum()
}

/// The Firehose step of `transform` on `event`, once, re-ingesting into memory: its response and summary.
pub fn firehose_step<T: RecordTransform>(
    rt: &Runtime,
    event: &FirehoseEvent,
    transform: &T,
) -> (FirehoseResponse, TransformationSummary) {
    let sink = MemoryRecordSink::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    rt.block_on(process(event, transform, &sink, &Settings::default(), deadline)).unwrap()
}

/// `count handler|plain <n>`: runs the Firehose step of `transform` (re-ingestion into memory) or
/// `plain` on `event` n times, printing what the step answered or the plain response's length.
pub fn firehose_main<T: RecordTransform>(
    event: &FirehoseEvent,
    transform: &T,
    plain: impl Fn(&FirehoseEvent) -> Vec<u8>,
) {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args[2].parse().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let handler = || {
        let (_, s) = firehose_step(&rt, event, transform);
        println!("received {} ok {} overflowed {} untransformed {}", s.received, s.ok, s.overflowed, s.untransformed);
        s.ok
    };
    let baseline = || {
        let len = plain(event).len();
        println!("{len}");
        len
    };
    repeat(&args[1], n, handler, baseline);
}
