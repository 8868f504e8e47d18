import { Duration, Stack, StackProps } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as kms from "aws-cdk-lib/aws-kms";
import * as sns from "aws-cdk-lib/aws-sns";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { bulkEnvironment, domainParameters, functionAlarms, grantBulk } from "./common";
import { SeclogFunction } from "./function";

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
    const dlq = new sqs.Queue(this, "DeadLetters", {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const fn = new SeclogFunction(this, "Securityhub", {
      name: "securityhub",
      packageDir: props.packageDir,
      memorySize: props.memorySize,
      timeout: Duration.seconds(60),
      reservedConcurrency: 10,
      key,
      deadLetterQueue: dlq,
      environment: bulkEnvironment(domain, { INDEX_PREFIX: "securityhub" }),
    }).fn;
    fn.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(6) });
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
