/**
 * The CDK side of each containment action (lambdas/shared/actions.ts declares the actions themselves):
 * the functions that carry it out and what `CordonResponder` needs in member accounts for it. Keyed by
 * {@link ActionKey}, so a new `ACTION_SPECS` entry without its entry here does not compile.
 *
 * Each function's environment is built by lib/environment.ts and its grants are declared in lib/functions.ts;
 * both are complete over every function name, so naming a function here is enough to give it both.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import { ACTION_SPECS, actionSpec, type ActionKey } from '../lambdas/shared/actions';
import { actsInMemberAccounts, findFunctionSpec, type WorkflowFunctionName } from './functions';
import { MANAGED_TAG_KEY, MANAGED_TAG_VALUE, TEMPORARY_TAG_KEY, type MemberPolicyContext } from './member-permissions';

export interface ActionInfra {
  /** The functions that carry the action out; the first is its `ACTION_SPECS` lambda. */
  readonly functions: readonly [WorkflowFunctionName, ...WorkflowFunctionName[]];
  /** What `CordonResponder` may do for it in a member account (lib/member-stack.ts). */
  readonly memberStatements: (c: MemberPolicyContext) => iam.PolicyStatement[];
}

/** Every action's Lambda is a workflow function of the catalogue (a compile error otherwise). */
export const ACTION_LAMBDAS: readonly WorkflowFunctionName[] = ACTION_SPECS.map((a) => a.lambda);

export const ACTION_INFRA = {
  isolate: {
    functions: ['isolate'],
    memberStatements: (c) => [
      // Isolation groups: created only with the managed tag, in the target VPC.
      new iam.PolicyStatement({ sid: 'CreateIsolationGroupInVpc', actions: ['ec2:CreateSecurityGroup'], resources: c.ec2('vpc') }),
      new iam.PolicyStatement({
        sid: 'CreateIsolationGroupTagged',
        actions: ['ec2:CreateSecurityGroup'],
        resources: c.ec2('security-group'),
        conditions: { StringEquals: { [`aws:RequestTag/${MANAGED_TAG_KEY}`]: MANAGED_TAG_VALUE } },
      }),
      new iam.PolicyStatement({
        sid: 'TagIsolationGroupOnCreate',
        actions: ['ec2:CreateTags'],
        resources: c.ec2('security-group'),
        conditions: {
          StringEquals: { 'ec2:CreateAction': 'CreateSecurityGroup', [`aws:RequestTag/${MANAGED_TAG_KEY}`]: MANAGED_TAG_VALUE },
        },
      }),
      new iam.PolicyStatement({
        sid: 'EditManagedGroupRules',
        actions: [
          'ec2:AuthorizeSecurityGroupIngress',
          'ec2:AuthorizeSecurityGroupEgress',
          'ec2:RevokeSecurityGroupIngress',
          'ec2:RevokeSecurityGroupEgress',
        ],
        resources: c.ec2('security-group'),
        conditions: c.managedResource,
      }),
      // Swap each ENI's groups and lower its connection-tracking timeout.
      new iam.PolicyStatement({
        sid: 'IsolateNetworkInterfaces',
        actions: ['ec2:ModifyNetworkInterfaceAttribute'],
        resources: [...c.ec2('network-interface'), ...c.ec2('security-group'), ...c.ec2('instance'), ...c.ec2('vpc')],
      }),
    ],
  },
  flowLogs: {
    functions: ['flow-logs'],
    memberStatements: (c) => [
      new iam.PolicyStatement({
        sid: 'CreateFlowLogs',
        actions: ['ec2:CreateFlowLogs'],
        resources: [...c.ec2('vpc'), ...c.ec2('network-interface'), ...c.ec2('vpc-flow-log')],
      }),
      new iam.PolicyStatement({
        sid: 'TagFlowLogOnCreate',
        actions: ['ec2:CreateTags'],
        resources: c.ec2('vpc-flow-log'),
        conditions: { StringEquals: { 'ec2:CreateAction': 'CreateFlowLogs' } },
      }),
      // Flow logs to S3 are delivered by CloudWatch Logs' log delivery on behalf of the creator.
      new iam.PolicyStatement({ sid: 'FlowLogDelivery', actions: ['logs:CreateLogDelivery', 'logs:DeleteLogDelivery'], resources: ['*'] }),
    ],
  },
  snapshot: {
    functions: ['snapshot', 'share-snapshot'],
    memberStatements: (c) => [
      // Crash-consistent snapshots of every volume, tagged cordon:managed at creation.
      new iam.PolicyStatement({ sid: 'SnapshotInstanceVolumes', actions: ['ec2:CreateSnapshots'], resources: [...c.ec2('instance'), ...c.ec2('volume')] }),
      new iam.PolicyStatement({
        sid: 'CreateManagedSnapshots',
        actions: ['ec2:CreateSnapshots'],
        resources: c.snapshots,
        conditions: { StringEquals: { [`aws:RequestTag/${MANAGED_TAG_KEY}`]: MANAGED_TAG_VALUE } },
      }),
      new iam.PolicyStatement({
        sid: 'TagSnapshotsOnCreate',
        actions: ['ec2:CreateTags'],
        resources: c.snapshots,
        conditions: { StringEquals: { 'ec2:CreateAction': 'CreateSnapshots' } },
      }),
      // After creation, only the volume and device tags, and only on cordon's snapshots: nothing can relabel a
      // snapshot as temporary (that tag is set only when CopySnapshot creates the copy).
      new iam.PolicyStatement({
        sid: 'TagManagedSnapshots',
        actions: ['ec2:CreateTags'],
        resources: c.snapshots,
        conditions: { ...c.managedResource, 'ForAllValues:StringEquals': { 'aws:TagKeys': ['cordon:volume', 'cordon:device'] } },
      }),
      new iam.PolicyStatement({
        sid: 'RemoveTemporaryCopies',
        actions: ['ec2:DeleteSnapshot'],
        resources: c.snapshots,
        conditions: {
          StringEquals: { [`aws:ResourceTag/${MANAGED_TAG_KEY}`]: MANAGED_TAG_VALUE, [`aws:ResourceTag/${TEMPORARY_TAG_KEY}`]: 'true' },
        },
      }),
      // Re-encrypt each snapshot under the hub evidence key, then share the copy with the hub.
      new iam.PolicyStatement({ sid: 'CopySnapshotsToEvidenceKey', actions: ['ec2:CopySnapshot'], resources: c.snapshots }),
      new iam.PolicyStatement({
        sid: 'TagSnapshotCopiesOnCreate',
        actions: ['ec2:CreateTags'],
        resources: c.snapshots,
        conditions: { StringEquals: { 'ec2:CreateAction': 'CopySnapshot' } },
      }),
      // Only cordon's snapshots, only with the hub account (ec2:Add/userId); public sharing and removals are not
      // allowed here, and member-permissions.ts denies any other account or group whatever is added later.
      new iam.PolicyStatement({
        sid: 'ShareManagedSnapshotsWithHub',
        actions: ['ec2:ModifySnapshotAttribute'],
        resources: c.snapshots,
        conditions: { StringEquals: { ...c.managedResource.StringEquals, 'ec2:Add/userId': c.hubAccount } },
      }),
      // The hub evidence key: the EBS actions only, through EC2 only.
      ...c.keyGroups.flatMap((g) => [
        new iam.PolicyStatement({
          sid: `UseEvidenceKeyForSnapshots${g.sid}`,
          actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncrypt*'],
          resources: g.resources,
          conditions: g.conditions,
        }),
        new iam.PolicyStatement({
          sid: `GrantEvidenceKeyToEbs${g.sid}`,
          actions: ['kms:CreateGrant'],
          resources: g.resources,
          conditions: { ...g.conditions, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
        }),
      ]),
    ],
  },
  quarantineRole: {
    functions: ['quarantine-role'],
    memberStatements: (c) => [
      new iam.PolicyStatement({
        sid: 'ReadInstanceRole',
        actions: ['iam:GetInstanceProfile'],
        resources: [`arn:${c.partition}:iam::${c.account}:instance-profile/*`],
      }),
      // Quarantine: a deny-all inline policy conditioned on ec2:SourceInstanceARN.
      new iam.PolicyStatement({
        sid: 'QuarantineInstanceRole',
        actions: ['iam:GetRole', 'iam:ListInstanceProfilesForRole', 'iam:GetRolePolicy', 'iam:PutRolePolicy'],
        resources: [`arn:${c.partition}:iam::${c.account}:role/*`],
      }),
    ],
  },
} as const satisfies { readonly [K in ActionKey]: ActionInfra };

/**
 * Check at synth what the types can't: each action's first function is its `ACTION_SPECS` lambda, and
 * every function of an action acts in member accounts.
 * @throws Error naming the action and what is wrong
 */
export function checkActionInfra(infra: Readonly<Record<string, ActionInfra>> = ACTION_INFRA): void {
  for (const [key, entry] of Object.entries(infra)) {
    const spec = actionSpec(key);
    if (entry.functions[0] !== spec.lambda) {
      throw new Error(`ACTION_INFRA.${key}: its first function must be its lambda '${spec.lambda}' (lambdas/shared/actions.ts), not '${entry.functions[0]}'`);
    }
    for (const name of entry.functions) {
      const fn = findFunctionSpec(name);
      if (!fn || !actsInMemberAccounts(fn)) {
        throw new Error(`ACTION_INFRA.${key}: function '${name}' ${fn ? "lacks the 'assume:member' grant" : 'is not in FUNCTIONS'} (lib/functions.ts)`);
      }
    }
  }
}
