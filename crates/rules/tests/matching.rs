//! What matches: records as AWS writes them against the bundled rules, each with a near miss.
#![allow(clippy::unwrap_used)]

use std::borrow::Cow;

use seclog_core::json::RawObject;
use seclog_rules::config::parse_cidrs;
use seclog_rules::ids::{ACCESS_DENIED, SIGN_IN_FAILED, SIGN_IN_OUTSIDE_ALLOWED as OUTSIDE_ALLOWED};
use seclog_rules::{Detection, DnsQuery, Level, RuleSet, RulesConfig};

const XMR_POOL: &str = "b593fd50-7335-4682-a36c-4edcb68e4641";
const TXT_EXEC: &str = "8ae51330-899c-4641-8125-e39f2e07da72";

fn cloudtrail(rules: &RuleSet, text: &str) -> Detection {
    let record: RawObject<'_> = serde_json::from_str(text).unwrap();
    rules.cloudtrail(&record)
}

fn console_login(ip: &str, outcome: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","userName":"alice","arn":"arn:aws:iam::111122223333:user/alice"}},
        "eventTime":"2026-12-01T09:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1",
        "sourceIPAddress":"{ip}","userAgent":"Mozilla/5.0","requestParameters":null,
        "responseElements":{{"ConsoleLogin":"{outcome}"}},"additionalEventData":{{"MFAUsed":"Yes"}},"eventID":"e-{ip}"}}"#
    )
}

#[test]
fn a_sign_in_from_outside_the_allowed_ranges_matches_and_one_inside_does_not() {
    let config =
        RulesConfig { allowed_cidrs: parse_cidrs("203.0.113.0/24, 198.51.100.7").unwrap(), ..RulesConfig::bundled() };
    let rules = RuleSet::load(&config).unwrap();
    let outside = cloudtrail(&rules, &console_login("192.0.2.44", "Success"));
    assert!(outside.rule_ids.iter().any(|id| id == OUTSIDE_ALLOWED), "{outside:?}");
    assert_eq!(outside.level, Some(Level::High));
    for inside in ["203.0.113.200", "198.51.100.7"] {
        let d = cloudtrail(&rules, &console_login(inside, "Success"));
        assert!(!d.rule_ids.iter().any(|id| id == OUTSIDE_ALLOWED), "{inside}: {d:?}");
    }
    // Without ALLOWED_CIDRS the rule is not loaded, so nothing is outside.
    let unconfigured = RuleSet::load(&RulesConfig::bundled()).unwrap();
    assert!(!cloudtrail(&unconfigured, &console_login("192.0.2.44", "Success"))
        .rule_ids
        .iter()
        .any(|id| id == OUTSIDE_ALLOWED));
}

#[test]
fn a_failed_console_sign_in_is_marked_for_the_burst_rule_and_a_successful_one_is_not() {
    let rules = RuleSet::load(&RulesConfig::bundled()).unwrap();
    let failed = cloudtrail(&rules, &console_login("192.0.2.44", "Failure"));
    assert!(failed.rule_ids.iter().any(|id| id == SIGN_IN_FAILED), "{failed:?}");
    let ok = cloudtrail(&rules, &console_login("192.0.2.44", "Success"));
    assert!(!ok.rule_ids.iter().any(|id| id == SIGN_IN_FAILED), "{ok:?}");
    let burst = rules.correlations().iter().find(|c| c.about.id == "0f782939-330e-4fdd-a8cf-9dd67b8a1900").unwrap();
    assert_eq!(
        (burst.threshold.group_by.as_slice(), burst.threshold.timespan_seconds, burst.about.level),
        (&["sourceIPAddress".to_owned()][..], 600, Level::High)
    );
    assert_eq!(burst.rules, ["seclog_aws_console_login_failed"]);
}

#[test]
fn access_denied_and_unauthorized_operation_errors_are_marked_and_other_errors_are_not() {
    let rules = RuleSet::load(&RulesConfig::bundled()).unwrap();
    let call = |code: &str| {
        format!(
            r#"{{"eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","errorCode":"{code}","userIdentity":{{"arn":"arn:aws:iam::1:user/x"}}}}"#
        )
    };
    for code in ["AccessDenied", "Client.UnauthorizedOperation", "AccessDeniedException"] {
        assert!(cloudtrail(&rules, &call(code)).rule_ids.iter().any(|id| id == ACCESS_DENIED), "{code}");
    }
    assert!(!cloudtrail(&rules, &call("ThrottlingException")).rule_ids.iter().any(|id| id == ACCESS_DENIED));
}

#[test]
fn a_record_that_matches_nothing_gets_no_detection() {
    let rules = RuleSet::load(&RulesConfig::bundled()).unwrap();
    let d = cloudtrail(
        &rules,
        r#"{"eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","userIdentity":{"type":"IAMUser"}}"#,
    );
    assert_eq!(d, Detection::default());
    assert_eq!(
        serde_json::to_string(&cloudtrail(
            &rules,
            r#"{"eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging"}"#
        ))
        .unwrap(),
        r#"{"rule_ids":["4db60cc0-36fb-42b7-9b58-a5b53019fb74"],"level":"medium"}"#
    );
}

#[test]
fn dns_rules_see_route53_names_through_the_field_map_without_the_trailing_dot() {
    let rules = RuleSet::load(&RulesConfig::bundled()).unwrap();
    let query = |name: &'static str| DnsQuery::new(Cow::Borrowed(name));
    assert!(rules.dns(&query("xmr.2miners.com.")).rule_ids.iter().any(|id| id == XMR_POOL));
    assert!(rules.dns(&query("2miners.com.")).is_empty(), "near miss");
    // `record_type` and `answer` map onto query_type and the answers' data.
    let txt = |answer: &'static str| DnsQuery {
        query_type: Some(Cow::Borrowed("TXT")),
        answers: vec![Cow::Borrowed(answer)],
        ..query("c2.example.com.")
    };
    assert!(
        rules.dns(&txt("IEX (New-Object Net.WebClient)")).rule_ids.iter().any(|id| id == TXT_EXEC),
        "{:?}",
        rules.dns(&txt("IEX (New-Object Net.WebClient)"))
    );
    assert!(rules.dns(&txt("v=spf1 include:_spf.example.com ~all")).is_empty());
    let a_record = DnsQuery { query_type: Some(Cow::Borrowed("A")), ..txt("IEX (New-Object Net.WebClient)") };
    assert!(rules.dns(&a_record).is_empty(), "the TXT rule needs record_type TXT");
}

#[test]
fn the_example_rule_of_your_own_loads_beside_the_bundled_ones_and_matches_only_its_user() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/rules");
    let rules = RuleSet::load(&RulesConfig { dir: Some(dir), ..RulesConfig::bundled() }).unwrap();
    let example = "c330b72d-0252-4b94-b0b6-6bc745b8227a";
    assert!(rules.rules().iter().any(|r| r.about.id == example && r.about.author.as_deref() == Some("your team")));
    let break_glass =
        console_login("192.0.2.44", "Success").replace(r#""userName":"alice""#, r#""userName":"break-glass""#);
    let matched = cloudtrail(&rules, &break_glass);
    assert!(matched.rule_ids.iter().any(|id| id == example), "{matched:?}");
    assert_eq!(matched.level, Some(Level::High));
    let alice = cloudtrail(&rules, &console_login("192.0.2.44", "Success"));
    assert!(!alice.rule_ids.iter().any(|id| id == example), "{alice:?}");
}
