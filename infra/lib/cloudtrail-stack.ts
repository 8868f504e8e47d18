import { Duration, RemovalPolicy, Stack, StackProps } from "aws-cdk-lib";
import * as cloudtrail from "aws-cdk-lib/aws-cloudtrail";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as logs from "aws-cdk-lib/aws-logs";
import * as logsDestinations from "aws-cdk-lib/aws-logs-destinations";
import * as s3 from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import { accessLogBucket, alarmOnAny, alarmTopic, asyncFunction, domainParameters, functionAlarms, grantBulk, privateBucket } from "./common";
import { PackagingProps } from "./function";
import { letServiceUseKey } from "./keys";

export interface CloudTrailStackProps extends StackProps, PackagingProps {
  /** Addresses and CIDR ranges people sign in from (`ALLOWED_CIDRS`: the rule for sign-ins from elsewhere). */
  readonly allowedSignInCidrs?: string[];
  /** Retention of the trail's log group; default one year. */
  readonly logRetention?: logs.RetentionDays;
  /** Also log S3 object-level (data) events of every bucket, as the lab does. */
  readonly s3DataEvents?: boolean;
  /**
   * A source account of a multi-account organisation: the function writes to the central account's
   * domain by assuming this role (see `CentralWriterStack`), under the fixed role name
   * `seclog-cloudtrail-source` that the central trust policy names.
   */
  readonly centralRoleArn?: string;
  /**
   * The cheaper setup: the trail writes to its S3 bucket only (no CloudWatch Logs group, no
   * `cloudtrail` function, no metric-filter alarms); the `s3` function (`SeclogS3`) reads the bucket.
   */
  readonly s3Only?: boolean;
}

/** The role name a source account's `cloudtrail` function runs as. */
export const SOURCE_ROLE_NAME = "seclog-cloudtrail-source";

/**
 * The CloudTrail pipeline: a multi-region trail (management events, read and write; optionally S3
 * data events) encrypted with its own key, its TLS-only, versioned, encrypted bucket, the encrypted
 * log group it also writes to, the subscription filter to the `cloudtrail` function, and the CIS-benchmark
 * alarms (console sign-in failures, root usage, security-group changes).
 */
export class CloudTrailStack extends Stack {
  /** The trail's bucket (the `s3` function reads it). */
  readonly bucket: s3.Bucket;
  /** The key the trail encrypts its log files with. */
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: CloudTrailStackProps = {}) {
    super(scope, id, props);
    const domain = domainParameters(this);
    const key = new kms.Key(this, "Key", { enableKeyRotation: true, description: "seclog CloudTrail: trail, bucket, logs, queues" });
    // CloudTrail encrypts log files with the key for this account's trails only (the key policy CloudTrail documents for this account's trails).
    letServiceUseKey(key, "cloudtrail.amazonaws.com", ["kms:GenerateDataKey*", "kms:DescribeKey"], {
      StringLike: { "kms:EncryptionContext:aws:cloudtrail:arn": `arn:${this.partition}:cloudtrail:*:${this.account}:trail/*` },
      StringEquals: { "aws:SourceAccount": this.account },
    });

    const bucket = privateBucket(this, "TrailBucket", key, accessLogBucket(this));
    this.bucket = bucket;
    this.key = key;
    const logGroup = props.s3Only
      ? undefined
      : new logs.LogGroup(this, "TrailLogs", {
          retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
          encryptionKey: key,
          removalPolicy: RemovalPolicy.RETAIN,
        });
    const trailName = "seclog";
    const trail = new cloudtrail.Trail(this, "Trail", {
      trailName,
      bucket,
      encryptionKey: key,
      sendToCloudWatchLogs: logGroup !== undefined,
      cloudWatchLogGroup: logGroup,
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
      enableFileValidation: true,
      managementEvents: cloudtrail.ReadWriteType.ALL,
    });
    // CDK's trail grants CloudTrail the bucket for any trail; hold both grants to this one
    // (`aws:SourceArn`, as CloudTrail's bucket-policy documentation recommends).
    const policy = bucket.policy!.node.defaultChild as s3.CfnBucketPolicy;
    const source = { "aws:SourceArn": `arn:${this.partition}:cloudtrail:${this.region}:${this.account}:trail/${trailName}` };
    policy.addPropertyOverride("PolicyDocument.Statement.1.Condition", { StringEquals: source });
    policy.addPropertyOverride("PolicyDocument.Statement.2.Condition", { StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control", ...source } });
    if (props.s3DataEvents) {
      // `arn:<partition>:s3` selects the objects of every bucket in the account.
      trail.addEventSelector(cloudtrail.DataResourceType.S3_OBJECT, [`arn:${this.partition}:s3`], {
        readWriteType: cloudtrail.ReadWriteType.ALL,
        includeManagementEvents: false,
      });
    }

    if (!logGroup) {
      return;
    }
    const { fn, dlq } = asyncFunction(this, "cloudtrail", props, {
      key,
      domain,
      roleName: props.centralRoleArn ? SOURCE_ROLE_NAME : undefined,
      environment: {
        INDEX_PREFIX: "cloudtrail",
        ...(props.centralRoleArn ? { OPENSEARCH_ROLE_ARN: props.centralRoleArn } : {}),
        ...(props.allowedSignInCidrs?.length ? { ALLOWED_CIDRS: props.allowedSignInCidrs.join(",") } : {}),
      },
    });
    if (props.centralRoleArn) {
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ["sts:AssumeRole"], resources: [props.centralRoleArn] }));
    } else {
      grantBulk("Cloudtrail", fn, domain, ["cloudtrail-*"], "seclog_cloudtrail");
    }
    logGroup.addSubscriptionFilter("ToSeclog", {
      destination: new logsDestinations.LambdaDestination(fn),
      filterPattern: logs.FilterPattern.allEvents(),
    });

    const topic = alarmTopic(this, key);
    functionAlarms(this, "Cloudtrail", fn, dlq, topic);
    // Seed 004: metric filters on the trail's log group, each with an alarm to the topic.
    const watch = (name: string, pattern: logs.IFilterPattern) => {
      const filter = new logs.MetricFilter(this, `${name}Filter`, {
        logGroup,
        filterPattern: pattern,
        metricNamespace: "seclog/CloudTrail",
        metricName: name,
        metricValue: "1",
      });
      alarmOnAny(this, `${name}Alarm`, filter.metric({ statistic: "Sum", period: Duration.minutes(5) }), topic);
    };
    watch("ConsoleSignInFailures", logs.FilterPattern.literal('{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }'));
    watch("RootUsage", logs.FilterPattern.literal('{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'));
    watch(
      "SecurityGroupChanges",
      logs.FilterPattern.literal(
        "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }",
      ),
    );
  }
}
