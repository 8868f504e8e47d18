//! The function's configuration, read once at cold start.

use std::time::Duration;

use seclog_core::config::{ConfigError, Env, FromEnv};
use seclog_core::firehose::Settings;
use seclog_core::index::{IndexPattern, Rotation};
use seclog_core::sink::opensearch::config::OpenSearchConfig;
use seclog_rules::RulesConfig;

/// The function's configuration, read once at cold start.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `RESOLVER_INDEX_PREFIX` | `route53-resolver` | Resolver logs from `CloudWatch` Logs go to `<prefix>-YYYY.MM.DD` |
/// | `PUBLIC_INDEX_PREFIX` | `route53-public` | public query logs go to `<prefix>-YYYY.MM.DD` |
/// | `INDEX_ROTATION` | `daily` | `daily`, `monthly` or `none` |
/// | `OPENSEARCH_ENDPOINT` | unset | needed for `CloudWatch` Logs events; without it the function serves Firehose only |
/// | `MAX_EVENT_LEAD_DAYS`, `MAX_EVENT_AGE_DAYS` | `7`, `400` | a query time outside this window of now names no index (`time_out_of_range`) |
///
/// plus the Firehose settings of [`Settings::from_env`] (`MAX_DECODED_BYTES` and
/// `DEADLINE_MARGIN_MS` apply to both triggers) and, with an endpoint, the `OpenSearch` variables
/// of [`seclog_core::sink::opensearch::config`] (Firehose requests never use the endpoint: the
/// delivery stream writes the documents), and the rules' of [`seclog_rules::config`].
#[derive(Debug, Clone)]
pub struct Config {
    /// Where `CloudWatch` Logs documents go, when configured.
    pub opensearch: Option<OpenSearchConfig>,
    /// The index family of Resolver logs (`CloudWatch` Logs path).
    pub resolver_index: IndexPattern,
    /// The index family of public query logs.
    pub public_index: IndexPattern,
    /// The Firehose step's settings.
    pub settings: Settings,
    /// Time kept free before the Lambda deadline.
    pub deadline_margin: Duration,
    /// The DNS rules evaluated at ingest.
    pub rules: RulesConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            opensearch: None,
            resolver_index: seclog_core::family!(crate::RESOLVER_FAMILY, Rotation::Daily),
            public_index: seclog_core::family!(crate::PUBLIC_FAMILY, Rotation::Daily),
            settings: Settings::default(),
            deadline_margin: seclog_core::config::DEFAULT_DEADLINE_MARGIN,
            rules: RulesConfig::bundled(),
        }
    }
}

impl FromEnv for Config {
    /// Reads the configuration.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first bad variable.
    fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let rotation: Rotation = env.parse_or("INDEX_ROTATION", Rotation::Daily)?;
        let family = |var, default| IndexPattern::from_env(env, var, default, rotation);
        let (settings, deadline_margin) = Settings::from_env(env)?;
        let opensearch = match env.get("OPENSEARCH_ENDPOINT") {
            Some(_) => Some(OpenSearchConfig::from_env(env)?),
            None => None,
        };
        Ok(Self {
            opensearch,
            resolver_index: family("RESOLVER_INDEX_PREFIX", crate::RESOLVER_FAMILY)?,
            public_index: family("PUBLIC_INDEX_PREFIX", crate::PUBLIC_FAMILY)?,
            settings,
            deadline_margin,
            rules: RulesConfig::from_env(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration() {
        let c = Config::from_pairs(&[]).unwrap();
        assert!(c.opensearch.is_none());
        assert_eq!((c.resolver_index.prefix(), c.public_index.prefix()), ("route53-resolver", "route53-public"));
        let e = Config::from_pairs(&[("PUBLIC_INDEX_PREFIX", "Bad Name")]).unwrap_err();
        assert!(e.to_string().starts_with("PUBLIC_INDEX_PREFIX is invalid"), "{e}");
        let endpoint = [("OPENSEARCH_ENDPOINT", "https://search.example.com"), ("AWS_REGION", "us-east-1")];
        assert!(Config::from_pairs(&endpoint).unwrap().opensearch.is_some());
    }
}
