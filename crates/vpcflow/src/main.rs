use seclog_core::config::Env;
use seclog_vpcflow::VpcFlowTransform;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let transform = VpcFlowTransform::from_env(&Env::process())?.with_enricher(seclog_enrich::Enricher::from_env());
    seclog_core::firehose::serve(transform).await
}
