import { CfnOutput, CfnParameter, Duration, Fn, Stack } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as sns from "aws-cdk-lib/aws-sns";
import * as sqs from "aws-cdk-lib/aws-sqs";

/** The OpenSearch domain every stack writes to, as stack parameters. */
export interface Domain {
  readonly endpoint: string;
  readonly arn: string;
  /** The domain's region (from its ARN): functions sign for it even when deployed elsewhere. */
  readonly region: string;
}

/** The domain's parameters; `withEndpoint: false` when nothing in the stack calls the endpoint itself. */
export function domainParameters(stack: Stack, withEndpoint = true): Domain {
  const endpoint = withEndpoint
    ? new CfnParameter(stack, "OpenSearchEndpoint", {
        description: "https URL of the OpenSearch domain",
        allowedPattern: "^https://.+",
      }).valueAsString
    : "";
  const arn = new CfnParameter(stack, "OpenSearchDomainArn", {
    description: "ARN of the OpenSearch domain (arn:aws:es:region:account:domain/name)",
    allowedPattern: "^arn:aws[a-z-]*:es:[a-z0-9-]+:[0-9]{12}:domain/[a-z0-9-]+$",
  });
  return { endpoint, arn: arn.valueAsString, region: Fn.select(3, Fn.split(":", arn.valueAsString)) };
}

/** The environment of a function that writes through `_bulk` with SigV4. */
export function bulkEnvironment(domain: Domain, extra: Record<string, string>): Record<string, string> {
  return { OPENSEARCH_ENDPOINT: domain.endpoint, OPENSEARCH_SERVICE: "es", OPENSEARCH_REGION: domain.region, ...extra };
}

/**
 * Lets `fn` write documents and dead letters, and nothing else, through `_bulk`; outputs its role
 * as `<id>WriterRoleArn` for the fine-grained access control mapping.
 */
export function grantBulk(id: string, fn: lambda.IFunction, domain: Domain, indexPatterns: string[]): void {
  const patterns = [...indexPatterns, "seclog-deadletter-*"];
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ["es:ESHttpPost", "es:ESHttpPut"],
      resources: [`${domain.arn}/_bulk`, ...patterns.map((p) => `${domain.arn}/${p}`)],
    }),
  );
  writerRoleOutput(Stack.of(fn), id, fn.role!.roleArn, patterns);
}

/**
 * Outputs a role that writes into the domain: with fine-grained access control it must be mapped
 * as a backend role of the `seclog_writer` OpenSearch role (`seclog_firehose` for Firehose delivery
 * roles; README, "Fine-grained access control").
 */
export function writerRoleOutput(stack: Stack, id: string, roleArn: string, indexPatterns: string[], opensearchRole = "seclog_writer"): void {
  new CfnOutput(stack, `${id}WriterRoleArn`, {
    value: roleArn,
    description: `Writes ${indexPatterns.join(", ")}: map it as a backend role of the ${opensearchRole} OpenSearch role`,
  });
}

/** Alarms on a function's errors and throttles, and on its dead-letter queue's depth. */
export function functionAlarms(stack: Stack, id: string, fn: lambda.Function, dlq: sqs.IQueue | undefined, topic: sns.ITopic): void {
  const alarm = (name: string, metric: cloudwatch.IMetric) =>
    new cloudwatch.Alarm(stack, `${id}${name}`, {
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(new actions.SnsAction(topic));
  alarm("Errors", fn.metricErrors({ period: Duration.minutes(5) }));
  alarm("Throttles", fn.metricThrottles({ period: Duration.minutes(5) }));
  if (dlq) {
    alarm("DeadLetterDepth", dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }));
  }
}

/** Feature flags the app relies on (also for the tests' apps). */
export const FLAGS = {
  // Server access logs are granted by bucket policy, not the legacy LogDeliveryWrite ACL.
  "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": true,
};
