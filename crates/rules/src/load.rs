//! Loading: the bundled rules, then the user's, each file parsed, checked and routed to the log
//! source it is written for; what cannot load is skipped with one warning naming the file and the
//! reason, and the rest load.

use std::collections::HashMap;
use std::path::Path;

use rsigma_eval::{parse_pipeline, Engine, Pipeline};
use rsigma_parser::{parse_sigma_yaml, CorrelationRule, SigmaRule};

use crate::config::RulesConfig;
use crate::{Correlation, LogSource, RuleInfo};

/// A rule file larger than this is skipped: the bundled ones are a few KiB.
pub const MAX_RULE_FILE_BYTES: usize = 1 << 20;

/// The placeholders seclog fills, with the setting that fills each.
pub const PLACEHOLDERS: [(&str, &str); 2] =
    [("Legitimate_IP_Ranges", "ALLOWED_CIDRS"), ("Legitimate_Countries", "ALLOWED_COUNTRIES")];

/// Bundled rules deliberately not loaded, with the reason `seclog rules list` gives.
const SUPERSEDED: [(&str, &str); 1] = [(
    "313e72de-0c0d-4d65-8c95-87f4d546eceb",
    "compares src_ip and src_country, fields CloudTrail records do not have, with %Legitimate_IP_Ranges% as text; \
     seclog's 'AWS Console Sign-In From Outside the Allowed Addresses' (derived from it) matches ALLOWED_CIDRS as ranges",
)];

/// What became of one rule (or of a whole file that could not be read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleReport {
    /// The file: `bundled:<path under rules/>`, or the path in the user's folder.
    pub file: String,
    /// The rule's title, when the file could be parsed.
    pub title: Option<String>,
    /// The rule's id, when it has one.
    pub id: Option<String>,
    /// Loaded, and where; or skipped, and why.
    pub status: Status,
}

/// Loaded or skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Evaluated at ingest on the records of this log source.
    Loaded(LogSource),
    /// A correlation: counted over indexed documents by the scheduled alerter.
    Correlation,
    /// Not loaded.
    Skipped(SkipReason),
}

/// Why a rule, a correlation or a whole file was not loaded: what the cold-start warning and
/// `seclog rules list` say.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkipReason {
    /// The user's rules folder cannot be read.
    #[error("the rules folder cannot be read: {0}")]
    FolderUnreadable(std::io::ErrorKind),
    /// A file over [`MAX_RULE_FILE_BYTES`].
    #[error("larger than {MAX_RULE_FILE_BYTES} bytes")]
    TooLarge,
    /// A file that cannot be read.
    #[error("cannot be read: {0}")]
    Unreadable(std::io::ErrorKind),
    /// A `%Name%` placeholder seclog has no setting for.
    #[error("placeholder %{0}% has no setting in seclog")]
    UnknownPlaceholder(String),
    /// A placeholder whose setting is empty.
    #[error("placeholder %{name}% is not configured (set {setting})")]
    PlaceholderNotSet {
        /// The placeholder.
        name: String,
        /// The setting that fills it.
        setting: &'static str,
    },
    /// Not YAML, or not a Sigma document: the parser's words.
    #[error("{0}")]
    NotSigma(String),
    /// A file without a detection or correlation rule.
    #[error("holds no Sigma detection or correlation rule")]
    NoRule,
    /// A file with Sigma filter documents.
    #[error("Sigma filter documents are not supported")]
    Filters,
    /// A rule without an id.
    #[error("the rule has no id: documents and alerts name rules by id")]
    NoId,
    /// A bundled rule seclog deliberately does not load, and why.
    #[error("{0}")]
    Superseded(&'static str),
    /// An id another loaded rule has.
    #[error("id {id} is already used by {file}")]
    DuplicateId {
        /// The id.
        id: String,
        /// The file of the rule that has it.
        file: String,
    },
    /// A log source seclog does not read.
    #[error("logsource (product {product}, service {service}, category {category}) is not one seclog reads")]
    OtherLogSource {
        /// `product`, or `-`.
        product: String,
        /// `service`, or `-`.
        service: String,
        /// `category`, or `-`.
        category: String,
    },
    /// The evaluator cannot compile it (an unknown modifier, a bad pattern): its words.
    #[error("{0}")]
    NotCompiled(String),
    /// A correlation without an id.
    #[error("a correlation needs an id: alerts are named by it")]
    CorrelationWithoutId,
    /// A correlation counting a rule that is not loaded.
    #[error("refers to rule `{0}`, which is not loaded")]
    MissingRule(String),
    /// A correlation type the alerter does not count.
    #[error("correlation type {0} is not evaluated by seclog's alerter (event_count is)")]
    CorrelationType(&'static str),
    /// An `event_count` correlation without a threshold.
    #[error("an event_count correlation needs a threshold condition")]
    NoThreshold,
    /// A threshold other than one `gte` or `gt`.
    #[error("only a single `gte` or `gt` condition is evaluated")]
    ThresholdShape,
    /// A time span longer than [`crate::MAX_TIMESPAN_SECONDS`]: its words.
    #[error("a timespan of {0} is longer than the 366 days the alerter counts in")]
    TimespanTooLong(String),
    /// A threshold of zero.
    #[error("a threshold of zero would alert on nothing happening")]
    ZeroThreshold,
}

/// A bundled pipeline that does not parse: a defect of the build, refused at cold start.
#[derive(Debug, thiserror::Error)]
#[error("bundled pipeline {file} does not parse: {reason}")]
pub struct LoadError {
    /// The pipeline's path under `rules/`.
    pub file: &'static str,
    /// The parser's message.
    pub reason: String,
}

include!(concat!(env!("OUT_DIR"), "/bundled.rs"));

/// The bundled files: path under `rules/` and text, rule files and pipelines alike.
#[must_use]
pub fn bundled_files() -> &'static [(&'static str, &'static str)] {
    BUNDLED
}

pub(crate) struct Loaded {
    pub(crate) cloudtrail: Engine,
    pub(crate) dns: Engine,
    pub(crate) rules: Vec<RuleInfo>,
    pub(crate) correlations: Vec<Correlation>,
    pub(crate) report: Vec<RuleReport>,
}

/// The log source of the bundled rules filed under each folder of `rules/`.
const BUNDLED_FOLDERS: [(&str, LogSource); 4] = [
    ("sigma/rules/cloud/aws/cloudtrail/", LogSource::CloudTrail),
    ("sigma/rules-placeholder/cloud/aws/cloudtrail/", LogSource::CloudTrail),
    ("seclog/", LogSource::CloudTrail),
    ("sigma/rules/network/dns/", LogSource::Dns),
];

/// The log source a bundled file (`path` under `rules/`) is filed under, by its folder: a function
/// that evaluates only some sources does not parse the others' files. A test holds every bundled
/// rule to its folder.
#[must_use]
pub fn bundled_source(path: &str) -> Option<LogSource> {
    BUNDLED_FOLDERS.iter().find(|(folder, _)| path.starts_with(folder)).map(|(_, source)| *source)
}

/// Loads every rule (`only`: `None`), or only what a function evaluates at ingest on the records
/// of `only`'s sources: the bundled files filed under other sources are not parsed, the user's
/// rules of other sources not compiled, and correlations (counted by the alerter) not read.
pub(crate) fn load(config: &RulesConfig, only: Option<&[LogSource]>) -> Result<Loaded, LoadError> {
    let wanted = |source: LogSource| only.is_none_or(|sources| sources.contains(&source));
    let placeholders = placeholder_pipeline(config)?;
    let mut dns_pipelines = Vec::new();
    if wanted(LogSource::Dns) {
        for (file, text) in BUNDLED.iter().filter(|(f, _)| f.starts_with("pipelines/")) {
            dns_pipelines.push(parse_pipeline(text).map_err(|e| LoadError { file, reason: e.to_string() })?);
        }
    }
    dns_pipelines.push(placeholders.clone());
    let cloudtrail_pipelines = vec![placeholders];

    let mut files: Vec<(String, Result<String, SkipReason>)> = BUNDLED
        .iter()
        .filter(|(f, _)| !f.starts_with("pipelines/") && !config.without_bundled)
        .filter(|(f, _)| bundled_source(f).is_none_or(wanted))
        .map(|(f, text)| (format!("bundled:{f}"), Ok((*text).to_owned())))
        .collect();
    if let Some(dir) = &config.dir {
        files.extend(user_files(dir));
    }

    let mut state = State::default();
    for (file, text) in files {
        match text.and_then(|text| check_placeholders(&text, config).map(|()| text)) {
            Ok(text) => state.parse(&file, &text),
            Err(reason) => state.skip(&file, None, None, reason),
        }
    }
    let State { mut report, rules: candidates, correlations } = state;

    let mut rules = Vec::new();
    let mut engines = Vec::new();
    for (source, pipelines) in [(LogSource::CloudTrail, &cloudtrail_pipelines), (LogSource::Dns, &dns_pipelines)] {
        if !wanted(source) {
            engines.push(Engine::new());
            continue;
        }
        let mine: Vec<&(SigmaRule, RuleInfo)> = candidates.iter().filter(|(_, info)| info.source == source).collect();
        // A rule that does not compile (an unknown modifier, a bad pattern) is not kept by the
        // engine, so its index holds only what loaded.
        let mut engine = engine_with(pipelines);
        let failed: HashMap<usize, SkipReason> = engine
            .add_rules(mine.iter().map(|(rule, _)| rule))
            .into_iter()
            .map(|(i, e)| (i, SkipReason::NotCompiled(e.to_string())))
            .collect();
        engines.push(engine);
        for (i, (_, info)) in mine.into_iter().enumerate() {
            let status = failed.get(&i).map_or(Status::Loaded(source), |reason| Status::Skipped(reason.clone()));
            report.push(RuleReport {
                file: info.about.file.clone(),
                title: Some(info.about.title.clone()),
                id: Some(info.about.id.clone()),
                status: status.clone(),
            });
            if status == Status::Loaded(source) {
                rules.push(info.clone());
            }
        }
    }
    let dns = engines.pop().unwrap_or_default();
    let cloudtrail = engines.pop().unwrap_or_default();

    // Correlations are counted by the alerter, which loads every rule.
    let correlations = if only.is_none() { correlations } else { Vec::new() };
    let mut loaded_correlations = Vec::new();
    for (file, correlation) in correlations {
        let missing = correlation.rules.iter().find(|r| !rules.iter().any(|l| l.is_called(r)));
        let evaluated = Correlation::from_rule(&correlation, file.clone());
        let status = match (missing, &correlation.id, &evaluated) {
            (_, None, _) => Status::Skipped(SkipReason::CorrelationWithoutId),
            (Some(name), _, _) => Status::Skipped(SkipReason::MissingRule((*name).clone())),
            (None, Some(_), Err(reason)) => Status::Skipped(reason.clone()),
            (None, Some(_), Ok(_)) => Status::Correlation,
        };
        report.push(RuleReport {
            file: file.clone(),
            title: Some(correlation.title.clone()),
            id: correlation.id.clone(),
            status: status.clone(),
        });
        if let (Status::Correlation, Ok(evaluated)) = (&status, evaluated) {
            loaded_correlations.push(evaluated);
        }
    }

    for entry in &report {
        if let Status::Skipped(reason) = &entry.status {
            tracing::warn!(file = %entry.file, rule = entry.title.as_deref().unwrap_or(""), reason = %reason, "Sigma rule skipped.");
        }
    }
    Ok(Loaded { cloudtrail, dns, rules, correlations: loaded_correlations, report })
}

fn engine_with(pipelines: &[Pipeline]) -> Engine {
    let mut engine = Engine::new();
    for pipeline in pipelines {
        engine.add_pipeline(pipeline.clone());
    }
    engine
}

#[derive(Default)]
struct State {
    report: Vec<RuleReport>,
    rules: Vec<(SigmaRule, RuleInfo)>,
    correlations: Vec<(String, CorrelationRule)>,
}

impl State {
    fn skip(&mut self, file: &str, title: Option<&str>, id: Option<&str>, reason: SkipReason) {
        self.report.push(RuleReport {
            file: file.to_owned(),
            title: title.map(str::to_owned),
            id: id.map(str::to_owned),
            status: Status::Skipped(reason),
        });
    }

    fn parse(&mut self, file: &str, text: &str) {
        let collection = match parse_sigma_yaml(text) {
            Ok(c) if c.errors.is_empty() => c,
            Ok(c) => return self.skip(file, None, None, SkipReason::NotSigma(c.errors.join("; "))),
            Err(e) => return self.skip(file, None, None, SkipReason::NotSigma(e.to_string())),
        };
        if collection.rules.is_empty() && collection.correlations.is_empty() {
            return self.skip(file, None, None, SkipReason::NoRule);
        }
        if !collection.filters.is_empty() {
            return self.skip(file, None, None, SkipReason::Filters);
        }
        for rule in collection.rules {
            let (title, id) = (rule.title.clone(), rule.id.clone());
            match self.admit(file, &rule) {
                Ok(info) => self.rules.push((rule, info)),
                Err(reason) => self.skip(file, Some(&title), id.as_deref(), reason),
            }
        }
        for correlation in collection.correlations {
            self.correlations.push((file.to_owned(), correlation));
        }
    }

    fn admit(&self, file: &str, rule: &SigmaRule) -> Result<RuleInfo, SkipReason> {
        let id = rule.id.clone().ok_or(SkipReason::NoId)?;
        if let Some((_, reason)) = SUPERSEDED.iter().find(|(s, _)| *s == id) {
            return Err(SkipReason::Superseded(reason));
        }
        if let Some((_, other)) = self.rules.iter().find(|(_, info)| info.about.id == id) {
            return Err(SkipReason::DuplicateId { id, file: other.about.file.clone() });
        }
        let source = LogSource::of(&rule.logsource).ok_or_else(|| {
            let or_dash = |v: &Option<String>| v.as_deref().unwrap_or("-").to_owned();
            let ls = &rule.logsource;
            SkipReason::OtherLogSource {
                product: or_dash(&ls.product),
                service: or_dash(&ls.service),
                category: or_dash(&ls.category),
            }
        })?;
        Ok(RuleInfo { about: crate::about!(rule, id, file.to_owned()), name: rule.name.clone(), source })
    }
}

/// The user's rule files (a folder's, sorted by name, or one file); one that cannot be read is
/// reported, not fatal.
fn user_files(dir: &Path) -> Vec<(String, Result<String, SkipReason>)> {
    if dir.is_file() {
        return vec![(dir.display().to_string(), read_rule_file(dir))];
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return vec![(dir.display().to_string(), Err(SkipReason::FolderUnreadable(e.kind())))],
    };
    let mut paths: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    paths.sort();
    paths.into_iter().map(|path| (path.display().to_string(), read_rule_file(&path))).collect()
}

fn read_rule_file(path: &Path) -> Result<String, SkipReason> {
    match std::fs::metadata(path) {
        Ok(m) if m.len() > MAX_RULE_FILE_BYTES as u64 => Err(SkipReason::TooLarge),
        _ => std::fs::read_to_string(path).map_err(|e| SkipReason::Unreadable(e.kind())),
    }
}

/// `Err` naming the first placeholder the configuration does not fill.
fn check_placeholders(text: &str, config: &RulesConfig) -> Result<(), SkipReason> {
    for name in placeholders_in(text) {
        let unset = match PLACEHOLDERS.iter().find(|(p, _)| *p == name) {
            None => return Err(SkipReason::UnknownPlaceholder(name.to_owned())),
            Some((_, setting @ "ALLOWED_CIDRS")) if config.allowed_cidrs.is_empty() => Some(*setting),
            Some((_, setting @ "ALLOWED_COUNTRIES")) if config.allowed_countries.is_empty() => Some(*setting),
            Some(_) => None,
        };
        if let Some(setting) = unset {
            return Err(SkipReason::PlaceholderNotSet { name: name.to_owned(), setting });
        }
    }
    Ok(())
}

/// The `%Name%` placeholders in a rule file's detection blocks (not in comments, references or
/// descriptions, where `%20` and the like are only text).
fn placeholders_in(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut in_detection = false;
    for line in text.lines() {
        if !line.starts_with([' ', '\t', '-', '#']) && !line.trim().is_empty() {
            in_detection = line.trim_end() == "detection:";
            continue;
        }
        if !in_detection {
            continue;
        }
        let line = line.split(" #").next().unwrap_or(line);
        let mut rest = line;
        while let Some(start) = rest.find('%') {
            let after = &rest[start + 1..];
            let Some(end) = after.find('%') else { break };
            let name = &after[..end];
            if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                found.push(name);
                rest = &after[end + 1..];
            } else {
                rest = after;
            }
        }
    }
    found
}

fn placeholder_pipeline(config: &RulesConfig) -> Result<Pipeline, LoadError> {
    let cidrs: Vec<String> = config.allowed_cidrs.iter().map(ToString::to_string).collect();
    let yaml = serde_json::json!({
        "name": "seclog-placeholders",
        "priority": 100,
        "vars": { "Legitimate_IP_Ranges": cidrs, "Legitimate_Countries": config.allowed_countries },
        "transformations": [{ "id": "seclog_placeholders", "type": "value_placeholders" }],
    });
    // JSON is YAML.
    parse_pipeline(&yaml.to_string()).map_err(|e| LoadError { file: "(placeholders)", reason: e.to_string() })
}
