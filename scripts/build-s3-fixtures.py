#!/usr/bin/env python3
"""Builds fixtures/s3/: log objects as AWS delivers them to S3, gzipped, under the keys AWS writes
(`<bucket>/AWSLogs/...`), from the samples in ../shared/upstream-fixtures, plus load-balancer
access logs of our own (Apache-2.0) written to AWS's documented entry format, since no licensed
sample of them was found.

Gzip members are written with mtime 0, so a rebuild is byte-identical.
Run from the repository root: python3 scripts/build-s3-fixtures.py
"""
import gzip, json, os

UP = os.environ.get("UPSTREAM", "../shared/upstream-fixtures")
OUT = "fixtures/s3"


def write(key, data):
    path = os.path.join(OUT, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as gz:
            gz.write(data)


def read(path):
    with open(os.path.join(UP, path), "rb") as f:
        return f.read()


# CloudTrail: a real S3 delivery file of an organisation trail (invictus-ir, MIT).
name = "218007301253_CloudTrail_us-east-1_20230710T1205Z_nx9Yx1FyJdBaTqKj.json"
write(
    f"trail-bucket/AWSLogs/o-exampleorg1/218007301253/CloudTrail/us-east-1/2023/07/10/{name}.gz",
    read(f"cloudtrail/invictus-ir_aws_dataset/{name}"),
)

# A digest file (elastic/beats, ELv2): dropped by rule, never indexed.
write(
    "trail-bucket/AWSLogs/123456789123/CloudTrail-Digest/us-west-2/2020/09/11/"
    "123456789123_CloudTrail-Digest_us-west-2_leh-ct-test_us-west-2_20200911T193649Z.json.gz",
    read("cloudtrail/elastic-beats/cloudtrail-digest-json.log").strip(),
)

# An Insights event (elastic/beats, ELv2), in the `{"Records":[...]}` file AWS writes.
insight = [json.loads(l) for l in read("cloudtrail/elastic-beats/insight-json.log").decode().splitlines() if l.strip()]
write(
    "trail-bucket/AWSLogs/123456789012/CloudTrail-Insight/us-east-1/2020/09/09/"
    "123456789012_CloudTrail-Insight_us-east-1_20200909T2300Z_a1b2c3d4e5f6a7b8.json.gz",
    json.dumps({"Records": insight}, separators=(",", ":")).encode(),
)

# VPC Flow Logs: header line then records (elastic/beats, ELv2).
write(
    "logs-bucket/AWSLogs/123456789010/vpcflowlogs/us-east-1/2014/12/14/"
    "123456789010_vpcflowlogs_us-east-1_fl-1234abcd_20141214T0420Z_hash.log.gz",
    read("vpcflow/elastic-beats/accept-reject-traffic.log"),
)

# WAF: one JSON log per line (elastic/integrations, ELv2).
waf = read("waf/elastic-integrations/test-waf.log")
write(
    "logs-bucket/AWSLogs/123456789012/WAFLogs/us-east-1/test-acl/2024/01/01/00/00/"
    "123456789012_waflogs_us-east-1_test-acl_20240101T0000Z_hash.log.gz",
    waf if waf.endswith(b"\n") else waf + b"\n",
)

# Route 53 Resolver query logs (elastic/integrations, ELv2).
write(
    "logs-bucket/AWSLogs/626345947581/vpcdnsquerylogs/vpc-01e31a7c/2021/12/11/"
    "626345947581_vpcdnsquerylogs_vpc-01e31a7c_20211211T2245Z_hash.log.gz",
    read("route53-resolver/elastic-integrations/test-route53.log"),
)

# Application Load Balancer access logs: our own lines, in the documented format.
T = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup"
CERT = "arn:aws:acm:eu-west-1:111122223333:certificate/12345678-1234-1234-1234-123456789012"


def entry(kind, time, client, target, times, codes, sizes, request, ua, tls, group, trace, domain, rule, actions,
          redirect="-", error="-", targets=None, classification=("-", "-"), conn="TID_0a1b2c3d4e5f"):
    cipher, proto = tls
    fields = [kind, time, "app/web-prod/50dc6c495c0c9188", client, target, *times, *codes, *sizes,
              f'"{request}"', f'"{ua}"', cipher, proto, f"{T}/{group}", f'"{trace}"', f'"{domain}"',
              f'"{CERT if cipher != "-" else "-"}"', rule, time, f'"{actions}"',
              f'"{redirect}"', f'"{error}"', f'"{targets or target}"', f'"{codes[1]}"',
              f'"{classification[0]}"', f'"{classification[1]}"', conn, '"-"', '"-"', '"-"']
    return " ".join(fields)


TLS = ("ECDHE-RSA-AES128-GCM-SHA256", "TLSv1.2")
UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
lines = [
    entry("https", "2026-11-30T22:30:01.102030Z", "89.160.20.128:50412", "10.0.1.15:8080", ("0.001", "0.020", "0.000"),
          ("200", "200"), ("312", "5120"), "GET https://shop.example.com:443/ HTTP/1.1", UA, TLS, "web/73e2d6bc24d8a067",
          "Root=1-674b9a01-0a1b2c3d4e5f60718293a4b5", "shop.example.com", "1", "forward"),
    entry("h2", "2026-11-30T22:30:02.000001Z", "81.2.69.160:61000", "10.0.1.16:8080", ("0.000", "0.051", "0.000"),
          ("502", "502"), ("420", "272"), "POST https://shop.example.com:443/api/checkout HTTP/2.0", UA, TLS,
          "api/a1b2c3d4e5f60718", "Root=1-674b9a02-1a1b2c3d4e5f60718293a4b5", "shop.example.com", "2", "forward",
          error="-"),
    entry("h2", "2026-11-30T22:30:03.500000Z", "81.2.69.160:61001", "10.0.1.16:8080", ("0.000", "-1", "-1"),
          ("504", "-"), ("380", "0"), "POST https://shop.example.com:443/api/checkout HTTP/2.0", UA, TLS,
          "api/a1b2c3d4e5f60718", "Root=1-674b9a03-2a1b2c3d4e5f60718293a4b5", "shop.example.com", "2", "forward",
          error="TargetTimeout"),
    entry("https", "2026-11-30T22:31:10.250000Z", "175.16.199.1:40000", "10.0.1.15:8080", ("0.001", "0.003", "0.000"),
          ("500", "500"), ("250", "190"), "GET https://shop.example.com:443/search?q=%27%20OR%201=1-- HTTP/1.1",
          "sqlmap/1.8.11#stable (https://sqlmap.org)", TLS, "web/73e2d6bc24d8a067",
          "Root=1-674b9a04-3a1b2c3d4e5f60718293a4b5", "shop.example.com", "1", "forward"),
    entry("https", "2026-11-30T22:31:11.000000Z", "175.16.199.1:40001", "-", ("-1", "-1", "-1"),
          ("403", "-"), ("250", "0"), "GET https://shop.example.com:443/.env HTTP/1.1",
          "sqlmap/1.8.11#stable (https://sqlmap.org)", TLS, "web/73e2d6bc24d8a067",
          "Root=1-674b9a05-4a1b2c3d4e5f60718293a4b5", "shop.example.com", "0", "waf", targets="-"),
    entry("http", "2026-11-30T22:32:00.000000Z", "2001:db8::1:51000", "-", ("-1", "-1", "-1"),
          ("301", "-"), ("120", "190"), "GET http://shop.example.com:80/ HTTP/1.1", "curl/8.4.0", ("-", "-"),
          "web/73e2d6bc24d8a067", "Root=1-674b9a06-5a1b2c3d4e5f60718293a4b5", "-", "3", "redirect",
          redirect="https://shop.example.com:443/", targets="-"),
    entry("wss", "2026-11-30T22:33:00.000000Z", "89.160.20.112:52000", "10.0.1.17:9000", ("0.001", "0.002", "0.000"),
          ("101", "101"), ("600", "800"), "GET wss://shop.example.com:443/live HTTP/1.1", UA, TLS,
          "live/0718293a4b5c6d7e", "Root=1-674b9a07-6a1b2c3d4e5f60718293a4b5", "shop.example.com", "4", "forward"),
    entry("https", "2026-11-30T22:34:00.000000Z", "216.160.83.56:53000", "10.0.1.16:8080", ("0.000", "0.120", "0.000"),
          ("503", "503"), ("300", "160"), "GET https://shop.example.com:443/api/stock HTTP/1.1", "okhttp/4.12.0", TLS,
          "api/a1b2c3d4e5f60718", "Root=1-674b9a08-7a1b2c3d4e5f60718293a4b5", "shop.example.com", "2", "forward",
          classification=("Ambiguous", "UndefinedContentLengthSemantics")),
    # The format of 2016: 17 fields.
    'http 2016-08-10T23:39:43.065466Z app/web-prod/50dc6c495c0c9188 192.0.2.44:2817 10.0.1.15:8080 0.000 0.001 0.000'
    ' 200 200 34 366 "GET http://shop.example.com:80/ HTTP/1.1" "curl/7.46.0" - -'
    f' {T}/web/73e2d6bc24d8a067',
    # A line cut inside its user agent: dead-lettered alone.
    'https 2026-11-30T22:35:00.000000Z app/web-prod/50dc6c495c0c9188 89.160.20.128:50999 10.0.1.15:8080 0.001 0.020'
    ' 0.000 200 200 312 5120 "GET https://shop.example.com:443/ HTTP/1.1" "Mozilla/5.0 (Windows',
]
write(
    "logs-bucket/AWSLogs/111122223333/elasticloadbalancing/eu-west-1/2026/11/30/"
    "111122223333_elasticloadbalancing_eu-west-1_app.web-prod.50dc6c495c0c9188_20261130T2235Z_203.0.113.9_2ab3c4d5.log.gz",
    ("\n".join(lines) + "\n").encode(),
)
