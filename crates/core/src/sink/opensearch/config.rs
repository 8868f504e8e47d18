//! `OpenSearch` sink settings, shared by every function that writes to `OpenSearch`.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `OPENSEARCH_ENDPOINT` | required | `https://…` domain or collection endpoint (plain `http` only for loopback hosts) |
//! | `OPENSEARCH_AUTH` | `sigv4` | `sigv4`, `basic` or `none` |
//! | `OPENSEARCH_SERVICE` | `es` | SigV4 service: `es` (managed domains) or `aoss` (Serverless) |
//! | `OPENSEARCH_REGION` | `AWS_REGION` | SigV4 region |
//! | `OPENSEARCH_ROLE_ARN` | unset | role to assume through STS (OpenSearch in another account) |
//! | `OPENSEARCH_ROLE_EXTERNAL_ID` | unset | external id for that role |
//! | `SECLOG_FUNCTION`, `SECLOG_ACCOUNT_ID` | `AWS_LAMBDA_FUNCTION_NAME`, `unknown` | name that role's sessions `seclog-<function>-<account>` (the CDK app sets both), so the central account's CloudTrail says who wrote |
//! | `OPENSEARCH_USERNAME`, `OPENSEARCH_PASSWORD` | unset | basic auth (self-managed clusters) |
//! | `OPENSEARCH_GZIP` | `true` | gzip request bodies |
//! | `OPENSEARCH_TIMEOUT_MS` | `10000` | per-request timeout |
//! | `BULK_MAX_BYTES` | `5242880` | bulk request size before compression |
//! | `BULK_MAX_DOCS` | `5000` | documents per bulk request |
//! | `RETRY_BASE_MS`, `RETRY_MAX_MS`, `RETRY_MAX_ATTEMPTS` | `200`, `10000`, `8` | backoff with full jitter |
//! | `DEADLETTER_PREFIX` | `seclog` | dead letters go to `<prefix>-deadletter-YYYY.MM` |

use std::fmt;
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::time::Duration;

use url::Url;

use super::retry::Backoff;
use crate::config::{ConfigError, Env, FromEnv};
use crate::deadletter::DeadLetters;

/// The `SigV4` service name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum SigningService {
    /// Amazon `OpenSearch` Service managed domains.
    Es,
    /// Amazon `OpenSearch` Serverless collections (needs the `x-amz-content-sha256` header).
    Aoss,
}

impl SigningService {
    /// The name used in the signature.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// How requests are authenticated.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// `SigV4` with the function's credentials, or a role assumed through STS.
    SigV4 {
        /// `es` or `aoss`.
        service: SigningService,
        /// The signing region.
        region: String,
        /// A role to assume (cross-account delivery).
        role_arn: Option<String>,
        /// The external id for the role.
        external_id: Option<String>,
        /// The role session's name: `seclog-<function>-<account>`.
        session_name: String,
    },
    /// HTTP basic auth for self-managed clusters.
    Basic {
        /// User name.
        username: String,
        /// Password. Never printed.
        password: String,
    },
    /// No authentication (local servers).
    None,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SigV4 { service, region, role_arn, .. } => f
                .debug_struct("SigV4")
                .field("service", service)
                .field("region", region)
                .field("role_arn", role_arn)
                .finish_non_exhaustive(),
            Self::Basic { username, .. } => {
                f.debug_struct("Basic").field("username", username).field("password", &"<redacted>").finish()
            }
            Self::None => f.write_str("None"),
        }
    }
}

/// Everything the sink needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenSearchConfig {
    /// The cluster endpoint.
    pub endpoint: Url,
    /// Authentication.
    pub auth: Auth,
    /// Gzip request bodies.
    pub gzip: bool,
    /// Per-request timeout.
    pub request_timeout: Duration,
    /// Bulk request size limit (uncompressed).
    pub max_bulk_bytes: NonZeroUsize,
    /// Documents per bulk request.
    pub max_bulk_docs: NonZeroUsize,
    /// Retry policy.
    pub backoff: Backoff,
    /// Where dead letters go (`<DEADLETTER_PREFIX>-deadletter-YYYY.MM`).
    pub deadletters: DeadLetters,
}

impl OpenSearchConfig {
    /// Settings for a local, unauthenticated server (tests, demo, `seclog replay`).
    ///
    /// # Errors
    /// When the endpoint is not a usable URL.
    pub fn local(endpoint: &str) -> Result<Self, ConfigError> {
        let endpoint = parse_endpoint(endpoint)?;
        Ok(Self {
            endpoint,
            auth: Auth::None,
            gzip: true,
            request_timeout: Duration::from_secs(10),
            max_bulk_bytes: NonZeroUsize::new(5 << 20).unwrap_or(NonZeroUsize::MIN),
            max_bulk_docs: NonZeroUsize::new(5000).unwrap_or(NonZeroUsize::MIN),
            backoff: Backoff::default(),
            deadletters: DeadLetters::default(),
        })
    }
}

impl FromEnv for OpenSearchConfig {
    /// Reads the settings (see the module docs for the variables).
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first missing or invalid variable.
    fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let endpoint =
            parse_endpoint(&env.required("OPENSEARCH_ENDPOINT", "the https URL of the domain or collection")?)?;
        let auth = match env.get("OPENSEARCH_AUTH").unwrap_or_else(|| "sigv4".into()).trim() {
            "sigv4" => {
                let service = match env.get("OPENSEARCH_SERVICE").as_deref().map(str::trim) {
                    None | Some("es") => SigningService::Es,
                    Some("aoss") => SigningService::Aoss,
                    Some(other) => {
                        return Err(ConfigError::Invalid {
                            var: "OPENSEARCH_SERVICE",
                            reason: format!("`{other}` is not `es` or `aoss`"),
                        })
                    }
                };
                let region = env
                    .get("OPENSEARCH_REGION")
                    .or_else(|| env.get("AWS_REGION"))
                    .ok_or(ConfigError::Missing { var: "OPENSEARCH_REGION", hint: "or AWS_REGION, for SigV4" })?;
                let role_arn = env.get("OPENSEARCH_ROLE_ARN");
                if let Some(arn) = &role_arn {
                    if !arn.starts_with("arn:") || !arn.contains(":role/") {
                        return Err(ConfigError::Invalid {
                            var: "OPENSEARCH_ROLE_ARN",
                            reason: format!("`{arn}` is not an IAM role ARN"),
                        });
                    }
                }
                let function = env.get("SECLOG_FUNCTION").or_else(|| env.get("AWS_LAMBDA_FUNCTION_NAME"));
                let account = env.get("SECLOG_ACCOUNT_ID");
                Auth::SigV4 {
                    service,
                    region,
                    role_arn,
                    external_id: env.get("OPENSEARCH_ROLE_EXTERNAL_ID"),
                    session_name: session_name(
                        function.as_deref().unwrap_or("function"),
                        account.as_deref().unwrap_or("unknown"),
                    ),
                }
            }
            "basic" => Auth::Basic {
                username: env.required("OPENSEARCH_USERNAME", "for OPENSEARCH_AUTH=basic")?,
                password: env.required("OPENSEARCH_PASSWORD", "for OPENSEARCH_AUTH=basic")?,
            },
            "none" => Auth::None,
            other => {
                return Err(ConfigError::Invalid {
                    var: "OPENSEARCH_AUTH",
                    reason: crate::config::NotOneOf::new(other, "sigv4, basic, none").to_string(),
                })
            }
        };
        if matches!(auth, Auth::Basic { .. }) && endpoint.scheme() != "https" {
            return Err(ConfigError::Invalid {
                var: "OPENSEARCH_ENDPOINT",
                reason: "basic auth needs an https endpoint".into(),
            });
        }
        let defaults = Backoff::default();
        let backoff = Backoff {
            base: Duration::from_millis(env.parse_or("RETRY_BASE_MS", 200)?),
            max: Duration::from_millis(env.parse_or("RETRY_MAX_MS", 10_000)?),
            max_attempts: env.parse_or("RETRY_MAX_ATTEMPTS", defaults.max_attempts)?.max(1),
        };
        let deadletters = match env.get("DEADLETTER_PREFIX") {
            None => DeadLetters::default(),
            Some(prefix) => DeadLetters::new(&prefix)
                .map_err(|reason| ConfigError::Invalid { var: "DEADLETTER_PREFIX", reason: reason.to_string() })?,
        };
        Ok(Self {
            endpoint,
            auth,
            gzip: env.bool_or("OPENSEARCH_GZIP", true)?,
            request_timeout: Duration::from_millis(env.parse_or("OPENSEARCH_TIMEOUT_MS", 10_000)?),
            max_bulk_bytes: env.parse_or("BULK_MAX_BYTES", NonZeroUsize::new(5 << 20).unwrap_or(NonZeroUsize::MIN))?,
            max_bulk_docs: env.parse_or("BULK_MAX_DOCS", NonZeroUsize::new(5000).unwrap_or(NonZeroUsize::MIN))?,
            backoff,
            deadletters,
        })
    }
}

/// `seclog-<function>-<account>`, in the characters STS allows (`[\w+=,.@-]`), at most 64 of them.
#[must_use]
pub fn session_name(function: &str, account: &str) -> String {
    let raw = format!("seclog-{function}-{account}");
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
    raw.chars().map(|c| if allowed(c) { c } else { '-' }).take(64).collect()
}

/// Parses the endpoint: `https`, or `http` only for loopback hosts (credentials and data never
/// travel in clear text to another machine). Credentials in the URL are refused, and no error
/// repeats the value (it may hold them).
fn parse_endpoint(raw: &str) -> Result<Url, ConfigError> {
    let var = "OPENSEARCH_ENDPOINT";
    let raw = raw.trim();
    let with_scheme = if raw.contains("://") { raw.to_owned() } else { format!("https://{raw}") };
    let url = Url::parse(&with_scheme).map_err(|e| ConfigError::Invalid { var, reason: format!("not a URL: {e}") })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigError::Invalid {
            var,
            reason: "user names and passwords in the URL are refused (they would end up in logs): \
                     set OPENSEARCH_AUTH=basic with OPENSEARCH_USERNAME and OPENSEARCH_PASSWORD"
                .into(),
        });
    }
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => {
            Err(ConfigError::Invalid { var, reason: "plain http is allowed only for loopback hosts; use https".into() })
        }
        other => Err(ConfigError::Invalid { var, reason: format!("scheme `{other}` is not https") }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> Result<OpenSearchConfig, ConfigError> {
        OpenSearchConfig::from_pairs(pairs)
    }

    #[test]
    fn sigv4_by_default() {
        let c = cfg(&[("OPENSEARCH_ENDPOINT", "search-x.eu-west-1.es.amazonaws.com"), ("AWS_REGION", "eu-west-1")])
            .unwrap();
        assert_eq!(c.endpoint.as_str(), "https://search-x.eu-west-1.es.amazonaws.com/");
        assert!(matches!(c.auth, Auth::SigV4 { service: SigningService::Es, ref region, .. } if region == "eu-west-1"));
        assert!(c.gzip);
    }

    #[test]
    fn clear_messages() {
        let e = cfg(&[]).unwrap_err();
        assert!(e.to_string().starts_with("OPENSEARCH_ENDPOINT is required"), "{e}");
        let e = cfg(&[("OPENSEARCH_ENDPOINT", "https://x")]).unwrap_err();
        assert!(e.to_string().starts_with("OPENSEARCH_REGION is required"), "{e}");
        let e = cfg(&[("OPENSEARCH_ENDPOINT", "http://10.0.0.5:9200"), ("AWS_REGION", "r")]).unwrap_err();
        assert!(e.to_string().contains("only for loopback"), "{e}");
        let e = cfg(&[("OPENSEARCH_ENDPOINT", "https://x"), ("AWS_REGION", "r"), ("OPENSEARCH_SERVICE", "s3")])
            .unwrap_err();
        assert_eq!(e.to_string(), "OPENSEARCH_SERVICE is invalid: `s3` is not `es` or `aoss`");
        let e = cfg(&[("OPENSEARCH_ENDPOINT", "https://x"), ("AWS_REGION", "r"), ("BULK_MAX_BYTES", "0")]).unwrap_err();
        assert!(e.to_string().starts_with("BULK_MAX_BYTES is invalid"), "{e}");
        let e = cfg(&[("OPENSEARCH_ENDPOINT", "https://x"), ("AWS_REGION", "r"), ("OPENSEARCH_ROLE_ARN", "nope")])
            .unwrap_err();
        assert!(e.to_string().contains("not an IAM role ARN"), "{e}");
    }

    #[test]
    fn credentials_in_the_endpoint_are_refused_without_repeating_them() {
        for endpoint in
            ["https://admin:s3cret-pw@search-x.es.amazonaws.com", "https://admin@search-x", "admin:s3cret-pw@search-x"]
        {
            let e = cfg(&[("OPENSEARCH_ENDPOINT", endpoint), ("AWS_REGION", "r")]).unwrap_err().to_string();
            assert!(e.contains("passwords in the URL are refused"), "{e}");
            assert!(!e.contains("s3cret-pw") && !e.contains("admin"), "{e}");
        }
        let e =
            cfg(&[("OPENSEARCH_ENDPOINT", "https://a:s3cret-pw@[::1"), ("AWS_REGION", "r")]).unwrap_err().to_string();
        assert!(!e.contains("s3cret-pw"), "{e}");
    }

    #[test]
    fn role_sessions_say_which_function_and_account() {
        let c = cfg(&[
            ("OPENSEARCH_ENDPOINT", "https://x"),
            ("AWS_REGION", "r"),
            ("OPENSEARCH_ROLE_ARN", "arn:aws:iam::111122223333:role/seclog-central-writer"),
            ("SECLOG_FUNCTION", "cloudtrail"),
            ("SECLOG_ACCOUNT_ID", "222222222222"),
        ])
        .unwrap();
        assert!(
            matches!(c.auth, Auth::SigV4 { ref session_name, .. } if session_name == "seclog-cloudtrail-222222222222")
        );
        assert_eq!(session_name("Stack/Fn name", "1"), "seclog-Stack-Fn-name-1");
        assert_eq!(session_name(&"f".repeat(100), "1").len(), 64);
    }

    #[test]
    fn loopback_http_is_allowed() {
        let c = cfg(&[("OPENSEARCH_ENDPOINT", "http://127.0.0.1:9200"), ("OPENSEARCH_AUTH", "none")]).unwrap();
        assert_eq!(c.auth, Auth::None);
    }

    #[test]
    fn passwords_are_never_printed() {
        let c = cfg(&[
            ("OPENSEARCH_ENDPOINT", "https://x"),
            ("OPENSEARCH_AUTH", "basic"),
            ("OPENSEARCH_USERNAME", "u"),
            ("OPENSEARCH_PASSWORD", "hunter2"),
        ])
        .unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
