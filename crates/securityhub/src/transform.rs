//! One finding → one document: the index family, the external version, and the body (the derived
//! block, then the finding's own fields). Pure: no I/O.

use std::borrow::Cow;

use seclog_core::document::{digest_id, Document, Origin, WriteOp};
use seclog_core::ecs::{Account, Cloud, Event, Head, OwnFields, Written};
use seclog_core::index::{IndexPattern, Rotation, TimeWindow};
use seclog_core::json::{RawObject, ShapeGuard};
use seclog_core::RecordError;
use seclog_enrich::{Endpoint, Enricher};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::canonical::Canonical;
use crate::finding::{Derived, Facts, Format, DATASET};
use seclog_core::RecordKind;

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
        .map_err(|e| RecordError::json(RecordKind::BadJson, "the finding is not a JSON object", &e))?;
    let derived = match format {
        Format::Asff => Derived::of_asff(&finding, enricher)?,
        Format::GuardDuty => Derived::of_guardduty(&finding, enricher)?,
    };
    let family = format!("{prefix}-{}", index_part(&derived.facts.product));
    let family = IndexPattern::new(&family, Rotation::Monthly)
        .map_err(|reason| RecordError::new(RecordKind::BadIndex, format!("index family `{family}` {reason}")))?;
    let index = family.within(window).index_for(derived.created.unwrap_or(derived.updated))?;
    let version = version(derived.updated.timestamp_millis(), raw.get())
        .ok_or_else(|| RecordError::new(RecordKind::BadTimestamp, "UpdatedAt is before 1970"))?;
    let mut body = Vec::with_capacity(raw.get().len() + 768);
    let own = OwnFields::of(OBJECT_MAPPED, &finding, &DERIVED_KEYS, "securityhub");
    let added = Added { source: derived.source.as_ref(), finding: &derived };
    let written = Written { head: &head(&derived, ingested), derived: &added, own };
    serde_json::to_writer(&mut body, &written).map_err(|e| RecordError::json(RecordKind::BadJson, "", &e))?;
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
    use sha2::Digest as _;
    let ms = u64::try_from(updated_ms).ok()?;
    // What a `serde_json::Value` (keys sorted: no `preserve_order`) writes back is canonical; the
    // same bytes are written from a borrowed tree, straight into the hash.
    let canonical = serde_json::from_str::<Canonical<'_>>(finding).ok()?;
    let mut hash = sha2::Sha256::new();
    serde_json::to_writer(&mut hash, &canonical).ok()?;
    // The first 16 bits of its SHA-256, modulo 1000.
    let digest = hash.finalize();
    let tie = u64::from(u16::from_be_bytes([digest[0], digest[1]])) % 1000;
    ms.checked_mul(1000)?.checked_add(tie)
}

/// A finding's head: an ECS alert, at the time it was last updated.
fn head<'o>(d: &'o Derived<'_>, ingested: &'o str) -> Head<'o> {
    let account = d.account.as_deref().map(|id| Account { id: Cow::Borrowed(id) });
    let event = Event { kind: Some("alert"), ingested, ..Event::of(DATASET) };
    Head::at(d.updated, event, Cloud { account, ..Cloud::aws(None, d.region.as_deref().map(Cow::Borrowed)) })
}

/// What the document adds after the head: the source address and the `finding` block.
#[derive(Serialize)]
struct Added<'o, 'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'o Endpoint<'a>>,
    finding: &'o Derived<'a>,
}

#[cfg(test)]
mod tests;
