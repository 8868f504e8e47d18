import { Duration, Stack, StackProps } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as firehose from "aws-cdk-lib/aws-kinesisfirehose";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import * as route53resolver from "aws-cdk-lib/aws-route53resolver";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as wafv2 from "aws-cdk-lib/aws-wafv2";
import { Construct } from "constructs";
import { Domain, accessLogBucket, alarmTopic, domainParameters, functionAlarms, privateBucket, writerRoleOutput } from "./common";
import { constructId, FunctionName, PackagingProps, packaging, SeclogFunction } from "./function";
import { letServiceUseKey } from "./keys";

/** Buffering of one stream: the processor's input per invocation, and the destination's. */
export interface Buffering {
  /** Lambda processor input, 0.2–3 MB (vpcflow answers are ~11× their lines: keep it ≤ 0.5). */
  readonly processorMb: number;
  readonly processorSeconds: number;
  /** Delivery to OpenSearch. */
  readonly destinationMb: number;
  readonly destinationSeconds: number;
}

export interface FirehoseStackProps extends StackProps, PackagingProps {
  /** The web ACL to log (WAF logging configuration); none when absent. */
  readonly webAclArn?: string;
  /** The VPC whose flow logs and Resolver query logs to ship; none when absent. */
  readonly vpcId?: string;
  readonly buffering?: Partial<Record<"waf" | "vpcflow" | "route53", Partial<Buffering>>>;
}

const DEFAULTS: Record<"waf" | "vpcflow" | "route53", Buffering> = {
  waf: { processorMb: 1, processorSeconds: 60, destinationMb: 5, destinationSeconds: 60 },
  vpcflow: { processorMb: 0.5, processorSeconds: 60, destinationMb: 5, destinationSeconds: 60 },
  route53: { processorMb: 1, processorSeconds: 60, destinationMb: 5, destinationSeconds: 60 },
};

/**
 * WAF logs, VPC Flow Logs and Route 53 Resolver query logs: one Firehose stream each, delivering to
 * the OpenSearch domain with the matching function as its data-transformation processor, failed
 * documents backed up to an encrypted, TLS-only bucket; and the sources pointed at the streams.
 */
export class FirehoseStack extends Stack {
  /** The streams by function. */
  readonly streams: Record<string, firehose.CfnDeliveryStream> = {};

  constructor(scope: Construct, id: string, props: FirehoseStackProps = {}) {
    super(scope, id, props);
    const domain = domainParameters(this, false);
    const key = new kms.Key(this, "Key", { enableKeyRotation: true, description: "seclog Firehose streams, backups, logs" });
    // VPC Flow Logs deliver to the stream through `delivery.logs`: for this account's log deliveries only.
    letServiceUseKey(key, "delivery.logs.amazonaws.com", ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"], {
      StringEquals: { "aws:SourceAccount": this.account },
      ArnLike: { "aws:SourceArn": `arn:${this.partition}:logs:${this.region}:${this.account}:*` },
    });
    const backup = privateBucket(this, "FailedDocuments", key, accessLogBucket(this));
    const deliveryLogs = new logs.LogGroup(this, "DeliveryLogs", { retention: logs.RetentionDays.ONE_MONTH, encryptionKey: key });
    const topic = alarmTopic(this, key);

    const stream = (fnName: "waf" | "vpcflow" | "route53", streamName: string, index: string) => {
      const buffering = { ...DEFAULTS[fnName], ...props.buffering?.[fnName] };
      const streamArn = this.formatArn({ service: "firehose", resource: "deliverystream", resourceName: streamName });
      const fn = new SeclogFunction(this, `${constructId(fnName)}`, {
        name: fnName as FunctionName,
        ...packaging(props),
        timeout: Duration.minutes(1),
        synchronous: "Firehose invokes its processor synchronously and handles failures itself (retries, then its S3 error output)",
        key,
        environment: { RECORD_DELIMITER: "none" },
        // The DNS rules read Resolver queries; WAF and VPC records have no rules.
        rulesDir: fnName === "route53" ? props.rulesDir : undefined,
      }).fn;
      // Records that do not fit the 6 MB answer are put back into the stream they came from.
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ["firehose:PutRecordBatch"], resources: [streamArn] }));
      functionAlarms(this, constructId(fnName), fn, undefined, topic);
      const role = deliveryRole(this, `${constructId(fnName)}Delivery`, { domain, index, fn, backup, key, deliveryLogs, opensearchRole: `seclog_firehose_${fnName === "route53" ? "route53_resolver" : fnName}` });
      const s = new firehose.CfnDeliveryStream(this, `${constructId(fnName)}Stream`, {
        deliveryStreamName: streamName,
        deliveryStreamType: "DirectPut",
        deliveryStreamEncryptionConfigurationInput: { keyType: "CUSTOMER_MANAGED_CMK", keyArn: key.keyArn },
        amazonopensearchserviceDestinationConfiguration: {
          domainArn: domain.arn,
          indexName: index,
          indexRotationPeriod: "OneDay",
          roleArn: role.roleArn,
          bufferingHints: { sizeInMBs: buffering.destinationMb, intervalInSeconds: buffering.destinationSeconds },
          retryOptions: { durationInSeconds: 300 },
          s3BackupMode: "FailedDocumentsOnly",
          s3Configuration: {
            bucketArn: backup.bucketArn,
            roleArn: role.roleArn,
            prefix: `${index}/`,
            errorOutputPrefix: `${index}-errors/!{firehose:error-output-type}/`,
            compressionFormat: "GZIP",
            encryptionConfiguration: { kmsEncryptionConfig: { awskmsKeyArn: key.keyArn } },
          },
          processingConfiguration: {
            enabled: true,
            processors: [
              {
                type: "Lambda",
                parameters: [
                  { parameterName: "LambdaArn", parameterValue: fn.functionArn },
                  { parameterName: "BufferSizeInMBs", parameterValue: String(buffering.processorMb) },
                  { parameterName: "BufferIntervalInSeconds", parameterValue: String(buffering.processorSeconds) },
                ],
              },
            ],
          },
          cloudWatchLoggingOptions: { enabled: true, logGroupName: deliveryLogs.logGroupName, logStreamName: streamName },
        },
      });
      s.node.addDependency(role);
      this.streams[fnName] = s;
      return streamArn;
    };

    // WAF requires its log destinations to be named aws-waf-logs-*.
    const wafStream = stream("waf", "aws-waf-logs-seclog", "waf");
    const vpcStream = stream("vpcflow", "seclog-vpcflow", "vpcflow");
    const resolverStream = stream("route53", "seclog-route53-resolver", "route53-resolver");

    if (props.webAclArn) {
      new wafv2.CfnLoggingConfiguration(this, "WafLogging", { resourceArn: props.webAclArn, logDestinationConfigs: [wafStream] });
    }
    if (props.vpcId) {
      new ec2.CfnFlowLog(this, "FlowLog", {
        resourceId: props.vpcId,
        resourceType: "VPC",
        trafficType: "ALL",
        logDestinationType: "kinesis-data-firehose",
        logDestination: vpcStream,
        maxAggregationInterval: 60,
      });
      const config = new route53resolver.CfnResolverQueryLoggingConfig(this, "ResolverQueryLogs", {
        name: "seclog",
        destinationArn: resolverStream,
      });
      new route53resolver.CfnResolverQueryLoggingConfigAssociation(this, "ResolverQueryLogsVpc", {
        resolverQueryLogConfigId: config.attrId,
        resourceId: props.vpcId,
      });
    }
  }
}

interface DeliveryRoleProps {
  readonly domain: Domain;
  readonly index: string;
  readonly fn: lambda.IFunction;
  readonly backup: s3.IBucket;
  readonly key: kms.IKey;
  readonly deliveryLogs: logs.ILogGroup;
  readonly opensearchRole: string;
}

/**
 * Firehose's role: invoke its processor, put failed documents under its own prefixes of the backup
 * bucket (put only: it never reads, lists or deletes there), use the key, write its log group, and
 * the domain: describe it, read what Firehose checks before delivering, post `_bulk`.
 */
function deliveryRole(scope: Construct, id: string, props: DeliveryRoleProps): iam.Role {
  const { domain, index, fn, backup, key, deliveryLogs } = props;
  const role = new iam.Role(scope, id, { assumedBy: new iam.ServicePrincipal("firehose.amazonaws.com") });
  role.addToPolicy(new iam.PolicyStatement({ actions: ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"], resources: [fn.functionArn] }));
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ["s3:PutObject", "s3:AbortMultipartUpload"],
      resources: [backup.arnForObjects(`${index}/*`), backup.arnForObjects(`${index}-errors/*`)],
    }),
  );
  role.addToPolicy(new iam.PolicyStatement({ actions: ["s3:GetBucketLocation"], resources: [backup.bucketArn] }));
  key.grant(role, "kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt");
  deliveryLogs.grantWrite(role);
  role.addToPolicy(
    new iam.PolicyStatement({ actions: ["es:DescribeDomain", "es:DescribeDomains", "es:DescribeDomainConfig"], resources: [domain.arn, `${domain.arn}/*`] }),
  );
  // Firehose posts to the root `_bulk` (AWS's documented delivery-role policy); fine-grained access
  // control (`seclog_firehose_*`: its own pattern, create only) is what keeps it to its index.
  role.addToPolicy(new iam.PolicyStatement({ actions: ["es:ESHttpPost", "es:ESHttpPut"], resources: [`${domain.arn}/_bulk`, `${domain.arn}/${index}-*`] }));
  // What Firehose reads to check the domain before delivering (AWS's documented list).
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ["es:ESHttpGet"],
      resources: ["_all/_settings", "_cluster/stats", `${index}*/_mapping/*`, "_nodes", "_nodes/stats", "_nodes/*/stats", "_stats", `${index}*/_stats`, "_all/_mapping"].map(
        (p) => `${domain.arn}/${p}`,
      ),
    }),
  );
  writerRoleOutput(Stack.of(scope), id, role.roleArn, [`${index}-*`], props.opensearchRole);
  return role;
}
