//! `CloudTrail` record → document. Pure: no I/O.
//!
//! The record keeps `CloudTrail`'s own field names (`eventName`, `userIdentity.*`, …), beside a small
//! ECS-style block for analysis: `@timestamp`, `event.*`, `cloud.*`, `user.name`, `source.*`,
//! `user_agent.original`, `related.*`. Values are copied as raw JSON, never re-parsed, except the
//! few fields the ECS block is derived from.
//!
//! Free-form objects (`requestParameters`, `responseElements`, `additionalEventData`,
//! `serviceEventDetails`, …) are indexed as `flat_object` by the shipped template: searchable by
//! dotted path without a mapping field per key. Those keys, and the other object-mapped keys
//! (`userIdentity`, `tlsDetails`, `resources`), accept only an object, null or an array of objects:
//! any other value (a string, a number, an array of strings) is kept as its JSON text under
//! `{"_value": …}`, so one odd record never becomes a mapping conflict.
//!
//! Outcomes, per record:
//! - not a JSON object → `bad_json`; `eventID` or `eventTime` missing or not a string →
//!   `missing_field`; `eventTime` not a date → `bad_timestamp`. Each is dead-lettered by the handler.
//! - otherwise one document with id = `eventID` (a SHA-256 digest when longer than `OpenSearch`'s
//!   512-byte id limit), in the index of `eventTime`'s day.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use seclog_core::document::{Document, Origin, WriteOp};
use seclog_core::ecs::{natural_id, Cloud, Event, Head, OwnFields, Related, Written};
use seclog_core::index::IndexPattern;
use seclog_core::json::{shorten, RawObject as Record, ShapeGuard};
use seclog_core::subscription::{DocumentResult, EventContext, EventTransform};
use seclog_core::time::parse_time;
use seclog_core::RecordError;
use seclog_core::RecordKind;
use seclog_enrich::{user_agent, Endpoint, Enricher};
use seclog_rules::{Detection, Known, RuleSet};
use serde::{Deserialize, Serialize};

/// The dataset name of every `CloudTrail` document.
pub const DATASET: &str = "aws.cloudtrail";

/// Keys mapped as objects by the template: the [free-form](FREE_FORM) ones first, then
/// `userIdentity`, `tlsDetails`, `resources`.
const OBJECT_MAPPED_KEYS: [&str; 9] = [
    "requestParameters",
    "responseElements",
    "additionalEventData",
    "serviceEventDetails",
    "insightDetails",
    "edgeDeviceDetails",
    "userIdentity",
    "tlsDetails",
    "resources",
];

/// Keys whose values are free-form and indexed as `flat_object`.
pub const FREE_FORM: &[&str] = OBJECT_MAPPED_KEYS.split_at(6).0;

const OBJECT_MAPPED: ShapeGuard = ShapeGuard(&OBJECT_MAPPED_KEYS);

/// Top-level keys the ECS block writes; a record key of the same name is kept as `cloudtrail_<key>`.
const ECS_KEYS: [&str; 9] =
    ["@timestamp", "event", "cloud", "user", "source", "user_agent", "related", "tags", "detection"];

// `Option<Option<_>>`: absent, `null` or a string (`serde_with`'s `double_option`), which the rules
// tell apart.
#[allow(clippy::option_option)]
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct UserIdentity<'a> {
    #[serde(rename = "type", borrow, with = "serde_with::rust::double_option")]
    kind: Option<Option<Cow<'a, str>>>,
    #[serde(borrow)]
    user_name: Option<Cow<'a, str>>,
    #[serde(borrow, with = "serde_with::rust::double_option")]
    arn: Option<Option<Cow<'a, str>>>,
    #[serde(borrow)]
    account_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    principal_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    invoked_by: Option<Cow<'a, str>>,
    #[serde(borrow)]
    session_context: Option<SessionContext<'a>>,
    #[serde(borrow)]
    on_behalf_of: Option<OnBehalfOf<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionContext<'a> {
    #[serde(borrow, default)]
    session_issuer: Option<SessionIssuer<'a>>,
}

#[allow(clippy::option_option)]
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionIssuer<'a> {
    #[serde(rename = "type", borrow, default, with = "serde_with::rust::double_option")]
    kind: Option<Option<Cow<'a, str>>>,
    #[serde(borrow, default)]
    user_name: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OnBehalfOf<'a> {
    #[serde(borrow, default)]
    user_id: Option<Cow<'a, str>>,
}

impl<'a> UserIdentity<'a> {
    /// The record's `userIdentity`, read once for the ECS block and the rules, and whether the
    /// rules may take its fields from it: only an object with no array anywhere inside (serde
    /// would read an array as a struct; Sigma reads it member by member). Otherwise the rules read
    /// the record themselves. (A key spelled with dots inside `userIdentity`, such as
    /// `"sessionContext.sessionIssuer.type"`, is not read in place of the nested path: `CloudTrail`
    /// writes no such key.)
    fn read(record: &Record<'a>) -> (Self, bool) {
        let Some(raw) = record.get("userIdentity") else { return (Self::default(), false) };
        match serde_json::from_str::<Self>(raw.get()) {
            Ok(identity) => {
                let text = raw.get().trim_start();
                (identity, text.starts_with('{') && !text.contains('['))
            }
            Err(_) => (Self::default(), false),
        }
    }

    fn kind(&self) -> Option<&str> {
        self.kind.as_ref()?.as_deref()
    }

    fn arn(&self) -> Option<&Cow<'a, str>> {
        self.arn.as_ref()?.as_ref()
    }

    /// What the rules would read at the nested paths they ask of every record.
    fn known(&self) -> [(&'static str, Known<'_>); 3] {
        let issuer = self.session_context.as_ref().and_then(|c| c.session_issuer.as_ref());
        [
            ("userIdentity.type", known(self.kind.as_ref())),
            ("userIdentity.arn", known(self.arn.as_ref())),
            (
                "userIdentity.sessionContext.sessionIssuer.type",
                issuer.map_or(Known::Absent, |i| known(i.kind.as_ref())),
            ),
        ]
    }
}

fn known<'k>(field: Option<&'k Option<Cow<'_, str>>>) -> Known<'k> {
    match field {
        None => Known::Absent,
        Some(None) => Known::Null,
        Some(Some(s)) => Known::Str(s),
    }
}

/// Turns `CloudTrail` records into documents.
#[derive(Debug, Clone)]
pub struct Transformer {
    index: IndexPattern,
    enricher: Arc<Enricher>,
    rules: Arc<RuleSet>,
}

impl Transformer {
    /// A transformer writing to `index`, without GeoIP or AWS-range lookups.
    #[must_use]
    pub fn new(index: IndexPattern) -> Self {
        Self { index, enricher: Arc::new(Enricher::disabled()), rules: Arc::default() }
    }

    /// The same transformer, marking the records the `CloudTrail` rules match (`detection.*`).
    #[must_use]
    pub fn with_rules(self, rules: Arc<RuleSet>) -> Self {
        Self { rules, ..self }
    }

    /// The same transformer, enriching `sourceIPAddress` with `enricher`.
    #[must_use]
    pub fn with_enricher(self, enricher: Arc<Enricher>) -> Self {
        Self { enricher, ..self }
    }

    /// Transforms one record (a log event's message) read at `ingested` (RFC 3339; empty: not
    /// written).
    ///
    /// # Errors
    /// A [`RecordError`] saying why the record cannot be indexed (see the module docs).
    pub fn transform<'a>(
        &self,
        message: &'a str,
        origin: Origin<'a>,
        ingested: &str,
    ) -> Result<Document<'a>, RecordError> {
        let record: Record<'_> = serde_json::from_str(message)
            .map_err(|e| RecordError::json(RecordKind::BadJson, "not a JSON object", &e))?;
        let event_id = required_str(&record, "eventID")?;
        let event_time = required_str(&record, "eventTime")?;
        let time = parse_time(&event_time).ok_or_else(|| {
            RecordError::new(RecordKind::BadTimestamp, format!("eventTime `{}` is not a date", shorten(&event_time)))
        })?;
        let (identity, shared) = UserIdentity::read(&record);
        let (head, mut ecs) = Ecs::derive(&record, &identity, &event_id, time, ingested, &self.enricher);
        ecs.detection = if shared {
            self.rules.cloudtrail_known(&record, &identity.known())
        } else {
            self.rules.cloudtrail(&record)
        };
        // The document is the record plus a few hundred bytes of ECS block: size it once.
        let mut body = Vec::with_capacity(message.len() + 1024);
        let own = OwnFields::of(OBJECT_MAPPED, &record, &ECS_KEYS, "cloudtrail");
        serde_json::to_writer(&mut body, &Written { head: &head, derived: &ecs, own })
            .map_err(|e| RecordError::new(RecordKind::BadJson, e.to_string()))?;
        Ok(Document::new(self.index.index_for(time)?, natural_id(event_id), WriteOp::Create, body, origin))
    }
}

impl EventTransform for Transformer {
    fn dataset(&self) -> &'static str {
        DATASET
    }

    fn transform<'a>(&self, message: &'a str, origin: Origin<'a>, context: &EventContext<'_>) -> DocumentResult<'a> {
        Transformer::transform(self, message, origin, context.ingested)
    }
}

fn required_str<'a>(record: &Record<'a>, key: &'static str) -> Result<Cow<'a, str>, RecordError> {
    record.str(key).filter(|s| !s.is_empty()).ok_or_else(|| {
        RecordError::new(RecordKind::MissingField, format!("{key} is missing or not a non-empty string"))
    })
}

/// The ECS-style block after the head.
#[serde_with::skip_serializing_none]
#[derive(Debug, Serialize)]
struct Ecs<'a> {
    user: Option<User<'a>>,
    source: Option<Endpoint<'a>>,
    user_agent: Option<user_agent::Logged<'a>>,
    #[serde(skip_serializing_if = "Related::is_empty")]
    related: Related<'a>,
    /// The rules this record matched, as `CloudTrail` wrote it.
    #[serde(skip_serializing_if = "Detection::is_empty")]
    detection: Detection,
}

#[derive(Debug, Serialize)]
struct User<'a> {
    name: Cow<'a, str>,
}

impl<'a> Ecs<'a> {
    fn derive(
        record: &Record<'a>,
        identity: &UserIdentity<'a>,
        event_id: &str,
        time: DateTime<Utc>,
        ingested: &'a str,
        enricher: &Enricher,
    ) -> (Head<'a>, Self) {
        let user_name = user_name(identity);
        let mut related = Related::default();
        for name in [user_name.clone(), identity.user_name.clone(), issuer_name(identity)].into_iter().flatten() {
            if !name.is_empty() && !related.user.contains(&name) {
                related.user.push(name);
            }
        }
        let source = record.str("sourceIPAddress").filter(|s| !s.is_empty()).map(|address| {
            let source = enricher.endpoint(address, None);
            related.ip.extend(source.ip);
            source
        });
        let action = record.str("eventName");
        let outcome = outcome(record, action.as_deref());
        let account = record.str("recipientAccountId").or_else(|| identity.account_id.clone());
        let event = Event {
            id: Some(Cow::Owned(event_id.to_owned())),
            action,
            provider: record.str("eventSource"),
            outcome: Some(outcome),
            ingested,
            ..Event::of(DATASET)
        };
        let head = Head::at(time, event, Cloud::aws(account, record.str("awsRegion")));
        let ecs = Self {
            user: user_name.map(|name| User { name }),
            source,
            user_agent: record.str("userAgent").and_then(user_agent::Logged::of),
            related,
            detection: Detection::default(),
        };
        (head, ecs)
    }
}

/// The one key of `responseElements` the outcome needs.
#[derive(Deserialize)]
struct Sign<'a> {
    #[serde(rename = "ConsoleLogin", borrow)]
    console_login: Option<Cow<'a, str>>,
}

/// `failure` when `errorCode` is set or a console sign-in says `Failure`, else `success`.
fn outcome(record: &Record<'_>, action: Option<&str>) -> &'static str {
    if record.str("errorCode").is_some_and(|c| !c.is_empty()) {
        return "failure";
    }
    // Only sign-in events answer in `responseElements.ConsoleLogin`; other responses can be
    // large and are not read.
    let failed_sign_in = action == Some("ConsoleLogin")
        && record
            .parse::<Sign<'_>>("responseElements")
            .and_then(|s| s.console_login)
            .is_some_and(|v| v.eq_ignore_ascii_case("Failure"));
    if failed_sign_in {
        "failure"
    } else {
        "success"
    }
}

fn issuer_name<'a>(identity: &UserIdentity<'a>) -> Option<Cow<'a, str>> {
    identity.session_context.as_ref()?.session_issuer.as_ref()?.user_name.clone()
}

/// The last `/`-separated part of an ARN (`…:assumed-role/Role/session` → `session`).
fn arn_tail<'a>(arn: Option<&Cow<'a, str>>) -> Option<Cow<'a, str>> {
    let tail = |s: &str| s.rsplit('/').next().filter(|t| !t.is_empty() && *t != s).map(str::to_owned);
    match arn? {
        Cow::Borrowed(s) => s.rsplit('/').next().filter(|t| !t.is_empty() && t != s).map(Cow::Borrowed),
        Cow::Owned(s) => tail(s).map(Cow::Owned),
    }
}

/// `user.name` for every identity type.
fn user_name<'a>(identity: &UserIdentity<'a>) -> Option<Cow<'a, str>> {
    let name = match identity.kind()? {
        "Root" => identity.user_name.clone().or(Some(Cow::Borrowed("root"))),
        "IAMUser" => identity.user_name.clone().or_else(|| arn_tail(identity.arn())),
        // The role session name: who (or what) is acting through the role.
        "AssumedRole" | "FederatedUser" => arn_tail(identity.arn()).or_else(|| issuer_name(identity)),
        "AWSService" => identity.invoked_by.clone(),
        "AWSAccount" => identity.account_id.clone().or_else(|| identity.principal_id.clone()),
        "IdentityCenterUser" => {
            identity.user_name.clone().or_else(|| identity.on_behalf_of.as_ref().and_then(|o| o.user_id.clone()))
        }
        _ => identity.user_name.clone().or_else(|| identity.principal_id.clone()),
    };
    name.filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests;
