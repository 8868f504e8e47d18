//! The document skeleton every function writes before a record's own fields: ECS's `event`,
//! `cloud` and `related` blocks, and the rule that turns a natural id into a document id.
//!
//! Each block writes only what a source knows (absent fields are left out), in one key order for
//! every function, so the same question (`event.outcome: failure`, `cloud.account.id: …`) reads the
//! same in every index family.

use std::borrow::Cow;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::document::digest_id;
use crate::json::{RawObject, ShapeGuard};

/// OpenSearch refuses ids over 512 bytes.
pub const MAX_ID_BYTES: usize = 512;

/// A record's natural id as a document id: itself, or its SHA-256 when it is over
/// [`MAX_ID_BYTES`].
#[must_use]
pub fn natural_id(id: Cow<'_, str>) -> String {
    if id.len() > MAX_ID_BYTES {
        digest_id(&id)
    } else {
        id.into_owned()
    }
}

/// ECS `related.*`: the addresses and user names a document names, to pivot on.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Related<'a> {
    /// The IP addresses (source, destination, client, …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ip: Vec<std::net::IpAddr>,
    /// The user names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub user: Vec<Cow<'a, str>>,
}

impl Related<'_> {
    /// Names nothing (and is not written).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ip.is_empty() && self.user.is_empty()
    }
}

/// ECS `event.*`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Default, Clone, Serialize)]
pub struct Event<'a> {
    /// `aws.cloudtrail`, `aws.waf`, …
    pub dataset: &'static str,
    /// ECS `event.kind` (`alert` for findings).
    pub kind: Option<&'static str>,
    /// The source's own id of the event.
    pub id: Option<Cow<'a, str>>,
    /// What happened (`ConsoleLogin`, `block`, `accept`).
    pub action: Option<Cow<'a, str>>,
    /// The AWS service (`signin.amazonaws.com`).
    pub provider: Option<Cow<'a, str>>,
    /// `success` or `failure`, where the source says.
    pub outcome: Option<&'static str>,
    /// When the function read the record (RFC 3339); empty (not written) for documents Firehose
    /// delivers.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub ingested: &'a str,
}

impl Event<'_> {
    /// An event of `dataset`, nothing else known yet.
    #[must_use]
    pub fn of(dataset: &'static str) -> Self {
        Self { dataset, ..Self::default() }
    }
}

/// ECS `cloud.*`, always `provider: aws`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
pub struct Cloud<'a> {
    /// `aws`.
    pub provider: &'static str,
    /// The account the record belongs to.
    pub account: Option<Account<'a>>,
    /// The region.
    pub region: Option<Cow<'a, str>>,
    /// The instance the record came from (Route 53 Resolver queries).
    pub instance: Option<Instance<'a>>,
}

impl<'a> Cloud<'a> {
    /// AWS, in `account` (left out when absent or empty) and `region`.
    #[must_use]
    pub fn aws(account: Option<Cow<'a, str>>, region: Option<Cow<'a, str>>) -> Self {
        Self {
            provider: "aws",
            account: account.filter(|a| !a.is_empty()).map(|id| Account { id }),
            region,
            instance: None,
        }
    }
}

/// ECS `cloud.account`.
#[derive(Debug, Clone, Serialize)]
pub struct Account<'a> {
    /// The account id.
    pub id: Cow<'a, str>,
}

/// ECS `cloud.instance`.
#[derive(Debug, Clone, Serialize)]
pub struct Instance<'a> {
    /// The instance id.
    pub id: Cow<'a, str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_write_only_what_is_known_in_one_order() {
        let event = Event { id: Some("e1".into()), outcome: Some("failure"), ingested: "t", ..Event::of("aws.x") };
        assert_eq!(
            serde_json::to_string(&event).unwrap(),
            r#"{"dataset":"aws.x","id":"e1","outcome":"failure","ingested":"t"}"#
        );
        assert_eq!(serde_json::to_string(&Cloud::aws(Some("".into()), None)).unwrap(), r#"{"provider":"aws"}"#);
        let cloud = Cloud::aws(Some("111122223333".into()), Some("eu-west-1".into()));
        assert_eq!(
            serde_json::to_string(&cloud).unwrap(),
            r#"{"provider":"aws","account":{"id":"111122223333"},"region":"eu-west-1"}"#
        );
    }

    #[test]
    fn a_document_is_its_head_then_its_derived_block_then_its_own_fields() {
        #[derive(Serialize)]
        struct Derived {
            network: &'static str,
        }
        let record: RawObject<'_> = serde_json::from_str(r#"{"event":"own","b":1}"#).unwrap();
        let head = Head { timestamp: "t".into(), event: Event::of("aws.x"), cloud: Cloud::aws(None, None) };
        let own = OwnFields::of(ShapeGuard(&[]), &record, &["event"], "x");
        let written = Written { head: &head, derived: &Derived { network: "n" }, own };
        assert_eq!(
            serde_json::to_string(&written).unwrap(),
            r#"{"@timestamp":"t","event":{"dataset":"aws.x"},"cloud":{"provider":"aws"},"network":"n","x_event":"own","b":1}"#
        );
    }

    #[test]
    fn ids_over_512_bytes_become_their_digest() {
        assert_eq!(natural_id("e1".into()), "e1");
        let long = "x".repeat(513);
        assert_eq!(natural_id(long.as_str().into()), digest_id(&long));
        assert_eq!(natural_id("y".repeat(512).into()).len(), 512);
    }
}

/// A document as every function writes it: the [`Head`] (`@timestamp`, `event`, `cloud`), then the
/// function's derived block (enrichment, detection: a struct deriving `Serialize`, its absent
/// parts skipped), then the record's own fields. All three are flattened into one JSON object, in
/// that order.
#[derive(Debug, Serialize)]
pub struct Written<'x, 'a, D, F> {
    /// What every document starts with.
    #[serde(flatten)]
    pub head: &'x Head<'a>,
    /// The derived block.
    #[serde(flatten)]
    pub derived: &'x D,
    /// The record's own fields (a map: [`OwnFields`], or a source's own writer).
    #[serde(flatten)]
    pub own: F,
}

/// A record's own fields, as [`ShapeGuard::write_fields`] writes them: each in its order, one the
/// derived block already wrote (one of `reserved`) as `<prefix>_<key>`.
#[derive(Debug, Clone, Copy)]
pub struct OwnFields<'x, 'a> {
    /// The keys the template maps as objects.
    pub guard: ShapeGuard,
    /// The record.
    pub record: &'x RawObject<'a>,
    /// The keys the derived block writes.
    pub reserved: &'x [&'x str],
    /// The prefix of a reserved key kept from the record.
    pub prefix: &'x str,
}

impl<'x, 'a> OwnFields<'x, 'a> {
    /// `record`'s fields, object-mapped keys guarded by `guard`, the `reserved` ones renamed
    /// `<prefix>_<key>`.
    #[must_use]
    pub fn of(guard: ShapeGuard, record: &'x RawObject<'a>, reserved: &'x [&'x str], prefix: &'x str) -> Self {
        Self { guard, record, reserved, prefix }
    }
}

impl Serialize for OwnFields<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(Some(self.record.0.len()))?;
        self.guard.write_fields(&mut map, self.record, self.reserved, self.prefix)?;
        map.end()
    }
}

/// What every document starts with: `@timestamp`, then ECS's `event` and `cloud` blocks
/// ([`Written`] puts it first).
#[derive(Debug, Clone, Serialize)]
pub struct Head<'a> {
    /// The event's time (RFC 3339).
    #[serde(rename = "@timestamp")]
    pub timestamp: String,
    /// ECS `event.*`.
    pub event: Event<'a>,
    /// ECS `cloud.*`.
    pub cloud: Cloud<'a>,
}

impl<'a> Head<'a> {
    /// The head of a document about an event at `time`: `@timestamp` in RFC 3339, UTC, with
    /// milliseconds (`2024-01-01T00:00:00.000Z`), as every family but VPC Flow Logs writes it
    /// (flow logs count in whole seconds, and their head says so).
    #[must_use]
    pub fn at(time: DateTime<Utc>, event: Event<'a>, cloud: Cloud<'a>) -> Self {
        Self { timestamp: time.to_rfc3339_opts(SecondsFormat::Millis, true), event, cloud }
    }
}
