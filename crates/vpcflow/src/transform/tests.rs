use super::*;
use serde_json::{json, Value as Json};

fn doc(format: &str, line: &str) -> Json {
    let f = Format::parse(format).unwrap();
    let ctx = RecordContext { arrival: DateTime::from_timestamp(0, 0) };
    serde_json::from_slice(&transform_line(&f, line, &ctx, &Enricher::disabled()).unwrap().1).unwrap()
}

#[test]
fn default_format_line() {
    let d = doc(
        crate::DEFAULT_FORMAT,
        "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
    );
    assert_eq!(d["@timestamp"], "2014-12-14T04:06:50Z");
    assert_eq!(d["start"], "2014-12-14T04:06:50Z");
    assert_eq!(d["end"], "2014-12-14T04:07:50Z");
    assert_eq!(d["bytes"], 4249);
    assert_eq!(d["srcport"], 20641);
    assert_eq!(d["event"], json!({"dataset": "aws.vpcflow", "action": "accept", "outcome": "success"}));
    assert_eq!(
        d["network"],
        json!({"iana_number": "6", "transport": "tcp", "bytes": 4249, "packets": 20, "direction": "internal", "type": "ipv4"})
    );
    assert_eq!(d["source"], json!({"ip": "172.31.16.139", "port": 20641, "address_class": "private"}));
    assert_eq!(d["cloud"], json!({"provider": "aws", "account": {"id": "123456789010"}}));
}

#[test]
fn nodata_keeps_its_status_and_leaves_dashes_out() {
    let d =
        doc(crate::DEFAULT_FORMAT, "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA");
    assert_eq!(d["log-status"], "NODATA");
    assert!(d.get("srcaddr").is_none() && d.get("source").is_none() && d.get("action").is_none());
    assert!(d.get("network").is_none(), "no empty network object");
}

#[test]
fn directions_and_flags() {
    let f = "${srcaddr} ${dstaddr} ${tcp-flags}";
    assert_eq!(doc(f, "10.0.0.1 8.8.8.8 19")["network"]["direction"], "egress");
    assert_eq!(doc(f, "8.8.8.8 10.0.0.1 2")["network"]["direction"], "ingress");
    assert_eq!(doc(f, "8.8.8.8 1.1.1.1 2")["network"]["direction"], "external");
    assert_eq!(doc(f, "2001:db8::1 fd00::1 2")["network"]["type"], "ipv6");
    assert_eq!(doc(f, "10.0.0.1 8.8.8.8 19")["vpcflow"]["tcp_flags"], json!(["FIN", "SYN", "ACK"]));
    let g = "${srcaddr} ${dstaddr} ${flow-direction} ${protocol} ${my-field}";
    let d = doc(g, "10.0.0.1 8.8.8.8 ingress 250 x");
    assert_eq!(d["network"]["direction"], "ingress");
    assert_eq!(d["network"]["transport"], "250");
    assert_eq!(d["my-field"], "x");
}

#[test]
fn bad_lines_have_exact_outcomes() {
    let f = Format::default();
    let kind =
        |line: &str| transform_line(&f, line, &RecordContext::default(), &Enricher::disabled()).unwrap_err().kind;
    assert_eq!(kind("2 1 eni-1"), "field_count");
    assert_eq!(kind("2 1 eni-1 10.0.0.1 10.0.0.2 x 22 6 1 1 1 1 ACCEPT OK"), "bad_number");
    assert_eq!(kind("2 1 eni-1 10.0.0.999 10.0.0.2 1 22 6 1 1 1 1 ACCEPT OK"), "bad_address");
    assert_eq!(kind("2 1 eni-1 10.0.0.1 10.0.0.2 1 22 6 1 1 -5x 1 ACCEPT OK"), "bad_timestamp");
    assert_eq!(kind("2 1 eni-1 10.0.0.1 10.0.0.2 1 22 6 1 1 - - ACCEPT OK"), "missing_time");
}

#[test]
fn records_with_headers_and_several_lines() {
    let t = VpcFlowTransform::default();
    let ctx = RecordContext { arrival: DateTime::from_timestamp(1_700_000_000, 0) };
    let run = |s: &str| t.transform(s.as_bytes(), &ctx);
    let header = "instance-id interface-id srcaddr dstaddr";
    let Transformed::Document { body, time } = run(&format!("{header}\n- eni-1 10.0.1.5 203.0.113.5\n")).unwrap()
    else {
        panic!("one document")
    };
    let d: Json = serde_json::from_slice(&body).unwrap();
    assert_eq!(d["@timestamp"], "2023-11-14T22:13:20Z");
    assert_eq!(Some(time), ctx.arrival, "the arrival time when the line has none");
    assert_eq!(d["interface-id"], "eni-1");
    assert_eq!(run(header).unwrap(), Transformed::Drop(DropRule::HeaderLine));
    assert_eq!(
        run(&format!("{header}\na b 10.0.0.1 10.0.0.2\nc d 10.0.0.3 10.0.0.4")).unwrap(),
        Transformed::Split(vec![
            format!("{header}\na b 10.0.0.1 10.0.0.2").into_bytes(),
            format!("{header}\nc d 10.0.0.3 10.0.0.4").into_bytes()
        ])
    );
    assert_eq!(run("\n").unwrap_err().kind, "empty_record");
    assert_eq!(t.transform(&[0xff, 0xfe], &ctx).unwrap_err().kind, "bad_utf8");
}
