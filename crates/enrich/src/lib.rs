//! Offline enrichment for seclog documents: no network call per record.
//!
//! - [`classify`]: what a source address is. A `CloudTrail` `sourceIPAddress` may be an IPv4 or
//!   IPv6 address, an AWS service name (`ec2.amazonaws.com`), `AWS Internal`, or something else;
//!   an address may be public, private, loopback, link-local, carrier-grade NAT, multicast,
//!   documentation or otherwise reserved. Only public addresses are looked up.
//! - [`GeoIp`]: city and ASN from MaxMind-format databases (DB-IP City Lite and our ASN build by
//!   default, or the user's GeoIP2/GeoLite2 files), memory-mapped, one file per address family or
//!   one for both.
//! - [`AwsRanges`]: which AWS service and region a public address belongs to, from AWS's
//!   published `ip-ranges.json`.
//! - [`user_agent`]: what kind of client a `CloudTrail` user agent is (console, CLI, SDK by
//!   language, Terraform, CDK / `CloudFormation`, AWS internal) and whether it names a
//!   penetration-testing distribution.
//! - [`Enricher`]: all of it behind one call per address, with a small cache, opened once per
//!   container; missing or unreadable data leaves documents un-enriched and says so once.
//!
//! ```
//! use seclog_enrich::{classify, AddressClass};
//! assert_eq!(classify("8.8.8.8").0, AddressClass::Public);
//! assert_eq!(classify("10.1.2.3").0, AddressClass::Private);
//! assert_eq!(classify("ec2.amazonaws.com").0, AddressClass::AwsService);
//! ```
#![warn(missing_docs)]

mod aws;
mod enricher;
mod geo;
mod ip;
pub mod user_agent;

pub use aws::{AwsRange, AwsRanges, RangesError};
pub use enricher::{Endpoint, Enricher, EnrichmentConfig, IpEnrichment, LAMBDA_DATA_DIR};
pub use geo::{Asn, Geo, GeoIp, Location};
pub use ip::{classify, classify_ip, AddressClass};

/// Why enrichment data could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A database file could not be read or is not in MaxMind format.
    #[error("{path}: {source}")]
    Database {
        /// The file.
        path: String,
        /// What went wrong.
        source: maxminddb::MaxMindDbError,
    },
    /// The AWS ranges file could not be read or parsed.
    #[error("{path}: {reason}")]
    Ranges {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
}
