//! VPC Flow Logs, delivered by Firehose, into documents for `OpenSearch`.
//!
//! Each record is one flow-log line in the flow log's format: the default version-2 format, or a
//! custom format of any version's fields given by `VPC_FLOW_LOG_FORMAT` (the flow log's own format
//! string, `${version} ${vpc-id} …`) or by a header line inside the record (as in S3 files). A
//! record with several lines is split into one record per line (each keeps the header line, if
//! it had one); a record with only a header line is dropped. A record may also be a `CloudWatch`
//! Logs subscription payload (flow logs published to `CloudWatch` Logs): the shared Firehose
//! step splits it.
//!
//! Each line becomes one document: the fields under their own (hyphenated) names, `-` left out,
//! numbers as numbers, `start`/`end` as ISO-8601 dates, and an ECS block: `@timestamp` (= `start`,
//! else `end`, else the record's arrival), `event.action`/`event.outcome`, `source.*` and
//! `destination.*` (ip, port, address class), `network.*` (IANA number, transport name, bytes,
//! packets, direction), `cloud.*`, and `vpcflow.tcp_flags` (the names of the bits of
//! `tcp-flags`). A field name this crate does not know is kept as a string.
//!
//! `network.direction` is `flow-direction` when the format has it (`ingress`/`egress`), else
//! derived from the address classes: private → public is `egress`, public → private `ingress`,
//! private → private `internal`, public → public `external`.

pub mod config;
mod format;
pub mod handler;
mod transform;

/// The index family Firehose writes the documents to (the stream's destination).
pub const FAMILY: &str = "vpcflow";
/// Every index of the family, as searches and reports name it.
pub const PATTERN: &str = "vpcflow-*";

pub use format::{is_header, Format, FormatError, DEFAULT_FORMAT};
pub use transform::{VpcFlowTransform, DATASET};
