//! One finding (ASFF, or GuardDuty's own format) → one document. Pure: no I/O.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use seclog_core::document::{digest_id, Document, Origin, WriteOp};
use seclog_core::index::{IndexPattern, Rotation, TimeWindow};
use seclog_core::json::{shorten, RawObject, ShapeGuard};
use seclog_core::time::parse_time;
use seclog_core::RecordError;
use seclog_enrich::{Endpoint, Enricher};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

/// The dataset of every finding document.
pub const DATASET: &str = "aws.securityhub";

/// ASFF and GuardDuty keys the template maps as objects (or `flat_object`): a value of another
/// shape is kept as JSON text.
const OBJECT_MAPPED: ShapeGuard = ShapeGuard(&[
    "Severity",
    "Compliance",
    "Workflow",
    "ProductFields",
    "UserDefinedFields",
    "Resources",
    "Remediation",
    "FindingProviderFields",
    "Note",
    "Network",
    "resource",
    "service",
]);

/// Top-level keys the derived block writes; a finding key of the same name is kept as
/// `securityhub_<key>`.
const DERIVED_KEYS: [&str; 5] = ["@timestamp", "event", "cloud", "finding", "source"];

/// A severity label, ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    /// No issue (a passed check).
    Informational,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// The ASFF label of a normalised score (0–100), as Security Hub assigns it.
    #[must_use]
    pub fn of_normalized(score: f64) -> Self {
        match score {
            s if s >= 90.0 => Self::Critical,
            s if s >= 70.0 => Self::High,
            s if s >= 40.0 => Self::Medium,
            s if s >= 1.0 => Self::Low,
            _ => Self::Informational,
        }
    }

    /// The label of a GuardDuty severity (1.0–10.0): low below 4, medium below 7, high below 9,
    /// critical from 9 (attack sequences).
    #[must_use]
    pub fn of_guardduty(score: f64) -> Self {
        match score {
            s if s >= 9.0 => Self::Critical,
            s if s >= 7.0 => Self::High,
            s if s >= 4.0 => Self::Medium,
            _ => Self::Low,
        }
    }

    /// The label.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Informational => "INFORMATIONAL",
            Self::Low => "LOW",
            Self::Medium => "MEDIUM",
            Self::High => "HIGH",
            Self::Critical => "CRITICAL",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_uppercase().as_str() {
            "INFORMATIONAL" => Ok(Self::Informational),
            "LOW" => Ok(Self::Low),
            "MEDIUM" => Ok(Self::Medium),
            "HIGH" => Ok(Self::High),
            "CRITICAL" => Ok(Self::Critical),
            other => Err(format!("`{other}` is not one of INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL")),
        }
    }
}

/// A product name made into an index-name part: lower-case ASCII letters and digits, other runs
/// as one `-`, at most 40 bytes (`Security Hub` → `security-hub`, `GuardDuty` → `guardduty`).
#[must_use]
pub fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(40);
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        "unknown".to_owned()
    } else {
        out.to_owned()
    }
}

/// The products that get an index family of their own: AWS's own Security Hub integrations. Any
/// other product name (a partner's, or whatever a member account imports with
/// `BatchImportFindings`) is written to `<prefix>-other-YYYY.MM`, so findings cannot create index
/// families at will; the document keeps its real product in `finding.product`.
pub(crate) const PRODUCT_INDICES: [&str; 12] = [
    "security-hub",
    "guardduty",
    "inspector",
    "macie",
    "config",
    "iam-access-analyzer",
    "firewall-manager",
    "systems-manager-patch-manager",
    "health",
    "detective",
    "audit-manager",
    "trusted-advisor",
];

/// The index-name part of a product: its slug when it is one of [`PRODUCT_INDICES`], else `other`.
#[must_use]
pub(crate) fn index_part(product: &str) -> &str {
    if PRODUCT_INDICES.contains(&product) {
        product
    } else {
        "other"
    }
}

/// Which format a finding is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The AWS Security Finding Format (`detail.findings[]` of Security Hub events).
    Asff,
    /// GuardDuty's own format (`detail` of `GuardDuty Finding` events).
    GuardDuty,
}

/// What the filters and the index need to know of a finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    /// The product slug (`guardduty`, `security-hub`, `config`, …).
    pub product: String,
    /// The severity label.
    pub severity: Severity,
    /// `RecordState` is `ACTIVE` (GuardDuty: not archived).
    pub active: bool,
}

/// A finding ready to write: the facts, and its document.
#[derive(Debug)]
pub struct Prepared<'a> {
    /// For the filters.
    pub facts: Facts,
    /// Id = digest of the finding's `Id`, external version = `UpdatedAt` (ms × 1000), then a
    /// digest of the state.
    pub document: Document<'a>,
}

/// Turns a finding into its document, for the index family `<prefix>-<product>-YYYY.MM` (the month
/// of `CreatedAt`, which does not change when the finding is updated, so every state of a finding
/// lands on the same document).
///
/// # Errors
/// `bad_json` when not a JSON object; `missing_field` without `Id` (GuardDuty: `arn`/`id`);
/// `bad_timestamp` when `UpdatedAt` is missing or not a date; `time_out_of_range` when the month's
/// time is outside `window` of now.
pub fn prepare<'a>(
    raw: &'a RawValue,
    format: Format,
    prefix: &str,
    window: TimeWindow,
    origin: Origin<'a>,
    enricher: &Enricher,
    ingested: &str,
) -> Result<Prepared<'a>, RecordError> {
    let finding: RawObject<'a> = serde_json::from_str(raw.get())
        .map_err(|e| RecordError::json("bad_json", "the finding is not a JSON object", &e))?;
    let derived = match format {
        Format::Asff => Derived::of_asff(&finding, enricher)?,
        Format::GuardDuty => Derived::of_guardduty(&finding, enricher)?,
    };
    let family = format!("{prefix}-{}", index_part(&derived.facts.product));
    let family = IndexPattern::new(&family, Rotation::Monthly)
        .map_err(|reason| RecordError::new("bad_index", format!("index family `{family}` {reason}")))?;
    let index = family.within(window).index_for(derived.created.unwrap_or(derived.updated))?;
    let version = version(derived.updated.timestamp_millis(), raw.get())
        .ok_or_else(|| RecordError::new("bad_timestamp", "UpdatedAt is before 1970"))?;
    let mut body = Vec::with_capacity(raw.get().len() + 768);
    serde_json::to_writer(&mut body, &Output { derived: &derived, finding: &finding, ingested })
        .map_err(|e| RecordError::json("bad_json", "", &e))?;
    let document = Document::new(index, digest_id(&derived.id), WriteOp::IndexExternal { version }, body, origin);
    Ok(Prepared { facts: derived.facts.clone(), document })
}

/// The external version of a finding's state: `UpdatedAt` in epoch milliseconds × 1000, plus a
/// digest of the finding's canonical JSON (keys sorted, no white space: the state, not how it was
/// spelt), modulo 1000. A later `UpdatedAt` always wins; two different
/// states with the same `UpdatedAt` (Security Hub does send these) converge on the same one in every
/// order of delivery, instead of whichever arrived first; the same state again is the same version,
/// a conflict: already present. `None` before 1970.
#[must_use]
pub(crate) fn version(updated_ms: i64, finding: &str) -> Option<u64> {
    let ms = u64::try_from(updated_ms).ok()?;
    // serde_json's map keeps keys sorted (no `preserve_order`): writing the value back is canonical.
    let canonical = serde_json::from_str::<serde_json::Value>(finding).ok()?.to_string();
    // The first 16 bits of its SHA-256 (hex), modulo 1000.
    let tie = u64::from_str_radix(&digest_id(&canonical)[..4], 16).ok()? % 1000;
    ms.checked_mul(1000)?.checked_add(tie)
}

#[derive(Debug, Default, Deserialize)]
struct AsffSeverity {
    #[serde(rename = "Label", default)]
    label: Option<String>,
    #[serde(rename = "Normalized", default)]
    normalized: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
struct Status<'a> {
    #[serde(rename = "Status", borrow, default)]
    status: Option<Cow<'a, str>>,
    #[serde(rename = "SecurityControlId", borrow, default)]
    control: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
struct AsffResource<'a> {
    #[serde(rename = "Type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(rename = "Id", borrow, default)]
    id: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
struct AsffNetwork<'a> {
    #[serde(rename = "SourceIpV4", borrow, default)]
    v4: Option<Cow<'a, str>>,
    #[serde(rename = "SourceIpV6", borrow, default)]
    v6: Option<Cow<'a, str>>,
}

/// The common block: the same fields for both formats, so one query covers both.
#[derive(Debug)]
struct Derived<'a> {
    id: Cow<'a, str>,
    updated: DateTime<Utc>,
    created: Option<DateTime<Utc>>,
    first_observed: Option<DateTime<Utc>>,
    last_observed: Option<DateTime<Utc>>,
    facts: Facts,
    product_name: Cow<'a, str>,
    account: Option<Cow<'a, str>>,
    region: Option<Cow<'a, str>>,
    generator_id: Option<Cow<'a, str>>,
    types: Vec<Cow<'a, str>>,
    title: Option<Cow<'a, str>>,
    normalized: Option<u64>,
    compliance: Status<'a>,
    workflow_status: Option<Cow<'a, str>>,
    record_state: Cow<'a, str>,
    resources: Vec<AsffResource<'a>>,
    source: Option<Endpoint<'a>>,
}

fn time_of(finding: &RawObject<'_>, key: &str) -> Result<Option<DateTime<Utc>>, RecordError> {
    let Some(raw) = finding.str(key) else { return Ok(None) };
    parse_time(&raw)
        .map(Some)
        .ok_or_else(|| RecordError::new("bad_timestamp", format!("{key} `{}` is not a date", shorten(&raw))))
}

fn required_time(finding: &RawObject<'_>, key: &'static str) -> Result<DateTime<Utc>, RecordError> {
    time_of(finding, key)?.ok_or_else(|| RecordError::new("bad_timestamp", format!("{key} is missing")))
}

fn required_id<'a>(finding: &RawObject<'a>, keys: &[&str]) -> Result<Cow<'a, str>, RecordError> {
    keys.iter().find_map(|k| finding.str(k).filter(|s| !s.is_empty())).ok_or_else(|| {
        RecordError::new("missing_field", format!("{} is missing or not a non-empty string", keys.join(" or ")))
    })
}

impl<'a> Derived<'a> {
    fn of_asff(f: &RawObject<'a>, enricher: &Enricher) -> Result<Self, RecordError> {
        let id = required_id(f, &["Id"])?;
        let updated = required_time(f, "UpdatedAt")?;
        let created = time_of(f, "CreatedAt")?;
        let fields: std::collections::HashMap<Cow<'a, str>, Cow<'a, str>> =
            f.parse("ProductFields").unwrap_or_default();
        let product_name = f
            .str("ProductName")
            .or_else(|| fields.get("aws/securityhub/ProductName").cloned())
            .or_else(|| {
                f.str("ProductArn").and_then(|arn| {
                    let (_, product) = arn.rsplit_once('/')?;
                    Some(Cow::Owned(product.to_owned()))
                })
            })
            .unwrap_or(Cow::Borrowed("unknown"));
        let severity: AsffSeverity = f.parse("Severity").unwrap_or_default();
        let label = severity
            .label
            .as_deref()
            .and_then(|l| l.parse().ok())
            .or_else(|| fields.get("aws/securityhub/SeverityLabel").and_then(|l| l.parse().ok()))
            .or_else(|| severity.normalized.map(Severity::of_normalized))
            .unwrap_or(Severity::Informational);
        let record_state = f.str("RecordState").unwrap_or(Cow::Borrowed("ACTIVE"));
        let workflow: Status<'a> = f.parse("Workflow").unwrap_or_default();
        let network: AsffNetwork<'a> = f.parse("Network").unwrap_or_default();
        let mut compliance: Status<'a> = f.parse("Compliance").unwrap_or_default();
        // Older findings name the control only in ProductFields (FSBP `ControlId`, CIS `RuleId`,
        // Config the rule's name).
        compliance.control = compliance.control.or_else(|| {
            ["ControlId", "RuleId", "aws/config/ConfigRuleName"].iter().find_map(|k| fields.get(*k).cloned())
        });
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let normalized = severity.normalized.map(|n| n.clamp(0.0, 100.0).round() as u64);
        Ok(Self {
            id,
            updated,
            created,
            first_observed: time_of(f, "FirstObservedAt")?,
            last_observed: time_of(f, "LastObservedAt")?,
            facts: Facts { product: slug(&product_name), severity: label, active: record_state == "ACTIVE" },
            product_name,
            account: f.str("AwsAccountId"),
            region: f.str("Region"),
            generator_id: f.str("GeneratorId"),
            types: f.parse("Types").unwrap_or_default(),
            title: f.str("Title"),
            normalized,
            compliance,
            workflow_status: workflow.status.or_else(|| f.str("WorkflowState")),
            record_state,
            resources: f.parse("Resources").unwrap_or_default(),
            source: network.v4.or(network.v6).filter(|a| !a.is_empty()).map(|a| enricher.endpoint(a, None)),
        })
    }

    fn of_guardduty(f: &RawObject<'a>, enricher: &Enricher) -> Result<Self, RecordError> {
        // The ARN is what Security Hub uses as the ASFF `Id` of a GuardDuty finding, so both
        // routes of the same finding write the same document.
        let id = required_id(f, &["arn", "id"])?;
        let updated = required_time(f, "updatedAt")?;
        let created = time_of(f, "createdAt")?;
        let score = f.parse::<f64>("severity").unwrap_or(0.0);
        let service: GuardDutyService<'a> = f.parse("service").unwrap_or_default();
        let resource: GuardDutyResource<'a> = f.parse("resource").unwrap_or_default();
        let archived = service.archived.unwrap_or(false);
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let normalized = Some((score * 10.0).clamp(0.0, 100.0).round() as u64);
        Ok(Self {
            id,
            updated,
            created,
            first_observed: service.first_seen,
            last_observed: service.last_seen,
            facts: Facts { product: "guardduty".into(), severity: Severity::of_guardduty(score), active: !archived },
            product_name: Cow::Borrowed("GuardDuty"),
            account: f.str("accountId"),
            region: f.str("region"),
            generator_id: service.detector_id,
            types: f.str("type").into_iter().collect(),
            title: f.str("title"),
            normalized,
            compliance: Status::default(),
            workflow_status: None,
            record_state: Cow::Borrowed(if archived { "ARCHIVED" } else { "ACTIVE" }),
            resources: resource
                .resource_type
                .map(|kind| AsffResource { kind: Some(kind), id: None })
                .into_iter()
                .collect(),
            source: service
                .action
                .and_then(GuardDutyAction::remote_ip)
                .filter(|a| !a.is_empty())
                .map(|a| enricher.endpoint(a, None)),
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GuardDutyService<'a> {
    #[serde(default)]
    archived: Option<bool>,
    #[serde(rename = "eventFirstSeen", default, deserialize_with = "lenient_time")]
    first_seen: Option<DateTime<Utc>>,
    #[serde(rename = "eventLastSeen", default, deserialize_with = "lenient_time")]
    last_seen: Option<DateTime<Utc>>,
    #[serde(borrow, default)]
    detector_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    action: Option<GuardDutyAction<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GuardDutyResource<'a> {
    #[serde(borrow, default)]
    resource_type: Option<Cow<'a, str>>,
}

/// The actions whose remote address is the finding's source.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GuardDutyAction<'a> {
    #[serde(rename = "awsApiCallAction", borrow, default)]
    aws_api_call: Option<Remote<'a>>,
    #[serde(rename = "networkConnectionAction", borrow, default)]
    network_connection: Option<Remote<'a>>,
    #[serde(rename = "kubernetesApiCallAction", borrow, default)]
    kubernetes_api_call: Option<Remote<'a>>,
    #[serde(rename = "rdsLoginAttemptAction", borrow, default)]
    rds_login_attempt: Option<Remote<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Remote<'a> {
    #[serde(borrow, default)]
    remote_ip_details: Option<RemoteIp<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RemoteIp<'a> {
    #[serde(rename = "ipAddressV4", borrow, default)]
    v4: Option<Cow<'a, str>>,
    #[serde(rename = "ipAddressV6", borrow, default)]
    v6: Option<Cow<'a, str>>,
}

impl<'a> GuardDutyAction<'a> {
    fn remote_ip(self) -> Option<Cow<'a, str>> {
        [self.aws_api_call, self.network_connection, self.kubernetes_api_call, self.rds_login_attempt]
            .into_iter()
            .flatten()
            .find_map(|r| r.remote_ip_details.and_then(|d| d.v4.or(d.v6)))
    }
}

/// A date in any form [`parse_time`] reads; anything else is no date (GuardDuty's observation times
/// are informative: a bad one does not refuse the finding).
fn lenient_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    Ok(value.as_str().and_then(parse_time))
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Serialize for Derived<'_> {
    /// The `finding` block.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("product", &self.facts.product)?;
        map.serialize_entry("product_name", &self.product_name)?;
        if let Some(g) = &self.generator_id {
            map.serialize_entry("generator_id", g)?;
        }
        if !self.types.is_empty() {
            map.serialize_entry("types", &self.types)?;
        }
        if let Some(t) = &self.title {
            map.serialize_entry("title", t)?;
        }
        map.serialize_entry("severity", &SeverityOut { label: self.facts.severity, normalized: self.normalized })?;
        if let Some(s) = &self.compliance.status {
            map.serialize_entry("compliance_status", s)?;
        }
        if let Some(c) = &self.compliance.control {
            map.serialize_entry("control_id", c)?;
        }
        if let Some(w) = &self.workflow_status {
            map.serialize_entry("workflow_status", w)?;
        }
        map.serialize_entry("record_state", &self.record_state)?;
        if let Some(c) = self.created {
            map.serialize_entry("created_at", &iso(c))?;
        }
        map.serialize_entry("updated_at", &iso(self.updated))?;
        if let Some(t) = self.first_observed {
            map.serialize_entry("first_observed_at", &iso(t))?;
        }
        if let Some(t) = self.last_observed {
            map.serialize_entry("last_observed_at", &iso(t))?;
        }
        let types: Vec<&str> = self.resources.iter().filter_map(|r| r.kind.as_deref()).collect();
        let ids: Vec<&str> = self.resources.iter().filter_map(|r| r.id.as_deref()).collect();
        if !types.is_empty() || !ids.is_empty() {
            map.serialize_entry("resource", &ResourcesOut { types, ids })?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct SeverityOut {
    label: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    normalized: Option<u64>,
}

#[derive(Serialize)]
struct ResourcesOut<'r> {
    types: Vec<&'r str>,
    ids: Vec<&'r str>,
}

#[derive(Serialize)]
struct Event<'o> {
    dataset: &'static str,
    kind: &'static str,
    /// When the function read the finding: the alerter also looks back by it.
    #[serde(skip_serializing_if = "str::is_empty")]
    ingested: &'o str,
}

#[derive(Serialize)]
struct Cloud<'r> {
    provider: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<Account<'r>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<&'r str>,
}

#[derive(Serialize)]
struct Account<'r> {
    id: &'r str,
}

struct Output<'o, 'a> {
    derived: &'o Derived<'a>,
    finding: &'o RawObject<'a>,
    ingested: &'o str,
}

impl Serialize for Output<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let d = self.derived;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("@timestamp", &iso(d.updated))?;
        map.serialize_entry("event", &Event { dataset: DATASET, kind: "alert", ingested: self.ingested })?;
        map.serialize_entry(
            "cloud",
            &Cloud {
                provider: "aws",
                account: d.account.as_deref().map(|id| Account { id }),
                region: d.region.as_deref(),
            },
        )?;
        if let Some(source) = &d.source {
            map.serialize_entry("source", source)?;
        }
        map.serialize_entry("finding", d)?;
        OBJECT_MAPPED.write_fields(&mut map, self.finding, &DERIVED_KEYS, "securityhub")?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn origin() -> Origin<'static> {
        Origin { dataset: DATASET, record_id: Cow::Borrowed("e1/0"), raw: Cow::Borrowed("") }
    }

    fn run(finding: &Value, format: Format) -> Result<(Prepared<'static>, Value), RecordError> {
        let raw: &'static RawValue = Box::leak(serde_json::value::to_raw_value(finding).unwrap());
        let p = prepare(raw, format, "securityhub", TimeWindow::ANY, origin(), &Enricher::disabled(), "")?;
        let doc = serde_json::from_slice(&p.document.body).unwrap();
        Ok((p, doc))
    }

    #[test]
    fn with_the_deployed_window_a_finding_created_far_from_now_names_no_index() {
        let window = crate::config::Config::from_env(&seclog_core::config::Env::from_lookup(|k| {
            (k == "DELIVERY_STREAM_NAME").then(|| "findings".to_owned())
        }))
        .unwrap()
        .window;
        assert_eq!(window, TimeWindow::default());
        let now = Utc::now();
        let finding = |created: DateTime<Utc>| {
            let created = created.to_rfc3339_opts(SecondsFormat::Millis, true);
            json!({"SchemaVersion": "2018-10-08", "Id": "f1", "ProductName": "GuardDuty", "CreatedAt": created,
                "UpdatedAt": created, "Severity": {"Label": "HIGH"}})
        };
        let prepare_at = |created| {
            let raw: &'static RawValue = Box::leak(serde_json::value::to_raw_value(&finding(created)).unwrap());
            prepare(raw, Format::Asff, "securityhub", window, origin(), &Enricher::disabled(), "")
                .map(|p| p.document.index)
        };
        assert_eq!(prepare_at(now), Ok(now.format("securityhub-guardduty-%Y.%m").to_string()));
        for far in [now - chrono::TimeDelta::days(401), now + chrono::TimeDelta::days(8)] {
            assert_eq!(prepare_at(far).unwrap_err().kind, "time_out_of_range", "{far}");
        }
    }

    #[test]
    fn versions_order_by_updated_at_then_break_ties_by_state() {
        let (a, b) = (r#"{"Workflow":{"Status":"NEW"}}"#, r#"{"Workflow":{"Status":"NOTIFIED"}}"#);
        assert!(version(1_001, a).unwrap() > version(1_000, b).unwrap());
        assert!(version(1_001, b).unwrap() > version(1_000, a).unwrap());
        assert_ne!(version(1_000, a), version(1_000, b), "these two states differ in their tie-break");
        assert_eq!(version(1_000, a), version(1_000, a));
        let spelt_otherwise = "{ \"Workflow\" : {\n  \"Status\": \"NEW\" } }";
        assert_eq!(version(1_000, a), version(1_000, spelt_otherwise), "formatting is not state");
        let (ab, ba) = (r#"{"A":1,"B":{"C":2,"D":3}}"#, r#"{"B":{"D":3,"C":2},"A":1}"#);
        assert_eq!(version(1_000, ab), version(1_000, ba), "nor is key order");
        assert_eq!(version(-1, a), None);
        assert!(version(i64::MAX, a).is_none(), "never wraps");
    }

    #[test]
    fn only_known_products_get_an_index_family_of_their_own() {
        assert_eq!(index_part("guardduty"), "guardduty");
        assert_eq!(index_part("security-hub"), "security-hub");
        assert_eq!(index_part("decoydetector"), "other");
        assert_eq!(index_part(&slug("Anything A Member Account Imports 7")), "other");
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("Security Hub"), "security-hub");
        assert_eq!(slug("GuardDuty"), "guardduty");
        assert_eq!(slug("  Machine Data Analytics!! "), "machine-data-analytics");
        assert_eq!(slug("Inspector/v2"), "inspector-v2");
        assert_eq!(slug("データ"), "unknown");
        assert_eq!(slug(&"a".repeat(60)).len(), 40);
    }

    #[test]
    fn severities() {
        assert_eq!(Severity::of_normalized(0.0), Severity::Informational);
        assert_eq!(Severity::of_normalized(30.0), Severity::Low);
        assert_eq!(Severity::of_normalized(70.0), Severity::High);
        assert_eq!(Severity::of_guardduty(8.9), Severity::High);
        assert_eq!(Severity::of_guardduty(2.0), Severity::Low);
        assert_eq!("high".parse::<Severity>().unwrap(), Severity::High);
        assert!(Severity::Critical > Severity::Medium);
        assert!("severe".parse::<Severity>().is_err());
    }

    #[test]
    fn asff_finding() {
        let f = json!({"SchemaVersion": "2018-10-08", "Id": "arn:aws:securityhub:eu-west-1:111111111111:subscription/x/finding/1",
            "ProductArn": "arn:aws:securityhub:eu-west-1::product/aws/securityhub", "GeneratorId": "aws-foundational-security-best-practices/v/1.0.0/RDS.6",
            "AwsAccountId": "111111111111", "Region": "eu-west-1", "Types": ["Software and Configuration Checks"],
            "CreatedAt": "2020-11-04T23:43:29.220Z", "UpdatedAt": "2020-12-01T10:00:00.000000Z", "Title": "RDS.6",
            "Severity": {"Normalized": 10, "Label": "LOW"}, "Compliance": {"Status": "FAILED", "SecurityControlId": "RDS.6"},
            "Workflow": {"Status": "NEW"}, "RecordState": "ACTIVE",
            "ProductFields": {"aws/securityhub/ProductName": "Security Hub", "RelatedAWSResources:0/name": "x"},
            "Resources": [{"Type": "AwsRdsDbInstance", "Id": "arn:aws:rds:eu-west-1:111111111111:db:db-1", "Details": {"AwsRdsDbInstance": {"x": 1}}}],
            "Network": {"SourceIpV4": "10.0.0.1"}, "event": "collides"});
        let (p, doc) = run(&f, Format::Asff).unwrap();
        assert_eq!(p.document.index, "securityhub-security-hub-2020.11", "the month of CreatedAt");
        assert_eq!(p.document.id, digest_id("arn:aws:securityhub:eu-west-1:111111111111:subscription/x/finding/1"));
        let WriteOp::IndexExternal { version } = p.document.op else { panic!("external version") };
        assert_eq!(version / 1000, 1_606_816_800_000, "UpdatedAt in milliseconds first");
        assert_eq!(p.facts, Facts { product: "security-hub".into(), severity: Severity::Low, active: true });
        assert_eq!(doc["@timestamp"], "2020-12-01T10:00:00.000Z");
        assert_eq!(doc["cloud"], json!({"provider": "aws", "account": {"id": "111111111111"}, "region": "eu-west-1"}));
        assert_eq!(doc["finding"]["control_id"], "RDS.6");
        assert_eq!(doc["finding"]["compliance_status"], "FAILED");
        assert_eq!(
            doc["finding"]["resource"],
            json!({"types": ["AwsRdsDbInstance"], "ids": ["arn:aws:rds:eu-west-1:111111111111:db:db-1"]})
        );
        assert_eq!(doc["source"], json!({"address": "10.0.0.1", "ip": "10.0.0.1", "address_class": "private"}));
        assert_eq!(doc["securityhub_event"], "collides");
        assert_eq!(doc["Resources"][0]["Details"]["AwsRdsDbInstance"]["x"], 1);
    }

    #[test]
    fn asff_fallbacks() {
        let f = json!({"Id": "x", "UpdatedAt": "2019-04-18T14:51:55.000000Z", "Severity": {"Normalized": 30},
            "ProductArn": "arn:aws:securityhub:us-east-2:1:product/sumologicinc/sumologic-mda", "RecordState": "ARCHIVED",
            "Compliance": "odd"});
        let (p, doc) = run(&f, Format::Asff).unwrap();
        assert_eq!(p.facts, Facts { product: "sumologic-mda".into(), severity: Severity::Low, active: false });
        assert_eq!(
            p.document.index, "securityhub-other-2019.04",
            "UpdatedAt's month without CreatedAt; a partner product: the other family"
        );
        assert_eq!(doc["Compliance"], json!({"_value": "\"odd\""}));
    }

    #[test]
    fn guardduty_finding() {
        let f = json!({"accountId": "123456789012", "region": "us-east-1", "partition": "aws",
            "arn": "arn:aws:guardduty:us-east-1:123456789012:detector/d1/finding/f1", "id": "f1",
            "type": "UnauthorizedAccess:EC2/SSHBruteForce", "severity": 8, "title": "SSH brute force",
            "createdAt": "2025-02-25 20:40:06.721", "updatedAt": "2025-02-26T01:00:00.000Z",
            "resource": {"resourceType": "Instance"},
            "service": {"archived": false, "detectorId": "d1", "action": {"networkConnectionAction": {"remoteIpDetails": {"ipAddressV4": "198.51.100.7"}}}}});
        let (p, doc) = run(&f, Format::GuardDuty).unwrap();
        assert_eq!(p.document.index, "securityhub-guardduty-2025.02");
        assert_eq!(p.document.id, digest_id("arn:aws:guardduty:us-east-1:123456789012:detector/d1/finding/f1"));
        assert_eq!(p.facts, Facts { product: "guardduty".into(), severity: Severity::High, active: true });
        assert_eq!(doc["finding"]["severity"], json!({"label": "HIGH", "normalized": 80}));
        assert_eq!(doc["finding"]["types"], json!(["UnauthorizedAccess:EC2/SSHBruteForce"]));
        assert_eq!(doc["source"]["ip"], "198.51.100.7");
        assert_eq!(doc["finding"]["created_at"], "2025-02-25T20:40:06.721Z");
    }

    #[test]
    fn bad_findings_have_exact_outcomes() {
        let kind = |f: Value, format| run(&f, format).unwrap_err().kind;
        assert_eq!(kind(json!({"UpdatedAt": "2020-01-01T00:00:00Z"}), Format::Asff), "missing_field");
        assert_eq!(kind(json!({"Id": "", "UpdatedAt": "2020-01-01T00:00:00Z"}), Format::Asff), "missing_field");
        assert_eq!(kind(json!({"Id": "x"}), Format::Asff), "bad_timestamp");
        assert_eq!(kind(json!({"Id": "x", "UpdatedAt": "soon"}), Format::Asff), "bad_timestamp");
        assert_eq!(kind(json!({"Id": "x", "UpdatedAt": "1960-01-01T00:00:00Z"}), Format::Asff), "bad_timestamp");
        assert_eq!(kind(json!([1]), Format::Asff), "bad_json");
        assert_eq!(kind(json!({"type": "x", "updatedAt": "2020-01-01T00:00:00Z"}), Format::GuardDuty), "missing_field");
    }
}
