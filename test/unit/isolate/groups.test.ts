/**
 * The prepare step (lambdas/isolate/groups.ts): cordon's groups are the ones the hub ledger records,
 * never ones found by tag or name. A small in-memory EC2 (security groups and rules) and an in-memory
 * ledger sit behind aws-sdk-client-mock, so each test asserts what happened to every group.
 */
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type AuthorizeSecurityGroupIngressCommandInput,
  type CreateSecurityGroupCommandInput,
  type DescribeSecurityGroupRulesCommandInput,
  type DescribeSecurityGroupsCommandInput,
  type RevokeSecurityGroupEgressCommandInput,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import { DynamoDBDocumentClient, GetCommand, PutCommand, type GetCommandInput, type PutCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { groupSk, groupsPk, type GroupRecord } from '../../../lambdas/shared/group-records';
import type { InterfaceSummary } from '../../../lambdas/shared/workflow';
import {
  GroupNotVisibleError,
  isolate,
  IsolationGroupConflictError,
  NOT_FOUND_BACKOFF_MS,
  type IsolateDeps,
  type IsolateInput,
  type PreparedGroups,
} from '../../../lambdas/isolate/isolate';
import { awsError, rejectionOf, testClientFactory } from '../../support/clients';

const ec2Mock = mockClient(EC2Client);
const ddbMock = mockClient(DynamoDBDocumentClient);

const TABLE = 'cordon-ledger';
const TARGET = { accountId: '111122223333', region: 'eu-west-1', instanceId: 'i-0123456789abcdef0' };
const BASE = { target: TARGET, incidentId: 'inc-111122223333-eu-west-1-i-0123456789abcdef0', requestId: 'req-1' };
const VPC_A = 'vpc-0aaaaaaaaaaaaaaa1';
const VPC_B = 'vpc-0bbbbbbbbbbbbbbb2';
const ENI_0 = 'eni-0000000000000000a';
const ORIGINAL_SG = 'sg-0f0f0f0f0f0f0f0f0';
const PROD = 'sg-0dddddddddddddd01';
const NOW = new Date('2025-06-01T12:00:00.000Z');
const LONG_AGO = '2025-01-01T00:00:00.000Z';

interface Group {
  vpcId: string;
  name: string;
  tags: Record<string, string>;
  rules: SecurityGroupRule[];
}

/** The security groups of the member account, and how many more calls each new id answers NotFound to. */
let groups: Map<string, Group>;
let invisible: Map<string, number>;
let nextIds: string[];
/** The hub ledger, by `${pk}|${sk}`. */
let ledger: Map<string, Record<string, unknown>>;
/** Runs once, just before the first conditional put lands: another execution recording first. */
let beforeFirstPut: (() => void) | undefined;
let slept: number[];
let deps: IsolateDeps;
let ruleSeq: number;

const ruleId = () => `sgr-${String(++ruleSeq).padStart(17, '0')}`;
const allTraffic = (egress: boolean): SecurityGroupRule[] => [
  { SecurityGroupRuleId: ruleId(), IsEgress: egress, IpProtocol: '-1', CidrIpv4: '0.0.0.0/0' },
  { SecurityGroupRuleId: ruleId(), IsEgress: egress, IpProtocol: '-1', CidrIpv6: '::/0' },
];
const PROD_RULES = (): SecurityGroupRule[] => [
  { SecurityGroupRuleId: 'sgr-prod-https', IsEgress: false, IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIpv4: '10.0.0.0/8' },
  { SecurityGroupRuleId: 'sgr-prod-out', IsEgress: true, IpProtocol: '-1', CidrIpv4: '0.0.0.0/0' },
];

function seen(id: string): Group {
  const g = groups.get(id);
  const left = invisible.get(id) ?? 0;
  if (left > 0) invisible.set(id, left - 1);
  if (!g || left > 0) throw awsError('InvalidGroup.NotFound', { message: `The security group '${id}' does not exist` });
  return g;
}

function installFakes(): void {
  ec2Mock.on(DescribeSecurityGroupsCommand).callsFake((input: DescribeSecurityGroupsCommandInput) => {
    if (input.Filters?.length) throw new Error('test: cordon must never look groups up by filter (tag, name or VPC)');
    return { SecurityGroups: (input.GroupIds ?? []).map((id) => ({ GroupId: id, VpcId: seen(id).vpcId, GroupName: seen(id).name })) };
  });
  ec2Mock.on(CreateSecurityGroupCommand).callsFake((input: CreateSecurityGroupCommandInput) => {
    const clash = [...groups.values()].some((g) => g.vpcId === input.VpcId && g.name === input.GroupName);
    if (clash) throw awsError('InvalidGroup.Duplicate');
    const id = nextIds.shift();
    if (!id) throw new Error('test: no more group ids');
    const tags = Object.fromEntries((input.TagSpecifications?.[0]?.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
    groups.set(id, { vpcId: input.VpcId ?? '', name: input.GroupName ?? '', tags, rules: allTraffic(true) });
    return { GroupId: id };
  });
  ec2Mock.on(DescribeSecurityGroupRulesCommand).callsFake((input: DescribeSecurityGroupRulesCommandInput) => {
    const id = input.Filters?.find((f) => f.Name === 'group-id')?.Values?.[0] ?? '';
    return { SecurityGroupRules: seen(id).rules.map((r) => ({ ...r, GroupId: id })) };
  });
  const authorize = (egress: boolean) => (input: AuthorizeSecurityGroupIngressCommandInput) => {
    const g = seen(input.GroupId ?? '');
    for (const p of input.IpPermissions ?? []) {
      for (const r of p.IpRanges ?? []) g.rules.push({ SecurityGroupRuleId: ruleId(), IsEgress: egress, IpProtocol: p.IpProtocol, CidrIpv4: r.CidrIp });
      for (const r of p.Ipv6Ranges ?? []) g.rules.push({ SecurityGroupRuleId: ruleId(), IsEgress: egress, IpProtocol: p.IpProtocol, CidrIpv6: r.CidrIpv6 });
    }
    return { Return: true };
  };
  ec2Mock.on(AuthorizeSecurityGroupIngressCommand).callsFake(authorize(false));
  ec2Mock.on(AuthorizeSecurityGroupEgressCommand).callsFake(authorize(true));
  const revoke = (input: RevokeSecurityGroupEgressCommandInput) => {
    const g = seen(input.GroupId ?? '');
    g.rules = g.rules.filter((r) => !(input.SecurityGroupRuleIds ?? []).includes(r.SecurityGroupRuleId ?? ''));
    return { Return: true };
  };
  ec2Mock.on(RevokeSecurityGroupEgressCommand).callsFake(revoke);
  ec2Mock.on(RevokeSecurityGroupIngressCommand).callsFake(revoke);
  ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).resolves({});

  const key = (k: Record<string, unknown>) => `${String(k.pk)}|${String(k.sk)}`;
  ddbMock.on(GetCommand).callsFake((input: GetCommandInput) => ({ Item: ledger.get(key(input.Key ?? {})) }));
  ddbMock.on(PutCommand).callsFake((input: PutCommandInput) => {
    if (beforeFirstPut) {
      beforeFirstPut();
      beforeFirstPut = undefined;
    }
    const item = input.Item ?? {};
    const old = ledger.get(key(item));
    const ok =
      input.ConditionExpression === 'attribute_not_exists(pk)'
        ? old === undefined
        : input.ConditionExpression === 'groupId = :old'
          ? old?.groupId === input.ExpressionAttributeValues?.[':old']
          : false;
    if (!ok) throw awsError('ConditionalCheckFailedException');
    ledger.set(key(item), item);
    return {};
  });
}

function record(vpcId: string, purpose: 'untrack' | 'isolation', groupId: string, createdAt = LONG_AGO): GroupRecord {
  return { accountId: TARGET.accountId, region: TARGET.region, vpcId, purpose, groupId, groupName: `cordon-${purpose}-${vpcId}-0123456789ab`, createdAt, incidentId: 'inc-111122223333-eu-west-1-i-0fedcba9876543210', requestId: 'req-0' };
}
function putRecord(r: GroupRecord): void {
  ledger.set(`${groupsPk(r.accountId, r.region)}|${groupSk(r.vpcId, r.purpose)}`, { pk: groupsPk(r.accountId, r.region), sk: groupSk(r.vpcId, r.purpose), ...r });
}
const recordedId = (vpcId: string, purpose: 'untrack' | 'isolation') =>
  ledger.get(`${groupsPk(TARGET.accountId, TARGET.region)}|${groupSk(vpcId, purpose)}`)?.groupId;

function eni(vpcId = VPC_A): InterfaceSummary {
  return { networkInterfaceId: ENI_0, vpcId, deviceIndex: 0, groupIds: [ORIGINAL_SG], ipv6: false, tcpEstablishedTimeout: null };
}
const prepare = (interfaces: InterfaceSummary[] = [eni()]): Promise<PreparedGroups> =>
  isolate({ ...BASE, step: 'prepare', interfaces } as IsolateInput, deps) as Promise<PreparedGroups>;

/** Every EC2 request that named the group. */
const touching = (id: string) =>
  ec2Mock.calls().filter((c) => JSON.stringify((c.args[0] as { input: unknown }).input).includes(id));

beforeEach(() => {
  ec2Mock.reset();
  ddbMock.reset();
  groups = new Map();
  invisible = new Map();
  nextIds = ['sg-0aaaaaaaaaaaaaa01', 'sg-0aaaaaaaaaaaaaa02', 'sg-0bbbbbbbbbbbbbb01', 'sg-0bbbbbbbbbbbbbb02'];
  ledger = new Map();
  beforeFirstPut = undefined;
  slept = [];
  ruleSeq = 0;
  installFakes();
  deps = {
    factory: testClientFactory(),
    config: { tcpEstablishedTimeout: 60, ledgerTable: TABLE },
    now: () => NOW,
    sleep: async (ms) => {
      slept.push(ms);
    },
  };
});

describe('a hostile tenant cannot steer cordon with tags or names', () => {
  it.each(['untrack', 'isolation'] as const)(
    'a production group tagged cordon:purpose=%s (and named like cordon\'s) is never described, authorized or revoked; the ENI goes through the groups cordon created and recorded',
    async (purpose) => {
      // Prepare: the attacker's bait, carrying every label cordon puts on its own groups
      groups.set(PROD, {
        vpcId: VPC_A,
        name: `cordon-${purpose}-${VPC_A}`,
        tags: { 'cordon:managed': 'true', 'cordon:purpose': purpose, Name: `cordon-${purpose}-${VPC_A}` },
        rules: PROD_RULES(),
      });

      // Act
      const result = await prepare();
      await isolate({ ...BASE, step: 'untrack', interface: result.interfaces[0] } as IsolateInput, deps);

      // Assess: the production group was never part of any request, and its rules are as they were
      expect(touching(PROD)).toEqual([]);
      expect(groups.get(PROD)?.rules).toEqual(PROD_RULES());
      expect(ec2Mock.commandCalls(DescribeSecurityGroupsCommand).map((c) => c.args[0].input)).toEqual([]);
      expect(result.groups).toEqual([{ vpcId: VPC_A, untrackGroupId: 'sg-0aaaaaaaaaaaaaa01', isolationGroupId: 'sg-0aaaaaaaaaaaaaa02' }]);
      expect(recordedId(VPC_A, 'untrack')).toBe('sg-0aaaaaaaaaaaaaa01');
      expect(recordedId(VPC_A, 'isolation')).toBe('sg-0aaaaaaaaaaaaaa02');
      expect(groups.get('sg-0aaaaaaaaaaaaaa01')?.rules.map((r) => [r.IsEgress, r.CidrIpv4 ?? r.CidrIpv6]).sort()).toEqual([
        [false, '0.0.0.0/0'],
        [false, '::/0'],
        [true, '0.0.0.0/0'],
        [true, '::/0'],
      ]);
      expect(groups.get('sg-0aaaaaaaaaaaaaa02')?.rules).toEqual([]);
      expect(ec2Mock).toHaveReceivedCommandWith(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: ENI_0, Groups: ['sg-0aaaaaaaaaaaaaa01'] });
    },
  );

  it('a squatted name does not block isolation: created names carry 12 random hex digits, different each time', async () => {
    // Prepare: untagged groups squatting the old predictable names
    groups.set(PROD, { vpcId: VPC_A, name: `cordon-isolation-${VPC_A}`, tags: {}, rules: PROD_RULES() });
    groups.set('sg-0ddddddddddddd002', { vpcId: VPC_A, name: `cordon-untrack-${VPC_A}`, tags: {}, rules: [] });

    // Act: two VPCs, four creations
    const result = await prepare([eni(VPC_A), { ...eni(VPC_B), networkInterfaceId: 'eni-1111111111111111b' }]);

    // Assess
    const creates = ec2Mock.commandCalls(CreateSecurityGroupCommand).map((c) => c.args[0].input);
    expect(creates.map((c) => c.GroupName)).toEqual([
      expect.stringMatching(new RegExp(`^cordon-untrack-${VPC_A}-[0-9a-f]{12}$`)),
      expect.stringMatching(new RegExp(`^cordon-isolation-${VPC_A}-[0-9a-f]{12}$`)),
      expect.stringMatching(new RegExp(`^cordon-untrack-${VPC_B}-[0-9a-f]{12}$`)),
      expect.stringMatching(new RegExp(`^cordon-isolation-${VPC_B}-[0-9a-f]{12}$`)),
    ]);
    const suffixes = creates.map((c) => c.GroupName?.slice(-12));
    expect(new Set(suffixes).size).toBe(4);
    // The tags are labels on what cordon made, the Name tag its real name
    expect(creates[1]?.TagSpecifications).toEqual([
      {
        ResourceType: 'security-group',
        Tags: [
          { Key: 'cordon:managed', Value: 'true' },
          { Key: 'cordon:purpose', Value: 'isolation' },
          { Key: 'Name', Value: creates[1]?.GroupName },
        ],
      },
    ]);
    expect(result.groups[0]?.isolationGroupId).toBe('sg-0aaaaaaaaaaaaaa02');
    expect(touching(PROD)).toEqual([]);
    expect(touching('sg-0ddddddddddddd002')).toEqual([]);
  });
});

describe('recorded groups', () => {
  it('reuses the recorded groups (described by id only) and enforces their rules: allow-all on untrack, nothing on isolation', async () => {
    // Prepare: recorded long ago; someone edited both since
    groups.set('sg-0aaaaaaaaaaaaaa77', { vpcId: VPC_A, name: 'cordon-untrack-x', tags: {}, rules: [allTraffic(true)[0] as SecurityGroupRule] });
    groups.set('sg-0aaaaaaaaaaaaaa88', {
      vpcId: VPC_A,
      name: 'cordon-isolation-x',
      tags: {},
      rules: [{ SecurityGroupRuleId: 'sgr-stray-ssh', IsEgress: false, IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIpv4: '0.0.0.0/0' }],
    });
    putRecord(record(VPC_A, 'untrack', 'sg-0aaaaaaaaaaaaaa77'));
    putRecord(record(VPC_A, 'isolation', 'sg-0aaaaaaaaaaaaaa88'));

    // Act
    const result = await prepare();

    // Assess
    expect(ec2Mock).not.toHaveReceivedCommand(CreateSecurityGroupCommand);
    expect(ddbMock).not.toHaveReceivedCommand(PutCommand);
    expect(ec2Mock.commandCalls(DescribeSecurityGroupsCommand).map((c) => c.args[0].input)).toEqual([
      { GroupIds: ['sg-0aaaaaaaaaaaaaa77'] },
      { GroupIds: ['sg-0aaaaaaaaaaaaaa88'] },
    ]);
    expect(ddbMock).toHaveReceivedCommandWith(GetCommand, {
      TableName: TABLE,
      Key: { pk: 'groups-111122223333-eu-west-1', sk: `GROUP#${VPC_A}#untrack` },
      ConsistentRead: true,
    });
    expect(ec2Mock).toHaveReceivedCommandWith(AuthorizeSecurityGroupIngressCommand, {
      GroupId: 'sg-0aaaaaaaaaaaaaa77',
      IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [{ CidrIpv6: '::/0' }] }],
    });
    expect(ec2Mock).toHaveReceivedCommandWith(AuthorizeSecurityGroupEgressCommand, {
      GroupId: 'sg-0aaaaaaaaaaaaaa77',
      IpPermissions: [{ IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '::/0' }] }],
    });
    expect(ec2Mock).toHaveReceivedCommandWith(RevokeSecurityGroupIngressCommand, { GroupId: 'sg-0aaaaaaaaaaaaaa88', SecurityGroupRuleIds: ['sgr-stray-ssh'] });
    expect(groups.get('sg-0aaaaaaaaaaaaaa77')?.rules).toHaveLength(4);
    expect(groups.get('sg-0aaaaaaaaaaaaaa88')?.rules).toEqual([]);
    expect(result.groups).toEqual([{ vpcId: VPC_A, untrackGroupId: 'sg-0aaaaaaaaaaaaaa77', isolationGroupId: 'sg-0aaaaaaaaaaaaaa88' }]);
    expect(result.unusedGroupIds).toBeUndefined();
  });

  it('a recorded group that was deleted is created anew, and the record replaced only if it still names the deleted one', async () => {
    // Prepare: the isolation group was deleted out of band (an old record: NotFound is not consistency lag)
    groups.set('sg-0aaaaaaaaaaaaaa77', { vpcId: VPC_A, name: 'u', tags: {}, rules: [...allTraffic(true), ...allTraffic(false)] });
    putRecord(record(VPC_A, 'untrack', 'sg-0aaaaaaaaaaaaaa77'));
    putRecord(record(VPC_A, 'isolation', 'sg-0aaaaaaaaaaaaaa88'));
    nextIds = ['sg-0aaaaaaaaaaaaaa99'];

    // Act
    const result = await prepare();

    // Assess
    expect(slept).toEqual([]);
    expect(result.groups[0]?.isolationGroupId).toBe('sg-0aaaaaaaaaaaaaa99');
    expect(ddbMock).toHaveReceivedCommandTimes(PutCommand, 1);
    expect(ddbMock).toHaveReceivedCommandWith(PutCommand, {
      TableName: TABLE,
      ConditionExpression: 'groupId = :old',
      ExpressionAttributeValues: { ':old': 'sg-0aaaaaaaaaaaaaa88' },
    });
    expect(ledger.get(`groups-111122223333-eu-west-1|GROUP#${VPC_A}#isolation`)).toEqual(
      expect.objectContaining({ groupId: 'sg-0aaaaaaaaaaaaaa99', incidentId: BASE.incidentId, requestId: 'req-1', createdAt: NOW.toISOString(), vpcId: VPC_A }),
    );
  });

  it('a recorded id that is in another VPC is refused (IsolationGroupConflictError) and nothing is changed', async () => {
    groups.set('sg-0aaaaaaaaaaaaaa77', { vpcId: VPC_B, name: 'elsewhere', tags: {}, rules: PROD_RULES() });
    putRecord(record(VPC_A, 'untrack', 'sg-0aaaaaaaaaaaaaa77'));

    const err = await rejectionOf(prepare());

    expect(err).toBeInstanceOf(IsolationGroupConflictError);
    expect(err.message).toContain('sg-0aaaaaaaaaaaaaa77');
    expect(groups.get('sg-0aaaaaaaaaaaaaa77')?.rules).toEqual(PROD_RULES());
    expect(ec2Mock).not.toHaveReceivedCommand(CreateSecurityGroupCommand);
    expect(ec2Mock).not.toHaveReceivedCommand(DescribeSecurityGroupRulesCommand);
  });

  it('the race loser uses the winner\'s group, reports its own unused, and deletes nothing', async () => {
    // Prepare: another incident records its untrack group between our read and our conditional put
    groups.set('sg-0ccccccccccccccc1', { vpcId: VPC_A, name: 'theirs', tags: {}, rules: allTraffic(true) });
    beforeFirstPut = () => putRecord(record(VPC_A, 'untrack', 'sg-0ccccccccccccccc1', NOW.toISOString()));

    // Act
    const result = await prepare();

    // Assess
    expect(result.groups).toEqual([{ vpcId: VPC_A, untrackGroupId: 'sg-0ccccccccccccccc1', isolationGroupId: 'sg-0aaaaaaaaaaaaaa02' }]);
    expect(result.unusedGroupIds).toEqual(['sg-0aaaaaaaaaaaaaa01']);
    expect(recordedId(VPC_A, 'untrack')).toBe('sg-0ccccccccccccccc1');
    expect(groups.has('sg-0aaaaaaaaaaaaaa01')).toBe(true);
    expect(touching('sg-0aaaaaaaaaaaaaa01').map((c) => c.args[0].constructor.name)).toEqual([]);
    expect(groups.get('sg-0ccccccccccccccc1')?.rules).toHaveLength(4);
    expect(ddbMock).toHaveReceivedCommandWith(PutCommand, { ConditionExpression: 'attribute_not_exists(pk)' });
  });
});

describe('EC2 eventual consistency after CreateSecurityGroup', () => {
  it('retries InvalidGroup.NotFound with backoff and then succeeds', async () => {
    // Prepare: the new untrack group answers NotFound twice
    nextIds = ['sg-0aaaaaaaaaaaaaa01', 'sg-0aaaaaaaaaaaaaa02'];
    const create = ec2Mock.commandCalls.bind(ec2Mock);
    invisible.set('sg-0aaaaaaaaaaaaaa01', 2);

    // Act
    const result = await prepare();

    // Assess
    expect(slept).toEqual([500, 1000]);
    expect(create(DescribeSecurityGroupRulesCommand).filter((c) => c.args[0].input.Filters?.[0]?.Values?.[0] === 'sg-0aaaaaaaaaaaaaa01')).toHaveLength(3);
    expect(groups.get('sg-0aaaaaaaaaaaaaa01')?.rules).toHaveLength(4);
    expect(result.groups[0]?.untrackGroupId).toBe('sg-0aaaaaaaaaaaaaa01');
  });

  it('gives up after the window with GroupNotVisibleError, having changed nothing on any other group', async () => {
    invisible.set('sg-0aaaaaaaaaaaaaa01', 99);

    const err = await rejectionOf(prepare());

    expect(err).toBeInstanceOf(GroupNotVisibleError);
    expect(err.name).toBe('GroupNotVisibleError');
    expect(err.message).toContain('sg-0aaaaaaaaaaaaaa01');
    expect(slept).toEqual([...NOT_FOUND_BACKOFF_MS]);
    expect(slept.reduce((a, b) => a + b, 0)).toBeLessThan(15_000);
    expect(ec2Mock).toHaveReceivedCommandTimes(CreateSecurityGroupCommand, 1);
  });

  it('does not retry NotFound on a group recorded long ago (it was deleted): it is replaced at once', async () => {
    putRecord(record(VPC_A, 'untrack', 'sg-0aaaaaaaaaaaaaa77'));
    putRecord(record(VPC_A, 'isolation', 'sg-0aaaaaaaaaaaaaa88'));
    nextIds = ['sg-0aaaaaaaaaaaaaa01', 'sg-0aaaaaaaaaaaaaa02'];

    const result = await prepare();

    expect(slept).toEqual([]);
    expect(result.groups).toEqual([{ vpcId: VPC_A, untrackGroupId: 'sg-0aaaaaaaaaaaaaa01', isolationGroupId: 'sg-0aaaaaaaaaaaaaa02' }]);
  });
});
