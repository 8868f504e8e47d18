import { test } from "node:test";
import * as assert from "node:assert/strict";
import { Match, Template } from "aws-cdk-lib/assertions";
import { addStacks } from "../lib/seclog-app";
import { app, assertLeastPrivilege, packages, S3_SOURCES } from "./helpers";

const stacks = addStacks(app({ packageDir: packages(), s3Sources: JSON.stringify(S3_SOURCES) }));
const byName = Object.fromEntries(stacks.map((s) => [s.stackName, Template.fromStack(s)]));
const s3 = byName.SeclogS3;

test("the s3 function reads objects only under each source's prefix, and decrypts only with the keys given", () => {
  const reads = Object.values(s3.findResources("AWS::IAM::Policy"))
    .flatMap((p: any) => p.Properties.PolicyDocument.Statement)
    .filter((s: any) => [s.Action].flat().includes("s3:GetObject"));
  const resources = reads.flatMap((s: any) => [s.Resource].flat()).map((r: any) => JSON.stringify(r));
  assert.equal(resources.length, 3);
  assert.ok(resources.some((r) => r.includes("org-flow-logs/AWSLogs/*")), resources.join());
  assert.ok(resources.some((r) => r.includes("alb-access-logs/*")), resources.join());
  assert.ok(resources.some((r) => r.includes("ImportValue") && r.includes("/AWSLogs/*")), "the trail bucket, under AWSLogs/");
  const decrypts = Object.values(s3.findResources("AWS::IAM::Policy"))
    .flatMap((p: any) => p.Properties.PolicyDocument.Statement)
    .filter((s: any) => [s.Action].flat().join() === "kms:Decrypt");
  const keys = decrypts.flatMap((s: any) => [s.Resource].flat()).map((r: any) => JSON.stringify(r)).sort();
  assert.equal(keys.length, 3, keys.join());
  assert.ok(keys.some((k) => k.includes("key/0f0f0f0f-0f0f-0f0f-0f0f-0f0f0f0f0f0f")), "the flow-log bucket's key");
  assert.ok(keys.some((k) => k.includes("ImportValue")), "the trail's key");
  assert.ok(keys.some((k) => /^\{"Fn::GetAtt":\["Key[0-9A-F]+","Arn"\]\}$/.test(k)), "its own queue's key, to read messages");
  assertLeastPrivilege(s3);
});

test("notifications of every source reach the queue; the function reports partial batch failures", () => {
  s3.resourceCountIs("Custom::S3BucketNotifications", 3);
  s3.hasResourceProperties("Custom::S3BucketNotifications", {
    BucketName: "org-flow-logs",
    NotificationConfiguration: {
      QueueConfigurations: [Match.objectLike({ Events: ["s3:ObjectCreated:*"], Filter: { Key: { FilterRules: [{ Name: "prefix", Value: "AWSLogs/" }] } } })],
    },
  });
  s3.hasResourceProperties("AWS::Lambda::EventSourceMapping", { FunctionResponseTypes: ["ReportBatchItemFailures"], BatchSize: 10, MaximumBatchingWindowInSeconds: 10 });
  s3.hasResourceProperties("AWS::Lambda::Function", { Timeout: 300, Environment: { Variables: Match.objectLike({ CONTINUATION_QUEUE_URL: Match.anyValue() }) } });
  s3.hasResourceProperties("AWS::SQS::Queue", { VisibilityTimeout: 1800, RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }) });
});

test("-c trailToS3Only=true: the trail writes to its bucket only, and the s3 function reads it", () => {
  const only = addStacks(app({ packageDir: packages(), trailToS3Only: "true" }));
  const trail = Template.fromStack(only.find((s) => s.stackName === "SeclogCloudTrail")!);
  trail.resourceCountIs("AWS::Logs::LogGroup", 0);
  trail.resourceCountIs("AWS::Lambda::Function", 0);
  trail.resourceCountIs("AWS::Logs::MetricFilter", 0);
  trail.hasResourceProperties("AWS::CloudTrail::Trail", { CloudWatchLogsLogGroupArn: Match.absent(), S3BucketName: Match.anyValue() });
  Template.fromStack(only.find((s) => s.stackName === "SeclogS3")!).resourceCountIs("Custom::S3BucketNotifications", 1);
});
