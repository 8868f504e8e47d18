//! Writes each fuzz target's seed corpus (`seclog_testkit::fuzzing::seeds`) into `<folder>/<target>/` (scripts/fuzz).
fn main() {
    let root = std::path::PathBuf::from(std::env::args().nth(1).expect("usage: fuzz-seed <corpus folder>"));
    for (name, _) in seclog_testkit::fuzzing::TARGETS {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).expect("corpus folder");
        let seeds = seclog_testkit::fuzzing::seeds(name);
        for (i, seed) in seeds.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i:04}")), seed).expect("seed");
        }
        println!("{name}: {} seeds", seeds.len());
    }
}
