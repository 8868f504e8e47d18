import { App, Stack } from "aws-cdk-lib";
import * as logs from "aws-cdk-lib/aws-logs";
import { CentralWriterStack } from "./central-writer-stack";
import { CloudTrailStack } from "./cloudtrail-stack";
import { DetectStack } from "./detect-stack";
import { DomainStack } from "./domain-stack";
import { FirehoseStack } from "./firehose-stack";
import { Route53PublicStack } from "./route53-public-stack";
import { S3Source, S3Stack } from "./s3-stack";
import { SecurityHubStack } from "./securityhub-stack";

/** A comma-separated context value as a list. */
function list(app: App, key: string): string[] {
  return String(app.node.tryGetContext(key) ?? "")
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v);
}

/**
 * Every stack of the app, chosen by context (`-c key=value`; see infra/README.md):
 * `packageDir`, `memorySize`, `logRetentionDays`, `s3DataEvents`, `webAclArn`, `vpcId`, `buffering`,
 * `newDomain`, `allowedCidrs`, `sourceAccounts`, `centralRoleArn`, `allowedSignInCidrs`, `slackSecretArn`, `rulesDir`,
 * `s3Sources`, `trailToS3Only`. Environment-agnostic: `cdk synth` runs offline, without
 * credentials or lookups.
 */
export function addStacks(app: App): Stack[] {
  const flag = (key: string) => String(app.node.tryGetContext(key)) === "true";
  const common = {
    memorySize: Number(app.node.tryGetContext("memorySize") ?? 128),
    packageDir: app.node.tryGetContext("packageDir"),
  };
  const retention = app.node.tryGetContext("logRetentionDays");
  if (retention !== undefined && !Object.values(logs.RetentionDays).includes(Number(retention))) {
    throw new Error(`logRetentionDays=${retention} is not a retention CloudWatch Logs offers (1, 3, 5, 7, 14, 30, 60, 90, … 3653)`);
  }
  const logRetention = retention === undefined ? undefined : (Number(retention) as logs.RetentionDays);
  const buffering = app.node.tryGetContext("buffering");
  const signIns = list(app, "allowedSignInCidrs");
  // Your own Sigma rules, as a layer on every function that evaluates rules.
  const rulesDir: string | undefined = app.node.tryGetContext("rulesDir") || undefined;
  const stacks: Stack[] = [];
  if (flag("newDomain")) {
    stacks.push(new DomainStack(app, "SeclogDomain", { allowedCidrs: list(app, "allowedCidrs") }));
  }
  const trail = new CloudTrailStack(app, "SeclogCloudTrail", {
    ...common,
    logRetention,
    s3DataEvents: flag("s3DataEvents"),
    allowedSignInCidrs: signIns,
    rulesDir,
    s3Only: flag("trailToS3Only"),
  });
  // e.g. -c s3Sources='[{"bucket":"org-logs","prefix":"AWSLogs/","kmsKeyArn":"arn:aws:kms:…"}]'
  const s3Sources = app.node.tryGetContext("s3Sources");
  stacks.push(
    trail,
    new S3Stack(app, "SeclogS3", {
      ...common,
      rulesDir,
      allowedSignInCidrs: signIns,
      trail: { bucketName: trail.bucket.bucketName, keyArn: trail.key.keyArn },
      sources: (typeof s3Sources === "string" ? JSON.parse(s3Sources) : s3Sources ?? []) as S3Source[],
    }),
    new FirehoseStack(app, "SeclogFirehose", {
      ...common,
      webAclArn: app.node.tryGetContext("webAclArn"),
      vpcId: app.node.tryGetContext("vpcId"),
      // e.g. -c buffering='{"waf":{"processorMb":2,"destinationSeconds":300}}'
      buffering: typeof buffering === "string" ? JSON.parse(buffering) : buffering,
      rulesDir,
    }),
    new Route53PublicStack(app, "SeclogRoute53Public", { ...common, rulesDir }),
    new SecurityHubStack(app, "SeclogSecurityHub", common),
    new DetectStack(app, "SeclogDetect", {
      ...common,
      allowedSignInCidrs: signIns,
      rulesDir,
      slackSecretArn: app.node.tryGetContext("slackSecretArn"),
    }),
  );
  // Multi-account: `sourceAccounts` (in the central account) adds the writer role those accounts
  // assume; `centralRoleArn` (in a source account) adds a CloudTrail stack that writes through it.
  const sources = list(app, "sourceAccounts");
  if (sources.length > 0) {
    stacks.push(new CentralWriterStack(app, "SeclogCentralWriter", { sourceAccounts: sources }));
  }
  const centralRoleArn = app.node.tryGetContext("centralRoleArn");
  if (centralRoleArn) {
    stacks.push(new CloudTrailStack(app, "SeclogSourceCloudTrail", { ...common, logRetention, centralRoleArn, allowedSignInCidrs: signIns, rulesDir }));
  }
  return stacks;
}
