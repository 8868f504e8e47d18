//! The function's configuration, read once at cold start.

use std::time::Duration;

use seclog_core::config::{ConfigError, Env, FromEnv};
use seclog_core::index::{IndexPattern, Rotation, TimeWindow};
use seclog_core::sink::opensearch::config::OpenSearchConfig;

use crate::finding::{slug, Facts, Severity};

/// Which findings are written; the others are dropped on purpose (counted as `dropped`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// Findings below this severity are dropped.
    pub min_severity: Option<Severity>,
    /// Only these products (slugs, as in the index names); all when empty.
    pub products: Vec<String>,
    /// Drop findings whose `RecordState` is not `ACTIVE`.
    pub active_only: bool,
}

impl Filters {
    /// Whether a finding with these facts is written.
    #[must_use]
    pub fn keep(&self, facts: &Facts) -> bool {
        self.min_severity.is_none_or(|min| facts.severity >= min)
            && (self.products.is_empty() || self.products.contains(&facts.product))
            && (!self.active_only || facts.active)
    }
}

/// The function's configuration, read once at cold start.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `INDEX_PREFIX` | `securityhub` | findings go to `<prefix>-<product>-YYYY.MM` |
/// | `MIN_SEVERITY` | unset (all) | `INFORMATIONAL`, `LOW`, `MEDIUM`, `HIGH` or `CRITICAL` |
/// | `PRODUCTS` | unset (all) | comma-separated products (names or slugs: `GuardDuty`, `security-hub`, …) |
/// | `ACTIVE_ONLY` | `false` | drop findings whose `RecordState` is `ARCHIVED` |
/// | `DELIVERY_STREAM_NAME` | unset | deliver through this Firehose stream (`PutRecordBatch`) instead of `_bulk` |
/// | `DEADLINE_MARGIN_MS` | `2000` | time kept free before the Lambda deadline |
/// | `MAX_EVENT_LEAD_DAYS`, `MAX_EVENT_AGE_DAYS` | `7`, `400` | a `CreatedAt` outside this window of now names no index (`time_out_of_range`) |
///
/// plus, without a delivery stream, the `OpenSearch` variables of
/// [`seclog_core::sink::opensearch::config`].
#[derive(Debug, Clone)]
pub struct Config {
    /// Where findings go through `_bulk`; `None` with a delivery stream.
    pub opensearch: Option<OpenSearchConfig>,
    /// The Firehose stream to deliver through instead.
    pub delivery_stream: Option<String>,
    /// The index family prefix.
    pub index_prefix: String,
    /// The window around now a finding's `CreatedAt` must fall in to name its monthly index.
    pub window: TimeWindow,
    /// What is written.
    pub filters: Filters,
    /// Time kept free before the Lambda deadline.
    pub deadline_margin: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            opensearch: None,
            delivery_stream: None,
            index_prefix: crate::FAMILY.into(),
            window: TimeWindow::ANY,
            filters: Filters::default(),
            deadline_margin: seclog_core::config::DEFAULT_DEADLINE_MARGIN,
        }
    }
}

impl FromEnv for Config {
    /// Reads the configuration.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first bad variable.
    fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let family = IndexPattern::from_env(env, "INDEX_PREFIX", crate::FAMILY, Rotation::Monthly)?;
        let min_severity = match env.get("MIN_SEVERITY") {
            Some(s) => Some(s.parse().map_err(|e: seclog_core::config::NotOneOf| ConfigError::Invalid {
                var: "MIN_SEVERITY",
                reason: e.to_string(),
            })?),
            None => None,
        };
        let products = env
            .get("PRODUCTS")
            .map(|p| p.split(',').map(str::trim).filter(|p| !p.is_empty()).map(slug).collect())
            .unwrap_or_default();
        let delivery_stream = env.get("DELIVERY_STREAM_NAME").map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let opensearch = match delivery_stream {
            Some(_) => None,
            None => Some(OpenSearchConfig::from_env(env)?),
        };
        Ok(Self {
            opensearch,
            delivery_stream,
            index_prefix: family.prefix().to_owned(),
            window: family.window(),
            filters: Filters { min_severity, products, active_only: env.bool_or("ACTIVE_ONLY", false)? },
            deadline_margin: env.deadline_margin()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn configuration() {
        let mut map: HashMap<String, String> = HashMap::new();
        map.insert("DELIVERY_STREAM_NAME".into(), "findings".into());
        let c = Config::from_env(&Env::from_map(&map)).unwrap();
        assert_eq!((c.delivery_stream.as_deref(), c.opensearch.is_none()), (Some("findings"), true));
        assert_eq!(c.filters, Filters::default());
        map.insert("MIN_SEVERITY".into(), "medium".into());
        map.insert("PRODUCTS".into(), "GuardDuty, Security Hub,,".into());
        map.insert("ACTIVE_ONLY".into(), "true".into());
        let c = Config::from_env(&Env::from_map(&map)).unwrap();
        assert_eq!(
            c.filters,
            Filters {
                min_severity: Some(Severity::Medium),
                products: vec!["guardduty".into(), "security-hub".into()],
                active_only: true
            }
        );
        map.insert("MIN_SEVERITY".into(), "severe".into());
        assert!(Config::from_env(&Env::from_map(&map)).unwrap_err().to_string().starts_with("MIN_SEVERITY is invalid"));
        map.remove("MIN_SEVERITY");
        map.remove("DELIVERY_STREAM_NAME");
        let e = Config::from_env(&Env::from_map(&map)).unwrap_err().to_string();
        assert!(e.contains("OPENSEARCH_ENDPOINT"), "{e}");
    }

    #[test]
    fn filters() {
        let facts = |product: &str, severity, active| Facts { product: product.into(), severity, active };
        let f = Filters { min_severity: Some(Severity::High), products: vec!["guardduty".into()], active_only: true };
        assert!(f.keep(&facts("guardduty", Severity::Critical, true)));
        assert!(!f.keep(&facts("guardduty", Severity::Medium, true)));
        assert!(!f.keep(&facts("config", Severity::Critical, true)));
        assert!(!f.keep(&facts("guardduty", Severity::High, false)));
        assert!(Filters::default().keep(&facts("x", Severity::Informational, false)));
    }
}
