//! Recorded Firehose requests → expected responses, compared exactly. A `<case>.format` file
//! beside a case gives its flow-log format.
#![allow(clippy::unwrap_used)]

use seclog_testkit::{firehose_golden::assert_outcome, inputs, sibling};
use seclog_vpcflow::{Format, VpcFlowTransform};

#[tokio::test]
async fn every_fixture_matches_its_golden_response() {
    for input in inputs("vpcflow") {
        let transform = match std::fs::read_to_string(sibling(&input, ".format")) {
            Ok(f) => VpcFlowTransform::new(Format::parse(&f).unwrap()),
            Err(_) => VpcFlowTransform::default(),
        }
        .with_enricher(seclog_testkit::enricher());
        let s = assert_outcome(&input, &transform).await;
        assert_eq!(s.ok + s.dropped + s.failed + s.split + s.overflowed, s.received, "{}", input.display());
    }
}
