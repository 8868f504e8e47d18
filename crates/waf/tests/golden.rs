//! Recorded Firehose requests → expected responses, compared exactly.
#![allow(clippy::unwrap_used)]

use seclog_testkit::{firehose_golden::assert_outcome, inputs};
use seclog_waf::WafTransform;

#[tokio::test]
async fn every_fixture_matches_its_golden_response() {
    for input in inputs("waf") {
        let s = assert_outcome(&input, &WafTransform::new(seclog_testkit::enricher())).await;
        assert_eq!(s.ok + s.dropped + s.failed + s.split + s.overflowed, s.received, "{}", input.display());
    }
}
