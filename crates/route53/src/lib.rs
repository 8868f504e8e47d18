//! Route 53 query logs into documents for `OpenSearch`: Resolver (VPC DNS) query logs and public
//! hosted-zone query logs, by one `route53` function that chooses by the shape of what it receives.
//!
//! | trigger | kind | delivery | document id |
//! |---|---|---|---|
//! | Firehose transformation request | Resolver (JSON) | the delivery stream | Firehose's |
//! | `CloudWatch` Logs subscription | public (text line), or Resolver (JSON) | `_bulk` into `route53-public-*` / `route53-resolver-*` | the log event id |
//!
//! Each record's kind is read from its own shape: a JSON object is a Resolver query log, a line
//! is a public query log (`version timestamp hosted-zone-id query-name query-type response-code
//! protocol edge-location resolver-ip edns-client-subnet`). Every document keeps the record's own
//! fields under their own names (a public line's fields named as above, `-` left out) and adds:
//!
//! - `@timestamp` from `query_timestamp` (RFC 3339, or `YYYY-MM-DD HH:MM:SS` as UTC);
//! - `dns.question.{name, type, class, registered_domain, top_level_domain, subdomain,
//!   label_count, first_label.{length, entropy}}` (see [`dns`]), `dns.response_code`,
//!   `dns.answers[]` and `dns.resolved_ip` (Resolver logs);
//! - `source.*`: the VPC client (`srcaddr`, `srcport`) or the public resolver (`resolver_ip`),
//!   with its address class and, for public addresses, GeoIP/ASN/AWS-range enrichment;
//!   `client.*`: the EDNS client subnet of a public query, looked up by its network address;
//! - `cloud.{account.id, region, instance.id}`, `network.{transport, iana_number, protocol}`,
//!   `event.dataset` (`aws.route53_resolver` / `aws.route53_public`) and `event.action` (the DNS
//!   Firewall action, when a rule matched).
//!
//! Bad records: a line without exactly 10 fields is `bad_line`; a date that does not parse is
//! `bad_timestamp`; a Resolver log without `query_name` is `missing_field`; JSON that is not a
//! query log, or text that does not start with a version number, is `unknown_record`. They are
//! dead-lettered (`CloudWatch` Logs) or answered `ProcessingFailed` (Firehose). An event that is
//! neither trigger's is refused with a clear error.
#![warn(missing_docs)]

/// The index family of Resolver query logs.
pub const RESOLVER_FAMILY: &str = "route53-resolver";
/// The index family of public hosted-zone query logs.
pub const PUBLIC_FAMILY: &str = "route53-public";
/// Both families, as searches and reports name them.
pub const PATTERN: &str = "route53-*";

pub mod config;
pub mod dns;
pub mod handler;
mod transform;

pub use transform::{is_query_log, Kind, Route53Transform, DATASET, PUBLIC_DATASET, PUBLIC_FIELDS, RESOLVER_DATASET};
