//! The function's configuration, read once at cold start.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `CONTINUATION_QUEUE_URL` | required | the function's own queue: an object not finished before the deadline continues there |
//! | `S3_KIND_RULES` | unset | `prefix=kind,…` for keys outside AWS's layouts (`cloudtrail`, `vpcflow`, `waf`, `route53-resolver`, `alb`, …) |
//! | `MAX_DECODED_BYTES` | `4294967296` | cap on one object, decompressed (a gzip bomb stops there and is dead-lettered) |
//! | `MAX_RECORD_BYTES` | `4194304` | the longest record (a line, a CloudTrail `Records` element) read: a longer one is never held in memory, and its object stops there and is dead-lettered |
//! | `CHUNK_DOCUMENTS` | `2000` | documents sent per `_bulk` step while an object streams |
//! | `DEADLINE_MARGIN_MS` | `2000` | time kept free before the Lambda deadline |
//! | `CONTINUE_BEFORE_MS` | `10000` | an object still streaming this long before the deadline continues in a new message |
//!
//! plus the `OpenSearch` variables of [`seclog_core::sink::opensearch::config`] and the rules'
//! of [`seclog_rules::config`].

use std::time::Duration;

use seclog_core::config::{ConfigError, Env, FromEnv, DEFAULT_DEADLINE_MARGIN};
use seclog_core::sink::opensearch::config::OpenSearchConfig;
use seclog_rules::RulesConfig;

use crate::layout::KindRules;

/// Everything the function needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where and how to write.
    pub opensearch: OpenSearchConfig,
    /// The function's own queue, for continuations.
    pub continuation_queue_url: String,
    /// Function settings.
    pub function: FunctionConfig,
    /// The rules evaluated at ingest.
    pub rules: RulesConfig,
}

/// The settings that do not concern the sink or the queue.
#[derive(Debug, Clone)]
pub struct FunctionConfig {
    /// Prefix rules for custom layouts.
    pub kind_rules: KindRules,
    /// Decompression cap per object.
    pub max_decoded_bytes: u64,
    /// The longest record read.
    pub max_record_bytes: u64,
    /// Documents per delivery step.
    pub chunk_documents: usize,
    /// Time kept free before the Lambda deadline.
    pub deadline_margin: Duration,
    /// How long before the deadline an unfinished object continues in a new message.
    pub continue_before: Duration,
}

impl Default for FunctionConfig {
    fn default() -> Self {
        Self {
            kind_rules: KindRules::default(),
            max_decoded_bytes: 4 << 30,
            max_record_bytes: crate::stream::DEFAULT_MAX_RECORD_BYTES,
            chunk_documents: 2000,
            deadline_margin: DEFAULT_DEADLINE_MARGIN,
            continue_before: Duration::from_secs(10),
        }
    }
}

impl FromEnv for FunctionConfig {
    /// Reads the function settings.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the variable.
    fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let d = Self::default();
        let kind_rules =
            env.get("S3_KIND_RULES").unwrap_or_default().parse().map_err(|e: crate::layout::RuleError| {
                ConfigError::Invalid { var: "S3_KIND_RULES", reason: e.to_string() }
            })?;
        let max_decoded_bytes: u64 = env.parse_or("MAX_DECODED_BYTES", d.max_decoded_bytes)?;
        if max_decoded_bytes < 1024 {
            return Err(ConfigError::Invalid { var: "MAX_DECODED_BYTES", reason: "must be at least 1024".into() });
        }
        let max_record_bytes: u64 = env.parse_or("MAX_RECORD_BYTES", d.max_record_bytes)?;
        if max_record_bytes < 1024 {
            return Err(ConfigError::Invalid { var: "MAX_RECORD_BYTES", reason: "must be at least 1024".into() });
        }
        let chunk_documents: usize = env.parse_or("CHUNK_DOCUMENTS", d.chunk_documents)?;
        if chunk_documents == 0 {
            return Err(ConfigError::Invalid { var: "CHUNK_DOCUMENTS", reason: "must be at least 1".into() });
        }
        let continue_before = Duration::from_millis(env.parse_or("CONTINUE_BEFORE_MS", 10_000)?);
        Ok(Self {
            kind_rules,
            max_decoded_bytes,
            max_record_bytes,
            chunk_documents,
            deadline_margin: env.deadline_margin()?,
            continue_before,
        })
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
            continuation_queue_url: env.required("CONTINUATION_QUEUE_URL", "the function's own SQS queue URL")?,
            function: FunctionConfig::from_env(env)?,
            rules: RulesConfig::from_env(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_and_their_errors() {
        let c =
            FunctionConfig::from_pairs(&[("S3_KIND_RULES", "exports/alb/=alb"), ("CHUNK_DOCUMENTS", "10")]).unwrap();
        assert_eq!(c.kind_rules.place("exports/alb/x.gz").map(|p| p.kind), Some(crate::layout::Kind::Alb));
        assert_eq!(c.chunk_documents, 10);
        assert_eq!(c.max_record_bytes, 4 << 20);
        assert_eq!(FunctionConfig::from_pairs(&[("MAX_RECORD_BYTES", "65536")]).unwrap().max_record_bytes, 65536);
        let e = FunctionConfig::from_pairs(&[("MAX_RECORD_BYTES", "100")]).unwrap_err().to_string();
        assert_eq!(e, "MAX_RECORD_BYTES is invalid: must be at least 1024");
        let e = FunctionConfig::from_pairs(&[("S3_KIND_RULES", "exports/=nginx")]).unwrap_err().to_string();
        assert!(e.contains("S3_KIND_RULES") && e.contains("`nginx` is not a log kind"), "{e}");
        assert!(FunctionConfig::from_pairs(&[("CHUNK_DOCUMENTS", "0")])
            .unwrap_err()
            .to_string()
            .contains("CHUNK_DOCUMENTS"));
        assert!(FunctionConfig::from_pairs(&[("MAX_DECODED_BYTES", "10")])
            .unwrap_err()
            .to_string()
            .contains("MAX_DECODED_BYTES"));
        let e =
            Config::from_pairs(&[("OPENSEARCH_ENDPOINT", "https://search.example.com"), ("AWS_REGION", "eu-west-1")])
                .unwrap_err()
                .to_string();
        assert!(e.contains("CONTINUATION_QUEUE_URL"), "{e}");
    }
}
