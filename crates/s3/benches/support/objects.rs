//! The inputs and both paths of the S3 object bench: a CloudTrail file of recorded records and a
//! default-format flow-log file at any size, read by the `s3` function's object reader or by a plain
//! gunzip + parse into a JSON tree + serialise. Shared by the criterion bench and the
//! instruction-count example.

use std::fmt::Write as _;
use std::io::Cursor;
use std::ops::ControlFlow;

use seclog_core::deadletter::DeadLetters;
use seclog_s3::layout::KindRules;
use seclog_s3::transform::{decoded, records, ObjectReader, ObjectRef, Outcome, Transforms};
use serde_json::Value;

pub(crate) const TRAIL: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/30/111122223333_CloudTrail_us-east-1_20261130T2235Z_bench.json.gz";
pub(crate) const FLOWS: &str = "AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/30/111122223333_vpcflowlogs_us-east-1_fl-1_20261130T2235Z_h.log.gz";

pub(crate) use seclog_testkit::batches::cloudtrail_file as trail_file;

/// A default-format flow-log file (header line first) of about `size` bytes.
pub(crate) fn flow_file(size: usize) -> (Vec<u8>, usize) {
    let mut text = String::from("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n");
    let mut n = 0;
    while text.len() < size {
        let (a, b) = (n % 250, (n / 250) % 250);
        let action = if n % 7 == 0 { "REJECT" } else { "ACCEPT" };
        let (port, packets, bytes) = (32768 + n % 28000, 1 + n % 40, 60 + n % 9000);
        let _ = writeln!(
            text,
            "2 111122223333 eni-0a1b2c3d4e5f60718 10.0.{b}.{a} 203.0.113.{a} {port} 443 6 {packets} {bytes} 1764540000 1764540060 {action} OK"
        );
        n += 1;
    }
    (text.into_bytes(), n)
}

/// The object reader, documents built and dropped (the handler delivers them chunk by chunk).
pub(crate) fn seclog(key: &str, object: &[u8], transforms: &Transforms) -> usize {
    let deadletters = DeadLetters::default();
    let placed = KindRules::default().place(key).unwrap();
    let now = chrono::Utc::now();
    let mut reader =
        ObjectReader::new(transforms, &deadletters, placed, ObjectRef { bucket: "b", key, version: "v" }, now);
    let mut bytes = 0;
    records(placed.kind, decoded(Cursor::new(object), true, 1 << 32).unwrap(), |record| {
        if let Outcome::Document(doc) = reader.read(record).unwrap() {
            bytes += doc.body.len();
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    bytes
}

/// Plain: gunzip, parse every record into a JSON tree, serialise it.
pub(crate) fn plain_trail(object: &[u8]) -> usize {
    let text = seclog_core::decode::decompress_capped(object, 1 << 32).unwrap();
    let file: Value = serde_json::from_slice(&text).unwrap();
    file["Records"].as_array().unwrap().iter().map(|r| serde_json::to_vec(r).unwrap().len()).sum()
}

/// Plain: gunzip, split each line into a map of the header's names, serialise it.
pub(crate) fn plain_flows(object: &[u8]) -> usize {
    let text = String::from_utf8(seclog_core::decode::decompress_capped(object, 1 << 32).unwrap()).unwrap();
    let mut lines = text.lines();
    let names: Vec<&str> = lines.next().unwrap().split(' ').collect();
    lines
        .map(|l| {
            let doc: serde_json::Map<String, Value> =
                names.iter().zip(l.split(' ')).map(|(n, v)| ((*n).to_owned(), Value::from(v))).collect();
            serde_json::to_vec(&doc).unwrap().len()
        })
        .sum()
}
