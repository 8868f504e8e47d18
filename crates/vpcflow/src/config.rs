//! The function's configuration, read once at cold start: the flow log's format
//! (`VPC_FLOW_LOG_FORMAT`, default the version-2 default format), the Firehose step's settings
//! ([`Settings::from_env`]: `RECORD_DELIMITER`, `MAX_RESPONSE_BYTES`, `MAX_DECODED_BYTES`,
//! `MAX_INVOCATION_BYTES`, `MAX_INVOCATION_PARTS`, `DEADLINE_MARGIN_MS`) and the enrichment data's
//! (`ENRICH_DATA_DIR`, read by [`seclog_enrich::Enricher::from_env`]).

use std::time::Duration;

use seclog_core::config::{ConfigError, Env, FromEnv};
use seclog_core::firehose::Settings;

use crate::Format;

/// Everything the function needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The flow log's format.
    pub format: Format,
    /// The Firehose step's settings.
    pub settings: Settings,
    /// Time kept free before the Lambda deadline.
    pub deadline_margin: Duration,
}

impl FromEnv for Config {
    /// Reads the configuration.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first bad variable (a format that does not parse, too).
    fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let format = match env.get("VPC_FLOW_LOG_FORMAT") {
            None => Format::default(),
            Some(f) => Format::parse(&f)
                .map_err(|e| ConfigError::Invalid { var: "VPC_FLOW_LOG_FORMAT", reason: e.to_string() })?,
        };
        let (settings, deadline_margin) = Settings::from_env(env)?;
        Ok(Self { format, settings, deadline_margin })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_format_that_does_not_parse_names_its_variable() {
        let err = Config::from_pairs(&[("VPC_FLOW_LOG_FORMAT", "${a} ${a}")]).unwrap_err();
        assert!(err.to_string().starts_with("VPC_FLOW_LOG_FORMAT is invalid"), "{err}");
        let custom = Config::from_pairs(&[("VPC_FLOW_LOG_FORMAT", "${srcaddr} ${dstaddr}")]).unwrap();
        assert_ne!(custom.format, Format::default());
    }
}
