#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    seclog_core::firehose::serve(seclog_waf::WafTransform::new(seclog_enrich::Enricher::from_env())).await
}
