//! `SigV4` signing of bulk requests with `aws-sigv4`, for `es` and `aoss`.
//!
//! Credentials come from the Lambda environment through the default provider chain, or from a
//! role assumed through STS. Assumed-role credentials are cached until five minutes before they
//! expire; nothing here ever logs a credential.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use tokio::sync::Mutex;

use super::config::{Auth, SigningService};
use crate::error::SigningError;
use crate::DeliveryError;

const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(300);

/// A role to assume through STS.
#[derive(Debug, Clone, Copy)]
pub struct AssumedRole<'a> {
    /// The role's ARN.
    pub arn: &'a str,
    /// Its external id, if the trust policy asks for one.
    pub external_id: Option<&'a str>,
    /// The session's name (`seclog-<function>-<account>`).
    pub session_name: &'a str,
}

/// Signs requests for one service and region.
#[derive(Debug)]
pub struct Signer {
    provider: SharedCredentialsProvider,
    service: SigningService,
    region: String,
    cached: Mutex<Option<Credentials>>,
}

impl Signer {
    /// A signer over any credentials provider.
    #[must_use]
    pub fn new(provider: SharedCredentialsProvider, service: SigningService, region: String) -> Self {
        Self { provider, service, region, cached: Mutex::new(None) }
    }

    /// The signer `auth` asks for: SigV4 credentials from the environment (or the role assumed
    /// from it); `None` for basic auth or none. Shared: a sink and a client of the same cluster
    /// may sign with one (one credentials cache, one assumed-role session).
    pub async fn for_auth(auth: &Auth) -> Option<Arc<Self>> {
        match auth {
            Auth::SigV4 { service, region, role_arn, external_id, session_name } => {
                let role = role_arn.as_deref().map(|arn| AssumedRole {
                    arn,
                    external_id: external_id.as_deref(),
                    session_name,
                });
                let provider = Self::from_environment(region, role).await;
                Some(Arc::new(Self::new(provider, *service, region.clone())))
            }
            Auth::Basic { .. } | Auth::None => None,
        }
    }

    /// The provider for the Lambda environment ([`crate::lambda::sdk_config`]), or a role assumed
    /// from it.
    pub async fn from_environment(region: &str, role: Option<AssumedRole<'_>>) -> SharedCredentialsProvider {
        let sdk = crate::lambda::sdk_config(Some(region)).await;
        Self::provider_for(&sdk, role).await
    }

    /// The provider of an SDK configuration, or a role assumed with it (tests point the SDK
    /// configuration at a local STS).
    pub async fn provider_for(sdk: &aws_config::SdkConfig, role: Option<AssumedRole<'_>>) -> SharedCredentialsProvider {
        match role {
            Some(role) => {
                let mut builder = aws_config::sts::AssumeRoleProvider::builder(role.arn)
                    .session_name(role.session_name)
                    .configure(sdk);
                if let Some(id) = role.external_id {
                    builder = builder.external_id(id);
                }
                SharedCredentialsProvider::new(builder.build().await)
            }
            None => sdk.credentials_provider().unwrap_or_else(|| SharedCredentialsProvider::new(NoCredentials)),
        }
    }

    async fn credentials(&self) -> Result<Credentials, DeliveryError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref() {
            let fresh = c.expiry().is_none_or(|exp| exp > SystemTime::now() + REFRESH_BEFORE_EXPIRY);
            if fresh {
                return Ok(c.clone());
            }
        }
        let creds = self.provider.provide_credentials().await.map_err(DeliveryError::Credentials)?;
        // Static environment credentials have no expiry and are cheap to read: cache only
        // credentials that expire (assumed roles, container credentials).
        if creds.expiry().is_some() {
            *cached = Some(creds.clone());
        }
        Ok(creds)
    }

    /// Adds the `SigV4` headers (and for `aoss` the `x-amz-content-sha256` header) to `req`.
    ///
    /// # Errors
    /// [`DeliveryError::Signing`] when credentials are missing or the request cannot be signed.
    pub async fn sign(&self, req: &mut http::Request<Vec<u8>>) -> Result<(), DeliveryError> {
        let identity = self.credentials().await?.into();
        let mut settings = SigningSettings::default();
        if self.service == SigningService::Aoss {
            settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        }
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(self.service.as_str())
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .map_err(|e| DeliveryError::Signing(SigningError::Params(e)))?
            .into();
        let uri = req.uri().to_string();
        let headers = req.headers().iter().filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)));
        let signable = SignableRequest::new(req.method().as_str(), uri, headers, SignableBody::Bytes(req.body()))
            .map_err(|e| DeliveryError::Signing(SigningError::Sign(e)))?;
        let (instructions, _signature) =
            sign(signable, &params).map_err(|e| DeliveryError::Signing(SigningError::Sign(e)))?.into_parts();
        instructions.apply_to_request_http1x(req);
        Ok(())
    }
}

/// The `authorization` header for basic auth, marked sensitive so it is never printed.
///
/// # Errors
/// When the credentials are not valid header text.
pub fn basic_auth_header(username: &str, password: &str) -> Result<http::HeaderValue, DeliveryError> {
    use base64::Engine as _;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    let mut value = http::HeaderValue::from_str(&format!("Basic {token}"))
        .map_err(|_| DeliveryError::Signing(SigningError::BasicAuth))?;
    value.set_sensitive(true);
    Ok(value)
}

#[derive(Debug)]
struct NoCredentials;

impl ProvideCredentials for NoCredentials {
    fn provide_credentials<'a>(&'a self) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::ready(Err(
            aws_credential_types::provider::error::CredentialsError::not_loaded(
                "no credentials provider is configured",
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> http::Request<Vec<u8>> {
        http::Request::builder()
            .method("POST")
            .uri("https://search-x.eu-west-1.es.amazonaws.com/_bulk")
            .header("content-type", "application/x-ndjson")
            .body(b"{}\n".to_vec())
            .unwrap()
    }

    /// A bulk request signed for `service` with session credentials: its headers.
    async fn signed_headers(service: SigningService) -> http::HeaderMap {
        let creds = Credentials::new("AKIDEXAMPLE", "secret", Some("token".into()), None, "test");
        let signer = Signer::new(SharedCredentialsProvider::new(creds), service, "eu-west-1".into());
        let mut req = request();
        signer.sign(&mut req).await.unwrap();
        req.headers().clone()
    }

    #[tokio::test]
    async fn es_signature_headers() {
        let headers = signed_headers(SigningService::Es).await;
        let auth = headers["authorization"].to_str().unwrap();
        assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"), "{auth}");
        assert!(auth.contains("/eu-west-1/es/aws4_request"), "{auth}");
        assert!(headers.contains_key("x-amz-date"));
        assert_eq!(headers["x-amz-security-token"], "token");
        assert!(!headers.contains_key("x-amz-content-sha256"));
    }

    #[tokio::test]
    async fn aoss_adds_the_content_hash() {
        let headers = signed_headers(SigningService::Aoss).await;
        let auth = headers["authorization"].to_str().unwrap();
        assert!(auth.contains("/aoss/aws4_request"), "{auth}");
        // sha256("{}\n")
        assert_eq!(headers["x-amz-content-sha256"], "ca3d163bab055381827226140568f3bef7eaac187cebd76878e0b63e9e442356");
    }

    #[tokio::test]
    async fn missing_credentials_is_a_typed_error() {
        let s = Signer::new(SharedCredentialsProvider::new(NoCredentials), SigningService::Es, "r".into());
        assert!(matches!(s.sign(&mut request()).await, Err(DeliveryError::Credentials(_))));
    }
}
