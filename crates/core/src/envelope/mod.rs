//! Trigger envelopes: what AWS hands a function, decoded into records.

pub mod cloudwatch_logs;
pub mod eventbridge;
pub mod firehose;
