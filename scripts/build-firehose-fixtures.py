#!/usr/bin/env python3
"""Builds fixtures/waf/*.input.json and fixtures/vpcflow/*.input.json: Firehose data-transformation
requests as Lambda receives them, from permissively licensed samples in ../shared/upstream-fixtures
plus synthetic records of our own (Apache-2.0) for what no licensed sample covers.

Record ids, arrival times and stream ARNs are derived deterministically; gzip records (CloudWatch
Logs subscription payloads) are written with mtime 0. A `<case>.format` file beside a VPC case gives
the flow-log format the case is transformed with (VPC_FLOW_LOG_FORMAT / --vpc-flow-format).
Run from the repository root: python3 scripts/build-firehose-fixtures.py
"""
import base64, glob, gzip, json, os

from fixturelib import b64, case_id as record_id, compact

UP = os.environ.get("UPSTREAM", "../shared/upstream-fixtures")
ARRIVAL = 1700000000000  # 2023-11-14T22:13:20Z


def request(case, stream, records):
    """records: list of bytes, or str (the record's base64 as given, to test bad base64)."""
    return {
        "invocationId": f"invocation-{case}",
        "deliveryStreamArn": f"arn:aws:firehose:us-east-1:123456789012:deliverystream/{stream}",
        "region": "us-east-1",
        "records": [
            {
                "recordId": record_id(case, i),
                "approximateArrivalTimestamp": ARRIVAL + i,
                "data": r if isinstance(r, str) else b64(r),
            }
            for i, r in enumerate(records)
        ],
    }


def envelope(kind, messages, group="vpc-flow-logs", owner="123456789012"):
    payload = {
        "messageType": kind,
        "owner": owner if kind == "DATA_MESSAGE" else "CloudwatchLogs",
        "logGroup": group if kind == "DATA_MESSAGE" else "",
        "logStream": "eni-0123456789abcdef0-all" if kind == "DATA_MESSAGE" else "",
        "subscriptionFilters": ["seclog"] if kind == "DATA_MESSAGE" else [],
        "logEvents": [
            {"id": record_id(group, i), "timestamp": ARRIVAL - 60000 + i, "message": m} for i, m in enumerate(messages)
        ],
    }
    return gzip.compress(compact(payload).encode(), mtime=0)


def write(out, case, stream, records, fmt=None):
    os.makedirs(out, exist_ok=True)
    with open(f"{out}/{case}.input.json", "w") as f:
        json.dump(request(case, stream, records), f, indent=1)
        f.write("\n")
    if fmt:
        with open(f"{out}/{case}.format", "w") as f:
            f.write(fmt + "\n")


# ---------------------------------------------------------------- WAF
WAF = "fixtures/waf"
WAF_STREAM = "aws-waf-logs-seclog"

raw = open(f"{UP}/waf/opensearch-catalog/raw.log", encoding="utf-8").read().splitlines()
# WAF writes one log per record; half of them end with a newline as some producers add one.
write(WAF, "opensearch-catalog", WAF_STREAM, [(l + ("\n" if i % 2 else "")).encode() for i, l in enumerate(raw) if l.strip()])

panther = []
for path in sorted(glob.glob(f"{UP}/waf/panther-analysis/aws_waf_rules/*.json")):
    for test in json.load(open(path))["Tests"]:
        panther.append(compact(test["Log"]).encode())
write(WAF, "panther", WAF_STREAM, panther)

acl = "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/seclog-acl/0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6"
headers = [
    {"name": "Host", "value": "shop.example.com"},
    {"name": "User-Agent", "value": "python-requests/2.31.0"},
    {"name": "X-Forwarded-For", "value": "203.0.113.50, 10.0.0.12"},
    {"name": "X-Attacker.Chosen{Name}", "value": "value"},
    {"name": "content-type", "value": "application/json"},
]
base = {
    "formatVersion": 1, "webaclId": acl, "httpSourceName": "ALB",
    "httpSourceId": "123456789012-app/seclog-alb/0123456789abcdef",
    "nonTerminatingMatchingRules": [], "requestHeadersInserted": None, "responseCodeSent": None,
    "httpRequest": {"clientIp": "203.0.113.50", "country": "KR", "headers": headers, "uri": "/api/login",
                    "args": "", "httpVersion": "HTTP/1.1", "httpMethod": "POST", "requestId": "1-6553f0c0-0a1b2c3d4e5f"},
}
rate = dict(base, timestamp=1699999990000, terminatingRuleId="login-rate-limit", terminatingRuleType="RATE_BASED",
            action="BLOCK", terminatingRuleMatchDetails=[], ruleGroupList=[],
            rateBasedRuleList=[{"rateBasedRuleId": "b1c2d3e4-0000-4000-8000-000000000001", "rateBasedRuleName": "login-rate-limit",
                                "limitKey": "IP", "maxRateAllowed": 100, "evaluationWindowSec": "300",
                                "customValues": None}],
            labels=[{"name": "awswaf:123456789012:rulegroup:login-rate-limit"}])
count = dict(base, timestamp=1699999991000, terminatingRuleId="Default_Action", terminatingRuleType="REGULAR",
             action="ALLOW", terminatingRuleMatchDetails=[], rateBasedRuleList=[],
             nonTerminatingMatchingRules=[{"ruleId": "count-scanners", "action": "COUNT", "ruleMatchDetails": []}],
             ruleGroupList=[{"ruleGroupId": "AWS#AWSManagedRulesBotControlRuleSet", "terminatingRule": None,
                             "nonTerminatingMatchingRules": [{"ruleId": "CategoryHttpLibrary", "action": "COUNT"}],
                             "excludedRules": None, "customerConfig": None}],
             labels=[{"name": "awswaf:managed:aws:bot-control:bot:category:http_library"}])
group = dict(base, timestamp=1699999992000, terminatingRuleId="AWS-AWSManagedRulesSQLiRuleSet",
             terminatingRuleType="MANAGED_RULE_GROUP", action="BLOCK", rateBasedRuleList=[],
             terminatingRuleMatchDetails=[{"conditionType": "SQL_INJECTION", "sensitivityLevel": "LOW",
                                           "location": "QUERY_STRING", "matchedData": ["UNION", "SELECT"]}],
             ruleGroupList=[{"ruleGroupId": "AWS#AWSManagedRulesSQLiRuleSet",
                             "terminatingRule": {"ruleId": "SQLi_QUERYARGUMENTS", "action": "BLOCK", "ruleMatchDetails": None},
                             "nonTerminatingMatchingRules": [], "excludedRules": None, "customerConfig": None}],
             labels=[{"name": "awswaf:managed:aws:sql-database:SQLi_QueryArguments"}])
captcha = dict(base, timestamp=1699999993000, terminatingRuleId="captcha-login", terminatingRuleType="REGULAR",
               action="CAPTCHA", terminatingRuleMatchDetails=[], ruleGroupList=[], rateBasedRuleList=[],
               captchaResponse={"responseCode": 405, "solveTimestamp": 0, "failureReason": "TOKEN_MISSING"})
write(WAF, "synthetic-rules", WAF_STREAM, [compact(r).encode() for r in (rate, count, group, captcha)])

odd = dict(count, timestamp=1699999994000, ruleGroupList="not-a-list", labels=[1, 2], event="collides")
write(WAF, "synthetic-bad-input", WAF_STREAM, [
    "%%% not base64 %%%",
    b"this is not JSON",
    compact(dict(count, timestamp="yesterday")).encode(),
    compact({k: v for k, v in count.items() if k != "timestamp"}).encode(),
    b"",
    (compact(rate) + "\n" + compact(count) + "\n").encode(),  # two logs in one record: split
    envelope("CONTROL_MESSAGE", ["CWL CONTROL MESSAGE: Checking health of destination Firehose."]),
    envelope("DATA_MESSAGE", [compact(group)], group="aws-waf-logs-seclog"),
    envelope("DATA_MESSAGE", [compact(count), compact(captcha)], group="aws-waf-logs-seclog"),
    compact(odd).encode(),
    b"[1,2,3]",
])

# ---------------------------------------------------------------- VPC Flow Logs
VPC = "fixtures/vpcflow"
VPC_STREAM = "vpc-flow-logs-seclog"

catalog = [d["body"] for d in json.load(open(f"{UP}/vpcflow/opensearch-catalog/sample.json"))]
write(VPC, "opensearch-catalog", VPC_STREAM, [l.encode() for l in catalog])

lines = [l for l in open(glob.glob(f"{UP}/vpcflow/panther-analysis/test_scenarios/*.log")[0]).read().splitlines() if l.strip()]
write(VPC, "panther", VPC_STREAM, [l.encode() for l in lines])

# Header lines (as S3-bound flow logs written with a custom format carry), in the underscore
# spelling, for a custom format, the v5 fields and the v11 ones; and a NODATA line.
header_cases = [
    "2 123456789012 eni-0f1e2d3c4b5a69788 - - - - - - - 1700000100 1700000160 - NODATA",
    "instance_id interface_id srcaddr dstaddr pkt_srcaddr pkt_dstaddr\n"
    "- eni-0f1e2d3c4b5a69788 10.0.3.17 10.0.0.200 10.0.3.17 198.51.100.23",
    "version srcaddr dstaddr srcport dstport protocol start end type packets bytes account_id vpc_id subnet_id "
    "instance_id interface_id region az_id sublocation_type sublocation_id action tcp_flags pkt_srcaddr pkt_dstaddr "
    "pkt_src_aws_service pkt_dst_aws_service traffic_path flow_direction log_status\n"
    "5 52.95.150.12 10.0.3.88 443 41822 6 1700000100 1700000155 IPv4 22 21870 123456789012 vpc-0123abcd4567ef890 "
    "subnet-0fedcba987654321a i-0a9b8c7d6e5f40312 eni-0f1e2d3c4b5a69788 eu-west-1 euw1-az2 - - ACCEPT 19 "
    "52.95.150.12 10.0.3.88 S3 - - ingress OK",
    "version srcaddr dstaddr srcport dstport protocol start end action log_status reject_reason resource_id "
    "encryption_status interface_type\n"
    "11 10.0.3.88 52.95.150.12 41822 443 6 1700000100 1700000155 REJECT OK BPA nat-0a9b8c7d6e5f40312 1 nat_gateway",
]
write(VPC, "synthetic-header-lines", VPC_STREAM, [c.encode() for c in header_cases])

ALL = ("${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} "
       "${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} "
       "${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${sublocation-type} ${sublocation-id} ${pkt-src-aws-service} "
       "${pkt-dst-aws-service} ${flow-direction} ${traffic-path} ${ecs-cluster-arn} ${ecs-cluster-name} "
       "${ecs-container-instance-arn} ${ecs-container-instance-id} ${ecs-container-id} ${ecs-second-container-id} "
       "${ecs-service-name} ${ecs-task-definition-arn} ${ecs-task-arn} ${ecs-task-id} ${reject-reason}")
ecs = ("arn:aws:ecs:us-east-1:123456789012:cluster/shop shop arn:aws:ecs:us-east-1:123456789012:container-instance/shop/0f1e "
       "0f1e 3a4b5c6d7e8f - cart arn:aws:ecs:us-east-1:123456789012:task-definition/cart:7 "
       "arn:aws:ecs:us-east-1:123456789012:task/shop/9a8b 9a8b")
v8 = [
    f"8 123456789012 eni-0a1b2c3d4e5f60718 10.0.1.25 52.95.128.179 49152 443 6 12 5120 1699999800 1699999860 ACCEPT OK vpc-0a1b2c3d subnet-0a1b2c3d i-0a1b2c3d4e5f60718 19 IPv4 10.0.1.25 52.95.128.179 us-east-1 use1-az1 - - - S3 egress 8 {ecs} -",
    f"8 123456789012 eni-0a1b2c3d4e5f60718 198.51.100.7 10.0.1.25 40001 22 6 3 180 1699999800 1699999860 REJECT OK vpc-0a1b2c3d subnet-0a1b2c3d i-0a1b2c3d4e5f60718 2 IPv4 198.51.100.7 10.0.1.25 us-east-1 use1-az1 - - - - ingress - {ecs} -",
    f"8 123456789012 eni-0a1b2c3d4e5f60718 2001:db8:1234::10 2600:1f18:abcd::20 55000 443 6 40 38000 1699999800 1699999860 ACCEPT OK vpc-0a1b2c3d subnet-0a1b2c3d i-0a1b2c3d4e5f60718 3 IPv6 2001:db8:1234::10 2600:1f18:abcd::20 us-east-1 use1-az1 wavelength wlz-1 - - egress 2 {ecs} -",
    f"8 123456789012 eni-0a1b2c3d4e5f60718 - - - - - - - 1699999800 1699999860 - NODATA vpc-0a1b2c3d subnet-0a1b2c3d i-0a1b2c3d4e5f60718 - - - - us-east-1 use1-az1 - - - - - - - - - - - - - - - - -",
    f"8 123456789012 eni-0a1b2c3d4e5f60718 - - - - - - - 1699999800 1699999860 - SKIPDATA vpc-0a1b2c3d subnet-0a1b2c3d i-0a1b2c3d4e5f60718 - - - - us-east-1 use1-az1 - - - - - - - - - - - - - - - - -",
    f"8 123456789012 eni-0a1b2c3d4e5f60718 203.0.113.9 10.0.1.25 61000 3389 6 1 40 1699999800 1699999860 REJECT OK vpc-0a1b2c3d subnet-0a1b2c3d i-0a1b2c3d4e5f60718 2 IPv4 203.0.113.9 10.0.1.25 us-east-1 use1-az1 - - - - ingress - - - - - - - - - - - BPA",
]
write(VPC, "synthetic-v8-all-fields", VPC_STREAM, [l.encode() for l in v8], fmt=ALL)

default = [
    "2 123456789012 eni-0a1b2c3d4e5f60718 10.0.1.25 93.184.216.34 49200 443 6 25 12000 1699999800 1699999860 ACCEPT OK",
    "2 123456789012 eni-0a1b2c3d4e5f60718 192.0.2.44 10.0.1.25 51515 22 6 1 60 1699999800 1699999860 REJECT OK",
    "2 123456789012 eni-0a1b2c3d4e5f60718 10.0.1.25 10.0.2.9 33000 5432 6 100 90000 1699999800 1699999860 ACCEPT OK",
]
header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
write(VPC, "synthetic-envelopes-and-bad-input", VPC_STREAM, [
    envelope("DATA_MESSAGE", default),                     # split into three records
    envelope("DATA_MESSAGE", default[:1]),                 # one event: transformed in place
    envelope("CONTROL_MESSAGE", ["CWL CONTROL MESSAGE: Checking health of destination Firehose."]),
    (header + "\n" + default[1] + "\n").encode(),          # header line + one line
    (header + "\n" + default[0] + "\n" + default[2]).encode(),  # header line + two lines: split, header kept
    header.encode(),                                       # header only: dropped
    b"2 123456789012 eni-0a1b2c3d4e5f60718 10.0.1.25",     # wrong number of fields
    b"2 123456789012 eni-0a1b2c3d4e5f60718 10.0.1.25 10.0.2.9 http 443 6 1 1 1699999800 1699999860 ACCEPT OK",
    "not base64!",
    b"",
    b"\xff\xfe not utf-8",
])
print("fixtures written")
