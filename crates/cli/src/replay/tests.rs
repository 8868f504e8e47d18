use super::*;

#[test]
fn detects_cloudwatch_logs_events() {
    assert_eq!(detect(&serde_json::json!({"awslogs": {"data": "H4sI"}})), Some(Source::Cloudtrail));
    let firehose = |arn: &str, data: &[u8]| {
        let data = base64::engine::general_purpose::STANDARD.encode(data);
        serde_json::json!({"deliveryStreamArn": arn, "records": [{"recordId": "1", "data": data}]})
    };
    let arn = "arn:aws:firehose:us-east-1:1:deliverystream/";
    assert_eq!(detect(&firehose(&format!("{arn}aws-waf-logs-x"), b"?")), Some(Source::Waf));
    assert_eq!(detect(&firehose(&format!("{arn}x"), b" {\"timestamp\":1}")), Some(Source::Waf));
    assert_eq!(detect(&firehose(&format!("{arn}x"), b"2 123 eni-1 - - - - - - - 1 2 - NODATA")), Some(Source::Vpcflow));
    assert_eq!(
        detect(&firehose(&format!("{arn}x"), br#"{"query_name":"example.com.","query_timestamp":"x"}"#)),
        Some(Source::Route53)
    );
    let logs = |group: &str, message: &str| {
        let payload = serde_json::json!({"messageType": "DATA_MESSAGE", "logGroup": group,
            "logEvents": [{"id": "1", "timestamp": 1, "message": message}]});
        serde_json::json!({"awslogs": {"data": seclog_core::decode::gzip_base64(payload.to_string().as_bytes())}})
    };
    assert_eq!(detect(&logs("/aws/route53/example.com", "x")), Some(Source::Route53));
    let line = "1.0 2017-12-13T08:16:02.130Z Z1 example.com A NOERROR UDP FRA6 192.0.2.1 -";
    assert_eq!(detect(&logs("group", line)), Some(Source::Route53));
    // The route53 function reads any version line (`2.0` too): so does detection.
    let line = "2.0 2017-12-13T08:16:02.130Z Z1 example.com A NOERROR UDP FRA6 192.0.2.1 -";
    assert_eq!(detect(&logs("group", line)), Some(Source::Route53));
    let line = "v1 2017-12-13T08:16:02.130Z Z1 example.com A NOERROR UDP FRA6 192.0.2.1 -";
    assert_eq!(detect(&logs("group", line)), Some(Source::Cloudtrail), "not a version: not a query log");
    assert_eq!(detect(&logs("group", r#"{"eventID":"1"}"#)), Some(Source::Cloudtrail));
    assert_eq!(
        detect(&serde_json::json!({"detail-type": "GuardDuty Finding", "detail": {}})),
        Some(Source::Securityhub)
    );
    assert_eq!(detect(&serde_json::json!({"records": [{"x": 1}]})), None);
    assert_eq!(detect(&serde_json::json!({"other": []})), None);
}

#[test]
fn discovery_skips_readable_payloads() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a.input.json", "a.payload.json", "a.expected.ndjson", "a.expected.json", "b.json"] {
        std::fs::write(dir.path().join(name), "{}").unwrap();
    }
    let files = discover(&[dir.path().to_path_buf()]).unwrap();
    let names: Vec<_> = files.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["a.input.json", "b.json"]);
}
