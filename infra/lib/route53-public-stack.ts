import { CfnOutput, Stack, StackProps } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as logs from "aws-cdk-lib/aws-logs";
import * as logsDestinations from "aws-cdk-lib/aws-logs-destinations";
import { Construct } from "constructs";
import { alarmTopic, asyncFunction, domainParameters, functionAlarms, grantBulk } from "./common";
import { PackagingProps } from "./function";

export interface Route53PublicStackProps extends StackProps, PackagingProps {
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Route 53 public hosted-zone query logs. Route 53 writes them only to CloudWatch Logs in
 * us-east-1, so this stack must be deployed there: the log group (`/aws/route53/seclog`), the
 * resource policy that lets Route 53 write to it, and its subscription to a `route53` function
 * that indexes into `route53-public-*`. Point each zone at the group with
 * `aws route53 create-query-logging-config --hosted-zone-id Z… --cloud-watch-logs-log-group-arn <LogGroupArn>`.
 */
export class Route53PublicStack extends Stack {
  constructor(scope: Construct, id: string, props: Route53PublicStackProps = {}) {
    super(scope, id, { ...props, env: { ...props.env, region: "us-east-1" } });
    const domain = domainParameters(this);
    const key = new kms.Key(this, "Key", { enableKeyRotation: true, description: "seclog Route 53 public query logs" });
    const logGroup = new logs.LogGroup(this, "QueryLogs", {
      logGroupName: "/aws/route53/seclog",
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      encryptionKey: key,
    });
    new CfnOutput(this, "QueryLogGroupArn", {
      value: logGroup.logGroupArn,
      description: "aws route53 create-query-logging-config --hosted-zone-id Z… --cloud-watch-logs-log-group-arn <this>",
    });
    new logs.ResourcePolicy(this, "Route53CanWrite", {
      resourcePolicyName: "seclog-route53-query-logs",
      policyStatements: [
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal("route53.amazonaws.com")],
          actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
          resources: [logGroup.logGroupArn],
          conditions: { StringEquals: { "aws:SourceAccount": this.account } },
        }),
      ],
    });
    const { fn, dlq } = asyncFunction(this, "route53", props, {
      key,
      domain,
      environment: { PUBLIC_INDEX_PREFIX: "route53-public" },
    });
    grantBulk("Route53", fn, domain, ["route53-public-*", "route53-resolver-*"], "seclog_route53");
    logGroup.addSubscriptionFilter("ToSeclog", {
      destination: new logsDestinations.LambdaDestination(fn),
      filterPattern: logs.FilterPattern.allEvents(),
    });
    functionAlarms(this, "Route53", fn, dlq, alarmTopic(this, key));
  }
}
