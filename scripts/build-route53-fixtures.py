#!/usr/bin/env python3
"""Builds fixtures/route53/*.input.json: Route 53 query logs as the `route53` function receives them.

- Resolver query logs delivered to Firehose: data-transformation requests (`records[]`).
- Public hosted-zone query logs (and Resolver logs delivered to CloudWatch Logs): subscription events
  (`{"awslogs":{"data":...}}`), each with a readable `<case>.payload.json` beside it.

Resolver records come from Panther's AWS.VPCDns rule tests (Apache-2.0) and from records of our own
(Apache-2.0), written to the documented formats; no public query log sample under a permissive licence
exists, so those lines are ours. Ids, arrival times and ARNs are derived deterministically; gzip is
written with mtime 0. Run from the repository root: python3 scripts/build-route53-fixtures.py
"""
import base64, gzip, json, os

from fixturelib import compact, digits

UP = os.environ.get("UPSTREAM", "../shared/upstream-fixtures")
OUT = "fixtures/route53"
ARRIVAL = 1700000000000  # 2023-11-14T22:13:20Z
STREAM = "route53-resolver-seclog"


def firehose(case, records):
    """records: bytes, or str (the record's base64 as given, to test bad base64)."""
    event = {
        "invocationId": f"invocation-{case}",
        "deliveryStreamArn": f"arn:aws:firehose:us-east-1:111122223333:deliverystream/{STREAM}",
        "region": "us-east-1",
        "records": [
            {
                "recordId": digits(f"{case}/{i}"),
                "approximateArrivalTimestamp": ARRIVAL + i,
                "data": r if isinstance(r, str) else base64.b64encode(r).decode(),
            }
            for i, r in enumerate(records)
        ],
    }
    os.makedirs(OUT, exist_ok=True)
    with open(f"{OUT}/{case}.input.json", "w") as f:
        json.dump(event, f, indent=1)
        f.write("\n")
    print(f"{case}: {len(records)} Firehose records")


def subscription(case, messages, group, stream, kind="DATA_MESSAGE", owner="111122223333"):
    payload = {
        "messageType": kind,
        "owner": owner,
        "logGroup": group,
        "logStream": stream,
        "subscriptionFilters": ["seclog-route53"],
        "logEvents": [
            {"id": digits(f"{case}/{i}"), "timestamp": ARRIVAL - 60000 + i * 10, "message": m}
            for i, m in enumerate(messages)
        ],
    }
    with open(f"{OUT}/{case}.payload.json", "w") as f:
        json.dump(payload, f, indent=1, ensure_ascii=False)
        f.write("\n")
    data = base64.b64encode(gzip.compress(compact(payload).encode(), mtime=0)).decode()
    with open(f"{OUT}/{case}.input.json", "w") as f:
        json.dump({"awslogs": {"data": data}}, f)
        f.write("\n")
    print(f"{case}: {len(messages)} log events")


# ---------------------------------------------------------------- Resolver, Panther (Apache-2.0)
panther = json.load(open(f"{UP}/route53-resolver/panther-analysis/aws_dns_crypto_domain.tests.json"))
vpcdns = [t["Log"] for t in panther["Tests"] if t["Log"].get("p_log_type") == "AWS.VPCDns"]
firehose("panther", [compact(r).encode() for r in vpcdns])

# ---------------------------------------------------------------- Resolver, ours
def resolver(t, name, qtype, rcode, answers, src="10.0.1.25", port="53124", **extra):
    record = {
        "version": "1.100000", "account_id": "111122223333", "region": "eu-west-1", "vpc_id": "vpc-0a1b2c3d4e5f60718",
        "query_timestamp": f"2023-11-14T21:{t}Z", "query_name": name, "query_type": qtype, "query_class": "IN",
        "rcode": rcode, "answers": [{"Rdata": d, "Type": ty, "Class": "IN"} for ty, d in answers],
        "srcaddr": src, "srcport": port, "transport": "UDP", "srcids": {"instance": "i-0a1b2c3d4e5f60718"},
    }
    record.update(extra)
    return record


ok = [
    resolver("00:01", "www.example.co.uk.", "A", "NOERROR", [("A", "192.0.2.10"), ("A", "192.0.2.11")]),
    resolver("00:02", "assets.shop.example.com.", "A", "NOERROR",
             [("CNAME", "d111111abcdef8.cloudfront.net."), ("A", "198.51.100.20"), ("A", "198.51.100.21")]),
    resolver("00:03", "api.example.com.", "AAAA", "NOERROR", [("AAAA", "2001:db8::20")]),
    resolver("00:04", "25.1.0.10.in-addr.arpa.", "PTR", "NOERROR", [("PTR", "ip-10-0-1-25.eu-west-1.compute.internal.")]),
    resolver("00:05", "does-not-exist.example.com.", "A", "NXDOMAIN", []),
    resolver("00:06", "broken.example.net.", "A", "SERVFAIL", []),
    resolver("00:07", "pool.minexmr.com.", "A", "NOERROR", [("A", "192.0.2.66")],
             firewall_rule_group_id="rslvr-frg-0a1b2c3d4e5f6071", firewall_rule_action="BLOCK",
             firewall_domain_list_id="rslvr-fdl-0a1b2c3d4e5f6071"),
    resolver("00:08", "telemetry.example.org.", "A", "NOERROR", [("A", "192.0.2.77")],
             firewall_rule_group_id="rslvr-frg-0a1b2c3d4e5f6071", firewall_rule_action="ALERT",
             firewall_domain_list_id="rslvr-fdl-0a1b2c3d4e5f6072"),
    # Escaped bytes, as Resolver writes them: a space (\032) and the UTF-8 bytes of `é`.
    resolver("00:09", "my\\032printer.caf\\195\\169.example.com.", "A", "NXDOMAIN", []),
    # A resolver endpoint (on-premises clients through an inbound endpoint).
    resolver("00:10", "intranet.corp.example.com.", "A", "NOERROR", [("A", "10.20.0.5")], src="172.16.5.9",
             srcids={"resolver_endpoint": "rslvr-in-0a1b2c3d4e5f6071"}),
    # DNS tunnelling from one instance: long, high-entropy left-most labels, TXT answers.
    resolver("00:11", "mzxw6ytboi4dsnrtgq2tmnzygezdcmrtgq2tmnzy.t.exfil.example.net.", "TXT", "NOERROR",
             [("TXT", "\"ok\"")], src="10.0.1.99"),
    resolver("00:12", "j5ugc3dfnzsxe2lonfxgk4tvmvzxgzlt.t.exfil.example.net.", "TXT", "NOERROR",
             [("TXT", "\"ok\"")], src="10.0.1.99"),
    resolver("00:13", "kq3tmnrrgy4daobthe2dmnzvgu4tqmbsgq.t.exfil.example.net.", "TXT", "NXDOMAIN", [], src="10.0.1.99"),
    resolver("00:14", "x8k2q9z7v4m1.example.com.", "A", "NXDOMAIN", [], src="10.0.1.99"),
    # IPv6 client over TCP.
    dict(resolver("00:15", "example.com.", "A", "NOERROR", [("A", "192.0.2.1")], src="2001:db8:100::25"), transport="TCP"),
]
bad_time = resolver("00:20", "x.example.com.", "A", "NOERROR", [])
bad_time["query_timestamp"] = "14/Nov/2023:21:00:20"
no_name = {k: v for k, v in resolver("00:21", "x.", "A", "NOERROR", []).items() if k != "query_name"}
cloudtrail = {"eventVersion": "1.08", "eventID": "0a1b2c3d-0000-4000-8000-000000000001",
              "eventTime": "2023-11-14T21:00:22Z", "eventName": "ListBuckets"}
unknown_extra = resolver("00:16", "example.org.", "A", "NOERROR", [("A", "192.0.2.2")])
unknown_extra.update(new_field_from_aws={"nested": [1, 2]}, dns="collides with the derived block")
firehose("synthetic-resolver", [compact(r).encode() for r in ok] + [
    compact(unknown_extra).encode(),
    json.dumps(ok[0], indent=2).encode(),                       # pretty-printed: one record
    (compact(ok[1]) + "\n" + compact(ok[2]) + "\n").encode(),    # two logs: split
    compact(bad_time).encode(),                                  # bad_timestamp
    compact(no_name).encode(),                                   # missing_field
    compact(cloudtrail).encode(),                                # neither kind: unknown_record
    b'{"query_name":"truncated.example.com.","query_ti',       # bad_json
    b"",                                                         # empty: unknown_record
    "not base64!",                                               # bad base64
])

# ---------------------------------------------------------------- Public hosted-zone query logs, ours
ZONE = "Z0123456789ABCDEFGHIJ"


def line(t, name, qtype, rcode, proto, edge, resolver_ip, subnet="-"):
    return f"1.0 2023-11-14T21:{t}Z {ZONE} {name} {qtype} {rcode} {proto} {edge} {resolver_ip} {subnet}"


public = [
    line("00:00.101", "example.com", "A", "NOERROR", "UDP", "ICN54-C1", "121.134.0.1", "121.134.0.0/24"),
    line("00:00.202", "www.example.com", "AAAA", "NOERROR", "UDP", "IAD89-C3", "8.8.8.8", "198.51.100.0/24"),
    line("00:00.303", "example.com", "MX", "NOERROR", "TCP", "FRA56-C2", "2001:4860:4860::8888", "2001:db8:abcd::/48"),
    line("00:00.404", "mail.example.com", "TXT", "NOERROR", "UDP", "NRT57-C4", "52.95.128.179"),
    line("00:00.505", "nope.example.com", "A", "NXDOMAIN", "UDP", "IAD89-C3", "8.8.8.8", "203.0.113.0/24"),
    line("00:00.606", "admin.example.com", "A", "NXDOMAIN", "UDP", "IAD89-C3", "8.8.8.8", "203.0.113.0/24"),
    line("00:00.707", "vpn.example.com", "A", "NXDOMAIN", "UDP", "ICN54-C1", "121.134.0.1", "121.134.0.0/24"),
    line("00:00.808", "example.com", "ANY", "NOERROR", "UDP", "Region", "192.0.2.53"),
    line("00:00.909", "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6.example.com", "A", "NXDOMAIN", "UDP", "IAD89-C3", "8.8.8.8"),
    line("00:01.010", "_spf.example.com", "SPF", "NOERROR", "UDP", "DEN50-C1", "8.8.8.8"),
    line("00:01.111", "printer\\032room.example.com", "A", "NXDOMAIN", "UDP", "FRA56-C2", "2001:4860:4860::8888"),
    line("00:01.212", "broken.example.com", "A", "SERVFAIL", "UDP", "IAD89-C3", "8.8.8.8"),
]
bad_public = [
    "1.0 2023-11-14T21:00:02Z " + ZONE + " example.com A NOERROR UDP",  # too few fields
    line("00:02", "example.com", "A", "NOERROR", "UDP", "IAD89-C3", "8.8.8.8").replace("2023-11-14T21:00:02Z", "14/Nov/2023:21:00:02"),
    "CWL log line that is not a Route 53 query log",  # neither kind
]
subscription("synthetic-public", public + bad_public, f"/aws/route53/example.com", f"{ZONE}/IAD89-C3")

# Resolver query logs delivered to CloudWatch Logs instead of Firehose.
subscription("synthetic-resolver-logs", [compact(r) for r in ok[:6]] + [compact(bad_time)],
             "/aws/route53resolver/seclog", "vpc-0a1b2c3d4e5f60718_rqlc-0a1b2c3d4e5f6071")

subscription("synthetic-control-message", ["CWL CONTROL MESSAGE: Checking health of destination Lambda function."],
             "", "", kind="CONTROL_MESSAGE", owner="CloudwatchLogs")
print("fixtures written")
