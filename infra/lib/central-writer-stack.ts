import { Stack, StackProps } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";
import { SOURCE_ROLE_NAME } from "./cloudtrail-stack";
import { bulkResources, domainParameters, writerRoleOutput } from "./common";

export interface CentralWriterStackProps extends StackProps {
  /** The accounts whose `cloudtrail` functions write here. */
  readonly sourceAccounts: string[];
}

/**
 * The central account's side of multi-account delivery: a role that each source
 * account's `cloudtrail` function (role `seclog-cloudtrail-source`) assumes to write `cloudtrail-*`
 * documents and dead letters into the central domain. With fine-grained access control, map this
 * role as a backend role of `seclog_cloudtrail` (`infra/opensearch/seclog_cloudtrail.json`).
 */
export class CentralWriterStack extends Stack {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: CentralWriterStackProps) {
    super(scope, id, props);
    const domain = domainParameters(this, false);
    if (props.sourceAccounts.length === 0) {
      throw new Error("CentralWriterStack needs at least one source account");
    }
    // Trust the accounts, narrowed to the one role name: naming the role itself would fail while
    // the source stack is not yet deployed.
    const trusted = props.sourceAccounts.map((account) =>
      new iam.AccountPrincipal(account).withConditions({
        ArnEquals: { "aws:PrincipalArn": `arn:${this.partition}:iam::${account}:role/${SOURCE_ROLE_NAME}` },
      }),
    );
    this.role = new iam.Role(this, "Writer", {
      roleName: "seclog-central-writer",
      assumedBy: new iam.CompositePrincipal(...trusted),
      description: "Assumed by source accounts' seclog cloudtrail functions to write into the central domain",
    });
    const patterns = ["cloudtrail-*", "seclog-deadletter-*"];
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ["es:ESHttpPost"], resources: bulkResources(domain, patterns) }));
    writerRoleOutput(this, "Central", this.role.roleArn, patterns, "seclog_cloudtrail");
  }
}
