//! The functions' AWS SDK configuration reads Lambda's credentials from the environment (its own
//! process: it sets environment variables).
#![allow(clippy::unwrap_used)]

use aws_credential_types::provider::ProvideCredentials;

#[tokio::test]
async fn the_lambda_environment_s_credentials_and_region_are_used() {
    std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDLAMBDA");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "lambda-secret");
    std::env::set_var("AWS_SESSION_TOKEN", "lambda-token");
    std::env::set_var("AWS_REGION", "eu-west-1");
    // No profile, instance metadata or web identity is consulted.
    std::env::set_var("AWS_CONFIG_FILE", "/nonexistent/seclog/config");
    std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/seclog/credentials");
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");

    let sdk = seclog_core::lambda::sdk_config(None).await;
    assert_eq!(sdk.region().map(ToString::to_string).as_deref(), Some("eu-west-1"));
    let credentials = sdk.credentials_provider().unwrap().provide_credentials().await.unwrap();
    assert_eq!(credentials.access_key_id(), "AKIDLAMBDA");
    assert_eq!(credentials.secret_access_key(), "lambda-secret");
    assert_eq!(credentials.session_token(), Some("lambda-token"));

    let overridden = seclog_core::lambda::sdk_config(Some("us-west-2")).await;
    assert_eq!(overridden.region().map(ToString::to_string).as_deref(), Some("us-west-2"));
}
