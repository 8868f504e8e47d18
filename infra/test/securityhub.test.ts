import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { App } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { SecurityHubStack } from "../lib/securityhub-stack";

/** A package folder with an (empty) zip per function: these tests check the template, not the build. */
function packages(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "seclog-pkg-"));
  for (const f of ["cloudtrail", "waf", "vpcflow", "route53", "securityhub"]) {
    fs.mkdirSync(path.join(dir, f));
    fs.writeFileSync(path.join(dir, f, "bootstrap.zip"), "");
  }
  return dir;
}

const template = Template.fromStack(new SecurityHubStack(new App(), "T", { packageDir: packages() }));

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

test("no policy grants a * action on OpenSearch or a * principal", () => {
  const text = JSON.stringify(template.toJSON());
  assert.ok(!text.includes('"es:*"'), "no es:*");
  for (const [, policy] of Object.entries(template.findResources("AWS::IAM::Policy"))) {
    for (const s of (policy as any).Properties.PolicyDocument.Statement) {
      const actions = [s.Action].flat();
      assert.ok(!actions.includes("*"), JSON.stringify(s));
      if (actions.some((a: string) => a.startsWith("es:"))) {
        assert.deepEqual(actions.sort(), ["es:ESHttpPost", "es:ESHttpPut"]);
      }
    }
  }
  // Every policy document (IAM, queue, topic, key): a `*` principal only in Deny statements (the
  // TLS-only guards CDK adds with `enforceSSL`).
  const statements: any[] = [];
  const walk = (v: any) => {
    if (v && typeof v === "object") {
      if (Array.isArray(v.Statement)) statements.push(...v.Statement);
      Object.values(v).forEach(walk);
    }
  };
  walk(template.toJSON().Resources);
  assert.ok(statements.length > 0);
  for (const s of statements.filter((s) => s.Effect === "Allow")) {
    const p = s.Principal;
    assert.ok(p !== "*" && p?.AWS !== "*", `an Allow with a * principal: ${JSON.stringify(s)}`);
  }
});

test("queues, the topic, the log group and the environment are encrypted with a rotating key", () => {
  template.hasResourceProperties("AWS::Logs::LogGroup", { KmsKeyId: Match.anyValue() });
  template.hasResourceProperties("AWS::Lambda::Function", { KmsKeyArn: Match.anyValue() });
  template.hasResourceProperties("AWS::KMS::Key", { EnableKeyRotation: true });
  template.hasResourceProperties("AWS::SQS::Queue", { KmsMasterKeyId: Match.anyValue() });
  template.hasResourceProperties("AWS::SNS::Topic", { KmsMasterKeyId: Match.anyValue() });
});

test("alarms on errors, throttles and dead-letter depth", () => {
  template.resourceCountIs("AWS::CloudWatch::Alarm", 3);
});
