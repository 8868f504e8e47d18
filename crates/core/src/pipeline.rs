//! What the steps that write documents themselves (the `CloudWatch` Logs subscription and
//! `EventBridge` steps) work with. The Firehose step answers Firehose instead.

use chrono::{DateTime, Utc};

use crate::deadletter::DeadLetters;

/// Where a step's documents go, how it makes them, and its clock.
#[derive(Debug, Clone, Copy)]
pub struct Pipeline<'d, S, T> {
    /// Where documents go.
    pub sink: &'d S,
    /// Message or record → document.
    pub transform: &'d T,
    /// Dead-letter documents for what cannot be indexed.
    pub deadletters: &'d DeadLetters,
    /// When the function reads an event: `event.ingested` of the documents it writes itself, and
    /// the time of its dead letters (fixed in golden tests).
    pub clock: fn() -> DateTime<Utc>,
}
