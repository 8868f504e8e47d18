use lambda_runtime::service_fn;
use seclog_core::config::Env;
use seclog_core::config::FromEnv;
use seclog_vpcflow::config::Config;
use seclog_vpcflow::handler;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let deps = &handler::init(Config::from_env(&Env::process())?).await;
    lambda_runtime::run(service_fn(move |event| handler::handle(event, deps))).await
}
