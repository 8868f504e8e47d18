//! One record's step: decoded, unwrapped from a subscription envelope, transformed, and charged
//! to the invocation's budget, before the response is fitted.

use chrono::DateTime;

use super::{RecordContext, RecordTransform, Settings, Transformed};
use crate::envelope::cloudwatch_logs::{self, MessageType};
use crate::envelope::firehose::FirehoseRecord;
use crate::DropRule;
use crate::RecordKind;
use crate::{decode, RecordError};

/// A record's outcome before the response is fitted.
pub(super) enum Step {
    Ok(Vec<u8>),
    Dropped(DropRule),
    Failed(RecordError),
    Split(Vec<Vec<u8>>),
    /// Not transformed: the response was full before it; put back as it came.
    Deferred,
}

/// A record's original bytes and its step, charged to `budget`. A record whose decompression
/// stops at what the invocation has left (not at `MAX_DECODED_BYTES`) fails as `invocation_budget`.
pub(super) fn record_step<T: RecordTransform>(
    record: &FirehoseRecord,
    transform: &T,
    settings: &Settings,
    budget: &mut Budget,
) -> (Vec<u8>, Step) {
    let bytes = match decode::base64(&record.data) {
        Ok(bytes) => bytes,
        Err(e) => return (Vec::new(), Step::Failed(RecordError::new(e.kind(), e.to_string()))),
    };
    let context =
        RecordContext { arrival: record.approximate_arrival_timestamp.and_then(DateTime::from_timestamp_millis) };
    // One record's decompression may not take more than the invocation has left.
    let left = budget.bytes.saturating_sub(bytes.len()).max(1024);
    let capped = Settings { max_decoded_bytes: settings.max_decoded_bytes.min(left), ..*settings };
    let step = match step_of(&bytes, transform, &capped, &context) {
        Step::Failed(e) if e.kind == RecordKind::TooLarge && left < settings.max_decoded_bytes => {
            // It needs at least one byte more than is left.
            Step::Failed(budget.spent(bytes.len(), left + 1, 0))
        }
        step => step,
    };
    let step = budget.charge(bytes.len(), step);
    (bytes, step)
}

pub(super) fn step_of<T: RecordTransform>(
    bytes: &[u8],
    transform: &T,
    settings: &Settings,
    context: &RecordContext,
) -> Step {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return envelope_step(bytes, transform, settings, context);
    }
    transformed(transform.transform(bytes, context))
}

pub(super) fn transformed(result: Result<Transformed, RecordError>) -> Step {
    match result {
        Ok(Transformed::Document { mut body, .. }) => {
            crate::json::single_line(&mut body);
            Step::Ok(body)
        }
        Ok(Transformed::Split(parts)) => Step::Split(parts),
        Ok(Transformed::Drop(rule)) => Step::Dropped(rule),
        Err(e) => Step::Failed(e),
    }
}

/// A `CloudWatch` Logs subscription payload inside a Firehose record.
pub(super) fn envelope_step<T: RecordTransform>(
    bytes: &[u8],
    transform: &T,
    settings: &Settings,
    context: &RecordContext,
) -> Step {
    let json = match decode::decompress_capped(bytes, settings.max_decoded_bytes) {
        Ok(json) => json,
        Err(e) => return Step::Failed(RecordError::new(e.kind(), e.to_string())),
    };
    let payload = match cloudwatch_logs::parse(&json) {
        Ok(payload) => payload,
        Err(e) => return Step::Failed(RecordError::new(e.kind(), e.to_string())),
    };
    match payload.message_type {
        MessageType::DataMessage => {}
        MessageType::ControlMessage => return Step::Dropped(DropRule::ControlMessage),
        MessageType::Unknown => {
            let e = crate::DecodeError::UnknownMessageType;
            return Step::Failed(RecordError::new(e.kind(), e.to_string()));
        }
    }
    match payload.log_events.as_slice() {
        [] => Step::Dropped(DropRule::EmptyPayload),
        [one] => {
            // The log event's own time is better than the record's arrival.
            let context = RecordContext { arrival: DateTime::from_timestamp_millis(one.timestamp).or(context.arrival) };
            transformed(transform.transform(one.message.as_bytes(), &context))
        }
        many => Step::Split(many.iter().map(|e| e.message.as_bytes().to_vec()).collect()),
    }
}

/// What the invocation may still hold ([`Settings::max_invocation_bytes`],
/// [`Settings::max_invocation_parts`]).
pub(super) struct Budget {
    pub(super) bytes: usize,
    pub(super) parts: usize,
}

impl Budget {
    /// Why a record that needs `original + held` bytes and `parts` parts does not fit.
    fn spent(&self, original: usize, held: usize, parts: usize) -> RecordError {
        let bytes = original + held;
        let reason = format!(
            "the invocation's budget is spent ({} bytes and {} parts left; this record needs {bytes} and {parts}): \
             MAX_INVOCATION_BYTES, MAX_INVOCATION_PARTS",
            self.bytes, self.parts
        );
        RecordError::new(RecordKind::InvocationBudget, reason)
    }

    /// Charges a record's original and its step's output, or fails the record when they do not fit
    /// (its output is dropped at once). A split part larger than one Firehose record fails its
    /// record too: the stream would refuse it, and with it the whole re-ingestion.
    fn charge(&mut self, original: usize, step: Step) -> Step {
        let (held, parts) = match &step {
            Step::Ok(doc) => (doc.len(), 0),
            Step::Split(parts) => {
                if let Some(big) = parts.iter().find(|p| p.len() > crate::sink::delivery_stream::MAX_RECORD_BYTES) {
                    let reason = format!(
                        "a log event of {} bytes is larger than one Firehose record ({} bytes)",
                        big.len(),
                        crate::sink::delivery_stream::MAX_RECORD_BYTES
                    );
                    return Step::Failed(RecordError::new(RecordKind::PartTooLarge, reason));
                }
                (parts.iter().map(Vec::len).sum(), parts.len())
            }
            Step::Dropped(_) | Step::Failed(_) | Step::Deferred => (0, 0),
        };
        let bytes = original + held;
        if bytes > self.bytes || parts > self.parts {
            return Step::Failed(self.spent(original, held, parts));
        }
        self.bytes -= bytes;
        self.parts -= parts;
        step
    }
}
