//! The plain baseline of the Security Hub bench: parse the event, one `serde_json::Value` per
//! finding, serialise as bulk NDJSON. Shared by the criterion bench and the instruction-count example.

use serde_json::value::RawValue;
use serde_json::{json, Value};

/// Plain parse + serialise of `event`.
pub(crate) fn plain(event: &RawValue) -> Vec<u8> {
    let v: Value = serde_json::from_str(event.get()).unwrap();
    let mut out = Vec::new();
    for f in v["detail"]["findings"].as_array().unwrap() {
        serde_json::to_writer(&mut out, &json!({"index": {"_index": "securityhub", "_id": f["Id"]}})).unwrap();
        out.push(b'\n');
        serde_json::to_writer(&mut out, f).unwrap();
        out.push(b'\n');
    }
    out
}
