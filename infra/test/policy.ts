/**
 * A small IAM evaluator over a synthesised template, for the one question our backstops depend on:
 * can the principal that sends to an encrypted queue or topic really do so? It resolves CloudFormation
 * intrinsics against a fixed environment, then evaluates the key policy, the queue policy and the
 * sender role's identity policies the way AWS does for same-account calls: an explicit Deny wins; a key
 * policy Allow for the principal suffices; a key policy Allow for the account root delegates to IAM.
 * Conditions on keys the request does not carry never match (fail closed).
 */

/** The account and region the template is evaluated in (a stack pinned to a region brings its own). */
const ENV = { partition: "aws", region: "eu-west-1", account: "111111111111" };

type Resources = Record<string, any>;

/** Who sends: a role of the template, or a service principal with the context its request carries. */
export type Principal = { role: string } | { service: string; sourceArn: string };

/** One producer of one encrypted queue or topic. */
export interface Sender {
  readonly target: string;
  readonly kind: "queue" | "topic";
  readonly principal: Principal;
  readonly why: string;
}

/** The synthetic ARN of a resource of the template. */
function arnOf(resources: Resources, id: string): string {
  const { partition, region, account } = ENV;
  const type = resources[id]?.Type;
  switch (type) {
    case "AWS::IAM::Role":
      return `arn:${partition}:iam::${account}:role/${id}`;
    case "AWS::KMS::Key":
      return `arn:${partition}:kms:${region}:${account}:key/${id}`;
    case "AWS::SQS::Queue":
      return `arn:${partition}:sqs:${region}:${account}:${id}`;
    case "AWS::SNS::Topic":
      return `arn:${partition}:sns:${region}:${account}:${id}`;
    case "AWS::Events::Rule": {
      const name = resources[id].Properties?.Name;
      return `arn:${partition}:events:${region}:${account}:rule/${typeof name === "string" ? name : id}`;
    }
    case "AWS::CloudWatch::Alarm":
      return `arn:${partition}:cloudwatch:${region}:${account}:alarm:${id}`;
    case "AWS::Lambda::Function":
      return `arn:${partition}:lambda:${region}:${account}:function:${id}`;
    default:
      return `arn:${partition}:unknown:${region}:${account}:${id}`;
  }
}

/** Resolves the intrinsics CDK emits in policies to plain strings (arrays stay arrays). */
export function resolve(resources: Resources, v: any): any {
  if (Array.isArray(v)) return v.map((x) => resolve(resources, x));
  if (v === null || typeof v !== "object") return v;
  if ("Ref" in v) {
    const ref = v.Ref;
    if (ref === "AWS::Partition") return ENV.partition;
    if (ref === "AWS::Region") return ENV.region;
    if (ref === "AWS::AccountId") return ENV.account;
    if (ref === "AWS::URLSuffix") return "amazonaws.com";
    const type = resources[ref]?.Type;
    if (type === "AWS::SQS::Queue") return `https://sqs.${ENV.region}.amazonaws.com/${ENV.account}/${ref}`;
    if (type === "AWS::SNS::Topic") return arnOf(resources, ref);
    return ref; // a role's name, a key's id, a function's name: the logical id stands in for each
  }
  if ("Fn::GetAtt" in v) {
    const [id, attr] = v["Fn::GetAtt"];
    return attr === "Arn" ? arnOf(resources, id) : `<${id}.${attr}>`;
  }
  if ("Fn::Join" in v) {
    const [sep, parts] = v["Fn::Join"];
    return resolve(resources, parts).join(sep);
  }
  if ("Fn::Split" in v) {
    const [sep, s] = v["Fn::Split"];
    return String(resolve(resources, s)).split(sep);
  }
  if ("Fn::ImportValue" in v) {
    // Another stack's export: the same name stands for the same value wherever it is imported.
    return `imported:${String(resolve(resources, v["Fn::ImportValue"]))}`;
  }
  if ("Fn::Select" in v) {
    const [i, list] = v["Fn::Select"];
    return resolve(resources, list)[Number(i)];
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(resources, x)]));
}

function wildcard(pattern: string, value: string, caseless = false): boolean {
  const re = new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, caseless ? "i" : "");
  return re.test(value);
}

const list = (v: any): any[] => (v === undefined ? [] : [v].flat());

/** Does a statement's condition hold for a request carrying `context`? */
function conditionHolds(condition: any, context: Record<string, string>): boolean {
  for (const [operator, tests] of Object.entries(condition ?? {})) {
    for (const [key, expected] of Object.entries(tests as Record<string, any>)) {
      const actual = context[key];
      if (actual === undefined) return false;
      const values = list(expected).map(String);
      const ok = values.some((e) => {
        switch (operator) {
          case "StringEquals":
          case "ArnEquals":
            return e === actual;
          case "StringLike":
          case "ArnLike":
            return wildcard(e, actual);
          case "Bool":
            return e.toLowerCase() === actual.toLowerCase();
          default:
            return false;
        }
      });
      if (!ok) return false;
    }
  }
  return true;
}

interface Request {
  readonly action: string;
  readonly resource: string;
  readonly context: Record<string, string>;
}

function statementMatches(s: any, req: Request): boolean {
  return (
    list(s.Action).some((a) => wildcard(String(a), req.action, true)) &&
    list(s.Resource ?? "*").some((r) => wildcard(String(r), req.resource)) &&
    conditionHolds(s.Condition, req.context)
  );
}

/** Who a resource-policy statement names: role ARNs, service names, or the account root. */
function principalMatches(s: any, who: { roleArn?: string; service?: string }): "direct" | "root" | undefined {
  const p = s.Principal;
  if (p === "*" || p?.AWS === "*") return "direct";
  if (who.service && list(p?.Service).includes(who.service)) return "direct";
  for (const aws of list(p?.AWS).map(String)) {
    if (who.roleArn && aws === who.roleArn) return "direct";
    if (aws === `arn:${ENV.partition}:iam::${ENV.account}:root` || aws === ENV.account) return "root";
  }
  return undefined;
}

/** The identity-policy statements of a role of the template. */
function roleStatements(resources: Resources, roleId: string): any[] {
  const found: any[] = [];
  for (const r of Object.values(resources)) {
    if (r.Type === "AWS::IAM::Policy" && list(r.Properties.Roles).some((x: any) => x?.Ref === roleId)) {
      found.push(...list(r.Properties.PolicyDocument.Statement));
    }
  }
  for (const p of list(resources[roleId]?.Properties?.Policies)) found.push(...list(p.PolicyDocument.Statement));
  return resolve(resources, found);
}

/** Is `req` allowed to `principal`, given the resource policy statements (key or queue policy)? */
export function allowed(resources: Resources, principal: Principal, resourcePolicy: any[], req: Request, identityNeeded = false): boolean {
  const who = "role" in principal ? { roleArn: arnOf(resources, principal.role) } : { service: principal.service };
  const identity = "role" in principal ? roleStatements(resources, principal.role) : [];
  const all = [...resourcePolicy.map((s) => ({ s, from: "resource" })), ...identity.map((s) => ({ s, from: "identity" }))];
  const applies = ({ s, from }: { s: any; from: string }) => (from === "identity" || principalMatches(s, who) !== undefined) && statementMatches(s, req);
  if (all.some((x) => x.s.Effect === "Deny" && applies(x))) return false;
  const resourceAllows = resourcePolicy.filter((s) => s.Effect === "Allow" && statementMatches(s, req));
  const identityAllows = identity.some((s) => s.Effect === "Allow" && statementMatches(s, req));
  if (resourceAllows.some((s) => principalMatches(s, who) === "direct")) return true;
  const rootDelegates = resourceAllows.some((s) => principalMatches(s, who) === "root");
  // Same account: a resource without a policy (or whose policy trusts the account) leaves it to IAM.
  return identityAllows && (rootDelegates || !identityNeeded);
}

/** Every producer of every encrypted queue and topic of the template. */
export function senders(resources: Resources): Sender[] {
  const found: Sender[] = [];
  const encrypted = (id: string) => resources[id]?.Properties?.KmsMasterKeyId !== undefined;
  const targetOf = (arn: any): string | undefined => (arn?.["Fn::GetAtt"]?.[0] ?? arn?.Ref) as string | undefined;
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type === "AWS::Lambda::Function") {
      const role = r.Properties.Role?.["Fn::GetAtt"]?.[0];
      const dlq = targetOf(r.Properties.DeadLetterConfig?.TargetArn);
      if (dlq && encrypted(dlq)) found.push({ target: dlq, kind: "queue", principal: { role }, why: `${id}'s dead-letter queue` });
      // The alerter publishes alerts to the topic its configuration names.
      const alerts = targetOf(r.Properties.Environment?.Variables?.ALERTS_TOPIC_ARN);
      if (alerts && encrypted(alerts)) found.push({ target: alerts, kind: "topic", principal: { role }, why: `${id}'s alerts topic` });
      // The s3 function continues an unfinished object in a message to its own queue.
      const continuations = targetOf(r.Properties.Environment?.Variables?.CONTINUATION_QUEUE_URL);
      if (continuations && encrypted(continuations)) {
        found.push({ target: continuations, kind: "queue", principal: { role }, why: `${id}'s continuations` });
      }
    }
    if (r.Type === "AWS::Lambda::EventInvokeConfig") {
      const fnId = r.Properties.FunctionName?.Ref;
      const role = resources[fnId]?.Properties?.Role?.["Fn::GetAtt"]?.[0];
      const dest = targetOf(r.Properties.DestinationConfig?.OnFailure?.Destination);
      if (dest && encrypted(dest)) {
        found.push({ target: dest, kind: resources[dest].Type === "AWS::SQS::Queue" ? "queue" : "topic", principal: { role }, why: `${fnId}'s on-failure destination` });
      }
    }
    if (r.Type === "AWS::Events::Rule") {
      for (const t of list(r.Properties.Targets)) {
        const dlq = targetOf(t.DeadLetterConfig?.Arn);
        if (dlq && encrypted(dlq)) {
          found.push({ target: dlq, kind: "queue", principal: { service: "events.amazonaws.com", sourceArn: arnOf(resources, id) }, why: `${id}'s target dead-letter queue` });
        }
      }
    }
    // S3 sends object notifications to the queues a bucket's notification configuration names.
    if (r.Type === "Custom::S3BucketNotifications") {
      const bucket = String(resolve(resources, r.Properties.BucketName));
      for (const q of list(r.Properties.NotificationConfiguration?.QueueConfigurations)) {
        const target = targetOf(q.QueueArn);
        if (target && encrypted(target)) {
          const principal = { service: "s3.amazonaws.com", sourceArn: `arn:${ENV.partition}:s3:::${bucket}` };
          found.push({ target, kind: "queue", principal, why: `${id}'s notifications of bucket ${bucket}` });
        }
      }
    }
    if (r.Type === "AWS::CloudWatch::Alarm") {
      for (const action of list(r.Properties.AlarmActions)) {
        const topic = targetOf(action);
        if (topic && encrypted(topic)) {
          found.push({ target: topic, kind: "topic", principal: { service: "cloudwatch.amazonaws.com", sourceArn: arnOf(resources, id) }, why: `${id}'s alarm action` });
        }
      }
    }
  }
  return found;
}

/** What every producer of an encrypted SQS queue or SNS topic needs of its key (SQS and SNS docs). */
const KMS_ACTIONS = ["kms:GenerateDataKey", "kms:Decrypt"];

/** Each problem: a sender that cannot use the key of what it sends to, or cannot send to the queue. */
export function backstopProblems(template: any, region = "eu-west-1"): string[] {
  ENV.region = region;
  const resources: Resources = template.Resources;
  const problems: string[] = [];
  for (const sender of senders(resources)) {
    const target = resources[sender.target];
    const keyId = target.Properties.KmsMasterKeyId?.["Fn::GetAtt"]?.[0] ?? target.Properties.KmsMasterKeyId?.Ref;
    const keyArn = arnOf(resources, keyId);
    const context: Record<string, string> = { "aws:SecureTransport": "true" };
    if ("service" in sender.principal) {
      context["aws:SourceArn"] = sender.principal.sourceArn;
      context["aws:SourceAccount"] = ENV.account;
    }
    const keyPolicy = resolve(resources, list(resources[keyId]?.Properties?.KeyPolicy?.Statement));
    for (const action of KMS_ACTIONS) {
      if (!allowed(resources, sender.principal, keyPolicy, { action, resource: keyArn, context }, true)) {
        problems.push(`${sender.why} (${describe(sender.principal)}) cannot ${action} on ${keyId}`);
      }
    }
    if (sender.kind === "queue") {
      const queuePolicy = policyOf(resources, "AWS::SQS::QueuePolicy", "Queues", sender.target);
      const req = { action: "sqs:SendMessage", resource: arnOf(resources, sender.target), context };
      if (!allowed(resources, sender.principal, queuePolicy, req)) {
        problems.push(`${sender.why} (${describe(sender.principal)}) cannot sqs:SendMessage to ${sender.target}`);
      }
    }
    // A role publishes by its own policy (and the topic's, if any). CloudWatch publishes alarm
    // actions under the topic's default access policy, which CloudFormation does not show.
    if (sender.kind === "topic" && "role" in sender.principal) {
      const topicPolicy = policyOf(resources, "AWS::SNS::TopicPolicy", "Topics", sender.target);
      const req = { action: "sns:Publish", resource: arnOf(resources, sender.target), context };
      if (!allowed(resources, sender.principal, topicPolicy, req)) {
        problems.push(`${sender.why} (${describe(sender.principal)}) cannot sns:Publish to ${sender.target}`);
      }
    }
  }
  return problems;
}

/** The statements of the resource policies of `type` (a queue or topic policy) that name `target`. */
function policyOf(resources: Resources, type: string, targets: string, target: string): any[] {
  return resolve(
    resources,
    Object.values(resources)
      .filter((r: any) => r.Type === type && list(r.Properties[targets]).some((t: any) => t?.Ref === target))
      .flatMap((r: any) => list(r.Properties.PolicyDocument.Statement)),
  );
}

function describe(p: Principal): string {
  return "role" in p ? `role ${p.role}` : p.service;
}
