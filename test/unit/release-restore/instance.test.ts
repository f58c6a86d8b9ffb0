import { DescribeInstanceAttributeCommand, EC2Client, ModifyInstanceAttributeCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createHandler } from '../../../lambdas/release-restore/handler';
import type { InstanceInput } from '../../../lambdas/release-restore/instance';
import { restore, type RestoreDeps } from '../../../lambdas/release-restore/release-restore';
import { TransientAwsError } from '../../../lambdas/shared/errors';
import { awsError, rejectionOf, testClientFactory, type TestClientFactory } from '../../support/clients';

const ec2Mock = mockClient(EC2Client);

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const INSTANCE = 'i-0123456789abcdef0';
const TARGET = { accountId: ACCOUNT, region: REGION, instanceId: INSTANCE };
const TG = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/web/0123456789abcdef`;

const input = (extra: Partial<InstanceInput> = {}): InstanceInput => ({
  step: 'instance',
  target: TARGET,
  incidentId: `inc-${ACCOUNT}-${REGION}-${INSTANCE}`,
  releaseId: 'rel-1',
  attributes: { disableApiTermination: false, instanceInitiatedShutdownBehavior: 'terminate' },
  volumes: [
    { volumeId: 'vol-0aaaaaaaaaaaaaaa1', deviceName: '/dev/xvda', deleteOnTermination: true },
    { volumeId: 'vol-0bbbbbbbbbbbbbbb2', deviceName: '/dev/sdf', deleteOnTermination: false },
  ],
  autoScalingGroupName: 'web-asg',
  targetGroups: [{ targetGroupArn: TG, port: 80, availabilityZone: null }],
  ...extra,
});

/** The instance as containment left it: termination protection on, shutdown → stop. */
function contained(): void {
  ec2Mock.on(DescribeInstanceAttributeCommand, { Attribute: 'disableApiTermination' }).resolves({ DisableApiTermination: { Value: true } });
  ec2Mock.on(DescribeInstanceAttributeCommand, { Attribute: 'instanceInitiatedShutdownBehavior' }).resolves({ InstanceInitiatedShutdownBehavior: { Value: 'stop' } });
  ec2Mock.on(ModifyInstanceAttributeCommand).resolves({});
}

let factory: TestClientFactory;
const deps = (): RestoreDeps => ({ factory });

beforeEach(() => {
  ec2Mock.reset();
  factory = testClientFactory();
});

describe('RestoreInstance', () => {
  it('restores termination protection and shutdown behaviour, and reports what it deliberately leaves', async () => {
    contained();

    const result = await restore(input(), deps());

    expect(ec2Mock.commandCalls(ModifyInstanceAttributeCommand).map((c) => c.args[0].input)).toEqual([
      { InstanceId: INSTANCE, DisableApiTermination: { Value: false } },
      { InstanceId: INSTANCE, InstanceInitiatedShutdownBehavior: { Value: 'terminate' } },
    ]);
    // Never a DeleteOnTermination change: the volumes are the evidence's originals.
    expect(ec2Mock.commandCalls(ModifyInstanceAttributeCommand).filter((c) => c.args[0].input.BlockDeviceMappings)).toEqual([]);
    expect(result).toEqual({
      action: 'restoreInstance',
      status: 'succeeded',
      terminationProtection: { status: 'restored', from: true, to: false },
      shutdownBehavior: { status: 'restored', from: 'stop', to: 'terminate' },
      deleteOnTermination: { status: 'kept-false', originallyTrue: [{ volumeId: 'vol-0aaaaaaaaaaaaaaa1', deviceName: '/dev/xvda' }], reason: expect.stringContaining('evidence') },
      autoScaling: { status: 'not-reattached', groupName: 'web-asg', reason: expect.stringContaining('replacement') },
      targetGroups: { status: 'not-reregistered', registrations: [{ targetGroupArn: TG, port: 80, availabilityZone: null }], reason: expect.any(String) },
    });
  });

  it('changes nothing already as it was, and leaves what the before-state did not record', async () => {
    contained();

    const result = await restore(
      input({ attributes: { disableApiTermination: true, instanceInitiatedShutdownBehavior: null }, autoScalingGroupName: null, targetGroups: [] }),
      deps(),
    );

    expect(ec2Mock).not.toHaveReceivedCommand(ModifyInstanceAttributeCommand);
    expect(result).toMatchObject({
      status: 'succeeded',
      terminationProtection: { status: 'unchanged', value: true },
      shutdownBehavior: { status: 'unknown-original' },
      autoScaling: { status: 'not-a-member' },
      targetGroups: { status: 'none' },
    });
  });

  it('reports an attribute it could not restore, and still restores the other', async () => {
    contained();
    ec2Mock.on(ModifyInstanceAttributeCommand, { InstanceId: INSTANCE, DisableApiTermination: { Value: false } }).rejects(awsError('UnauthorizedOperation'));

    const result = await restore(input(), deps());

    expect(ec2Mock).toHaveReceivedCommandWith(ModifyInstanceAttributeCommand, { InstanceId: INSTANCE, InstanceInitiatedShutdownBehavior: { Value: 'terminate' } });
    expect(result).toMatchObject({
      status: 'failed',
      error: 'UnauthorizedOperation',
      cause: expect.stringContaining('termination protection: UnauthorizedOperation'),
      terminationProtection: { status: 'failed' },
      shutdownBehavior: { status: 'restored' },
    });
  });

  it('throws throttling for the state machine to retry (handler: TransientAwsError)', async () => {
    ec2Mock.on(DescribeInstanceAttributeCommand).rejects(awsError('RequestLimitExceeded'));

    const err = await rejectionOf(createHandler(deps)(input()));

    expect(err).toBeInstanceOf(TransientAwsError);
    expect(ec2Mock).not.toHaveReceivedCommand(ModifyInstanceAttributeCommand);
  });
});
