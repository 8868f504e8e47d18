#!/usr/bin/env python3
"""Builds an ASN database in MaxMind format (the GeoLite2-ASN record layout:
autonomous_system_number, autonomous_system_organization) from the CSV ranges of the npm package
@ip-location-db/asn (RouteViews + NRO + DB-IP ASN Lite, CC BY 4.0), with the PyPI package
mmdb-writer. IPv4 ranges go under ::/96, as in MaxMind's own IPv6 databases, so one file answers
both families. Usage: build-asn-mmdb.py <asn-ipv4.csv> <asn-ipv6.csv> <out.mmdb>
"""
import csv
import sys

from mmdb_writer import MMDBWriter, MmdbU32
from netaddr import IPRange, IPSet


def main(v4, v6, out):
    writer = MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type="seclog-ASN",
        languages=["en"],
        description="IP to ASN: RouteViews, NRO and DB-IP ASN Lite via @ip-location-db/asn (CC BY 4.0)",
    )
    count = 0
    for path in (v4, v6):
        with open(path, newline="", encoding="utf-8") as f:
            for first, last, number, organization in csv.reader(f):
                record = {"autonomous_system_number": MmdbU32(int(number))}
                if organization:
                    record["autonomous_system_organization"] = organization
                writer.insert_network(IPSet(IPRange(first, last)), record)
                count += 1
    writer.to_db_file(out)
    print(f"build-asn-mmdb: {count} ranges into {out}", file=sys.stderr)


if __name__ == "__main__":
    main(*sys.argv[1:4])
