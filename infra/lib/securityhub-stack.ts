import { Duration, Stack, StackProps } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as kms from "aws-cdk-lib/aws-kms";
import { Construct } from "constructs";
import { alarmOnAny, alarmTopic, asyncFunction, domainParameters, functionAlarms, grantBulk } from "./common";
import { PackagingProps } from "./function";
import { letServiceUseKey } from "./keys";

/** Security Hub findings have no Sigma rules: `rulesDir` is not read. */
export interface SecurityHubStackProps extends StackProps, Omit<PackagingProps, "rulesDir"> {}

/**
 * Security Hub and GuardDuty findings: an EventBridge rule → the `securityhub` function → the
 * OpenSearch domain given as parameters. Delivery failures go to an encrypted dead-letter queue
 * (the function's DLQ after Lambda's retries; the rule's target DLQ for events it could not hand to Lambda), watched by alarms.
 */
export class SecurityHubStack extends Stack {
  constructor(scope: Construct, id: string, props: SecurityHubStackProps = {}) {
    super(scope, id, props);
    const domain = domainParameters(this);

    const key = new kms.Key(this, "Key", { enableKeyRotation: true, description: "seclog securityhub queues and topic" });
    const { fn, dlq } = asyncFunction(this, "securityhub", props, {
      key,
      domain,
      environment: { INDEX_PREFIX: "securityhub" },
    });
    grantBulk("Securityhub", fn, domain, ["securityhub-*"], "seclog_securityhub");

    // A fixed name: the key policy below names the rule's ARN, and a reference to the rule would
    // make a cycle (key → rule → function → its role's policy → queue → key).
    const ruleName = "seclog-findings";
    new events.Rule(this, "Findings", {
      ruleName,
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

    // EventBridge writes to the target DLQ itself; the queue is encrypted, so the key must admit it,
    // for this rule only (EventBridge user guide, "Using dead-letter queues to process undelivered events").
    letServiceUseKey(key, "events.amazonaws.com", ["kms:GenerateDataKey", "kms:Decrypt"], { ArnEquals: { "aws:SourceArn": this.formatArn({ service: "events", resource: "rule", resourceName: ruleName }) } });

    const topic = alarmTopic(this, key);
    functionAlarms(this, "Securityhub", fn, dlq, topic);
    // A finding EventBridge could neither deliver nor dead-letter is lost: say so.
    const ruleMetric = (metricName: string) =>
      new cloudwatch.Metric({ namespace: "AWS/Events", metricName, dimensionsMap: { RuleName: ruleName }, statistic: "Sum", period: Duration.minutes(5) });
    alarmOnAny(this, "FindingsNotDeadLettered", ruleMetric("InvocationsFailedToBeSentToDlq"), topic);
    alarmOnAny(this, "FindingsDeadLettered", ruleMetric("InvocationsSentToDlq"), topic);
  }
}
