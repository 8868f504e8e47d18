//! The plain baseline of the VPC Flow Logs benches: what a minimal Firehose processor does with
//! the same request.

use seclog_core::envelope::firehose::FirehoseEvent;
use seclog_vpcflow::DEFAULT_FORMAT;
use serde_json::{Map, Value};

/// Plain: decode, split on spaces, zip with the default field names into a JSON object of
/// strings (what a minimal Firehose processor does), serialise, encode.
pub(crate) fn plain(event: &FirehoseEvent) -> Vec<u8> {
    let names: Vec<&str> =
        DEFAULT_FORMAT.split_whitespace().map(|f| f.trim_start_matches("${").trim_end_matches('}')).collect();
    seclog_testkit::bench::plain_firehose(event, |bytes| {
        let line = std::str::from_utf8(bytes).unwrap().trim_end();
        let doc: Map<String, Value> =
            names.iter().zip(line.split(' ')).map(|(n, v)| ((*n).to_owned(), Value::from(v))).collect();
        Value::Object(doc)
    })
}
