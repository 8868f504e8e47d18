//! The "OpenSearch in another account" case: credentials come from a role assumed through STS (a
//! real local `moto` server), and the bulk requests that reach the real `osmem-server` are signed
//! with the assumed role's session credentials, not the function's own.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use seclog_cloudtrail::config::FunctionConfig;
use seclog_cloudtrail::handler::Deps;
use seclog_core::sink::opensearch::config::SigningService;
use seclog_core::sink::opensearch::signing::{AssumedRole, Signer};
use seclog_core::sink::opensearch::OpenSearchSink;
use seclog_e2e::{counts, event, expected, fast_config, run, server};
use seclog_testkit::moto::Moto;
use seclog_testkit::proxy::FaultProxy;

/// The source account's SDK configuration: its function's own credentials, STS at `endpoint`.
async fn source_account(endpoint: &str) -> aws_config::SdkConfig {
    let own = Credentials::new("AKIDSOURCEACCOUNT", "source-secret", None, None, "function role");
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(seclog_core::lambda::https_client())
        .region(Region::new("eu-west-1"))
        .endpoint_url(endpoint)
        .credentials_provider(SharedCredentialsProvider::new(own))
        .load()
        .await
}

#[tokio::test]
async fn bulk_requests_are_signed_with_the_assumed_role() {
    let moto = Moto::start();
    let (server, client) = server().await;
    let proxy = FaultProxy::start(server.url(), []).await;
    let sdk = source_account(moto.url()).await;
    let provider = Signer::provider_for(
        &sdk,
        Some(AssumedRole {
            arn: "arn:aws:iam::111122223333:role/seclog-central-writer",
            external_id: Some("seclog"),
            session_name: "seclog-cloudtrail-222222222222",
        }),
    )
    .await;
    let signer = Signer::new(provider, SigningService::Es, "eu-west-1".into());
    let sink = OpenSearchSink::with_signer(fast_config(&proxy.url()), Some(std::sync::Arc::new(signer))).unwrap();
    let dl = sink.deadletters().clone();
    let deps = Deps::new(sink, dl, FunctionConfig::default());

    run(&deps, &[event("stratus-red-team")], Duration::from_secs(30)).await.unwrap();

    let auth = proxy.stats().last_authorization.unwrap();
    assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=ASIA"), "assumed-role session key: {auth}");
    assert!(!auth.contains("AKIDSOURCEACCOUNT"));
    assert!(auth.contains("/eu-west-1/es/aws4_request"));
    let want = expected(&["stratus-red-team"]);
    assert_eq!(counts(&client).await, (want.documents.len() as u64, 0));
}

#[tokio::test]
async fn sessions_are_named_for_the_function_and_account_and_sts_failures_are_retried_within_the_budget() {
    let moto = Moto::start();
    let (server, client) = server().await;
    // STS answers 503 to the first dozen calls (the SDK's own retries included), then recovers.
    let sts = FaultProxy::start(moto.url(), vec![seclog_testkit::proxy::Fault::Status(503); 12]).await;
    let sdk = source_account(&sts.url()).await;
    let session_name = seclog_core::sink::opensearch::config::session_name("cloudtrail", "222222222222");
    let role = AssumedRole {
        arn: "arn:aws:iam::111122223333:role/seclog-central-writer",
        external_id: None,
        session_name: &session_name,
    };
    let signer = Signer::new(Signer::provider_for(&sdk, Some(role)).await, SigningService::Es, "eu-west-1".into());
    let sink = OpenSearchSink::with_signer(fast_config(server.url()), Some(std::sync::Arc::new(signer))).unwrap();
    let dl = sink.deadletters().clone();
    let deps = Deps::new(sink, dl, FunctionConfig::default());

    let s = run(&deps, &[event("stratus-red-team")], Duration::from_secs(60)).await.unwrap();

    let stats = sts.stats();
    assert_eq!(stats.faults, 12, "every injected STS failure was met");
    assert!(s[0].delivery.retried > 0, "the sink backed off while STS failed");
    let asked = stats.bodies.iter().map(|b| String::from_utf8_lossy(b).into_owned()).collect::<Vec<_>>();
    assert!(asked.iter().all(|b| b.contains("RoleSessionName=seclog-cloudtrail-222222222222")), "{asked:?}");
    let want = expected(&["stratus-red-team"]);
    assert_eq!(counts(&client).await, (want.documents.len() as u64, 0));
}
