//! The `cloudtrail` function: `CloudTrail` records from a `CloudWatch` Logs subscription, indexed
//! into `OpenSearch` with `eventID` as the document id.
//!
//! Every log event ends as exactly one of: indexed (or already present), or dead-lettered with
//! its raw message and the reason. Control messages are acknowledged and produce nothing.
//!
//! ```
//! use seclog_cloudtrail::transform::Transformer;
//! use seclog_core::document::Origin;
//! use seclog_core::index::{IndexPattern, Rotation};
//! use std::borrow::Cow;
//!
//! let t = Transformer::new(IndexPattern::new("cloudtrail", Rotation::Daily).unwrap());
//! let msg = r#"{"eventID":"e1","eventTime":"2023-07-10T12:00:00Z","eventName":"ConsoleLogin"}"#;
//! let origin = Origin { dataset: "aws.cloudtrail", record_id: Cow::Borrowed("1"), raw: Cow::Borrowed(msg) };
//! let doc = t.transform(msg, origin, "2023-07-10T12:05:00.000Z").unwrap();
//! assert_eq!((doc.index.as_str(), doc.id.as_str()), ("cloudtrail-2023.07.10", "e1"));
//! assert!(String::from_utf8(doc.body).unwrap().contains(r#""ingested":"2023-07-10T12:05:00.000Z""#));
//! ```
#![warn(missing_docs)]

/// The index family the function writes (`<family>-YYYY.MM.DD` unless `INDEX_PREFIX` says
/// otherwise).
pub const FAMILY: &str = "cloudtrail";
/// Every index of the family, as searches and reports name it.
pub const PATTERN: &str = "cloudtrail-*";

pub mod config;
pub mod handler;
pub mod transform;
