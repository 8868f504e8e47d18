//! Dead-letter documents: a record that cannot be indexed is written, with its raw payload and
//! the reason, to `<prefix>-deadletter-YYYY.MM`, under an id derived from its source and record id
//! so that a redelivery never grows the dead-letter index.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::document::{Document, Origin, WriteOp};
use crate::index::{IndexNameError, IndexPattern, Rotation};

/// The largest raw payload kept in a dead-letter document; longer ones are cut (and flagged).
pub const MAX_RAW_BYTES: usize = 1024 * 1024;

/// Builds dead-letter documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetters {
    pattern: IndexPattern,
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "@timestamp")]
    timestamp: String,
    event: Event<'a>,
    deadletter: Detail<'a>,
}

#[derive(Serialize)]
struct Event<'a> {
    dataset: &'static str,
    original_dataset: &'a str,
}

#[derive(Serialize)]
struct Detail<'a> {
    record_id: &'a str,
    intended_index: Option<&'a str>,
    error_type: &'a str,
    reason: &'a str,
    status: Option<u16>,
    raw: &'a str,
    raw_truncated: bool,
}

/// Why a record is dead-lettered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure<'a> {
    /// A short stable name (`mapper_parsing_exception`, `bad_json`, …).
    pub error_type: &'a str,
    /// The reason, as the transform or the server gave it.
    pub reason: &'a str,
    /// The HTTP status of the item, when the server refused it.
    pub status: Option<u16>,
    /// The index the document was meant for, when there was one.
    pub intended_index: Option<&'a str>,
}

impl<'a> Failure<'a> {
    /// A failure of our own (not the server's): its kind and reason, no status, no index.
    #[must_use]
    pub fn of(error_type: &'a str, reason: &'a str) -> Self {
        Self { error_type, reason, status: None, intended_index: None }
    }

    /// A record the transform refused: its kind and reason, no status, no index.
    #[must_use]
    pub fn of_record(error: &'a crate::RecordError) -> Self {
        Self::of(error.kind.as_str(), &error.reason)
    }
}

/// `seclog-deadletter-YYYY.MM`, the default.
impl Default for DeadLetters {
    fn default() -> Self {
        Self { pattern: crate::family!("seclog-deadletter", Rotation::Monthly) }
    }
}

impl DeadLetters {
    /// Dead letters go to `<prefix>-deadletter-YYYY.MM`.
    ///
    /// # Errors
    /// When the prefix is not a valid index name.
    pub fn new(prefix: &str) -> Result<Self, IndexNameError> {
        Ok(Self { pattern: IndexPattern::new(&format!("{prefix}-deadletter"), Rotation::Monthly)? })
    }

    /// The deterministic id for a record: a digest of its dataset and record id.
    #[must_use]
    pub fn id_for(origin: &Origin<'_>) -> String {
        let mut h = Sha256::new();
        h.update(origin.dataset.as_bytes());
        h.update([0]);
        h.update(origin.record_id.as_bytes());
        hex::encode(&h.finalize()[..16])
    }

    /// The dead-letter document for `origin`, failed at `now`.
    #[must_use]
    pub fn document<'a>(&self, origin: Origin<'a>, failure: &Failure<'_>, now: DateTime<Utc>) -> Document<'a> {
        let (raw, raw_truncated) = truncate(&origin.raw, MAX_RAW_BYTES);
        let body = Body {
            timestamp: now.to_rfc3339_opts(SecondsFormat::Millis, true),
            event: Event { dataset: "seclog.deadletter", original_dataset: origin.dataset },
            deadletter: Detail {
                record_id: &origin.record_id,
                intended_index: failure.intended_index,
                error_type: failure.error_type,
                reason: failure.reason,
                status: failure.status,
                raw,
                raw_truncated,
            },
        };
        // Serialising plain strings and numbers cannot fail.
        let body = serde_json::to_vec(&body).unwrap_or_default();
        let id = Self::id_for(&origin);
        Document { index: self.pattern.name_for(now), id, op: WriteOp::Create, body, origin, dead_letter: true }
    }
}

fn truncate(s: &str, max: usize) -> (&str, bool) {
    if s.len() <= max {
        return (s, false);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    (&s[..end], true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn origin(id: &str) -> Origin<'static> {
        Origin { dataset: "aws.cloudtrail", record_id: Cow::Owned(id.into()), raw: Cow::Borrowed("not json") }
    }

    #[test]
    fn the_default_is_the_seclog_prefix_and_bad_prefixes_say_why() {
        assert_eq!(DeadLetters::default(), DeadLetters::new("seclog").unwrap());
        assert_eq!(DeadLetters::new("Seclog"), Err(IndexNameError::Character('S')));
        assert_eq!(DeadLetters::new("_x"), Err(IndexNameError::Start));
    }

    #[test]
    fn ids_are_deterministic_and_distinct() {
        assert_eq!(DeadLetters::id_for(&origin("1")), DeadLetters::id_for(&origin("1")));
        assert_ne!(DeadLetters::id_for(&origin("1")), DeadLetters::id_for(&origin("2")));
    }

    #[test]
    fn document_shape() {
        let dl = DeadLetters::new("seclog").unwrap();
        let now = DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z").unwrap().to_utc();
        let f = Failure { error_type: "bad_json", reason: "expected value", status: None, intended_index: None };
        let doc = dl.document(origin("1"), &f, now);
        assert_eq!(doc.index, "seclog-deadletter-2026.11");
        let v: serde_json::Value = serde_json::from_slice(&doc.body).unwrap();
        assert_eq!(v["deadletter"]["raw"], "not json");
        assert_eq!(v["deadletter"]["error_type"], "bad_json");
        assert_eq!(v["@timestamp"], "2026-11-23T10:00:00.000Z");
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate("héllo", 2), ("h", true));
        assert_eq!(truncate("hé", 10), ("hé", false));
    }
}
