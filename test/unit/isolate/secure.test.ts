/**
 * Issue 16: the isolation paths mutation testing found untested. The `secure` step (never leave an ENI
 * in the allow-all group), the re-run guard on an ENI already isolated, paging of
 * DescribeSecurityGroupRules, and the handler's schema with more than one ENI. The prepare tests find
 * cordon's groups where prepare does: in the hub ledger's group records (a DynamoDB Document client mock),
 * each described by id only (lambdas/isolate/groups.ts).
 */
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type DescribeSecurityGroupRulesCommandInput,
  type DescribeSecurityGroupsCommandInput,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import { DynamoDBDocumentClient, GetCommand, PutCommand, type GetCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createHandler, productionDeps } from '../../../lambdas/isolate/handler';
import { isolate, type IsolateDeps, type IsolateInput, type PreparedInterface } from '../../../lambdas/isolate/isolate';
import { IsolationVerificationError, TransientAwsError } from '../../../lambdas/shared/errors';
import { groupSk, groupsPk, type GroupPurpose } from '../../../lambdas/shared/group-records';
import { awsError, rejectionOf, testClientFactory } from '../../support/clients';

const ec2Mock = mockClient(EC2Client);
const ddbMock = mockClient(DynamoDBDocumentClient);

const TARGET = { accountId: '111122223333', region: 'eu-west-1', instanceId: 'i-0123456789abcdef0' };
const BASE = { target: TARGET, incidentId: 'inc-111122223333-eu-west-1-i-0123456789abcdef0', requestId: 'req-1' };
const VPC_A = 'vpc-0aaaaaaaaaaaaaaa1';
const ENI_0 = 'eni-0000000000000000a';
const ENI_1 = 'eni-1111111111111111b';
const ORIGINAL_SG = 'sg-0f0f0f0f0f0f0f0f0';
const UNTRACK_A = 'sg-0aaaaaaaaaaaaaa01';
const ISOLATION_A = 'sg-0aaaaaaaaaaaaaa02';
const NOW = new Date('2025-06-01T12:00:30.000Z');
const TIMEOUTS = { TcpEstablishedTimeout: 60, UdpStreamTimeout: 60, UdpTimeout: 30 };
const LOWERED = { status: 'lowered', tcpEstablishedTimeout: 60, udpStreamTimeout: 60, udpTimeout: 30 };
const TABLE = 'cordon-ledger';
const LONG_AGO = '2025-01-01T00:00:00.000Z';

function prepared(extra: Partial<PreparedInterface> = {}): PreparedInterface {
  return {
    networkInterfaceId: ENI_0,
    vpcId: VPC_A,
    deviceIndex: 0,
    groupIds: [ORIGINAL_SG],
    ipv6: false,
    tcpEstablishedTimeout: null,
    untrackGroupId: UNTRACK_A,
    isolationGroupId: ISOLATION_A,
    ...extra,
  };
}

let deps: IsolateDeps;

/** The hub ledger's group records, by sort key (`GROUP#<vpc>#<purpose>`), for TARGET's account and region. */
let ledger: Map<string, Record<string, unknown>>;

beforeEach(() => {
  ec2Mock.reset();
  ddbMock.reset();
  ledger = new Map();
  ddbMock.on(GetCommand).callsFake((input: GetCommandInput) =>
    input.TableName === TABLE && input.Key?.pk === groupsPk(TARGET.accountId, TARGET.region) ? { Item: ledger.get(String(input.Key.sk)) } : {},
  );
  ddbMock.on(PutCommand).rejects(new Error('test: no group is recorded in these tests'));
  deps = {
    factory: testClientFactory(),
    config: { tcpEstablishedTimeout: 60, ledgerTable: TABLE },
    now: () => NOW,
    sleep: () => Promise.reject(new Error('test: nothing here is eventual consistency')),
  };
});

/** Calls in order, as [command name, input]. */
function sent(): Array<[string, unknown]> {
  return ec2Mock.calls().map((c) => [c.args[0].constructor.name, c.args[0].input]);
}

/** DescribeNetworkInterfaces answers these groups for ENI_0, one list per call (the last repeats). */
function eniGroups(...answers: string[][]): void {
  let n = 0;
  ec2Mock.on(DescribeNetworkInterfacesCommand).callsFake(() => {
    const groups = answers[Math.min(n++, answers.length - 1)] ?? [];
    return { NetworkInterfaces: [{ NetworkInterfaceId: ENI_0, Groups: groups.map((GroupId) => ({ GroupId })) }] };
  });
}

// ---------------------------------------------------------------- secure

describe('isolate step "secure" (after untrack or isolate failed)', () => {
  const secure = (failure: Record<string, unknown>, iface: PreparedInterface = prepared()): IsolateInput =>
    ({ ...BASE, step: 'secure', interface: iface, failure }) as IsolateInput;

  it('through the handler: enforces the isolation group empty, moves the ENI there, verifies, and says what it recovered from', async () => {
    ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
    eniGroups([ISOLATION_A]);
    const handler = createHandler(() => deps);

    const result = await handler(secure({ Error: 'States.Timeout', Cause: 'untrack timed out' }));

    expect(sent()).toEqual([
      ['DescribeSecurityGroupRulesCommand', { Filters: [{ Name: 'group-id', Values: [ISOLATION_A] }], NextToken: undefined }],
      ['ModifyNetworkInterfaceAttributeCommand', { NetworkInterfaceId: ENI_0, Groups: [ISOLATION_A] }],
      ['DescribeNetworkInterfacesCommand', { NetworkInterfaceIds: [ENI_0] }],
      ['DescribeSecurityGroupRulesCommand', { Filters: [{ Name: 'group-id', Values: [ISOLATION_A] }], NextToken: undefined }],
    ]);
    expect(result).toEqual({
      awsCalls: [{ service: 'ec2', operation: 'ModifyNetworkInterfaceAttribute', requestId: null, at: expect.any(String) }],
      networkInterfaceId: ENI_0,
      status: 'isolated',
      previousGroupIds: [ORIGINAL_SG],
      groupIds: [ISOLATION_A],
      isolatedAt: NOW.toISOString(),
      connectionTracking: { status: 'unknown' },
      guarantees: {
        untrackedFlows: 'cut',
        trackedFlows: 'a flow that stayed tracked survives until it is idle for 432000 s; the untrack step is best effort, not a guarantee',
        trackedFlowIdleTimeoutSeconds: 432_000,
        alwaysTracked: [
          'ICMP',
          'NAT gateway',
          'Network Load Balancer',
          'PrivateLink (interface) endpoint',
          'egress-only internet gateway',
          'Global Accelerator',
          'Network Firewall',
        ],
        openWindowSeconds: 0,
        guaranteedCut: false,
      },
      recoveredFrom: { error: 'States.Timeout', cause: 'untrack timed out' },
    });
  });

  it('revokes rules that appeared on the isolation group before moving the ENI there', async () => {
    const stray: SecurityGroupRule = { SecurityGroupRuleId: 'sgr-0stray', GroupId: ISOLATION_A, IsEgress: false, IpProtocol: 'tcp', CidrIpv4: '0.0.0.0/0' };
    let describes = 0;
    ec2Mock.on(DescribeSecurityGroupRulesCommand).callsFake(() => ({ SecurityGroupRules: describes++ === 0 ? [stray] : [] }));
    ec2Mock.on(RevokeSecurityGroupIngressCommand).resolves({});
    ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    eniGroups([ISOLATION_A]);

    const result = (await isolate(secure({ Error: 'Boom' }), deps)) as { status: string; recoveredFrom: unknown };

    expect(sent().slice(0, 3)).toEqual([
      ['DescribeSecurityGroupRulesCommand', { Filters: [{ Name: 'group-id', Values: [ISOLATION_A] }], NextToken: undefined }],
      ['RevokeSecurityGroupIngressCommand', { GroupId: ISOLATION_A, SecurityGroupRuleIds: ['sgr-0stray'] }],
      ['ModifyNetworkInterfaceAttributeCommand', { NetworkInterfaceId: ENI_0, Groups: [ISOLATION_A] }],
    ]);
    expect(result.status).toBe('isolated');
    expect(result.recoveredFrom).toEqual({ error: 'Boom', cause: '' });
  });

  it('when isolation cannot be verified, puts the original groups back and reports the ENI as failed, left in them', async () => {
    ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
    // The move to isolation did not take (still in untrack); the restore of the original groups did.
    eniGroups([UNTRACK_A], ['sg-0f0f0f0f0f0f0f0f1', ORIGINAL_SG]);
    const cause = 'x'.repeat(600);

    const result = await isolate(secure({ Cause: cause }, prepared({ groupIds: [ORIGINAL_SG, 'sg-0f0f0f0f0f0f0f0f1'] })), deps);

    expect(sent().slice(2)).toEqual([
      ['DescribeNetworkInterfacesCommand', { NetworkInterfaceIds: [ENI_0] }],
      ['ModifyNetworkInterfaceAttributeCommand', { NetworkInterfaceId: ENI_0, Groups: [ORIGINAL_SG, 'sg-0f0f0f0f0f0f0f0f1'] }],
      ['DescribeNetworkInterfacesCommand', { NetworkInterfaceIds: [ENI_0] }],
    ]);
    expect(result).toEqual({
      networkInterfaceId: ENI_0,
      status: 'failed',
      leftIn: 'original-groups',
      groupIds: [ORIGINAL_SG, 'sg-0f0f0f0f0f0f0f0f1'],
      error: 'Error',
      cause: 'x'.repeat(500),
    });
  });

  it.each([
    ['alone', [UNTRACK_A]],
    ['with the original group', [ORIGINAL_SG, UNTRACK_A]],
  ])('fails with IsolationVerificationError when the restored ENI is still in the untrack group (%s)', async (_label, after) => {
    ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
    eniGroups([UNTRACK_A], after);

    const err = await rejectionOf(isolate(secure({ Error: 'E', Cause: 'c' }), deps));

    expect(err).toBeInstanceOf(IsolationVerificationError);
    expect(err.message).toBe(`${ENI_0} is still in the untrack group ${UNTRACK_A}`);
  });

  it('rethrows a transient error from the isolation attempt (the task is retried) and does not restore the original groups', async () => {
    ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
    ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).rejects(awsError('RequestLimitExceeded'));
    const handler = createHandler(() => deps);

    const err = await rejectionOf(handler(secure({ Error: 'E' })));

    expect(err).toBeInstanceOf(TransientAwsError);
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifyNetworkInterfaceAttributeCommand, 1);
    expect(ec2Mock).not.toHaveReceivedCommandWith(ModifyNetworkInterfaceAttributeCommand, { Groups: [ORIGINAL_SG] });
  });

  it('rejects a secure step without the failure it recovers from, before any AWS call', async () => {
    const handler = createHandler(() => deps);

    const err = await rejectionOf(handler({ ...BASE, step: 'secure', interface: prepared() }));

    expect(err.name).toBe('InvalidRequestError');
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
  });
});

// ---------------------------------------------------------------- re-run guard

describe('isolate step "untrack" on a re-run', () => {
  const untrack = (iface: PreparedInterface): IsolateInput => ({ ...BASE, step: 'untrack', interface: iface });

  it('leaves an ENI already in the isolation group alone there: only the timeouts are lowered, never allow-all', async () => {
    ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).resolves({});

    const result = await isolate(untrack(prepared({ groupIds: [ISOLATION_A] })), deps);

    expect(sent()).toEqual([['ModifyNetworkInterfaceAttributeCommand', { NetworkInterfaceId: ENI_0, ConnectionTrackingSpecification: TIMEOUTS }]]);
    expect(result).toEqual({ connectionTracking: LOWERED, untrackedAt: NOW.toISOString(), alreadyIsolated: true });
  });

  it('under throttling too: an already isolated ENI is not moved (not even to isolation) and not marked isolatedEarly', async () => {
    ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).resolves({ $metadata: { attempts: 2 } });

    const result = await isolate(untrack(prepared({ groupIds: [ISOLATION_A] })), deps);

    expect(ec2Mock).toHaveReceivedCommandTimes(ModifyNetworkInterfaceAttributeCommand, 1);
    expect(result).toEqual({ connectionTracking: LOWERED, untrackedAt: NOW.toISOString(), alreadyIsolated: true });
  });

  it.each([
    ['the isolation group plus another', [ISOLATION_A, ORIGINAL_SG]],
    ['another group alone', [ORIGINAL_SG]],
  ])('an ENI in %s is not isolated yet: it goes to the untrack group', async (_label, groupIds) => {
    ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).resolves({});

    const result = await isolate(untrack(prepared({ groupIds })), deps);

    expect(sent()).toEqual([
      ['ModifyNetworkInterfaceAttributeCommand', { NetworkInterfaceId: ENI_0, ConnectionTrackingSpecification: TIMEOUTS }],
      ['ModifyNetworkInterfaceAttributeCommand', { NetworkInterfaceId: ENI_0, Groups: [UNTRACK_A] }],
    ]);
    expect(result).toEqual({ connectionTracking: LOWERED, untrackedAt: NOW.toISOString() });
  });
});

// ---------------------------------------------------------------- paging

/** DescribeSecurityGroupRules for `groupId` answers in pages (NextToken 'p2', 'p3', ...). */
function pagedRules(pages: Record<string, SecurityGroupRule[][]>): void {
  ec2Mock.on(DescribeSecurityGroupRulesCommand).callsFake((input: DescribeSecurityGroupRulesCommandInput) => {
    const list = pages[input.Filters?.[0]?.Values?.[0] ?? ''] ?? [[]];
    const index = input.NextToken ? Number(input.NextToken.slice(1)) - 1 : 0;
    return { SecurityGroupRules: list[index] ?? [], ...(index + 1 < list.length ? { NextToken: `p${index + 2}` } : {}) };
  });
}

/**
 * The ledger records UNTRACK_A and ISOLATION_A (or only the purposes given) as cordon's groups of VPC_A, created
 * long ago; DescribeSecurityGroups answers them by id, in VPC_A, and refuses any lookup by filter.
 */
function recordedGroups(purposes: GroupPurpose[] = ['untrack', 'isolation']): void {
  const ids: Record<GroupPurpose, string> = { untrack: UNTRACK_A, isolation: ISOLATION_A };
  for (const purpose of purposes) {
    ledger.set(groupSk(VPC_A, purpose), {
      pk: groupsPk(TARGET.accountId, TARGET.region),
      sk: groupSk(VPC_A, purpose),
      accountId: TARGET.accountId,
      region: TARGET.region,
      vpcId: VPC_A,
      purpose,
      groupId: ids[purpose],
      groupName: `cordon-${purpose}-${VPC_A}-0123456789ab`,
      createdAt: LONG_AGO,
      incidentId: 'inc-0',
      requestId: 'req-0',
    });
  }
  const known = new Set(purposes.map((p) => ids[p]));
  ec2Mock.on(DescribeSecurityGroupsCommand).callsFake((input: DescribeSecurityGroupsCommandInput) => {
    if (input.Filters?.length) throw new Error('test: cordon must never look groups up by filter (tag, name or VPC)');
    return { SecurityGroups: (input.GroupIds ?? []).filter((id) => known.has(id)).map((GroupId) => ({ GroupId, VpcId: VPC_A })) };
  });
}

const rule = (id: string, groupId: string, egress: boolean, cidr: { v4?: string; v6?: string }): SecurityGroupRule => ({
  SecurityGroupRuleId: id,
  GroupId: groupId,
  IsEgress: egress,
  IpProtocol: '-1',
  ...(cidr.v4 ? { CidrIpv4: cidr.v4 } : {}),
  ...(cidr.v6 ? { CidrIpv6: cidr.v6 } : {}),
});

describe('paging of DescribeSecurityGroupRules', () => {
  const prepare = (interfaces: PreparedInterface[]): IsolateInput => ({ ...BASE, step: 'prepare', interfaces });

  it('prepare revokes isolation-group rules found on a second page and counts untrack rules found there', async () => {
    recordedGroups();
    pagedRules({
      [UNTRACK_A]: [
        [rule('sgr-u1', UNTRACK_A, true, { v4: '0.0.0.0/0' }), rule('sgr-u2', UNTRACK_A, true, { v6: '::/0' })],
        [rule('sgr-u3', UNTRACK_A, false, { v4: '0.0.0.0/0' }), rule('sgr-u4', UNTRACK_A, false, { v6: '::/0' })],
      ],
      [ISOLATION_A]: [[rule('sgr-i1', ISOLATION_A, true, { v4: '0.0.0.0/0' })], [rule('sgr-i2', ISOLATION_A, false, { v6: '::/0' })]],
    });
    ec2Mock.on(RevokeSecurityGroupEgressCommand).resolves({});
    ec2Mock.on(RevokeSecurityGroupIngressCommand).resolves({});

    await isolate(prepare([prepared()]), deps);

    // The groups are the ledger's, described by id only
    expect(ec2Mock.commandCalls(DescribeSecurityGroupsCommand).map((c) => c.args[0].input)).toEqual([{ GroupIds: [UNTRACK_A] }, { GroupIds: [ISOLATION_A] }]);
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeSecurityGroupRulesCommand, { Filters: [{ Name: 'group-id', Values: [UNTRACK_A] }], NextToken: 'p2' });
    expect(ec2Mock).not.toHaveReceivedCommand(AuthorizeSecurityGroupIngressCommand);
    expect(ec2Mock).not.toHaveReceivedCommand(AuthorizeSecurityGroupEgressCommand);
    expect(ec2Mock.commandCalls(RevokeSecurityGroupEgressCommand).map((c) => c.args[0].input)).toEqual([
      { GroupId: ISOLATION_A, SecurityGroupRuleIds: ['sgr-i1'] },
    ]);
    expect(ec2Mock.commandCalls(RevokeSecurityGroupIngressCommand).map((c) => c.args[0].input)).toEqual([
      { GroupId: ISOLATION_A, SecurityGroupRuleIds: ['sgr-i2'] },
    ]);
  });

  it('isolate refuses an isolation group whose stray rule is on the second page', async () => {
    ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    eniGroups([ISOLATION_A]);
    pagedRules({ [ISOLATION_A]: [[], [rule('sgr-0late', ISOLATION_A, true, { v4: '0.0.0.0/0' })]] });

    const err = await rejectionOf(
      isolate({ ...BASE, step: 'isolate', interface: prepared(), untracked: { connectionTracking: LOWERED, untrackedAt: NOW.toISOString() } }, deps),
    );

    expect(err).toBeInstanceOf(IsolationVerificationError);
    expect(err.message).toBe(`isolation group ${ISOLATION_A} has 1 rule(s): sgr-0late`);
  });
});

// ---------------------------------------------------------------- more than one ENI, races

describe('isolate step "prepare" with two ENIs in one VPC, through the handler', () => {
  it('prepares one pair of groups and maps both ENIs to it', async () => {
    recordedGroups();
    pagedRules({ [UNTRACK_A]: [[rule('a', UNTRACK_A, true, { v4: '0.0.0.0/0' }), rule('b', UNTRACK_A, true, { v6: '::/0' }), rule('c', UNTRACK_A, false, { v4: '0.0.0.0/0' }), rule('d', UNTRACK_A, false, { v6: '::/0' })]] });
    const second = { networkInterfaceId: ENI_1, vpcId: VPC_A, deviceIndex: 1, groupIds: ['sg-0f0f0f0f0f0f0f0f1'], ipv6: true, tcpEstablishedTimeout: 300 };
    const first = { networkInterfaceId: ENI_0, vpcId: VPC_A, deviceIndex: 0, groupIds: [ORIGINAL_SG], ipv6: false, tcpEstablishedTimeout: null };
    const handler = createHandler(() => deps);

    const result = await handler({ ...BASE, step: 'prepare', interfaces: [first, second] });

    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeSecurityGroupsCommand, 2);
    expect(result).toEqual({
      awsCalls: [],
      groups: [{ vpcId: VPC_A, untrackGroupId: UNTRACK_A, isolationGroupId: ISOLATION_A }],
      interfaces: [
        { ...first, untrackGroupId: UNTRACK_A, isolationGroupId: ISOLATION_A },
        { ...second, untrackGroupId: UNTRACK_A, isolationGroupId: ISOLATION_A },
      ],
    });
  });

  it('rejects a prepare step with no interface', async () => {
    const handler = createHandler(() => deps);

    const err = await rejectionOf(handler({ ...BASE, step: 'prepare', interfaces: [] }));

    expect(err.name).toBe('InvalidRequestError');
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
  });
});

describe('races with a concurrent execution on the same VPC', () => {
  const UNTRACK_NAME = new RegExp(`^cordon-untrack-${VPC_A}-[0-9a-f]{12}$`);

  it('a created group gets the exact descriptions; a CreateSecurityGroup error other than Duplicate is rethrown at once', async () => {
    ec2Mock.on(CreateSecurityGroupCommand).rejects(awsError('UnauthorizedOperation'));

    const err = await rejectionOf(isolate({ ...BASE, step: 'prepare', interfaces: [prepared()] }, deps));

    expect(err.name).toBe('UnauthorizedOperation');
    // Nothing recorded: nothing is described, the untrack group is created (once) and nothing is recorded
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeSecurityGroupsCommand, 0);
    expect(ec2Mock).toHaveReceivedCommandTimes(CreateSecurityGroupCommand, 1);
    expect(ec2Mock).toHaveReceivedCommandWith(CreateSecurityGroupCommand, {
      VpcId: VPC_A,
      Description: 'cordon: allow-all step that untracks live flows before isolation. Do not edit.',
    });
    expect(ec2Mock.commandCalls(CreateSecurityGroupCommand)[0]?.args[0].input.GroupName).toMatch(UNTRACK_NAME);
    expect(ddbMock).not.toHaveReceivedCommand(PutCommand);
  });

  it('a random name that is taken anyway (InvalidGroup.Duplicate) is retried under a fresh name, three names in all', async () => {
    ec2Mock.on(CreateSecurityGroupCommand).rejects(awsError('InvalidGroup.Duplicate'));

    const err = await rejectionOf(isolate({ ...BASE, step: 'prepare', interfaces: [prepared()] }, deps));

    expect(err.name).toBe('InvalidGroup.Duplicate');
    const names = ec2Mock.commandCalls(CreateSecurityGroupCommand).map((c) => c.args[0].input.GroupName);
    expect(names).toEqual([expect.stringMatching(UNTRACK_NAME), expect.stringMatching(UNTRACK_NAME), expect.stringMatching(UNTRACK_NAME)]);
    expect(new Set(names).size).toBe(3);
    expect(ddbMock).not.toHaveReceivedCommand(PutCommand);
  });

  it('the isolation group is created with its own description; a CreateSecurityGroup without GroupId is an error', async () => {
    recordedGroups(['untrack']);
    pagedRules({ [UNTRACK_A]: [[rule('a', UNTRACK_A, true, { v4: '0.0.0.0/0' }), rule('b', UNTRACK_A, true, { v6: '::/0' }), rule('c', UNTRACK_A, false, { v4: '0.0.0.0/0' }), rule('d', UNTRACK_A, false, { v6: '::/0' })]] });
    ec2Mock.on(CreateSecurityGroupCommand).resolves({});

    const err = await rejectionOf(isolate({ ...BASE, step: 'prepare', interfaces: [prepared()] }, deps));

    const creates = ec2Mock.commandCalls(CreateSecurityGroupCommand).map((c) => c.args[0].input);
    expect(creates).toHaveLength(1);
    expect(creates[0]?.GroupName).toMatch(new RegExp(`^cordon-isolation-${VPC_A}-[0-9a-f]{12}$`));
    expect(err.message).toBe(`CreateSecurityGroup ${creates[0]?.GroupName} returned no GroupId`);
    expect(ec2Mock).toHaveReceivedCommandWith(CreateSecurityGroupCommand, { Description: 'cordon: isolation group with no rules. Do not edit.' });
    expect(ddbMock).not.toHaveReceivedCommand(PutCommand);
  });

  it('an allow-all rule a concurrent execution added first (InvalidPermission.Duplicate) is fine; another error is not', async () => {
    recordedGroups();
    pagedRules({ [UNTRACK_A]: [[]] });
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).rejects(awsError('InvalidPermission.Duplicate'));
    ec2Mock.on(AuthorizeSecurityGroupEgressCommand).rejects(awsError('InvalidPermission.Malformed'));

    const err = await rejectionOf(isolate({ ...BASE, step: 'prepare', interfaces: [prepared()] }, deps));

    expect(err.name).toBe('InvalidPermission.Malformed');
    expect(ec2Mock).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 1);
    expect(ec2Mock).toHaveReceivedCommandTimes(AuthorizeSecurityGroupEgressCommand, 1);
  });

  it('isolation-group rules revoked by a concurrent execution first (NotFound): describes again, at most three times', async () => {
    recordedGroups();
    pagedRules({
      [UNTRACK_A]: [[rule('a', UNTRACK_A, true, { v4: '0.0.0.0/0' }), rule('b', UNTRACK_A, true, { v6: '::/0' }), rule('c', UNTRACK_A, false, { v4: '0.0.0.0/0' }), rule('d', UNTRACK_A, false, { v6: '::/0' })]],
      [ISOLATION_A]: [[rule('sgr-gone', ISOLATION_A, true, { v4: '0.0.0.0/0' })]],
    });
    ec2Mock.on(RevokeSecurityGroupEgressCommand).rejects(awsError('InvalidSecurityGroupRuleId.NotFound'));

    const err = await rejectionOf(isolate({ ...BASE, step: 'prepare', interfaces: [prepared()] }, deps));

    expect(err.name).toBe('InvalidSecurityGroupRuleId.NotFound');
    expect(ec2Mock).toHaveReceivedCommandTimes(RevokeSecurityGroupEgressCommand, 3);
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeSecurityGroupRulesCommand, { Filters: [{ Name: 'group-id', Values: [ISOLATION_A] }] });
    const isolationLooks = ec2Mock.commandCalls(DescribeSecurityGroupRulesCommand).filter((c) => c.args[0].input.Filters?.[0]?.Values?.[0] === ISOLATION_A);
    expect(isolationLooks).toHaveLength(3);
  });

  it('a rule revoked concurrently is gone on the next look: prepare succeeds after one retry', async () => {
    recordedGroups();
    let isolationLooks = 0;
    ec2Mock.on(DescribeSecurityGroupRulesCommand).callsFake((input: DescribeSecurityGroupRulesCommandInput) => {
      if (input.Filters?.[0]?.Values?.[0] === UNTRACK_A) {
        return { SecurityGroupRules: [rule('a', UNTRACK_A, true, { v4: '0.0.0.0/0' }), rule('b', UNTRACK_A, true, { v6: '::/0' }), rule('c', UNTRACK_A, false, { v4: '0.0.0.0/0' }), rule('d', UNTRACK_A, false, { v6: '::/0' })] };
      }
      return { SecurityGroupRules: isolationLooks++ === 0 ? [rule('sgr-gone', ISOLATION_A, false, { v4: '0.0.0.0/0' })] : [] };
    });
    ec2Mock.on(RevokeSecurityGroupIngressCommand).rejects(awsError('InvalidSecurityGroupRuleId.NotFound'));

    const result = await isolate({ ...BASE, step: 'prepare', interfaces: [prepared()] }, deps);

    expect(ec2Mock).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 1);
    expect(isolationLooks).toBe(2);
    expect(result).toEqual({
      groups: [{ vpcId: VPC_A, untrackGroupId: UNTRACK_A, isolationGroupId: ISOLATION_A }],
      interfaces: [prepared()],
    });
  });
});

describe('isolate productionDeps', () => {
  const ENV = { PARTITION: 'aws', RESPONDER_ROLE_NAME: 'cordon-responder', TCP_ESTABLISHED_TIMEOUT: '120', LEDGER_TABLE: 'cordon-ledger-prod' };

  it('reads the established-TCP timeout from TCP_ESTABLISHED_TIMEOUT, as a number, and the ledger table from LEDGER_TABLE', () => {
    expect(productionDeps(ENV).config).toStrictEqual({ tcpEstablishedTimeout: 120, ledgerTable: 'cordon-ledger-prod' });
  });

  it.each(['TCP_ESTABLISHED_TIMEOUT', 'LEDGER_TABLE'] as const)('refuses to start with only %s missing, naming it', (name) => {
    const env: Record<string, string> = { ...ENV };
    delete env[name];
    expect(() => productionDeps(env)).toThrow(`Environment variable ${name} is not set`);
  });
});

describe('without an injected clock', () => {
  it('untrack and secure stamp the real time', async () => {
    ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
    eniGroups([ISOLATION_A]);
    const clockless: IsolateDeps = { factory: testClientFactory(), config: { tcpEstablishedTimeout: 60, ledgerTable: 'cordon-ledger' } };
    const before = Date.now();

    const untracked = (await isolate({ ...BASE, step: 'untrack', interface: prepared() }, clockless)) as { untrackedAt: string };
    const secured = (await isolate({ ...BASE, step: 'secure', interface: prepared(), failure: {} } as IsolateInput, clockless)) as { isolatedAt: string };

    for (const at of [untracked.untrackedAt, secured.isolatedAt]) {
      expect(Date.parse(at)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(at)).toBeLessThanOrEqual(Date.now());
    }
  });
});

describe('verification details', () => {
  const isolateStep = (connectionTracking: Record<string, unknown>, iface = prepared()): IsolateInput =>
    ({ ...BASE, step: 'isolate', interface: iface, untracked: { connectionTracking, untrackedAt: NOW.toISOString() } }) as IsolateInput;

  it('an ENI Describe reports without groups (or a group without id) fails verification, naming what it saw', async () => {
    ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    ec2Mock.on(DescribeNetworkInterfacesCommand).resolvesOnce({}).resolves({ NetworkInterfaces: [{ Groups: [{}] }] });

    const none = await rejectionOf(isolate(isolateStep(LOWERED), deps));
    const blank = await rejectionOf(isolate(isolateStep(LOWERED), deps));

    expect(none.message).toBe(`${ENI_0} has groups [], expected only ${ISOLATION_A}`);
    expect(blank.message).toBe(`${ENI_0} has groups [], expected only ${ISOLATION_A}`);
    expect(blank).toBeInstanceOf(IsolationVerificationError);
  });

  it('a rules answer without a list is no rules; two stray rules are both named', async () => {
    ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    eniGroups([ISOLATION_A]);
    ec2Mock
      .on(DescribeSecurityGroupRulesCommand)
      .resolvesOnce({})
      .resolves({ SecurityGroupRules: [rule('sgr-1', ISOLATION_A, true, { v4: '0.0.0.0/0' }), rule('sgr-2', ISOLATION_A, false, { v6: '::/0' })] });

    const ok = (await isolate(isolateStep(LOWERED), deps)) as { status: string };
    const err = await rejectionOf(isolate(isolateStep(LOWERED), deps));

    expect(ok.status).toBe('isolated');
    expect(err.message).toBe(`isolation group ${ISOLATION_A} has 2 rule(s): sgr-1, sgr-2`);
  });

  it.each([
    ['lowered without a number', { status: 'lowered' }, 432_000],
    ['not lowered, whatever number it carries', { status: 'unknown', tcpEstablishedTimeout: 99 }, 432_000],
    ['lowered to 75 s', { status: 'lowered', tcpEstablishedTimeout: 75 }, 75],
  ])('the idle timeout of tracked flows: %s', async (_label, ct, idle) => {
    ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
    eniGroups([ISOLATION_A]);

    const result = (await isolate(isolateStep(ct), deps)) as { guarantees: { trackedFlowIdleTimeoutSeconds: number } };

    expect(result.guarantees.trackedFlowIdleTimeoutSeconds).toBe(idle);
  });

  it('an error revoking isolation-group rules other than NotFound is not retried', async () => {
    recordedGroups();
    pagedRules({
      [UNTRACK_A]: [[rule('a', UNTRACK_A, true, { v4: '0.0.0.0/0' }), rule('b', UNTRACK_A, true, { v6: '::/0' }), rule('c', UNTRACK_A, false, { v4: '0.0.0.0/0' }), rule('d', UNTRACK_A, false, { v6: '::/0' })]],
      [ISOLATION_A]: [[rule('sgr-x', ISOLATION_A, true, { v4: '0.0.0.0/0' })]],
    });
    ec2Mock.on(RevokeSecurityGroupEgressCommand).rejects(awsError('UnauthorizedOperation'));

    const err = await rejectionOf(isolate({ ...BASE, step: 'prepare', interfaces: [prepared()] }, deps));

    expect(err.name).toBe('UnauthorizedOperation');
    expect(ec2Mock).toHaveReceivedCommandTimes(RevokeSecurityGroupEgressCommand, 1);
  });

  it('secure measures its open window on the injected clock (0 s, whatever the real time)', async () => {
    ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
    eniGroups([ISOLATION_A]);
    const future = new Date('2099-01-01T00:00:00.000Z');

    const result = (await isolate({ ...BASE, step: 'secure', interface: prepared(), failure: {} } as IsolateInput, { ...deps, now: () => future })) as {
      isolatedAt: string;
      guarantees: { openWindowSeconds: number };
    };

    expect(result.isolatedAt).toBe(future.toISOString());
    expect(result.guarantees.openWindowSeconds).toBe(0);
  });
});

describe('the handler schema for the isolate and secure steps', () => {
  const handler = () => createHandler(() => deps);
  const untracked = { connectionTracking: LOWERED, untrackedAt: NOW.toISOString() };

  it.each([
    ['a secure failure whose Error is not a string', { step: 'secure', interface: prepared(), failure: { Error: 5 } }],
    ['an isolate step without connectionTracking', { step: 'isolate', interface: prepared(), untracked: { untrackedAt: NOW.toISOString() } }],
    ['an isolate step whose connectionTracking has no status', { step: 'isolate', interface: prepared(), untracked: { ...untracked, connectionTracking: {} } }],
    ['an isolate step with isolatedEarly false', { step: 'isolate', interface: prepared(), untracked: { ...untracked, isolatedEarly: false } }],
  ])('rejects %s before any AWS call', async (_label, body) => {
    const err = await rejectionOf(handler()({ ...BASE, ...body }));

    expect(err.name).toBe('InvalidRequestError');
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
  });

  it('accepts an early isolation (isolatedEarly true) and only verifies', async () => {
    ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
    eniGroups([ISOLATION_A]);

    const result = (await handler()({ ...BASE, step: 'isolate', interface: prepared(), untracked: { ...untracked, isolatedEarly: true } })) as { status: string };

    expect(result.status).toBe('isolated');
    expect(ec2Mock).not.toHaveReceivedCommand(ModifyNetworkInterfaceAttributeCommand);
  });
});
