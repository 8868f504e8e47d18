#!/usr/bin/env python3
"""Builds fixtures/securityhub/*.input.json: EventBridge events as the `securityhub` function receives
them, one event per file.

- `asr-*`: the EventBridge events of aws-solutions/automated-security-response-on-aws (Apache-2.0),
  unchanged; `asr-simdata-batch-N`: its bare ASFF findings, in `Security Hub Findings - Imported` events.
- `sumologic`: SumoLogic/sumologic-aws-lambda's collector test event (Apache-2.0), unchanged.
- `panther-decoy`: panther-labs/panther-analysis ASFF rule-test findings (Apache-2.0) in one event.
- `guardduty-panther-N`: Panther's GuardDuty rule-test findings (Apache-2.0), each in a `GuardDuty
  Finding` event.
- `synthetic-*`: ours (Apache-2.0): updates delivered out of order, bad events and findings, a 256 KB
  event, a Config finding, an Insight Results event.

Envelope ids and times we add are derived deterministically. Files are processed in name order by the
golden test, so the `synthetic-update-*` files deliver one finding three times in that order.
Run from the repository root: python3 scripts/build-securityhub-fixtures.py
"""
import glob, hashlib, json, os, copy

UP = os.environ.get("UPSTREAM", "../shared/upstream-fixtures")
OUT = "fixtures/securityhub"
ASR = f"{UP}/securityhub-asff/automated-security-response-on-aws"
MAX_EVENT = 256 * 1024


def uuid(text):
    h = hashlib.sha256(text.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"


def event(case, detail, kind="Security Hub Findings - Imported", source="aws.securityhub", account="111111111111",
          region="eu-west-1", time="2020-11-05T00:11:05Z"):
    return {"version": "0", "id": uuid(case), "detail-type": kind, "source": source, "account": account,
            "time": time, "region": region, "resources": [], "detail": detail}


def write(case, ev, raw=None):
    os.makedirs(OUT, exist_ok=True)
    text = raw if raw is not None else json.dumps(ev, indent=1, ensure_ascii=False) + "\n"
    with open(f"{OUT}/{case}.input.json", "w") as f:
        f.write(text)
    size = len(text.encode())
    assert size <= MAX_EVENT or case == "synthetic-too-large", (case, size)
    return size


# ------------------------------------------------------------ upstream, unchanged
for path in sorted(glob.glob(f"{ASR}/source/*/test/test_json_data/*.json") + glob.glob(f"{ASR}/source/playbooks/*/test/test_data/*.json")):
    name = os.path.basename(path)[:-5].lower().replace("_", "-").replace(".", "-")
    write(f"asr-{name}", None, open(path).read())
write("asr-notifier", None, open(f"{ASR}/source/Orchestrator/test/test_data/notifier.json").read())  # not an EventBridge event
write("sumologic", None, open(f"{UP}/securityhub-asff/sumologic-aws-lambda/securityhub-collector/test/event.json").read())

# ------------------------------------------------------------ upstream findings, wrapped
sim = []
for p in sorted(glob.glob(f"{ASR}/simtest/simdata/*.json")):
    if "detail-type" in json.load(open(p)):  # a whole event: kept as it is
        write("asr-simdata-" + os.path.basename(p)[:-5].lower().replace("_", "-").replace(".", "-"), None, open(p).read())
    else:
        sim.append(json.load(open(p)))
batch, n = [], 0
for i, finding in enumerate(sim + [None]):
    candidate = batch + ([finding] if finding else [])
    if finding is None or len(json.dumps(event("x", {"findings": candidate}))) > 200_000:
        write(f"asr-simdata-batch-{n}", event(f"asr-simdata-{n}", {"findings": batch}))
        batch, n = [finding], n + 1
    else:
        batch = candidate

decoys = []
for path in sorted(glob.glob(f"{UP}/securityhub-asff/panther-analysis/aws_securityfinding_rules/*.json")):
    decoys += [t["Log"] for t in json.load(open(path))["Tests"]]
write("panther-decoy", event("panther-decoy", {"findings": decoys}, account="123456789012", region="us-east-1"))

for i, path in enumerate(sorted(glob.glob(f"{UP}/guardduty/panther-analysis/aws_guardduty_rules/*.json"))):
    for j, test in enumerate(json.load(open(path))["Tests"]):
        f = test["Log"]
        write(f"guardduty-panther-{i}{j}", event(f"gd-{i}-{j}", f, kind="GuardDuty Finding", source="aws.guardduty",
                                                   account=f.get("accountId", "123456789012"), region=f.get("region", "us-east-1")))

# ------------------------------------------------------------ ours
config_finding = {
    "SchemaVersion": "2018-10-08", "Id": "arn:aws:securityhub:eu-west-1:111111111111:config-rule/s3-bucket-public-read/finding/5b1d",
    "ProductArn": "arn:aws:securityhub:eu-west-1::product/aws/config", "ProductName": "Config", "CompanyName": "AWS",
    "GeneratorId": "arn:aws:config:eu-west-1:111111111111:config-rule/config-rule-s3pub", "AwsAccountId": "111111111111",
    "Region": "eu-west-1", "Types": ["Software and Configuration Checks"], "CreatedAt": "2024-03-01T08:00:00.000Z",
    "UpdatedAt": "2024-03-02T08:00:00.000Z", "FirstObservedAt": "2024-03-01T08:00:00.000Z", "LastObservedAt": "2024-03-02T08:00:00.000Z",
    "Severity": {"Label": "HIGH", "Normalized": 70}, "Title": "s3-bucket-public-read-prohibited",
    "Description": "Checks that your Amazon S3 buckets do not allow public read access.",
    "Compliance": {"Status": "FAILED", "SecurityControlId": "S3.2"}, "Workflow": {"Status": "NEW"}, "RecordState": "ACTIVE",
    "ProductFields": {"aws/config/ConfigRuleName": "s3-bucket-public-read-prohibited", "aws/config/ConfigComplianceType": "NON_COMPLIANT",
                      "aws/securityhub/ProductName": "Config", "a.key.with.dots": "x", "RelatedAWSResources:0/name": "r"},
    "Resources": [{"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::seclog-public", "Partition": "aws", "Region": "eu-west-1",
                   "Tags": {"team": "web", "cost.centre": "42"}, "Details": {"AwsS3Bucket": {"Owner": "x", "CreatedAt": "2020-01-01"}}}],
}
write("synthetic-config", event("synthetic-config", {"findings": [config_finding]}))

# One GuardDuty finding (via Security Hub, ASFF) delivered three times: two updates, the older last.
gd = {
    "SchemaVersion": "2018-10-08", "Id": "arn:aws:guardduty:eu-west-1:111111111111:detector/d1e2/finding/a1b2c3",
    "ProductArn": "arn:aws:securityhub:eu-west-1::product/aws/guardduty", "ProductName": "GuardDuty", "CompanyName": "Amazon",
    "GeneratorId": "arn:aws:guardduty:eu-west-1:111111111111:detector/d1e2", "AwsAccountId": "111111111111", "Region": "eu-west-1",
    "Types": ["TTPs/Initial Access/UnauthorizedAccess:EC2-SSHBruteForce"], "CreatedAt": "2024-03-10T10:00:00.000Z",
    "FirstObservedAt": "2024-03-10T09:58:00.000Z", "Title": "SSH brute force attacks against i-0a1b2c3d.",
    "Description": "198.51.100.7 is performing SSH brute force attacks against i-0a1b2c3d.",
    "Severity": {"Label": "MEDIUM", "Normalized": 40}, "Workflow": {"Status": "NEW"}, "RecordState": "ACTIVE",
    "Network": {"Direction": "IN", "SourceIpV4": "121.134.0.1", "DestinationPort": 22},
    "ProductFields": {"aws/guardduty/service/count": "3", "aws/securityhub/ProductName": "GuardDuty"},
    "Resources": [{"Type": "AwsEc2Instance", "Id": "arn:aws:ec2:eu-west-1:111111111111:instance/i-0a1b2c3d"}],
}
states = [("2024-03-10T10:00:00.000Z", 3, "MEDIUM", 40, "NEW"), ("2024-03-10T12:00:00.000Z", 57, "HIGH", 70, "NOTIFIED"),
          ("2024-03-10T11:00:00.000Z", 12, "MEDIUM", 40, "NEW")]
for k, (updated, count, label, normalized, workflow) in enumerate(states, 1):
    f = copy.deepcopy(gd)
    f.update(UpdatedAt=updated, LastObservedAt=updated, Severity={"Label": label, "Normalized": normalized},
             Workflow={"Status": workflow})
    f["ProductFields"]["aws/guardduty/service/count"] = str(count)
    write(f"synthetic-update-{k}", event(f"synthetic-update-{k}", {"findings": [f]}, time=updated.replace(".000", "")))

bad = copy.deepcopy(config_finding)
no_id = {k: v for k, v in bad.items() if k != "Id"}
no_updated = dict({k: v for k, v in bad.items() if k != "UpdatedAt"}, Id=bad["Id"] + "-2")
unknown = dict(bad, Id=bad["Id"] + "-3", BrandNewAsffField={"nested": [{"x": 1}]}, event="collides")
write("synthetic-bad-findings", event("synthetic-bad-findings", {"findings": [no_id, no_updated, "not an object", unknown]}))
write("synthetic-empty-findings", event("synthetic-empty-findings", {"findings": []}))
write("synthetic-missing-findings", event("synthetic-missing-findings", {"actionName": "x"}))
write("synthetic-not-findings", event("synthetic-not-findings", {"eventName": "x"}, kind="EC2 Instance State-change Notification",
                                      source="aws.ec2"))
write("synthetic-insight-results", event("synthetic-insight-results",
                                         {"actionName": "x", "insightName": "top", "insightResults": [{"a": 1}]},
                                         kind="Security Hub Insight Results"))

# EventBridge's maximum: 256 KB with as many findings as fit.
many, k = [], 0
while True:
    f = copy.deepcopy(config_finding)
    f.update(Id=f"{config_finding['Id']}-many-{k:04}", Title=f"finding {k}")
    f["Severity"] = {"Label": ["LOW", "MEDIUM", "HIGH", "CRITICAL", "INFORMATIONAL"][k % 5]}
    if len(json.dumps(event("synthetic-256kb", {"findings": many + [f]}), indent=1)) + 1 > MAX_EVENT:
        break
    many.append(f)
    k += 1
size = write("synthetic-256kb", event("synthetic-256kb", {"findings": many}))
print(f"synthetic-256kb: {len(many)} findings, {size} bytes")
print("fixtures written:", len(glob.glob(f"{OUT}/*.input.json")))
