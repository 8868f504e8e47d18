//! One S3 object → its records → documents, streamed: the object is gunzipped as it is read,
//! with a cap on the decompressed size, and records are handed on one at a time.
//!
//! Each record ends as a document, a drop by rule, or a dead letter of its own (bucket, key,
//! record number, raw text, reason); an object that cannot be read at all is an
//! [`ObjectError`], for the caller to dead-letter whole.

use std::borrow::Cow;
use std::io::Read;
use std::ops::ControlFlow;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use seclog_core::deadletter::{DeadLetters, Failure};
use seclog_core::document::{DigestIds, Document, Origin, WriteOp};
use seclog_core::firehose::{RecordContext, RecordTransform, Transformed};
use seclog_core::index::{IndexPattern, Rotation};
use seclog_core::{DropRule, RecordError, RecordKind};
use seclog_enrich::Enricher;

use crate::alb::{self, LineContext};
use crate::layout::{Kind, Placed};

pub use crate::stream::{decoded, records, Capped, ObjectError, Record};

/// The index family of load-balancer access logs.
pub const ALB_FAMILY: &str = "alb";
/// Every index of the load-balancer family, as searches and reports name it.
pub const ALB_PATTERN: &str = "alb-*";

/// The object a record comes from.
#[derive(Debug, Clone, Copy)]
pub struct ObjectRef<'a> {
    /// The bucket.
    pub bucket: &'a str,
    /// The key (decoded).
    pub key: &'a str,
    /// The version id, else the `ETag`: a rewritten object is a new object.
    pub version: &'a str,
}

impl ObjectRef<'_> {
    /// `s3://bucket/key`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    /// The id of record `number` of this object: stable across redeliveries and backfills.
    #[must_use]
    pub fn record_id(&self, number: usize) -> String {
        self.record_ids().id(number)
    }

    /// The ids of this object's records, its own part hashed once.
    #[must_use]
    pub fn record_ids(&self) -> DigestIds {
        DigestIds::new(&format!("{}\0{}\0{}\0", self.bucket, self.key, self.version))
    }
}

/// The transforms of every kind, set up once.
#[derive(Debug, Clone)]
pub struct Transforms {
    /// CloudTrail (and Insights) records.
    pub cloudtrail: seclog_cloudtrail::transform::Transformer,
    /// WAF logs.
    pub waf: seclog_waf::WafTransform,
    /// Route 53 Resolver query logs.
    pub route53: seclog_route53::Route53Transform,
    /// Enrichment for flow logs and access logs.
    pub enricher: Arc<Enricher>,
    /// `vpcflow-*`.
    pub vpcflow_index: IndexPattern,
    /// `waf-*`.
    pub waf_index: IndexPattern,
    /// `route53-resolver-*`.
    pub resolver_index: IndexPattern,
    /// `alb-*`.
    pub alb_index: IndexPattern,
}

impl Transforms {
    /// Every transform, enriching with `enricher` and matching `rules`.
    #[must_use]
    pub fn new(enricher: Arc<Enricher>, rules: Arc<seclog_rules::RuleSet>) -> Self {
        let plain = Self::default();
        Self {
            cloudtrail: plain.cloudtrail.with_enricher(enricher.clone()).with_rules(rules.clone()),
            waf: seclog_waf::WafTransform::new(enricher.clone()),
            route53: plain.route53.with_enricher(enricher.clone()).with_rules(rules),
            enricher,
            ..plain
        }
    }
}

impl Default for Transforms {
    fn default() -> Self {
        Self {
            cloudtrail: seclog_cloudtrail::transform::Transformer::new(seclog_core::family!(
                seclog_cloudtrail::FAMILY,
                Rotation::Daily
            )),
            waf: seclog_waf::WafTransform::default(),
            route53: seclog_route53::Route53Transform::default(),
            enricher: Arc::default(),
            vpcflow_index: seclog_core::family!(seclog_vpcflow::FAMILY, Rotation::Daily),
            waf_index: seclog_core::family!(seclog_waf::FAMILY, Rotation::Daily),
            resolver_index: seclog_core::family!(seclog_route53::RESOLVER_FAMILY, Rotation::Daily),
            alb_index: seclog_core::family!(ALB_FAMILY, Rotation::Daily),
        }
    }
}

/// What became of one record.
#[derive(Debug)]
pub enum Outcome {
    /// A document to write (a dead letter when the record could not be transformed).
    Document(Document<'static>),
    /// Dropped by a documented rule.
    Dropped(DropRule),
}

/// Reads one object's records into documents: the per-object state (a flow-log file's header)
/// and the transforms.
pub struct ObjectReader<'t> {
    transforms: &'t Transforms,
    deadletters: &'t DeadLetters,
    placed: Placed<'t>,
    object: ObjectRef<'t>,
    vpcflow: Option<seclog_vpcflow::VpcFlowTransform>,
    now: DateTime<Utc>,
    ingested: String,
    ids: DigestIds,
    /// `s3://bucket/key`.
    url: String,
}

impl<'t> ObjectReader<'t> {
    /// A reader of `object`, placed by its key, read at `now`.
    #[must_use]
    pub fn new(
        transforms: &'t Transforms,
        deadletters: &'t DeadLetters,
        placed: Placed<'t>,
        object: ObjectRef<'t>,
        now: DateTime<Utc>,
    ) -> Self {
        let ingested = now.to_rfc3339_opts(SecondsFormat::Millis, true);
        let (ids, url) = (object.record_ids(), object.url());
        Self { transforms, deadletters, placed, object, vpcflow: None, now, ingested, ids, url }
    }

    /// The kind of the object.
    #[must_use]
    pub fn kind(&self) -> Kind {
        self.placed.kind
    }

    /// The dataset of the object's documents.
    #[must_use]
    pub fn dataset(&self) -> &'static str {
        Self::dataset_of(self.placed.kind)
    }

    /// The dataset of the documents of a `kind` object.
    #[must_use]
    pub fn dataset_of(kind: Kind) -> &'static str {
        match kind {
            Kind::CloudTrail | Kind::CloudTrailDigest | Kind::CloudTrailInsight => {
                seclog_cloudtrail::transform::DATASET
            }
            Kind::VpcFlow => seclog_vpcflow::DATASET,
            Kind::Waf => seclog_waf::DATASET,
            Kind::Route53Resolver => seclog_route53::RESOLVER_DATASET,
            Kind::Alb => alb::DATASET,
        }
    }

    /// Whether `record` must be read when the object is read from record `from` on: those before
    /// are skipped, but for a flow-log file's header, which gives the format of the rest.
    #[must_use]
    pub fn wants(&self, record: &Record, from: usize) -> bool {
        record.number >= from || (self.placed.kind == Kind::VpcFlow && self.vpcflow.is_none())
    }

    /// One record: a document, a dead letter, or a drop.
    ///
    /// # Errors
    /// An [`ObjectError`] for a flow-log file whose first line is not a header.
    pub fn read(&mut self, record: Record) -> Result<Outcome, ObjectError> {
        let dataset = self.dataset();
        if self.placed.kind == Kind::VpcFlow && self.vpcflow.is_none() {
            let not_a_header =
                |why: String| ObjectError::Shape(format!("the first line of a flow-log file is not its header: {why}"));
            if !seclog_vpcflow::is_header(&record.text) {
                return Err(not_a_header("it does not start with a field name".into()));
            }
            let format = seclog_vpcflow::Format::parse(&record.text).map_err(|e| not_a_header(e.to_string()))?;
            self.vpcflow =
                Some(seclog_vpcflow::VpcFlowTransform::new(format).with_enricher(self.transforms.enricher.clone()));
            return Ok(Outcome::Dropped(DropRule::HeaderLine));
        }
        let record_id = format!("{}#{}", self.url, record.number);
        let made = self.transform(&record, &record_id);
        // The record's text and id move into its document (or its dead letter): not copied.
        let origin = |dataset| Origin { dataset, record_id: Cow::Owned(record_id), raw: Cow::Owned(record.text) };
        Ok(match made {
            Ok(Made::Body { dataset, index, id, body }) => {
                Outcome::Document(Document::new(index, id, WriteOp::Create, body, origin(dataset)))
            }
            Ok(Made::Document(doc)) => Outcome::Document(doc),
            Ok(Made::Dropped(rule)) => Outcome::Dropped(rule),
            Err(e) => Outcome::Document(self.deadletters.document(origin(dataset), &Failure::of_record(&e), self.now)),
        })
    }

    fn transform(&self, record: &Record, record_id: &str) -> Result<Made, RecordError> {
        let t = self.transforms;
        let body = |dataset, index: &IndexPattern, time, body| {
            Ok(Made::Body { dataset, index: index.index_for(time)?, id: self.ids.id(record.number), body })
        };
        let firehose_shaped = |transform: &dyn RecordTransform, index: &IndexPattern| match transform
            .transform(record.text.as_bytes(), &RecordContext { arrival: None })?
        {
            Transformed::Document { body: document, time } => body(transform.dataset(), index, time, document),
            Transformed::Drop(rule) => Ok(Made::Dropped(rule)),
            Transformed::Split(_) => Err(RecordError::new(RecordKind::BadLine, "the line holds more than one record")),
        };
        match self.placed.kind {
            Kind::CloudTrail | Kind::CloudTrailInsight => {
                let dataset = seclog_cloudtrail::transform::DATASET;
                let origin = Origin { dataset, record_id: Cow::Borrowed(record_id), raw: Cow::Borrowed(&record.text) };
                let doc = t.cloudtrail.transform(&record.text, origin, &self.ingested)?;
                Ok(Made::Document(doc.into_owned()))
            }
            Kind::CloudTrailDigest => Ok(Made::Dropped(DropRule::DigestFile)),
            Kind::Waf => firehose_shaped(&t.waf, &t.waf_index),
            Kind::Route53Resolver => firehose_shaped(&t.route53, &t.resolver_index),
            Kind::VpcFlow => match &self.vpcflow {
                Some(v) => firehose_shaped(v, &t.vpcflow_index),
                None => Err(RecordError::new(RecordKind::BadHeader, "no header line")),
            },
            Kind::Alb => {
                let context =
                    LineContext { account: self.placed.account, region: self.placed.region, ingested: &self.ingested };
                let (time, document) = alb::transform_line(&record.text, &context, &t.enricher)?;
                body(alb::DATASET, &t.alb_index, time, document)
            }
        }
    }
}

/// What a record's transform made, before the record's text and id are moved into it.
enum Made {
    /// A document's parts.
    Body { dataset: &'static str, index: String, id: String, body: Vec<u8> },
    /// A whole document (`CloudTrail`'s transform takes the origin itself).
    Document(Document<'static>),
    /// Dropped by a documented rule.
    Dropped(DropRule),
}

/// What reading one object in full gave.
#[derive(Debug, Default)]
pub struct ObjectDocuments {
    /// Its documents and dead letters, in order.
    pub docs: Vec<Document<'static>>,
    /// Records read (header lines included; a digest file counts as one).
    pub records: usize,
    /// Records dropped by rule.
    pub dropped: Vec<DropRule>,
    /// Why the object could not be read to its end, if it could not.
    pub failed: Option<ObjectError>,
}

impl ObjectReader<'_> {
    /// Reads the whole object `body` (for local files and tests; the function reads in chunks).
    /// When the object cannot be read to its end, what was read before stays in the documents
    /// and `failed` says why, for the caller to dead-letter the object ([`ObjectReader::dead_letter`]).
    pub fn read_all(&mut self, body: impl Read, max_bytes: u64) -> ObjectDocuments {
        let gzip = self.object.key.rsplit_once('.').is_some_and(|(_, extension)| extension == "gz");
        let mut out = ObjectDocuments::default();
        let stream = match decoded(body, gzip, max_bytes) {
            Ok(stream) => stream,
            Err(e) => return ObjectDocuments { failed: Some(e), ..out },
        };
        let mut failed = None;
        let read = records(self.placed.kind, stream, |record| {
            out.records += 1;
            match self.read(record) {
                Ok(Outcome::Document(doc)) => out.docs.push(doc),
                Ok(Outcome::Dropped(rule)) => out.dropped.push(rule),
                Err(e) => {
                    failed = Some(e);
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        });
        out.failed = read.err().or(failed);
        if self.placed.kind == Kind::CloudTrailDigest {
            out.records = 1;
            out.dropped.push(DropRule::DigestFile);
        }
        out
    }

    /// The dead letter of an object that cannot be read: its URL and the reason.
    #[must_use]
    pub fn dead_letter(&self, error: &ObjectError) -> Document<'static> {
        let failure = (self.dataset(), error.kind(), error.to_string());
        object_dead_letter(self.deadletters, &self.object, failure, self.now)
    }
}

/// The dead letter of a whole object: its `s3://` URL as id and payload (the object stays in its
/// bucket), with `(dataset, kind, reason)`.
#[must_use]
pub fn object_dead_letter(
    deadletters: &DeadLetters,
    object: &ObjectRef<'_>,
    (dataset, kind, reason): (&'static str, RecordKind, String),
    now: DateTime<Utc>,
) -> Document<'static> {
    let url = object.url();
    let origin = Origin { dataset, record_id: Cow::Owned(url.clone()), raw: Cow::Owned(url) };
    deadletters.document(origin, &Failure::of(kind.as_str(), &reason), now)
}
