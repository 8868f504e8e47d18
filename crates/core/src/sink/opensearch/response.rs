//! The `_bulk` response: one result per item, in request order.

use std::collections::HashMap;

use serde::Deserialize;

/// The parts of a `_bulk` response we use.
#[derive(Debug, Deserialize)]
pub struct BulkResponse {
    /// True when at least one item failed.
    #[serde(default)]
    pub errors: bool,
    /// One entry per item: `{"create": {...}}` or `{"index": {...}}`.
    pub items: Vec<HashMap<String, ItemResult>>,
}

/// One item's result.
#[derive(Debug, Clone, Deserialize)]
pub struct ItemResult {
    /// The item's HTTP status.
    pub status: u16,
    /// The error, when the item failed.
    #[serde(default)]
    pub error: Option<ItemError>,
}

/// An item's error.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ItemError {
    /// For example `mapper_parsing_exception` or `version_conflict_engine_exception`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The server's explanation.
    pub reason: Option<String>,
}

/// The `error.type` of an `OpenSearch` error body (`{"error": {"type": …}, "status": …}`), or `""`.
#[must_use]
pub fn error_type(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Body {
        error: Error,
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Error {
        Typed {
            #[serde(rename = "type")]
            kind: String,
        },
        Other(serde::de::IgnoredAny),
    }
    match serde_json::from_slice::<Body>(body) {
        Ok(Body { error: Error::Typed { kind } }) => kind,
        _ => String::new(),
    }
}

impl BulkResponse {
    /// Parses a response body.
    ///
    /// # Errors
    /// When the body is not a bulk response.
    pub fn parse(body: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(body)
    }

    /// The item results in order (each map holds exactly one action).
    pub fn results(self) -> impl Iterator<Item = Option<ItemResult>> {
        self.items.into_iter().map(|m| m.into_values().next())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_types_of_error_bodies() {
        let block = br#"{"error":{"root_cause":[],"type":"cluster_block_exception","reason":"x"},"status":403}"#;
        assert_eq!(error_type(block), "cluster_block_exception");
        assert_eq!(error_type(br#"{"error":"plain text","status":500}"#), "");
        assert_eq!(error_type(br#"{"Message":"User: anonymous is not authorized"}"#), "");
        assert_eq!(error_type(b"<html>"), "");
    }
}
