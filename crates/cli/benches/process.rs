//! The whole process: `seclog replay --source <source> <files> --output /dev/null` (enrichment
//! data and the bundled rules on, as a user runs it) against a plain program that reads the same
//! files and does what a minimal forwarder does with them (the handler benches' plain baselines:
//! decode + `serde_json::Value` parse + serialise), both started as processes, in the same run.
//!
//! The plain program is this bench's own executable, started again with `SECLOG_PLAIN_PROCESS`
//! set: no second binary to build or ship.
#![allow(clippy::unwrap_used, missing_docs, dead_code)]

#[path = "../../cloudtrail/benches/support/baseline.rs"]
mod cloudtrail_plain;
#[path = "../../vpcflow/benches/support/baseline.rs"]
mod vpcflow_plain;
#[path = "../../waf/benches/support/baseline.rs"]
mod waf_plain;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use seclog_testkit::batches::{self, describe, Batch};

/// Set (to the source) in the plain program's environment.
const PLAIN: &str = "SECLOG_PLAIN_PROCESS";
/// Files replayed by each process: the same event, as a backfill replays a day of them.
const FILES: usize = 20;

fn main() {
    if let Ok(source) = std::env::var(PLAIN) {
        plain_process(&source);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}

/// The plain program: every file through its source's plain baseline, written to standard output.
fn plain_process(source: &str) {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for path in std::env::args().skip(1) {
        let event = std::fs::read(path).unwrap();
        let bytes = match source {
            "cloudtrail" => cloudtrail_plain::plain(&serde_json::from_slice(&event).unwrap()),
            "waf" => waf_plain::plain(&serde_json::from_slice(&event).unwrap()),
            _ => vpcflow_plain::plain(&serde_json::from_slice(&event).unwrap()),
        };
        out.write_all(&bytes).unwrap();
    }
    out.flush().unwrap();
}

/// `FILES` copies of `event` under `target/bench/process/<source>/`.
fn files<T: serde::Serialize>(source: &str, event: &T) -> Vec<PathBuf> {
    let dir = seclog_testkit::target_dir().join("bench/process").join(source);
    seclog_testkit::copies(&dir, FILES, &serde_json::to_vec(event).unwrap())
}

fn run(program: &Path, args: &[&std::ffi::OsStr], plain_source: Option<&str>) {
    let mut command = Command::new(program);
    command.args(args).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    if let Some(source) = plain_source {
        command.env(PLAIN, source);
    }
    let status = command.status().unwrap();
    assert!(status.success(), "{} {args:?}: {status}", program.display());
}

fn bench(c: &mut Criterion) {
    let seclog = Path::new(env!("CARGO_BIN_EXE_seclog"));
    let this = std::env::current_exe().unwrap();
    let enrich = seclog_testkit::workspace_root().join(".tools/geoip");
    let (cloudtrail, waf, vpcflow) = (batches::cloudtrail(6 << 20), batches::waf(), batches::vpcflow());
    let inputs = [
        (
            "cloudtrail",
            "6 MB of recorded CloudTrail records (decompressed) in one subscription event",
            (cloudtrail.records, cloudtrail.bytes, files("cloudtrail", &cloudtrail.event)),
        ),
        (
            "waf",
            "real CloudFront WAF logs in a 6 MB Firehose request",
            (waf.records, waf.bytes, files("waf", &waf.event)),
        ),
        (
            "vpcflow",
            "default-format flow-log lines in a 6 MB Firehose request",
            (vpcflow.records, vpcflow.bytes, files("vpcflow", &vpcflow.event)),
        ),
    ];
    for (source, what, (records, bytes, paths)) in inputs {
        let group_name = format!("replay/{source}");
        let batch = Batch { event: (), records: records * FILES, bytes: bytes * FILES };
        describe(&group_name, &batch, &format!("{FILES} files, each {what}"));
        let mut group = c.benchmark_group(group_name);
        group.throughput(Throughput::Elements((records * FILES) as u64));
        group.sample_size(10).measurement_time(Duration::from_secs(15));
        let mut args: Vec<&std::ffi::OsStr> =
            ["replay", "--source", source, "--output", "/dev/null", "--enrich-data"].map(std::ffi::OsStr::new).into();
        args.push(enrich.as_os_str());
        args.extend(paths.iter().map(|p| p.as_os_str()));
        group.bench_function("seclog replay process", |b| b.iter(|| run(seclog, &args, None)));
        let plain_args: Vec<&std::ffi::OsStr> = paths.iter().map(|p| p.as_os_str()).collect();
        group.bench_function("plain decode+parse+serialise process", |b| {
            b.iter(|| run(&this, &plain_args, Some(source)));
        });
        group.finish();
    }
}
