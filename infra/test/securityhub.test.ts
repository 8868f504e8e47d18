import { test } from "node:test";
import { Match, Template } from "aws-cdk-lib/assertions";
import { SecurityHubStack } from "../lib/securityhub-stack";
import { app, assertLeastPrivilege, packages } from "./helpers";

const template = Template.fromStack(new SecurityHubStack(app(), "T", { packageDir: packages() }));

test("the function is arm64 provided.al2023, 128 MB, JSON logs", () => {
  template.hasResourceProperties("AWS::Lambda::Function", {
    Runtime: "provided.al2023",
    Architectures: ["arm64"],
    MemorySize: 128,
    LoggingConfig: { LogFormat: "JSON" },
  });
});

test("the rule sends Security Hub and GuardDuty findings, with a DLQ and retries", () => {
  template.hasResourceProperties("AWS::Events::Rule", {
    EventPattern: {
      source: ["aws.securityhub", "aws.guardduty"],
      "detail-type": ["Security Hub Findings - Imported", "GuardDuty Finding"],
    },
    Targets: [Match.objectLike({ DeadLetterConfig: Match.anyValue(), RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86400 } })],
  });
  template.hasResourceProperties("AWS::Lambda::Function", { DeadLetterConfig: { TargetArn: Match.anyValue() } });
  template.hasResourceProperties("AWS::Lambda::EventInvokeConfig", { MaximumRetryAttempts: 2 });
});

test("least privilege", () => assertLeastPrivilege(template));

test("queues, the topic, the log group and the environment are encrypted with a rotating key", () => {
  template.hasResourceProperties("AWS::Logs::LogGroup", { KmsKeyId: Match.anyValue() });
  template.hasResourceProperties("AWS::Lambda::Function", { KmsKeyArn: Match.anyValue() });
  template.hasResourceProperties("AWS::KMS::Key", { EnableKeyRotation: true });
  template.hasResourceProperties("AWS::SQS::Queue", { KmsMasterKeyId: Match.anyValue() });
  template.hasResourceProperties("AWS::SNS::Topic", { KmsMasterKeyId: Match.anyValue() });
});

test("alarms on errors, throttles, dead-letter depth, dead letters Lambda could not write, and the rule's dead letters", () => {
  template.resourceCountIs("AWS::CloudWatch::Alarm", 6);
  template.hasResourceProperties("AWS::CloudWatch::Alarm", { Namespace: "AWS/Lambda", MetricName: "DeadLetterErrors" });
  for (const metric of ["InvocationsFailedToBeSentToDlq", "InvocationsSentToDlq"]) {
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Namespace: "AWS/Events",
      MetricName: metric,
      Dimensions: [{ Name: "RuleName", Value: "seclog-findings" }],
    });
  }
});
