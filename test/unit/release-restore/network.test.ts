import { DescribeNetworkInterfacesCommand, EC2Client, ModifyNetworkInterfaceAttributeCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createHandler } from '../../../lambdas/release-restore/handler';
import type { NetworkInput } from '../../../lambdas/release-restore/network';
import { restore, type RestoreDeps } from '../../../lambdas/release-restore/release-restore';
import { TransientAwsError } from '../../../lambdas/shared/errors';
import { RestoreVerificationError, type ReleaseInterface } from '../../../lambdas/shared/release';
import { awsError, rejectionOf, testClientFactory, type TestClientFactory } from '../../support/clients';

const ec2Mock = mockClient(EC2Client);

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const INSTANCE = 'i-0123456789abcdef0';
const TARGET = { accountId: ACCOUNT, region: REGION, instanceId: INSTANCE };
const VPC = 'vpc-0aaaaaaaaaaaaaaa1';
const ENI = 'eni-0000000000000000a';
const SG_SSH = 'sg-0aaaaaaaaaaaaaa02';
const SG_WEB = 'sg-0aaaaaaaaaaaaaa01';
const SG_ISOLATION = 'sg-0cccccccccccccc01';
const SG_UNTRACK = 'sg-0cccccccccccccc02';
const ORIGINAL = [SG_SSH, SG_WEB].sort();
const LOWERED = { tcpEstablishedTimeout: 60, udpStreamTimeout: 60, udpTimeout: 30 };

const eni = (extra: Partial<ReleaseInterface> = {}, found: Partial<ReleaseInterface['found']> = {}): ReleaseInterface => ({
  networkInterfaceId: ENI,
  vpcId: VPC,
  groupIds: ORIGINAL,
  connectionTracking: { tcpEstablishedTimeout: 350, udpStreamTimeout: 180, udpTimeout: 30 },
  found: { foundIn: 'isolation', groupIds: [SG_ISOLATION], connectionTracking: LOWERED, ...found },
  isolationGroupId: null,
  ...extra,
});

const input = (i: ReleaseInterface): NetworkInput => ({
  step: 'network',
  target: TARGET,
  incidentId: `inc-${ACCOUNT}-${REGION}-${INSTANCE}`,
  releaseId: 'rel-1',
  interface: i,
});

/** Stateful enough: DescribeNetworkInterfaces shows what the last group swap set. */
function ec2Holds(groups: string[]): void {
  let current = groups;
  ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).callsFake(async (i: { Groups?: string[] }) => {
    if (i.Groups) current = i.Groups;
    return {};
  });
  ec2Mock.on(DescribeNetworkInterfacesCommand).callsFake(async () => ({
    NetworkInterfaces: [{ NetworkInterfaceId: ENI, Groups: current.map((GroupId) => ({ GroupId })) }],
  }));
}

let factory: TestClientFactory;
const deps = (): RestoreDeps => ({ factory, sleep: async () => undefined });

beforeEach(() => {
  ec2Mock.reset();
  factory = testClientFactory();
});

describe('RestoreNetwork (one ENI)', () => {
  it('puts the original groups back, verifies them, then restores the original timeouts, in that order', async () => {
    ec2Holds([SG_ISOLATION]);

    const result = await restore(input(eni()), deps());

    expect(ec2Mock.commandCalls(ModifyNetworkInterfaceAttributeCommand).map((c) => c.args[0].input)).toEqual([
      { NetworkInterfaceId: ENI, Groups: ORIGINAL },
      { NetworkInterfaceId: ENI, ConnectionTrackingSpecification: { TcpEstablishedTimeout: 350, UdpStreamTimeout: 180, UdpTimeout: 30 } },
    ]);
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeNetworkInterfacesCommand, { NetworkInterfaceIds: [ENI] });
    expect(result).toEqual({
      networkInterfaceId: ENI,
      foundIn: 'isolation',
      status: 'restored',
      groups: { status: 'restored', from: [SG_ISOLATION], to: ORIGINAL },
      connectionTracking: {
        status: 'restored',
        from: LOWERED,
        to: { tcpEstablishedTimeout: 350, udpStreamTimeout: 180, udpTimeout: 30 },
      },
    });
    expect(factory.targetCalls).toEqual([{ target: TARGET, sessionName: 'cordon-release-rel-1' }]);
  });

  it('sets the documented defaults when EC2 reported no timeouts before containment, and says so', async () => {
    ec2Holds([SG_ISOLATION]);

    const result = await restore(input(eni({ connectionTracking: null })), deps());

    expect(ec2Mock).toHaveReceivedCommandWith(ModifyNetworkInterfaceAttributeCommand, {
      NetworkInterfaceId: ENI,
      ConnectionTrackingSpecification: { TcpEstablishedTimeout: 432000, UdpStreamTimeout: 180, UdpTimeout: 30 },
    });
    expect(result).toMatchObject({ status: 'restored', connectionTracking: { status: 'restored', note: expect.stringContaining('documented defaults') } });
  });

  it('leaves timeouts cordon never lowered alone (a non-Nitro instance), and groups already back', async () => {
    ec2Holds(ORIGINAL);

    const result = await restore(input(eni({ connectionTracking: null }, { foundIn: 'original', groupIds: [SG_WEB, SG_SSH], connectionTracking: null })), deps());

    expect(ec2Mock).not.toHaveReceivedCommand(ModifyNetworkInterfaceAttributeCommand);
    expect(result).toMatchObject({
      status: 'restored',
      groups: { status: 'already-restored' },
      connectionTracking: { status: 'unchanged', value: { tcpEstablishedTimeout: 432000, udpStreamTimeout: 180, udpTimeout: 30 } },
    });
  });

  it('restores an ENI found in the allow-all untrack group, and notes it', async () => {
    ec2Holds([SG_UNTRACK]);

    const result = await restore(input(eni({ isolationGroupId: SG_ISOLATION }, { foundIn: 'untrack', groupIds: [SG_UNTRACK] })), deps());

    expect(ec2Mock.commandCalls(ModifyNetworkInterfaceAttributeCommand)[0]?.args[0].input).toEqual({ NetworkInterfaceId: ENI, Groups: ORIGINAL });
    expect(result).toMatchObject({ status: 'restored', foundIn: 'untrack', note: expect.stringContaining('untrack group') });
  });

  it('moves an untrack-group ENI whose restore fails into the isolation group: never left open', async () => {
    ec2Holds([SG_UNTRACK]);
    ec2Mock.on(ModifyNetworkInterfaceAttributeCommand, { Groups: ORIGINAL }).rejects(awsError('InvalidGroup.NotFound', { message: `The security group '${SG_SSH}' does not exist` }));

    const result = await restore(input(eni({ isolationGroupId: SG_ISOLATION }, { foundIn: 'untrack', groupIds: [SG_UNTRACK] })), deps());

    expect(ec2Mock.commandCalls(ModifyNetworkInterfaceAttributeCommand).map((c) => c.args[0].input.Groups)).toEqual([ORIGINAL, [SG_ISOLATION], undefined]);
    expect(result).toMatchObject({
      status: 'failed',
      error: 'InvalidGroup.NotFound',
      cause: `${ENI}: not restored; moved to the isolation group instead of staying in the allow-all untrack group: The security group '${SG_SSH}' does not exist`,
      groups: { status: 'failed', leftIn: 'isolation', groupIds: [SG_ISOLATION] },
    });
  });

  it('says so first when an untrack-group ENI could be neither restored nor isolated', async () => {
    ec2Holds([SG_UNTRACK]);
    ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).rejects(awsError('UnauthorizedOperation'));

    const result = await restore(input(eni({ isolationGroupId: SG_ISOLATION }, { foundIn: 'untrack', groupIds: [SG_UNTRACK] })), deps());

    expect(result).toMatchObject({ status: 'failed', groups: { leftIn: 'untrack' }, cause: expect.stringMatching(/^eni-\w+: STILL IN THE ALLOW-ALL UNTRACK GROUP, check it now: /) });
  });

  it('leaves an isolated ENI isolated when its groups cannot be restored', async () => {
    ec2Holds([SG_ISOLATION]);
    ec2Mock.on(ModifyNetworkInterfaceAttributeCommand, { Groups: ORIGINAL }).rejects(awsError('InvalidGroup.NotFound'));

    const result = await restore(input(eni()), deps());

    expect(ec2Mock.commandCalls(ModifyNetworkInterfaceAttributeCommand).map((c) => c.args[0].input.Groups)).toEqual([ORIGINAL, undefined]);
    expect(result).toMatchObject({ status: 'failed', groups: { leftIn: 'where-found', groupIds: [SG_ISOLATION] } });
  });

  it('reports timeouts it could not restore as a failure of that ENI, with its groups restored', async () => {
    ec2Holds([SG_ISOLATION]);
    ec2Mock.on(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: ENI, ConnectionTrackingSpecification: { TcpEstablishedTimeout: 350, UdpStreamTimeout: 180, UdpTimeout: 30 } }).rejects(awsError('UnsupportedOperation'));

    const result = await restore(input(eni()), deps());

    expect(result).toMatchObject({
      status: 'failed',
      error: 'UnsupportedOperation',
      cause: expect.stringContaining('connection-tracking timeouts not restored'),
      groups: { status: 'restored' },
      connectionTracking: { status: 'failed', error: 'UnsupportedOperation' },
    });
  });

  it('does not touch an ENI no longer attached to the instance', async () => {
    const result = await restore(input(eni({}, { foundIn: 'not-attached', groupIds: [] })), deps());

    expect(ec2Mock.calls()).toHaveLength(0);
    expect(result).toMatchObject({ status: 'failed', error: 'InterfaceNotAttached' });
  });

  it('fails verification when Describe does not show the original groups', async () => {
    ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    ec2Mock.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [{ Groups: [{ GroupId: SG_ISOLATION }] }] });

    const err = await rejectionOf(restore(input(eni()), deps()));

    expect(err).toBeInstanceOf(RestoreVerificationError);
    expect(err.name).toBe('RestoreVerificationError');
  });

  it('throws throttling for the state machine to retry (handler: TransientAwsError)', async () => {
    ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).rejects(awsError('RequestLimitExceeded'));

    const err = await rejectionOf(createHandler(deps)(input(eni())));

    expect(err).toBeInstanceOf(TransientAwsError);
  });

  it('rejects an interface without groups to restore', async () => {
    const err = await rejectionOf(createHandler(deps)(input(eni({ groupIds: [] }))));

    expect(err.name).toBe('InvalidRequestError');
    expect(ec2Mock.calls()).toHaveLength(0);
  });
});
