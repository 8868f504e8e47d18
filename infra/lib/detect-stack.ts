import { Duration, SecretValue, Stack, StackProps } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as scheduler from "aws-cdk-lib/aws-scheduler";
import * as schedulerTargets from "aws-cdk-lib/aws-scheduler-targets";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as sns from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import { alarmTopic, asyncFunction, domainParameters, functionAlarms, writerRoleOutput } from "./common";
import { PackagingProps } from "./function";

export interface DetectStackProps extends StackProps, PackagingProps {
  /** Addresses and CIDR ranges people sign in from (`ALLOWED_CIDRS`, `%Legitimate_IP_Ranges%`). */
  readonly allowedSignInCidrs?: string[];
  /** An existing secret holding the Slack webhook's URL; default: an empty secret this stack creates. */
  readonly slackSecretArn?: string;
  /** Minutes between runs; default 5. */
  readonly everyMinutes?: number;
}

/** The log families the alerter searches, and the family it writes. */
export const DETECT_READS = ["cloudtrail-*", "route53-resolver-*", "route53-public-*", "securityhub-*"];
export const ALERTS = "seclog-alerts-*";

/**
 * The alerter: EventBridge Scheduler runs the `detect` function every five minutes (reserved
 * concurrency 1). It searches the log families, creates alerts in `seclog-alerts-*` and marks them
 * sent; messages go to Slack (the webhook URL in a Secrets Manager secret) and to an SNS topic.
 * Failed runs go to an encrypted dead-letter queue after Lambda's retries, watched by alarms; the
 * next run catches up anyway (its window overlaps).
 */
export class DetectStack extends Stack {
  constructor(scope: Construct, id: string, props: DetectStackProps = {}) {
    super(scope, id, props);
    const domain = domainParameters(this);
    const key = new kms.Key(this, "Key", { enableKeyRotation: true, description: "seclog detect: queue, topics, secret" });

    const slack = props.slackSecretArn
      ? secretsmanager.Secret.fromSecretCompleteArn(this, "SlackWebhook", props.slackSecretArn)
      : new secretsmanager.Secret(this, "SlackWebhook", {
          description: "seclog: the Slack incoming webhook's URL for alerts (empty: no Slack messages)",
          encryptionKey: key,
          // Not a secret value: a placeholder the user replaces with the webhook's URL.
          secretStringValue: SecretValue.unsafePlainText(" "),
        });
    if (!props.slackSecretArn) {
      (slack.node.defaultChild as secretsmanager.CfnSecret).addMetadata("checkov", {
        skip: [{ id: "CKV2_AWS_57", comment: "A Slack webhook URL is issued by Slack; Secrets Manager cannot rotate it." }],
      });
    }
    const alerts = new sns.Topic(this, "AlertsTopic", { masterKey: key, displayName: "seclog alerts" });

    const { fn, dlq } = asyncFunction(this, "detect", props, {
      key,
      domain,
      environment: {
        ALERTS_PREFIX: "seclog",
        SLACK_WEBHOOK_SECRET_ARN: slack.secretArn,
        ALERTS_TOPIC_ARN: alerts.topicArn,
        ...(props.allowedSignInCidrs?.length ? { ALLOWED_CIDRS: props.allowedSignInCidrs.join(",") } : {}),
      },
    });
    slack.grantRead(fn);
    alerts.grantPublish(fn);

    // Search the families it reads and its alerts; create alerts (and dead letters) through their
    // own `_bulk`, mark them sent through `_update`, refresh them. Never delete or manage.
    const on = (pattern: string, path: string) => `${domain.arn}/${pattern}/${path}`;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["es:ESHttpPost"],
        resources: [
          ...[...DETECT_READS, ALERTS].map((p) => on(p, "_search")),
          on(ALERTS, "_bulk"),
          on("seclog-deadletter-*", "_bulk"),
          on(ALERTS, "_update/*"),
          on(ALERTS, "_refresh"),
        ],
      }),
    );
    writerRoleOutput(this, "Detect", fn.role!.roleArn, [...DETECT_READS, ALERTS, "seclog-deadletter-*"], "seclog_detect");

    new scheduler.Schedule(this, "Schedule", {
      description: "seclog: one detection run",
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(props.everyMinutes ?? 5)),
      target: new schedulerTargets.LambdaInvoke(fn, { retryAttempts: 0 }),
    });

    const topic = alarmTopic(this, key);
    functionAlarms(this, "Detect", fn, dlq, topic);
  }
}
