/**
 * IsolateNetwork's `prepare` step (docs/design.md §3.3): per VPC, cordon's two security groups,
 * *untrack* (allow-all in and out, IPv4 and IPv6) and *isolation* (no rules at all), their rules
 * enforced every time. cordon knows its groups from the hub ledger only (lambdas/shared/group-records.ts):
 * a group is cordon's when the ledger records its id for (account, region, VPC, purpose). Tags and names
 * are labels for people; a group carrying cordon's tags or name that the ledger does not record is never
 * used and never changed. Concurrent executions preparing the same VPC converge on the recorded groups.
 * The per-interface steps that use them are in isolate.ts.
 */
import { randomBytes } from 'node:crypto';
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
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { CordonError } from '../shared/errors';
import { getGroupRecord, recordGroup, type GroupPurpose, type GroupRecord } from '../shared/group-records';
import { awsErrorName } from '../shared/handler';
import type { Target } from '../shared/schemas';
import { InterfaceSummary, SecurityGroupId } from '../shared/workflow';

export type { GroupPurpose } from '../shared/group-records';

/** Labels on the groups cordon creates, for people reading the console (and the member role's IAM guard); never read back. */
export const MANAGED_TAG = 'cordon:managed';
export const PURPOSE_TAG = 'cordon:purpose';

/** A recorded group that exists in another VPC than its record says: the record is not trusted, nothing is changed. */
export class IsolationGroupConflictError extends CordonError {
  constructor(message: string) {
    super('IsolationGroupConflictError', message);
  }
}

/** A group cordon created (or another execution just recorded) stayed InvalidGroup.NotFound past the consistency window. */
export class GroupNotVisibleError extends CordonError {
  constructor(message: string) {
    super('GroupNotVisibleError', message);
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
  /** Groups this execution created but another execution recorded first: left in place, never used. */
  unusedGroupIds?: string[];
}

/** What the prepare step works with: the target's EC2, the hub ledger, and who is asking. */
export interface GroupContext {
  readonly ec2: EC2Client;
  readonly ddb: DynamoDBDocumentClient;
  readonly ledgerTable: string;
  readonly target: Target;
  readonly incidentId: string;
  readonly requestId: string;
  readonly now: () => Date;
  /** Waits between NotFound retries (tests hand in their own). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * EC2 is eventually consistent: a group just created may answer InvalidGroup.NotFound for a while
 * ("Eventual consistency in the Amazon EC2 API"). Waits before each retry: 7.5 s in all, well under
 * the Lambda's 60 s timeout.
 */
export const NOT_FOUND_BACKOFF_MS = [500, 1000, 2000, 4000] as const;
/** A record younger than this names a group that may not be visible yet everywhere. */
export const FRESH_RECORD_MS = 5 * 60_000;
const NOT_FOUND = new Set(['InvalidGroup.NotFound', 'InvalidGroupId.NotFound', 'InvalidSecurityGroupID.NotFound']);

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Run `call`, retrying the NotFound class with backoff when the group is fresh; a named error after the window. */
export async function whileInvisible<T>(
  groupId: string,
  fresh: boolean,
  call: () => Promise<T>,
  sleep: (ms: number) => Promise<void> = defaultSleep,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!NOT_FOUND.has(awsErrorName(err) ?? '') || !fresh) throw err;
      const wait = NOT_FOUND_BACKOFF_MS[attempt];
      if (wait === undefined) {
        const total = NOT_FOUND_BACKOFF_MS.reduce((a, b) => a + b, 0);
        throw new GroupNotVisibleError(
          `security group ${groupId} was still ${awsErrorName(err)} after ${attempt + 1} attempts over ${total} ms (EC2 eventual consistency)`,
        );
      }
      await sleep(wait);
    }
  }
}

/** One untrack and one isolation group per VPC the interfaces are in, and each interface with its VPC's two. */
export async function prepareGroups(ctx: GroupContext, input: { readonly interfaces: readonly InterfaceSummary[] }): Promise<PreparedGroups> {
  const vpcIds = [...new Set(input.interfaces.map((i) => i.vpcId))].sort();
  const groups: PreparedGroups['groups'] = [];
  const unused: string[] = [];
  for (const vpcId of vpcIds) {
    const untrack = await ensureGroup(ctx, vpcId, 'untrack');
    await whileInvisible(untrack.groupId, untrack.fresh, () => enforceUntrackRules(ctx.ec2, untrack.groupId), ctx.sleep);
    const isolation = await ensureGroup(ctx, vpcId, 'isolation');
    await whileInvisible(isolation.groupId, isolation.fresh, () => enforceNoRules(ctx.ec2, isolation.groupId), ctx.sleep);
    unused.push(...untrack.unused, ...isolation.unused);
    groups.push({ vpcId, untrackGroupId: untrack.groupId, isolationGroupId: isolation.groupId });
  }
  const byVpc = new Map(groups.map((g) => [g.vpcId, g]));
  return {
    groups,
    interfaces: input.interfaces.map((i) => {
      const g = byVpc.get(i.vpcId) as PreparedGroups['groups'][number];
      return { ...i, untrackGroupId: g.untrackGroupId, isolationGroupId: g.isolationGroupId };
    }),
    ...(unused.length ? { unusedGroupIds: unused.sort() } : {}),
  };
}

/** `cordon-<purpose>-<vpc>-<12 random hex>`: nobody can take the name before cordon creates the group. */
export function groupName(purpose: GroupPurpose, vpcId: string): string {
  return `cordon-${purpose}-${vpcId}-${randomBytes(6).toString('hex')}`;
}

export interface EnsuredGroup {
  readonly groupId: string;
  /** Created moments ago (by this execution or another): NotFound may still be eventual consistency. */
  readonly fresh: boolean;
  /** Groups this call created that lost the race to record. */
  readonly unused: string[];
}

/** Whether the recorded group still exists; its VPC checked. */
async function recordedGroupExists(ctx: GroupContext, record: GroupRecord, fresh: boolean): Promise<boolean> {
  let found;
  try {
    found = await whileInvisible(
      record.groupId,
      fresh,
      async () => {
        const out = await ctx.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [record.groupId] }));
        const group = (out.SecurityGroups ?? []).find((g) => g.GroupId === record.groupId);
        if (!group) throw Object.assign(new Error(`security group ${record.groupId} not described`), { name: 'InvalidGroup.NotFound' });
        return group;
      },
      ctx.sleep,
    );
  } catch (err) {
    if (NOT_FOUND.has(awsErrorName(err) ?? '') || err instanceof GroupNotVisibleError) return false;
    throw err;
  }
  if (found.VpcId !== record.vpcId) {
    throw new IsolationGroupConflictError(
      `the ledger records ${record.groupId} as cordon's ${record.purpose} group of ${record.vpcId}, but it is in ${found.VpcId ?? 'no VPC'}; cordon changes nothing`,
    );
  }
  return true;
}

async function createGroup(ctx: GroupContext, vpcId: string, purpose: GroupPurpose): Promise<{ groupId: string; name: string }> {
  for (let attempt = 1; ; attempt++) {
    const name = groupName(purpose, vpcId);
    try {
      const out = await ctx.ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: name,
          VpcId: vpcId,
          Description:
            purpose === 'untrack'
              ? 'cordon: allow-all step that untracks live flows before isolation. Do not edit.'
              : 'cordon: isolation group with no rules. Do not edit.',
          // Labels only: cordon never reads them back to decide anything.
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
      return { groupId: out.GroupId, name };
    } catch (err) {
      // 48 random bits make a clash all but impossible; a fresh name settles it.
      if (awsErrorName(err) !== 'InvalidGroup.Duplicate' || attempt >= 3) throw err;
    }
  }
}

/**
 * The recorded group for (VPC, purpose), reused while it exists; created and recorded when there is none
 * or it was deleted. The record is written conditionally, so of two executions racing, one records and
 * the other uses the winner's group (its own is reported unused, never deleted).
 */
export async function ensureGroup(ctx: GroupContext, vpcId: string, purpose: GroupPurpose): Promise<EnsuredGroup> {
  const { accountId, region } = ctx.target;
  const now = ctx.now();
  const isFresh = (r: GroupRecord) => now.getTime() - Date.parse(r.createdAt) < FRESH_RECORD_MS;
  const record = await getGroupRecord(ctx.ddb, ctx.ledgerTable, { accountId, region, vpcId, purpose });
  if (record && (await recordedGroupExists(ctx, record, isFresh(record)))) {
    return { groupId: record.groupId, fresh: isFresh(record), unused: [] };
  }
  const created = await createGroup(ctx, vpcId, purpose);
  const outcome = await recordGroup(
    ctx.ddb,
    ctx.ledgerTable,
    {
      accountId,
      region,
      vpcId,
      purpose,
      groupId: created.groupId,
      groupName: created.name,
      createdAt: now.toISOString(),
      incidentId: ctx.incidentId,
      requestId: ctx.requestId,
    },
    record?.groupId,
  );
  if (outcome.recorded) return { groupId: created.groupId, fresh: true, unused: [] };
  return { groupId: outcome.winner.groupId, fresh: isFresh(outcome.winner), unused: [created.groupId] };
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
