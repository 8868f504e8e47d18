//! Security Hub and GuardDuty findings, from an `EventBridge` rule, into `OpenSearch`: one document
//! per finding, routed per product, the newest state winning.
//!
//! Events: `Security Hub Findings - Imported` and `- Custom Action` (`detail.findings[]` in the
//! AWS Security Finding Format), and `GuardDuty Finding` (`detail` is one finding in GuardDuty's own
//! format). Other Security Hub detail types (`Security Hub Insight Results`) carry no findings and
//! are dropped on purpose; events from other sources are dead-lettered (`unsupported_event`).
//!
//! Each finding becomes one document:
//!
//! - id: a digest of the finding's `Id` (GuardDuty: its `arn`, which is the `Id` Security Hub
//!   gives the same finding), so every state of a finding is one document;
//! - written with `index` and an external version, `UpdatedAt` in epoch milliseconds: a state older
//!   than the stored one is refused with a version conflict, which counts as already present (the
//!   newer state is there), never as a failure, so out-of-order delivery keeps the newest state;
//! - index `<prefix>-<product>-YYYY.MM`: the product (`ProductName`, else
//!   `ProductFields["aws/securityhub/ProductName"]`, else the product part of `ProductArn`) as a
//!   [`slug`], and the month of `CreatedAt` (which updates do not change);
//! - the finding's own fields, and a common block for both formats: `@timestamp` = `UpdatedAt`,
//!   `event.{dataset,kind}`, `cloud.{account.id,region}`, `finding.{id, product, product_name,
//!   generator_id, types, title, severity.{label,normalized}, compliance_status, control_id,
//!   workflow_status, record_state, created_at, updated_at, resource.{types,ids}}`, and `source.*`
//!   with enrichment when the finding names a remote address (ASFF `Network.SourceIpV4/V6`,
//!   GuardDuty's `remoteIpDetails`).
//!
//! Open-ended parts (`ProductFields` with its slashed keys, `Resources[].Details`,
//! `UserDefinedFields`, GuardDuty's `service` and `resource`) are `flat_object` or unmapped in the
//! template: searchable, never a field per key.
#![warn(missing_docs)]

/// The prefix of the finding families (`<prefix>-<product>-YYYY.MM`).
pub const FAMILY: &str = "securityhub";
/// Every finding family, as searches and reports name them.
pub const PATTERN: &str = "securityhub-*";

mod canonical;
pub mod config;
mod finding;
pub mod handler;
mod transform;

pub use finding::{slug, Facts, Format, Severity, DATASET};
pub use transform::{prepare, Prepared};
