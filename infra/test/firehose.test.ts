import { test } from "node:test";
import * as assert from "node:assert/strict";
import { Match, Template } from "aws-cdk-lib/assertions";
import { FirehoseStack } from "../lib/firehose-stack";
import { app, assertLeastPrivilege, packages } from "./helpers";

const stack = new FirehoseStack(app(), "T", {
  packageDir: packages(),
  vpcId: "vpc-0123456789abcdef0",
  webAclArn: "arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/x/1",
});
const template = Template.fromStack(stack);

function processorOf(name: string): any {
  const streams = template.findResources("AWS::KinesisFirehose::DeliveryStream", { Properties: { DeliveryStreamName: name } });
  const [s] = Object.values(streams) as any[];
  assert.ok(s, name);
  return s.Properties.AmazonopensearchserviceDestinationConfiguration;
}

test("the WAF stream is named aws-waf-logs-* and WAF logs to it", () => {
  processorOf("aws-waf-logs-seclog");
  template.hasResourceProperties("AWS::WAFv2::LoggingConfiguration", { LogDestinationConfigs: [Match.anyValue()] });
});

test("each stream is encrypted, backs up failed documents and is processed by its function", () => {
  for (const [name, fn, index] of [
    ["aws-waf-logs-seclog", "WafFunction", "waf"],
    ["seclog-vpcflow", "VpcflowFunction", "vpcflow"],
    ["seclog-route53-resolver", "Route53Function", "route53-resolver"],
  ]) {
    const d = processorOf(name);
    assert.equal(d.IndexName, index);
    assert.equal(d.S3BackupMode, "FailedDocumentsOnly");
    assert.ok(d.S3Configuration.EncryptionConfiguration.KMSEncryptionConfig.AWSKMSKeyARN);
    const lambdaArn = d.ProcessingConfiguration.Processors[0].Parameters.find((p: any) => p.ParameterName === "LambdaArn");
    assert.ok(JSON.stringify(lambdaArn.ParameterValue).includes(fn), `${name}: ${JSON.stringify(lambdaArn)}`);
  }
  template.allResourcesProperties("AWS::KinesisFirehose::DeliveryStream", {
    DeliveryStreamEncryptionConfigurationInput: { KeyType: "CUSTOMER_MANAGED_CMK", KeyARN: Match.anyValue() },
  });
});

test("the vpcflow processor's buffer keeps its answers under 6 MB", () => {
  const params = processorOf("seclog-vpcflow").ProcessingConfiguration.Processors[0].Parameters;
  assert.deepEqual(params.find((p: any) => p.ParameterName === "BufferSizeInMBs").ParameterValue, "0.5");
});

test("flow logs and Resolver query logs of the VPC go to their streams", () => {
  template.hasResourceProperties("AWS::EC2::FlowLog", { ResourceId: "vpc-0123456789abcdef0", LogDestinationType: "kinesis-data-firehose" });
  template.hasResourceProperties("AWS::Route53Resolver::ResolverQueryLoggingConfigAssociation", { ResourceId: "vpc-0123456789abcdef0" });
});

test("each function may put records back into its own stream only", () => {
  const puts = Object.values(template.findResources("AWS::IAM::Policy")).flatMap((p: any) =>
    p.Properties.PolicyDocument.Statement.filter((s: any) => [s.Action].flat().includes("firehose:PutRecordBatch")),
  );
  assert.equal(puts.length, 3);
  for (const s of puts) assert.ok(!JSON.stringify(s.Resource).includes("deliverystream/*"), JSON.stringify(s.Resource));
});

test("least privilege", () => assertLeastPrivilege(template));
