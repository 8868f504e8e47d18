//! The `s3` function on an in-memory S3, queue and sink: exact outcomes for each notification
//! shape, for objects that cannot be read or no longer exist, for retryable failures (their
//! message alone is returned), and for objects continued across invocations.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use seclog_core::deadletter::DeadLetters;
use seclog_core::decode::gzip;
use seclog_core::document::Document;
use seclog_core::sink::{BulkSink, DeliveryReport, MemorySink};
use seclog_core::{DeliveryError, DropRule};
use seclog_s3::config::FunctionConfig;
use seclog_s3::handler::{
    process, BatchResponse, Deps, GetError, ItemFailure, ObjectStore, Queue, SendError, SqsEvent, SqsMessage,
};
use seclog_s3::notification::ObjectNote;
use seclog_s3::transform::Transforms;
use tokio::time::Instant;

const ALB: &str = "AWSLogs/111122223333/elasticloadbalancing/eu-west-1/2026/11/30/111122223333_elasticloadbalancing_eu-west-1_app.web.1_20261130T2235Z_203.0.113.9_x.log.gz";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z").unwrap().to_utc()
}

/// `n` access-log lines, one second apart.
fn alb_lines(n: usize) -> Vec<u8> {
    let mut lines = String::new();
    for i in 0..n {
        let (minute, second, client) = (i / 60, i % 60, i % 250);
        let _ = writeln!(
            lines,
            "https 2026-11-30T22:{minute:02}:{second:02}.000000Z app/web/1 198.51.100.{client}:443 10.0.0.1:80 0.001 0.002 \
             0.000 200 200 10 20 \"GET https://example.com:443/{i} HTTP/1.1\" \"curl/8\" - - \
             arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/t/1"
        );
    }
    lines.into_bytes()
}

#[derive(Default)]
struct Store {
    objects: HashMap<String, Vec<u8>>,
    refuse: Vec<String>,
    gets: Mutex<usize>,
}

impl ObjectStore for Store {
    async fn get(&self, note: &ObjectNote) -> Result<Box<dyn Read + Send>, GetError> {
        *self.gets.lock().unwrap() += 1;
        if self.refuse.contains(&note.key) {
            return Err(GetError::Retry("503 SlowDown".into()));
        }
        match self.objects.get(&note.key) {
            Some(bytes) => Ok(Box::new(std::io::Cursor::new(bytes.clone()))),
            None => Err(GetError::Gone("404 NoSuchKey".into())),
        }
    }
}

#[derive(Default)]
struct Messages(Mutex<Vec<String>>);

impl Queue for Messages {
    async fn send(&self, body: String) -> Result<(), SendError> {
        self.0.lock().unwrap().push(body);
        Ok(())
    }
}

/// A sink on which each delivery takes ten seconds of (paused) time.
#[derive(Default)]
struct SlowSink(MemorySink);

impl BulkSink for SlowSink {
    async fn deliver(&self, docs: Vec<Document<'_>>, deadline: Instant) -> Result<DeliveryReport, DeliveryError> {
        tokio::time::advance(Duration::from_secs(10)).await;
        self.0.deliver(docs, deadline).await
    }
}

fn deps<S>(sink: S, store: Store, chunk_documents: usize) -> Deps<S, Store, Messages> {
    Deps {
        sink,
        store,
        queue: Messages::default(),
        transforms: Arc::new(Transforms::default()),
        deadletters: DeadLetters::default(),
        config: FunctionConfig { chunk_documents, ..FunctionConfig::default() },
        clock: now,
    }
}

fn event(bodies: &[String]) -> SqsEvent {
    SqsEvent {
        records: bodies
            .iter()
            .enumerate()
            .map(|(i, body)| SqsMessage { message_id: format!("m{i}"), body: body.clone() })
            .collect(),
    }
}

fn direct(bucket: &str, encoded_key: &str) -> String {
    serde_json::json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": {"key": encoded_key, "size": 1, "eTag": "e1"}}}]})
    .to_string()
}

fn documents(ndjson: &[u8]) -> Vec<serde_json::Value> {
    let text = String::from_utf8(ndjson.to_vec()).unwrap();
    text.lines().skip(1).step_by(2).map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[tokio::test]
async fn every_shape_of_notification_is_read_and_the_test_event_is_dropped() {
    let spaced = ALB.replace("app.web.1", "app.web 1");
    let store = Store {
        objects: HashMap::from([(ALB.to_owned(), gzip(&alb_lines(3))), (spaced.clone(), gzip(&alb_lines(2)))]),
        ..Store::default()
    };
    let deps = deps(MemorySink::new(), store, 2000);
    let sns = serde_json::json!({"Type": "Notification", "Message": direct("b", ALB)}).to_string();
    let bridge = serde_json::json!({"detail-type": "Object Created", "source": "aws.s3",
        "detail": {"bucket": {"name": "b"}, "object": {"key": spaced, "etag": "e2"}}})
    .to_string();
    let test = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b"}"#.to_owned();
    let encoded = direct("b", &spaced.replace(' ', "+"));
    let deadline = Instant::now() + Duration::from_secs(60);
    let (response, summary) = process(&event(&[direct("b", ALB), sns, bridge, test, encoded]), &deps, deadline).await;
    assert_eq!(response, BatchResponse::default());
    assert_eq!((summary.received, summary.delivery.indexed, summary.dropped), (3 + 3 + 2 + 1 + 2, 10, 1));
    assert_eq!(summary.dropped_by.get(&DropRule::TestEvent), Some(&1));
    let docs = documents(&deps.sink.take());
    let ids: std::collections::BTreeSet<String> = docs.iter().map(|d| d["url"]["path"].to_string()).collect();
    assert_eq!(ids.len(), 3, "the same object notified twice is the same documents");
}

#[tokio::test]
async fn objects_that_cannot_be_indexed_end_as_dead_letters_or_counts_and_their_messages_succeed() {
    let store = Store {
        objects: HashMap::from([
            (ALB.to_owned(), b"not gzip".to_vec()),
            ("exports/readme.txt".to_owned(), b"hello".to_vec()),
        ]),
        ..Store::default()
    };
    let deps = deps(MemorySink::new(), store, 2000);
    let gone = ALB.replace("x.log.gz", "deleted.log.gz");
    let bodies = [direct("b", ALB), direct("b", "exports/readme.txt"), direct("b", &gone), "{\"nope\":1}".to_owned()];
    let (response, summary) = process(&event(&bodies), &deps, Instant::now() + Duration::from_secs(60)).await;
    assert_eq!(response, BatchResponse::default());
    assert_eq!((summary.received, summary.delivery.dead_lettered, summary.dropped), (4, 3, 1));
    assert_eq!(summary.dropped_by.get(&DropRule::ObjectGone), Some(&1));
    assert_eq!(*deps.store.gets.lock().unwrap(), 2, "an unknown layout is not even fetched");
    let reasons: Vec<(String, String)> = documents(&deps.sink.take())
        .iter()
        .map(|d| {
            (
                d["deadletter"]["error_type"].as_str().unwrap().to_owned(),
                d["deadletter"]["record_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            ("bad_compression".to_owned(), format!("s3://b/{ALB}")),
            ("unknown_object".to_owned(), "s3://b/exports/readme.txt".to_owned()),
            ("bad_event".to_owned(), "sqs/m3".to_owned()),
        ]
    );
}

#[tokio::test]
async fn a_retryable_failure_returns_its_message_alone() {
    let other = ALB.replace("x.log.gz", "y.log.gz");
    let store = Store {
        objects: HashMap::from([(ALB.to_owned(), gzip(&alb_lines(2))), (other.clone(), gzip(&alb_lines(2)))]),
        refuse: vec![other.clone()],
        ..Store::default()
    };
    let deps = deps(MemorySink::new(), store, 2000);
    let (response, summary) =
        process(&event(&[direct("b", ALB), direct("b", &other)]), &deps, Instant::now() + Duration::from_secs(60))
            .await;
    assert_eq!(response.batch_item_failures, [ItemFailure { item_identifier: "m1".into() }]);
    assert_eq!((summary.delivery.indexed, summary.failed), (2, 1));
}

#[tokio::test(start_paused = true)]
async fn a_big_object_continues_three_times_and_every_record_is_indexed_once() {
    let store = Store { objects: HashMap::from([(ALB.to_owned(), gzip(&alb_lines(14)))]), ..Store::default() };
    // Two documents a chunk; each delivery takes 10 s; an object continues 10 s before a 25 s
    // deadline: two chunks an invocation.
    let deps = deps(SlowSink::default(), store, 2);
    let mut bodies = vec![direct("b", ALB)];
    let mut invocations = 0;
    while let Some(body) = bodies.pop() {
        invocations += 1;
        let (response, _) = process(&event(&[body]), &deps, Instant::now() + Duration::from_secs(25)).await;
        assert_eq!(response, BatchResponse::default());
        bodies.extend(deps.queue.0.lock().unwrap().drain(..));
    }
    assert_eq!(invocations, 4, "three continuations");
    let docs = documents(&deps.sink.0.take());
    let mut paths: Vec<String> = docs.iter().map(|d| d["url"]["path"].as_str().unwrap().to_owned()).collect();
    paths.sort_by_key(|p| p[1..].parse::<usize>().unwrap());
    assert_eq!(paths, (0..14).map(|i| format!("/{i}")).collect::<Vec<_>>());
}

/// A queue that refuses every message, as SQS does when throttling or denied.
struct Refusing;

impl Queue for Refusing {
    async fn send(&self, _: String) -> Result<(), SendError> {
        Err(SendError::NoQueue("refused"))
    }
}

#[tokio::test(start_paused = true)]
async fn a_continuation_the_queue_refuses_returns_its_message_to_be_delivered_again() {
    let store = Store { objects: HashMap::from([(ALB.to_owned(), gzip(&alb_lines(14)))]), ..Store::default() };
    let Deps { sink, store, transforms, deadletters, config, clock, .. } = deps(SlowSink::default(), store, 2);
    let deps = Deps { sink, store, queue: Refusing, transforms, deadletters, config, clock };
    let (response, summary) =
        process(&event(&[direct("b", ALB)]), &deps, Instant::now() + Duration::from_secs(25)).await;
    assert_eq!(response.batch_item_failures, [ItemFailure { item_identifier: "m0".into() }]);
    // What was delivered before stays (its ids are deterministic: the redelivery finds it present).
    assert_eq!(summary.delivery.indexed, 4, "two chunks of two before the continuation was due");
}

#[tokio::test]
async fn a_truncated_object_delivers_what_was_read_before_it_is_dead_lettered() {
    let whole = gzip(&alb_lines(3000));
    let store =
        Store { objects: HashMap::from([(ALB.to_owned(), whole[..whole.len() / 2].to_vec())]), ..Store::default() };
    let deps = deps(MemorySink::new(), store, 97);
    let (response, summary) =
        process(&event(&[direct("b", ALB)]), &deps, Instant::now() + Duration::from_secs(60)).await;
    assert_eq!(response, BatchResponse::default());
    assert_eq!(summary.delivery.dead_lettered, 1);
    // Every line the broken stream still yields is indexed, not only the full chunks before it.
    let cut = &whole[..whole.len() / 2];
    let mut readable = 0;
    let stream = seclog_s3::stream::decoded(cut, true, 1 << 30).unwrap();
    let broke = seclog_s3::stream::records(seclog_s3::layout::Kind::Alb, stream, |_| {
        readable += 1;
        std::ops::ControlFlow::Continue(())
    });
    assert!(broke.is_err() && readable % 97 != 0, "{readable}");
    assert_eq!(summary.delivery.indexed, readable);
    let docs = documents(&deps.sink.take());
    assert_eq!(docs.last().unwrap()["deadletter"]["error_type"], "bad_compression");
    assert_eq!(docs.len(), summary.delivery.indexed + 1, "the records before the break, then the object's dead letter");
}
