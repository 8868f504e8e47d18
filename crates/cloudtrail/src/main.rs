use lambda_runtime::service_fn;
use seclog_cloudtrail::config::Config;
use seclog_cloudtrail::handler::{self, Deps};
use seclog_core::config::Env;
use seclog_core::config::FromEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let deps = &Deps::init(Config::from_env(&Env::process())?).await?;
    lambda_runtime::run(service_fn(move |event| handler::handle(event, deps))).await
}
