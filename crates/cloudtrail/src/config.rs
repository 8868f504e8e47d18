//! The function's configuration, read once at cold start.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `INDEX_PREFIX` | `cloudtrail` | documents go to `<prefix>-YYYY.MM.DD` |
//! | `INDEX_ROTATION` | `daily` | `daily`, `monthly` or `none` |
//! | `MAX_DECODED_BYTES` | `33554432` | cap on the decompressed subscription payload |
//! | `DEADLINE_MARGIN_MS` | `2000` | time kept free before the Lambda deadline |
//!
//! plus the `OpenSearch` variables of [`seclog_core::sink::opensearch::config`] and the rules'
//! of [`seclog_rules::config`].

use std::time::Duration;

use seclog_core::config::{ConfigError, Env, FromEnv, DEFAULT_DEADLINE_MARGIN};
use seclog_core::decode::DEFAULT_MAX_DECODED_BYTES;
use seclog_core::index::{IndexPattern, Rotation};
use seclog_core::sink::opensearch::config::OpenSearchConfig;
use seclog_rules::RulesConfig;

/// Everything the function needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where and how to write.
    pub opensearch: OpenSearchConfig,
    /// Function settings.
    pub function: FunctionConfig,
    /// The rules evaluated at ingest.
    pub rules: RulesConfig,
}

/// The settings that do not concern the sink.
#[derive(Debug, Clone)]
pub struct FunctionConfig {
    /// The index family.
    pub index: IndexPattern,
    /// Decompression cap.
    pub max_decoded_bytes: usize,
    /// Time kept free before the Lambda deadline.
    pub deadline_margin: Duration,
}

impl FromEnv for FunctionConfig {
    /// Reads the function settings.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the variable.
    fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let rotation: Rotation = env.parse_or("INDEX_ROTATION", Rotation::Daily)?;
        let index = IndexPattern::from_env(env, "INDEX_PREFIX", crate::FAMILY, rotation)?;
        let max_decoded_bytes = env.max_decoded_bytes(DEFAULT_MAX_DECODED_BYTES)?;
        Ok(Self { index, max_decoded_bytes, deadline_margin: env.deadline_margin()? })
    }
}

impl Default for FunctionConfig {
    fn default() -> Self {
        Self {
            index: seclog_core::family!(crate::FAMILY, Rotation::Daily),
            max_decoded_bytes: DEFAULT_MAX_DECODED_BYTES,
            deadline_margin: DEFAULT_DEADLINE_MARGIN,
        }
    }
}

impl FromEnv for Config {
    /// Reads the whole configuration.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first bad variable.
    fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            opensearch: OpenSearchConfig::from_env(env)?,
            function: FunctionConfig::from_env(env)?,
            rules: RulesConfig::from_env(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_errors() {
        let f = FunctionConfig::from_pairs(&[]).unwrap();
        assert_eq!(f.index.prefix(), "cloudtrail");
        assert_eq!(f.max_decoded_bytes, 32 << 20);
        let e = FunctionConfig::from_pairs(&[("INDEX_ROTATION", "hourly")]).unwrap_err();
        assert_eq!(e.to_string(), "INDEX_ROTATION is invalid: `hourly`: `hourly` is not one of daily, monthly, none");
        let e = FunctionConfig::from_pairs(&[("INDEX_ROTATION", "monthly"), ("INDEX_PREFIX", "Bad Name")]).unwrap_err();
        assert!(e.to_string().starts_with("INDEX_PREFIX is invalid"), "{e}");
    }
}
