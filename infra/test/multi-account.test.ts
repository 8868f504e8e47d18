import { test } from "node:test";
import * as assert from "node:assert/strict";
import { Match, Template } from "aws-cdk-lib/assertions";
import { CentralWriterStack } from "../lib/central-writer-stack";
import { CloudTrailStack } from "../lib/cloudtrail-stack";
import { app, assertLeastPrivilege, packages } from "./helpers";

const central = Template.fromStack(new CentralWriterStack(app(), "C", { sourceAccounts: ["111111111111", "222222222222"] }));
const source = Template.fromStack(
  new CloudTrailStack(app(), "S", { packageDir: packages(), centralRoleArn: "arn:aws:iam::999999999999:role/seclog-central-writer" }),
);

test("the central role trusts only the source accounts' seclog-cloudtrail-source role", () => {
  const role = Object.values(central.findResources("AWS::IAM::Role"))[0] as any;
  const statements = role.Properties.AssumeRolePolicyDocument.Statement;
  assert.equal(statements.length, 2);
  for (const s of statements) {
    assert.equal(s.Action, "sts:AssumeRole");
    assert.ok(JSON.stringify(s.Condition).includes(":role/seclog-cloudtrail-source"), JSON.stringify(s));
  }
  assertLeastPrivilege(central);
});

test("the source function assumes the central role and has no OpenSearch permission of its own", () => {
  source.hasResourceProperties("AWS::IAM::Role", { RoleName: "seclog-cloudtrail-source" });
  source.hasResourceProperties("AWS::Lambda::Function", {
    Environment: {
      Variables: Match.objectLike({
        OPENSEARCH_ROLE_ARN: "arn:aws:iam::999999999999:role/seclog-central-writer",
        // The sessions it opens there are named seclog-cloudtrail-<this account>.
        SECLOG_FUNCTION: "cloudtrail",
        SECLOG_ACCOUNT_ID: { Ref: "AWS::AccountId" },
      }),
    },
  });
  const text = JSON.stringify(source.findResources("AWS::IAM::Policy"));
  assert.ok(text.includes("sts:AssumeRole"));
  assert.ok(!text.includes("es:ESHttp"), "writes only through the central role");
  assertLeastPrivilege(source);
});
