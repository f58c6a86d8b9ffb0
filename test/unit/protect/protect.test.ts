import {
  AutoScalingClient,
  DescribeAutoScalingInstancesCommand,
  DetachInstancesCommand,
} from '@aws-sdk/client-auto-scaling';
import { EC2Client, ModifyInstanceAttributeCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { ProtectInstanceError, TransientAwsError } from '../../../lambdas/shared/errors';
import { createHandler, type ProtectDeps } from '../../../lambdas/protect/handler';
import { protectInstance, type ProtectInput } from '../../../lambdas/protect/protect';
import { awsError, rejectionOf, testClientFactory, type TestClientFactory } from '../../support/clients';

const asMock = mockClient(AutoScalingClient);
const ec2Mock = mockClient(EC2Client);

const TARGET = { accountId: '111122223333', region: 'eu-west-1', instanceId: 'i-0123456789abcdef0' };
const BASE = { target: TARGET, incidentId: 'inc-111122223333-eu-west-1-i-0123456789abcdef0', requestId: 'req-1' };
const ASG = 'web-asg';

const input = (autoScalingGroupName: string | null): ProtectInput => ({ ...BASE, autoScalingGroupName });

let factory: TestClientFactory;
let deps: ProtectDeps;

beforeEach(() => {
  asMock.reset();
  ec2Mock.reset();
  factory = testClientFactory();
  deps = { factory };
});

describe('protectInstance', () => {
  it('detaches an Auto Scaling member without decrementing capacity, BEFORE enabling termination protection', async () => {
    // Prepare
    asMock.on(DescribeAutoScalingInstancesCommand).resolves({
      AutoScalingInstances: [
        {
          InstanceId: TARGET.instanceId,
          AutoScalingGroupName: ASG,
          AvailabilityZone: 'eu-west-1a',
          LifecycleState: 'InService',
          HealthStatus: 'HEALTHY',
          ProtectedFromScaleIn: false,
        },
      ],
    });
    asMock.on(DetachInstancesCommand).resolves({ Activities: [{ ActivityId: 'act-1', AutoScalingGroupName: ASG, Cause: 'x', StartTime: new Date(), StatusCode: 'InProgress' }] });
    ec2Mock.on(ModifyInstanceAttributeCommand).resolves({});

    // Act
    const result = await protectInstance(input(ASG), deps);

    // Assess: exact requests
    expect(asMock).toHaveReceivedNthCommandWith(1, DescribeAutoScalingInstancesCommand, { InstanceIds: [TARGET.instanceId] });
    expect(asMock).toHaveReceivedNthCommandWith(2, DetachInstancesCommand, {
      AutoScalingGroupName: ASG,
      InstanceIds: [TARGET.instanceId],
      ShouldDecrementDesiredCapacity: false,
    });
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifyInstanceAttributeCommand, 1);
    expect(ec2Mock.commandCalls(ModifyInstanceAttributeCommand)[0]?.args[0].input).toEqual({
      InstanceId: TARGET.instanceId,
      DisableApiTermination: { Value: true },
    });
    // Assess: order across the two clients
    const detach = asMock.commandCalls(DetachInstancesCommand)[0];
    const modify = ec2Mock.commandCalls(ModifyInstanceAttributeCommand)[0];
    expect(detach && modify && detach.calledBefore(modify)).toBe(true);
    expect(result).toEqual({
      autoScaling: { status: 'detached', groupName: ASG, activityIds: ['act-1'] },
      terminationProtection: { status: 'enabled' },
    });
  });

  it('reports "already-detached" when the instance left the group, without calling DetachInstances', async () => {
    asMock.on(DescribeAutoScalingInstancesCommand).resolves({ AutoScalingInstances: [] });
    ec2Mock.on(ModifyInstanceAttributeCommand).resolves({});

    const result = await protectInstance(input(ASG), deps);

    expect(asMock).not.toHaveReceivedCommand(DetachInstancesCommand);
    expect(ec2Mock).toHaveReceivedCommandWith(ModifyInstanceAttributeCommand, { DisableApiTermination: { Value: true } });
    expect(result.autoScaling).toEqual({ status: 'already-detached', groupName: ASG });
  });

  it('on a retried task, treats an instance still "Detaching" from the group as already detached', async () => {
    // Prepare: the first attempt detached the instance, then ModifyInstanceAttribute was throttled and
    // Step Functions retried the task. While the load balancer drains (up to the deregistration delay),
    // DescribeAutoScalingInstances still lists the instance, in LifecycleState "Detaching", and
    // DetachInstances refuses it because it is no longer InService or Standby.
    asMock.on(DescribeAutoScalingInstancesCommand).resolves({
      AutoScalingInstances: [
        { InstanceId: TARGET.instanceId, AutoScalingGroupName: ASG, AvailabilityZone: 'eu-west-1a', LifecycleState: 'Detaching', HealthStatus: 'HEALTHY', ProtectedFromScaleIn: false },
      ],
    });
    asMock
      .on(DetachInstancesCommand)
      .rejects(awsError('ValidationError', { message: `The instance ${TARGET.instanceId} is not in InService or Standby.` }));
    ec2Mock.on(ModifyInstanceAttributeCommand).resolves({});

    // Act
    const result = await protectInstance(input(ASG), deps);

    // Assess: no second detach, no ProtectInstanceError (which would make the workflow skip isolation as unsafe)
    expect(asMock).not.toHaveReceivedCommand(DetachInstancesCommand);
    expect(result).toEqual({
      autoScaling: { status: 'already-detached', groupName: ASG },
      terminationProtection: { status: 'enabled' },
    });
  });

  it('makes no Auto Scaling call for an instance that was never a member', async () => {
    ec2Mock.on(ModifyInstanceAttributeCommand).resolves({});

    const result = await protectInstance(input(null), deps);

    expect(asMock).not.toHaveReceivedAnyCommand();
    expect(result).toEqual({ autoScaling: { status: 'not-a-member' }, terminationProtection: { status: 'enabled' } });
  });

  it('throws ProtectInstanceError when DetachInstances fails with ValidationError, and changes nothing else', async () => {
    // Prepare
    asMock.on(DescribeAutoScalingInstancesCommand).resolves({
      AutoScalingInstances: [
        { InstanceId: TARGET.instanceId, AutoScalingGroupName: ASG, AvailabilityZone: 'eu-west-1a', LifecycleState: 'Pending', HealthStatus: 'HEALTHY', ProtectedFromScaleIn: false },
      ],
    });
    asMock.on(DetachInstancesCommand).rejects(awsError('ValidationError', { message: 'The instance is not in InService or Standby' }));

    // Act
    const err = await rejectionOf(protectInstance(input(ASG), deps));

    // Assess
    expect(err).toBeInstanceOf(ProtectInstanceError);
    expect(err.name).toBe('ProtectInstanceError');
    expect(err.message).toContain('ValidationError');
    expect(err.message).toContain(ASG);
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
  });

  it('reports a termination-protection failure in the result instead of throwing', async () => {
    ec2Mock.on(ModifyInstanceAttributeCommand).rejects(awsError('UnauthorizedOperation', { message: 'You are not authorized' }));

    const result = await protectInstance(input(null), deps);

    expect(result.terminationProtection).toEqual({ status: 'failed', error: 'UnauthorizedOperation', cause: 'You are not authorized' });
  });

  it('lets a throttled ModifyInstanceAttribute propagate for a retry rather than recording a failure', async () => {
    ec2Mock.on(ModifyInstanceAttributeCommand).rejects(awsError('RequestLimitExceeded'));

    const err = await rejectionOf(protectInstance(input(null), deps));

    expect(err.name).toBe('RequestLimitExceeded');
  });
});

describe('protect handler', () => {
  it('classifies Auto Scaling throttling as TransientAwsError, not ProtectInstanceError', async () => {
    asMock.on(DescribeAutoScalingInstancesCommand).rejects(awsError('Throttling', { message: 'Rate exceeded' }));
    const handler = createHandler(() => deps);

    const err = await rejectionOf(handler(input(ASG)));

    expect(err).toBeInstanceOf(TransientAwsError);
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
  });

  it('rejects an invalid target with InvalidRequestError before any AWS call', async () => {
    const handler = createHandler(() => deps);

    const err = await rejectionOf(handler({ ...input(ASG), target: { ...TARGET, accountId: '12345' } }));

    expect(err.name).toBe('InvalidRequestError');
    expect(asMock).not.toHaveReceivedAnyCommand();
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
    expect(factory.targetCalls).toHaveLength(0);
  });
});
