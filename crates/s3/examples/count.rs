//! Runs one path of the S3 object bench a fixed number of times, for instruction counting:
//! `valgrind --tool=callgrind target/release/examples/count-s3 cloudtrail|vpcflow handler|plain
//! <MiB> <n>` (the machine's timers are noisy; instruction counts are not). The objects are the
//! bench's, at the size given: instructions per record do not depend on it, and callgrind runs the
//! bench's 50 and 100 MiB objects for minutes.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../benches/support/objects.rs"]
mod objects;

use seclog_core::decode::gzip;
use seclog_s3::transform::Transforms;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (kind, path, mib, n): (&str, &str, usize, usize) =
        (&args[1], &args[2], args[3].parse().unwrap(), args[4].parse().unwrap());
    let (key, (file, _), plain): (_, _, fn(&[u8]) -> usize) = match kind {
        "cloudtrail" => (objects::TRAIL, objects::trail_file(mib << 20), objects::plain_trail),
        "vpcflow" => (objects::FLOWS, objects::flow_file(mib << 20), objects::plain_flows),
        other => panic!("no object kind {other}: cloudtrail or vpcflow"),
    };
    let object = gzip(&file);
    let transforms = Transforms::new(seclog_testkit::enricher(), seclog_testkit::rules());
    let handler = || objects::seclog(key, &object, &transforms);
    println!("{}", seclog_testkit::count::repeat(path, n, handler, || plain(&object)));
}
