import { test } from "node:test";
import { Match, Template } from "aws-cdk-lib/assertions";
import { CloudTrailStack } from "../lib/cloudtrail-stack";
import { app, assertLeastPrivilege, packages } from "./helpers";

const template = Template.fromStack(new CloudTrailStack(app(), "T", { packageDir: packages(), s3DataEvents: true }));

test("a multi-region trail of management events, KMS-encrypted, validated, to CloudWatch Logs", () => {
  template.hasResourceProperties("AWS::CloudTrail::Trail", {
    IsMultiRegionTrail: true,
    EnableLogFileValidation: true,
    KMSKeyId: Match.anyValue(),
    CloudWatchLogsLogGroupArn: Match.anyValue(),
    EventSelectors: Match.arrayWith([Match.objectLike({ DataResources: [{ Type: "AWS::S3::Object", Values: Match.anyValue() }] })]),
  });
  template.hasResourceProperties("AWS::KMS::Key", {
    EnableKeyRotation: true,
    KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: "cloudtrail.amazonaws.com" } })]) },
  });
});

test("the bucket is KMS-encrypted, versioned, private and TLS-only", () => {
  template.hasResourceProperties("AWS::S3::Bucket", {
    BucketEncryption: { ServerSideEncryptionConfiguration: [Match.objectLike({ ServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: Match.anyValue() } })] },
    VersioningConfiguration: { Status: "Enabled" },
    PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
  });
  template.hasResourceProperties("AWS::S3::BucketPolicy", {
    PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } })]) },
  });
});

test("the encrypted log group is subscribed to the cloudtrail function, which has a DLQ", () => {
  template.hasResourceProperties("AWS::Logs::LogGroup", { RetentionInDays: 365, KmsKeyId: Match.anyValue() });
  template.resourceCountIs("AWS::Logs::SubscriptionFilter", 1);
  template.hasResourceProperties("AWS::Lambda::Function", { DeadLetterConfig: { TargetArn: Match.anyValue() }, Architectures: ["arm64"] });
});

test("alarms on console sign-in failures, root usage and security-group changes, and the function's (dead letters it could not write among them)", () => {
  for (const name of ["ConsoleSignInFailures", "RootUsage", "SecurityGroupChanges"]) {
    template.hasResourceProperties("AWS::Logs::MetricFilter", { MetricTransformations: [Match.objectLike({ MetricName: name })] });
  }
  template.resourceCountIs("AWS::CloudWatch::Alarm", 7);
  template.hasResourceProperties("AWS::CloudWatch::Alarm", { Namespace: "AWS/Lambda", MetricName: "DeadLetterErrors" });
});

test("least privilege", () => assertLeastPrivilege(template));
