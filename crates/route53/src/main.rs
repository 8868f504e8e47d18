use lambda_runtime::service_fn;
use seclog_core::config::Env;
use seclog_route53::config::Config;
use seclog_route53::handler::{self, Deps};
use seclog_rules::{RuleSet, RulesConfig};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let env = Env::process();
    let config = Config::from_env(&env)?;
    let rules = std::sync::Arc::new(RuleSet::load(&RulesConfig::from_env(&env)?)?);
    let enricher = seclog_enrich::Enricher::from_env();
    let deps = &Deps::init(config).await?.with_enricher(enricher).with_rules(rules);
    // Boxed: the two triggers' futures together are too deep for the compiler's layout query.
    lambda_runtime::run(service_fn(move |event| Box::pin(handler::handle(event, deps)))).await
}
