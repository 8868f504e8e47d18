//! One transformation of a 6 MB request, for peak-memory measurement:
//! `cargo build --release --example waf_peak -p seclog-waf && /usr/bin/time -v target/release/examples/waf_peak [plain]`.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../benches/support/batch.rs"]
mod support;

use seclog_core::envelope::firehose::RecordResult;

fn main() {
    let event = support::batch();
    if std::env::args().nth(1).as_deref() == Some("plain") {
        println!("{} records, response {} bytes", event.records.len(), support::plain(&event).len());
    } else {
        let response = support::run(&event, seclog_testkit::enricher());
        let kept = response.records.iter().filter(|r| r.result == RecordResult::Ok).count();
        let bytes = serde_json::to_vec(&response).unwrap().len();
        println!("{} records, {kept} answered Ok, the rest put back; response {bytes} bytes", event.records.len());
    }
}
