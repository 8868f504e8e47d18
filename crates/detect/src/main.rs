use seclog_core::config::FromEnv;
use std::sync::Arc;

use lambda_runtime::{service_fn, LambdaEvent};
use seclog_core::config::Env;
use seclog_core::sink::opensearch::config::OpenSearchConfig;
use seclog_detect::config::DetectConfig;
use seclog_detect::handler::{self, Deps};
use seclog_rules::{RuleSet, RulesConfig};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let env = Env::process();
    let (opensearch, config) = (OpenSearchConfig::from_env(&env)?, DetectConfig::from_env(&env)?);
    let rules = Arc::new(RuleSet::load(&RulesConfig::from_env(&env)?)?);
    let deps = &Box::pin(Deps::init(opensearch, config, rules)).await?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| handler::handle(event, deps))).await
}
