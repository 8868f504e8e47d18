import { test } from "node:test";
import * as assert from "node:assert/strict";
import { Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { Route53PublicStack } from "../lib/route53-public-stack";
import { app, assertLeastPrivilege, packages } from "./helpers";

const stack = new Route53PublicStack(app(), "T", { packageDir: packages() });
const template = Template.fromStack(stack);

test("the stack, its log group and function are in us-east-1 (the only region Route 53 logs to)", () => {
  assert.equal(Stack.of(stack).region, "us-east-1");
  template.hasResourceProperties("AWS::Logs::LogGroup", { LogGroupName: "/aws/route53/seclog", KmsKeyId: Match.anyValue() });
});

test("Route 53 may write to the group, and the group is subscribed to the route53 function", () => {
  // The document is a joined string (it names the group's ARN): check its text.
  const text = JSON.stringify(Object.values(template.findResources("AWS::Logs::ResourcePolicy")));
  for (const part of ["route53.amazonaws.com", "logs:PutLogEvents", "logs:CreateLogStream", "aws:SourceAccount"]) {
    assert.ok(text.includes(part), part);
  }
  template.resourceCountIs("AWS::Logs::SubscriptionFilter", 1);
  template.hasResourceProperties("AWS::Lambda::Function", { DeadLetterConfig: { TargetArn: Match.anyValue() } });
});

test("least privilege", () => assertLeastPrivilege(template));

test("the function signs for the domain's region, wherever it runs", () => {
  template.hasResourceProperties("AWS::Lambda::Function", {
    Environment: { Variables: Match.objectLike({ OPENSEARCH_REGION: { "Fn::Select": [3, Match.anyValue()] } }) },
  });
});
