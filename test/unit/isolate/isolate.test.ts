import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type DescribeSecurityGroupRulesCommandInput,
  type DescribeSecurityGroupsCommandInput,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { IsolationVerificationError, TransientAwsError } from '../../../lambdas/shared/errors';
import type { InterfaceSummary } from '../../../lambdas/shared/workflow';
import { createHandler } from '../../../lambdas/isolate/handler';
import {
  isolate,
  IsolationGroupConflictError,
  type InterfaceResult,
  type IsolateDeps,
  type IsolateInput,
  type PreparedGroups,
  type PreparedInterface,
  type UntrackResult,
} from '../../../lambdas/isolate/isolate';
import { awsError, rejectionOf, testClientFactory, type TestClientFactory } from '../../support/clients';

const ec2Mock = mockClient(EC2Client);

const TARGET = { accountId: '111122223333', region: 'eu-west-1', instanceId: 'i-0123456789abcdef0' };
const BASE = { target: TARGET, incidentId: 'inc-111122223333-eu-west-1-i-0123456789abcdef0', requestId: 'req-1' };
const VPC_A = 'vpc-0aaaaaaaaaaaaaaa1';
const VPC_B = 'vpc-0bbbbbbbbbbbbbbb2';
const ENI_0 = 'eni-0000000000000000a';
const ENI_1 = 'eni-1111111111111111b';
const ORIGINAL_SG = 'sg-0f0f0f0f0f0f0f0f0';
const UNTRACK_A = 'sg-0aaaaaaaaaaaaaa01';
const ISOLATION_A = 'sg-0aaaaaaaaaaaaaa02';
const UNTRACK_B = 'sg-0bbbbbbbbbbbbbb01';
const ISOLATION_B = 'sg-0bbbbbbbbbbbbbb02';
const NOW = new Date('2025-06-01T12:00:30.000Z');
const UNTRACKED_AT = '2025-06-01T12:00:00.000Z';

const MANAGED_TAGS = (purpose: string, vpcId: string) => [
  {
    ResourceType: 'security-group',
    Tags: [
      { Key: 'cordon:managed', Value: 'true' },
      { Key: 'cordon:purpose', Value: purpose },
      { Key: 'Name', Value: `cordon-${purpose}-${vpcId}` },
    ],
  },
];

function eni(id: string, vpcId: string, deviceIndex: number, extra: Partial<InterfaceSummary> = {}): InterfaceSummary {
  return { networkInterfaceId: id, vpcId, deviceIndex, groupIds: [ORIGINAL_SG], ipv6: false, tcpEstablishedTimeout: null, ...extra };
}

function prepared(extra: Partial<PreparedInterface> = {}): PreparedInterface {
  return { ...eni(ENI_0, VPC_A, 0), untrackGroupId: UNTRACK_A, isolationGroupId: ISOLATION_A, ...extra };
}

/** The rules EC2 gives a brand-new security group in a dual-stack VPC: IPv4 and IPv6 allow-all egress. */
function defaultEgress(groupId: string): SecurityGroupRule[] {
  return [
    { SecurityGroupRuleId: `sgr-${groupId.slice(3)}e4`, GroupId: groupId, IsEgress: true, IpProtocol: '-1', CidrIpv4: '0.0.0.0/0' },
    { SecurityGroupRuleId: `sgr-${groupId.slice(3)}e6`, GroupId: groupId, IsEgress: true, IpProtocol: '-1', CidrIpv6: '::/0' },
  ];
}

function allowAll(groupId: string): SecurityGroupRule[] {
  return [
    ...defaultEgress(groupId),
    { SecurityGroupRuleId: 'sgr-in4', GroupId: groupId, IsEgress: false, IpProtocol: '-1', CidrIpv4: '0.0.0.0/0' },
    { SecurityGroupRuleId: 'sgr-in6', GroupId: groupId, IsEgress: false, IpProtocol: '-1', CidrIpv6: '::/0' },
  ];
}

/**
 * A small in-memory EC2: security groups found by (vpc, purpose) tag filters, and rules by group id.
 * `tagged` lists what DescribeSecurityGroups returns on successive calls for a key `${vpc}/${purpose}`.
 */
function fakeGroups(tagged: Record<string, string[][]>, rules: Record<string, SecurityGroupRule[]>) {
  const calls: Record<string, number> = {};
  ec2Mock.on(DescribeSecurityGroupsCommand).callsFake((input: DescribeSecurityGroupsCommandInput) => {
    const vpc = input.Filters?.find((f) => f.Name === 'vpc-id')?.Values?.[0];
    const purpose = input.Filters?.find((f) => f.Name === 'tag:cordon:purpose')?.Values?.[0];
    const key = `${vpc}/${purpose}`;
    const n = calls[key] ?? 0;
    calls[key] = n + 1;
    const answers = tagged[key] ?? [[]];
    const ids = answers[Math.min(n, answers.length - 1)] ?? [];
    return { SecurityGroups: ids.map((GroupId) => ({ GroupId, VpcId: vpc })) };
  });
  ec2Mock.on(DescribeSecurityGroupRulesCommand).callsFake((input: DescribeSecurityGroupRulesCommandInput) => {
    const groupId = input.Filters?.[0]?.Values?.[0] ?? '';
    return { SecurityGroupRules: rules[groupId] ?? [] };
  });
}

let factory: TestClientFactory;
let deps: IsolateDeps;

beforeEach(() => {
  ec2Mock.reset();
  factory = testClientFactory();
  deps = { factory, config: { tcpEstablishedTimeout: 60 }, now: () => NOW };
});

afterEach(() => {
  // DESIGN.md §3: ModifyInstanceAttribute Groups fails on multi-ENI instances and is never used.
  expect(ec2Mock).not.toHaveReceivedCommand(ModifyInstanceAttributeCommand);
});

describe('isolate step "prepare"', () => {
  const input = (interfaces: InterfaceSummary[]): IsolateInput => ({ ...BASE, step: 'prepare', interfaces });

  it('creates the untrack group, then the isolation group, with the cordon tags and exactly the right rules', async () => {
    // Prepare: nothing tagged yet; new groups carry the two default egress rules
    fakeGroups({}, { [UNTRACK_A]: defaultEgress(UNTRACK_A), [ISOLATION_A]: defaultEgress(ISOLATION_A) });
    ec2Mock.on(CreateSecurityGroupCommand, { GroupName: `cordon-untrack-${VPC_A}` }).resolves({ GroupId: UNTRACK_A });
    ec2Mock.on(CreateSecurityGroupCommand, { GroupName: `cordon-isolation-${VPC_A}` }).resolves({ GroupId: ISOLATION_A });

    // Act
    const result = (await isolate(input([eni(ENI_0, VPC_A, 0)]), deps)) as PreparedGroups;

    // Assess: the exact sequence, untrack first
    expect(ec2Mock).toHaveReceivedNthCommandWith(1, DescribeSecurityGroupsCommand, {
      Filters: [
        { Name: 'vpc-id', Values: [VPC_A] },
        { Name: 'tag:cordon:managed', Values: ['true'] },
        { Name: 'tag:cordon:purpose', Values: ['untrack'] },
      ],
    });
    expect(ec2Mock).toHaveReceivedNthCommandWith(2, CreateSecurityGroupCommand, {
      GroupName: `cordon-untrack-${VPC_A}`,
      VpcId: VPC_A,
      TagSpecifications: MANAGED_TAGS('untrack', VPC_A),
    });
    expect(ec2Mock).toHaveReceivedNthCommandWith(3, DescribeSecurityGroupRulesCommand, {
      Filters: [{ Name: 'group-id', Values: [UNTRACK_A] }],
    });
    expect(ec2Mock).toHaveReceivedNthCommandWith(4, AuthorizeSecurityGroupIngressCommand, {
      GroupId: UNTRACK_A,
      IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [{ CidrIpv6: '::/0' }] }],
    });
    // Egress already allows 0.0.0.0/0 and ::/0 by default: nothing to add.
    expect(ec2Mock).toHaveReceivedNthCommandWith(5, DescribeSecurityGroupsCommand, {
      Filters: [
        { Name: 'vpc-id', Values: [VPC_A] },
        { Name: 'tag:cordon:managed', Values: ['true'] },
        { Name: 'tag:cordon:purpose', Values: ['isolation'] },
      ],
    });
    expect(ec2Mock).toHaveReceivedNthCommandWith(6, CreateSecurityGroupCommand, {
      GroupName: `cordon-isolation-${VPC_A}`,
      VpcId: VPC_A,
      TagSpecifications: MANAGED_TAGS('isolation', VPC_A),
    });
    expect(ec2Mock).toHaveReceivedNthCommandWith(7, DescribeSecurityGroupRulesCommand, {
      Filters: [{ Name: 'group-id', Values: [ISOLATION_A] }],
    });
    expect(ec2Mock).toHaveReceivedNthCommandWith(8, RevokeSecurityGroupEgressCommand, {
      GroupId: ISOLATION_A,
      SecurityGroupRuleIds: [`sgr-${ISOLATION_A.slice(3)}e4`, `sgr-${ISOLATION_A.slice(3)}e6`],
    });
    expect(ec2Mock.calls()).toHaveLength(8);
    expect(ec2Mock).not.toHaveReceivedCommand(AuthorizeSecurityGroupEgressCommand);
    expect(ec2Mock).not.toHaveReceivedCommand(RevokeSecurityGroupIngressCommand);
    expect(result).toEqual({
      groups: [{ vpcId: VPC_A, untrackGroupId: UNTRACK_A, isolationGroupId: ISOLATION_A }],
      interfaces: [{ ...eni(ENI_0, VPC_A, 0), untrackGroupId: UNTRACK_A, isolationGroupId: ISOLATION_A }],
    });
  });

  it('authorizes only the missing allow-all rules on the untrack group', async () => {
    // Prepare: IPv4-only default egress, and an existing IPv4 ingress allow-all
    fakeGroups(
      { [`${VPC_A}/untrack`]: [[UNTRACK_A]], [`${VPC_A}/isolation`]: [[ISOLATION_A]] },
      {
        [UNTRACK_A]: [
          { SecurityGroupRuleId: 'sgr-e4', GroupId: UNTRACK_A, IsEgress: true, IpProtocol: '-1', CidrIpv4: '0.0.0.0/0' },
          { SecurityGroupRuleId: 'sgr-i4', GroupId: UNTRACK_A, IsEgress: false, IpProtocol: '-1', CidrIpv4: '0.0.0.0/0' },
          // TCP-only ::/0 is not allow-all and must not count
          { SecurityGroupRuleId: 'sgr-i6tcp', GroupId: UNTRACK_A, IsEgress: false, IpProtocol: 'tcp', FromPort: 0, ToPort: 65535, CidrIpv6: '::/0' },
        ],
      },
    );

    // Act
    await isolate(input([eni(ENI_0, VPC_A, 0)]), deps);

    // Assess: exactly one IPv6 rule each way, nothing IPv4
    const ingress = ec2Mock.commandCalls(AuthorizeSecurityGroupIngressCommand);
    const egress = ec2Mock.commandCalls(AuthorizeSecurityGroupEgressCommand);
    expect(ingress).toHaveLength(1);
    expect(egress).toHaveLength(1);
    expect(ingress[0]?.args[0].input).toEqual({
      GroupId: UNTRACK_A,
      IpPermissions: [{ IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '::/0' }] }],
    });
    expect(egress[0]?.args[0].input).toEqual({
      GroupId: UNTRACK_A,
      IpPermissions: [{ IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '::/0' }] }],
    });
  });

  it('reuses groups found by tag (oldest id) without creating any', async () => {
    // Prepare: untrack already complete, isolation already empty
    fakeGroups(
      { [`${VPC_A}/untrack`]: [['sg-0ffffffffffffff99', UNTRACK_A]], [`${VPC_A}/isolation`]: [[ISOLATION_A]] },
      { [UNTRACK_A]: allowAll(UNTRACK_A), [ISOLATION_A]: [] },
    );

    // Act
    const result = (await isolate(input([eni(ENI_0, VPC_A, 0)]), deps)) as PreparedGroups;

    // Assess
    expect(ec2Mock).not.toHaveReceivedCommand(CreateSecurityGroupCommand);
    expect(ec2Mock).not.toHaveReceivedCommand(AuthorizeSecurityGroupIngressCommand);
    expect(ec2Mock).not.toHaveReceivedCommand(AuthorizeSecurityGroupEgressCommand);
    expect(ec2Mock).not.toHaveReceivedCommand(RevokeSecurityGroupEgressCommand);
    expect(ec2Mock).not.toHaveReceivedCommand(RevokeSecurityGroupIngressCommand);
    expect(result.groups).toEqual([{ vpcId: VPC_A, untrackGroupId: UNTRACK_A, isolationGroupId: ISOLATION_A }]);
  });

  it('revokes every rule found on a reused isolation group, ingress included', async () => {
    fakeGroups(
      { [`${VPC_A}/untrack`]: [[UNTRACK_A]], [`${VPC_A}/isolation`]: [[ISOLATION_A]] },
      {
        [UNTRACK_A]: allowAll(UNTRACK_A),
        [ISOLATION_A]: [
          { SecurityGroupRuleId: 'sgr-stray-in', GroupId: ISOLATION_A, IsEgress: false, IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIpv4: '10.0.0.0/8' },
          { SecurityGroupRuleId: 'sgr-stray-e6', GroupId: ISOLATION_A, IsEgress: true, IpProtocol: '-1', CidrIpv6: '::/0' },
        ],
      },
    );

    await isolate(input([eni(ENI_0, VPC_A, 0)]), deps);

    expect(ec2Mock).toHaveReceivedCommandTimes(RevokeSecurityGroupEgressCommand, 1);
    expect(ec2Mock).toHaveReceivedCommandWith(RevokeSecurityGroupEgressCommand, { GroupId: ISOLATION_A, SecurityGroupRuleIds: ['sgr-stray-e6'] });
    expect(ec2Mock).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 1);
    expect(ec2Mock).toHaveReceivedCommandWith(RevokeSecurityGroupIngressCommand, { GroupId: ISOLATION_A, SecurityGroupRuleIds: ['sgr-stray-in'] });
  });

  it('re-describes and reuses the group when a concurrent execution created it first (InvalidGroup.Duplicate)', async () => {
    // Prepare: first describe finds nothing, create races and loses, second describe finds the winner's group
    fakeGroups(
      { [`${VPC_A}/untrack`]: [[], [UNTRACK_A]], [`${VPC_A}/isolation`]: [[ISOLATION_A]] },
      { [UNTRACK_A]: allowAll(UNTRACK_A), [ISOLATION_A]: [] },
    );
    ec2Mock.on(CreateSecurityGroupCommand).rejects(awsError('InvalidGroup.Duplicate'));

    // Act
    const result = (await isolate(input([eni(ENI_0, VPC_A, 0)]), deps)) as PreparedGroups;

    // Assess
    expect(result.groups[0]?.untrackGroupId).toBe(UNTRACK_A);
    expect(ec2Mock).toHaveReceivedCommandTimes(CreateSecurityGroupCommand, 1);
    expect(ec2Mock).toHaveReceivedNthCommandWith(1, DescribeSecurityGroupsCommand, {});
    expect(ec2Mock).toHaveReceivedNthCommandWith(2, CreateSecurityGroupCommand, { GroupName: `cordon-untrack-${VPC_A}` });
    expect(ec2Mock).toHaveReceivedNthCommandWith(3, DescribeSecurityGroupsCommand, {
      Filters: [
        { Name: 'vpc-id', Values: [VPC_A] },
        { Name: 'tag:cordon:managed', Values: ['true'] },
        { Name: 'tag:cordon:purpose', Values: ['untrack'] },
      ],
    });
  });

  it('refuses a same-named group that lacks the cordon:managed tag (IsolationGroupConflictError)', async () => {
    // Prepare: nothing carries our tags, but the name is taken
    fakeGroups({}, {});
    ec2Mock.on(CreateSecurityGroupCommand).rejects(awsError('InvalidGroup.Duplicate'));

    // Act
    const err = await rejectionOf(isolate(input([eni(ENI_0, VPC_A, 0)]), deps));

    // Assess
    expect(err).toBeInstanceOf(IsolationGroupConflictError);
    expect(err.name).toBe('IsolationGroupConflictError');
    expect(err.message).toContain(`cordon-untrack-${VPC_A}`);
    expect(ec2Mock).not.toHaveReceivedCommand(AuthorizeSecurityGroupIngressCommand);
    expect(ec2Mock).not.toHaveReceivedCommand(ModifyNetworkInterfaceAttributeCommand);
  });

  it('prepares one pair of groups per VPC and maps each interface to its own VPC pair', async () => {
    // Prepare
    fakeGroups(
      {},
      {
        [UNTRACK_A]: defaultEgress(UNTRACK_A),
        [ISOLATION_A]: defaultEgress(ISOLATION_A),
        [UNTRACK_B]: defaultEgress(UNTRACK_B),
        [ISOLATION_B]: defaultEgress(ISOLATION_B),
      },
    );
    ec2Mock.on(CreateSecurityGroupCommand, { GroupName: `cordon-untrack-${VPC_A}` }).resolves({ GroupId: UNTRACK_A });
    ec2Mock.on(CreateSecurityGroupCommand, { GroupName: `cordon-isolation-${VPC_A}` }).resolves({ GroupId: ISOLATION_A });
    ec2Mock.on(CreateSecurityGroupCommand, { GroupName: `cordon-untrack-${VPC_B}` }).resolves({ GroupId: UNTRACK_B });
    ec2Mock.on(CreateSecurityGroupCommand, { GroupName: `cordon-isolation-${VPC_B}` }).resolves({ GroupId: ISOLATION_B });

    // Act: interfaces listed B first, to show the mapping is by VPC and not by position
    const result = (await isolate(input([eni(ENI_1, VPC_B, 1), eni(ENI_0, VPC_A, 0)]), deps)) as PreparedGroups;

    // Assess
    const creates = ec2Mock.commandCalls(CreateSecurityGroupCommand).map((c) => [c.args[0].input.VpcId, c.args[0].input.GroupName]);
    expect(creates).toEqual([
      [VPC_A, `cordon-untrack-${VPC_A}`],
      [VPC_A, `cordon-isolation-${VPC_A}`],
      [VPC_B, `cordon-untrack-${VPC_B}`],
      [VPC_B, `cordon-isolation-${VPC_B}`],
    ]);
    expect(ec2Mock).toHaveReceivedCommandWith(RevokeSecurityGroupEgressCommand, { GroupId: ISOLATION_A });
    expect(ec2Mock).toHaveReceivedCommandWith(RevokeSecurityGroupEgressCommand, { GroupId: ISOLATION_B });
    expect(result.groups).toEqual([
      { vpcId: VPC_A, untrackGroupId: UNTRACK_A, isolationGroupId: ISOLATION_A },
      { vpcId: VPC_B, untrackGroupId: UNTRACK_B, isolationGroupId: ISOLATION_B },
    ]);
    expect(result.interfaces.map((i) => [i.networkInterfaceId, i.untrackGroupId, i.isolationGroupId])).toEqual([
      [ENI_1, UNTRACK_B, ISOLATION_B],
      [ENI_0, UNTRACK_A, ISOLATION_A],
    ]);
  });
});

describe('isolate step "untrack"', () => {
  const input = (iface: PreparedInterface = prepared()): IsolateInput => ({ ...BASE, step: 'untrack', interface: iface });

  it('lowers the connection-tracking timeouts BEFORE moving the ENI to the untrack group', async () => {
    // Prepare
    ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).resolves({});

    // Act
    const result = (await isolate(input(), deps)) as UntrackResult;

    // Assess
    expect(ec2Mock).toHaveReceivedNthCommandWith(1, ModifyNetworkInterfaceAttributeCommand, {
      NetworkInterfaceId: ENI_0,
      ConnectionTrackingSpecification: { TcpEstablishedTimeout: 60, UdpStreamTimeout: 60, UdpTimeout: 30 },
    });
    expect(ec2Mock).toHaveReceivedNthCommandWith(2, ModifyNetworkInterfaceAttributeCommand, {
      NetworkInterfaceId: ENI_0,
      Groups: [UNTRACK_A],
    });
    const calls = ec2Mock.commandCalls(ModifyNetworkInterfaceAttributeCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(2);
    // Two separate calls: timeouts alone, then groups alone.
    expect(calls[0]?.Groups).toBeUndefined();
    expect(calls[1]?.ConnectionTrackingSpecification).toBeUndefined();
    expect(result).toEqual({
      connectionTracking: { status: 'lowered', tcpEstablishedTimeout: 60, udpStreamTimeout: 60, udpTimeout: 30 },
      untrackedAt: NOW.toISOString(),
    });
  });

  it('under throttling (the SDK had to retry the first call), goes straight to the isolation group, never allow-all', async () => {
    // Prepare: the timeouts call succeeded on its third attempt (RequestLimitExceeded twice).
    ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).resolves({ $metadata: { attempts: 3 } });

    // Act
    const result = (await isolate(input(), deps)) as UntrackResult;

    // Assess
    const calls = ec2Mock.commandCalls(ModifyNetworkInterfaceAttributeCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([
      { NetworkInterfaceId: ENI_0, ConnectionTrackingSpecification: { TcpEstablishedTimeout: 60, UdpStreamTimeout: 60, UdpTimeout: 30 } },
      { NetworkInterfaceId: ENI_0, Groups: [ISOLATION_A] },
    ]);
    expect(calls.some((c) => c.Groups?.includes(UNTRACK_A))).toBe(false);
    expect(result).toEqual({
      connectionTracking: { status: 'lowered', tcpEstablishedTimeout: 60, udpStreamTimeout: 60, udpTimeout: 30 },
      untrackedAt: NOW.toISOString(),
      isolatedEarly: true,
    });
  });

  it('records a non-Nitro instance as "unsupported" and still moves the ENI to the untrack group', async () => {
    // Prepare
    ec2Mock
      .on(ModifyNetworkInterfaceAttributeCommand)
      .rejectsOnce(awsError('UnsupportedOperation', { message: 'connection tracking configuration is not supported' }))
      .resolves({});

    // Act
    const result = (await isolate(input(), deps)) as UntrackResult;

    // Assess
    expect(result.connectionTracking).toEqual({
      status: 'unsupported',
      error: 'UnsupportedOperation',
      cause: 'connection tracking configuration is not supported',
    });
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifyNetworkInterfaceAttributeCommand, 2);
    expect(ec2Mock).toHaveReceivedNthCommandWith(2, ModifyNetworkInterfaceAttributeCommand, {
      NetworkInterfaceId: ENI_0,
      Groups: [UNTRACK_A],
    });
  });

  it('lets RequestLimitExceeded propagate; the handler classifies it as TransientAwsError and nothing is swapped', async () => {
    // Prepare
    ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).rejects(awsError('RequestLimitExceeded'));
    const handler = createHandler(() => deps);

    // Act
    const err = await rejectionOf(handler(input()));

    // Assess
    expect(err).toBeInstanceOf(TransientAwsError);
    expect(err.name).toBe('TransientAwsError');
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifyNetworkInterfaceAttributeCommand, 1);
    expect(ec2Mock).not.toHaveReceivedCommandWith(ModifyNetworkInterfaceAttributeCommand, { Groups: [UNTRACK_A] });
  });

  it('acts in the target account and region through the factory', async () => {
    ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).resolves({});

    await isolate(input(), deps);

    expect(factory.targetCalls).toEqual([{ target: TARGET, sessionName: 'cordon-req-1' }]);
  });
});

describe('isolate step "isolate"', () => {
  const input = (
    connectionTracking: Record<string, unknown> & { status: string },
    iface: PreparedInterface = prepared(),
  ): IsolateInput => ({ ...BASE, step: 'isolate', interface: iface, untracked: { connectionTracking, untrackedAt: UNTRACKED_AT } });
  const LOWERED = { status: 'lowered', tcpEstablishedTimeout: 60, udpStreamTimeout: 60, udpTimeout: 30 };
  const UNSUPPORTED = { status: 'unsupported', error: 'UnsupportedOperation', cause: 'not Nitro' };

  function ec2Reports(groupIds: string[], isolationRules: SecurityGroupRule[] = []): void {
    ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    ec2Mock.on(DescribeNetworkInterfacesCommand).resolves({
      NetworkInterfaces: [{ NetworkInterfaceId: ENI_0, Groups: groupIds.map((GroupId) => ({ GroupId })) }],
    });
    ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: isolationRules });
  }

  it('moves the ENI to the isolation group alone, then verifies with Describe', async () => {
    // Prepare
    ec2Reports([ISOLATION_A]);

    // Act
    const result = (await isolate(input(LOWERED), deps)) as InterfaceResult;

    // Assess
    expect(ec2Mock).toHaveReceivedNthCommandWith(1, ModifyNetworkInterfaceAttributeCommand, {
      NetworkInterfaceId: ENI_0,
      Groups: [ISOLATION_A],
    });
    expect(ec2Mock).toHaveReceivedNthCommandWith(2, DescribeNetworkInterfacesCommand, { NetworkInterfaceIds: [ENI_0] });
    expect(ec2Mock).toHaveReceivedNthCommandWith(3, DescribeSecurityGroupRulesCommand, {
      Filters: [{ Name: 'group-id', Values: [ISOLATION_A] }],
    });
    expect(ec2Mock.calls()).toHaveLength(3);
    expect(result).toMatchObject({
      networkInterfaceId: ENI_0,
      status: 'isolated',
      previousGroupIds: [ORIGINAL_SG],
      groupIds: [ISOLATION_A],
      isolatedAt: NOW.toISOString(),
      connectionTracking: LOWERED,
    });
  });

  it('after an early isolation, only verifies (no second move), and says untracking was skipped', async () => {
    ec2Reports([ISOLATION_A]);
    const early: IsolateInput = { ...BASE, step: 'isolate', interface: prepared(), untracked: { connectionTracking: LOWERED, untrackedAt: UNTRACKED_AT, isolatedEarly: true } };

    const result = (await isolate(early, deps)) as InterfaceResult;

    expect(ec2Mock).not.toHaveReceivedCommand(ModifyNetworkInterfaceAttributeCommand);
    expect(ec2Mock).toHaveReceivedNthCommandWith(1, DescribeNetworkInterfacesCommand, { NetworkInterfaceIds: [ENI_0] });
    expect(result.isolatedAt).toBe(UNTRACKED_AT);
    expect(result.guarantees.openWindowSeconds).toBe(0);
    expect(result.guarantees.trackedFlows).toContain('untrack skipped (EC2 was throttling)');
  });

  it('is honest about guarantees: no guaranteed cut, tracked flows expire after the lowered 60 s', async () => {
    ec2Reports([ISOLATION_A]);

    const result = (await isolate(input(LOWERED), deps)) as InterfaceResult;

    expect(result.guarantees.guaranteedCut).toBe(false);
    expect(result.guarantees.untrackedFlows).toBe('cut');
    expect(result.guarantees.trackedFlowIdleTimeoutSeconds).toBe(60);
    expect(result.guarantees.trackedFlows).toContain('60 s');
    expect(result.guarantees.alwaysTracked).toEqual(expect.arrayContaining(['ICMP', 'NAT gateway', 'Network Load Balancer']));
    // untracked at 12:00:00, isolated at 12:00:30: the instance was open for 30 s
    expect(result.guarantees.openWindowSeconds).toBe(30);
  });

  it('falls back to the 432000 s default when the timeout could not be lowered and EC2 reported none', async () => {
    ec2Reports([ISOLATION_A]);

    const result = (await isolate(input(UNSUPPORTED, prepared({ tcpEstablishedTimeout: null })), deps)) as InterfaceResult;

    expect(result.guarantees.trackedFlowIdleTimeoutSeconds).toBe(432_000);
    expect(result.guarantees.guaranteedCut).toBe(false);
    expect(result.connectionTracking).toEqual(UNSUPPORTED);
  });

  it('uses the ENI\'s own captured timeout when it could not be lowered', async () => {
    ec2Reports([ISOLATION_A]);

    const result = (await isolate(input(UNSUPPORTED, prepared({ tcpEstablishedTimeout: 350 })), deps)) as InterfaceResult;

    expect(result.guarantees.trackedFlowIdleTimeoutSeconds).toBe(350);
  });

  it.each([
    ['still in the untrack group', [UNTRACK_A]],
    ['in the isolation group plus another', [ISOLATION_A, ORIGINAL_SG]],
    ['in no group reported', []],
  ])('throws IsolationVerificationError when the ENI is %s', async (_label, groups) => {
    ec2Reports(groups);

    const err = await rejectionOf(isolate(input(LOWERED), deps));

    expect(err).toBeInstanceOf(IsolationVerificationError);
    expect(err.name).toBe('IsolationVerificationError');
    expect(err.message).toContain(ENI_0);
  });

  it('throws IsolationVerificationError when the isolation group has stray rules', async () => {
    ec2Reports([ISOLATION_A], [
      { SecurityGroupRuleId: 'sgr-0stray', GroupId: ISOLATION_A, IsEgress: true, IpProtocol: '-1', CidrIpv6: '::/0' },
    ]);

    const err = await rejectionOf(isolate(input(LOWERED), deps));

    expect(err).toBeInstanceOf(IsolationVerificationError);
    expect(err.message).toContain('sgr-0stray');
  });

  it('keeps IsolationVerificationError by name through the handler (not turned into a transient error)', async () => {
    ec2Reports([UNTRACK_A]);
    const handler = createHandler(() => deps);

    const err = await rejectionOf(handler(input(LOWERED)));

    expect(err.name).toBe('IsolationVerificationError');
  });
});

describe('isolate handler input validation', () => {
  it('rejects an unknown step with InvalidRequestError and makes no AWS call', async () => {
    const handler = createHandler(() => deps);

    const err = await rejectionOf(handler({ ...BASE, step: 'teardown', interface: prepared() }));

    expect(err.name).toBe('InvalidRequestError');
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
    expect(factory.targetCalls).toHaveLength(0);
  });

  it('rejects a hostile network interface id before any AWS call', async () => {
    const handler = createHandler(() => deps);

    const err = await rejectionOf(
      handler({ ...BASE, step: 'untrack', interface: prepared({ networkInterfaceId: 'eni-1; aws ec2 delete-vpc' }) }),
    );

    expect(err.name).toBe('InvalidRequestError');
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
  });
});
