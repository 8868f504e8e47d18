//! One query log record → one document. Pure: no I/O.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use seclog_core::document::{Document, Origin, WriteOp};
use seclog_core::ecs::{natural_id, Account, Cloud, Event, Head, Instance, OwnFields, Written};
use seclog_core::firehose::{RecordContext, RecordTransform, Transformed};
use seclog_core::index::{IndexPattern, Rotation};
use seclog_core::json::{shorten, RawObject, ShapeGuard};
use seclog_core::subscription::{DocumentResult, EventContext, EventTransform};
use seclog_core::time::parse_time;
use seclog_core::RecordError;
use seclog_enrich::{Endpoint, Enricher};
use seclog_rules::{Detection, DnsQuery, RuleSet};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::dns::{self, Dns, Question, RawAnswer};
use seclog_core::RecordKind;

/// The dataset of Resolver query log documents.
pub const RESOLVER_DATASET: &str = "aws.route53_resolver";
/// The dataset of public hosted-zone query log documents.
pub const PUBLIC_DATASET: &str = "aws.route53_public";
/// The function's dataset in logs and dead letters (both kinds).
pub const DATASET: &str = "aws.route53";

/// The fields of a public query log line, in order.
pub const PUBLIC_FIELDS: [&str; 10] = [
    "version",
    "query_timestamp",
    "hosted_zone_id",
    "query_name",
    "query_type",
    "response_code",
    "protocol",
    "edge_location",
    "resolver_ip",
    "edns_client_subnet",
];

/// Keys the template maps as objects.
const OBJECT_MAPPED: ShapeGuard = ShapeGuard(&["answers", "srcids"]);

/// Top-level keys the derived block writes; a record key of the same name is kept as
/// `route53_<key>`.
const DERIVED_KEYS: [&str; 8] = ["@timestamp", "event", "cloud", "source", "client", "network", "dns", "detection"];

/// Which kind of query log a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A Resolver (VPC DNS) query log: a JSON object.
    Resolver,
    /// A public hosted-zone query log: a text line.
    Public,
}

impl Kind {
    /// The kind of `record` by its shape: a JSON object is a Resolver log, anything else is read
    /// as a public line.
    #[must_use]
    pub fn of(record: &[u8]) -> Self {
        if record.trim_ascii_start().starts_with(b"{") {
            Self::Resolver
        } else {
            Self::Public
        }
    }
}

/// Query log record → document, for both kinds and both triggers.
#[derive(Debug, Clone)]
pub struct Route53Transform {
    enricher: Arc<Enricher>,
    rules: Arc<RuleSet>,
    resolver_index: IndexPattern,
    public_index: IndexPattern,
}

impl Default for Route53Transform {
    /// Without lookups, writing to `route53-resolver-*` and `route53-public-*` daily.
    fn default() -> Self {
        Self::new(
            seclog_core::family!(crate::RESOLVER_FAMILY, Rotation::Daily),
            seclog_core::family!(crate::PUBLIC_FAMILY, Rotation::Daily),
        )
    }
}

impl Route53Transform {
    /// A transform writing (on the `CloudWatch` Logs path) to these index families.
    #[must_use]
    pub fn new(resolver_index: IndexPattern, public_index: IndexPattern) -> Self {
        Self { enricher: Arc::new(Enricher::disabled()), rules: Arc::default(), resolver_index, public_index }
    }

    /// The same transform, marking the queries the DNS rules match (`detection.*`).
    #[must_use]
    pub fn with_rules(self, rules: Arc<RuleSet>) -> Self {
        Self { rules, ..self }
    }

    /// The same transform, enriching source and client addresses with `enricher`.
    #[must_use]
    pub fn with_enricher(self, enricher: Arc<Enricher>) -> Self {
        Self { enricher, ..self }
    }

    /// Transforms one record of either kind. `account` is the account that owns the log group,
    /// when known (public lines do not carry it).
    ///
    /// # Errors
    /// See the crate docs.
    pub fn transform_record(
        &self,
        record: &[u8],
        account: Option<&str>,
        ingested: &str,
    ) -> Result<(Kind, DateTime<Utc>, Vec<u8>), RecordError> {
        let kind = Kind::of(record);
        let (time, body) = match kind {
            Kind::Resolver => resolver(record, ingested, &self.enricher, &self.rules)?,
            Kind::Public => public(record, account, ingested, &self.enricher, &self.rules)?,
        };
        Ok((kind, time, body))
    }
}

impl RecordTransform for Route53Transform {
    fn dataset(&self) -> &'static str {
        DATASET
    }

    fn transform(&self, data: &[u8], _: &RecordContext) -> Result<Transformed, RecordError> {
        if Kind::of(data) == Kind::Resolver {
            if let Some(parts) = seclog_core::firehose::json_values(data)? {
                return Ok(Transformed::Split(parts));
            }
        } else {
            let mut lines = data.split(|&b| b == b'\n').filter(|l| !l.trim_ascii().is_empty());
            if let (Some(first), Some(second)) = (lines.next(), lines.next()) {
                let parts = [first, second].into_iter().chain(lines).map(|l| l.trim_ascii_end().to_vec());
                return Ok(Transformed::Split(parts.collect()));
            }
        }
        // Firehose delivers the document later: no `event.ingested` (its buffering is bounded).
        self.transform_record(data, None, "").map(|(_, time, body)| Transformed::Document { body, time })
    }
}

impl EventTransform for Route53Transform {
    fn dataset(&self) -> &'static str {
        DATASET
    }

    fn transform<'a>(&self, message: &'a str, origin: Origin<'a>, context: &EventContext<'_>) -> DocumentResult<'a> {
        let account = Some(context.owner).filter(|o| !o.is_empty());
        let (kind, time, body) = self.transform_record(message.as_bytes(), account, context.ingested)?;
        let index = match kind {
            Kind::Resolver => self.resolver_index.index_for(time)?,
            Kind::Public => self.public_index.index_for(time)?,
        };
        let id = natural_id(origin.record_id.clone());
        let origin = Origin { dataset: dataset_of(kind), ..origin };
        Ok(Document::new(index, id, WriteOp::Create, body, origin))
    }
}

fn dataset_of(kind: Kind) -> &'static str {
    match kind {
        Kind::Resolver => RESOLVER_DATASET,
        Kind::Public => PUBLIC_DATASET,
    }
}

/// Whether `record` is a Route 53 query log this transform reads: a JSON object with
/// `query_name` (Resolver), or a line of the public format (its ten fields, the first a version).
/// `seclog replay` tells Route 53 events from others by this.
#[must_use]
pub fn is_query_log(record: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Probe<'a> {
        #[serde(borrow)]
        query_name: Option<Cow<'a, str>>,
    }
    if record.trim_ascii_start().starts_with(b"{") {
        return serde_json::from_slice::<Probe<'_>>(record).is_ok_and(|p| p.query_name.is_some());
    }
    let Ok(line) = std::str::from_utf8(record) else { return false };
    let mut fields = line.split_ascii_whitespace();
    fields.next().is_some_and(is_version) && fields.count() == PUBLIC_FIELDS.len() - 1
}

/// A public log line's version field: digits and dots, starting with a digit (`1.0`, `2.0`).
fn is_version(field: &str) -> bool {
    field.starts_with(|c: char| c.is_ascii_digit()) && field.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

fn bad_timestamp(raw: &str) -> RecordError {
    RecordError::new(RecordKind::BadTimestamp, format!("query_timestamp `{}` is not a date", shorten(raw)))
}

/// A Resolver query log (JSON object) → `(time, body)`.
fn resolver(
    record: &[u8],
    ingested: &str,
    enricher: &Enricher,
    rules: &RuleSet,
) -> Result<(DateTime<Utc>, Vec<u8>), RecordError> {
    let log: RawObject<'_> = serde_json::from_slice(record)
        .map_err(|e| RecordError::new(RecordKind::BadJson, format!("not a JSON object: {e}")))?;
    if log.get("query_name").is_none() && log.get("query_timestamp").is_none() {
        return Err(unknown());
    }
    let raw_time = log
        .str("query_timestamp")
        .ok_or_else(|| RecordError::new(RecordKind::BadTimestamp, "query_timestamp is missing or not a string"))?;
    let time = parse_time(&raw_time).ok_or_else(|| bad_timestamp(&raw_time))?;
    let name = log
        .str("query_name")
        .ok_or_else(|| RecordError::new(RecordKind::MissingField, "query_name is missing or not a string"))?;
    let raw_answers = resolver_answers(log.get("answers"));
    let detection = rules.dns(&DnsQuery {
        query_type: log.str("query_type"),
        rcode: log.str("rcode"),
        answers: raw_answers.iter().filter_map(|a| a.rdata.clone()).collect(),
        srcaddr: log.str("srcaddr"),
        ..DnsQuery::new(name.clone())
    });
    let (answers, resolved_ip) = dns::answers(raw_answers);
    let ids: SrcIds<'_> = log.parse("srcids").unwrap_or_default();
    let source = log.str("srcaddr").filter(|a| !a.is_empty()).map(|address| {
        let port = log.get("srcport").and_then(|raw| number(raw.get()));
        enricher.endpoint(address, port)
    });
    let head = Head::at(
        time,
        Event { action: log.str("firewall_rule_action"), ingested, ..Event::of(RESOLVER_DATASET) },
        Cloud {
            account: log.str("account_id").map(|id| Account { id }),
            instance: ids.instance.map(|id| Instance { id }),
            ..Cloud::aws(None, log.str("region"))
        },
    );
    let derived = Derived {
        source,
        client: None,
        network: Network::of(log.str("transport").as_deref()),
        dns: Dns {
            kind: "query",
            question: Question::new(name, log.str("query_type"), log.str("query_class")),
            response_code: log.str("rcode"),
            answers,
            resolved_ip,
        },
        detection,
    };
    let mut body = Vec::with_capacity(record.len() + 1024);
    let own = OwnFields::of(OBJECT_MAPPED, &log, &DERIVED_KEYS, "route53");
    serde_json::to_writer(&mut body, &Written { head: &head, derived: &derived, own })
        .map_err(|e| RecordError::new(RecordKind::BadJson, e.to_string()))?;
    Ok((time, body))
}

/// `answers` is a list of answers; an edited sample has one answer as an object.
fn resolver_answers(raw: Option<&RawValue>) -> Vec<RawAnswer<'_>> {
    let Some(raw) = raw else { return Vec::new() };
    serde_json::from_str::<Vec<RawAnswer<'_>>>(raw.get())
        .or_else(|_| serde_json::from_str::<RawAnswer<'_>>(raw.get()).map(|a| vec![a]))
        .unwrap_or_default()
}

/// A number, or a string holding one (`srcport` is a string).
fn number(raw: &str) -> Option<u64> {
    raw.trim_matches('"').trim().parse().ok()
}

fn unknown() -> RecordError {
    RecordError::new(
        RecordKind::UnknownRecord,
        "neither a Resolver query log (a JSON object with query_name and query_timestamp) nor a public \
         query log line (`<version> <timestamp> <zone> <name> <type> <rcode> <protocol> <edge> <resolver-ip> <subnet>`)",
    )
}

/// A public hosted-zone query log line → `(time, body)`.
fn public(
    record: &[u8],
    account: Option<&str>,
    ingested: &str,
    enricher: &Enricher,
    rules: &RuleSet,
) -> Result<(DateTime<Utc>, Vec<u8>), RecordError> {
    let line = std::str::from_utf8(record)
        .map_err(|e| RecordError::new(RecordKind::BadLine, format!("not UTF-8 text: {e}")))?
        .trim_ascii();
    let fields: Vec<&str> = line.split_ascii_whitespace().collect();
    if !fields.first().is_some_and(|v| is_version(v)) {
        return Err(unknown());
    }
    let Ok(fields): Result<[&str; 10], _> = fields.try_into() else {
        let found = line.split_ascii_whitespace().count();
        return Err(RecordError::new(
            RecordKind::BadLine,
            format!("a public query log line has 10 fields, this one {found}"),
        ));
    };
    let [_, raw_time, _, name, kind, rcode, protocol, _, resolver_ip, subnet] = fields;
    let time = parse_time(raw_time).ok_or_else(|| bad_timestamp(raw_time))?;
    let client = (subnet != "-").then(|| {
        let network = subnet.split_once('/').map_or(subnet, |(network, _)| network);
        Endpoint { address: Cow::Borrowed(subnet), ..enricher.endpoint(Cow::Borrowed(network), None) }
    });
    let detection = rules.dns(&DnsQuery {
        query_type: Some(Cow::Borrowed(kind)),
        rcode: Some(Cow::Borrowed(rcode)),
        srcaddr: Some(Cow::Borrowed(resolver_ip)),
        ..DnsQuery::new(Cow::Borrowed(name))
    });
    let head =
        Head::at(time, Event { ingested, ..Event::of(PUBLIC_DATASET) }, Cloud::aws(account.map(Cow::Borrowed), None));
    let derived = Derived {
        source: Some(enricher.endpoint(Cow::Borrowed(resolver_ip), None)),
        client,
        network: Network::of(Some(protocol)),
        dns: Dns {
            kind: "query",
            question: Question::new(Cow::Borrowed(name), Some(Cow::Borrowed(kind)), None),
            response_code: Some(Cow::Borrowed(rcode)),
            answers: Vec::new(),
            resolved_ip: Vec::new(),
        },
        detection,
    };
    let mut body = Vec::with_capacity(line.len() * 3 + 1024);
    serde_json::to_writer(&mut body, &Written { head: &head, derived: &derived, own: PublicFields(fields) })
        .map_err(|e| RecordError::new(RecordKind::BadJson, e.to_string()))?;
    Ok((time, body))
}

#[derive(Debug, Default, Deserialize)]
struct SrcIds<'a> {
    #[serde(borrow, default)]
    instance: Option<Cow<'a, str>>,
}

/// The derived block after the head, for both kinds.
#[serde_with::skip_serializing_none]
#[derive(Debug, Serialize)]
struct Derived<'a> {
    /// The address that asked: the VPC client (Resolver) or the resolver (public).
    source: Option<Endpoint<'a>>,
    /// The EDNS client subnet of a public query: the network of the client the resolver asked
    /// for, looked up by its first address.
    client: Option<Endpoint<'a>>,
    #[serde(skip_serializing_if = "Network::is_unknown")]
    network: Network,
    dns: Dns<'a>,
    /// The DNS rules this query matched.
    #[serde(skip_serializing_if = "Detection::is_empty")]
    detection: Detection,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
struct Network {
    transport: Option<&'static str>,
    iana_number: Option<&'static str>,
    protocol: &'static str,
}

impl Network {
    fn is_unknown(&self) -> bool {
        *self == Self::default()
    }

    fn of(transport: Option<&str>) -> Self {
        let (transport, iana_number) = match transport {
            Some(t) if t.eq_ignore_ascii_case("udp") => (Some("udp"), Some("17")),
            Some(t) if t.eq_ignore_ascii_case("tcp") => (Some("tcp"), Some("6")),
            _ => (None, None),
        };
        Self { transport, iana_number, protocol: "dns" }
    }
}

/// A public query log line's own fields, by their names (`-`, "not present", left out).
struct PublicFields<'a>([&'a str; 10]);

impl Serialize for PublicFields<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(PUBLIC_FIELDS.iter().zip(self.0).filter(|(_, value)| *value != "-"))
    }
}

#[cfg(test)]
mod tests;
