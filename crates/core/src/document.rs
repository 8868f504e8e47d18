//! The unit of delivery: a JSON body with its index, deterministic id and write operation, plus
//! the raw record it came from (kept for the dead-letter index, never logged).

use std::borrow::Cow;

/// A deterministic id from any text: the first 32 bytes of its SHA-256, in hex (64 characters).
/// Used where a natural id is too long (ARNs, over-long event ids).
#[must_use]
pub fn digest_id(text: &str) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// How a document is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOp {
    /// `create`: a 409 conflict means the document is already there (a redelivery), a success.
    Create,
    /// `index` with `version_type: external`: the higher version wins; a 409 means a newer state
    /// is already there, also a success.
    IndexExternal {
        /// The external version (for example `UpdatedAt` in epoch milliseconds).
        version: u64,
    },
}

impl WriteOp {
    /// The bulk action name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::IndexExternal { .. } => "index",
        }
    }
}

/// One document to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document<'a> {
    /// Target index.
    pub index: String,
    /// Deterministic document id.
    pub id: String,
    /// How to write it.
    pub op: WriteOp,
    /// The serialised JSON body.
    pub body: Vec<u8>,
    /// Where it came from, for dead-lettering.
    pub origin: Origin<'a>,
    /// Whether this is a dead-letter document (built by [`crate::deadletter::DeadLetters`]).
    pub dead_letter: bool,
}

impl<'a> Document<'a> {
    /// A document for its own index; `body` is made [one line](crate::json::single_line).
    #[must_use]
    pub fn new(index: String, id: String, op: WriteOp, mut body: Vec<u8>, origin: Origin<'a>) -> Self {
        crate::json::single_line(&mut body);
        Self { index, id, op, body, origin, dead_letter: false }
    }

    /// The same document, owning its origin (to outlive the bytes it was read from).
    #[must_use]
    pub fn into_owned(self) -> Document<'static> {
        let Origin { dataset, record_id, raw } = self.origin;
        let origin =
            Origin { dataset, record_id: Cow::Owned(record_id.into_owned()), raw: Cow::Owned(raw.into_owned()) };
        Document { origin, index: self.index, id: self.id, op: self.op, body: self.body, dead_letter: self.dead_letter }
    }
}

/// The record a document came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin<'a> {
    /// The dataset (`aws.cloudtrail`, …).
    pub dataset: &'static str,
    /// The record's id within its source (the `CloudWatch` Logs event id, a Firehose record id, …).
    pub record_id: Cow<'a, str>,
    /// The raw record as received.
    pub raw: Cow<'a, str>,
}
