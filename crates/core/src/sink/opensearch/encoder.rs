//! Bulk NDJSON encoding: an action line, the document, a newline, straight into the buffer.
//!
//! The action line names no `_index`: each request goes to `POST /<index>/_bulk` with documents of
//! that index only, so IAM policies on index patterns hold (an explicit `_index` in the body would
//! escape them) and domains with `rest.action.multi.allow_explicit_index: false` accept it.

use serde::Serialize;

use crate::document::{Document, WriteOp};

/// Where the action line says the document goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexIn {
    /// In the request's URL (`POST /<index>/_bulk`): what is sent to a cluster.
    Url,
    /// In the action line's `_index`: a record of where each document goes ([`crate::sink::MemorySink`]).
    ActionLine,
}

#[serde_with::skip_serializing_none]
#[derive(Serialize)]
struct Meta<'a> {
    #[serde(rename = "_index")]
    index: Option<&'a str>,
    #[serde(rename = "_id")]
    id: &'a str,
    version: Option<u64>,
    version_type: Option<&'static str>,
}

/// Appends one item (action line and body) to `buf`.
pub fn encode_item(buf: &mut Vec<u8>, doc: &Document<'_>, index_in: IndexIn) {
    let (version, version_type) = match doc.op {
        WriteOp::Create => (None, None),
        WriteOp::IndexExternal { version } => (Some(version), Some("external")),
    };
    buf.extend_from_slice(b"{\"");
    buf.extend_from_slice(doc.op.as_str().as_bytes());
    buf.extend_from_slice(b"\":");
    // Writing plain strings and numbers into a Vec cannot fail.
    let _ = serde_json::to_writer(
        &mut *buf,
        &Meta {
            index: (index_in == IndexIn::ActionLine).then_some(doc.index.as_str()),
            id: &doc.id,
            version,
            version_type,
        },
    );
    buf.extend_from_slice(b"}\n");
    buf.extend_from_slice(&doc.body);
    buf.push(b'\n');
}

/// The encoded size of one item, for chunking (an upper bound for either [`IndexIn`]).
#[must_use]
pub fn item_len(doc: &Document<'_>) -> usize {
    // `{"create":{"_index":"…","_id":"…"}}` plus the body and two newlines; ids and index names
    // need no escaping, external versions add at most 64 bytes.
    40 + doc.index.len() + doc.id.len() + doc.body.len() + if doc.op == WriteOp::Create { 0 } else { 64 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Origin;
    use std::borrow::Cow;

    fn doc(op: WriteOp) -> Document<'static> {
        let origin = Origin { dataset: "t", record_id: Cow::Borrowed("r"), raw: Cow::Borrowed("") };
        Document::new("i-1".into(), "abc".into(), op, br#"{"a":1}"#.to_vec(), origin)
    }

    #[test]
    fn exact_ndjson() {
        let mut buf = Vec::new();
        encode_item(&mut buf, &doc(WriteOp::Create), IndexIn::ActionLine);
        assert_eq!(String::from_utf8(buf).unwrap(), "{\"create\":{\"_index\":\"i-1\",\"_id\":\"abc\"}}\n{\"a\":1}\n");
        let mut buf = Vec::new();
        encode_item(&mut buf, &doc(WriteOp::Create), IndexIn::Url);
        encode_item(&mut buf, &doc(WriteOp::IndexExternal { version: 7 }), IndexIn::Url);
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            concat!(
                "{\"create\":{\"_id\":\"abc\"}}\n{\"a\":1}\n",
                "{\"index\":{\"_id\":\"abc\",\"version\":7,\"version_type\":\"external\"}}\n{\"a\":1}\n",
            )
        );
    }

    #[test]
    fn item_len_is_an_upper_bound() {
        for op in [WriteOp::Create, WriteOp::IndexExternal { version: u64::MAX }] {
            for index_in in [IndexIn::Url, IndexIn::ActionLine] {
                let mut buf = Vec::new();
                encode_item(&mut buf, &doc(op), index_in);
                assert!(buf.len() <= item_len(&doc(op)), "{op:?}");
            }
        }
    }
}
