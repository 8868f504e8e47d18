//! Which rules load, which are skipped and why: the bundled set pinned, and every kind of bad
//! rule file a user can put in `DETECTION_RULES_DIR`.
#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::path::Path;

use seclog_core::config::FromEnv;
use seclog_rules::config::parse_cidrs;
use seclog_rules::{LogSource, RuleSet, RulesConfig, SkipReason, Status};

/// One line per rule read: file, id, and what became of it.
fn listing(rules: &RuleSet) -> String {
    let mut out = String::new();
    for entry in rules.report() {
        let status = match &entry.status {
            Status::Loaded(source) => format!("loaded {}", source.as_str()),
            Status::Correlation => "correlation".to_owned(),
            Status::Skipped(reason) => format!("skipped: {reason}"),
        };
        writeln!(out, "{} {} {status}", entry.file, entry.id.as_deref().unwrap_or("-")).unwrap();
    }
    out
}

#[test]
fn the_bundled_rules_that_load_and_that_are_skipped_are_pinned() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bundled.expected.txt");
    let actual = listing(&RuleSet::load(&RulesConfig::bundled()).unwrap());
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &actual).unwrap();
    }
    assert_eq!(actual, std::fs::read_to_string(&path).unwrap(), "UPDATE_GOLDEN=1 rewrites it; review the diff");
}

#[test]
fn the_ids_of_seclog_s_own_rules_name_the_bundled_rules() {
    use seclog_rules::ids;
    let config = RulesConfig { allowed_cidrs: parse_cidrs("203.0.113.0/24").unwrap(), ..RulesConfig::bundled() };
    let rules = RuleSet::load(&config).unwrap();
    let title = |id: &str| {
        let rule = rules.rules().iter().find(|r| r.about.id == id).map(|r| r.about.title.as_str());
        rule.or_else(|| rules.correlations().iter().find(|c| c.about.id == id).map(|c| c.about.title.as_str()))
    };
    assert_eq!(title(ids::SIGN_IN_OUTSIDE_ALLOWED), Some("AWS Console Sign-In From Outside the Allowed Addresses"));
    assert_eq!(title(ids::SIGN_IN_FAILED), Some("AWS Console Sign-In Failed"));
    assert_eq!(title(ids::SIGN_IN_FAILED_BURST), Some("AWS Console Sign-In Brute-Force Burst"));
    assert_eq!(title(ids::ACCESS_DENIED), Some("AWS API Call Denied"));
    assert_eq!(title(ids::ACCESS_DENIED_BURST), Some("AWS API Calls Denied Burst From One Principal"));
}

#[test]
fn every_sigmahq_rule_loads_but_the_placeholder_rule_seclog_replaces() {
    let config = RulesConfig::from_pairs(&[("ALLOWED_CIDRS", "203.0.113.0/24"), ("ALLOWED_COUNTRIES", "DE")]).unwrap();
    let rules = RuleSet::load(&config).unwrap();
    let skipped: Vec<_> = rules
        .report()
        .iter()
        .filter_map(|r| match &r.status {
            Status::Skipped(reason) => Some((r.file.as_str(), reason.to_string())),
            _ => None,
        })
        .collect();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(
        skipped[0].0,
        "bundled:sigma/rules-placeholder/cloud/aws/cloudtrail/aws_cloudtrail_console_login_success_from_susp_locations.yml"
    );
    assert!(skipped[0].1.contains("matches ALLOWED_CIDRS as ranges"), "{}", skipped[0].1);
    // 57 CloudTrail and 7 DNS rules from SigmaHQ, seclog's 3 (the address rule loads with ALLOWED_CIDRS).
    assert_eq!(rules.rules().len(), 57 + 7 + 3);
    assert_eq!(rules.correlations().len(), 2);
    for rule in rules.rules() {
        assert!(
            rule.about.author.as_deref().is_some_and(|a| !a.is_empty()),
            "{} has an author (DRL 1.1)",
            rule.about.file
        );
    }
}

fn user_rule(id: &str, detection: &str) -> String {
    format!(
        "title: Test rule {id}\nid: {id}\nauthor: tester\nlogsource:\n    product: aws\n    service: cloudtrail\n\
         detection:\n{detection}\nlevel: high\n"
    )
}

#[test]
fn bad_user_rule_files_are_skipped_each_with_its_reason_and_the_rest_load() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write("a_not_yaml.yml", "title: [unclosed\n  : :");
    write("b_not_sigma.yml", "just: a map\nof: things\n");
    write(
        "c_unknown_modifier.yml",
        &user_rule(
            "11111111-0000-0000-0000-000000000003",
            "    sel:\n        eventName|sounds_like: Stop\n    condition: sel",
        ),
    );
    write(
        "d_correlation_without_rule.yml",
        "title: Burst of nothing\nid: 11111111-0000-0000-0000-000000000004\ncorrelation:\n    type: event_count\n    rules:\n        - no_such_rule\n    group-by:\n        - sourceIPAddress\n    timespan: 10m\n    condition:\n        gte: 5\nlevel: high\n",
    );
    write(
        "d_correlation_too_long.yml",
        "title: Burst over centuries\nid: 11111111-0000-0000-0000-000000000005\ncorrelation:\n    type: event_count\n    rules:\n        - 11111111-0000-0000-0000-000000000099\n    group-by:\n        - sourceIPAddress\n    timespan: 200000000000d\n    condition:\n        gte: 5\nlevel: high\n",
    );
    write("e_no_id.yml", "title: No id\nlogsource:\n    product: aws\n    service: cloudtrail\ndetection:\n    sel:\n        eventName: X\n    condition: sel\n");
    write(
        "f_windows.yml",
        "title: Windows\nid: 11111111-0000-0000-0000-000000000006\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    sel:\n        Image: x\n    condition: sel\n",
    );
    write(
        "g_duplicate_id.yml",
        &user_rule("4db60cc0-36fb-42b7-9b58-a5b53019fb74", "    sel:\n        eventName: X\n    condition: sel"),
    );
    write(
        "h_unknown_placeholder.yml",
        &user_rule(
            "11111111-0000-0000-0000-000000000008",
            "    sel:\n        userIdentity.arn: '%Admins%'\n    condition: sel",
        ),
    );
    write("i_too_large.yml", &"#".repeat(seclog_rules::load::MAX_RULE_FILE_BYTES + 1));
    write(
        "z_good.yml",
        &user_rule(
            "11111111-0000-0000-0000-000000000099",
            "    sel:\n        eventName: DeleteTrail\n    condition: sel",
        ),
    );
    write("not_a_rule.txt", "ignored: not .yml");

    let config = RulesConfig { dir: Some(dir.path().to_path_buf()), without_bundled: true, ..RulesConfig::bundled() };
    let rules = RuleSet::load(&config).unwrap();
    let reasons: Vec<(String, String)> = rules
        .report()
        .iter()
        .map(|r| {
            let file = Path::new(&r.file).file_name().unwrap().to_string_lossy().into_owned();
            let status = match &r.status {
                Status::Skipped(reason) => reason.to_string(),
                other => format!("{other:?}"),
            };
            (file, status)
        })
        .collect();
    let reason_of = |file: &str| -> &str {
        &reasons.iter().find(|(f, _)| f == file).unwrap_or_else(|| panic!("{file} is reported: {reasons:?}")).1
    };
    assert!(!reason_of("a_not_yaml.yml").is_empty());
    assert_eq!(reason_of("b_not_sigma.yml"), "Missing required field 'title'");
    assert!(reason_of("c_unknown_modifier.yml").contains("sounds_like"), "{}", reason_of("c_unknown_modifier.yml"));
    assert_eq!(reason_of("d_correlation_without_rule.yml"), "refers to rule `no_such_rule`, which is not loaded");
    assert_eq!(
        reason_of("d_correlation_too_long.yml"),
        "a timespan of 200000000000d is longer than the 366 days the alerter counts in"
    );
    assert_eq!(reason_of("e_no_id.yml"), "the rule has no id: documents and alerts name rules by id");
    assert_eq!(
        reason_of("f_windows.yml"),
        "logsource (product windows, service -, category process_creation) is not one seclog reads"
    );
    assert_eq!(reason_of("h_unknown_placeholder.yml"), "placeholder %Admins% has no setting in seclog");
    assert_eq!(reason_of("i_too_large.yml"), format!("larger than {} bytes", seclog_rules::load::MAX_RULE_FILE_BYTES));
    assert_eq!(reason_of("z_good.yml"), "Loaded(CloudTrail)");
    // The good rule, and the one whose id only clashes with a bundled rule (left out here).
    let loaded: Vec<&str> = rules.rules().iter().map(|r| r.about.id.as_str()).collect();
    assert_eq!(loaded, ["4db60cc0-36fb-42b7-9b58-a5b53019fb74", "11111111-0000-0000-0000-000000000099"]);
    assert!(!reasons.iter().any(|(f, _)| f == "not_a_rule.txt"));

    // The duplicate id is refused against the bundled rule that has it.
    let with_bundled = RuleSet::load(&RulesConfig { without_bundled: false, ..config }).unwrap();
    let dup = with_bundled.report().iter().find(|r| r.file.ends_with("g_duplicate_id.yml")).unwrap();
    assert_eq!(
        dup.status,
        Status::Skipped(SkipReason::DuplicateId {
            id: "4db60cc0-36fb-42b7-9b58-a5b53019fb74".into(),
            file: "bundled:sigma/rules/cloud/aws/cloudtrail/aws_cloudtrail_disable_logging.yml".into()
        })
    );
}

#[test]
fn a_missing_rules_folder_is_reported_and_the_bundled_rules_still_load() {
    let config = RulesConfig { dir: Some("/nonexistent/seclog-rules".into()), ..RulesConfig::bundled() };
    let rules = RuleSet::load(&config).unwrap();
    let missing = rules.report().iter().find(|r| r.file == "/nonexistent/seclog-rules").unwrap();
    let Status::Skipped(reason) = &missing.status else { panic!("{missing:?}") };
    assert_eq!(*reason, SkipReason::FolderUnreadable(std::io::ErrorKind::NotFound));
    assert_eq!(reason.to_string(), "the rules folder cannot be read: entity not found");
    assert_eq!(rules.rules().len(), 57 + 7 + 2);
}

#[test]
fn detection_off_loads_nothing_and_matches_nothing() {
    let rules = RuleSet::load(&RulesConfig { enabled: false, ..RulesConfig::bundled() }).unwrap();
    assert!(rules.rules().is_empty());
    let record =
        serde_json::from_str(r#"{"eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging"}"#).unwrap();
    assert!(rules.cloudtrail(&record).is_empty());
}

/// A function that evaluates one log source at ingest (`route53`: DNS) does not parse the bundled
/// files filed under the other (61 `CloudTrail` rules: most of its rule-loading time at cold
/// start), and loads the same rules of its own source as a full load; correlations are the
/// alerter's and are left to it.
#[test]
fn a_function_reads_only_the_bundled_files_of_its_own_log_sources() {
    let config = RulesConfig::from_pairs(&[("ALLOWED_CIDRS", "203.0.113.0/24"), ("ALLOWED_COUNTRIES", "DE")]).unwrap();
    let full = RuleSet::load(&config).unwrap();
    for source in [LogSource::CloudTrail, LogSource::Dns] {
        let only = RuleSet::load_for(&config, &[source]).unwrap();
        let ids = |rules: &RuleSet| -> Vec<String> {
            rules.rules().iter().filter(|r| r.source == source).map(|r| r.about.id.clone()).collect()
        };
        assert_eq!(ids(&only), ids(&full), "{source:?}");
        assert!(only.rules().iter().all(|r| r.source == source), "{source:?}: {:?}", listing(&only));
        assert!(only.correlations().is_empty());
        let read: Vec<&str> = only.report().iter().map(|r| r.file.as_str()).collect();
        assert!(read.iter().all(|f| !f.starts_with("bundled:") || bundled_source(f) == Some(source)), "{read:?}");
    }
    let dns = RuleSet::load_for(&config, &[LogSource::Dns]).unwrap();
    assert_eq!(dns.report().len(), 7, "{}", listing(&dns));
    let both = RuleSet::load_for(&config, &[LogSource::CloudTrail, LogSource::Dns]).unwrap();
    assert_eq!(both.rules(), full.rules());
}

/// Every bundled rule is filed under the folder of its log source, so that filing can stand for
/// the parse (a new folder, or a rule filed in the wrong one, fails here).
#[test]
fn every_bundled_rule_is_filed_under_its_log_source() {
    let config = RulesConfig::from_pairs(&[("ALLOWED_CIDRS", "203.0.113.0/24"), ("ALLOWED_COUNTRIES", "DE")]).unwrap();
    let full = RuleSet::load(&config).unwrap();
    for rule in full.rules() {
        assert_eq!(bundled_source(&rule.about.file), Some(rule.source), "{}", rule.about.file);
    }
    for entry in full.report() {
        assert!(bundled_source(&entry.file).is_some(), "{} is filed under a known folder", entry.file);
    }
}

fn bundled_source(file: &str) -> Option<LogSource> {
    seclog_rules::load::bundled_source(file.strip_prefix("bundled:")?)
}
