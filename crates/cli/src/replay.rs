//! `seclog replay`: recorded Lambda events through the real handlers, in process.
//!
//! The source of each file is detected from its shape unless given: `{"awslogs":{"data":…}}` is a
//! `CloudWatch` Logs subscription event: Route 53 when its log group is `/aws/route53*` or its first
//! message is a query log, else `CloudTrail`. A Firehose transformation request is WAF when its
//! stream is named `aws-waf-logs-*`, Route 53 when its first readable record is a query log, WAF
//! when that record is another JSON object, else VPC Flow Logs. An `EventBridge` event (`detail-type`
//! and `detail`) is Security Hub's. Firehose requests are replayed as [`crate::firehose_replay`] describes. The flow-log
//! format is `--vpc-flow-format`, else a `<name>.format` file beside a `<name>.input.json`, else
//! the default format. Folders are walked for `*.json` files; the readable `*.payload.json` and
//! the golden `*.expected.json` files beside the fixtures are skipped.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use seclog_cloudtrail::config::FunctionConfig;
use seclog_cloudtrail::handler::{process, Deps};
use seclog_core::deadletter::DeadLetters;
use seclog_core::envelope::cloudwatch_logs::CloudWatchLogsEvent;
use seclog_core::envelope::firehose::FirehoseEvent;
use seclog_core::pipeline::Pipeline;
use seclog_core::sink::delivery_stream::MemoryRecordSink;
use seclog_core::sink::{BulkSink, WriterSink};
use seclog_core::subscription;
use seclog_enrich::Enricher;
use seclog_route53::Route53Transform;
use seclog_rules::RuleSet;
use seclog_vpcflow::{Format, VpcFlowTransform};
use seclog_waf::WafTransform;

use base64::Engine as _;

use crate::firehose_replay::{self, replay as replay_request};

/// A log source the command knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Source {
    /// `CloudTrail` through a `CloudWatch` Logs subscription.
    Cloudtrail,
    /// WAF logs through Firehose.
    Waf,
    /// VPC Flow Logs through Firehose.
    Vpcflow,
    /// Route 53 query logs: Resolver logs through Firehose, public (or Resolver) logs through a
    /// `CloudWatch` Logs subscription.
    Route53,
    /// Security Hub and GuardDuty findings through an `EventBridge` rule.
    Securityhub,
    /// Application Load Balancer access logs, as delivered to S3.
    Alb,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Cloudtrail => "cloudtrail",
            Self::Waf => "waf",
            Self::Vpcflow => "vpcflow",
            Self::Route53 => "route53",
            Self::Securityhub => "securityhub",
            Self::Alb => "alb",
        })
    }
}

/// Per-source totals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    /// Event files replayed.
    pub files: usize,
    /// Records received by the handler.
    pub records: usize,
    /// Documents newly indexed.
    pub indexed: usize,
    /// Documents that were already there.
    pub already_present: usize,
    /// Records dropped on purpose (control messages).
    pub dropped: usize,
    /// Records dead-lettered.
    pub dead_lettered: usize,
    /// Invocations that failed (Lambda would retry them).
    pub failed_invocations: usize,
    /// Time spent in the handler.
    pub duration: Duration,
}

impl Totals {
    pub(crate) fn of_summary(s: &seclog_core::telemetry::InvocationSummary) -> Self {
        Self {
            records: s.received,
            indexed: s.delivery.indexed,
            already_present: s.delivery.already_present,
            dropped: s.dropped,
            dead_lettered: s.delivery.dead_lettered,
            ..Self::default()
        }
    }

    pub(crate) fn of_object(records: usize, dropped: usize, delivery: &seclog_core::sink::DeliveryReport) -> Self {
        Self {
            records,
            indexed: delivery.indexed,
            already_present: delivery.already_present,
            dropped,
            dead_lettered: delivery.dead_lettered,
            ..Self::default()
        }
    }

    fn of_outcome(o: &firehose_replay::Outcome) -> Self {
        Self {
            records: o.received,
            indexed: o.delivery.indexed,
            already_present: o.delivery.already_present,
            dropped: o.dropped,
            dead_lettered: o.delivery.dead_lettered,
            ..Self::default()
        }
    }

    /// Adds one invocation's counts, or counts it failed (AWS would retry it). Returns the
    /// records it received.
    pub(crate) fn add(&mut self, invocation: Result<Self, seclog_core::DeliveryError>, path: &Path) -> usize {
        match invocation {
            Ok(t) => {
                self.records += t.records;
                self.indexed += t.indexed;
                self.already_present += t.already_present;
                self.dropped += t.dropped;
                self.dead_lettered += t.dead_lettered;
                t.records
            }
            Err(e) => {
                self.failed_invocations += 1;
                tracing::error!(file = %path.display(), error = %seclog_core::error::Chain(&e), "Invocation failed; AWS would retry it.");
                0
            }
        }
    }
}

/// What a replay did, per source, plus the files it could not use.
#[derive(Debug, Default)]
pub struct Report {
    /// Totals per source.
    pub sources: BTreeMap<Source, Totals>,
    /// Files skipped, with the reason.
    pub skipped: Vec<(PathBuf, String)>,
}

impl Report {
    /// Whether any invocation failed.
    #[must_use]
    pub fn failed(&self) -> bool {
        self.sources.values().any(|t| t.failed_invocations > 0)
    }

    /// Writes the per-source summary table.
    ///
    /// # Errors
    /// When the writer fails.
    pub fn print(&self, out: &mut impl Write) -> std::io::Result<()> {
        writeln!(
            out,
            "{:<12} {:>6} {:>9} {:>9} {:>8} {:>8} {:>13} {:>7} {:>10} {:>10}",
            "source",
            "files",
            "records",
            "indexed",
            "present",
            "dropped",
            "dead-lettered",
            "failed",
            "seconds",
            "records/s"
        )?;
        for (source, t) in &self.sources {
            let secs = t.duration.as_secs_f64();
            #[allow(clippy::cast_precision_loss)]
            let rate = if secs > 0.0 { t.records as f64 / secs } else { 0.0 };
            writeln!(
                out,
                "{:<12} {:>6} {:>9} {:>9} {:>8} {:>8} {:>13} {:>7} {:>10.3} {:>10.0}",
                source.to_string(),
                t.files,
                t.records,
                t.indexed,
                t.already_present,
                t.dropped,
                t.dead_lettered,
                t.failed_invocations,
                secs,
                rate
            )?;
        }
        for (path, why) in &self.skipped {
            writeln!(out, "skipped {}: {why}", path.display())?;
        }
        Ok(())
    }
}

/// Every replayable file under `paths`, sorted per argument.
///
/// # Errors
/// When a path does not exist.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found)?;
            found.sort();
            files.extend(found);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            bail!("{} does not exist", path.display());
        }
    }
    Ok(files)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if path.is_dir() {
            walk(&path, out)?;
        } else if (path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"))
            && !name.ends_with(".payload.json")
            && !name.ends_with(".expected.json"))
            || crate::s3_replay::object_key(&path).is_some()
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Detects the source of an event from its shape.
#[must_use]
pub fn detect(event: &serde_json::Value) -> Option<Source> {
    if let Some(data) = event.get("awslogs").and_then(|a| a.get("data")).and_then(serde_json::Value::as_str) {
        return Some(if logs_are_route53(data) { Source::Route53 } else { Source::Cloudtrail });
    }
    if event.get("detail-type").is_some() && event.get("detail").is_some() {
        return Some(Source::Securityhub);
    }
    let records = event.get("records")?.as_array()?;
    if !records.iter().all(|r| r.get("recordId").is_some() && r.get("data").is_some()) {
        return None;
    }
    let arn = event.get("deliveryStreamArn").and_then(serde_json::Value::as_str).unwrap_or("");
    if arn.contains(":deliverystream/aws-waf-logs-") {
        return Some(Source::Waf);
    }
    let first = records.iter().find_map(|r| {
        let data = base64::engine::general_purpose::STANDARD.decode(r["data"].as_str()?).ok()?;
        (!data.starts_with(&[0x1f, 0x8b]) && !data.is_empty()).then_some(data)
    });
    match first {
        Some(d) if seclog_route53::is_query_log(&d) => Some(Source::Route53),
        Some(d) if d.trim_ascii_start().starts_with(b"{") => Some(Source::Waf),
        _ => Some(Source::Vpcflow),
    }
}

/// Whether a subscription event carries Route 53 query logs: its log group is Route 53's, or its
/// first log event is a query log. An undecodable event is `CloudTrail`'s to dead-letter.
fn logs_are_route53(data: &str) -> bool {
    let event = CloudWatchLogsEvent { awslogs: seclog_core::envelope::cloudwatch_logs::AwsLogs { data: data.into() } };
    let Ok(bytes) = seclog_core::envelope::cloudwatch_logs::decode(&event, 64 << 20) else { return false };
    let Ok(payload) = seclog_core::envelope::cloudwatch_logs::parse(&bytes) else { return false };
    payload.log_group.starts_with("/aws/route53")
        || payload.log_events.first().is_some_and(|e| seclog_route53::is_query_log(e.message.as_bytes()))
}

/// The flow-log format for `path`: the one given, else `<name>.format` beside it, else the default.
fn vpc_format_for(path: &Path, given: Option<&Format>) -> Result<Format> {
    if let Some(f) = given {
        return Ok(f.clone());
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let beside = path.with_file_name(name.replace(".input.json", ".format"));
    if name.ends_with(".input.json") && beside.is_file() {
        let text = std::fs::read_to_string(&beside)?;
        return Format::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", beside.display()));
    }
    Ok(Format::default())
}

/// How to replay.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    /// Treat every file as this source instead of detecting it.
    pub source: Option<Source>,
    /// The VPC flow-log format (else a `.format` file beside the event, else the default).
    pub vpc_format: Option<&'a Format>,
    /// GeoIP, ASN and AWS-range lookups, as the functions make them.
    pub enricher: Arc<Enricher>,
    /// Time budget of each invocation.
    pub budget: Duration,
    /// The rules evaluated at ingest, as the functions evaluate them.
    pub rules: Arc<RuleSet>,
}

impl Options<'_> {
    /// Detected sources, default formats, `enricher`, 60 s per invocation, no rules.
    #[must_use]
    pub fn new(enricher: Arc<Enricher>) -> Self {
        Self { source: None, vpc_format: None, enricher, budget: Duration::from_secs(60), rules: Arc::default() }
    }
}

/// Replays `files` through the handlers, delivering into `sink`.
///
/// # Errors
/// Only for I/O errors; bad files are skipped and reported, failed invocations counted.
pub async fn replay<S: BulkSink>(
    files: &[PathBuf],
    options: &Options<'_>,
    sink: S,
    deadletters: DeadLetters,
    mut progress: impl FnMut(usize, usize, usize),
) -> Result<(Report, S)> {
    let Options { source: forced, vpc_format, ref enricher, budget, ref rules } = *options;
    let deps = Deps::new(sink, deadletters, FunctionConfig::default())
        .map_transformer(|t| t.with_enricher(enricher.clone()).with_rules(rules.clone()));
    let waf = WafTransform::new(enricher.clone());
    let route53 = Route53Transform::default().with_enricher(enricher.clone()).with_rules(rules.clone());
    let mut findings = seclog_securityhub::handler::Deps::<&S, MemoryRecordSink>::new(
        seclog_securityhub::handler::Delivery::Bulk(&deps.sink),
        seclog_securityhub::config::Config::default(),
    )
    .with_enricher(enricher.clone());
    findings.deadletters = deps.deadletters.clone();
    let mut report = Report::default();
    let mut records = 0;
    let objects = seclog_s3::transform::Transforms::new(enricher.clone(), rules.clone());
    for (n, path) in files.iter().enumerate() {
        if let Some(key) = crate::s3_replay::object_key(path) {
            let (source, totals, took) = crate::s3_replay::replay_object(path, &key, &objects, &deps, budget).await?;
            let sum = report.sources.entry(source).or_default();
            sum.files += 1;
            sum.duration += took;
            records += sum.add(totals, path);
            progress(n + 1, files.len(), records);
            continue;
        }
        let Some((source, value)) = lambda_event(path, forced, &mut report.skipped)? else { continue };
        let totals = report.sources.entry(source).or_default();
        totals.files += 1;
        match source {
            Source::Cloudtrail | Source::Route53 if value.get("awslogs").is_some() => {
                let Some(event) =
                    envelope::<CloudWatchLogsEvent>(value, "a CloudWatch Logs event", path, &mut report.skipped)
                else {
                    continue;
                };
                let started = Instant::now();
                let deadline = tokio::time::Instant::now() + budget;
                let result = if source == Source::Route53 {
                    let pipeline = Pipeline {
                        sink: &deps.sink,
                        transform: &route53,
                        deadletters: &deps.deadletters,
                        clock: deps.clock,
                    };
                    let max = deps.config.max_decoded_bytes;
                    Box::pin(subscription::process(&event, &pipeline, max, deadline)).await
                } else {
                    Box::pin(process(&event, &deps, deadline)).await
                };
                totals.duration += started.elapsed();
                records += totals.add(result.map(|s| Totals::of_summary(&s)), path);
            }
            Source::Cloudtrail => {
                report.skipped.push((path.clone(), "not a CloudWatch Logs event".into()));
                continue;
            }
            Source::Alb => {
                report.skipped.push((path.clone(), "load-balancer access logs are read from their S3 objects".into()));
                continue;
            }
            Source::Securityhub => {
                let event = serde_json::value::to_raw_value(&value)?;
                let started = Instant::now();
                let result = Box::pin(seclog_securityhub::handler::process(
                    &event,
                    &findings,
                    tokio::time::Instant::now() + budget,
                ))
                .await;
                totals.duration += started.elapsed();
                records += totals.add(result.map(|s| Totals::of_summary(&s)), path);
            }
            Source::Waf | Source::Vpcflow | Source::Route53 => {
                let Some(event) = envelope::<FirehoseEvent>(value, "a Firehose request", path, &mut report.skipped)
                else {
                    continue;
                };
                let started = Instant::now();
                let deadline = tokio::time::Instant::now() + budget;
                let (sink, dead) = (&deps.sink, &deps.deadletters);
                let result = if source == Source::Waf {
                    replay_request(&event, &waf, seclog_waf::FAMILY, sink, dead, deadline).await
                } else if source == Source::Route53 {
                    replay_request(&event, &route53, seclog_route53::RESOLVER_FAMILY, sink, dead, deadline).await
                } else {
                    let transform =
                        VpcFlowTransform::new(vpc_format_for(path, vpc_format)?).with_enricher(enricher.clone());
                    replay_request(&event, &transform, seclog_vpcflow::FAMILY, sink, dead, deadline).await
                };
                totals.duration += started.elapsed();
                records += totals.add(result.map(|o| Totals::of_outcome(&o)), path);
            }
        }
        progress(n + 1, files.len(), records);
    }
    Ok((report, deps.sink))
}

/// The Lambda event in the file at `path` and its source (`forced`, else detected), or `None`
/// with the file skipped and why.
fn lambda_event(
    path: &Path,
    forced: Option<Source>,
    skipped: &mut Vec<(PathBuf, String)>,
) -> Result<Option<(Source, serde_json::Value)>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let value: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            skipped.push((path.to_owned(), format!("not JSON: {e}")));
            return Ok(None);
        }
    };
    let Some(source) = forced.or_else(|| detect(&value)) else {
        skipped.push((path.to_owned(), "not a recognised Lambda event".into()));
        return Ok(None);
    };
    Ok(Some((source, value)))
}

/// The file's event as `T`, or `None` with the file skipped for not being `what`.
fn envelope<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
    what: &str,
    path: &Path,
    skipped: &mut Vec<(PathBuf, String)>,
) -> Option<T> {
    serde_json::from_value(value).map_err(|e| skipped.push((path.to_owned(), format!("not {what}: {e}")))).ok()
}

#[cfg(test)]
mod tests;

/// Replays `files` and writes the bulk NDJSON they would send to `path` (`-`: standard output;
/// none: nowhere) as it is made, as `seclog replay --output` does.
///
/// # Errors
/// For I/O errors (the files, the output).
pub async fn replay_to_output(
    files: &[PathBuf],
    options: &Options<'_>,
    path: Option<&Path>,
    progress: impl FnMut(usize, usize, usize),
) -> Result<Report> {
    let sink = output_sink(path)?;
    let (report, sink) = replay(files, options, sink, DeadLetters::default(), progress).await?;
    sink.finish().context("writing the output")?;
    Ok(report)
}

/// A sink writing to `path` (`-`: standard output; none: nowhere).
///
/// # Errors
/// When the file cannot be created.
pub fn output_sink(path: Option<&Path>) -> Result<WriterSink<Box<dyn Write + Send>>> {
    let out: Box<dyn Write + Send> = match path {
        Some(p) if p.as_os_str() == "-" => Box::new(std::io::BufWriter::new(std::io::stdout())),
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::sink()),
    };
    Ok(WriterSink::new(out))
}
