import { CfnOutput, CfnParameter, RemovalPolicy, Stack, StackProps } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as logs from "aws-cdk-lib/aws-logs";
import * as opensearch from "aws-cdk-lib/aws-opensearchservice";
import { Construct } from "constructs";
import { letServiceUseKey } from "./keys";

export interface DomainStackProps extends StackProps {
  /** Addresses allowed to reach the domain over HTTPS (besides requiring signed requests). */
  readonly allowedCidrs?: string[];
}

/**
 * An optional new OpenSearch domain for the pipelines: fine-grained access control with an IAM
 * master role (a parameter), encryption at rest with its own key, node-to-node encryption, HTTPS
 * only with TLS 1.2, audit/application/slow logs, three dedicated masters across three zones. The
 * access policy admits signed requests of this account's principals (narrowed to the addresses
 * given, if any); never `Principal: *`. Users with an existing domain skip this stack and pass its
 * endpoint and ARN to the others. Written with the L1 resource: the L2 `Domain` adds
 * custom-resource Lambdas for its access and log policies.
 */
export class DomainStack extends Stack {
  readonly domain: opensearch.CfnDomain;

  constructor(scope: Construct, id: string, props: DomainStackProps = {}) {
    super(scope, id, props);
    const masterRole = new CfnParameter(this, "MasterRoleArn", {
      description: "IAM role that administers the domain (fine-grained access control master user)",
      allowedPattern: "^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$",
    });
    const domainName = "seclog";
    const domainArn = this.formatArn({ service: "es", resource: "domain", resourceName: domainName });
    const key = new kms.Key(this, "Key", { enableKeyRotation: true, description: "seclog OpenSearch domain" });
    // CloudWatch Logs encrypts the domain's log groups: for this account's log groups only.
    letServiceUseKey(key, `logs.${this.region}.amazonaws.com`, ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"], {
      ArnLike: { "kms:EncryptionContext:aws:logs:arn": `arn:${this.partition}:logs:${this.region}:${this.account}:log-group:*` },
    });
    const groups = ["AUDIT_LOGS", "ES_APPLICATION_LOGS", "SEARCH_SLOW_LOGS", "INDEX_SLOW_LOGS"].map(
      (kind) =>
        [
          kind,
          new logs.LogGroup(this, kind, { retention: logs.RetentionDays.THREE_MONTHS, encryptionKey: key, removalPolicy: RemovalPolicy.RETAIN }),
        ] as const,
    );
    const logPolicy = new logs.ResourcePolicy(this, "DomainCanLog", {
      policyStatements: [
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal("es.amazonaws.com")],
          actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
          resources: groups.map(([, g]) => g.logGroupArn),
          conditions: { StringEquals: { "aws:SourceAccount": this.account } },
        }),
      ],
    });
    const access = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          principals: [new iam.AccountRootPrincipal()],
          actions: ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut"],
          resources: [`${domainArn}/*`],
          conditions: props.allowedCidrs?.length ? { IpAddress: { "aws:SourceIp": props.allowedCidrs } } : undefined,
        }),
      ],
    });
    this.domain = new opensearch.CfnDomain(this, "Domain", {
      domainName,
      engineVersion: "OpenSearch_2.19",
      clusterConfig: {
        instanceCount: 3,
        instanceType: "r7g.large.search",
        dedicatedMasterEnabled: true,
        dedicatedMasterCount: 3,
        dedicatedMasterType: "m7g.large.search",
        zoneAwarenessEnabled: true,
        zoneAwarenessConfig: { availabilityZoneCount: 3 },
      },
      ebsOptions: { ebsEnabled: true, volumeSize: 100, volumeType: "gp3" },
      encryptionAtRestOptions: { enabled: true, kmsKeyId: key.keyId },
      nodeToNodeEncryptionOptions: { enabled: true },
      domainEndpointOptions: { enforceHttps: true, tlsSecurityPolicy: "Policy-Min-TLS-1-2-2019-07" },
      advancedSecurityOptions: {
        enabled: true,
        internalUserDatabaseEnabled: false,
        masterUserOptions: { masterUserArn: masterRole.valueAsString },
      },
      logPublishingOptions: Object.fromEntries(
        groups.map(([kind, g]) => [kind, { enabled: true, cloudWatchLogsLogGroupArn: g.logGroupArn }]),
      ),
      accessPolicies: access.toJSON(),
    });
    this.domain.node.addDependency(logPolicy);
    this.domain.applyRemovalPolicy(RemovalPolicy.RETAIN);
    // What the other stacks take as their OpenSearchEndpoint / OpenSearchDomainArn parameters.
    new CfnOutput(this, "OpenSearchEndpoint", { value: `https://${this.domain.attrDomainEndpoint}` });
    new CfnOutput(this, "OpenSearchDomainArn", { value: this.domain.attrArn });
  }
}
