//! What `user_agent.*` says of real `CloudTrail` user agents: each line of `user_agents.jsonl`
//! is an agent and the block its documents carry. A new tool's agent is a new line.

use seclog_enrich::user_agent::classify;
use serde_json::Value;

#[test]
fn every_recorded_agent_is_classified_as_its_line_says() {
    let lines = include_str!("user_agents.jsonl");
    let mut pentest = 0;
    for line in lines.lines() {
        let case: Value = serde_json::from_str(line).unwrap();
        let agent = case["agent"].as_str().unwrap();
        let got = serde_json::to_value(classify(agent)).unwrap();
        assert_eq!(got, case["user_agent"], "{agent}");
        pentest += usize::from(got["pentest"] == true);
    }
    assert_eq!((lines.lines().count(), pentest), (25, 4));
}
