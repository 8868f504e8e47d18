//! Every input a fuzz target ever failed on, kept in `fixtures/fuzz-regressions/<target>/`, and
//! every recorded fixture record, replayed through the same entry points as the fuzz targets
//! (`seclog_testkit::fuzzing`). A failure here is a regression of a fixed crash.
#![allow(clippy::unwrap_used)]

use seclog_testkit::fuzzing::TARGETS;

#[test]
fn every_saved_fuzz_input_still_keeps_the_contracts() {
    let root = seclog_testkit::workspace_root().join("fixtures/fuzz-regressions");
    let mut replayed = 0;
    for (name, target) in TARGETS {
        let Ok(dir) = std::fs::read_dir(root.join(name)) else { continue };
        for entry in dir {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "md") {
                continue;
            }
            target(&std::fs::read(&path).unwrap());
            replayed += 1;
        }
    }
    eprintln!("replayed {replayed} saved inputs");
}

#[test]
fn the_targets_accept_their_seed_corpora() {
    // What scripts/fuzz seeds each corpus with: the recorded records of the matching source.
    for (name, target) in TARGETS {
        let seeds = seclog_testkit::fuzzing::seeds(name);
        assert!(!seeds.is_empty(), "{name}: no seeds");
        for seed in seeds {
            target(&seed);
        }
    }
}
