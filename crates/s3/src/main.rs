//! The `s3` function: SQS notifications of log objects delivered to S3.
#![recursion_limit = "256"]

use lambda_runtime::service_fn;
use seclog_core::config::Env;
use seclog_core::config::FromEnv;
use seclog_s3::config::Config;
use seclog_s3::handler;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let deps = &Box::pin(handler::Deps::init(Config::from_env(&Env::process())?)).await?;
    lambda_runtime::run(service_fn(move |event| handler::handle(event, deps))).await
}
