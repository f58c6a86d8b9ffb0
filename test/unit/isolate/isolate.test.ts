import {
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupRulesCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { IsolationVerificationError, TransientAwsError } from '../../../lambdas/shared/errors';
import type { InterfaceSummary } from '../../../lambdas/shared/workflow';
import { createHandler } from '../../../lambdas/isolate/handler';
import {
  isolate,
  type InterfaceResult,
  type IsolateDeps,
  type IsolateInput,
  type PreparedInterface,
  type UntrackResult,
} from '../../../lambdas/isolate/isolate';
import { awsError, rejectionOf, testClientFactory, type TestClientFactory } from '../../support/clients';

const ec2Mock = mockClient(EC2Client);

const TARGET = { accountId: '111122223333', region: 'eu-west-1', instanceId: 'i-0123456789abcdef0' };
const BASE = { target: TARGET, incidentId: 'inc-111122223333-eu-west-1-i-0123456789abcdef0', requestId: 'req-1' };
const VPC_A = 'vpc-0aaaaaaaaaaaaaaa1';
const ENI_0 = 'eni-0000000000000000a';
const ORIGINAL_SG = 'sg-0f0f0f0f0f0f0f0f0';
const UNTRACK_A = 'sg-0aaaaaaaaaaaaaa01';
const ISOLATION_A = 'sg-0aaaaaaaaaaaaaa02';
const NOW = new Date('2025-06-01T12:00:30.000Z');
const UNTRACKED_AT = '2025-06-01T12:00:00.000Z';

function eni(id: string, vpcId: string, deviceIndex: number, extra: Partial<InterfaceSummary> = {}): InterfaceSummary {
  return { networkInterfaceId: id, vpcId, deviceIndex, groupIds: [ORIGINAL_SG], ipv6: false, tcpEstablishedTimeout: null, ...extra };
}

function prepared(extra: Partial<PreparedInterface> = {}): PreparedInterface {
  return { ...eni(ENI_0, VPC_A, 0), untrackGroupId: UNTRACK_A, isolationGroupId: ISOLATION_A, ...extra };
}

let factory: TestClientFactory;
let deps: IsolateDeps;

beforeEach(() => {
  ec2Mock.reset();
  factory = testClientFactory();
  deps = { factory, config: { tcpEstablishedTimeout: 60, ledgerTable: 'cordon-ledger' }, now: () => NOW };
});

afterEach(() => {
  // docs/design.md §3: ModifyInstanceAttribute Groups fails on multi-ENI instances and is never used.
  expect(ec2Mock).not.toHaveReceivedCommand(ModifyInstanceAttributeCommand);
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
