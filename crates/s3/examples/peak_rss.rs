//! The `s3` function's memory on one large object: the handler's own object path (streamed
//! gunzip, records, transforms, chunks of documents over its bounded channel) reading a local
//! file, with a sink that only counts what it gets. `scripts/bench` runs it under
//! `/usr/bin/time -v` for the peak RSS.
//!
//!   peak-rss --make FILE MIB   writes a default-format flow-log object of MIB MiB (gzipped)
//!   peak-rss FILE              reads it as the function would
#![allow(clippy::unwrap_used, missing_docs)]

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use seclog_core::deadletter::DeadLetters;
use seclog_core::document::Document;
use seclog_core::sink::{BulkSink, DeliveryReport};
use seclog_core::telemetry::InvocationSummary;
use seclog_core::DeliveryError;
use seclog_s3::config::FunctionConfig;
use seclog_s3::handler::{process_object, Deps, GetError, ObjectStore, Queue, SendError};
use seclog_s3::notification::ObjectNote;
use seclog_s3::transform::Transforms;

const KEY: &str = "AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/30/111122223333_vpcflowlogs_us-east-1_fl-1_20261130T2235Z_big.log.gz";

struct File(String);

impl ObjectStore for File {
    async fn get(&self, _: &ObjectNote) -> Result<Box<dyn Read + Send>, GetError> {
        Ok(Box::new(std::fs::File::open(&self.0).unwrap()))
    }
}

struct NoQueue;

impl Queue for NoQueue {
    async fn send(&self, _: String) -> Result<(), SendError> {
        Err(SendError::NoQueue("no queue"))
    }
}

#[derive(Default)]
struct Counting(AtomicUsize);

impl BulkSink for Counting {
    async fn deliver(&self, docs: Vec<Document<'_>>, _: tokio::time::Instant) -> Result<DeliveryReport, DeliveryError> {
        self.0.fetch_add(docs.len(), Ordering::Relaxed);
        Ok(DeliveryReport { indexed: docs.len(), ..DeliveryReport::default() })
    }
}

fn make(path: &str, mib: usize) {
    let file = std::fs::File::create(path).unwrap();
    let mut gz = flate2::write::GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::default());
    let header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n";
    gz.write_all(header.as_bytes()).unwrap();
    let (mut written, mut n, mut line) = (header.len(), 0_usize, String::new());
    while written < mib << 20 {
        let (a, b) = (n % 250, (n / 250) % 250);
        let action = if n % 7 == 0 { "REJECT" } else { "ACCEPT" };
        line.clear();
        let _ = writeln!(
            line,
            "2 111122223333 eni-0a1b2c3d4e5f60718 10.0.{b}.{a} 203.0.113.{a} {} 443 6 {} {} 1764540000 1764540060 {action} OK",
            32768 + n % 28000,
            1 + n % 40,
            60 + n % 9000
        );
        gz.write_all(line.as_bytes()).unwrap();
        written += line.len();
        n += 1;
    }
    gz.finish().unwrap();
    println!("{n} flow-log lines, {written} bytes");
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args[0] == "--make" {
        make(&args[1], args[2].parse().unwrap());
        return;
    }
    let deps = Deps {
        sink: Counting::default(),
        store: File(args[0].clone()),
        queue: NoQueue,
        transforms: Arc::new(Transforms::new(seclog_enrich::Enricher::from_env(), Arc::default())),
        deadletters: DeadLetters::default(),
        config: FunctionConfig::default(),
        clock: chrono::Utc::now,
    };
    let note = ObjectNote { bucket: "b".into(), key: KEY.into(), version_id: None, etag: None, next_record: 1 };
    let mut summary = InvocationSummary::default();
    let started = std::time::Instant::now();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(3600);
    process_object(&note, &deps, deadline, &mut summary).await;
    println!(
        "records {} documents {} in {:.1} s",
        summary.received,
        deps.sink.0.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
}
