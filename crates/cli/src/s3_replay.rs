//! `seclog replay s3://BUCKET[/PREFIX]`: months of logs already in S3 made searchable, through the
//! same code as the `s3` function (each object streamed in chunks, each record indexed, dropped by
//! rule or dead-lettered, ids deterministic, so a re-run adds nothing).
//!
//! With `--state FILE`, each finished object is appended to the file as it finishes; a run with
//! the same file skips them, so an interrupted backfill resumes where it stopped (objects that were
//! in flight are read again, which their ids make harmless).

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use seclog_core::deadletter::DeadLetters;
use seclog_core::sink::BulkSink;
use seclog_core::telemetry::InvocationSummary;
use seclog_s3::handler::{process_object, Deps, Done, Queue, S3Store, SendError};
use seclog_s3::layout::KindRules;
use seclog_s3::notification::ObjectNote;
use seclog_s3::transform::Transforms;

use crate::replay::{Report, Source, Totals};

/// What to read.
#[derive(Debug, Clone)]
pub struct Target {
    /// The bucket.
    pub bucket: String,
    /// The key prefix (empty: the whole bucket).
    pub prefix: String,
}

impl std::str::FromStr for Target {
    type Err = anyhow::Error;

    /// `s3://BUCKET[/PREFIX]`.
    fn from_str(s: &str) -> Result<Self> {
        let Some(rest) = s.strip_prefix("s3://") else { bail!("`{s}` is not an s3://BUCKET[/PREFIX] URL") };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            bail!("`{s}` names no bucket");
        }
        Ok(Self { bucket: bucket.to_owned(), prefix: prefix.to_owned() })
    }
}

/// How to read it.
#[derive(Debug, Clone)]
pub struct Options {
    /// Objects last modified before this are left out.
    pub since: Option<DateTime<Utc>>,
    /// Objects last modified at or after this are left out.
    pub until: Option<DateTime<Utc>>,
    /// Objects read at once.
    pub concurrency: usize,
    /// The file of finished objects.
    pub state: Option<PathBuf>,
    /// Time allowed per object.
    pub budget: Duration,
}

/// Where a backfill stands, for the progress line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    /// Objects finished, of `objects`.
    pub done: usize,
    /// Objects to read in this run.
    pub objects: usize,
    /// Compressed bytes of the finished objects, of `total_bytes`.
    pub bytes: u64,
    /// Compressed bytes of every object to read.
    pub total_bytes: u64,
    /// Records read.
    pub records: usize,
    /// Since the run started.
    pub elapsed: Duration,
}

impl Progress {
    /// `12/40 objects, 3.1/9.8 MiB, 120000 records, 24000 records/s, ETA 0:05`.
    #[must_use]
    pub fn line(&self) -> String {
        let secs = self.elapsed.as_secs_f64().max(0.001);
        #[allow(clippy::cast_precision_loss)]
        let (rate, mib, total_mib) =
            (self.records as f64 / secs, self.bytes as f64 / 1_048_576.0, self.total_bytes as f64 / 1_048_576.0);
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let eta = if self.bytes == 0 {
            "?".to_owned()
        } else {
            let left = secs * (self.total_bytes.saturating_sub(self.bytes)) as f64 / self.bytes as f64;
            format!("{}:{:02}", left as u64 / 60, left as u64 % 60)
        };
        format!(
            "{}/{} objects, {mib:.1}/{total_mib:.1} MiB, {} records, {rate:.0} records/s, ETA {eta}",
            self.done, self.objects, self.records
        )
    }
}

/// A backfill reads each object to its end: it has no queue to continue on.
struct NoContinuation;

impl Queue for NoContinuation {
    async fn send(&self, _: String) -> Result<(), SendError> {
        Err(SendError::NoQueue("the object did not finish within the time allowed per object (--budget-secs)"))
    }
}

/// One listed object.
#[derive(Debug, Clone)]
struct Listed {
    note: ObjectNote,
    size: u64,
}

fn state_line(note: &ObjectNote) -> String {
    format!("{}\t{}", note.key, note.version())
}

/// Lists the objects to read: in a layout, in the time range, not finished in an earlier run.
async fn list(
    s3: &aws_sdk_s3::Client,
    target: &Target,
    options: &Options,
    finished: &HashSet<String>,
    report: &mut Report,
) -> Result<Vec<Listed>> {
    let mut pages = s3.list_objects_v2().bucket(&target.bucket).prefix(&target.prefix).into_paginator().send();
    let mut listed = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| anyhow::anyhow!("{}", seclog_core::error::Chain(&e)))?;
        for object in page.contents.unwrap_or_default() {
            let key = object.key.unwrap_or_default();
            let modified = object.last_modified.and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()));
            if modified.is_some_and(|m| options.since.is_some_and(|s| m < s) || options.until.is_some_and(|u| m >= u)) {
                continue;
            }
            if KindRules::default().place(&key).is_none() {
                report
                    .skipped
                    .push((format!("s3://{}/{key}", target.bucket).into(), "not in one of AWS's log layouts".into()));
                continue;
            }
            let etag = object.e_tag.map(|e| e.trim_matches('"').to_owned()).filter(|e| !e.is_empty());
            let note = ObjectNote { bucket: target.bucket.clone(), key, version_id: None, etag, next_record: 1 };
            if !finished.contains(&state_line(&note)) {
                listed.push(Listed { note, size: u64::try_from(object.size.unwrap_or(0)).unwrap_or(0) });
            }
        }
    }
    Ok(listed)
}

/// Reads every object of `target` into `sink`, `options.concurrency` at a time, until done or
/// `stop` is set (objects in flight finish; no new one starts).
///
/// # Errors
/// When the bucket cannot be listed or the state file cannot be read or written; objects that fail
/// are counted as failed invocations.
pub async fn backfill<S: BulkSink>(
    s3: aws_sdk_s3::Client,
    target: &Target,
    options: &Options,
    deps: (S, DeadLetters, Arc<Transforms>),
    stop: &AtomicBool,
    mut progress: impl FnMut(&Progress),
) -> Result<Report> {
    let finished: HashSet<String> = match &options.state {
        Some(path) if path.exists() => std::fs::read_to_string(path)
            .with_context(|| format!("reading {}", path.display()))?
            .lines()
            .map(str::to_owned)
            .collect(),
        _ => HashSet::new(),
    };
    let mut report = Report::default();
    let objects = list(&s3, target, options, &finished, &mut report).await?;
    let mut state = match &options.state {
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("opening {}", path.display()))?,
        ),
        None => None,
    };
    let (sink, deadletters, transforms) = deps;
    let deps = Deps {
        sink,
        store: S3Store(s3),
        queue: NoContinuation,
        transforms,
        deadletters,
        config: seclog_s3::config::FunctionConfig::default(),
        clock: Utc::now,
    };
    let started = Instant::now();
    let mut at =
        Progress { objects: objects.len(), total_bytes: objects.iter().map(|o| o.size).sum(), ..Progress::default() };
    let deps = &deps;
    let mut running = futures::stream::iter(objects)
        .take_while(|_| std::future::ready(!stop.load(Ordering::Relaxed)))
        .map(|listed| async move {
            let object_started = Instant::now();
            let mut summary = InvocationSummary::default();
            let deadline = tokio::time::Instant::now() + options.budget;
            let done = process_object(&listed.note, deps, deadline, &mut summary).await;
            (listed, summary, done, object_started.elapsed())
        })
        .buffer_unordered(options.concurrency.max(1));
    while let Some((listed, summary, done, took)) = running.next().await {
        let kind = KindRules::default().place(&listed.note.key).map(|p| p.kind);
        let totals = report.sources.entry(kind.map_or(Source::Cloudtrail, source_of)).or_default();
        totals.files += 1;
        totals.duration += took;
        if done == Done::Finished {
            at.records += totals.add(Ok(Totals::of_summary(&summary)), std::path::Path::new(&listed.note.key));
            if let Some(file) = state.as_mut() {
                writeln!(file, "{}", state_line(&listed.note)).and_then(|()| file.flush())?;
            }
        } else {
            totals.failed_invocations += 1;
            tracing::error!(bucket = %listed.note.bucket, "An object did not finish; run the backfill again to read it.");
        }
        at.done += 1;
        at.bytes += listed.size;
        at.elapsed = started.elapsed();
        progress(&at);
    }
    Ok(report)
}

/// A file that is a log object as AWS delivers it to S3, by its path (`…/AWSLogs/…` in one of
/// AWS's layouts): its key, from `AWSLogs/` on.
#[must_use]
pub fn object_key(path: &Path) -> Option<String> {
    let text = path.to_str()?.replace(std::path::MAIN_SEPARATOR, "/");
    let key = &text[text.find("AWSLogs/")?..];
    seclog_s3::layout::aws_layout(key).map(|_| key.to_owned())
}

/// The source a log object is counted under.
pub(crate) fn source_of(kind: seclog_s3::layout::Kind) -> Source {
    use seclog_s3::layout::Kind;
    match kind {
        Kind::CloudTrail | Kind::CloudTrailDigest | Kind::CloudTrailInsight => Source::Cloudtrail,
        Kind::VpcFlow => Source::Vpcflow,
        Kind::Waf => Source::Waf,
        Kind::Route53Resolver => Source::Route53,
        Kind::Alb => Source::Alb,
    }
}

/// One log object read from disk as the `s3` function reads it from S3: its source, its
/// totals (or the delivery's failure) and the time it took.
pub(crate) async fn replay_object<S: BulkSink>(
    path: &Path,
    key: &str,
    transforms: &seclog_s3::transform::Transforms,
    deps: &seclog_cloudtrail::handler::Deps<S>,
    budget: Duration,
) -> Result<(Source, Result<Totals, seclog_core::DeliveryError>, Duration)> {
    use seclog_s3::transform::{ObjectReader, ObjectRef};
    let placed = seclog_s3::layout::aws_layout(key).context("not in one of AWS's layouts")?;
    let started = Instant::now();
    let object = ObjectRef { bucket: "local", key, version: "" };
    let mut reader = ObjectReader::new(transforms, &deps.deadletters, placed, object, (deps.clock)());
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut read = reader.read_all(file, MAX_OBJECT_BYTES);
    if let Some(e) = &read.failed {
        read.records += 1;
        read.docs.push(reader.dead_letter(e));
    }
    let (records, dropped) = (read.records, read.dropped.len());
    let delivered = deps.sink.deliver(read.docs, tokio::time::Instant::now() + budget).await;
    let totals = delivered.map(|d| Totals::of_object(records, dropped, &d));
    Ok((source_of(placed.kind), totals, started.elapsed()))
}

/// The most a local log object may decompress to (S3 objects AWS writes are far smaller).
const MAX_OBJECT_BYTES: u64 = 1 << 30;

/// The backfill of an s3:// URL as `seclog replay` runs it: S3 as the environment says (a local
/// endpoint addressed by path), a progress line on standard error, and a clean stop on Ctrl-C.
///
/// # Errors
/// As [`backfill`].
pub async fn run<S: BulkSink>(
    target: &Target,
    options: &Options,
    deps: (S, DeadLetters, Arc<Transforms>),
) -> Result<Report> {
    let sdk = seclog_core::lambda::sdk_config(None).await;
    let mut s3 = aws_sdk_s3::config::Builder::from(&sdk);
    if std::env::var_os("AWS_ENDPOINT_URL").is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some() {
        // Local S3-compatible servers (moto, MinIO) are addressed by path, not by host name.
        s3 = s3.force_path_style(true);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let on_interrupt = stop.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\ninterrupted: the objects being read finish, no new one starts");
            on_interrupt.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    });
    let mut last = std::time::Instant::now();
    let progress = move |at: &Progress| {
        if last.elapsed() >= std::time::Duration::from_secs(1) || at.done == at.objects {
            eprint!("\r{}", at.line());
            if at.done == at.objects {
                eprintln!();
            }
            last = std::time::Instant::now();
        }
    };
    let client = aws_sdk_s3::Client::from_conf(s3.build());
    backfill(client, target, options, deps, &stop, progress).await
}
