#!/usr/bin/env python3
"""Instruction counts of every pipeline's handler and its plain baseline, for scripts/bench.

Each path runs under `valgrind --tool=callgrind` once with one iteration and once with two, on the
same input as its criterion bench; the difference is one warm iteration, without the setup (reading
the input, opening the enrichment data, loading the rules). Instruction counts repeat exactly for
the same binary and input, whatever else the machine is doing, so a ratio of them can be trusted
where timings are noisy. Writes target/bench/instructions.json: {group: {"seclog": n, "plain": n}}.
"""

import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
EXAMPLES = os.path.join(TARGET, "release", "examples")

# group (as in the criterion benches) -> (example, arguments before the path, path of the handler)
# The handler path is the one the table's seclog column times: with the bundled rules where the
# function evaluates them.
PATHS = {
    "cloudtrail/invictus-ir-01": ("count-cloudtrail", [], "handler-rules", ["invictus-ir-01"]),
    "cloudtrail/stratus-red-team": ("count-cloudtrail", [], "handler-rules", ["stratus-red-team"]),
    "waf/6MB": ("count-waf", [], "handler", []),
    "vpcflow/6MB": ("count-vpcflow", [], "handler", []),
    "route53/resolver-firehose-6MB": ("count-route53", ["resolver"], "handler-rules", []),
    "route53/public-subscription-1MB": ("count-route53", ["public"], "handler-rules", []),
    "securityhub/256KB": ("count-securityhub", [], "handler", []),
    # The bench's objects at 4 MiB (decompressed): callgrind would run the 50 and 100 MiB ones for
    # many minutes, and instructions per record do not depend on the object's size.
    "s3/cloudtrail-50MB": ("count-s3", ["cloudtrail"], "handler", ["4"]),
    "s3/vpcflow-100MB": ("count-s3", ["vpcflow"], "handler", ["4"]),
}

# Where the counted input is not the timed one, what it is.
COUNTED_ON = {"s3/cloudtrail-50MB": "a 4 MiB object", "s3/vpcflow-100MB": "a 4 MiB object"}


def instructions(example, before, path, after, n):
    command = [
        "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
        os.path.join(EXAMPLES, example), *before, path, *after, str(n),
    ]
    run = subprocess.run(command, capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", run.stderr)
    if not found:
        sys.exit(f"no instruction count from {' '.join(command)}:\n{run.stderr[-2000:]}")
    return int(found.group(1))


def main():
    counts = {}
    for group, (example, before, handler, after) in PATHS.items():
        counts[group] = {}
        for kind, path in (("seclog", handler), ("plain", "plain")):
            one, two = (instructions(example, before, path, after, n) for n in (1, 2))
            counts[group][kind] = two - one
            print(f"{group} {kind}: {(two - one) / 1e6:,.1f} M instructions", file=sys.stderr)
        if group in COUNTED_ON:
            counts[group]["on"] = COUNTED_ON[group]
    with open(os.path.join(TARGET, "bench", "instructions.json"), "w", encoding="utf-8") as f:
        json.dump(counts, f, indent=1)


if __name__ == "__main__":
    main()
