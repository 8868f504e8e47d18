import { Duration, Stack, StackProps } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as lambdaEvents from "aws-cdk-lib/aws-lambda-event-sources";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { alarmOnAny, alarmTopic, bulkEnvironment, domainParameters, functionAlarms, grantBulk } from "./common";
import { PackagingProps, packaging, SeclogFunction } from "./function";
import { letServiceUseKey } from "./keys";

/** A bucket AWS delivers logs to: notifications of its objects under `prefix` go to the `s3` function. */
export interface S3Source {
  readonly bucket: string;
  /** Default: the whole bucket. */
  readonly prefix?: string;
  /** The KMS key of an SSE-KMS bucket (the function may decrypt with it). */
  readonly kmsKeyArn?: string;
}

export interface S3StackProps extends StackProps, PackagingProps {
  /** Addresses and CIDR ranges people sign in from (`ALLOWED_CIDRS`). */
  readonly allowedSignInCidrs?: string[];
  /** The trail bucket of `SeclogCloudTrail` and its key. */
  readonly trail?: { readonly bucketName: string; readonly keyArn: string };
  /** Existing buckets (`-c s3Sources='[{"bucket":…,"prefix":…,"kmsKeyArn":…}]'`). */
  readonly sources?: S3Source[];
}

/**
 * The queue as a bucket's notification destination. S3 sends as its service principal, and an
 * encrypted queue asks every producer for its key: S3 may send to the queue and use the key for
 * this bucket of this account only (S3 user guide, "Granting permissions to publish event
 * notification messages to a destination"; SQS developer guide, key management).
 */
class QueueDestination implements s3.IBucketNotificationDestination {
  constructor(
    private readonly queue: sqs.Queue,
    private readonly key: kms.IKey,
  ) {}

  bind(scope: Construct, bucket: s3.IBucket): s3.BucketNotificationDestinationConfig {
    const conditions = { ArnLike: { "aws:SourceArn": bucket.bucketArn }, StringEquals: { "aws:SourceAccount": Stack.of(scope).account } };
    const s3Service = new iam.ServicePrincipal("s3.amazonaws.com");
    const { policyDependable } = this.queue.addToResourcePolicy(
      new iam.PolicyStatement({ principals: [s3Service], actions: ["sqs:SendMessage"], resources: [this.queue.queueArn], conditions }),
    );
    letServiceUseKey(this.key, s3Service.service, ["kms:GenerateDataKey", "kms:Decrypt"], conditions);
    // S3 checks that it may send when the notification is set: the policies come first.
    return { arn: this.queue.queueArn, type: s3.BucketNotificationDestinationType.QUEUE, dependencies: [...(policyDependable ? [policyDependable] : []), this.key] };
  }
}

/** The index families the function writes. */
export const S3_FAMILIES = ["cloudtrail-*", "vpcflow-*", "waf-*", "route53-resolver-*", "alb-*"];

/**
 * Logs delivered to S3: object-created notifications of each source bucket → an encrypted queue →
 * the `s3` function (partial batch responses), which reads each object and writes its documents.
 * A message that fails five times goes to the dead-letter queue, watched by an alarm; an object not
 * finished before the deadline continues in a message the function sends to its own queue.
 */
export class S3Stack extends Stack {
  constructor(scope: Construct, id: string, props: S3StackProps = {}) {
    super(scope, id, props);
    const domain = domainParameters(this);
    const key = new kms.Key(this, "Key", { enableKeyRotation: true, description: "seclog s3: notification queues and alarm topic" });
    const dlq = new sqs.Queue(this, "DeadLetters", {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    // Six times the function's timeout, as Lambda's SQS documentation advises for the visibility timeout.
    const timeout = Duration.minutes(5);
    const queue = new sqs.Queue(this, "Notifications", {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      visibilityTimeout: Duration.minutes(30),
      retentionPeriod: Duration.days(14),
      deadLetterQueue: { queue: dlq, maxReceiveCount: 5 },
    });
    const fn = new SeclogFunction(this, "S3", {
      name: "s3",
      ...packaging(props),
      timeout,
      key,
      synchronous: "An SQS event source invokes it synchronously; a message that fails five times moves to the queue's dead-letter queue",
      environment: bulkEnvironment(domain, {
        CONTINUATION_QUEUE_URL: queue.queueUrl,
        ...(props.allowedSignInCidrs?.length ? { ALLOWED_CIDRS: props.allowedSignInCidrs.join(",") } : {}),
      }),
    }).fn;
    fn.addEventSource(
      new lambdaEvents.SqsEventSource(queue, { batchSize: 10, maxBatchingWindow: Duration.seconds(10), reportBatchItemFailures: true }),
    );
    // Continuations: the function sends to its own queue (and so uses the queue's key).
    queue.grantSendMessages(fn);
    grantBulk("S3", fn, domain, S3_FAMILIES, "seclog_s3");

    const sources: S3Source[] = [
      ...(props.trail ? [{ bucket: props.trail.bucketName, prefix: "AWSLogs/", kmsKeyArn: props.trail.keyArn }] : []),
      ...(props.sources ?? []),
    ];
    sources.forEach((source, i) => {
      const bucket = s3.Bucket.fromBucketName(this, `Source${i}`, source.bucket);
      const filters = source.prefix ? [{ prefix: source.prefix }] : [];
      bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new QueueDestination(queue, key), ...filters);
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ["s3:GetObject", "s3:GetObjectVersion"], resources: [bucket.arnForObjects(`${source.prefix ?? ""}*`)] }));
      if (source.kmsKeyArn) {
        fn.addToRolePolicy(new iam.PolicyStatement({ actions: ["kms:Decrypt"], resources: [source.kmsKeyArn] }));
      }
    });
    // CDK's notification handler (it sets the notifications on buckets this stack does not own).
    const handler = this.node.tryFindChild("BucketNotificationsHandler050a0587b7544547bf325f094a3db834") as Construct | undefined;
    handler?.node.findAll().forEach((c) => {
      if ((c as any).cfnResourceType === "AWS::Lambda::Function") {
        (c as any).addMetadata("checkov", {
          skip: [
            { id: "CKV_AWS_115", comment: "CDK's custom-resource handler, run by CloudFormation on deploy only." },
            { id: "CKV_AWS_116", comment: "CDK's custom-resource handler: CloudFormation handles its failures." },
            { id: "CKV_AWS_117", comment: "CDK's custom-resource handler calls the S3 API only." },
          ],
        });
      }
    });

    const topic = alarmTopic(this, key);
    functionAlarms(this, "S3", fn, undefined, topic);
    alarmOnAny(this, "S3DeadLetterDepth", dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }), topic);
  }
}
