import { test } from "node:test";
import * as assert from "node:assert/strict";
import { Token } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { addStacks } from "../lib/seclog-app";
import { wholeApp } from "./helpers";
import { backstopProblems, senders } from "./policy";

const templates = addStacks(wholeApp()).map((s) => [s.stackName, Template.fromStack(s).toJSON(), Token.isUnresolved(s.region) ? undefined : s.region] as const);

test("every encrypted queue and topic can be written by each principal that sends to it", () => {
  for (const [name, template, region] of templates) {
    assert.deepEqual(backstopProblems(template, region), [], name);
  }
});

test("the senders found: every function DLQ, the EventBridge target DLQ, every alarm's topic", () => {
  const kinds = (name: string) => {
    const [, t] = templates.find(([n]) => n === name)!;
    const found = senders(t.Resources).map((s) => `${s.kind}:${"role" in s.principal ? "role" : s.principal.service}`);
    return [...new Set(found)].sort();
  };
  assert.deepEqual(kinds("SeclogSecurityHub"), ["queue:events.amazonaws.com", "queue:role", "topic:cloudwatch.amazonaws.com"]);
  assert.deepEqual(kinds("SeclogCloudTrail"), ["queue:role", "topic:cloudwatch.amazonaws.com"]);
  assert.deepEqual(kinds("SeclogRoute53Public"), ["queue:role", "topic:cloudwatch.amazonaws.com"]);
  assert.deepEqual(kinds("SeclogFirehose"), ["topic:cloudwatch.amazonaws.com"]);
  assert.deepEqual(kinds("SeclogSourceCloudTrail"), ["queue:role", "topic:cloudwatch.amazonaws.com"]);
  assert.deepEqual(kinds("SeclogDetect"), ["queue:role", "topic:cloudwatch.amazonaws.com", "topic:role"]);
  assert.deepEqual(kinds("SeclogS3"), ["queue:role", "queue:s3.amazonaws.com", "topic:cloudwatch.amazonaws.com"]);
  // Three buckets notify the queue: the trail's and the two existing ones given as context.
  const [, s3] = templates.find(([n]) => n === "SeclogS3")!;
  assert.equal(senders(s3.Resources).filter((x) => "service" in x.principal && x.principal.service === "s3.amazonaws.com").length, 3);
});

test("the check fails when S3 may not send to the notification queue or use its key, or the s3 function may not continue", () => {
  const [, s3] = templates.find(([n]) => n === "SeclogS3")!;
  assert.deepEqual(backstopProblems(s3), []);
  const cases: [string, (s: any) => boolean, RegExp][] = [
    ["S3's SendMessage", (s) => names(s).includes("s3.amazonaws.com") && names(s).includes("sqs:SendMessage"), /notifications of bucket org-flow-logs \(s3.amazonaws.com\) cannot sqs:SendMessage/],
    ["S3's use of the key", (s) => names(s).includes("s3.amazonaws.com") && names(s).includes("kms:"), /\(s3.amazonaws.com\) cannot kms:GenerateDataKey/],
    ["the function's SendMessage", (s) => !s.Principal && names(s).includes("sqs:SendMessage"), /continuations \(role \w+\) cannot sqs:SendMessage/],
  ];
  for (const [what, drop, expected] of cases) {
    const problems = backstopProblems(without(s3, drop));
    assert.ok(problems.some((p) => expected.test(p)), `removing ${what}: ${JSON.stringify(problems)}`);
  }
});

test("the check fails when the alerter may not publish to its alerts topic or use its key", () => {
  const [, detect] = templates.find(([n]) => n === "SeclogDetect")!;
  assert.deepEqual(backstopProblems(detect), []);
  const publish = backstopProblems(without(detect, (s) => !s.Principal && names(s).includes("sns:Publish")));
  assert.ok(publish.some((p) => /alerts topic \(role \w+\) cannot sns:Publish/.test(p)), JSON.stringify(publish));
  const key = backstopProblems(without(detect, (s) => !s.Principal && names(s).includes("kms:GenerateDataKey")));
  assert.ok(key.some((p) => /alerts topic \(role \w+\) cannot kms:GenerateDataKey/.test(p)), JSON.stringify(key));
});

/** Removes, from every policy of the template, the statements `drop` selects. */
function without(template: any, drop: (s: any) => boolean): any {
  const copy = JSON.parse(JSON.stringify(template));
  const walk = (v: any) => {
    if (v && typeof v === "object") {
      if (Array.isArray(v.Statement)) v.Statement = v.Statement.filter((s: any) => !drop(s));
      Object.values(v).forEach(walk);
    }
  };
  walk(copy.Resources);
  return copy;
}

const names = (s: any) => JSON.stringify(s.Principal ?? "") + JSON.stringify(s.Action);

test("the check fails when any one grant is removed", () => {
  const [, hub] = templates.find(([n]) => n === "SeclogSecurityHub")!;
  const cases: [string, (s: any) => boolean, RegExp][] = [
    ["EventBridge's use of the key", (s) => names(s).includes("events.amazonaws.com") && names(s).includes("kms:"), /target dead-letter queue \(events.amazonaws.com\) cannot kms:GenerateDataKey/],
    ["EventBridge's SendMessage", (s) => names(s).includes("events.amazonaws.com") && names(s).includes("sqs:SendMessage"), /events.amazonaws.com\) cannot sqs:SendMessage/],
    ["CloudWatch's use of the key", (s) => names(s).includes("cloudwatch.amazonaws.com"), /alarm action \(cloudwatch.amazonaws.com\) cannot kms:Decrypt/],
    ["the function role's use of the key", (s) => !s.Principal && names(s).includes("kms:Decrypt"), /dead-letter queue \(role \w+\) cannot kms:Decrypt/],
    ["the function role's SendMessage", (s) => !s.Principal && names(s).includes("sqs:SendMessage"), /dead-letter queue \(role \w+\) cannot sqs:SendMessage/],
  ];
  for (const [what, drop, expected] of cases) {
    const problems = backstopProblems(without(hub, drop));
    assert.ok(problems.some((p) => expected.test(p)), `removing ${what}: ${JSON.stringify(problems)}`);
  }
});
