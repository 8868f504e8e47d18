import { Duration, Stack, StackProps } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as kms from "aws-cdk-lib/aws-kms";
import * as sns from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import { asyncFunction, bulkEnvironment, domainParameters, functionAlarms, grantBulk } from "./common";

export interface SecurityHubStackProps extends StackProps {
  /** Where the packaged zips are; default `../target/lambda`. */
  readonly packageDir?: string;
  readonly memorySize?: number;
}

/**
 * Security Hub and GuardDuty findings: an EventBridge rule → the `securityhub` function → the
 * OpenSearch domain given as parameters. Delivery failures go to an encrypted dead-letter queue
 * (the rule's target DLQ and the function's on-failure destination), watched by alarms.
 */
export class SecurityHubStack extends Stack {
  constructor(scope: Construct, id: string, props: SecurityHubStackProps = {}) {
    super(scope, id, props);
    const domain = domainParameters(this);

    const key = new kms.Key(this, "Key", { enableKeyRotation: true, description: "seclog securityhub queues and topic" });
    const { fn, dlq } = asyncFunction(this, "Securityhub", {
      name: "securityhub",
      packageDir: props.packageDir,
      memorySize: props.memorySize,
      reservedConcurrency: 10,
      key,
      environment: bulkEnvironment(domain, { INDEX_PREFIX: "securityhub" }),
    });
    grantBulk("Securityhub", fn, domain, ["securityhub-*"]);

    new events.Rule(this, "Findings", {
      description: "Security Hub imported findings and GuardDuty findings to seclog",
      eventPattern: {
        source: ["aws.securityhub", "aws.guardduty"],
        detailType: ["Security Hub Findings - Imported", "GuardDuty Finding"],
      },
      targets: [
        new targets.LambdaFunction(fn, {
          deadLetterQueue: dlq,
          retryAttempts: 8,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });

    const topic = new sns.Topic(this, "Alarms", { masterKey: key });
    functionAlarms(this, "Securityhub", fn, dlq, topic);
  }
}
