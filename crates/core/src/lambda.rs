//! What every handler needs from the Lambda runtime.

use std::time::Duration;

use chrono::Utc;
use tokio::time::Instant;

/// Converts the runtime's deadline (epoch milliseconds) into an [`Instant`], less the margin.
#[must_use]
pub fn deadline_of(deadline_ms: u64, margin: Duration) -> Instant {
    let now_ms = u64::try_from(Utc::now().timestamp_millis()).unwrap_or(0);
    let left = Duration::from_millis(deadline_ms.saturating_sub(now_ms)).saturating_sub(margin);
    Instant::now() + left
}

/// The AWS SDK configuration of a function, on the Lambda environment's credentials and region
/// (`region` overrides the region).
///
/// Lambda hands the function's role credentials over in `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, which the SDK's default chain reads first.
/// When they are set they are read directly, so a cold start does not build the rest of the chain
/// (its web-identity provider builds an STS client and loads the system's TLS roots for it).
/// Elsewhere, the default chain. Requests go through [`https_client`].
pub async fn sdk_config(region: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(https_client());
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region.to_owned()));
    }
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    if set("AWS_ACCESS_KEY_ID") && set("AWS_SECRET_ACCESS_KEY") {
        loader = loader.credentials_provider(aws_config::environment::EnvironmentVariableCredentialsProvider::new());
    }
    loader.load().await
}

/// The HTTPS client of every AWS SDK client here: rustls on ring (the crypto provider reqwest
/// already uses, so a binary carries one), TLS verified against the system's roots.
#[must_use]
pub fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https()
}
