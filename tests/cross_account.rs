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
use seclog_core::sink::opensearch::signing::Signer;
use seclog_core::sink::opensearch::OpenSearchSink;
use seclog_e2e::{counts, event, expected, fast_config, run, server};
use seclog_testkit::moto::Moto;
use seclog_testkit::proxy::FaultProxy;

#[tokio::test]
async fn bulk_requests_are_signed_with_the_assumed_role() {
    let moto = Moto::start();
    let (server, client) = server().await;
    let proxy = FaultProxy::start(server.url(), []).await;
    let own = Credentials::new("AKIDSOURCEACCOUNT", "source-secret", None, None, "function role");
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .endpoint_url(moto.url())
        .credentials_provider(SharedCredentialsProvider::new(own))
        .load()
        .await;
    let provider =
        Signer::provider_for(&sdk, Some("arn:aws:iam::111122223333:role/seclog-central-writer"), Some("seclog")).await;
    let signer = Signer::new(provider, SigningService::Es, "eu-west-1".into());
    let sink = OpenSearchSink::with_signer(fast_config(&proxy.url()), Some(signer)).unwrap();
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
