//! Exact outcomes for objects that cannot be read, and for odd records inside readable ones.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Utc};
use seclog_core::deadletter::DeadLetters;
use seclog_core::decode::gzip;
use seclog_core::DropRule;
use seclog_s3::layout::KindRules;
use seclog_s3::transform::{ObjectDocuments, ObjectError, ObjectReader, ObjectRef, Transforms};

const TRAIL: &str =
    "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/30/111122223333_CloudTrail_eu-west-1_20261130T2235Z_a.json.gz";
const FLOWS: &str = "AWSLogs/111122223333/vpcflowlogs/eu-west-1/2026/11/30/111122223333_vpcflowlogs_eu-west-1_fl-1_20261130T2235Z_h.log.gz";
const ALB: &str = "AWSLogs/111122223333/elasticloadbalancing/eu-west-1/2026/11/30/111122223333_elasticloadbalancing_eu-west-1_app.web.1_20261130T2235Z_203.0.113.9_x.log.gz";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z").unwrap().to_utc()
}

fn read_object(key: &str, body: &[u8], cap: u64) -> (Result<ObjectDocuments, ObjectError>, Option<String>) {
    let transforms = Transforms::default();
    let deadletters = DeadLetters::default();
    let placed = KindRules::default().place(key).unwrap();
    let object = ObjectRef { bucket: "b", key, version: "v1" };
    let mut reader = ObjectReader::new(&transforms, &deadletters, placed, object, now());
    let mut read = reader.read_all(body, cap);
    let letter = read.failed.as_ref().map(|e| String::from_utf8(reader.dead_letter(e).body).unwrap());
    match read.failed.take() {
        Some(e) => (Err(e), letter),
        None => (Ok(read), None),
    }
}

fn error(key: &str, body: &[u8], cap: u64) -> (String, String) {
    let (result, letter) = read_object(key, body, cap);
    let e = result.unwrap_err();
    let letter: serde_json::Value = serde_json::from_str(&letter.unwrap()).unwrap();
    assert_eq!(letter["deadletter"]["record_id"], format!("s3://b/{key}"));
    (e.kind().as_str().to_owned(), e.to_string())
}

#[test]
fn objects_that_cannot_be_read_are_refused_whole_with_the_reason() {
    assert_eq!(
        error(TRAIL, b"{\"Records\":[]}", 1 << 20),
        (
            "bad_compression".into(),
            "the object is not a readable gzip stream: the key ends in .gz but the object is not gzip".into()
        )
    );
    let whole = gzip(br#"{"Records":[{"eventID":"a"}]}"#);
    let (kind, reason) = error(TRAIL, &whole[..whole.len() - 12], 1 << 20);
    assert_eq!(kind, "bad_compression", "{reason}");
    let bomb = gzip(&vec![b'\n'; 8 << 20]);
    assert!(bomb.len() < (1 << 20) / 8, "a small object that expands past the cap: {}", bomb.len());
    assert_eq!(
        error(FLOWS, &bomb, 1 << 20),
        ("too_large".into(), "the object decompresses to more than 1048576 bytes".into())
    );
    let (kind, reason) = error(TRAIL, &gzip(br#"[{"eventID":"a"}]"#), 1 << 20);
    assert_eq!(kind, "bad_record");
    assert!(reason.starts_with("not a CloudTrail file ({\"Records\":[…]}): invalid type: sequence"), "{reason}");
    let (kind, reason) = error(TRAIL, &gzip(br#"{"Logs":[]}"#), 1 << 20);
    assert_eq!(
        (kind.as_str(), reason.starts_with("not a CloudTrail file ({\"Records\":[…]}): missing field `Records`")),
        ("bad_record", true),
        "{reason}"
    );
    let line = "2 111122223333 eni-1 10.0.0.1 10.0.0.2 443 50000 6 10 840 1764540000 1764540060 ACCEPT OK\n";
    let (kind, reason) = error(FLOWS, &gzip(line.as_bytes()), 1 << 20);
    assert_eq!(kind, "bad_record");
    assert!(reason.starts_with("the first line of a flow-log file is not its header"), "{reason}");
}

#[test]
fn an_empty_object_has_no_records_and_a_digest_file_is_dropped_by_rule() {
    for key in [FLOWS, ALB] {
        let read = read_object(key, &gzip(b""), 1 << 20).0.unwrap();
        assert_eq!((read.records, read.docs.len()), (0, 0), "{key}");
    }
    let read = read_object(ALB, b"", 1 << 20).0.unwrap();
    assert_eq!((read.records, read.docs.len()), (0, 0), "a zero-byte object");
    let digest = "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/11/30/x_CloudTrail-Digest_x.json.gz";
    let read = read_object(digest, &gzip(b"{\"digestStartTime\":\"x\"}"), 1 << 20).0.unwrap();
    assert_eq!((read.records, read.docs.len(), read.dropped), (1, 0, vec![DropRule::DigestFile]));
}

#[test]
fn a_bad_record_is_dead_lettered_alone_and_the_rest_is_indexed() {
    let body = gzip(br#"{"Records":[{"eventID":"a","eventTime":"2026-11-30T22:00:00Z","eventName":"X","eventSource":"s"},"not a record",{"eventID":"c","eventTime":"2026-11-30T22:00:01Z","eventName":"Y","eventSource":"s"}],"extra":1}"#);
    let read = read_object(TRAIL, &body, 1 << 20).0.unwrap();
    let ids: Vec<_> = read.docs.iter().map(|d| (d.id.as_str(), d.dead_letter)).collect();
    assert_eq!(ids.len(), 3);
    assert_eq!((ids[0], ids[2]), (("a", false), ("c", false)));
    let letter: serde_json::Value = serde_json::from_slice(&read.docs[1].body).unwrap();
    assert_eq!(letter["deadletter"]["record_id"], format!("s3://b/{TRAIL}#2"));
    assert_eq!(letter["deadletter"]["raw"], "\"not a record\"");

    let header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n";
    let good = "2 111122223333 eni-1 10.0.0.1 10.0.0.2 443 50000 6 10 840 1764540000 1764540060 ACCEPT OK\n";
    let body = gzip(format!("{header}{good}2 111122223333 eni-1 10.0.0.1\n\n{good}").as_bytes());
    let read = read_object(FLOWS, &body, 1 << 20).0.unwrap();
    assert_eq!(read.records, 4, "the empty line is not a record");
    assert_eq!(read.dropped, vec![DropRule::HeaderLine]);
    let kinds: Vec<_> = read.docs.iter().map(|d| d.dead_letter).collect();
    assert_eq!(kinds, [false, true, false]);
    assert_ne!(read.docs[0].id, read.docs[2].id, "the same line twice is two records: ids by line number");
}

#[test]
fn a_truncated_object_keeps_the_records_read_before_it_broke() {
    let header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n";
    let mut text = String::from(header);
    for i in 0..5000 {
        let _ = std::fmt::Write::write_fmt(
            &mut text,
            format_args!("2 111122223333 eni-1 10.0.0.1 10.0.0.2 {i} 443 6 10 840 1764540000 1764540060 ACCEPT OK\n"),
        );
    }
    let whole = gzip(text.as_bytes());
    let transforms = Transforms::default();
    let deadletters = DeadLetters::default();
    let placed = KindRules::default().place(FLOWS).unwrap();
    let object = ObjectRef { bucket: "b", key: FLOWS, version: "v1" };
    let mut reader = ObjectReader::new(&transforms, &deadletters, placed, object, now());
    let read = reader.read_all(&whole[..whole.len() / 2], 1 << 30);
    assert_eq!(read.failed.as_ref().map(|e| e.kind().as_str()), Some("bad_compression"));
    assert!(read.docs.len() > 1000 && read.docs.len() < 5000, "{}", read.docs.len());
    assert!(read.docs.iter().all(|d| !d.dead_letter), "the records before the break are documents");
}

/// A record longer than the record cap (4 MiB by default) is never held in memory whole: the object
/// stops there and is dead-lettered whole, with the records before it indexed. Without the cap a
/// gzip bomb of one line, or of one `Records` element, would be read whole into memory (up to
/// `MAX_DECODED_BYTES`, 4 GiB by default, in a 128 MB function).
#[test]
fn a_record_longer_than_the_record_cap_stops_the_object_there() {
    let header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n";
    let good = "2 111122223333 eni-1 10.0.0.1 10.0.0.2 443 50000 6 10 840 1764540000 1764540060 ACCEPT OK\n";
    let long = format!("{header}{good}{}\n{good}", "x".repeat(5 << 20));
    let (result, letter) = read_object(FLOWS, &gzip(long.as_bytes()), 1 << 30);
    let reason = "a record is larger than 4194304 bytes (MAX_RECORD_BYTES)";
    assert_eq!(result.as_ref().map(|r| r.docs.len()).map_err(ToString::to_string), Err(reason.to_owned()));
    assert!(letter.unwrap().contains(reason));

    let record = r#"{"eventID":"a","eventTime":"2026-11-30T22:00:00Z","eventName":"X","eventSource":"s"}"#;
    let huge = format!(r#"{{"eventID":"b","requestParameters":"{}"}}"#, "y".repeat(5 << 20));
    for file in [format!(r#"{{"Records":[{record},{huge},{record}]}}"#), format!(r#"{{"Other":{huge},"Records":[]}}"#)]
    {
        let (result, _) = read_object(TRAIL, &gzip(file.as_bytes()), 1 << 30);
        let e = result.unwrap_err();
        assert_eq!((e.kind().as_str(), e.to_string().as_str()), ("too_large", reason));
    }
    // Up to the cap, a record is read.
    let big = format!(
        r#"{{"Records":[{{"eventID":"c","eventTime":"2026-11-30T22:00:00Z","eventName":"X","eventSource":"s","requestParameters":"{}"}}]}}"#,
        "z".repeat(3 << 20)
    );
    assert_eq!(read_object(TRAIL, &gzip(big.as_bytes()), 1 << 30).0.unwrap().docs.len(), 1);
}
