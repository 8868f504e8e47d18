import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";

/**
 * Lets an AWS service use `key` for `actions`, only under `conditions`: the key-policy statement each
 * service's guide documents for encrypting what it writes (log groups, topics, queues, trails).
 */
export function letServiceUseKey(key: kms.IKey, service: string, actions: string[], conditions: Record<string, unknown>): void {
  key.addToResourcePolicy(new iam.PolicyStatement({ principals: [new iam.ServicePrincipal(service)], actions, resources: ["*"], conditions }));
}
