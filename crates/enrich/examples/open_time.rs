//! How long opening the default data takes (what a cold start adds), and the first lookups:
//! `cargo run --release -p seclog-enrich --example open_time`.
#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Instant;

use seclog_enrich::{Enricher, EnrichmentConfig};

fn main() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.tools/geoip");
    let started = Instant::now();
    let enricher = Enricher::open(&EnrichmentConfig::in_dir(&dir));
    let opened = started.elapsed();
    assert!(enricher.problems().is_empty(), "{:?}", enricher.problems());
    let started = Instant::now();
    let found = ["8.8.8.8", "121.134.0.1", "52.95.128.179", "2406:da14::1"]
        .iter()
        .filter(|ip| enricher.lookup(ip.parse().unwrap()).is_some())
        .count();
    println!(
        "opened in {:.1} ms; first {found} lookups in {:.3} ms",
        opened.as_secs_f64() * 1e3,
        started.elapsed().as_secs_f64() * 1e3
    );
}
