import { App } from "aws-cdk-lib";
import { SecurityHubStack } from "../lib/securityhub-stack";

// Environment-agnostic: `cdk synth` runs offline, without credentials or lookups.
const app = new App();
new SecurityHubStack(app, "SeclogSecurityHub", {
  memorySize: Number(app.node.tryGetContext("memorySize") ?? 128),
  packageDir: app.node.tryGetContext("packageDir"),
});
app.synth();
