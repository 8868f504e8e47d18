//! The invocation: the shared Firehose step ([`seclog_core::firehose`]) with [`VpcFlowTransform`].

use seclog_core::firehose;
pub use seclog_core::firehose::handle;
use seclog_core::sink::delivery_stream::FirehoseSink;

use crate::config::Config;
use crate::VpcFlowTransform;

/// What an invocation needs, built once per container.
pub type Deps<R = FirehoseSink> = firehose::Deps<VpcFlowTransform, R>;

/// Builds the real dependencies: the transform for the configured format with the enrichment
/// data, and re-ingestion through the real Firehose.
pub async fn init(config: Config) -> Deps {
    let transform = VpcFlowTransform::new(config.format).with_enricher(seclog_enrich::Enricher::from_env());
    firehose::Deps::init(transform, config.settings, config.deadline_margin).await
}
