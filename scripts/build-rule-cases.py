#!/usr/bin/env python3
"""Writes crates/rules/tests/cases/<source>.ndjson: for every bundled rule, a record that matches it
and a near miss that does not, written from the rule's own detection (SigmaHQ has no regression
data for these rules). Each line: {"rule": id, "title": …, "expect": "match"|"miss", "record": {…}}.
The test (crates/rules/tests/coverage.rs) checks every line against the evaluator and that every
rule that loads has both. A rule the generator cannot satisfy is listed in HAND below, written by
hand. Needs PyYAML. Run from the repository root: python3 scripts/build-rule-cases.py
"""
import copy, glob, json, re, sys
import yaml

BASE_CT = {
    "eventVersion": "1.09", "eventTime": "2026-11-30T12:00:00Z", "awsRegion": "us-east-1",
    "sourceIPAddress": "192.0.2.10", "userAgent": "aws-cli/2.15.0", "eventID": "00000000-0000-4000-8000-000000000000",
    "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333", "userName": "alice"},
    "recipientAccountId": "111122223333", "eventType": "AwsApiCall",
}

# Rules whose detection the generator cannot satisfy alone: the fields to set for a match.
HAND = {
    # `userIdentity.arn|re: '.+:assumed-role/aws:.+'`: credentials of an instance profile used from outside AWS.
    "352a918a-34d8-4882-8470-44830c507aa3": {
        "userIdentity.arn": "arn:aws:sts::111122223333:assumed-role/aws:ec2-instance/i-0123456789abcdef0",
        "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets",
    },
}


def set_path(record, path, value):
    keys = path.split(".")
    for k in keys[:-1]:
        if not isinstance(record.get(k), dict):
            record[k] = {}
        record = record[k]
    record[keys[-1]] = value


def value_for(modifiers, values):
    values = values if isinstance(values, list) else [values]
    v = values[0]
    if v is None:
        return None
    v = str(v)
    if "all" in modifiers and "contains" in modifiers:
        return " ".join(str(x) for x in values)
    if "contains" in modifiers:
        return f"x {v} x".replace("*", "")
    if "startswith" in modifiers:
        return f"{v}example".replace("*", "")
    if "endswith" in modifiers:
        return f"example{v}".replace("*", "")
    if "re" in modifiers:
        return None
    if "cidr" in modifiers:
        return v.split("/")[0]
    return v.replace("*", "x")


def apply_selection(record, selection, fields):
    if isinstance(selection, list):  # a list of maps: any of them
        selection = selection[0]
    if not isinstance(selection, dict):
        return False
    for key, values in selection.items():
        field, *modifiers = key.split("|")
        v = value_for(modifiers, values)
        if v is None and values is not None:
            return False
        set_path(record, field, v)
        fields.append(field)
    return True


def positive_selections(condition, detection):
    names = [k for k in detection if k != "condition"]
    condition = condition if isinstance(condition, str) else condition[0]
    # drop negated parts: "not X", "not 1 of filter*"
    cond = re.sub(r"not\s+(1 of |all of )?[\w*]+", "", condition)
    chosen = []
    for token in re.findall(r"(?:1 of |all of )?[\w*]+", cond):
        token = token.strip()
        if token in ("and", "or"):
            continue
        if token.startswith(("1 of ", "all of ")):
            pattern = token.split(" of ")[1]
            matched = [n for n in names if re.fullmatch(pattern.replace("*", ".*"), n)]
            chosen.extend(matched[:1] if token.startswith("1 of ") else matched)
        elif token in names:
            chosen.append(token)
    # "a or b": one is enough, but setting both is harmless unless they conflict; keep the first of an or-chain
    if " or " in cond and " and " not in cond:
        chosen = chosen[:1]
    return chosen


def cases(path, source):
    for doc in yaml.safe_load_all(open(path)):
        if not doc or "detection" not in doc or "id" not in doc:
            continue
        rid, det = doc["id"], doc["detection"]
        record = copy.deepcopy(BASE_CT) if source == "cloudtrail" else {"query": "example.com"}
        ok, fields = True, []
        if rid in HAND:
            for k, v in HAND[rid].items():
                set_path(record, k, v)
                fields.append(k)
        else:
            for name in positive_selections(det["condition"], det):
                ok &= apply_selection(record, det[name], fields)
        if not ok:
            print(f"needs a hand-written case: {path} {rid}", file=sys.stderr)
        # The near miss: the same record with the first field the rule looks at changed.
        miss = copy.deepcopy(record)
        if fields:
            set_path(miss, fields[0], "seclog-near-miss")
        yield {"rule": rid, "title": doc["title"], "expect": "match", "record": record}
        yield {"rule": rid, "title": doc["title"], "expect": "miss", "record": miss}


def main():
    out = {"cloudtrail": [], "dns": []}
    for path in sorted(glob.glob("rules/sigma/rules/cloud/aws/cloudtrail/*.yml")) + sorted(glob.glob("rules/seclog/*.yml")) \
            + sorted(glob.glob("rules/sigma/rules-placeholder/cloud/aws/cloudtrail/*.yml")):
        out["cloudtrail"].extend(cases(path, "cloudtrail"))
    for path in sorted(glob.glob("rules/sigma/rules/network/dns/*.yml")):
        out["dns"].extend(cases(path, "dns"))
    for source, lines in out.items():
        with open(f"crates/rules/tests/cases/{source}.ndjson", "w") as f:
            for line in lines:
                f.write(json.dumps(line, sort_keys=True) + "\n")
        print(f"{source}: {len(lines)} cases")


if __name__ == "__main__":
    main()
