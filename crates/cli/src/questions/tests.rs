use super::*;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

#[test]
fn a_period_wraps_the_question_s_own_query_and_all_time_leaves_it_alone() {
    let body = json!({"size": 0, "query": {"term": {"action": "BLOCK"}}});
    assert_eq!(Scope::all().limit(body.clone()), body);
    let scope = Scope::parse(Some("7d"), None, at("2026-12-05T12:00:00Z")).unwrap();
    assert_eq!(
        scope.limit(body)["query"],
        json!({"bool": {"filter": [
            {"range": {"@timestamp": {"gte": "2026-11-28T12:00:00.000Z"}}},
            {"term": {"action": "BLOCK"}}
        ]}})
    );
    let scope = Scope::parse(Some("2026-11-01"), Some("2026-12-01T00:00:00Z"), Utc::now()).unwrap();
    assert_eq!(
        scope.limit(json!({"size": 0}))["query"],
        json!({"bool": {"filter": [{"range": {"@timestamp": {"gte": "2026-11-01T00:00:00.000Z", "lt": "2026-12-01T00:00:00.000Z"}}}]}})
    );
}

#[test]
fn a_bad_or_empty_period_is_refused_with_what_is_accepted() {
    let now = at("2026-12-05T12:00:00Z");
    let err = Scope::parse(Some("last week"), None, now).unwrap_err().to_string();
    assert!(err.contains("neither a date (2026-01-31), an RFC 3339 time nor a duration (7d, 24h)"), "{err}");
    let err = Scope::parse(Some("2026-12-01"), Some("2026-11-01"), now).unwrap_err().to_string();
    assert!(err.contains("is not before --until"), "{err}");
}

#[test]
fn each_pattern_covers_every_family_its_function_writes() {
    let families: [(&str, &[&str]); 6] = [
        (CLOUDTRAIL, &[seclog_cloudtrail::FAMILY]),
        (WAF, &[seclog_waf::FAMILY]),
        (VPCFLOW, &[seclog_vpcflow::FAMILY]),
        (ROUTE53, &[seclog_route53::RESOLVER_FAMILY, seclog_route53::PUBLIC_FAMILY]),
        (SECURITYHUB, &[seclog_securityhub::FAMILY]),
        (ALB, &[seclog_s3::ALB_FAMILY]),
    ];
    for (pattern, written) in families {
        let prefix = pattern.strip_suffix('*').unwrap();
        for family in written {
            assert!(format!("{family}-2026.12.01").starts_with(prefix), "{pattern} misses {family}");
        }
    }
}
