//! AWS's own address ranges, from the `ip-ranges.json` AWS publishes.
//!
//! AWS lists most addresses twice: under `AMAZON` (everything AWS announces) and under the service
//! that uses them (`EC2`, `S3`, `CLOUDFRONT`, …). An address is answered with the most specific
//! prefix that names a service other than `AMAZON`, else with `AMAZON`.

use std::borrow::Cow;
use std::net::IpAddr;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use ipnet::{Ipv4Net, Ipv6Net};
use prefix_trie::PrefixMap;
use serde::{Deserialize, Serialize};

use crate::DataError;

/// The AWS service and region an address belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AwsRange {
    /// `EC2`, `S3`, `CLOUDFRONT`, `ROUTE53_HEALTHCHECKS`, …, or `AMAZON`.
    pub service: Arc<str>,
    /// `us-east-1`, …, or `GLOBAL`.
    pub region: Arc<str>,
}

/// The published ranges, in longest-prefix-match tables.
#[derive(Debug, Default)]
pub struct AwsRanges {
    v4: PrefixMap<Ipv4Net, Vec<AwsRange>>,
    v6: PrefixMap<Ipv6Net, Vec<AwsRange>>,
    /// `createDate` of the file.
    pub created: String,
    /// How many prefixes were read.
    pub prefixes: usize,
}

/// The file, read in place: its ~18,000 prefixes name a few dozen services and regions.
#[derive(Default, Deserialize)]
#[serde(default)]
struct File<'a> {
    #[serde(rename = "createDate")]
    create_date: String,
    #[serde(borrow)]
    prefixes: Vec<Prefix<'a>>,
    #[serde(borrow)]
    ipv6_prefixes: Vec<Prefix<'a>>,
}

/// An entry of `prefixes` (`ip_prefix`) or of `ipv6_prefixes` (`ipv6_prefix`).
#[derive(Deserialize)]
struct Prefix<'a> {
    #[serde(borrow, rename = "ip_prefix", alias = "ipv6_prefix")]
    network: Cow<'a, str>,
    #[serde(borrow)]
    region: Cow<'a, str>,
    #[serde(borrow)]
    service: Cow<'a, str>,
}

/// One shared copy of each service and region name: AWS publishes a few dozen, so a short list
/// beats hashing. Past [`Names::SHARED`] names (not a file AWS wrote) the rest are not shared, so
/// the search stays bounded.
#[derive(Default)]
struct Names(Vec<Arc<str>>);

impl Names {
    const SHARED: usize = 256;

    fn range(&mut self, service: &str, region: &str) -> AwsRange {
        AwsRange { service: self.get(service), region: self.get(region) }
    }

    fn get(&mut self, name: &str) -> Arc<str> {
        if let Some(shared) = self.0.iter().find(|n| ***n == *name) {
            return Arc::clone(shared);
        }
        let shared: Arc<str> = Arc::from(name);
        if self.0.len() < Self::SHARED {
            self.0.push(Arc::clone(&shared));
        }
        shared
    }
}

/// Why an `ip-ranges.json` file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RangesError {
    /// Not the JSON of that file.
    #[error("not an ip-ranges.json file")]
    Json(#[source] serde_json::Error),
    /// Not text.
    #[error("not an ip-ranges.json file: not UTF-8")]
    NotUtf8,
    /// A prefix that is not a network.
    #[error("`{prefix}` is not a network")]
    Prefix {
        /// The prefix as written.
        prefix: String,
        /// The parser's error.
        #[source]
        source: ipnet::AddrParseError,
    },
    /// No prefix at all.
    #[error("no prefixes: not an ip-ranges.json file")]
    Empty,
}

impl AwsRanges {
    /// Reads an `ip-ranges.json` file.
    ///
    /// # Errors
    /// The file cannot be read, is not in that format, or holds a prefix that does not parse.
    pub fn open(path: &Path) -> Result<Self, DataError> {
        let error = |reason: String| DataError::Ranges { path: path.display().to_string(), reason };
        let bytes = std::fs::read(path).map_err(|e| error(e.to_string()))?;
        Self::parse(&bytes).map_err(|e| {
            let cause = std::error::Error::source(&e).map(|s| format!(": {s}")).unwrap_or_default();
            error(format!("{e}{cause}"))
        })
    }

    /// Parses the contents of an `ip-ranges.json` file.
    ///
    /// # Errors
    /// Not that format, or a prefix that does not parse.
    pub fn parse(json: &[u8]) -> Result<Self, RangesError> {
        // One pass of UTF-8 validation over the whole file, not one per string read.
        let text = std::str::from_utf8(json).map_err(|_| RangesError::NotUtf8)?;
        let file: File<'_> = serde_json::from_str(text).map_err(RangesError::Json)?;
        let mut ranges = Self { created: file.create_date, ..Self::default() };
        let mut names = Names::default();
        ranges.prefixes += add_all(&mut ranges.v4, file.prefixes, &mut names, Ipv4Net::trunc)?;
        ranges.prefixes += add_all(&mut ranges.v6, file.ipv6_prefixes, &mut names, Ipv6Net::trunc)?;
        if ranges.prefixes == 0 {
            return Err(RangesError::Empty);
        }
        Ok(ranges)
    }

    /// The AWS service and region of `ip`, if AWS publishes it.
    #[must_use]
    pub fn lookup(&self, ip: IpAddr) -> Option<&AwsRange> {
        match ip {
            IpAddr::V4(v4) => best(self.v4.cover(&Ipv4Net::from(v4))),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => best(self.v4.cover(&Ipv4Net::from(v4))),
                None => best(self.v6.cover(&Ipv6Net::from(v6))),
            },
        }
    }
}

/// Adds one list of the file (`prefixes` or `ipv6_prefixes`) to its table; how many entries it had.
fn add_all<P>(
    map: &mut PrefixMap<P, Vec<AwsRange>>,
    entries: Vec<Prefix<'_>>,
    names: &mut Names,
    trunc: fn(&P) -> P,
) -> Result<usize, RangesError>
where
    P: prefix_trie::Prefix + FromStr<Err = ipnet::AddrParseError>,
{
    let count = entries.len();
    for p in entries {
        let net: P =
            p.network.parse().map_err(|source| RangesError::Prefix { prefix: p.network.to_string(), source })?;
        add(map, trunc(&net), names.range(&p.service, &p.region));
    }
    Ok(count)
}

fn add<P: prefix_trie::Prefix>(map: &mut PrefixMap<P, Vec<AwsRange>>, net: P, range: AwsRange) {
    match map.get_mut(&net) {
        Some(list) if !list.contains(&range) => list.push(range),
        Some(_) => {}
        None => {
            map.insert(net, vec![range]);
        }
    }
}

/// The most specific non-`AMAZON` entry of the covering prefixes, else the most specific.
fn best<'a, P>(cover: impl Iterator<Item = (P, &'a Vec<AwsRange>)>) -> Option<&'a AwsRange> {
    let mut service = None;
    let mut amazon = None;
    // `cover` goes from the shortest prefix to the longest.
    for (_, list) in cover {
        for range in list {
            if &*range.service == "AMAZON" {
                amazon = Some(range);
            } else {
                service = Some(range);
            }
        }
    }
    service.or(amazon)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"syncToken":"1","createDate":"2026-10-26-01-11-04",
      "prefixes":[
        {"ip_prefix":"52.94.0.0/22","region":"us-east-1","service":"AMAZON","network_border_group":"us-east-1"},
        {"ip_prefix":"52.94.0.0/22","region":"us-east-1","service":"EC2","network_border_group":"us-east-1"},
        {"ip_prefix":"52.94.0.0/16","region":"GLOBAL","service":"AMAZON","network_border_group":"GLOBAL"},
        {"ip_prefix":"3.5.0.0/19","region":"us-east-1","service":"AMAZON","network_border_group":"us-east-1"},
        {"ip_prefix":"3.5.0.0/19","region":"us-east-1","service":"S3","network_border_group":"us-east-1"}],
      "ipv6_prefixes":[
        {"ipv6_prefix":"2600:1f18::/33","region":"us-east-1","service":"EC2","network_border_group":"us-east-1"}]}"#;

    fn lookup(ip: &str) -> Option<(String, String)> {
        let ranges = AwsRanges::parse(SAMPLE.as_bytes()).unwrap();
        ranges.lookup(ip.parse().unwrap()).map(|r| (r.service.to_string(), r.region.to_string()))
    }

    #[test]
    fn the_most_specific_service_wins() {
        assert_eq!(lookup("52.94.1.1"), Some(("EC2".into(), "us-east-1".into())));
        assert_eq!(lookup("52.94.200.1"), Some(("AMAZON".into(), "GLOBAL".into())));
        assert_eq!(lookup("3.5.12.9"), Some(("S3".into(), "us-east-1".into())));
        assert_eq!(lookup("2600:1f18:1234::20"), Some(("EC2".into(), "us-east-1".into())));
        assert_eq!(lookup("::ffff:52.94.1.1"), Some(("EC2".into(), "us-east-1".into())));
        assert_eq!(lookup("8.8.8.8"), None);
    }

    #[test]
    fn a_file_of_many_distinct_names_reads_every_one() {
        let entries: Vec<String> = (0..2_000)
            .map(|i| format!(r#"{{"ip_prefix":"10.{}.{}.0/24","region":"r{i}","service":"S{i}"}}"#, i / 256, i % 256))
            .collect();
        let ranges = AwsRanges::parse(format!(r#"{{"prefixes":[{}]}}"#, entries.join(",")).as_bytes()).unwrap();
        assert_eq!(ranges.prefixes, 2_000);
        let last = ranges.lookup("10.7.207.9".parse().unwrap()).unwrap();
        assert_eq!((&*last.service, &*last.region), ("S1999", "r1999"));
    }

    #[test]
    fn bad_files_are_refused() {
        assert!(matches!(AwsRanges::parse(b"{}"), Err(RangesError::Empty)));
        assert!(matches!(AwsRanges::parse(b"[1]"), Err(RangesError::Json(_))));
        assert!(matches!(AwsRanges::parse(b"{\"prefixes\":[\xff]}"), Err(RangesError::NotUtf8)));
        let bad = br#"{"prefixes":[{"ip_prefix":"52.94.0.0/33","region":"x","service":"EC2"}]}"#;
        assert!(matches!(AwsRanges::parse(bad), Err(RangesError::Prefix { prefix, .. }) if prefix == "52.94.0.0/33"));
    }
}
