import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { FLAGS } from "../lib/common";

/** A package folder with an (empty) zip per function: these tests check templates, not the build. */
export function packages(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "seclog-pkg-"));
  for (const f of ["cloudtrail", "waf", "vpcflow", "route53", "securityhub", "detect", "s3"]) {
    fs.mkdirSync(path.join(dir, f));
    fs.writeFileSync(path.join(dir, f, "bootstrap.zip"), "");
  }
  fs.mkdirSync(path.join(dir, "enrich-layer", "seclog-enrich"), { recursive: true });
  fs.writeFileSync(path.join(dir, "enrich-layer", "seclog-enrich", "asn.mmdb"), "");
  return dir;
}

export function app(context: Record<string, string> = {}): App {
  return new App({ context: { ...FLAGS, ...context } });
}

/** Existing buckets for the `s3` function, as `scripts/infra-check` passes them. */
export const S3_SOURCES = [
  { bucket: "org-flow-logs", prefix: "AWSLogs/", kmsKeyArn: "arn:aws:kms:eu-west-1:111111111111:key/0f0f0f0f-0f0f-0f0f-0f0f-0f0f0f0f0f0f" },
  { bucket: "alb-access-logs" },
];

/** The whole app with every optional stack on, as `scripts/infra-check` synthesises it. */
export function wholeApp(): App {
  return app({
    packageDir: packages(),
    newDomain: "true",
    allowedCidrs: "203.0.113.0/24",
    s3DataEvents: "true",
    webAclArn: "arn:aws:wafv2:eu-west-1:111111111111:regional/webacl/app/0f0f0f0f-0f0f-0f0f-0f0f-0f0f0f0f0f0f",
    vpcId: "vpc-0123456789abcdef0",
    sourceAccounts: "222222222222,333333333333",
    centralRoleArn: "arn:aws:iam::111111111111:role/seclog-central-writer",
    allowedSignInCidrs: "198.51.100.0/24,192.0.2.7",
    s3Sources: JSON.stringify(S3_SOURCES),
  });
}

/** Every policy statement in the template (IAM, bucket, queue, topic, key policies). */
export function statements(template: Template): any[] {
  const found: any[] = [];
  const walk = (v: any) => {
    if (v && typeof v === "object") {
      if (Array.isArray(v.Statement)) found.push(...v.Statement);
      Object.values(v).forEach(walk);
    }
  };
  walk(template.toJSON().Resources);
  return found;
}

/** Writing documents; Firehose also describes the domain and reads a few documented paths. */
const ALLOWED_ES = ["es:ESHttpPost", "es:ESHttpPut", "es:ESHttpGet", "es:ESHttpHead", "es:DescribeDomain", "es:DescribeDomains", "es:DescribeDomainConfig"];

/**
 * Least privilege: no `*` action anywhere, OpenSearch only writes (and Firehose's checks), and a `*`
 * principal only in Deny statements (the TLS-only guards of `enforceSSL`).
 */
export function assertLeastPrivilege(template: Template): void {
  const all = statements(template);
  assert.ok(all.length > 0);
  for (const s of all) {
    const actions: string[] = [s.Action ?? []].flat();
    assert.ok(!actions.includes("*") && !actions.includes("es:*"), `a * action: ${JSON.stringify(s)}`);
    const es = actions.filter((a) => a.startsWith("es:"));
    assert.ok(es.every((a) => ALLOWED_ES.includes(a)), `OpenSearch actions: ${es}`);
    if (s.Effect === "Allow") {
      const p = s.Principal;
      assert.ok(p !== "*" && p?.AWS !== "*", `an Allow with a * principal: ${JSON.stringify(s)}`);
    }
  }
}
