//! The invocation: decode the subscription event, transform each log event, deliver.

use chrono::Utc;
use lambda_runtime::LambdaEvent;
use seclog_core::deadletter::DeadLetters;
use seclog_core::envelope::cloudwatch_logs::CloudWatchLogsEvent;
pub use seclog_core::lambda::deadline_of;
use seclog_core::pipeline::Pipeline;
use seclog_core::sink::opensearch::OpenSearchSink;
use seclog_core::sink::BulkSink;
use seclog_core::subscription;
use seclog_core::telemetry::InvocationSummary;
use seclog_core::DeliveryError;
use tokio::time::Instant;

use crate::config::{Config, FunctionConfig};
use crate::transform::Transformer;

/// What an invocation needs, built once per container.
#[derive(Debug)]
pub struct Deps<S> {
    /// Where documents go.
    pub sink: S,
    /// Record → document.
    pub transformer: Transformer,
    /// Dead-letter documents for records that cannot be indexed.
    pub deadletters: DeadLetters,
    /// Function settings.
    pub config: FunctionConfig,
    /// When the function reads an event: `event.ingested` of the documents it writes itself, and
    /// the time of its dead letters (fixed in golden tests).
    pub clock: fn() -> chrono::DateTime<Utc>,
}

impl Deps<OpenSearchSink> {
    /// Builds the real dependencies: the sink, the enrichment data (`ENRICH_DATA_DIR`) and the
    /// rules.
    ///
    /// # Errors
    /// When the sink cannot be built or the rules cannot be loaded.
    pub async fn init(config: Config) -> Result<Self, lambda_runtime::Error> {
        let rules = std::sync::Arc::new(seclog_rules::RuleSet::load_for(
            &config.rules,
            &[seclog_rules::LogSource::CloudTrail],
        )?);
        let sink = OpenSearchSink::connect(config.opensearch).await?;
        let deadletters = sink.deadletters().clone();
        let enricher = seclog_enrich::Enricher::from_env();
        Ok(Self::new(sink, deadletters, config.function)
            .map_transformer(|t| t.with_enricher(enricher).with_rules(rules)))
    }
}

impl<S: BulkSink> Deps<S> {
    /// Dependencies around any sink, without enrichment lookups.
    pub fn new(sink: S, deadletters: DeadLetters, config: FunctionConfig) -> Self {
        Self { sink, transformer: Transformer::new(config.index.clone()), deadletters, config, clock: Utc::now }
    }

    /// The same dependencies, with `f`'s transformer: one given the rules, the enrichment.
    #[must_use]
    pub fn map_transformer(self, f: impl FnOnce(Transformer) -> Transformer) -> Self {
        Self { transformer: f(self.transformer), ..self }
    }
}

/// The Lambda entry point.
///
/// # Errors
/// A [`DeliveryError`] when documents could not be delivered within the time left; Lambda then
/// retries the invocation (document ids are deterministic, so that is safe).
#[tracing::instrument(skip_all, fields(request_id = %event.context.request_id))]
pub async fn handle<S: BulkSink>(
    event: LambdaEvent<CloudWatchLogsEvent>,
    deps: &Deps<S>,
) -> Result<InvocationSummary, DeliveryError> {
    let deadline = deadline_of(event.context.deadline, deps.config.deadline_margin);
    process(&event.payload, deps, deadline).await
}

/// Processes one subscription event. Used by [`handle`], `seclog replay` and the tests.
///
/// # Errors
/// See [`handle`].
pub async fn process<S: BulkSink>(
    event: &CloudWatchLogsEvent,
    deps: &Deps<S>,
    deadline: Instant,
) -> Result<InvocationSummary, DeliveryError> {
    let pipeline =
        Pipeline { sink: &deps.sink, transform: &deps.transformer, deadletters: &deps.deadletters, clock: deps.clock };
    subscription::process(event, &pipeline, deps.config.max_decoded_bytes, deadline).await
}
