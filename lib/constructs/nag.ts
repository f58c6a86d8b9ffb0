import { Stack, type CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * How cdk-nag renders a reference to `resource`'s attribute inside a finding id,
 * e.g. `<EvidenceStoreBucket1A2B3C4D.Arn>`: lets an IAM5 acknowledgement name
 * the exact `[Resource::…]` it covers instead of the whole rule.
 */
export function nagRef(resource: IConstruct, attribute = 'Arn'): string {
  const element = (resource.node.defaultChild ?? resource) as CfnElement;
  const logicalId = Stack.of(resource).resolve(Stack.of(resource).getLogicalId(element)) as string;
  return `<${logicalId}.${attribute}>`;
}
