import { CfnOutput, CfnParameter, Duration, Fn, RemovalPolicy, Stack } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as sns from "aws-cdk-lib/aws-sns";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { constructId, FunctionName, PackagingProps, packaging, SeclogFunction, SeclogFunctionProps } from "./function";
import { letServiceUseKey } from "./keys";

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
 * The `_bulk` paths of `patterns`: `POST /<index>/_bulk` only. The root `_bulk` is never granted:
 * there the index is named in the body, out of reach of IAM's resource patterns.
 */
export function bulkResources(domain: Domain, patterns: string[]): string[] {
  return patterns.map((p) => `${domain.arn}/${p}/_bulk`);
}

/**
 * Lets `fn` write documents and dead letters, and nothing else, through `POST /<index>/_bulk`;
 * outputs its role as `<id>WriterRoleArn` for the fine-grained access control mapping to
 * `opensearchRole` (one of `infra/opensearch/*.json`).
 */
export function grantBulk(id: string, fn: lambda.IFunction, domain: Domain, indexPatterns: string[], opensearchRole: string): void {
  const patterns = [...indexPatterns, "seclog-deadletter-*"];
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ["es:ESHttpPost"], resources: bulkResources(domain, patterns) }));
  writerRoleOutput(Stack.of(fn), id, fn.role!.roleArn, patterns, opensearchRole);
}

/**
 * Outputs a role that writes into the domain: with fine-grained access control it must be mapped
 * as a backend role of `opensearchRole`, whose definition is `infra/opensearch/<opensearchRole>.json`
 * (infra/README.md, "Fine-grained access control"): create and index on its own patterns, never update,
 * delete or manage.
 */
export function writerRoleOutput(stack: Stack, id: string, roleArn: string, indexPatterns: string[], opensearchRole: string): void {
  new CfnOutput(stack, `${id}WriterRoleArn`, {
    value: roleArn,
    description: `Writes ${indexPatterns.join(", ")}: map it as a backend role of the ${opensearchRole} OpenSearch role`,
  });
}

/**
 * The stack's alarm topic, encrypted with `key`. CloudWatch publishes to an encrypted topic only if
 * the key policy lets `cloudwatch.amazonaws.com` use the key (SNS developer guide, "Enable
 * compatibility between event sources from AWS services and encrypted topics"); the grant is limited
 * to this account's alarms in this region.
 */
export function alarmTopic(stack: Stack, key: kms.IKey): sns.Topic {
  letServiceUseKey(key, "cloudwatch.amazonaws.com", ["kms:Decrypt", "kms:GenerateDataKey*"], {
    StringEquals: { "aws:SourceAccount": stack.account },
    ArnLike: { "aws:SourceArn": `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*` },
  });
  return new sns.Topic(stack, "Alarms", { masterKey: key });
}

/** An alarm that fires on one occurrence in five minutes and notifies `topic`. */
export function alarmOnAny(stack: Stack, id: string, metric: cloudwatch.IMetric, topic: sns.ITopic): void {
  new cloudwatch.Alarm(stack, id, {
    metric,
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  }).addAlarmAction(new actions.SnsAction(topic));
}

/**
 * Alarms on a function's errors and throttles; with a dead-letter queue, on its depth and on
 * `DeadLetterErrors` (Lambda could not write a failed event to the queue: that event is lost).
 */
export function functionAlarms(stack: Stack, id: string, fn: lambda.Function, dlq: sqs.IQueue | undefined, topic: sns.ITopic): void {
  const period = Duration.minutes(5);
  alarmOnAny(stack, `${id}Errors`, fn.metricErrors({ period }), topic);
  alarmOnAny(stack, `${id}Throttles`, fn.metricThrottles({ period }), topic);
  if (dlq) {
    alarmOnAny(stack, `${id}DeadLetterDepth`, dlq.metricApproximateNumberOfMessagesVisible({ period }), topic);
    alarmOnAny(stack, `${id}DeadLetterErrors`, fn.metric("DeadLetterErrors", { period, statistic: "Sum" }), topic);
  }
}

/** Feature flags the app relies on (also for the tests' apps). */
export const FLAGS = {
  // Server access logs are granted by bucket policy, not the legacy LogDeliveryWrite ACL.
  "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": true,
};

/** The bucket that receives the other buckets' server access logs (TLS-only, private, versioned). */
export function accessLogBucket(stack: Stack): s3.Bucket {
  const bucket = new s3.Bucket(stack, "AccessLogs", {
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    versioned: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  (bucket.node.defaultChild as s3.CfnBucket).addMetadata("checkov", {
    skip: [{ id: "CKV_AWS_18", comment: "The access-log bucket itself: logging its own access would loop." }],
  });
  return bucket;
}

/** A private bucket: KMS-encrypted with `key`, TLS-only, versioned, access-logged, kept on stack deletion. */
export function privateBucket(stack: Stack, id: string, key: kms.IKey, accessLogs: s3.IBucket): s3.Bucket {
  return new s3.Bucket(stack, id, {
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: key,
    bucketKeyEnabled: true,
    enforceSSL: true,
    versioned: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    serverAccessLogsBucket: accessLogs,
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

/** What an asynchronously invoked function is given beside the stack's packaging. */
export interface AsyncFunctionProps extends Omit<SeclogFunctionProps, "name" | "deadLetterQueue" | "synchronous" | "timeout" | keyof PackagingProps> {
  /** The domain it writes to through `_bulk`: its `OPENSEARCH_*` variables join `environment`. */
  readonly domain: Domain;
}

/**
 * A function invoked asynchronously (a subscription filter, an EventBridge rule, a schedule) that
 * writes through `_bulk`: its KMS-encrypted, TLS-only dead-letter queue (`DeadLetters`, 14 days), two
 * Lambda retries within six hours. Lambda sends to the queue with the function's role, and SQS asks
 * every producer of an encrypted queue for `kms:GenerateDataKey` and `kms:Decrypt`: the role gets
 * exactly those on the queue's key.
 */
export function asyncFunction(
  stack: Stack,
  name: FunctionName,
  packaged: PackagingProps,
  { domain, environment, ...props }: AsyncFunctionProps,
): { fn: lambda.Function; dlq: sqs.Queue } {
  const dlq = new sqs.Queue(stack, "DeadLetters", {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: props.key,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  const fn = new SeclogFunction(stack, constructId(name), {
    ...packaging(packaged),
    ...props,
    name,
    environment: bulkEnvironment(domain, environment ?? {}),
    timeout: Duration.seconds(60),
    deadLetterQueue: dlq,
  }).fn;
  props.key.grant(fn, "kms:GenerateDataKey", "kms:Decrypt");
  fn.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(6) });
  return { fn, dlq };
}
