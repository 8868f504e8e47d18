import * as path from "node:path";
import * as fs from "node:fs";
import { ArnFormat, DockerImage, Duration, Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as sqs from "aws-cdk-lib/aws-sqs";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { letServiceUseKey } from "./keys";

/** The functions `scripts/package` builds (`target/lambda/<name>/bootstrap.zip`). */
export type FunctionName = "cloudtrail" | "waf" | "vpcflow" | "route53" | "securityhub" | "detect" | "s3";

/** What every stack hands its functions: where the zips are, their memory, the user's own rules. */
export interface PackagingProps {
  /** Where the packaged zips are; default `../target/lambda`. */
  readonly packageDir?: string;
  readonly memorySize?: number;
  /** A folder of your own Sigma rules, shipped as a layer beside the bundled ones (`-c rulesDir=`, `DETECTION_RULES_DIR`). */
  readonly rulesDir?: string;
}

/**
 * How many of each function may run at once: enough for a region's bursts, and a ceiling that keeps
 * one function from taking the account's whole concurrency. The alerter runs alone, so that two
 * schedules never race on one alert.
 */
export const RESERVED_CONCURRENCY: Record<FunctionName, number> = {
  cloudtrail: 20,
  waf: 10,
  vpcflow: 10,
  route53: 10,
  securityhub: 10,
  detect: 1,
  s3: 10,
};

/** A function's construct id: its name, capitalised (`Route53`, `Securityhub`). */
export function constructId(name: FunctionName): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** The packaging of a stack's props, to spread into its functions' props. */
export function packaging(props: PackagingProps): PackagingProps {
  return { packageDir: props.packageDir, memorySize: props.memorySize, rulesDir: props.rulesDir };
}

export interface SeclogFunctionProps extends PackagingProps {
  readonly name: FunctionName;
  readonly timeout: Duration;
  readonly environment?: Record<string, string>;
  readonly logRetention?: logs.RetentionDays;
  /** Encrypts the log group and the environment. */
  readonly key: kms.IKey;
  /** Where failed asynchronous invocations go (after Lambda's two retries). */
  readonly deadLetterQueue?: sqs.IQueue;
  /**
   * Invoked synchronously, with who handles failures instead of a DLQ (a Firehose processor: Firehose;
   * an SQS event source: the queue's redrive policy).
   */
  readonly synchronous?: string;
  /** A fixed name for the function's role (one another account's trust policy can name). */
  readonly roleName?: string;
}

/** Where Lambda mounts the user's rules layer; the functions read it through `DETECTION_RULES_DIR`. */
export const RULES_MOUNT = "/opt/seclog-rules";

/** The rule files the functions read from a folder: its own `*.yml` and `*.yaml`, not sub-folders. */
export function ruleFiles(dir: string): string[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new Error(`rulesDir=${dir} is not a folder (it should hold your Sigma rules, *.yml)`);
  }
  const files = fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f) && fs.statSync(path.join(dir, f)).isFile())
    .sort();
  if (files.length === 0) {
    throw new Error(`rulesDir=${dir} holds no *.yml or *.yaml rule (sub-folders are not read)`);
  }
  return files;
}

/**
 * The user's Sigma rules as one layer per stack, mounted at `/opt/seclog-rules`. Only the files the
 * functions read are copied (no Docker: a local copy). Check them first with
 * `seclog rules list --rules <dir>`: a rule that cannot load is skipped with a warning at cold start.
 */
function rulesLayer(stack: Stack, rulesDir: string): lambda.ILayerVersion {
  const existing = stack.node.tryFindChild("DetectionRules") as lambda.ILayerVersion | undefined;
  if (existing) {
    return existing;
  }
  const dir = path.resolve(rulesDir);
  const files = ruleFiles(dir);
  const copy = {
    tryBundle(outputDir: string): boolean {
      const target = path.join(outputDir, path.basename(RULES_MOUNT));
      fs.mkdirSync(target, { recursive: true });
      for (const f of files) {
        fs.copyFileSync(path.join(dir, f), path.join(target, f));
      }
      return true;
    },
  };
  return new lambda.LayerVersion(stack, "DetectionRules", {
    code: lambda.Code.fromAsset(dir, { bundling: { image: DockerImage.fromRegistry("scratch"), local: copy } }),
    compatibleArchitectures: [lambda.Architecture.ARM_64],
    compatibleRuntimes: [lambda.Runtime.PROVIDED_AL2023],
    description: `seclog detection rules of your own (${files.length} files), beside the bundled SigmaHQ and seclog rules`,
  });
}

/**
 * The enrichment data (GeoIP city and ASN databases, AWS ranges, their licences) as one layer per
 * stack: `scripts/package` writes `<packageDir>/enrich-layer/seclog-enrich/`, which Lambda mounts at
 * `/opt/seclog-enrich`, where the functions look by default.
 */
function enrichmentLayer(stack: Stack, packageDir: string): lambda.ILayerVersion {
  const existing = stack.node.tryFindChild("EnrichmentData") as lambda.ILayerVersion | undefined;
  if (existing) {
    return existing;
  }
  const dir = path.join(packageDir, "enrich-layer");
  if (!fs.existsSync(path.join(dir, "seclog-enrich"))) {
    throw new Error(`${dir}/seclog-enrich is missing: run scripts/package first`);
  }
  return new lambda.LayerVersion(stack, "EnrichmentData", {
    code: lambda.Code.fromAsset(dir),
    compatibleArchitectures: [lambda.Architecture.ARM_64],
    compatibleRuntimes: [lambda.Runtime.PROVIDED_AL2023],
    description: "seclog enrichment data: DB-IP City Lite and ASN (CC BY 4.0, db-ip.com), RouteViews/NRO ASNs, AWS ip-ranges",
  });
}

/** One seclog function: provided.al2023, arm64, JSON logs, its own log group. */
export class SeclogFunction extends Construct {
  readonly fn: lambda.Function;

  constructor(scope: Construct, id: string, props: SeclogFunctionProps) {
    super(scope, id);
    const dir = props.packageDir ?? path.join(__dirname, "..", "..", "target", "lambda");
    const zip = path.join(dir, props.name, "bootstrap.zip");
    if (!fs.existsSync(zip)) {
      throw new Error(`${zip} is missing: run scripts/package first (cargo lambda build --release --arm64)`);
    }
    const logGroup = new logs.LogGroup(this, "Logs", {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      encryptionKey: props.key,
    });
    const region = Stack.of(this).region;
    letServiceUseKey(props.key, `logs.${region}.amazonaws.com`, ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"], {
      ArnLike: { "kms:EncryptionContext:aws:logs:arn": Stack.of(this).formatArn({ service: "logs", resource: "log-group", resourceName: "*", arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
    });
    const role = props.roleName
      ? new iam.Role(this, "Role", {
          roleName: props.roleName,
          assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
          managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName("service-role/AWSLambdaBasicExecutionRole")],
        })
      : undefined;
    this.fn = new lambda.Function(this, "Function", {
      role,
      runtime: lambda.Runtime.PROVIDED_AL2023,
      architecture: lambda.Architecture.ARM_64,
      handler: "bootstrap",
      code: lambda.Code.fromAsset(zip),
      memorySize: props.memorySize ?? 128,
      timeout: props.timeout,
      reservedConcurrentExecutions: RESERVED_CONCURRENCY[props.name],
      // SECLOG_FUNCTION and SECLOG_ACCOUNT_ID name an assumed role's sessions seclog-<function>-<account>.
      environment: {
        SECLOG_FUNCTION: props.name,
        SECLOG_ACCOUNT_ID: Stack.of(this).account,
        ...(props.rulesDir ? { DETECTION_RULES_DIR: RULES_MOUNT } : {}),
        ...props.environment,
      },
      loggingFormat: lambda.LoggingFormat.JSON,
      logGroup,
      environmentEncryption: props.key,
      deadLetterQueue: props.deadLetterQueue,
      layers: [enrichmentLayer(Stack.of(this), dir), ...(props.rulesDir ? [rulesLayer(Stack.of(this), props.rulesDir)] : [])],
    });
    // Reaches OpenSearch over HTTPS with SigV4; a VPC is the domain's choice, not the function's.
    const skip = [{ id: "CKV_AWS_117", comment: "Calls OpenSearch and Firehose endpoints over HTTPS with SigV4; put it in a VPC only when the domain is in one." }];
    if (props.synchronous) {
      skip.push({ id: "CKV_AWS_116", comment: `${props.synchronous}; a DLQ only applies to asynchronous invocations.` });
    } else if (!props.deadLetterQueue) {
      throw new Error(`${props.name}: an asynchronously invoked function needs a dead-letter queue`);
    }
    (this.fn.node.defaultChild as lambda.CfnFunction).addMetadata("checkov", { skip });
  }
}
