import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { EC2Client, ModifyInstanceAttributeCommand } from '@aws-sdk/client-ec2';
import {
  DeregisterTargetsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createHandler } from '../../../lambdas/preserve/handler';
import { preserveInstance, type PreserveInput } from '../../../lambdas/preserve/preserve';
import { awsError, rejectionOf, testClientFactory, type TestClientFactory } from '../../support/clients';

const ec2Mock = mockClient(EC2Client);
const elbMock = mockClient(ElasticLoadBalancingV2Client);
const asgMock = mockClient(AutoScalingClient);

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const INSTANCE = 'i-0123456789abcdef0';
const OTHER_INSTANCE = 'i-0fedcba9876543210';
const TARGET = { accountId: ACCOUNT, region: REGION, instanceId: INSTANCE };
const VOL_ROOT = 'vol-0aaaaaaaaaaaaaaa1';
const VOL_DATA = 'vol-0bbbbbbbbbbbbbbb2';
const ASG = 'web-asg';
const tgArn = (name: string): string => `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/${name}/0123456789abcdef`;
const TG_DIRECT = tgArn('direct');
const TG_DIRECT_AZ = tgArn('direct-az');
const TG_ASG = tgArn('asg-owned');
const TG_IP = tgArn('ip-type');
const TG_DRAINING = tgArn('draining');
const TG_OTHER = tgArn('other-instance');

const input = (extra: Partial<PreserveInput> = {}): PreserveInput => ({
  target: TARGET,
  incidentId: `inc-${ACCOUNT}-${REGION}-${INSTANCE}`,
  requestId: 'req-1',
  volumes: [
    { volumeId: VOL_ROOT, deviceName: '/dev/xvda' },
    { volumeId: VOL_DATA, deviceName: '/dev/sdf' },
  ],
  autoScalingGroupName: null,
  ...extra,
});

const group = (arn: string, type: TargetGroup['TargetType'] = 'instance'): TargetGroup => ({ TargetGroupArn: arn, TargetType: type });

let factory: TestClientFactory;

function noTargetGroups(): void {
  elbMock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [] });
}

beforeEach(() => {
  ec2Mock.reset();
  elbMock.reset();
  asgMock.reset();
  factory = testClientFactory();
  ec2Mock.on(ModifyInstanceAttributeCommand).resolves({});
  elbMock.on(DeregisterTargetsCommand).resolves({});
});

describe('preserveInstance: instance attributes', () => {
  it('sets shutdown behaviour to stop first, then DeleteOnTermination=false on each volume, one call per volume', async () => {
    // Prepare
    noTargetGroups();

    // Act
    const result = await preserveInstance(input(), { factory });

    // Assess
    expect(factory.targetCalls).toEqual([{ target: TARGET, sessionName: 'cordon-req-1' }]);
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifyInstanceAttributeCommand, 3);
    expect(ec2Mock).toHaveReceivedNthCommandWith(1, ModifyInstanceAttributeCommand, {
      InstanceId: INSTANCE,
      InstanceInitiatedShutdownBehavior: { Value: 'stop' },
    });
    expect(ec2Mock).toHaveReceivedNthCommandWith(2, ModifyInstanceAttributeCommand, {
      InstanceId: INSTANCE,
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeId: VOL_ROOT, DeleteOnTermination: false } }],
    });
    expect(ec2Mock).toHaveReceivedNthCommandWith(3, ModifyInstanceAttributeCommand, {
      InstanceId: INSTANCE,
      BlockDeviceMappings: [{ DeviceName: '/dev/sdf', Ebs: { VolumeId: VOL_DATA, DeleteOnTermination: false } }],
    });
    // Exactly these inputs: nothing else rides along (toHaveReceivedNthCommandWith matches a subset).
    expect(ec2Mock.commandCalls(ModifyInstanceAttributeCommand).map((c) => Object.keys(c.args[0].input).sort())).toEqual([
      ['InstanceId', 'InstanceInitiatedShutdownBehavior'],
      ['BlockDeviceMappings', 'InstanceId'],
      ['BlockDeviceMappings', 'InstanceId'],
    ]);
    expect(result).toEqual({
      action: 'preserve',
      status: 'succeeded',
      shutdownBehavior: { status: 'done' },
      deleteOnTermination: [
        { volumeId: VOL_ROOT, deviceName: '/dev/xvda', status: 'done' },
        { volumeId: VOL_DATA, deviceName: '/dev/sdf', status: 'done' },
      ],
      targetGroups: { status: 'done', deregistered: [] },
    });
  });

  it('reports a volume without a device name as failed, without calling EC2 for it', async () => {
    noTargetGroups();

    const result = await preserveInstance(
      input({ volumes: [{ volumeId: VOL_ROOT, deviceName: null }, { volumeId: VOL_DATA, deviceName: '/dev/sdf' }] }),
      { factory },
    );

    expect(ec2Mock).toHaveReceivedCommandTimes(ModifyInstanceAttributeCommand, 2);
    expect(ec2Mock).not.toHaveReceivedCommandWith(ModifyInstanceAttributeCommand, {
      BlockDeviceMappings: [expect.objectContaining({ Ebs: expect.objectContaining({ VolumeId: VOL_ROOT }) })],
    });
    expect(result.deleteOnTermination).toEqual([
      { volumeId: VOL_ROOT, deviceName: null, status: 'failed', error: 'NoDeviceName', cause: 'the volume has no device name to address it by' },
      { volumeId: VOL_DATA, deviceName: '/dev/sdf', status: 'done' },
    ]);
    expect(result).toMatchObject({ status: 'failed', error: 'PreservationIncomplete', cause: `DeleteOnTermination on ${VOL_ROOT}: NoDeviceName` });
  });
});

describe('preserveInstance: target groups', () => {
  it('deregisters the instance from instance-type groups it is directly in, skipping the ASG’s own groups, ip groups and draining targets', async () => {
    // Prepare
    asgMock.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [
        {
          AutoScalingGroupName: ASG,
          TargetGroupARNs: [TG_ASG],
          MinSize: 1,
          MaxSize: 2,
          DesiredCapacity: 1,
          DefaultCooldown: 300,
          AvailabilityZones: [`${REGION}a`],
          HealthCheckType: 'EC2',
          CreatedTime: new Date(0),
        },
      ],
    });
    elbMock.on(DescribeTargetGroupsCommand).resolves({
      TargetGroups: [group(TG_DIRECT), group(TG_ASG), group(TG_IP, 'ip'), group(TG_DRAINING), group(TG_OTHER), group(TG_DIRECT_AZ)],
    });
    elbMock.on(DescribeTargetHealthCommand, { TargetGroupArn: TG_DIRECT }).resolves({
      TargetHealthDescriptions: [
        { Target: { Id: OTHER_INSTANCE, Port: 80 }, TargetHealth: { State: 'healthy' } },
        { Target: { Id: INSTANCE, Port: 8080 }, TargetHealth: { State: 'healthy' } },
      ],
    });
    elbMock.on(DescribeTargetHealthCommand, { TargetGroupArn: TG_DRAINING }).resolves({
      TargetHealthDescriptions: [{ Target: { Id: INSTANCE, Port: 80 }, TargetHealth: { State: 'draining' } }],
    });
    elbMock.on(DescribeTargetHealthCommand, { TargetGroupArn: TG_OTHER }).resolves({
      TargetHealthDescriptions: [{ Target: { Id: OTHER_INSTANCE, Port: 80 }, TargetHealth: { State: 'healthy' } }],
    });
    elbMock.on(DescribeTargetHealthCommand, { TargetGroupArn: TG_DIRECT_AZ }).resolves({
      TargetHealthDescriptions: [{ Target: { Id: INSTANCE, Port: 443, AvailabilityZone: 'all' }, TargetHealth: { State: 'unhealthy' } }],
    });

    // Act
    const result = await preserveInstance(input({ autoScalingGroupName: ASG }), { factory });

    // Assess: the ASG's groups are read first, then the groups
    expect(asgMock).toHaveReceivedCommandTimes(DescribeAutoScalingGroupsCommand, 1);
    expect(asgMock).toHaveReceivedCommandWith(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: [ASG] });
    expect(elbMock).toHaveReceivedNthCommandWith(1, DescribeTargetGroupsCommand, { PageSize: 400 });
    // Health is never asked of the ASG's own group nor of an ip-type group
    expect(elbMock.commandCalls(DescribeTargetHealthCommand).map((c) => c.args[0].input.TargetGroupArn)).toEqual([
      TG_DIRECT,
      TG_DRAINING,
      TG_OTHER,
      TG_DIRECT_AZ,
    ]);
    expect(elbMock.commandCalls(DeregisterTargetsCommand).map((c) => c.args[0].input)).toEqual([
      { TargetGroupArn: TG_DIRECT, Targets: [{ Id: INSTANCE, Port: 8080 }] },
      { TargetGroupArn: TG_DIRECT_AZ, Targets: [{ Id: INSTANCE, Port: 443, AvailabilityZone: 'all' }] },
    ]);
    expect(result.targetGroups).toEqual({
      status: 'done',
      deregistered: [
        { targetGroupArn: TG_DIRECT, port: 8080, availabilityZone: null },
        { targetGroupArn: TG_DIRECT_AZ, port: 443, availabilityZone: 'all' },
      ],
    });
    expect(result.status).toBe('succeeded');
  });

  it('does not ask Auto Scaling anything for an instance outside a group, and sends a target without a port as Id only', async () => {
    elbMock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [group(TG_DIRECT)] });
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [{ Target: { Id: INSTANCE }, TargetHealth: { State: 'healthy' } }] });

    await preserveInstance(input(), { factory });

    expect(asgMock).not.toHaveReceivedAnyCommand();
    expect(elbMock.commandCalls(DeregisterTargetsCommand).map((c) => c.args[0].input)).toEqual([
      { TargetGroupArn: TG_DIRECT, Targets: [{ Id: INSTANCE }] },
    ]);
  });

  it('follows DescribeTargetGroups pages by Marker', async () => {
    elbMock
      .on(DescribeTargetGroupsCommand)
      .resolvesOnce({ TargetGroups: [group(TG_OTHER)], NextMarker: 'page-2' })
      .resolvesOnce({ TargetGroups: [group(TG_DIRECT)] });
    elbMock.on(DescribeTargetHealthCommand, { TargetGroupArn: TG_OTHER }).resolves({ TargetHealthDescriptions: [] });
    elbMock.on(DescribeTargetHealthCommand, { TargetGroupArn: TG_DIRECT }).resolves({
      TargetHealthDescriptions: [{ Target: { Id: INSTANCE, Port: 80 }, TargetHealth: { State: 'healthy' } }],
    });

    const result = await preserveInstance(input(), { factory });

    expect(elbMock.commandCalls(DescribeTargetGroupsCommand).map((c) => c.args[0].input)).toEqual([
      { Marker: undefined, PageSize: 400 },
      { Marker: 'page-2', PageSize: 400 },
    ]);
    expect(result.targetGroups).toEqual({ status: 'done', deregistered: [{ targetGroupArn: TG_DIRECT, port: 80, availabilityZone: null }] });
  });
});

describe('preserveInstance: failures', () => {
  it('records a non-transient shutdown-behaviour failure and still does the volumes and target groups', async () => {
    // Prepare
    ec2Mock
      .on(ModifyInstanceAttributeCommand, { InstanceInitiatedShutdownBehavior: { Value: 'stop' } })
      .rejects(awsError('UnauthorizedOperation', { message: 'not authorized to modify the instance attribute' }));
    elbMock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [group(TG_DIRECT)] });
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [{ Target: { Id: INSTANCE, Port: 80 }, TargetHealth: { State: 'healthy' } }] });

    // Act
    const result = await preserveInstance(input(), { factory });

    // Assess
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifyInstanceAttributeCommand, 3);
    expect(elbMock).toHaveReceivedCommandTimes(DeregisterTargetsCommand, 1);
    expect(result).toEqual({
      action: 'preserve',
      status: 'failed',
      shutdownBehavior: { status: 'failed', error: 'UnauthorizedOperation', cause: 'not authorized to modify the instance attribute' },
      deleteOnTermination: [
        { volumeId: VOL_ROOT, deviceName: '/dev/xvda', status: 'done' },
        { volumeId: VOL_DATA, deviceName: '/dev/sdf', status: 'done' },
      ],
      targetGroups: { status: 'done', deregistered: [{ targetGroupArn: TG_DIRECT, port: 80, availabilityZone: null }] },
      error: 'PreservationIncomplete',
      cause: 'shutdown behaviour: UnauthorizedOperation',
    });
  });

  it('records a failed volume and a failed target-group step, naming each in the cause', async () => {
    ec2Mock
      .on(ModifyInstanceAttributeCommand, { BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeId: VOL_ROOT, DeleteOnTermination: false } }] })
      .rejects(awsError('InvalidInstanceAttributeValue', { message: 'no device named /dev/xvda' }));
    elbMock.on(DescribeTargetGroupsCommand).rejects(awsError('AccessDenied', { message: 'not authorized', status: 403 }));

    const result = await preserveInstance(input(), { factory });

    expect(ec2Mock).toHaveReceivedCommandTimes(ModifyInstanceAttributeCommand, 3);
    expect(result.shutdownBehavior).toEqual({ status: 'done' });
    expect(result.deleteOnTermination).toEqual([
      { volumeId: VOL_ROOT, deviceName: '/dev/xvda', status: 'failed', error: 'InvalidInstanceAttributeValue', cause: 'no device named /dev/xvda' },
      { volumeId: VOL_DATA, deviceName: '/dev/sdf', status: 'done' },
    ]);
    expect(result.targetGroups).toEqual({ status: 'failed', error: 'AccessDenied', cause: 'not authorized' });
    expect(result).toMatchObject({
      status: 'failed',
      error: 'PreservationIncomplete',
      cause: `DeleteOnTermination on ${VOL_ROOT}: InvalidInstanceAttributeValue; target groups: AccessDenied`,
    });
  });

  it('records a failed deregistration as a failed target-group step', async () => {
    elbMock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [group(TG_DIRECT)] });
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [{ Target: { Id: INSTANCE, Port: 80 }, TargetHealth: { State: 'healthy' } }] });
    elbMock.on(DeregisterTargetsCommand).rejects(awsError('InvalidTarget', { message: 'not registered' }));

    const result = await preserveInstance(input(), { factory });

    expect(result.targetGroups).toEqual({ status: 'failed', error: 'InvalidTarget', cause: 'not registered' });
    expect(result).toMatchObject({ status: 'failed', error: 'PreservationIncomplete', cause: 'target groups: InvalidTarget' });
  });

  it('lets RequestLimitExceeded propagate instead of recording it, and stops there', async () => {
    ec2Mock.on(ModifyInstanceAttributeCommand).rejects(awsError('RequestLimitExceeded'));
    noTargetGroups();

    const err = await rejectionOf(preserveInstance(input(), { factory }));

    expect(err.name).toBe('RequestLimitExceeded');
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifyInstanceAttributeCommand, 1);
    expect(elbMock).not.toHaveReceivedAnyCommand();
  });

  it('lets a throttled target-group lookup propagate too', async () => {
    elbMock.on(DescribeTargetGroupsCommand).rejects(awsError('Throttling'));

    const err = await rejectionOf(preserveInstance(input(), { factory }));

    expect(err.name).toBe('Throttling');
  });
});

describe('preserve handler', () => {
  it('turns RequestLimitExceeded into TransientAwsError for the state machine’s Retry', async () => {
    ec2Mock.on(ModifyInstanceAttributeCommand).rejects(awsError('RequestLimitExceeded', { message: 'Request limit exceeded.' }));
    noTargetGroups();
    const handler = createHandler(() => ({ factory }));

    const err = await rejectionOf(handler(input()));

    expect(err.name).toBe('TransientAwsError');
    expect(err.message).toBe('RequestLimitExceeded: Request limit exceeded.');
  });

  it('rejects a malformed volume id before any AWS call', async () => {
    const handler = createHandler(() => ({ factory }));

    const err = await rejectionOf(handler({ ...input(), volumes: [{ volumeId: 'vol-; rm -rf /', deviceName: '/dev/xvda' }] }));

    expect(err.name).toBe('InvalidRequestError');
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
    expect(factory.targetCalls).toEqual([]);
  });
});
