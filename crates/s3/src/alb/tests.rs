use super::*;

/// An HTTPS request in the current format (33 fields), written to AWS's documented layout.
const HTTPS: &str = r#"https 2026-11-30T22:23:00.186641Z app/web-prod/50dc6c495c0c9188 203.0.113.7:46532 10.0.0.66:9000 0.086 0.048 0.037 200 200 0 57 "GET https://shop.example.com:443/cart?id=7 HTTP/1.1" "curl/8.4.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web/73e2d6bc24d8a067 "Root=1-58337281-1d84f3d73c47ec4e58577259" "shop.example.com" "arn:aws:acm:eu-west-1:111122223333:certificate/12345678-1234-1234-1234-123456789012" 1 2026-11-30T22:22:48.364000Z "authenticate,forward" "-" "-" "10.0.0.66:9000" "200" "-" "-" TID_1234abcd "-" "-" "-""#;

fn run(line: &str) -> Result<serde_json::Value, RecordError> {
    let context = LineContext { account: Some("111122223333"), region: Some("eu-west-1"), ingested: "" };
    let (_, body) = transform_line(line, &context, &Enricher::disabled())?;
    Ok(serde_json::from_slice(&body).unwrap())
}

#[test]
fn a_current_https_line_gives_ecs_fields_and_every_documented_field() {
    let doc = run(HTTPS).unwrap();
    assert_eq!(doc["@timestamp"], "2026-11-30T22:23:00.186Z");
    assert_eq!(doc["event"], serde_json::json!({"dataset": "aws.alb", "outcome": "success"}));
    assert_eq!(doc["cloud"]["account"]["id"], "111122223333");
    assert_eq!(
        doc["source"],
        serde_json::json!({"ip": "203.0.113.7", "port": 46532, "address_class": "documentation"})
    );
    assert_eq!(doc["client"], serde_json::json!({"ip": "203.0.113.7", "port": 46532}));
    assert_eq!(doc["destination"], serde_json::json!({"ip": "10.0.0.66", "port": 9000, "address_class": "private"}));
    assert_eq!(
        doc["http"],
        serde_json::json!({"request": {"method": "GET", "bytes": 0}, "response": {"status_code": 200, "bytes": 57}, "version": "1.1"})
    );
    assert_eq!(
        doc["url"],
        serde_json::json!({"original": "https://shop.example.com:443/cart?id=7", "scheme": "https",
            "domain": "shop.example.com", "port": 443, "path": "/cart", "query": "id=7"})
    );
    assert_eq!(doc["user_agent"]["original"], "curl/8.4.0");
    assert_eq!(
        doc["tls"],
        serde_json::json!({"cipher": "ECDHE-RSA-AES128-GCM-SHA256", "version": "1.2", "version_protocol": "tls"})
    );
    assert_eq!(doc["related"], serde_json::json!({"ip": ["203.0.113.7", "10.0.0.66"]}));
    let elb = &doc["aws"]["elb"];
    assert_eq!(elb["type"], "https");
    assert_eq!(elb["target_processing_time"], 0.048);
    assert_eq!(elb["matched_rule_priority"], 1);
    assert_eq!(elb["actions_executed"], serde_json::json!(["authenticate", "forward"]));
    assert_eq!(elb["target_port_list"], serde_json::json!(["10.0.0.66:9000"]));
    assert_eq!(elb["conn_trace_id"], "TID_1234abcd");
    assert!(elb.get("redirect_url").is_none() && elb.get("extra_fields").is_none());
}

#[test]
fn an_old_line_with_the_2016_fields_only_is_read() {
    let line = r#"http 2016-08-10T23:39:43.065466Z app/web/50dc6c495c0c9188 192.0.2.44:2817 10.0.0.1:80 0.000 0.001 0.000 502 - 34 366 "GET http://www.example.com:80/ HTTP/1.1" "Mozilla/5.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/t/73e2d6bc24d8a067"#;
    let doc = run(line).unwrap();
    assert_eq!(doc["event"]["outcome"], "failure");
    assert_eq!(doc["http"]["response"], serde_json::json!({"status_code": 502, "bytes": 366}));
    assert!(doc.get("tls").is_none());
    assert!(doc["aws"]["elb"].get("target_status_code").is_none());
    assert!(doc["aws"]["elb"].get("trace_id").is_none());
}

#[test]
fn fields_aws_adds_later_are_kept_not_refused() {
    let doc = run(&format!("{HTTPS} \"new-field\" 42")).unwrap();
    assert_eq!(doc["aws"]["elb"]["extra_fields"], serde_json::json!(["new-field", "42"]));
}

#[test]
fn quotes_escapes_and_ipv6_clients() {
    assert_eq!(split(r#"a "b c" "d \"e\"" f"#).unwrap(), ["a", "b c", "d \"e\"", "f"]);
    assert_eq!(split(r#""" x"#).unwrap(), ["", "x"]);
    let line = HTTPS.replace("203.0.113.7:46532", "2001:db8::7:46532");
    let doc = run(&line).unwrap();
    assert_eq!(doc["client"], serde_json::json!({"ip": "2001:db8::7", "port": 46532}));
    let line = HTTPS.replace("203.0.113.7:46532", "[2001:db8::8]:443");
    assert_eq!(run(&line).unwrap()["client"], serde_json::json!({"ip": "2001:db8::8", "port": 443}));
}

#[test]
fn bad_lines_are_exact_errors() {
    let kind = |line: &str| run(line).unwrap_err();
    let e = kind(r#"https 2026-11-30T22:23:00Z app/x 1.2.3.4:5 - 0 0 0 200 200 0 0 "GET / HTTP/1.1" "Mozilla/5.0 - -"#);
    assert_eq!((e.kind, e.reason.as_str()), (RecordKind::BadLine, "field 14 opens a quote that is never closed"));
    let e = kind(r#"https 2026-11-30T22:23:00Z app/x 1.2.3.4:5 - 0 0 0 200 200 0 0 "GET / HTTP/1.1 "ua" -"#);
    assert_eq!((e.kind, e.reason.as_str()), (RecordKind::BadLine, "field 13 closes its quote before the field ends"));
    let e = kind("https 2026-11-30T22:23:00Z app/x");
    assert_eq!(
        (e.kind, e.reason.as_str()),
        (RecordKind::FieldCount, "the line has 3 fields, an access-log entry at least 17")
    );
    let e = kind(&HTTPS.replace("2026-11-30T22:23:00.186641Z", "yesterday"));
    assert_eq!((e.kind, e.reason.as_str()), (RecordKind::BadTimestamp, "time `yesterday` is not an RFC 3339 date"));
    let e = kind(&HTTPS.replace(" 0 57 ", " 0 lots "));
    assert_eq!((e.kind, e.reason.as_str()), (RecordKind::BadNumber, "sent_bytes `lots` is not a number"));
}

#[test]
fn a_malformed_request_keeps_what_it_has() {
    let doc = run(&HTTPS.replace("GET https://shop.example.com:443/cart?id=7 HTTP/1.1", "- - - ")).unwrap();
    assert!(doc.get("url").is_none());
    assert!(doc["http"]["request"].get("method").is_none());
    let doc = run(&HTTPS.replace("https://shop.example.com:443/cart?id=7", "not a url")).unwrap();
    assert_eq!(doc["http"]["request"]["method"], "GET");
}
