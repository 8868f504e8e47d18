//! One entry per fuzz target: `fuzz/fuzz_targets/<name>.rs` calls it with libFuzzer's input, and
//! `tests/fuzz_regressions.rs` replays every saved input of `fixtures/fuzz-regressions/<name>/`
//! through it in the normal test command. Each checks the contracts of
//! `crate::invariants` (or [`eventbridge_invariants`]), which panic when broken.

use std::sync::LazyLock;
use std::time::Duration;

use crate::invariants::{firehose, firehose_event, logs_payload, subscription, subscription_payload};
use seclog_cloudtrail::transform::Transformer;
use seclog_core::envelope::firehose::FirehoseEvent;
use seclog_core::index::Rotation;
use seclog_core::telemetry::InvocationSummary;
use seclog_route53::Route53Transform;
use seclog_vpcflow::{Format, VpcFlowTransform};
use seclog_waf::WafTransform;

/// The `cloudtrail` transform as deployed (daily indices, the pinned enrichment data).
pub static CLOUDTRAIL: LazyLock<Transformer> = LazyLock::new(|| {
    Transformer::new(seclog_core::family!(seclog_cloudtrail::FAMILY, Rotation::Daily)).with_enricher(crate::enricher())
});
/// The `waf` transform.
pub static WAF: LazyLock<WafTransform> = LazyLock::new(|| WafTransform::new(crate::enricher()));
/// The `vpcflow` transform with the default (version 2) format.
pub static VPC: LazyLock<VpcFlowTransform> =
    LazyLock::new(|| VpcFlowTransform::default().with_enricher(crate::enricher()));
/// A custom format: fields of versions 2 to 5 reordered, as a user configures it.
pub static VPC_CUSTOM: LazyLock<VpcFlowTransform> = LazyLock::new(|| {
    let format = "${flow-direction} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${bytes} ${packets} \
                  ${start} ${end} ${action} ${log-status} ${tcp-flags} ${pkt-srcaddr} ${account-id} ${vpc-id}";
    VpcFlowTransform::new(Format::parse(format).unwrap_or_else(|e| unreachable!("{e}")))
        .with_enricher(crate::enricher())
});
/// The `route53` transform (both kinds).
pub static ROUTE53: LazyLock<Route53Transform> =
    LazyLock::new(|| Route53Transform::default().with_enricher(crate::enricher()));

/// A target: one fuzz input in, a panic when a contract breaks.
pub type Target = fn(&[u8]);

/// Every target by name.
pub const TARGETS: &[(&str, Target)] = &[
    ("cloudwatch_envelope", cloudwatch_envelope),
    ("cloudwatch_payload", cloudwatch_payload),
    ("cloudtrail_record", cloudtrail_record),
    ("firehose_request", firehose_request),
    ("waf_records", waf_records),
    ("vpcflow_records", vpcflow_records),
    ("route53_records", route53_records),
    ("eventbridge_event", eventbridge_event),
];

/// Records of one input: separated by 0xFF, a byte UTF-8 text never holds; at most 64.
fn records(data: &[u8]) -> Vec<&[u8]> {
    data.split(|&b| b == 0xFF).take(64).collect()
}

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// The `awslogs.data` text of a subscription event.
pub fn cloudwatch_envelope(data: &[u8]) {
    subscription(&text(data), &*CLOUDTRAIL);
}

/// The decompressed payload of a subscription event (the input is gzip-compressed for it).
pub fn cloudwatch_payload(data: &[u8]) {
    subscription_payload(data, &*CLOUDTRAIL);
}

/// `CloudTrail` records, one per log event of a well-formed payload.
pub fn cloudtrail_record(data: &[u8]) {
    let messages: Vec<String> = records(data).into_iter().map(text).collect();
    subscription_payload(&logs_payload(&messages), &*CLOUDTRAIL);
}

/// A whole Firehose transformation request (JSON), through the `waf` transform.
pub fn firehose_request(data: &[u8]) {
    if let Ok(event) = serde_json::from_slice::<FirehoseEvent>(data) {
        firehose_event(&event, &*WAF);
    }
}

/// WAF records of a Firehose request.
pub fn waf_records(data: &[u8]) {
    firehose(&records(data), &*WAF);
}

/// VPC flow records (lines) of a Firehose request; the first byte picks the default format (even)
/// or the custom one (odd).
pub fn vpcflow_records(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else { return };
    let transform = if pick % 2 == 0 { &*VPC } else { &*VPC_CUSTOM };
    firehose(&records(rest), transform);
}

/// Route 53 records, Resolver (JSON) or public (a line), on both triggers.
pub fn route53_records(data: &[u8]) {
    let parts = records(data);
    firehose(&parts, &*ROUTE53);
    let messages: Vec<String> = parts.into_iter().map(text).collect();
    subscription_payload(&logs_payload(&messages), &*ROUTE53);
}

/// An `EventBridge` event for `securityhub` (the runtime hands over only valid JSON).
pub fn eventbridge_event(data: &[u8]) {
    if let Ok(raw) = serde_json::from_slice::<Box<serde_json::value::RawValue>>(data) {
        eventbridge_invariants(&raw);
    }
}

/// The seed corpus of a target: the recorded fixtures of its source, shaped as its input.
#[must_use]
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    use crate::invariants::fixture_records;
    let envelopes = || {
        crate::inputs("cloudtrail").into_iter().map(|p| {
            let v: serde_json::Value =
                serde_json::from_slice(&std::fs::read(p).unwrap_or_default()).unwrap_or_default();
            v["awslogs"]["data"].as_str().unwrap_or_default().as_bytes().to_vec()
        })
    };
    match target {
        "cloudwatch_envelope" => envelopes().collect(),
        "cloudwatch_payload" => envelopes()
            .filter_map(|d| seclog_core::decode::gunzip_base64(std::str::from_utf8(&d).ok()?, 1 << 24).ok())
            .collect(),
        "cloudtrail_record" => fixture_records("cloudtrail"),
        "firehose_request" => crate::inputs("waf").into_iter().filter_map(|p| std::fs::read(p).ok()).collect(),
        "waf_records" => fixture_records("waf"),
        "vpcflow_records" => fixture_records("vpcflow")
            .into_iter()
            .flat_map(|r| [0_u8, 1].map(|pick| [&[pick][..], &r].concat()))
            .collect(),
        "route53_records" => fixture_records("route53"),
        "eventbridge_event" => fixture_records("securityhub"),
        _ => Vec::new(),
    }
}

/// An `EventBridge` event (any JSON) through the `securityhub` handler into memory: it succeeds;
/// every finding ends as exactly one document (its own or a dead letter) or is dropped by a rule, a
/// whole event that holds no findings is one dead letter or one drop; every body is one line of JSON
/// and every dead letter has a typed reason.
pub fn eventbridge_invariants(event: &serde_json::value::RawValue) -> InvocationSummary {
    use seclog_core::sink::delivery_stream::MemoryRecordSink;
    use seclog_core::sink::MemorySink;
    use seclog_securityhub::config::Config;
    use seclog_securityhub::handler::{process, Delivery, Deps};
    let deps = Deps::<MemorySink, MemoryRecordSink>::new(Delivery::Bulk(MemorySink::new()), Config::default());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let summary = runtime.block_on(process(event, &deps, deadline)).expect("memory sink");
    let Delivery::Bulk(sink) = &deps.delivery else { unreachable!() };
    let (documents, dead_letters) = crate::invariants::bulk_items(&sink.take());
    assert_eq!((summary.delivery.indexed, summary.delivery.dead_lettered), (documents, dead_letters));
    assert_eq!(documents + dead_letters + summary.dropped, summary.received, "{summary:?}");
    assert_eq!(summary.dropped, summary.dropped_by.values().sum::<usize>());
    summary
}
