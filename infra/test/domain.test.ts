import { test } from "node:test";
import * as assert from "node:assert/strict";
import { Match, Template } from "aws-cdk-lib/assertions";
import { DomainStack } from "../lib/domain-stack";
import { app, assertLeastPrivilege } from "./helpers";

const template = Template.fromStack(new DomainStack(app(), "D", { allowedCidrs: ["203.0.113.0/24"] }));

test("the domain is encrypted at rest and in transit, HTTPS only with TLS 1.2, fine-grained access control", () => {
  template.hasResourceProperties("AWS::OpenSearchService::Domain", {
    EncryptionAtRestOptions: { Enabled: true, KmsKeyId: Match.anyValue() },
    NodeToNodeEncryptionOptions: { Enabled: true },
    DomainEndpointOptions: { EnforceHTTPS: true, TLSSecurityPolicy: "Policy-Min-TLS-1-2-2019-07" },
    AdvancedSecurityOptions: { Enabled: true, MasterUserOptions: { MasterUserARN: Match.anyValue() } },
  });
});

test("the access policy names the account, never *, and the allowed addresses", () => {
  const domain = Object.values(template.findResources("AWS::OpenSearchService::Domain"))[0] as any;
  const [statement] = domain.Properties.AccessPolicies.Statement;
  assert.notEqual(statement.Principal, "*");
  assert.notEqual(statement.Principal.AWS, "*");
  assert.deepEqual(statement.Condition, { IpAddress: { "aws:SourceIp": ["203.0.113.0/24"] } });
  assert.ok(![statement.Action].flat().includes("es:*"));
  assertLeastPrivilege(template);
});

test("the stack outputs the endpoint and ARN the other stacks take as parameters", () => {
  const outputs = template.findOutputs("*");
  assert.deepEqual(Object.keys(outputs).sort(), ["OpenSearchDomainArn", "OpenSearchEndpoint"]);
  assert.deepEqual(outputs.OpenSearchEndpoint.Value, { "Fn::Join": ["", ["https://", { "Fn::GetAtt": ["Domain", "DomainEndpoint"] }]] });
});
