/**
 * IsolateNetwork's `prepare` step (DESIGN.md §3.3): per VPC, the two cordon-managed security
 * groups, found by tag and reused, created when missing, and their rules enforced every time:
 * *untrack* (allow-all in and out, IPv4 and IPv6) and *isolation* (no rules at all). Concurrent
 * executions preparing the same VPC converge on the same groups. The per-interface steps that
 * use them are in isolate.ts.
 */
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type EC2Client,
  type IpPermission,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import { z } from 'zod';
import { CordonError } from '../shared/errors';
import { awsErrorName } from '../shared/handler';
import { InterfaceSummary, SecurityGroupId } from '../shared/workflow';

export const MANAGED_TAG = 'cordon:managed';
export const PURPOSE_TAG = 'cordon:purpose';
export type GroupPurpose = 'untrack' | 'isolation';

export class IsolationGroupConflictError extends CordonError {
  constructor(message: string) {
    super('IsolationGroupConflictError', message);
  }
}

export const PreparedInterface = InterfaceSummary.extend({
  untrackGroupId: SecurityGroupId,
  isolationGroupId: SecurityGroupId,
});
export type PreparedInterface = z.infer<typeof PreparedInterface>;

export interface PreparedGroups {
  groups: Array<{ vpcId: string; untrackGroupId: string; isolationGroupId: string }>;
  interfaces: PreparedInterface[];
}

/** One untrack and one isolation group per VPC the interfaces are in, and each interface with its VPC's two. */
export async function prepareGroups(ec2: EC2Client, input: { readonly interfaces: readonly InterfaceSummary[] }): Promise<PreparedGroups> {
  const vpcIds = [...new Set(input.interfaces.map((i) => i.vpcId))].sort();
  const groups: PreparedGroups['groups'] = [];
  for (const vpcId of vpcIds) {
    const untrackGroupId = await ensureGroup(ec2, vpcId, 'untrack');
    await enforceUntrackRules(ec2, untrackGroupId);
    const isolationGroupId = await ensureGroup(ec2, vpcId, 'isolation');
    await enforceNoRules(ec2, isolationGroupId);
    groups.push({ vpcId, untrackGroupId, isolationGroupId });
  }
  const byVpc = new Map(groups.map((g) => [g.vpcId, g]));
  return {
    groups,
    interfaces: input.interfaces.map((i) => {
      const g = byVpc.get(i.vpcId) as PreparedGroups['groups'][number];
      return { ...i, untrackGroupId: g.untrackGroupId, isolationGroupId: g.isolationGroupId };
    }),
  };
}

export function groupName(purpose: GroupPurpose, vpcId: string): string {
  return `cordon-${purpose}-${vpcId}`;
}

async function findGroup(ec2: EC2Client, vpcId: string, purpose: GroupPurpose): Promise<string | undefined> {
  const out = await ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: `tag:${MANAGED_TAG}`, Values: ['true'] },
        { Name: `tag:${PURPOSE_TAG}`, Values: [purpose] },
      ],
    }),
  );
  // Oldest id first, so concurrent executions converge on the same group.
  return (out.SecurityGroups ?? [])
    .map((g) => g.GroupId)
    .filter((id): id is string => Boolean(id))
    .sort()[0];
}

export async function ensureGroup(ec2: EC2Client, vpcId: string, purpose: GroupPurpose): Promise<string> {
  const existing = await findGroup(ec2, vpcId, purpose);
  if (existing) return existing;
  const name = groupName(purpose, vpcId);
  try {
    const out = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: name,
        VpcId: vpcId,
        Description:
          purpose === 'untrack'
            ? 'cordon: allow-all step that untracks live flows before isolation. Do not edit.'
            : 'cordon: isolation group with no rules. Do not edit.',
        TagSpecifications: [
          {
            ResourceType: 'security-group',
            Tags: [
              { Key: MANAGED_TAG, Value: 'true' },
              { Key: PURPOSE_TAG, Value: purpose },
              { Key: 'Name', Value: name },
            ],
          },
        ],
      }),
    );
    if (!out.GroupId) throw new Error(`CreateSecurityGroup ${name} returned no GroupId`);
    return out.GroupId;
  } catch (err) {
    if (awsErrorName(err) !== 'InvalidGroup.Duplicate') throw err;
    // Another execution created it between our Describe and Create: reuse it if it is ours.
    const again = await findGroup(ec2, vpcId, purpose);
    if (again) return again;
    throw new IsolationGroupConflictError(
      `a security group named ${name} exists in ${vpcId} without the ${MANAGED_TAG}=true tag; cordon will not use a group it does not manage`,
    );
  }
}

/** Every rule of the group, all pages. */
export async function describeRules(ec2: EC2Client, groupId: string): Promise<SecurityGroupRule[]> {
  const rules: SecurityGroupRule[] = [];
  let NextToken: string | undefined;
  do {
    const out = await ec2.send(
      new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }], NextToken }),
    );
    rules.push(...(out.SecurityGroupRules ?? []));
    NextToken = out.NextToken;
  } while (NextToken);
  return rules;
}

const isAllTraffic = (r: SecurityGroupRule, cidr: string): boolean =>
  r.IpProtocol === '-1' && (r.CidrIpv4 === cidr || r.CidrIpv6 === cidr);

/** Allow everything in and out, IPv4 and IPv6: the condition AWS documents for untracked flows. */
export async function enforceUntrackRules(ec2: EC2Client, groupId: string): Promise<void> {
  const rules = await describeRules(ec2, groupId);
  for (const egress of [false, true]) {
    const present = rules.filter((r) => Boolean(r.IsEgress) === egress);
    const missing: IpPermission = { IpProtocol: '-1' };
    if (!present.some((r) => isAllTraffic(r, '0.0.0.0/0'))) missing.IpRanges = [{ CidrIp: '0.0.0.0/0' }];
    if (!present.some((r) => isAllTraffic(r, '::/0'))) missing.Ipv6Ranges = [{ CidrIpv6: '::/0' }];
    if (!missing.IpRanges && !missing.Ipv6Ranges) continue;
    const request = { GroupId: groupId, IpPermissions: [missing] };
    try {
      if (egress) await ec2.send(new AuthorizeSecurityGroupEgressCommand(request));
      else await ec2.send(new AuthorizeSecurityGroupIngressCommand(request));
    } catch (err) {
      if (awsErrorName(err) !== 'InvalidPermission.Duplicate') throw err; // a concurrent execution added it
    }
  }
}

/** Revoke every rule, including the IPv4 and IPv6 default egress rules a new group carries. */
export async function enforceNoRules(ec2: EC2Client, groupId: string, attempt = 1): Promise<void> {
  const rules = await describeRules(ec2, groupId);
  const ids = (egress: boolean) =>
    rules.filter((r) => Boolean(r.IsEgress) === egress && r.SecurityGroupRuleId).map((r) => r.SecurityGroupRuleId as string);
  const egressIds = ids(true);
  const ingressIds = ids(false);
  try {
    if (egressIds.length) {
      await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: groupId, SecurityGroupRuleIds: egressIds }));
    }
    if (ingressIds.length) {
      await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, SecurityGroupRuleIds: ingressIds }));
    }
  } catch (err) {
    // A concurrent execution preparing the same VPC revoked them first: check again rather than fail.
    if (awsErrorName(err) !== 'InvalidSecurityGroupRuleId.NotFound' || attempt >= 3) throw err;
    await enforceNoRules(ec2, groupId, attempt + 1);
  }
}
