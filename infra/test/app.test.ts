import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Match, Template } from "aws-cdk-lib/assertions";
import { addStacks } from "../lib/seclog-app";
import { app, assertLeastPrivilege, packages, wholeApp } from "./helpers";

const stacks = addStacks(wholeApp());
const templates = stacks.map((s) => [s.stackName, Template.fromStack(s)] as const);

test("every stack of the app is synthesised", () => {
  assert.deepEqual(
    stacks.map((s) => s.stackName),
    ["SeclogDomain", "SeclogCloudTrail", "SeclogS3", "SeclogFirehose", "SeclogRoute53Public", "SeclogSecurityHub", "SeclogDetect", "SeclogCentralWriter", "SeclogSourceCloudTrail"],
  );
});

/** The functions of seclog: every Lambda function but CDK's own custom-resource handler. */
function seclogFunctions(template: Template): any[] {
  return Object.entries(template.findResources("AWS::Lambda::Function"))
    .filter(([id]) => !id.startsWith("BucketNotificationsHandler"))
    .map(([, fn]) => fn);
}

test("every function: arm64 provided.al2023, 128 MB, JSON logs, encrypted environment, the enrichment layer, reserved concurrency", () => {
  let seen = 0;
  for (const [, template] of templates) {
    for (const fn of seclogFunctions(template)) {
      const p = fn.Properties;
      assert.equal(p.Runtime, "provided.al2023");
      assert.deepEqual(p.Architectures, ["arm64"]);
      assert.equal(p.MemorySize, 128);
      assert.equal(p.LoggingConfig.LogFormat, "JSON");
      assert.ok(p.KmsKeyArn);
      assert.equal(p.Layers.length, 1);
      assert.ok(p.ReservedConcurrentExecutions > 0);
      seen += 1;
    }
  }
  assert.equal(seen, 9); // cloudtrail ×2, s3, waf, vpcflow, route53 Resolver, route53 public, securityhub, detect
});

test("every asynchronously invoked function has a dead-letter queue; Firehose processors and the SQS-fed s3 function are synchronous", () => {
  for (const [name, template] of templates) {
    for (const fn of seclogFunctions(template)) {
      const env = fn.Properties.Environment?.Variables ?? {};
      const firehoseProcessor = name === "SeclogFirehose";
      assert.equal(firehoseProcessor, env.RECORD_DELIMITER === "none", name);
      if (env.CONTINUATION_QUEUE_URL) {
        // Its queue's redrive policy is its backstop: a message that fails five times moves to the DLQ.
        const queue = template.toJSON().Resources[env.CONTINUATION_QUEUE_URL.Ref];
        assert.equal(queue.Properties.RedrivePolicy.maxReceiveCount, 5);
        template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
          FunctionResponseTypes: ["ReportBatchItemFailures"],
          BatchSize: 10,
          EventSourceArn: { "Fn::GetAtt": [env.CONTINUATION_QUEUE_URL.Ref, "Arn"] },
        });
      } else if (!firehoseProcessor) {
        assert.ok(fn.Properties.DeadLetterConfig?.TargetArn, `${name}: a function without a DLQ`);
      }
    }
  }
});

test("least privilege in every stack", () => {
  for (const [, template] of templates) {
    assertLeastPrivilege(template);
  }
});

test("every role that writes into the domain is an output, for the fine-grained access control mapping", () => {
  // CDK's own cross-stack exports (the trail bucket and key, for SeclogS3) are left out.
  const outputs = Object.fromEntries(
    templates.map(([name, t]) => [name, Object.keys(t.findOutputs("*")).filter((o) => !o.startsWith("ExportsOutput")).sort()]),
  );
  assert.deepEqual(outputs, {
    SeclogDomain: ["OpenSearchDomainArn", "OpenSearchEndpoint"],
    SeclogCloudTrail: ["CloudtrailWriterRoleArn"],
    SeclogS3: ["S3WriterRoleArn"],
    SeclogFirehose: ["Route53DeliveryWriterRoleArn", "VpcflowDeliveryWriterRoleArn", "WafDeliveryWriterRoleArn"],
    SeclogRoute53Public: ["QueryLogGroupArn", "Route53WriterRoleArn"],
    SeclogSecurityHub: ["SecurityhubWriterRoleArn"],
    SeclogDetect: ["DetectWriterRoleArn"],
    SeclogCentralWriter: ["CentralWriterRoleArn"],
    SeclogSourceCloudTrail: [],
  });
});

test("context sets the trail's log retention and a stream's buffering; a retention Logs does not offer is refused", () => {
  const stacks = addStacks(app({ packageDir: packages(), logRetentionDays: "90", buffering: '{"waf":{"processorMb":2,"destinationSeconds":300}}' }));
  const byName = Object.fromEntries(stacks.map((s) => [s.stackName, Template.fromStack(s)]));
  byName.SeclogCloudTrail.hasResourceProperties("AWS::Logs::LogGroup", { RetentionInDays: 90 });
  byName.SeclogFirehose.hasResourceProperties("AWS::KinesisFirehose::DeliveryStream", {
    DeliveryStreamName: "aws-waf-logs-seclog",
    AmazonopensearchserviceDestinationConfiguration: Match.objectLike({
      BufferingHints: { SizeInMBs: 5, IntervalInSeconds: 300 },
      ProcessingConfiguration: Match.objectLike({
        Processors: [Match.objectLike({ Parameters: Match.arrayWith([{ ParameterName: "BufferSizeInMBs", ParameterValue: "2" }]) })],
      }),
    }),
  });
  assert.throws(() => addStacks(app({ packageDir: packages(), logRetentionDays: "42" })), /logRetentionDays=42/);
});

const OPENSEARCH_ROLES = path.join(__dirname, "..", "opensearch");

/** Index actions a writer may hold: create documents and indices, extend mappings, and (Firehose) read its own metadata. */
const WRITER_INDEX_ACTIONS = [
  "indices:data/write/index",
  "indices:data/write/bulk*",
  "indices:admin/create",
  "indices:admin/mapping/put",
  "indices:admin/get",
  "indices:admin/mappings/get",
  "indices:monitor/settings/get",
  "indices:monitor/stats",
];

test("each writer's OpenSearch role maps only to what it writes: no update, delete, manage or action groups", () => {
  // The alerter's role is checked on its own below: it reads, and it updates its own alerts.
  const files = fs.readdirSync(OPENSEARCH_ROLES).filter((f) => f.endsWith(".json") && f !== "seclog_detect.json");
  assert.ok(files.length >= 6);
  for (const file of files) {
    const role = JSON.parse(fs.readFileSync(path.join(OPENSEARCH_ROLES, file), "utf8"));
    assert.ok(
      role.cluster_permissions.every((p: string) => ["indices:data/write/bulk", "cluster_monitor"].includes(p)),
      `${file}: ${role.cluster_permissions}`,
    );
    for (const perm of role.index_permissions) {
      for (const action of perm.allowed_actions) {
        assert.ok(WRITER_INDEX_ACTIONS.includes(action), `${file}: ${action}`);
      }
    }
  }
});

test("every role that writes into the domain names an OpenSearch role of infra/opensearch that covers exactly its patterns", () => {
  let checked = 0;
  for (const [, template] of templates) {
    const outputs = Object.entries(template.findOutputs("*")).filter(([id]) => id.endsWith("WriterRoleArn"));
    for (const [id, output] of outputs as [string, any][]) {
      const [, patterns, name] = /^Writes (.+): map it as a backend role of the (\w+) OpenSearch role$/.exec(output.Description)!;
      const role = JSON.parse(fs.readFileSync(path.join(OPENSEARCH_ROLES, `${name}.json`), "utf8"));
      const granted = role.index_permissions.flatMap((p: any) => p.index_patterns).sort();
      assert.deepEqual(granted, patterns.split(", ").sort(), `${id} → ${name}`);
      checked += 1;
    }
  }
  assert.equal(checked, 9);
});

test("the alerter may search the log families, and create, update and refresh only its alerts: never delete or manage", () => {
  const role = JSON.parse(fs.readFileSync(path.join(OPENSEARCH_ROLES, "seclog_detect.json"), "utf8"));
  const byPattern = Object.fromEntries(role.index_permissions.flatMap((p: any) => p.index_patterns.map((i: string) => [i, [...p.allowed_actions].sort()])));
  for (const family of ["cloudtrail-*", "route53-resolver-*", "route53-public-*", "securityhub-*"]) {
    assert.deepEqual(byPattern[family], ["indices:data/read/search*"], family);
  }
  assert.ok(byPattern["seclog-alerts-*"].includes("indices:data/write/update"));
  for (const actions of Object.values(byPattern) as string[][]) {
    assert.ok(!actions.some((a) => /delete|manage|\*$/.test(a) && !/(search|bulk|refresh)\*$/.test(a)), `${actions}`);
  }
  const [, detect] = templates.find(([n]) => n === "SeclogDetect")!;
  const posts = Object.values(detect.findResources("AWS::IAM::Policy")).flatMap((p: any) => p.Properties.PolicyDocument.Statement)
    .filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith("es:")));
  assert.equal(posts.length, 1);
  assert.deepEqual([posts[0].Action].flat(), ["es:ESHttpPost"]);
  const paths = [posts[0].Resource].flat().map((r: any) => /\/([a-z0-9-]+-\*\/_[a-z]+(?:\/\*)?)"\]\]\}$/.exec(JSON.stringify(r))?.[1]).sort();
  assert.deepEqual(paths, [
    "cloudtrail-*/_search", "route53-public-*/_search", "route53-resolver-*/_search", "seclog-alerts-*/_bulk",
    "seclog-alerts-*/_refresh", "seclog-alerts-*/_search", "seclog-alerts-*/_update/*", "seclog-deadletter-*/_bulk", "securityhub-*/_search",
  ]);
});

test("the alerter runs every five minutes, one at a time, and the ingest functions and it share the allowed sign-in ranges", () => {
  const [, detect] = templates.find(([n]) => n === "SeclogDetect")!;
  detect.hasResourceProperties("AWS::Scheduler::Schedule", { ScheduleExpression: "rate(5 minutes)" });
  detect.hasResourceProperties("AWS::Lambda::Function", {
    ReservedConcurrentExecutions: 1,
    Environment: { Variables: Match.objectLike({ ALLOWED_CIDRS: "198.51.100.0/24,192.0.2.7", SLACK_WEBHOOK_SECRET_ARN: Match.anyValue(), ALERTS_TOPIC_ARN: Match.anyValue() }) },
  });
  const [, trail] = templates.find(([n]) => n === "SeclogCloudTrail")!;
  trail.hasResourceProperties("AWS::Lambda::Function", { Environment: { Variables: Match.objectLike({ ALLOWED_CIDRS: "198.51.100.0/24,192.0.2.7" }) } });
});

test("functions post `_bulk` to their own index patterns only: never the root `_bulk`, never PUT", () => {
  let checked = 0;
  // The alerter also searches and updates its alerts: checked on its own above.
  for (const [name, template] of templates.filter(([n]) => n !== "SeclogDetect")) {
    for (const policy of Object.values(template.findResources("AWS::IAM::Policy")) as any[]) {
      const firehoseDelivery = policy.Properties.PolicyName.includes("Delivery");
      for (const s of policy.Properties.PolicyDocument.Statement) {
        const actions: string[] = [s.Action].flat();
        if (!actions.some((a) => a.startsWith("es:ESHttp")) || firehoseDelivery) continue;
        assert.deepEqual(actions, ["es:ESHttpPost"], name);
        for (const r of [s.Resource].flat()) {
          const text = JSON.stringify(r);
          assert.match(text, /\/[a-z0-9-]+-\*\/_bulk"\]\]\}$/, `${name}: ${text}`);
        }
        checked += 1;
      }
    }
  }
  // cloudtrail, s3, route53, securityhub and the central writer (a source account's cloudtrail assumes that one).
  assert.equal(checked, 5);
});

test("every grant to an AWS service (other than assuming a role) is held to this account or resource by a condition", () => {
  let checked = 0;
  for (const [name, template] of templates) {
    const json = template.toJSON().Resources;
    for (const [id, r] of Object.entries(json) as [string, any][]) {
      if (r.Type === "AWS::IAM::Role") continue; // trust policies: sts:AssumeRole
      const walk = (v: any) => {
        if (!v || typeof v !== "object") return;
        if (Array.isArray(v.Statement)) {
          for (const s of v.Statement) {
            if (s.Effect === "Allow" && s.Principal?.Service) {
              assert.ok(s.Condition, `${name} ${id}: ${JSON.stringify(s)}`);
              checked += 1;
            }
          }
        }
        Object.values(v).forEach(walk);
      };
      walk(r.Properties);
    }
  }
  assert.ok(checked >= 10, `${checked}`);
});

test("Firehose may only put failed documents under its own prefixes of the backup bucket: no read, list or delete", () => {
  const [, firehose] = templates.find(([n]) => n === "SeclogFirehose")!;
  let checked = 0;
  for (const policy of Object.values(firehose.findResources("AWS::IAM::Policy")) as any[]) {
    if (!policy.Properties.PolicyName.includes("Delivery")) continue;
    const s3 = policy.Properties.PolicyDocument.Statement.flatMap((s: any) => [s.Action].flat()).filter((a: string) => a.startsWith("s3:"));
    assert.deepEqual([...new Set(s3)].sort(), ["s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:PutObject"]);
    const puts = policy.Properties.PolicyDocument.Statement.find((s: any) => [s.Action].flat().includes("s3:PutObject"));
    for (const r of [puts.Resource].flat()) assert.match(JSON.stringify(r), /\/[a-z0-9-]+(-errors)?\/\*"\]\]\}$/);
    checked += 1;
  }
  assert.equal(checked, 3);
});

test("-c rulesDir ships your Sigma rules as a layer to the functions that evaluate rules, and only the files they read", () => {
  const rules = fs.mkdtempSync(path.join(os.tmpdir(), "seclog-rules-"));
  fs.writeFileSync(path.join(rules, "root-sign-in.yml"), "title: Root sign-in\n");
  fs.writeFileSync(path.join(rules, "dns.yaml"), "title: DNS\n");
  fs.writeFileSync(path.join(rules, "README.md"), "notes\n");
  fs.mkdirSync(path.join(rules, "drafts"));
  fs.writeFileSync(path.join(rules, "drafts", "draft.yml"), "title: Draft\n");
  const withRules = app({ packageDir: packages(), vpcId: "vpc-0123456789abcdef0", rulesDir: rules, "aws:cdk:enable-asset-metadata": "true" });
  const synthesised = addStacks(withRules);
  const assembly = withRules.synth();
  const layered: string[] = [];
  for (const stack of synthesised) {
    const template = Template.fromStack(stack);
    for (const [id, fn] of Object.entries(template.findResources("AWS::Lambda::Function")) as [string, any][]) {
      if (id.startsWith("BucketNotificationsHandler")) continue;
      const env = fn.Properties.Environment?.Variables ?? {};
      if (fn.Properties.Layers.length === 2) {
        assert.equal(env.DETECTION_RULES_DIR, "/opt/seclog-rules", id);
        layered.push(`${stack.stackName}/${env.SECLOG_FUNCTION}`);
      } else {
        assert.equal(fn.Properties.Layers.length, 1, id);
        assert.equal(env.DETECTION_RULES_DIR, undefined, id);
      }
    }
    for (const layer of Object.values(template.findResources("AWS::Lambda::LayerVersion")) as any[]) {
      if (!/own/.test(layer.Properties.Description)) continue;
      const staged = path.join(assembly.directory, layer.Metadata["aws:asset:path"]);
      assert.deepEqual(fs.readdirSync(staged), ["seclog-rules"]);
      assert.deepEqual(fs.readdirSync(path.join(staged, "seclog-rules")).sort(), ["dns.yaml", "root-sign-in.yml"]);
    }
  }
  assert.deepEqual(layered.sort(), ["SeclogCloudTrail/cloudtrail", "SeclogDetect/detect", "SeclogFirehose/route53", "SeclogRoute53Public/route53", "SeclogS3/s3"]);

  const empty = fs.mkdtempSync(path.join(os.tmpdir(), "seclog-rules-"));
  assert.throws(() => addStacks(app({ packageDir: packages(), rulesDir: empty })), /holds no \*\.yml or \*\.yaml rule/);
  assert.throws(() => addStacks(app({ packageDir: packages(), rulesDir: path.join(empty, "missing") })), /is not a folder/);
});
