//! The `EventBridge` step, shared by every function an `EventBridge` rule invokes.
//!
//! A function supplies an [`EventBridgeTransform`]: which records an event carries, and one record
//! → one document. [`process`] answers for every record:
//!
//! - an event that is not an `EventBridge` event, or whose records cannot be read, is one dead
//!   letter (the whole event, with the reason);
//! - an event of a kind that carries no records is dropped on purpose, by the rule the transform
//!   names;
//! - each record becomes its document, is dropped by a rule, or is dead-lettered with its reason;
//! - everything is delivered through one [`BulkSink`]; when that fails within the time left, the
//!   invocation fails and Lambda retries it (document ids are deterministic, so that is safe).

use std::borrow::Cow;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::value::RawValue;
use tokio::time::Instant;

use crate::deadletter::{DeadLetters, Failure};
use crate::document::{digest_id, Document, Origin};
use crate::envelope::eventbridge::EventBridgeEvent;
use crate::pipeline::Pipeline;
use crate::sink::BulkSink;
use crate::telemetry::InvocationSummary;
use crate::DropRule;
use crate::RecordKind;
use crate::{DeliveryError, RecordError};

/// The records one event carries.
#[derive(Debug)]
pub enum Records<'e, K> {
    /// These records, all of kind `K` (a format, say).
    Some(K, Vec<&'e RawValue>),
    /// None: an event of a kind that carries no records, dropped on purpose by this rule.
    Skipped(DropRule),
}

/// What became of one record.
#[derive(Debug)]
pub enum Outcome<'e> {
    /// Its document.
    Document(Document<'e>),
    /// Dropped on purpose, by this rule.
    Dropped(DropRule),
}

/// One event's records → documents.
pub trait EventBridgeTransform: Sync {
    /// What the transform needs to know of the records of one event.
    type Kind: Copy;

    /// The dataset of the documents and dead letters.
    fn dataset(&self) -> &'static str;

    /// The records `event` carries.
    ///
    /// # Errors
    /// A [`RecordError`] when they cannot be read: the whole event is dead-lettered.
    fn records<'e>(&self, event: &EventBridgeEvent<'e>) -> Result<Records<'e, Self::Kind>, RecordError>;

    /// One record, read at `ingested` (RFC 3339); `origin` goes into the document as it is.
    ///
    /// # Errors
    /// A [`RecordError`] saying why the record cannot be indexed: it is dead-lettered.
    fn transform<'e>(
        &self,
        kind: Self::Kind,
        record: &'e RawValue,
        origin: Origin<'e>,
        ingested: &str,
    ) -> Result<Outcome<'e>, RecordError>;
}

/// Processes one EventBridge event: an event that is not one, or whose records cannot be found,
/// is dead-lettered whole; each record is indexed, dropped by rule, or dead-lettered alone.
///
/// # Errors
/// A [`DeliveryError`] when the documents could not be delivered before `deadline`: EventBridge
/// (or the Lambda async retry behind it) delivers the event again.
pub async fn process<S: BulkSink, T: EventBridgeTransform>(
    event: &RawValue,
    pipeline: &Pipeline<'_, S, T>,
    deadline: Instant,
) -> Result<InvocationSummary, DeliveryError> {
    let started = std::time::Instant::now();
    let dataset = pipeline.transform.dataset();
    let mut summary = InvocationSummary { dataset, ..InvocationSummary::default() };
    let now = (pipeline.clock)();
    let ingested = now.to_rfc3339_opts(SecondsFormat::Millis, true);
    let whole = |e: &RecordError, id: &str| {
        let record_id = if id.is_empty() { format!("event-{}", digest_id(event.get())) } else { id.to_owned() };
        let origin = Origin { dataset, record_id: Cow::Owned(record_id), raw: Cow::Borrowed(event.get()) };
        dead_letter(pipeline.deadletters, origin, e, now)
    };
    let parsed: Result<EventBridgeEvent<'_>, _> = serde_json::from_str(event.get());
    let docs = match parsed {
        Err(e) => {
            summary.received = 1;
            vec![whole(&RecordError::json(RecordKind::BadEvent, "not an EventBridge event", &e), "")]
        }
        Ok(ev) => match pipeline.transform.records(&ev) {
            Err(e) => {
                summary.received = 1;
                tracing::warn!(error_type = e.kind.as_str(), at = %e.loggable_position(), "Event dead-lettered.");
                vec![whole(&e, &ev.id)]
            }
            Ok(Records::Skipped(rule)) => {
                summary.received = 1;
                summary.drop(rule, 1);
                Vec::new()
            }
            Ok(Records::Some(kind, records)) => {
                summary.received = records.len();
                let mut docs = Vec::with_capacity(records.len());
                for (i, raw) in records.into_iter().enumerate() {
                    let origin = Origin {
                        dataset,
                        record_id: Cow::Owned(format!("{}/{i}", ev.id)),
                        raw: Cow::Borrowed(raw.get()),
                    };
                    match pipeline.transform.transform(kind, raw, origin.clone(), &ingested) {
                        Ok(Outcome::Document(doc)) => docs.push(doc),
                        Ok(Outcome::Dropped(rule)) => summary.drop(rule, 1),
                        Err(e) => docs.push(dead_letter(pipeline.deadletters, origin, &e, now)),
                    }
                }
                docs
            }
        },
    };
    summary.deliver(pipeline.sink, docs, deadline, started).await
}

fn dead_letter<'o>(deadletters: &DeadLetters, origin: Origin<'o>, e: &RecordError, now: DateTime<Utc>) -> Document<'o> {
    deadletters.document(origin, &Failure::of_record(e), now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::WriteOp;
    use crate::sink::MemorySink;

    /// Records are `detail.items[]`; `{"drop":true}` is dropped, `{"bad":true}` refused.
    struct Items;

    impl EventBridgeTransform for Items {
        type Kind = ();

        fn dataset(&self) -> &'static str {
            "test.items"
        }

        fn records<'e>(&self, event: &EventBridgeEvent<'e>) -> Result<Records<'e, ()>, RecordError> {
            if event.detail_type == "Nothing" {
                return Ok(Records::Skipped(DropRule::DetailType));
            }
            let detail = event.detail.ok_or_else(|| RecordError::new(RecordKind::MissingField, "no detail"))?;
            let items: Vec<&'e RawValue> = serde_json::from_str(detail.get())
                .map_err(|e| RecordError::json(RecordKind::BadEvent, "detail is not an array", &e))?;
            Ok(Records::Some((), items))
        }

        fn transform<'e>(
            &self,
            (): (),
            record: &'e RawValue,
            origin: Origin<'e>,
            ingested: &str,
        ) -> Result<Outcome<'e>, RecordError> {
            match record.get() {
                r#"{"drop":true}"# => Ok(Outcome::Dropped(DropRule::Filter)),
                r#"{"bad":true}"# => Err(RecordError::new(RecordKind::BadRecord, "refused")),
                body => {
                    let body = format!(r#"{{"item":{body},"ingested":"{ingested}"}}"#).into_bytes();
                    let id = origin.record_id.to_string();
                    Ok(Outcome::Document(Document::new("items".into(), id, WriteOp::Create, body, origin)))
                }
            }
        }
    }

    fn run(event: &str) -> (InvocationSummary, String) {
        let sink = MemorySink::new();
        let deadletters = DeadLetters::new("seclog").unwrap();
        let clock = || DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let pipeline = Pipeline { sink: &sink, transform: &Items, deadletters: &deadletters, clock };
        let raw = RawValue::from_string(event.to_owned()).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        let deadline = Instant::now() + std::time::Duration::from_secs(5);
        let summary = runtime.block_on(process(&raw, &pipeline, deadline)).unwrap();
        (summary, String::from_utf8(sink.take()).unwrap())
    }

    #[test]
    fn every_record_is_indexed_dropped_by_a_rule_or_dead_lettered() {
        let (s, bulk) =
            run(r#"{"id":"e1","detail-type":"Items","source":"x","detail":[{"a":1},{"drop":true},{"bad":true}]}"#);
        assert_eq!((s.received, s.delivery.indexed, s.dropped, s.delivery.dead_lettered), (3, 1, 1, 1));
        assert_eq!(s.dropped_by.get(&DropRule::Filter), Some(&1));
        assert!(bulk.contains(r#"{"item":{"a":1},"ingested":"2023-11-14T22:13:20.000Z"}"#), "{bulk}");
        assert!(bulk.contains(r#""error_type":"bad_record""#) && bulk.contains(r#""record_id":"e1/2""#), "{bulk}");
    }

    #[test]
    fn a_whole_event_is_dropped_by_its_rule_or_dead_lettered_once() {
        let (s, bulk) = run(r#"{"id":"e2","detail-type":"Nothing","source":"x"}"#);
        assert_eq!((s.received, s.dropped, s.delivery.dead_lettered), (1, 1, 0));
        assert!(bulk.is_empty());
        let (s, bulk) = run(r#"{"id":"e3","detail-type":"Items","source":"x","detail":{"not":"an array"}}"#);
        assert_eq!((s.received, s.delivery.dead_lettered), (1, 1));
        assert!(bulk.contains(r#""error_type":"bad_event""#), "{bulk}");
        let (s, bulk) = run("[1, 2]");
        assert_eq!((s.received, s.delivery.dead_lettered), (1, 1));
        assert!(bulk.contains(r#""record_id":"event-"#), "named by the event's digest: {bulk}");
    }
}
