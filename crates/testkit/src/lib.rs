//! Test support for seclog: fixture discovery, golden comparison, the `osmem-server` harness and
//! a fault-injecting HTTP proxy. A dev-dependency only.
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

pub mod batches;
pub mod bench;
pub mod count;
pub mod emulator;
pub mod firehose_golden;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod golden;
pub mod invariants;
pub mod moto;

use std::path::{Path, PathBuf};

/// The workspace root.
#[must_use]
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).unwrap().to_path_buf()
}

/// Cargo's target directory: `CARGO_TARGET_DIR`, else `<workspace>/target`.
#[must_use]
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace_root().join("target"), PathBuf::from)
}

/// The `fixtures/<source>` folder.
#[must_use]
pub fn fixtures(source: &str) -> PathBuf {
    workspace_root().join("fixtures").join(source)
}

/// Every `*.input.json` under `fixtures/<source>`, sorted.
#[must_use]
pub fn inputs(source: &str) -> Vec<PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(fixtures(source))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".input.json"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no fixtures for {source}");
    v
}

/// `n` files `event-0000.json`, … holding `bytes`, in `dir` (created): many recorded events to
/// replay.
#[must_use]
pub fn copies(dir: &Path, n: usize, bytes: &[u8]) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    (0..n)
        .map(|i| {
            let path = dir.join(format!("event-{i:04}.json"));
            std::fs::write(&path, bytes).unwrap();
            path
        })
        .collect()
}

/// The pinned default enrichment data `scripts/setup` writes (`.tools/geoip`).
#[must_use]
pub fn enrichment_dir() -> PathBuf {
    workspace_root().join(".tools/geoip")
}

/// The enricher every golden and end-to-end test uses: the pinned default data, all of it
/// (a missing file fails the test; run `scripts/setup`).
#[must_use]
pub fn enricher() -> std::sync::Arc<seclog_enrich::Enricher> {
    static ENRICHER: std::sync::OnceLock<std::sync::Arc<seclog_enrich::Enricher>> = std::sync::OnceLock::new();
    ENRICHER
        .get_or_init(|| {
            let config = seclog_enrich::EnrichmentConfig::in_dir(&enrichment_dir());
            let enricher = seclog_enrich::Enricher::open(&config);
            assert!(enricher.problems().is_empty(), "run scripts/setup: {:?}", enricher.problems());
            std::sync::Arc::new(enricher)
        })
        .clone()
}

/// The rules every golden and end-to-end test uses: the bundled set, as deployed by default (no
/// `ALLOWED_CIDRS`, so the rules that need it are not loaded).
#[must_use]
pub fn rules() -> std::sync::Arc<seclog_rules::RuleSet> {
    static RULES: std::sync::OnceLock<std::sync::Arc<seclog_rules::RuleSet>> = std::sync::OnceLock::new();
    RULES
        .get_or_init(|| {
            let rules = seclog_rules::RuleSet::load(&seclog_rules::RulesConfig::bundled()).expect("bundled rules load");
            std::sync::Arc::new(rules)
        })
        .clone()
}

/// `a/b/case.input.json` → `a/b/case.<ext>`.
#[must_use]
pub fn sibling(input: &Path, ext: &str) -> PathBuf {
    let name = input.file_name().unwrap().to_string_lossy().replace(".input.json", ext);
    input.with_file_name(name)
}

pub mod proxy;
