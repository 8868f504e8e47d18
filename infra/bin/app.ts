import { App } from "aws-cdk-lib";
import { CentralWriterStack } from "../lib/central-writer-stack";
import { CloudTrailStack } from "../lib/cloudtrail-stack";
import { FLAGS } from "../lib/common";
import { DomainStack } from "../lib/domain-stack";
import { FirehoseStack } from "../lib/firehose-stack";
import { Route53PublicStack } from "../lib/route53-public-stack";
import { SecurityHubStack } from "../lib/securityhub-stack";

// Environment-agnostic: `cdk synth` runs offline, without credentials or lookups.
const app = new App({ context: FLAGS });
const common = {
  memorySize: Number(app.node.tryGetContext("memorySize") ?? 128),
  packageDir: app.node.tryGetContext("packageDir"),
};
if (app.node.tryGetContext("newDomain") === "true") {
  const cidrs = String(app.node.tryGetContext("allowedCidrs") ?? "").split(",").filter((c) => c.trim());
  new DomainStack(app, "SeclogDomain", { allowedCidrs: cidrs });
}
new CloudTrailStack(app, "SeclogCloudTrail", { ...common, s3DataEvents: app.node.tryGetContext("s3DataEvents") === "true" });
new FirehoseStack(app, "SeclogFirehose", {
  ...common,
  webAclArn: app.node.tryGetContext("webAclArn"),
  vpcId: app.node.tryGetContext("vpcId"),
});
new Route53PublicStack(app, "SeclogRoute53Public", common);
new SecurityHubStack(app, "SeclogSecurityHub", common);

// Multi-account: `-c sourceAccounts=111111111111,222222222222` adds the central writer role;
// `-c centralRoleArn=arn:aws:iam::<central>:role/seclog-central-writer` synthesises a source
// account's CloudTrail stack that writes through it.
const sources = String(app.node.tryGetContext("sourceAccounts") ?? "").split(",").filter((a) => a.trim());
if (sources.length > 0) {
  new CentralWriterStack(app, "SeclogCentralWriter", { sourceAccounts: sources });
}
const centralRoleArn = app.node.tryGetContext("centralRoleArn");
if (centralRoleArn) {
  new CloudTrailStack(app, "SeclogSourceCloudTrail", { ...common, centralRoleArn });
}
app.synth();
