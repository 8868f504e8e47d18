use lambda_runtime::service_fn;
use seclog_core::config::Env;
use seclog_core::config::FromEnv;
use seclog_route53::config::Config;
use seclog_route53::handler::{self, Deps};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let deps = &Deps::init(Config::from_env(&Env::process())?).await?;
    // Boxed: the two triggers' futures together are too deep for the compiler's layout query.
    lambda_runtime::run(service_fn(move |event| Box::pin(handler::handle(event, deps)))).await
}
