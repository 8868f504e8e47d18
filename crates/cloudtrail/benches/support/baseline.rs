//! The floor every CloudWatch Logs forwarder pays: base64 + gunzip, parse the payload and each
//! record into `serde_json::Value`, serialise each record as a line. Shared by the criterion bench
//! and the instruction-count example.

use seclog_core::envelope::cloudwatch_logs::CloudWatchLogsEvent;
use serde_json::Value;

/// Plain decode + parse + serialise of `event`.
pub(crate) fn plain(event: &CloudWatchLogsEvent) -> Vec<u8> {
    let bytes = seclog_core::decode::gunzip_base64(&event.awslogs.data, 64 << 20).unwrap();
    let payload: Value = serde_json::from_slice(&bytes).unwrap();
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for ev in payload["logEvents"].as_array().unwrap() {
        let record: Value = serde_json::from_str(ev["message"].as_str().unwrap()).unwrap();
        serde_json::to_writer(&mut out, &record).unwrap();
        out.push(b'\n');
    }
    out
}
