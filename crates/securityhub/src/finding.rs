//! What a finding says, in either format (ASFF, or GuardDuty's own): its severity, product,
//! facts and the derived block's values. Pure: no I/O.

use std::borrow::Cow;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use seclog_core::json::{shorten, RawObject};
use seclog_core::time::parse_time;
use seclog_core::RecordError;
use seclog_core::RecordKind;
use seclog_enrich::{Endpoint, Enricher};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

/// The dataset of every finding document.
pub const DATASET: &str = "aws.securityhub";

/// A severity label, ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, strum::IntoStaticStr, strum::Display)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
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
        self.into()
    }
}

/// The severity labels, lowest first.
pub(crate) const SEVERITIES: &str = "INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL";

impl FromStr for Severity {
    type Err = seclog_core::config::NotOneOf;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "INFORMATIONAL" => Ok(Self::Informational),
            "LOW" => Ok(Self::Low),
            "MEDIUM" => Ok(Self::Medium),
            "HIGH" => Ok(Self::High),
            "CRITICAL" => Ok(Self::Critical),
            other => Err(seclog_core::config::NotOneOf::new(other, SEVERITIES)),
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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AsffSeverity {
    #[serde(rename = "Label")]
    label: Option<String>,
    #[serde(rename = "Normalized")]
    normalized: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Status<'a> {
    #[serde(rename = "Status", borrow)]
    status: Option<Cow<'a, str>>,
    #[serde(rename = "SecurityControlId", borrow)]
    control: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AsffResource<'a> {
    #[serde(rename = "Type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(rename = "Id", borrow)]
    id: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AsffNetwork<'a> {
    #[serde(rename = "SourceIpV4", borrow)]
    v4: Option<Cow<'a, str>>,
    #[serde(rename = "SourceIpV6", borrow)]
    v6: Option<Cow<'a, str>>,
}

/// The common block: the same fields for both formats, so one query covers both.
#[derive(Debug)]
pub(crate) struct Derived<'a> {
    pub(crate) id: Cow<'a, str>,
    pub(crate) updated: DateTime<Utc>,
    pub(crate) created: Option<DateTime<Utc>>,
    first_observed: Option<DateTime<Utc>>,
    last_observed: Option<DateTime<Utc>>,
    pub(crate) facts: Facts,
    product_name: Cow<'a, str>,
    pub(crate) account: Option<Cow<'a, str>>,
    pub(crate) region: Option<Cow<'a, str>>,
    generator_id: Option<Cow<'a, str>>,
    types: Vec<Cow<'a, str>>,
    title: Option<Cow<'a, str>>,
    normalized: Option<u64>,
    compliance: Status<'a>,
    workflow_status: Option<Cow<'a, str>>,
    record_state: Cow<'a, str>,
    resources: Vec<AsffResource<'a>>,
    pub(crate) source: Option<Endpoint<'a>>,
}

fn time_of(finding: &RawObject<'_>, key: &str) -> Result<Option<DateTime<Utc>>, RecordError> {
    let Some(raw) = finding.str(key) else { return Ok(None) };
    parse_time(&raw)
        .map(Some)
        .ok_or_else(|| RecordError::new(RecordKind::BadTimestamp, format!("{key} `{}` is not a date", shorten(&raw))))
}

fn required_time(finding: &RawObject<'_>, key: &'static str) -> Result<DateTime<Utc>, RecordError> {
    time_of(finding, key)?.ok_or_else(|| RecordError::new(RecordKind::BadTimestamp, format!("{key} is missing")))
}

fn required_id<'a>(finding: &RawObject<'a>, keys: &[&str]) -> Result<Cow<'a, str>, RecordError> {
    keys.iter().find_map(|k| finding.str(k).filter(|s| !s.is_empty())).ok_or_else(|| {
        RecordError::new(
            RecordKind::MissingField,
            format!("{} is missing or not a non-empty string", keys.join(" or ")),
        )
    })
}

impl<'a> Derived<'a> {
    pub(crate) fn of_asff(f: &RawObject<'a>, enricher: &Enricher) -> Result<Self, RecordError> {
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

    pub(crate) fn of_guardduty(f: &RawObject<'a>, enricher: &Enricher) -> Result<Self, RecordError> {
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
#[serde(rename_all = "camelCase", default)]
struct GuardDutyService<'a> {
    archived: Option<bool>,
    #[serde(rename = "eventFirstSeen", deserialize_with = "lenient_time")]
    first_seen: Option<DateTime<Utc>>,
    #[serde(rename = "eventLastSeen", deserialize_with = "lenient_time")]
    last_seen: Option<DateTime<Utc>>,
    #[serde(borrow)]
    detector_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
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
#[serde(rename_all = "camelCase", default)]
struct GuardDutyAction<'a> {
    #[serde(rename = "awsApiCallAction", borrow)]
    aws_api_call: Option<Remote<'a>>,
    #[serde(rename = "networkConnectionAction", borrow)]
    network_connection: Option<Remote<'a>>,
    #[serde(rename = "kubernetesApiCallAction", borrow)]
    kubernetes_api_call: Option<Remote<'a>>,
    #[serde(rename = "rdsLoginAttemptAction", borrow)]
    rds_login_attempt: Option<Remote<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Remote<'a> {
    #[serde(borrow, default)]
    remote_ip_details: Option<RemoteIp<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct RemoteIp<'a> {
    #[serde(rename = "ipAddressV4", borrow)]
    v4: Option<Cow<'a, str>>,
    #[serde(rename = "ipAddressV6", borrow)]
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

pub(crate) fn iso(t: DateTime<Utc>) -> String {
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
