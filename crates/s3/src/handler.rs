//! The invocation: an SQS batch of notifications; each object streamed from S3 in chunks of
//! documents, each chunk delivered before the next is read.
//!
//! Failure semantics (SQS partial batch responses):
//! - an object that fails retryably (S3 or `OpenSearch` unreachable, delivery not finished) returns
//!   its message alone, to be delivered again: ids are deterministic, so what was already indexed
//!   is found present;
//! - an object that cannot be read (not gzip, truncated, a gzip bomb, not its kind's shape) or whose
//!   key matches no layout (`unknown_object`) is dead-lettered whole with its bucket, key and
//!   reason, and its message succeeds; records read before are kept;
//! - an object that no longer exists is counted (`object_gone`) and its message succeeds;
//! - an object still streaming when the deadline nears continues in a message to the function's
//!   own queue, from its first record not delivered, and the original message succeeds.

use std::borrow::Cow;
use std::future::Future;
use std::io::Read;
use std::ops::ControlFlow;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use lambda_runtime::LambdaEvent;
use seclog_core::deadletter::{DeadLetters, Failure};
use seclog_core::document::{Document, Origin};
use seclog_core::sink::opensearch::OpenSearchSink;
use seclog_core::sink::BulkSink;
use seclog_core::telemetry::InvocationSummary;
use seclog_core::{DropRule, RecordKind};
use seclog_rules::LogSource;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::config::{Config, FunctionConfig};
use crate::layout::Kind;
use crate::notification::{self, Notification, ObjectNote};
use crate::transform::{self, ObjectError, ObjectReader, ObjectRef, Outcome, Transforms};

/// The dataset of the function's own summary and of the dead letters of messages.
pub const DATASET: &str = "aws.s3";

/// An SQS event, as Lambda delivers it.
#[derive(Debug, Clone, Deserialize)]
pub struct SqsEvent {
    /// The messages.
    #[serde(rename = "Records")]
    pub records: Vec<SqsMessage>,
}

/// One SQS message.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SqsMessage {
    /// Its id, named in a partial batch response.
    pub message_id: String,
    /// Its body.
    pub body: String,
}

/// The partial batch response: the messages to deliver again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    /// One per message to deliver again.
    pub batch_item_failures: Vec<ItemFailure>,
}

/// A message to deliver again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemFailure {
    /// The message id.
    pub item_identifier: String,
}

/// Why an object could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum GetError {
    /// It no longer exists, or is no longer the version notified (404, 412): counted, not retried.
    #[error("the object is gone")]
    Gone(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything else (access, throttling, the network): the message is delivered again.
    #[error("the object could not be fetched")]
    Retry(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Where objects come from.
pub trait ObjectStore: Sync {
    /// The object's bytes, as a stream read on a blocking thread.
    fn get(&self, note: &ObjectNote) -> impl Future<Output = Result<Box<dyn Read + Send>, GetError>> + Send;
}

/// Where continuations go: the function's own queue.
pub trait Queue: Sync {
    /// Sends one message.
    fn send(&self, body: String) -> impl Future<Output = Result<(), SendError>> + Send;
}

/// Why a continuation was not sent: the message is then delivered again.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// SQS did not take it.
    #[error("SQS did not take the continuation")]
    Sqs(#[source] Box<aws_sdk_sqs::error::SdkError<aws_sdk_sqs::operation::send_message::SendMessageError>>),
    /// There is no queue to continue on (a backfill reads each object to its end); says why.
    #[error("{0}")]
    NoQueue(&'static str),
}

/// S3 through the SDK, streamed.
#[derive(Debug, Clone)]
pub struct S3Store(pub aws_sdk_s3::Client);

impl ObjectStore for S3Store {
    async fn get(&self, note: &ObjectNote) -> Result<Box<dyn Read + Send>, GetError> {
        let mut request = self.0.get_object().bucket(&note.bucket).key(&note.key);
        request = match (&note.version_id, &note.etag) {
            (Some(version), _) => request.version_id(version),
            (None, Some(etag)) => request.if_match(format!("\"{etag}\"")),
            (None, None) => request,
        };
        match request.send().await {
            Ok(output) => Ok(Box::new(tokio_util::io::SyncIoBridge::new(output.body.into_async_read()))),
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                if matches!(status, Some(404 | 412)) {
                    Err(GetError::Gone(Box::new(e)))
                } else {
                    Err(GetError::Retry(Box::new(e)))
                }
            }
        }
    }
}

/// SQS through the SDK.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    /// The client.
    pub client: aws_sdk_sqs::Client,
    /// The queue URL.
    pub url: String,
}

impl Queue for SqsQueue {
    async fn send(&self, body: String) -> Result<(), SendError> {
        let sent = self.client.send_message().queue_url(&self.url).message_body(body).send().await;
        sent.map(|_| ()).map_err(|e| SendError::Sqs(Box::new(e)))
    }
}

/// What the function works with.
#[derive(Debug)]
pub struct Deps<S, O, Q> {
    /// Where documents go.
    pub sink: S,
    /// Where objects come from.
    pub store: O,
    /// Where continuations go.
    pub queue: Q,
    /// The transforms of every kind.
    pub transforms: Arc<Transforms>,
    /// Dead-letter documents.
    pub deadletters: DeadLetters,
    /// Function settings.
    pub config: FunctionConfig,
    /// The time of reading (fixed in tests).
    pub clock: fn() -> DateTime<Utc>,
}

impl Deps<OpenSearchSink, S3Store, SqsQueue> {
    /// Connects to the cluster, S3 and SQS, opens the enrichment data and loads the rules.
    ///
    /// # Errors
    /// When the sink cannot be built or the rules cannot be loaded.
    pub async fn init(config: Config) -> Result<Self, lambda_runtime::Error> {
        let rules = Arc::new(seclog_rules::RuleSet::load_for(&config.rules, &[LogSource::CloudTrail, LogSource::Dns])?);
        let deadletters = config.opensearch.deadletters.clone();
        let sink = OpenSearchSink::connect(config.opensearch).await?;
        let aws = seclog_core::lambda::sdk_config(None).await;
        let transforms = Arc::new(Transforms::new(seclog_enrich::Enricher::from_env(), rules));
        Ok(Self {
            sink,
            store: S3Store(aws_sdk_s3::Client::new(&aws)),
            queue: SqsQueue { client: aws_sdk_sqs::Client::new(&aws), url: config.continuation_queue_url },
            transforms,
            deadletters,
            config: config.function,
            clock: Utc::now,
        })
    }
}

/// The Lambda entry point.
#[tracing::instrument(skip_all, fields(request_id = %event.context.request_id))]
pub async fn handle<S: BulkSink, O: ObjectStore, Q: Queue>(
    event: LambdaEvent<SqsEvent>,
    deps: &Deps<S, O, Q>,
) -> Result<BatchResponse, std::convert::Infallible> {
    let deadline = seclog_core::lambda::deadline_of(event.context.deadline, deps.config.deadline_margin);
    Ok(process(&event.payload, deps, deadline).await.0)
}

/// What became of one object (or message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    /// Every record ended indexed, dropped or dead-lettered, or the object continues elsewhere.
    Finished,
    /// Deliver the message again.
    Retry,
}

/// Processes a batch: the messages to deliver again, and the invocation's summary (printed).
pub async fn process<S: BulkSink, O: ObjectStore, Q: Queue>(
    event: &SqsEvent,
    deps: &Deps<S, O, Q>,
    deadline: Instant,
) -> (BatchResponse, InvocationSummary) {
    let started = std::time::Instant::now();
    let mut summary = InvocationSummary { dataset: DATASET, ..InvocationSummary::default() };
    let mut response = BatchResponse::default();
    for message in &event.records {
        let done = match notification::parse(&message.body) {
            Ok(Notification::Nothing) => {
                summary.received += 1;
                summary.drop(DropRule::TestEvent, 1);
                Done::Finished
            }
            Ok(Notification::Objects(notes)) => {
                let mut done = Done::Finished;
                for note in &notes {
                    done = process_object(note, deps, deadline, &mut summary).await;
                    if done == Done::Retry {
                        break;
                    }
                }
                done
            }
            Err(e) => {
                summary.received += 1;
                let origin = Origin {
                    dataset: DATASET,
                    record_id: Cow::Owned(format!("sqs/{}", message.message_id)),
                    raw: Cow::Borrowed(message.body.as_str()),
                };
                let reason = e.to_string();
                let failure = Failure::of(RecordKind::BadEvent.as_str(), &reason);
                deliver(vec![deps.deadletters.document(origin, &failure, (deps.clock)())], deps, deadline, &mut summary)
                    .await
            }
        };
        if done == Done::Retry {
            response.batch_item_failures.push(ItemFailure { item_identifier: message.message_id.clone() });
        }
    }
    summary.failed = usize::from(!response.batch_item_failures.is_empty());
    summary.emit(started.elapsed());
    (response, summary)
}

async fn deliver<S: BulkSink, O, Q>(
    docs: Vec<Document<'_>>,
    deps: &Deps<S, O, Q>,
    deadline: Instant,
    summary: &mut InvocationSummary,
) -> Done {
    match deps.sink.deliver(docs, deadline).await {
        Ok(report) => {
            summary.delivery.add(&report);
            Done::Finished
        }
        Err(e) => {
            tracing::error!(error = %seclog_core::error::Chain(&e), "Delivery did not finish; the message is delivered again.");
            Done::Retry
        }
    }
}

/// Documents read from an object, and where they stand in it.
#[derive(Debug, Default)]
struct Chunk {
    docs: Vec<Document<'static>>,
    /// The first record this chunk covers (where a continuation resumes if it is not delivered).
    first: usize,
    /// Records it covers.
    records: usize,
    dropped: Vec<DropRule>,
}

/// Reads one object from the note's next record on, delivering its documents chunk by chunk and
/// counting into `summary`; see the module's failure semantics.
pub async fn process_object<S: BulkSink, O: ObjectStore, Q: Queue>(
    note: &ObjectNote,
    deps: &Deps<S, O, Q>,
    deadline: Instant,
    summary: &mut InvocationSummary,
) -> Done {
    let now = (deps.clock)();
    let object = ObjectRef { bucket: &note.bucket, key: &note.key, version: note.version() };
    let dead_letter = |kind: RecordKind, dataset: &'static str, reason: String| {
        transform::object_dead_letter(&deps.deadletters, &object, (dataset, kind, reason), now)
    };
    let Some(placed) = deps.config.kind_rules.place(&note.key) else {
        tracing::warn!(bucket = %note.bucket, error_type = "unknown_object", "An object of no known layout is dead-lettered.");
        summary.received += 1;
        let reason = crate::layout::why_unknown(&note.key).to_owned();
        return deliver(vec![dead_letter(RecordKind::UnknownObject, DATASET, reason)], deps, deadline, summary).await;
    };
    if Instant::now() + deps.config.continue_before >= deadline {
        return continue_at(note, note.next_record, deps).await;
    }
    let body = match deps.store.get(note).await {
        Ok(body) => body,
        Err(GetError::Gone(_)) => {
            summary.received += 1;
            summary.drop(DropRule::ObjectGone, 1);
            return Done::Finished;
        }
        Err(e @ GetError::Retry(_)) => {
            tracing::warn!(
                bucket = %note.bucket,
                error = %seclog_core::error::Chain(&e),
                "The object could not be fetched; the message is delivered again."
            );
            return Done::Retry;
        }
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Chunk>(1);
    let reading = {
        let (transforms, deadletters, owned) = (deps.transforms.clone(), deps.deadletters.clone(), note.clone());
        let config = deps.config.clone();
        tokio::task::spawn_blocking(move || {
            let placed = config.kind_rules.place(&owned.key).ok_or_else(|| ObjectError::Shape("no layout".into()))?;
            let object = ObjectRef { bucket: &owned.bucket, key: &owned.key, version: owned.version() };
            let reader = ObjectReader::new(&transforms, &deadletters, placed, object, now);
            read_chunks(reader, body, &owned, &config, &tx)
        })
    };
    while let Some(chunk) = rx.recv().await {
        if Instant::now() + deps.config.continue_before >= deadline {
            drop(rx);
            return continue_at(note, chunk.first, deps).await;
        }
        summary.received += chunk.records;
        for rule in &chunk.dropped {
            summary.drop(*rule, 1);
        }
        if !chunk.docs.is_empty() && deliver(chunk.docs, deps, deadline, summary).await == Done::Retry {
            return Done::Retry;
        }
    }
    match reading.await {
        Ok(Ok(())) => Done::Finished,
        Ok(Err(e)) => {
            tracing::warn!(bucket = %note.bucket, error_type = e.kind().as_str(), "An object that cannot be read is dead-lettered.");
            summary.received += 1;
            let dataset = ObjectReader::dataset_of(placed.kind);
            deliver(vec![dead_letter(e.kind(), dataset, e.to_string())], deps, deadline, summary).await
        }
        Err(_) => Done::Retry,
    }
}

/// Reads `body` from the note's next record on, within the configured caps (decompressed bytes,
/// the longest record), handing chunks of `CHUNK_DOCUMENTS` documents to `tx`; stops quietly when
/// the receiver is gone (the object continues elsewhere).
fn read_chunks(
    mut reader: ObjectReader<'_>,
    body: Box<dyn Read + Send>,
    note: &ObjectNote,
    config: &FunctionConfig,
    tx: &tokio::sync::mpsc::Sender<Chunk>,
) -> Result<(), ObjectError> {
    let from = note.next_record;
    let kind = reader.kind();
    let gzip = note.key.rsplit_once('.').is_some_and(|(_, e)| e == "gz");
    let mut chunk = Chunk { first: from, ..Chunk::default() };
    let mut failed = None;
    let mut stopped = false;
    let stream = transform::decoded(body, gzip, config.max_decoded_bytes)?.records_of_at_most(config.max_record_bytes);
    let read = transform::records(kind, stream, |record| {
        if !reader.wants(&record, from) {
            return ControlFlow::Continue(());
        }
        let number = record.number;
        match reader.read(record) {
            Ok(Outcome::Document(doc)) => chunk.docs.push(doc),
            Ok(Outcome::Dropped(rule)) if number >= from => chunk.dropped.push(rule),
            Ok(Outcome::Dropped(_)) => return ControlFlow::Continue(()),
            Err(e) => {
                failed = Some(e);
                return ControlFlow::Break(());
            }
        }
        chunk.records += 1;
        if chunk.docs.len() >= config.chunk_documents {
            let next = Chunk { first: number + 1, ..Chunk::default() };
            if tx.blocking_send(std::mem::replace(&mut chunk, next)).is_err() {
                stopped = true;
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    });
    if stopped {
        return Ok(());
    }
    if kind == Kind::CloudTrailDigest && from <= 1 {
        chunk.records = 1;
        chunk.dropped.push(DropRule::DigestFile);
    }
    // What was read before a failure is delivered too; then the object is dead-lettered.
    let _ = tx.blocking_send(chunk);
    match read.err().or(failed) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Sends the continuation of `note` from record `next`; the original message then succeeds.
async fn continue_at<S, O, Q: Queue>(note: &ObjectNote, next: usize, deps: &Deps<S, O, Q>) -> Done {
    match deps.queue.send(notification::continuation(note, next)).await {
        Ok(()) => {
            tracing::info!(bucket = %note.bucket, next_record = next, "The object continues in a new message.");
            Done::Finished
        }
        Err(e) => {
            tracing::error!(
                error = %seclog_core::error::Chain(&e),
                "The continuation could not be sent; the message is delivered again."
            );
            Done::Retry
        }
    }
}
