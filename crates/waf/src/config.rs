//! The function's configuration, read once at cold start: the Firehose step's settings
//! ([`Settings::from_env`]: `RECORD_DELIMITER`, `MAX_RESPONSE_BYTES`, `MAX_DECODED_BYTES`,
//! `MAX_INVOCATION_BYTES`, `MAX_INVOCATION_PARTS`, `DEADLINE_MARGIN_MS`) and the enrichment data's
//! (`ENRICH_DATA_DIR`, read by [`seclog_enrich::Enricher::from_env`]).

use std::time::Duration;

use seclog_core::config::{ConfigError, Env, FromEnv};
use seclog_core::firehose::Settings;

/// Everything the function needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The Firehose step's settings.
    pub settings: Settings,
    /// Time kept free before the Lambda deadline.
    pub deadline_margin: Duration,
}

impl FromEnv for Config {
    /// Reads the configuration.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first bad variable.
    fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let (settings, deadline_margin) = Settings::from_env(env)?;
        Ok(Self { settings, deadline_margin })
    }
}
