//! The `EventBridge` event a rule delivers to its Lambda target.
//!
//! `{version, id, detail-type, source, account, time, region, resources, detail}`; see
//! <https://docs.aws.amazon.com/eventbridge/latest/ref/overiew-event-structure.html>. The runtime hands
//! the function the event as raw JSON; [`EventBridgeEvent`] borrows from it and keeps `detail` raw,
//! so a function parses only the part it reads.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

/// An `EventBridge` event, borrowing from its JSON text. Unknown members are ignored; missing ones
/// are empty.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EventBridgeEvent<'a> {
    /// The event's id (unique per event; a retry repeats it).
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// What happened (`Security Hub Findings - Imported`, `GuardDuty Finding`, …).
    #[serde(rename = "detail-type", borrow)]
    pub detail_type: Cow<'a, str>,
    /// The emitting service (`aws.securityhub`, `aws.guardduty`, …).
    #[serde(borrow)]
    pub source: Cow<'a, str>,
    /// The account the event was emitted in.
    #[serde(borrow)]
    pub account: Cow<'a, str>,
    /// When (RFC 3339).
    #[serde(borrow)]
    pub time: Cow<'a, str>,
    /// The region the event was emitted in.
    #[serde(borrow)]
    pub region: Cow<'a, str>,
    /// The service-specific payload, unparsed.
    #[serde(borrow)]
    pub detail: Option<&'a RawValue>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrows_and_keeps_detail_raw() {
        let text = r#"{"version":"0","id":"e1","detail-type":"GuardDuty Finding","source":"aws.guardduty",
            "account":"1","time":"2024-01-01T00:00:00Z","region":"eu-west-1","resources":[],"detail":{"a": [1]},"new":1}"#;
        let e: EventBridgeEvent<'_> = serde_json::from_str(text).unwrap();
        assert_eq!((&*e.id, &*e.detail_type, &*e.source), ("e1", "GuardDuty Finding", "aws.guardduty"));
        assert_eq!(e.detail.unwrap().get(), r#"{"a": [1]}"#);
        let empty: EventBridgeEvent<'_> = serde_json::from_str("{}").unwrap();
        assert!(empty.detail.is_none() && empty.source.is_empty());
    }
}
