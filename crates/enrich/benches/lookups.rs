//! Lookups against the pinned default data (`scripts/setup`): cold (every address new: city,
//! ASN and AWS range read from the memory-mapped files, no cache) and cached (a batch's repeated
//! callers).
#![allow(clippy::unwrap_used, missing_docs)]

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use seclog_enrich::{Enricher, EnrichmentConfig};

fn enricher() -> Enricher {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.tools/geoip");
    let enricher = Enricher::open(&EnrichmentConfig::in_dir(&dir));
    assert!(enricher.problems().is_empty(), "run scripts/setup: {:?}", enricher.problems());
    enricher
}

/// 10,000 public IPv4 addresses spread over the space (a multiplicative hash of the index).
fn addresses() -> Vec<IpAddr> {
    (0u32..10_000)
        .map(|i| IpAddr::V4(Ipv4Addr::from(i.wrapping_mul(2_654_435_761) | 0x0100_0000)))
        .filter(|ip| seclog_enrich::classify_ip(*ip) == seclog_enrich::AddressClass::Public)
        .collect()
}

fn bench(c: &mut Criterion) {
    let ips = addresses();
    let mut group = c.benchmark_group("enrich");
    group.throughput(Throughput::Elements(ips.len() as u64));
    group.sample_size(10);
    let uncached = enricher();
    group.bench_function("cold lookups (no cache)", |b| {
        b.iter(|| ips.iter().filter(|ip| uncached.lookup_uncached(**ip).is_some()).count());
    });
    // A batch's callers repeat: 10,000 lookups of 100 distinct addresses, mostly cache hits.
    let cached = enricher();
    let repeated: Vec<IpAddr> = (0..10_000).map(|i| ips[i % 100]).collect();
    group.throughput(Throughput::Elements(repeated.len() as u64));
    group.bench_function("cached lookups (100 distinct addresses)", |b| {
        b.iter(|| repeated.iter().filter(|ip| cached.lookup(**ip).is_some()).count());
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
