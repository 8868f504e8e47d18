//! One transformation of a 6 MB request, for peak-memory measurement:
//! `cargo build --release --example peak -p seclog-waf && /usr/bin/time -v target/release/examples/peak [plain]`.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../benches/support/batch.rs"]
mod support;

fn main() {
    let event = support::batch();
    let bytes = if std::env::args().nth(1).as_deref() == Some("plain") {
        support::plain(&event).len()
    } else {
        serde_json::to_vec(&support::run(&event)).unwrap().len()
    };
    println!("{} records, response {bytes} bytes", event.records.len());
}
