//! Sigma rules at ingest.
//!
//! Each ingest function evaluates the rules written for its log source on every record, in the
//! same pass as its transform, and writes the ids of the rules that matched into the document
//! (`detection.rule_ids`, `detection.level`). Nothing else changes in a document that matches
//! nothing. Rules are data: `SigmaHQ`'s AWS `CloudTrail` and DNS rules and seclog's own, bundled
//! from `rules/` at the workspace root, plus the user's from `DETECTION_RULES_DIR`; what cannot
//! load is skipped with a warning (see [`RuleSet::report`]). Correlation rules (bursts within a
//! time span) are loaded and checked here, and counted over the indexed documents by the
//! scheduled alerter.
//!
//! ```
//! use seclog_rules::{RuleSet, RulesConfig};
//! use seclog_core::json::RawObject;
//!
//! let rules = RuleSet::load(&RulesConfig::bundled()).unwrap();
//! let text = r#"{"eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging"}"#;
//! let record: RawObject<'_> = serde_json::from_str(text).unwrap();
//! let detection = rules.cloudtrail(&record);
//! assert_eq!(detection.rule_ids, ["4db60cc0-36fb-42b7-9b58-a5b53019fb74"]);
//! assert_eq!(detection.level.map(|l| l.as_str()), Some("medium"));
//! ```
#![warn(missing_docs)]

pub mod config;
pub mod event;
mod gate;
pub mod ids;
pub mod load;
mod memo;

use std::fmt;

use gate::Gates;
use memo::DnsMemo;
use rsigma_eval::{Engine, EvaluationResult};
use rsigma_parser::CorrelationRule;
use seclog_core::json::RawObject;
use serde::Serialize;

pub use config::RulesConfig;
pub use event::{CloudTrailRecord, DnsQuery, Known};
pub use load::{LoadError, RuleReport, SkipReason, Status};

/// The log sources rules are routed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, strum::IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum LogSource {
    /// `product: aws`, `service: cloudtrail`: the `cloudtrail` function (and `seclog replay`).
    CloudTrail,
    /// `category: dns`: the `route53` function, Resolver and public query logs.
    Dns,
}

impl LogSource {
    fn of(ls: &rsigma_parser::LogSource) -> Option<Self> {
        let is = |v: &Option<String>, want: &str| v.as_deref().is_some_and(|v| v.eq_ignore_ascii_case(want));
        if is(&ls.product, "aws") && is(&ls.service, "cloudtrail") {
            Some(Self::CloudTrail)
        } else if is(&ls.category, "dns") && (ls.product.is_none() || is(&ls.product, "aws")) {
            Some(Self::Dns)
        } else {
            None
        }
    }

    /// `cloudtrail` or `dns`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A Sigma level, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, strum::IntoStaticStr, strum::Display)]
#[strum(serialize_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// `informational`
    Informational,
    /// `low`
    Low,
    /// `medium` (also a rule that names no level)
    Medium,
    /// `high`
    High,
    /// `critical`
    Critical,
}

impl Level {
    /// Sigma's spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl From<rsigma_parser::Level> for Level {
    fn from(level: rsigma_parser::Level) -> Self {
        match level {
            rsigma_parser::Level::Informational => Self::Informational,
            rsigma_parser::Level::Low => Self::Low,
            rsigma_parser::Level::Medium => Self::Medium,
            rsigma_parser::Level::High => Self::High,
            rsigma_parser::Level::Critical => Self::Critical,
        }
    }
}

/// What a loaded rule says of itself, detection rule or correlation alike: the `rule` block of
/// every alert based on it. DRL 1.1 asks that its `author` travel with every such alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct About {
    /// Its `id`, written into `detection.rule_ids`.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its author.
    pub author: Option<String>,
    /// Its level (`medium` when it names none).
    pub level: Level,
    /// Its tags (ATT&CK techniques, …).
    pub tags: Vec<String>,
    /// Its references.
    pub references: Vec<String>,
    /// Where it came from.
    pub file: String,
}

/// A Sigma rule's or correlation's [`About`]: the two types name these fields alike.
macro_rules! about {
    ($rule:expr, $id:expr, $file:expr) => {
        $crate::About {
            id: $id,
            title: $rule.title.clone(),
            author: $rule.author.clone(),
            level: $rule.level.map_or($crate::Level::Medium, $crate::Level::from),
            tags: $rule.tags.clone(),
            references: $rule.references.clone(),
            file: $file,
        }
    };
}
pub(crate) use about;

/// A loaded detection rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleInfo {
    /// What it says of itself.
    #[serde(flatten)]
    pub about: About,
    /// Its `name`, by which correlations may refer to it.
    pub name: Option<String>,
    /// The records it is evaluated on.
    pub source: LogSource,
}

impl RuleInfo {
    /// Whether `reference` names it, by its `id` or its `name` (as a correlation's `rules` do).
    #[must_use]
    pub fn is_called(&self, reference: &str) -> bool {
        self.about.id == reference || self.name.as_deref() == Some(reference)
    }
}

/// A loaded correlation rule: a burst of matches of other rules, counted by the scheduled alerter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Correlation {
    /// What it says of itself.
    #[serde(flatten)]
    pub about: About,
    /// The rules (ids or names) whose matches it counts.
    pub rules: Vec<String>,
    /// What it counts as a burst.
    pub threshold: Threshold,
    /// Whether the rules it counts raise alerts of their own (Sigma's `generate`, default no).
    pub generate: bool,
}

/// The longest time span a correlation may count in (a year and a day): a longer one is skipped
/// at load, so that no span the alerter adds to a date can leave the calendar.
pub const MAX_TIMESPAN_SECONDS: u64 = 366 * 86_400;

/// What a correlation counts as a burst: at least `count` matches that agree on the `group_by`
/// fields, within `timespan_seconds` of the first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Threshold {
    /// The fields a burst is grouped by.
    pub group_by: Vec<String>,
    /// The time span, in seconds.
    pub timespan_seconds: u64,
    /// A burst is at least this many matches (`event_count` with `gte`, or `gt` plus one).
    pub count: u64,
}

impl Threshold {
    /// The time span, at most [`MAX_TIMESPAN_SECONDS`].
    #[must_use]
    pub fn timespan(&self) -> chrono::TimeDelta {
        let seconds = self.timespan_seconds.min(MAX_TIMESPAN_SECONDS);
        chrono::TimeDelta::seconds(i64::try_from(seconds).unwrap_or(0))
    }
}

impl Correlation {
    /// Whether it counts `rule`'s matches (named by id or by `name`).
    #[must_use]
    pub fn counts(&self, rule: &RuleInfo) -> bool {
        self.rules.iter().any(|x| rule.is_called(x))
    }

    /// What the alerter evaluates: `event_count` with a lower bound; `Err` says why not.
    fn from_rule(rule: &CorrelationRule, file: String) -> Result<Self, SkipReason> {
        if rule.correlation_type != rsigma_parser::CorrelationType::EventCount {
            return Err(SkipReason::CorrelationType(rule.correlation_type.as_str()));
        }
        let rsigma_parser::CorrelationCondition::Threshold { predicates, .. } = &rule.condition else {
            return Err(SkipReason::NoThreshold);
        };
        if rule.timespan.seconds > MAX_TIMESPAN_SECONDS {
            return Err(SkipReason::TimespanTooLong(rule.timespan.original.clone()));
        }
        let count = match predicates.as_slice() {
            [(rsigma_parser::ConditionOperator::Gte, n)] => *n,
            [(rsigma_parser::ConditionOperator::Gt, n)] => n.saturating_add(1),
            _ => return Err(SkipReason::ThresholdShape),
        };
        if count == 0 {
            return Err(SkipReason::ZeroThreshold);
        }
        Ok(Self {
            about: about!(rule, rule.id.clone().unwrap_or_default(), file),
            rules: rule.rules.clone(),
            threshold: Threshold { group_by: rule.group_by.clone(), timespan_seconds: rule.timespan.seconds, count },
            generate: rule.generate,
        })
    }
}

/// What matched one record: written into its document as `detection` when not empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Detection {
    /// The ids of the rules that matched, sorted.
    pub rule_ids: Vec<String>,
    /// The highest level among them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
}

impl Detection {
    /// No rule matched.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rule_ids.is_empty()
    }

    fn of(results: Vec<EvaluationResult>) -> Self {
        let mut detection = Self::default();
        for result in results {
            let level = result.header.level.map_or(Level::Medium, Level::from);
            detection.level = detection.level.max(Some(level));
            if let Some(id) = result.header.rule_id {
                detection.rule_ids.push(id);
            }
        }
        detection.rule_ids.sort_unstable();
        detection.rule_ids.dedup();
        detection
    }
}

/// The loaded rules, one engine per log source.
pub struct RuleSet {
    cloudtrail: Engine,
    /// The `CloudTrail` engine's rules by gate: which to evaluate on a record.
    cloudtrail_gates: Gates,
    dns: Engine,
    /// What the DNS rules found for the queries seen last.
    dns_memo: DnsMemo,
    rules: Vec<RuleInfo>,
    correlations: Vec<Correlation>,
    report: Vec<RuleReport>,
}

impl fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuleSet")
            .field("rules", &self.rules.len())
            .field("correlations", &self.correlations.len())
            .finish_non_exhaustive()
    }
}

impl Default for RuleSet {
    /// No rules: every record matches nothing.
    fn default() -> Self {
        Self {
            cloudtrail: Engine::new(),
            cloudtrail_gates: Gates::default(),
            dns: Engine::new(),
            dns_memo: DnsMemo::default(),
            rules: Vec::new(),
            correlations: Vec::new(),
            report: Vec::new(),
        }
    }
}

impl RuleSet {
    /// Loads the bundled rules and the user's (when `config.dir` is set); nothing when detection
    /// is off. A rule that cannot load is skipped with a warning and listed in [`Self::report`].
    ///
    /// # Errors
    /// A bundled pipeline that does not parse (a defect of the build, caught by the tests).
    pub fn load(config: &RulesConfig) -> Result<Self, LoadError> {
        Self::load_from(config, None)
    }

    /// Loads what a function evaluates at ingest on the records of `sources`: as [`Self::load`],
    /// but the bundled files of other sources are not parsed (a cold start of `route53` reads the
    /// 7 DNS rules, not the 61 `CloudTrail` ones), and correlations, which only the alerter counts,
    /// are not read.
    ///
    /// # Errors
    /// As [`Self::load`].
    pub fn load_for(config: &RulesConfig, sources: &[LogSource]) -> Result<Self, LoadError> {
        Self::load_from(config, Some(sources))
    }

    fn load_from(config: &RulesConfig, only: Option<&[LogSource]>) -> Result<Self, LoadError> {
        if !config.enabled {
            return Ok(Self::default());
        }
        let loaded = load::load(config, only)?;
        Ok(Self {
            cloudtrail_gates: Gates::new(loaded.cloudtrail.rules()),
            cloudtrail: loaded.cloudtrail,
            dns_memo: DnsMemo::new(loaded.dns.rules()),
            dns: loaded.dns,
            rules: loaded.rules,
            correlations: loaded.correlations,
            report: loaded.report,
        })
    }

    /// The rules that match a `CloudTrail` record, as `CloudTrail` wrote it.
    #[must_use]
    pub fn cloudtrail(&self, record: &RawObject<'_>) -> Detection {
        self.cloudtrail_known(record, &[])
    }

    /// The rules that match a `CloudTrail` record, with nested fields the caller has already read
    /// from it (see [`CloudTrailRecord::with_known`]).
    #[must_use]
    pub fn cloudtrail_known(&self, record: &RawObject<'_>, known: &[(&'static str, Known<'_>)]) -> Detection {
        if self.cloudtrail.rule_count() == 0 {
            return Detection::default();
        }
        let event = CloudTrailRecord::with_known(record, known);
        Detection::of(self.cloudtrail_gates.evaluate(self.cloudtrail.rules(), &event))
    }

    /// The rules that match a DNS query. The same query asked again is answered from what the rules
    /// found the first time (a bounded memo shared by the container's invocations).
    #[must_use]
    pub fn dns(&self, query: &DnsQuery<'_>) -> Detection {
        if self.dns.rule_count() == 0 {
            return Detection::default();
        }
        self.dns_memo.get_or(query, || Detection::of(self.dns.evaluate(query)))
    }

    /// The detection rules that loaded.
    #[must_use]
    pub fn rules(&self) -> &[RuleInfo] {
        &self.rules
    }

    /// The correlation rules that loaded.
    #[must_use]
    pub fn correlations(&self) -> &[Correlation] {
        &self.correlations
    }

    /// What the loaded rule or correlation with this `id` says of itself.
    #[must_use]
    pub fn about(&self, id: &str) -> Option<&About> {
        let rules = self.rules.iter().map(|r| &r.about);
        rules.chain(self.correlations.iter().map(|c| &c.about)).find(|about| about.id == id)
    }

    /// Every rule read, loaded or skipped (with the reason), in load order.
    #[must_use]
    pub fn report(&self) -> &[RuleReport] {
        &self.report
    }
}
