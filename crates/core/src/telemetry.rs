//! Named telemetry events. Nothing per record at INFO; one summary per invocation; ERROR only
//! for data loss; never a payload.
//!
//! The summary is one JSON line per invocation that is also a CloudWatch Embedded Metric Format
//! (EMF) document: in Lambda it goes to stdout, where CloudWatch Logs keeps the line and extracts
//! the counters as metrics of namespace `seclog` with dimension `dataset` (no `PutMetricData`
//! call, no extra permission). Elsewhere (the CLI, tests) it goes to `tracing` at DEBUG, or to an
//! output a test installs with [`capture`].

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;
use serde_json::{json, Map, Value};

/// The metric namespace.
pub const NAMESPACE: &str = "seclog";

/// A CloudWatch unit.
#[derive(Debug, Clone, Copy, strum::IntoStaticStr)]
pub enum Unit {
    /// A number of things.
    Count,
    /// Bytes.
    Bytes,
    /// Milliseconds.
    Milliseconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One metric of a summary line: its name, unit, and its value (a number, or an array of samples).
pub type Metric = (String, Unit, Value);

/// Builds an invocation's line: `fields` (the summary, `message`, the function's name) with the
/// EMF `_aws` block declaring `metrics`, whose values are top-level members as EMF requires.
#[must_use]
pub fn summary_line(dataset: &str, mut fields: Map<String, Value>, metrics: Vec<Metric>, timestamp_ms: i64) -> String {
    let declared: Vec<Value> =
        metrics.iter().map(|(name, unit, _)| json!({ "Name": name, "Unit": unit.as_str() })).collect();
    for (name, _, value) in metrics {
        fields.insert(name, value);
    }
    fields.insert("dataset".into(), Value::from(dataset));
    fields.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{ "Namespace": NAMESPACE, "Dimensions": [["dataset"]], "Metrics": declared }],
        }),
    );
    Value::Object(fields).to_string()
}

type Output = Arc<Mutex<Vec<u8>>>;
static CAPTURE: Mutex<Option<Output>> = Mutex::new(None);

/// Sends the summary lines of this process into a buffer from now on (tests); returns it.
pub fn capture() -> Arc<Mutex<Vec<u8>>> {
    let buffer = Output::default();
    *CAPTURE.lock().unwrap_or_else(PoisonError::into_inner) = Some(buffer.clone());
    buffer
}

/// Writes one summary line: to the captured buffer, to stdout in Lambda, else to `tracing`.
fn print(line: &str) {
    if let Some(buffer) = CAPTURE.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
        let mut buffer = buffer.lock().unwrap_or_else(PoisonError::into_inner);
        buffer.extend_from_slice(line.as_bytes());
        buffer.push(b'\n');
    } else if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        // One write of the whole line, so concurrent output cannot split it.
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(format!("{line}\n").as_bytes()).and_then(|()| out.flush());
    } else {
        tracing::debug!(target: "seclog::summary", "{line}");
    }
}

/// Why a record was dropped on purpose: the documented drop rules, by the stable names metrics
/// (`Dropped.<rule>`) and summary lines carry. Declared in the order of those names, so counts by
/// rule list alphabetically.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    strum::IntoStaticStr,
    strum::Display,
    strum::VariantArray,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum DropRule {
    /// A `CloudWatch` Logs control message (the subscription's own test message).
    ControlMessage,
    /// An `EventBridge` event of a detail-type the function does not index (Security Hub's
    /// insight results and custom actions).
    DetailType,
    /// A CloudTrail digest file delivered to S3 (it proves the log files' integrity; it holds no
    /// events).
    DigestFile,
    /// A `CloudWatch` Logs payload with no log event.
    EmptyPayload,
    /// A record the function's configured filters leave out (Security Hub's products, severity…).
    Filter,
    /// A flow-log header line (the field names, not a flow).
    HeaderLine,
    /// A notification for an S3 object that no longer exists (or is no longer the version
    /// notified).
    ObjectGone,
    /// A notification that names no created object (S3's `s3:TestEvent`, a removal).
    TestEvent,
}

impl DropRule {
    /// The stable name (`control_message`, …).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Counts of records dropped on purpose, by rule.
pub type DroppedBy = BTreeMap<DropRule, usize>;

/// What every summary line counts, around its own metrics: `RecordsIn` first, then `own`, then
/// `Duration`, `Failed` (the invocation), `Dropped` and `Dropped.<rule>`.
fn framed(
    received: usize,
    own: impl IntoIterator<Item = Metric>,
    duration_ms: u64,
    failed: usize,
    (dropped, by): (usize, &DroppedBy),
) -> Vec<Metric> {
    std::iter::once(count("RecordsIn", received))
        .chain(own)
        .chain([
            metric("Duration", Unit::Milliseconds, duration_ms),
            count("Failed", failed),
            count("Dropped", dropped),
        ])
        .chain(by.iter().map(|(rule, n)| count(format!("Dropped.{rule}"), *n)))
        .collect()
}

/// One EMF metric.
fn metric(name: impl Into<String>, unit: Unit, value: impl Into<Value>) -> Metric {
    (name.into(), unit, value.into())
}

/// One EMF metric counting things.
fn count(name: impl Into<String>, n: usize) -> Metric {
    metric(name, Unit::Count, n)
}

/// The summary's own fields, `message`, and the function's name when in Lambda.
fn fields_of(summary: &impl Serialize) -> Map<String, Value> {
    let mut fields = match serde_json::to_value(summary) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    fields.insert("message".into(), Value::from("Invocation summary."));
    if let Ok(name) = std::env::var("AWS_LAMBDA_FUNCTION_NAME") {
        fields.insert("function".into(), Value::from(name));
    }
    fields
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// What one invocation did, logged once at its end.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InvocationSummary {
    /// The dataset (`aws.cloudtrail`, …).
    pub dataset: &'static str,
    /// Records received (log events, Firehose records, findings).
    pub received: usize,
    /// What the deliveries did: documents indexed, already present and dead-lettered, retries,
    /// bulk requests, their bytes and latencies.
    #[serde(flatten)]
    pub delivery: crate::sink::DeliveryReport,
    /// Records dropped on purpose by a documented filter (control messages, filters).
    pub dropped: usize,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// Records dropped on purpose, by rule.
    pub dropped_by: DroppedBy,
    /// 1 when the invocation failed (delivery could not finish: Lambda retries it), else 0.
    pub failed: usize,
}

/// EMF takes at most 100 values for one metric in one document.
const EMF_MAX_VALUES: usize = 100;

/// At most [`EMF_MAX_VALUES`] samples: all of them when they fit, else 100 evenly spaced order
/// statistics (the fastest and the slowest among them), so percentiles stay close.
fn emf_samples(samples: &[u64]) -> Vec<u64> {
    if samples.len() <= EMF_MAX_VALUES {
        return samples.to_vec();
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let last = sorted.len() - 1;
    (0..EMF_MAX_VALUES).map(|i| sorted[i * last / (EMF_MAX_VALUES - 1)]).collect()
}

impl InvocationSummary {
    /// Counts `n` records dropped on purpose by `rule`.
    pub fn drop(&mut self, rule: DropRule, n: usize) {
        if n > 0 {
            self.dropped += n;
            *self.dropped_by.entry(rule).or_default() += n;
        }
    }

    /// Counts what a delivery did and prints the summary line, also when it failed (`Failed: 1`).
    ///
    /// # Errors
    /// The delivery's error, after counting it.
    pub fn finish(
        mut self,
        delivered: Result<crate::sink::DeliveryReport, crate::DeliveryError>,
        started: std::time::Instant,
    ) -> Result<Self, crate::DeliveryError> {
        match &delivered {
            Ok(report) => self.delivery.add(report),
            Err(_) => self.failed = 1,
        }
        self.emit(started.elapsed());
        delivered.map(|_| self)
    }

    /// Delivers `docs` through `sink` (none: nothing is sent) and prints the summary line; see
    /// [`InvocationSummary::finish`].
    ///
    /// # Errors
    /// The delivery's error, after counting it.
    pub async fn deliver<S: crate::sink::BulkSink>(
        mut self,
        sink: &S,
        docs: Vec<crate::Document<'_>>,
        deadline: tokio::time::Instant,
        started: std::time::Instant,
    ) -> Result<Self, crate::DeliveryError> {
        if docs.is_empty() {
            self.emit(started.elapsed());
            return Ok(self);
        }
        self.finish(sink.deliver(docs, deadline).await, started)
    }

    /// The invocation's summary line (JSON, EMF).
    #[must_use]
    pub fn line(&self, timestamp_ms: i64) -> String {
        let delivery = &self.delivery;
        let own = [
            count("Indexed", delivery.indexed),
            count("AlreadyPresent", delivery.already_present),
            count("DeadLettered", delivery.dead_lettered),
            count("Retried", delivery.retried),
            count("BulkRequests", delivery.bulk_requests),
            metric("BytesSent", Unit::Bytes, delivery.bytes_sent),
        ];
        let mut metrics = framed(self.received, own, self.duration_ms, self.failed, (self.dropped, &self.dropped_by));
        if !delivery.bulk_latency_ms.is_empty() {
            metrics.push(metric("BulkLatency", Unit::Milliseconds, emf_samples(&delivery.bulk_latency_ms)));
        }
        summary_line(self.dataset, fields_of(self), metrics, timestamp_ms)
    }

    /// Prints the summary line, with the wall time.
    pub fn emit(&mut self, elapsed: Duration) {
        self.duration_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        print(&self.line(now_ms()));
    }
}

/// What one Firehose transformation invocation did, logged once at its end.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TransformationSummary {
    /// The dataset.
    pub dataset: &'static str,
    /// Records received.
    pub received: usize,
    /// Answered `Ok`.
    pub ok: usize,
    /// Answered `Dropped` by a filter or as a control message.
    pub dropped: usize,
    /// Answered `ProcessingFailed`.
    pub failed: usize,
    /// Answered `Dropped` because their parts were re-ingested.
    pub split: usize,
    /// Answered `Dropped` because they did not fit the response and were re-ingested.
    pub overflowed: usize,
    /// Of those, re-ingested without being transformed (the response was full before them).
    pub untransformed: usize,
    /// Records put back into the stream.
    pub reingested: usize,
    /// Record retries of `PutRecordBatch`.
    pub put_retried: usize,
    /// `PutRecordBatch` calls.
    pub put_calls: usize,
    /// The response's serialised size.
    pub response_bytes: usize,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// Records answered `Dropped` on purpose, by rule.
    pub dropped_by: DroppedBy,
    /// 1 when the invocation failed (re-ingestion could not finish: Firehose retries it), else 0.
    pub invocation_failed: usize,
}

impl TransformationSummary {
    /// The transformation's summary line (JSON, EMF).
    #[must_use]
    pub fn line(&self, timestamp_ms: i64) -> String {
        let own = [
            count("Ok", self.ok),
            count("ProcessingFailed", self.failed),
            count("Reingested", self.reingested),
            count("Retried", self.put_retried),
            metric("ResponseBytes", Unit::Bytes, self.response_bytes),
        ];
        let dropped = (self.dropped, &self.dropped_by);
        let metrics = framed(self.received, own, self.duration_ms, self.invocation_failed, dropped);
        summary_line(self.dataset, fields_of(self), metrics, timestamp_ms)
    }

    /// Prints the summary line.
    pub fn emit(&self) {
        print(&self.line(now_ms()));
    }
}

/// Logged once when a whole payload could not be decoded and was dead-lettered. Only the kind: the
/// reason may quote the payload, and is kept in the dead letter.
pub fn payload_undecodable(kind: &'static str) {
    tracing::warn!(error_type = kind, "Payload could not be decoded; dead-lettered.");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::DeliveryReport;

    #[test]
    fn drop_rules_keep_their_names_and_list_alphabetically() {
        let all = [
            DropRule::HeaderLine,
            DropRule::Filter,
            DropRule::EmptyPayload,
            DropRule::DetailType,
            DropRule::ControlMessage,
        ];
        let by: DroppedBy = all.iter().map(|&r| (r, 1)).collect();
        let json = serde_json::to_string(&by).unwrap();
        assert_eq!(json, r#"{"control_message":1,"detail_type":1,"empty_payload":1,"filter":1,"header_line":1}"#);
        for rule in all {
            assert_eq!(serde_json::to_value(rule).unwrap(), rule.as_str());
        }
    }

    fn parsed(summary: &InvocationSummary) -> Value {
        serde_json::from_str(&summary.line(1_700_000_000_000)).unwrap()
    }

    #[test]
    fn bulk_latency_keeps_to_emf_s_hundred_values_with_the_extremes() {
        let with_latencies = |bulk_latency_ms: Vec<u64>| InvocationSummary {
            delivery: DeliveryReport { bulk_latency_ms, ..DeliveryReport::default() },
            ..InvocationSummary::default()
        };
        let summary = with_latencies((1..=250).rev().collect());
        let line = parsed(&summary);
        let values: Vec<u64> = line["BulkLatency"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
        assert_eq!(values.len(), 100);
        assert_eq!((values[0], values[99]), (1, 250), "the fastest and the slowest request are kept");
        assert!(values.windows(2).all(|w| w[0] <= w[1]));
        // Under the limit, every sample is kept as it was.
        let few = with_latencies(vec![5, 3, 9]);
        assert_eq!(parsed(&few)["BulkLatency"], serde_json::json!([5, 3, 9]));
    }

    fn declared(line: &str) -> Vec<String> {
        let line: Value = serde_json::from_str(line).unwrap();
        let declared = line["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().unwrap().clone();
        declared.iter().map(|m| format!("{} {}", m["Name"].as_str().unwrap(), m["Unit"].as_str().unwrap())).collect()
    }

    #[test]
    fn each_summary_declares_its_metrics_in_the_documented_order() {
        let dropped_by: DroppedBy = [(DropRule::Filter, 2), (DropRule::ControlMessage, 1)].into_iter().collect();
        let invocation = InvocationSummary {
            dropped: 3,
            dropped_by: dropped_by.clone(),
            delivery: DeliveryReport { bulk_latency_ms: vec![4], ..DeliveryReport::default() },
            ..InvocationSummary::default()
        };
        let (count, ms, bytes) = (" Count", " Milliseconds", " Bytes");
        let names = |names: &[(&str, &str)]| names.iter().map(|(n, u)| format!("{n}{u}")).collect::<Vec<_>>();
        let framed = |own: &[(&'static str, &'static str)]| {
            let mut all = vec![("RecordsIn", count)];
            all.extend_from_slice(own);
            all.extend([("Duration", ms), ("Failed", count), ("Dropped", count)]);
            all.extend([("Dropped.control_message", count), ("Dropped.filter", count)]);
            all
        };
        let mut bulk = framed(&[
            ("Indexed", count),
            ("AlreadyPresent", count),
            ("DeadLettered", count),
            ("Retried", count),
            ("BulkRequests", count),
            ("BytesSent", bytes),
        ]);
        bulk.push(("BulkLatency", ms));
        assert_eq!(declared(&invocation.line(0)), names(&bulk));
        let transformation = TransformationSummary { dropped: 3, dropped_by, ..TransformationSummary::default() };
        let firehose = framed(&[
            ("Ok", count),
            ("ProcessingFailed", count),
            ("Reingested", count),
            ("Retried", count),
            ("ResponseBytes", bytes),
        ]);
        assert_eq!(declared(&transformation.line(0)), names(&firehose));
    }

    #[test]
    fn a_failed_invocation_says_so() {
        let ok = parsed(&InvocationSummary::default());
        assert_eq!(ok["Failed"], 0);
        let failed = parsed(&InvocationSummary { failed: 1, ..InvocationSummary::default() });
        assert_eq!(failed["Failed"], 1);
        let declared = &failed["_aws"]["CloudWatchMetrics"][0]["Metrics"];
        assert!(declared.as_array().unwrap().iter().any(|m| m["Name"] == "Failed"));
    }
}
