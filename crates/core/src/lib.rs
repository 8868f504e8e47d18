//! Shared building blocks of every seclog function.
//!
//! Every function is the same four steps: *decode* the trigger's envelope, *transform* each record
//! into a [`Document`] (pure, in the function crate), *enrich*, and *deliver*. This crate owns the
//! shared steps:
//!
//! - [`decode`]: base64 and capped gzip/zlib decompression, so a decompression bomb is a typed
//!   error and never an out-of-memory.
//! - [`envelope`]: the trigger payloads (`CloudWatch` Logs subscription, Firehose transformation).
//! - [`document`] and [`index`]: what is written where, with deterministic ids.
//! - [`subscription`] and [`firehose`]: the steps every `CloudWatch` Logs subscription function
//!   and every Firehose transformation function share.
//! - [`sink`]: the `OpenSearch` `_bulk` sink with `SigV4`, gzip, chunking, per-item retries and the
//!   dead-letter index.
//! - [`client`]: searches, counts and single-document calls, signed like the sink.
//! - [`config`]: typed configuration read once from the environment.
//!
//! It does not know any log source's schema: that lives in the function crates.
//!
//! ```
//! use seclog_core::index::{IndexPattern, Rotation};
//! let pattern = IndexPattern::new("cloudtrail", Rotation::Daily).unwrap();
//! let t = chrono::DateTime::parse_from_rfc3339("2023-07-10T12:00:00Z").unwrap().to_utc();
//! assert_eq!(pattern.name_for(t), "cloudtrail-2023.07.10");
//! ```
#![warn(missing_docs)]

pub mod client;
pub mod config;
pub mod deadletter;
pub mod decode;
pub mod document;
pub mod ecs;
pub mod envelope;
pub mod error;
pub mod eventbridge;
pub mod firehose;
pub mod index;
pub mod json;
pub mod lambda;
pub mod pipeline;
pub mod sink;
pub mod subscription;
pub mod telemetry;
pub mod time;

pub use document::{Document, WriteOp};
pub use error::{DecodeError, DeliveryError, RecordError, RecordKind};
pub use telemetry::DropRule;
