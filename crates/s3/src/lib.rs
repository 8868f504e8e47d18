//! AWS logs delivered to S3 into documents for `OpenSearch`.
//!
//! Most organisations send CloudTrail (an organisation trail), VPC Flow Logs, WAF logs, Route 53
//! Resolver query logs and load-balancer access logs to S3. This crate reads such objects with
//! the transforms of each family:
//!
//! - [`layout`]: which log an object holds, from the key layout AWS writes (or the user's rules);
//!   a key of no known layout is never guessed.
//! - [`transform`]: an object streamed, gunzipped with a cap, record by record, each record through
//!   its family's transform; a record that cannot be read is dead-lettered alone (bucket, key,
//!   record number, raw text, reason) and the rest of the object is indexed.
//! - [`alb`]: Application Load Balancer access logs, the `alb-*` family.
//!
//! Ids are deterministic: a CloudTrail record's `eventID` (so a trail delivered to both S3 and
//! CloudWatch Logs is one document per event), otherwise a digest of bucket, key, version and
//! record number.

pub mod alb;
pub mod config;
pub mod handler;
pub mod layout;
pub mod notification;
pub mod stream;
pub mod transform;
mod window;

pub use transform::{ALB_FAMILY, ALB_PATTERN};
