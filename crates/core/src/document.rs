//! The unit of delivery: a JSON body with its index, deterministic id and write operation, plus
//! the raw record it came from (kept for the dead-letter index, never logged).

use std::borrow::Cow;

/// A deterministic id from any text: the first 32 bytes of its SHA-256, in hex (64 characters).
/// Used where a natural id is too long (ARNs, over-long event ids).
#[must_use]
pub fn digest_id(text: &str) -> String {
    use sha2::Digest as _;
    hex_of(&sha2::Sha256::digest(text.as_bytes()).into())
}

/// A digest in lowercase hex (`hex::encode` goes through an iterator of chars, one at a time).
fn hex_of(digest: &[u8; 32]) -> String {
    let mut text = [0_u8; 64];
    // 64 bytes for 32, and hex is ASCII: neither can fail.
    let _ = hex::encode_to_slice(digest, &mut text);
    std::str::from_utf8(&text).unwrap_or_default().to_owned()
}

/// The [`digest_id`]s of many texts that share a prefix (the records of one S3 object): the
/// prefix is hashed once, and each id hashes only what follows it. `DigestIds::new(p).id(s)` is
/// `digest_id(&format!("{p}{s}"))`.
#[derive(Clone)]
pub struct DigestIds(sha2::Sha256);

impl DigestIds {
    /// Ids of texts starting with `prefix`.
    #[must_use]
    pub fn new(prefix: &str) -> Self {
        use sha2::Digest as _;
        Self(sha2::Sha256::new_with_prefix(prefix.as_bytes()))
    }

    /// The id of the prefix followed by `suffix`.
    #[must_use]
    pub fn id(&self, suffix: impl std::fmt::Display) -> String {
        use sha2::Digest as _;
        struct Hashing(sha2::Sha256);
        impl std::fmt::Write for Hashing {
            fn write_str(&mut self, s: &str) -> std::fmt::Result {
                self.0.update(s.as_bytes());
                Ok(())
            }
        }
        let mut hashing = Hashing(self.0.clone());
        // Writing into a hash cannot fail.
        let _ = std::fmt::Write::write_fmt(&mut hashing, format_args!("{suffix}"));
        hex_of(&hashing.0.finalize().into())
    }
}

impl std::fmt::Debug for DigestIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DigestIds")
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_id_is_the_texts_sha256_in_lowercase_hex() {
        // FIPS 180-2's example for "abc".
        assert_eq!(digest_id("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn ids_of_a_shared_prefix_are_the_digests_of_the_whole_texts() {
        let ids = DigestIds::new("bucket\0AWSLogs/111122223333/vpcflowlogs/x.log.gz\0v1\0");
        for n in [0_usize, 7, 4096, usize::MAX] {
            let whole = format!("bucket\0AWSLogs/111122223333/vpcflowlogs/x.log.gz\0v1\0{n}");
            assert_eq!(ids.id(n), digest_id(&whole));
        }
        assert_eq!(DigestIds::new("").id("abc"), digest_id("abc"));
        // A prefix longer than SHA-256's 64-byte block.
        let long = "k".repeat(200);
        assert_eq!(DigestIds::new(&long).id("#1"), digest_id(&format!("{long}#1")));
    }
}
