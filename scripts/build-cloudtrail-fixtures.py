#!/usr/bin/env python3
"""Builds fixtures/cloudtrail/*.input.json (CloudWatch Logs subscription events, as Lambda receives
them) from permissively licensed CloudTrail samples in ../shared/upstream-fixtures.

Each fixture is written twice: `<case>.payload.json`, the readable decoded payload, and
`<case>.input.json`, the Lambda event (`awslogs.data` = base64 of gzip of the payload). A test
checks that the two agree. Log event ids and timestamps are derived deterministically.
Run from the repository root: python3 scripts/build-cloudtrail-fixtures.py
"""
import base64, glob, gzip, json, os, sys
from datetime import datetime

from fixturelib import case_id as event_id, compact

UP = os.environ.get("UPSTREAM", "../shared/upstream-fixtures")
OUT = "fixtures/cloudtrail"
MAX_BATCH = 900_000  # bytes of messages per event (a PutLogEvents batch is at most 1 MiB)


def millis(record):
    try:
        t = record.get("eventTime", "") if isinstance(record, dict) else ""
        return int(datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() * 1000)
    except (ValueError, AttributeError, TypeError):
        return 1688990400000


def payload(case, messages, group="aws-cloudtrail-logs-seclog", stream="218007301253_CloudTrail_us-east-1"):
    return {
        "messageType": "DATA_MESSAGE",
        "owner": "218007301253",
        "logGroup": group,
        "logStream": stream,
        "subscriptionFilters": ["seclog-cloudtrail"],
        "logEvents": [
            {"id": event_id(case, i), "timestamp": ts, "message": m} for i, (ts, m) in enumerate(messages)
        ],
    }


def write(case, p):
    raw = compact(p).encode()
    with open(f"{OUT}/{case}.payload.json", "w") as f:
        json.dump(p, f, indent=1, ensure_ascii=False)
        f.write("\n")
    data = base64.b64encode(gzip.compress(raw, mtime=0)).decode()
    with open(f"{OUT}/{case}.input.json", "w") as f:
        json.dump({"awslogs": {"data": data}}, f)
        f.write("\n")
    print(f"{case}: {len(p['logEvents'])} events, {len(raw)} bytes")


def batches(case, records):
    out, cur, size = [], [], 0
    for r in records:
        m = compact(r)
        if cur and size + len(m) > MAX_BATCH:
            out.append(cur)
            cur, size = [], 0
        cur.append((millis(r), m))
        size += len(m)
    if cur:
        out.append(cur)
    if len(out) == 1:
        write(case, payload(case, out[0]))
    else:
        for n, b in enumerate(out, 1):
            write(f"{case}-{n:02}", payload(f"{case}-{n:02}", b))


def main():
    os.makedirs(OUT, exist_ok=True)
    # Datadog: a real decoded subscription payload from a CloudTrail log group (Apache-2.0).
    dd = json.load(open(f"{UP}/lambda-envelopes/datadog-serverless-functions/cloudwatch_log_cloudtrail.json"))
    write("datadog-subscription", dd)
    # aws-lambda-rust-runtime CloudTrail records: SSO Federate, Unknown identities (Apache-2.0).
    recs = [json.load(open(f)) for f in sorted(glob.glob(f"{UP}/lambda-envelopes/aws-lambda-rust-runtime/example-cloudwatch-cloudtrail-*.json"))]
    batches("lambda-rust-runtime", recs)
    # Stratus Red Team detonation logs (Apache-2.0): anonymised attack techniques.
    recs = []
    for f in sorted(glob.glob(f"{UP}/cloudtrail/stratus-red-team/*.json")):
        recs.extend(json.load(open(f)))
    batches("stratus-red-team", recs)
    # Invictus IR dataset (MIT): real S3 delivery files of one account.
    recs = []
    for f in sorted(glob.glob(f"{UP}/cloudtrail/invictus-ir_aws_dataset/*.json")):
        recs.extend(json.load(open(f))["Records"])
    batches("invictus-ir", recs)
    # Panther rule tests and scenarios (Apache-2.0): hand-edited, some partial records.
    recs = []
    for f in sorted(glob.glob(f"{UP}/cloudtrail/panther-analysis/aws_cloudtrail_rules/*.json")):
        for t in json.load(open(f))["Tests"]:
            if t.get("Log") is not None:
                recs.append(t["Log"])
    for f in sorted(glob.glob(f"{UP}/cloudtrail/panther-analysis/test_scenarios/*.ndjson")):
        recs.extend(json.loads(l) for l in open(f) if l.strip())
    batches("panther", recs)
    synthetic()
    synthetic_sign_ins()


def synthetic():
    """Our own records (no upstream licence applies) for cases no sample covers."""
    base = {"eventVersion": "1.09", "eventTime": "2024-03-01T08:15:00Z", "awsRegion": "eu-west-1",
            "eventType": "AwsApiCall", "recipientAccountId": "111122223333", "readOnly": True}
    recs = [
        dict(base, eventID="9a1b0c3e-0001-4000-8000-000000000001", eventName="ConsoleLogin", eventSource="signin.amazonaws.com",
             eventType="AwsConsoleSignIn", sourceIPAddress="2001:4860:4860::8888", userAgent="Mozilla/5.0",
             userIdentity={"type": "IdentityCenterUser", "accountId": "111122223333",
                           "onBehalfOf": {"userId": "94482488-3041-7026-18f3-be45837cd0e4",
                                          "identityStoreArn": "arn:aws:identitystore::111122223333:identitystore/d-1234567890"},
                           "credentialId": "EXAMPLE"},
             responseElements={"ConsoleLogin": "Failure"}, additionalEventData={"MFAUsed": "No"}),
        dict(base, eventID="9a1b0c3e-0002-4000-8000-000000000002", eventName="AssumeRole", eventSource="sts.amazonaws.com",
             sourceIPAddress="AWS Internal", userIdentity={"type": "AWSAccount", "principalId": "AIDAEXAMPLE", "accountId": "444455556666"},
             requestParameters="roleArn=arn:aws:iam::111122223333:role/x", responseElements=None,
             serviceEventDetails=["not", "an", "object"]),
        dict(base, eventID="9a1b0c3e-0003-4000-8000-000000000003", eventName="DescribeInstances", eventSource="ec2.amazonaws.com",
             sourceIPAddress="10.20.30.40", userIdentity={"type": "IAMUser", "userName": "ci-bot", "arn": "arn:aws:iam::111122223333:user/ci-bot"},
             errorCode="Client.UnauthorizedOperation", errorMessage="You are not authorized to perform this operation."),
        dict(base, eventID="x" * 600, eventName="GetCallerIdentity", eventSource="sts.amazonaws.com",
             userIdentity={"type": "Root", "arn": "arn:aws:iam::111122223333:root"}, sourceIPAddress="198.51.100.7"),
        dict(base, eventID="9a1b0c3e-0005-4000-8000-000000000005", eventName="ListBuckets", eventSource="s3.amazonaws.com",
             event="a key that collides with the ECS block", userIdentity={"type": "IAMUser", "userName": "alice"}),
        # A console sign-in from Korea, then an API call from a penetration-testing distribution.
        dict(base, eventID="9a1b0c3e-0009-4000-8000-000000000009", eventName="ConsoleLogin", eventSource="signin.amazonaws.com",
             eventType="AwsConsoleSignIn", sourceIPAddress="121.134.0.1",
             userAgent="Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
             userIdentity={"type": "IAMUser", "userName": "minji", "arn": "arn:aws:iam::111122223333:user/minji"},
             responseElements={"ConsoleLogin": "Success"}, additionalEventData={"MFAUsed": "Yes"}),
        dict(base, eventID="9a1b0c3e-0010-4000-8000-000000000010", eventName="ListUsers", eventSource="iam.amazonaws.com",
             sourceIPAddress="121.134.0.1", userAgent="aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0-kali3-amd64 exe/x86_64.kali.2023 prompt/off command/iam.list-users",
             userIdentity={"type": "IAMUser", "userName": "minji", "arn": "arn:aws:iam::111122223333:user/minji"}),
    ]
    messages = [(millis(r), compact(r)) for r in recs]
    # The same record delivered twice (an organisation trail and an account trail): one document.
    messages.append(messages[0])
    bad = [
        {"eventTime": "2024-03-01T08:15:00Z", "eventName": "NoId"},
        {"eventID": "9a1b0c3e-0007-4000-8000-000000000007", "eventName": "NoTime"},
        {"eventID": "9a1b0c3e-0008-4000-8000-000000000008", "eventTime": "yesterday"},
        {"eventID": 8, "eventTime": "2024-03-01T08:15:00Z"},
    ]
    messages += [(1709280900000, compact(r)) for r in bad]
    messages += [(1709280900000, "START RequestId: 1 Version: $LATEST"), (1709280900000, "[1,2,3]"),
                 (1709280900000, '{"eventID":"truncated","eventTime":"2024-03-01T08:1')]
    write("synthetic-edge-cases", payload("synthetic-edge-cases", messages))
    control = {"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
               "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": 1709280900000,
               "message": "CWL CONTROL MESSAGE: Checking health of destination Lambda function."}]}
    write("synthetic-control-message", control)
    empty = payload("synthetic-empty", [])
    empty["policyLevel"] = "ACCOUNT_LEVEL_POLICY"
    write("synthetic-empty-with-policy-level", empty)


def synthetic_sign_ins():
    """What the alerter is for, on 2026-11-30 between 21:00 and 21:15 UTC: a brute-force burst of six
    failed console sign-ins from one address, then a sign-in from it without MFA (outside any office
    range, from a country and a network alice never used), then the trail stopped from it. Ten days
    earlier, alice's usual day: a sign-in and an API call from her office network."""
    account, ip, ua = "111122223333", "185.220.101.7", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
    user = {"type": "IAMUser", "principalId": "AIDAEXAMPLEALICE0001", "arn": f"arn:aws:iam::{account}:user/alice",
            "accountId": account, "userName": "alice"}

    def sign_in(i, minute, second, outcome):
        r = {"eventVersion": "1.09", "userIdentity": user, "eventTime": f"2026-11-30T21:{minute:02}:{second:02}Z",
             "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "awsRegion": "us-east-1",
             "sourceIPAddress": ip, "userAgent": ua, "requestParameters": None,
             "responseElements": {"ConsoleLogin": outcome},
             "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": "No"},
             "eventID": f"5e7c1a00-0000-4000-8000-{i:012d}", "readOnly": False, "eventType": "AwsConsoleSignIn",
             "managementEvent": True, "recipientAccountId": account, "eventCategory": "Management"}
        if outcome == "Failure":
            r["errorMessage"] = "Failed authentication"
        return r

    office = "81.2.69.160"
    usual = dict(sign_in(8, 0, 0, "Success"), eventTime="2026-11-20T09:00:00Z", sourceIPAddress=office,
                 eventID="5e7c1a00-0000-4000-8000-000000000008")
    usual["additionalEventData"] = dict(usual["additionalEventData"], MFAUsed="Yes")
    listing = {"eventVersion": "1.09", "userIdentity": dict(user, accessKeyId="ASIAEXAMPLEALICE0002"),
               "eventTime": "2026-11-20T09:05:00Z", "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets",
               "awsRegion": "us-east-1", "sourceIPAddress": office, "userAgent": ua, "requestParameters": {"Host": "s3.amazonaws.com"},
               "responseElements": None, "requestID": "0b5c8f9e-0000-4000-8000-000000000009",
               "eventID": "5e7c1a00-0000-4000-8000-000000000009", "readOnly": True, "eventType": "AwsApiCall",
               "managementEvent": True, "recipientAccountId": account, "eventCategory": "Management"}
    records = [usual, listing] + [sign_in(i, i, 5, "Failure") for i in range(6)]
    records.append(sign_in(6, 6, 30, "Success"))
    records.append({"eventVersion": "1.09", "userIdentity": dict(user, accessKeyId="ASIAEXAMPLEALICE0001",
                    sessionContext={"attributes": {"creationDate": "2026-11-30T21:06:30Z", "mfaAuthenticated": "false"}}),
                    "eventTime": "2026-11-30T21:12:00Z", "eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging",
                    "awsRegion": "us-east-1", "sourceIPAddress": ip, "userAgent": ua,
                    "requestParameters": {"name": f"arn:aws:cloudtrail:us-east-1:{account}:trail/management-events"},
                    "responseElements": None, "requestID": "0b5c8f9e-0000-4000-8000-000000000007",
                    "eventID": "5e7c1a00-0000-4000-8000-000000000007", "readOnly": False, "eventType": "AwsApiCall",
                    "managementEvent": True, "recipientAccountId": account, "eventCategory": "Management"})
    messages = [(millis(r), compact(r)) for r in records]
    write("synthetic-sign-ins", payload("synthetic-sign-ins", messages, stream=f"{account}_CloudTrail_us-east-1"))


if __name__ == "__main__":
    sys.exit(main())
