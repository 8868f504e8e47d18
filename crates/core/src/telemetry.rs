//! Named telemetry events. Nothing per record at INFO; one summary per invocation; ERROR only
//! for data loss; never a payload.

use std::time::Duration;

use serde::Serialize;

/// What one invocation did, logged once at its end.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InvocationSummary {
    /// The dataset (`aws.cloudtrail`, …).
    pub dataset: &'static str,
    /// Records received (log events, Firehose records, findings).
    pub received: usize,
    /// Documents newly written.
    pub indexed: usize,
    /// Documents already present (409 on `create`, or a stale external version).
    pub already_present: usize,
    /// Records dropped on purpose by a documented filter (control messages, filters).
    pub dropped: usize,
    /// Records written to the dead-letter index.
    pub dead_lettered: usize,
    /// Item retries made.
    pub retried: usize,
    /// Bulk requests sent.
    pub bulk_requests: usize,
    /// Bytes of bulk bodies sent (before compression).
    pub bytes_sent: usize,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
}

impl InvocationSummary {
    /// Takes what a delivery did.
    pub fn add_delivery(&mut self, report: &crate::sink::DeliveryReport) {
        self.indexed += report.indexed;
        self.already_present += report.already_present;
        self.dead_lettered += report.dead_lettered;
        self.retried += report.retried;
        self.bulk_requests += report.bulk_requests;
        self.bytes_sent += report.bytes_sent;
    }

    /// Logs the summary as one structured line.
    pub fn emit(&self, elapsed: Duration) {
        let duration_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        tracing::info!(
            dataset = self.dataset,
            received = self.received,
            indexed = self.indexed,
            already_present = self.already_present,
            dropped = self.dropped,
            dead_lettered = self.dead_lettered,
            retried = self.retried,
            bulk_requests = self.bulk_requests,
            bytes_sent = self.bytes_sent,
            duration_ms,
            "Invocation summary."
        );
    }
}

/// Logged once when a whole payload could not be decoded and was dead-lettered.
pub fn payload_undecodable(kind: &'static str, reason: &dyn std::fmt::Display) {
    tracing::warn!(error_type = kind, reason = %reason, "Payload could not be decoded; dead-lettered.");
}
