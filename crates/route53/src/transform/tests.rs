//! Unit tests of `transform`.

use super::*;
use seclog_core::config::FromEnv;
use serde_json::{json, Value};

fn run(record: &str) -> Value {
    let (_, _, body) =
        Route53Transform::default().transform_record(record.as_bytes(), Some("111122223333"), "").unwrap();
    serde_json::from_slice(&body).unwrap()
}

fn error(record: &str) -> RecordError {
    Route53Transform::default().transform_record(record.as_bytes(), None, "").unwrap_err()
}

#[test]
fn public_line() {
    let doc = run(
        "1.0 2017-12-13T08:15:50.235Z Z123412341234 www.example.com. AAAA NOERROR TCP IAD12 192.0.2.7 198.51.100.0/24",
    );
    assert_eq!(
        doc,
        json!({"@timestamp": "2017-12-13T08:15:50.235Z", "event": {"dataset": "aws.route53_public"},
            "cloud": {"provider": "aws", "account": {"id": "111122223333"}},
            "source": {"address": "192.0.2.7", "ip": "192.0.2.7", "address_class": "documentation"},
            "client": {"address": "198.51.100.0/24", "ip": "198.51.100.0", "address_class": "documentation"},
            "network": {"transport": "tcp", "iana_number": "6", "protocol": "dns"},
            "dns": {"type": "query", "question": {"name": "www.example.com", "type": "AAAA",
                "registered_domain": "example.com", "top_level_domain": "com", "subdomain": "www",
                "label_count": 3, "first_label": {"length": 3, "entropy": 0.0}}, "response_code": "NOERROR"},
            "version": "1.0", "query_timestamp": "2017-12-13T08:15:50.235Z", "hosted_zone_id": "Z123412341234",
            "query_name": "www.example.com.", "query_type": "AAAA", "response_code": "NOERROR", "protocol": "TCP",
            "edge_location": "IAD12", "resolver_ip": "192.0.2.7", "edns_client_subnet": "198.51.100.0/24"})
    );
    let no_subnet = run("1.0 2017-12-13T08:16:02.130Z Z1 example.com A NOERROR UDP Region 192.0.2.1 -");
    assert_eq!(no_subnet.get("client"), None);
    assert_eq!(no_subnet.get("edns_client_subnet"), None);
    assert_eq!(no_subnet["edge_location"], "Region");
}

#[test]
fn resolver_record() {
    let doc = run(r#"{"version":"1.100000","account_id":"111122223333","region":"us-east-1","vpc_id":"vpc-1",
        "query_timestamp":"2021-02-04T17:51:55Z","query_name":"d1.example.com.","query_type":"A","query_class":"IN",
        "rcode":"NOERROR","answers":[{"Rdata":"cdn.example.net.","Type":"CNAME","Class":"IN"},
        {"Rdata":"192.0.2.44","Type":"A","Class":"IN"}],"srcaddr":"10.0.0.5","srcport":"56067","transport":"UDP",
        "srcids":{"instance":"i-0abc"},"firewall_rule_action":"ALERT","dns":"mine"}"#);
    assert_eq!(doc["@timestamp"], "2021-02-04T17:51:55.000Z");
    assert_eq!(doc["event"], json!({"dataset": "aws.route53_resolver", "action": "ALERT"}));
    assert_eq!(
        doc["cloud"],
        json!({"provider": "aws", "account": {"id": "111122223333"}, "region": "us-east-1", "instance": {"id": "i-0abc"}})
    );
    assert_eq!(
        doc["source"],
        json!({"address": "10.0.0.5", "ip": "10.0.0.5", "port": 56067, "address_class": "private"})
    );
    assert_eq!(doc["dns"]["resolved_ip"], json!(["192.0.2.44"]));
    assert_eq!(doc["dns"]["answers"][0], json!({"data": "cdn.example.net", "type": "CNAME", "class": "IN"}));
    assert_eq!(doc["dns"]["question"]["class"], "IN");
    assert_eq!(doc["route53_dns"], "mine");
    assert_eq!(doc["srcport"], "56067");
}

#[test]
fn resolver_odd_shapes() {
    let doc = run(
        r#"{"query_timestamp":"2022-06-25 00:27:53","query_name":"x.example.com","answers":{"Rdata":"1.2.3.4","Type":"A"},"srcids":"i-1"}"#,
    );
    assert_eq!(doc["@timestamp"], "2022-06-25T00:27:53.000Z");
    assert_eq!(doc["dns"]["resolved_ip"], json!(["1.2.3.4"]));
    assert_eq!(doc["srcids"], json!({"_value": "\"i-1\""}));
    let empty = run(r#"{"query_timestamp":"2022-06-25T00:27:53Z","query_name":"x.example.com","answers":[]}"#);
    assert_eq!(empty["dns"].get("answers"), None);
    assert_eq!(empty["dns"].get("resolved_ip"), None);
    assert_eq!(empty["answers"], json!([]));
}

#[test]
fn bad_records_have_exact_outcomes() {
    let cases = [
        ("1.0 2017-12-13T08:16:02.130Z Z1 example.com A NOERROR UDP", "bad_line"),
        ("1.0 2017-12-13T08:16:02.130Z Z1 example.com A NOERROR UDP FRA6 1.2.3.4 - extra", "bad_line"),
        ("1.0 13/Dec/2017 Z1 example.com A NOERROR UDP FRA6 1.2.3.4 -", "bad_timestamp"),
        (r#"{"query_name":"x.","query_timestamp":"yesterday"}"#, "bad_timestamp"),
        (r#"{"query_name":"x."}"#, "bad_timestamp"),
        (r#"{"query_timestamp":"2021-02-04T17:51:55Z"}"#, "missing_field"),
        (r#"{"query_name":"x.","query_timestamp":1}"#, "bad_timestamp"),
        (r#"{"eventID":"e1","eventTime":"2021-02-04T17:51:55Z"}"#, "unknown_record"),
        ("hello world", "unknown_record"),
        ("", "unknown_record"),
        (r#"{"query_name":"x.""#, "bad_json"),
        ("[1]", "unknown_record"),
    ];
    for (record, kind) in cases {
        assert_eq!(error(record).kind, kind, "{record}");
    }
    assert_eq!(error("1.0 2017-12-13T08:16:02.130Z Z1").reason, "a public query log line has 10 fields, this one 3");
    let bytes = Route53Transform::default().transform_record(b"1.0 \xff", None, "").unwrap_err();
    assert_eq!(bytes.kind, "bad_line");
}

#[test]
fn with_the_deployed_window_a_query_far_from_now_names_no_index() {
    let config = crate::config::Config::from_env(&seclog_core::config::Env::from_lookup(|_| None)).unwrap();
    let t = Route53Transform::new(config.resolver_index, config.public_index);
    let context = EventContext { owner: "111122223333", log_group: "g", log_stream: "s", timestamp: 0, ingested: "" };
    let transform = |line: String| {
        let origin = Origin { dataset: DATASET, record_id: "1".into(), raw: line.clone().into() };
        EventTransform::transform(&t, &line, origin, &context).map(|d| d.index)
    };
    let line = |time: &str| format!("1.0 {time} Z1 example.com A NOERROR UDP FRA6 192.0.2.7 -");
    let now = chrono::Utc::now();
    let today = now.format("route53-public-%Y.%m.%d").to_string();
    assert_eq!(transform(line(&now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))), Ok(today));
    for far in ["2017-12-13T08:16:02.130Z", "2999-12-13T08:16:02.130Z"] {
        assert_eq!(transform(line(far)).unwrap_err().kind, "time_out_of_range", "{far}");
    }
}

#[test]
fn firehose_records_with_several_logs_are_split() {
    let t = Route53Transform::default();
    let split = RecordTransform::transform(&t, b"{\"a\":1}\n{\"b\":2}\n", &RecordContext::default()).unwrap();
    assert_eq!(split, Transformed::Split(vec![b"{\"a\":1}".to_vec(), b"{\"b\":2}".to_vec()]));
    let lines = "1.0 a\r\n\n1.0 b\n";
    let split = RecordTransform::transform(&t, lines.as_bytes(), &RecordContext::default()).unwrap();
    assert_eq!(split, Transformed::Split(vec![b"1.0 a".to_vec(), b"1.0 b".to_vec()]));
    // A pretty-printed object is one record.
    let pretty = "{\n \"query_name\": \"x.\",\n \"query_timestamp\": \"2021-02-04T17:51:55Z\"\n}\n";
    assert!(matches!(
        RecordTransform::transform(&t, pretty.as_bytes(), &RecordContext::default()).unwrap(),
        Transformed::Document { .. }
    ));
}
