import {
  CreateSnapshotsCommand,
  CreateTagsCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  type Snapshot,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createHandler } from '../../../lambdas/snapshot/handler';
import {
  snapshot,
  SnapshotCreationError,
  type CheckResult,
  type CreateResult,
  type SnapshotDeps,
  type SnapshotInput,
} from '../../../lambdas/snapshot/snapshot';
import { awsError, rejectionOf, testClientFactory } from '../../support/clients';

const ec2Mock = mockClient(EC2Client);

const TARGET = { accountId: '111122223333', region: 'eu-west-1', instanceId: 'i-0123456789abcdef0' };
const INCIDENT = 'inc-111122223333-eu-west-1-i-0123456789abcdef0';
const FINDING = 'a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4';
const VOL_ROOT = 'vol-0aaaaaaaaaaaaaaa1';
const VOL_DATA = 'vol-0bbbbbbbbbbbbbbb2';
const SNAP_ROOT = 'snap-0aaaaaaaaaaaaaaa1';
const SNAP_DATA = 'snap-0bbbbbbbbbbbbbbb2';
const STARTED = new Date('2025-06-01T12:00:00.000Z');
const HOUR = 3_600_000;

const BASE = { target: TARGET, incidentId: INCIDENT, requestId: 'req-1' };
const createInput = (
  volumes: Array<{ volumeId: string; deviceName: string | null }> = [
    { volumeId: VOL_ROOT, deviceName: '/dev/xvda' },
    { volumeId: VOL_DATA, deviceName: '/dev/sdf' },
  ],
  findingId: string | null = FINDING,
): SnapshotInput => ({ ...BASE, step: 'create', findingId, volumes });
const checkInput = (snapshotIds = [SNAP_ROOT, SNAP_DATA]): SnapshotInput => ({ ...BASE, step: 'check', snapshotIds });

function depsAt(now: Date, maxHours = 24): SnapshotDeps {
  return { factory: testClientFactory(), config: { maxHours, pollSeconds: 60 }, now: () => now };
}

const snap = (id: string, volumeId: string, state: string, startTime: Date = STARTED): Snapshot => ({
  SnapshotId: id,
  VolumeId: volumeId,
  State: state as Snapshot['State'],
  Progress: state === 'completed' ? '100%' : '40%',
  VolumeSize: 8,
  StartTime: startTime,
});

beforeEach(() => {
  ec2Mock.reset();
});

describe('snapshot step "create"', () => {
  it('takes crash-consistent snapshots of every volume in one call, tagged with incident, request and finding', async () => {
    // Prepare: no snapshots of this request yet
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    ec2Mock.on(CreateSnapshotsCommand).resolves({
      Snapshots: [
        { SnapshotId: SNAP_ROOT, VolumeId: VOL_ROOT, State: 'pending', Progress: '0%', VolumeSize: 8, StartTime: STARTED },
        { SnapshotId: SNAP_DATA, VolumeId: VOL_DATA, State: 'pending', Progress: '0%', VolumeSize: 100, StartTime: STARTED },
      ],
    });
    ec2Mock.on(CreateTagsCommand).resolves({});

    // Act
    const result = (await snapshot(createInput(), depsAt(STARTED))) as CreateResult;

    // Assess: look for an earlier attempt first
    expect(ec2Mock).toHaveReceivedNthCommandWith(1, DescribeSnapshotsCommand, {
      OwnerIds: ['self'],
      Filters: [
        { Name: 'tag:cordon:request', Values: ['req-1'] },
        { Name: 'volume-id', Values: [VOL_ROOT, VOL_DATA] },
      ],
    });
    expect(ec2Mock).toHaveReceivedNthCommandWith(2, CreateSnapshotsCommand, {
      InstanceSpecification: { InstanceId: TARGET.instanceId, ExcludeBootVolume: false },
      TagSpecifications: [
        {
          ResourceType: 'snapshot',
          Tags: [
            { Key: 'cordon:managed', Value: 'true' },
            { Key: 'cordon:incident', Value: INCIDENT },
            { Key: 'cordon:request', Value: 'req-1' },
            { Key: 'cordon:finding', Value: FINDING },
          ],
        },
      ],
    });
    // The member's volume tags are not copied: a copied cordon:* tag would confer cordon's trust
    expect(ec2Mock.commandCalls(CreateSnapshotsCommand)[0]?.args[0].input).not.toHaveProperty('CopyTagsFromSource');
    // Then the volume and device go on each snapshot
    expect(ec2Mock).toHaveReceivedNthCommandWith(3, CreateTagsCommand, {
      Resources: [SNAP_ROOT],
      Tags: [
        { Key: 'cordon:volume', Value: VOL_ROOT },
        { Key: 'cordon:device', Value: '/dev/xvda' },
      ],
    });
    expect(ec2Mock).toHaveReceivedNthCommandWith(4, CreateTagsCommand, {
      Resources: [SNAP_DATA],
      Tags: [
        { Key: 'cordon:volume', Value: VOL_DATA },
        { Key: 'cordon:device', Value: '/dev/sdf' },
      ],
    });
    expect(ec2Mock.calls()).toHaveLength(4);
    expect(result).toEqual({
      action: 'snapshot',
      status: 'started',
      pollSeconds: 60,
      snapshots: [
        { snapshotId: SNAP_ROOT, volumeId: VOL_ROOT, deviceName: '/dev/xvda', state: 'pending', progress: '0%', volumeSize: 8, startTime: STARTED.toISOString() },
        { snapshotId: SNAP_DATA, volumeId: VOL_DATA, deviceName: '/dev/sdf', state: 'pending', progress: '0%', volumeSize: 100, startTime: STARTED.toISOString() },
      ],
    });
  });

  it('leaves out the finding tag when the response has no finding', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    ec2Mock.on(CreateSnapshotsCommand).resolves({ Snapshots: [{ SnapshotId: SNAP_ROOT, VolumeId: VOL_ROOT, State: 'pending' }] });

    await snapshot(createInput([{ volumeId: VOL_ROOT, deviceName: null }], null), depsAt(STARTED));

    const tags = ec2Mock.commandCalls(CreateSnapshotsCommand)[0]?.args[0].input.TagSpecifications?.[0]?.Tags ?? [];
    expect(tags.map((t) => t.Key)).toEqual(['cordon:managed', 'cordon:incident', 'cordon:request']);
    expect(ec2Mock).toHaveReceivedCommandWith(CreateTagsCommand, {
      Resources: [SNAP_ROOT],
      Tags: [
        { Key: 'cordon:volume', Value: VOL_ROOT },
        { Key: 'cordon:device', Value: 'unknown' },
      ],
    });
  });

  it('finds the snapshots a retried task already started, by tag, and takes no second set', async () => {
    // Prepare
    ec2Mock.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [snap(SNAP_ROOT, VOL_ROOT, 'pending'), snap(SNAP_DATA, VOL_DATA, 'pending')],
    });

    // Act
    const result = (await snapshot(createInput(), depsAt(STARTED))) as CreateResult;

    // Assess
    expect(ec2Mock).not.toHaveReceivedCommand(CreateSnapshotsCommand);
    expect(ec2Mock).not.toHaveReceivedCommand(CreateTagsCommand);
    expect(result).toMatchObject({
      status: 'started',
      snapshots: [
        { snapshotId: SNAP_ROOT, volumeId: VOL_ROOT, deviceName: '/dev/xvda' },
        { snapshotId: SNAP_DATA, volumeId: VOL_DATA, deviceName: '/dev/sdf' },
      ],
    });
  });

  it('is not-applicable for an instance with no EBS volumes, and calls nothing', async () => {
    const result = await snapshot(createInput([]), depsAt(STARTED));

    expect(result).toMatchObject({ action: 'snapshot', status: 'not-applicable' });
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
  });

  it('throws SnapshotCreationError when a volume got no snapshot', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    ec2Mock.on(CreateSnapshotsCommand).resolves({ Snapshots: [{ SnapshotId: SNAP_ROOT, VolumeId: VOL_ROOT, State: 'pending' }] });

    const err = await rejectionOf(snapshot(createInput(), depsAt(STARTED)));

    expect(err).toBeInstanceOf(SnapshotCreationError);
    expect(err.message).toContain(VOL_DATA);
  });

  it('throws SnapshotCreationError when CreateSnapshots returns no snapshots at all', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    ec2Mock.on(CreateSnapshotsCommand).resolves({ Snapshots: [] });

    const err = await rejectionOf(snapshot(createInput(), depsAt(STARTED)));

    expect(err.name).toBe('SnapshotCreationError');
    expect(ec2Mock).not.toHaveReceivedCommand(CreateTagsCommand);
  });
});

describe('snapshot step "check"', () => {
  it('is done when every snapshot is completed or in error', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snap(SNAP_ROOT, VOL_ROOT, 'completed'), snap(SNAP_DATA, VOL_DATA, 'error')] });

    const result = (await snapshot(checkInput(), depsAt(new Date(STARTED.getTime() + HOUR)))) as CheckResult;

    expect(ec2Mock).toHaveReceivedCommandWith(DescribeSnapshotsCommand, {
      OwnerIds: ['self'],
      Filters: [{ Name: 'snapshot-id', Values: [SNAP_ROOT, SNAP_DATA] }],
    });
    expect(result).toMatchObject({ done: true, timedOut: false, pendingSnapshotIds: [] });
    expect(result.snapshots.map((s) => [s.snapshotId, s.state])).toEqual([
      [SNAP_ROOT, 'completed'],
      [SNAP_DATA, 'error'],
    ]);
  });

  it('is not done while a snapshot is pending', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snap(SNAP_ROOT, VOL_ROOT, 'completed'), snap(SNAP_DATA, VOL_DATA, 'pending')] });

    const result = (await snapshot(checkInput(), depsAt(new Date(STARTED.getTime() + HOUR)))) as CheckResult;

    expect(result).toMatchObject({ done: false, timedOut: false, pendingSnapshotIds: [SNAP_DATA] });
  });

  it.each(['recoverable', 'recovering'])('does not treat "%s" as final', async (state) => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snap(SNAP_ROOT, VOL_ROOT, 'completed'), snap(SNAP_DATA, VOL_DATA, state)] });

    const result = (await snapshot(checkInput(), depsAt(new Date(STARTED.getTime() + HOUR)))) as CheckResult;

    expect(result.done).toBe(false);
    expect(result.pendingSnapshotIds).toEqual([SNAP_DATA]);
  });

  it('times out once maxHours have passed since the snapshots started, and says so', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snap(SNAP_ROOT, VOL_ROOT, 'completed'), snap(SNAP_DATA, VOL_DATA, 'pending')] });

    const result = (await snapshot(checkInput(), depsAt(new Date(STARTED.getTime() + 6 * HOUR + 1000), 6))) as CheckResult;

    expect(result).toMatchObject({ done: true, timedOut: true, pendingSnapshotIds: [SNAP_DATA] });
  });

  it('does not time out just before the cap', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snap(SNAP_DATA, VOL_DATA, 'pending')] });

    const result = (await snapshot(checkInput([SNAP_DATA]), depsAt(new Date(STARTED.getTime() + 6 * HOUR - 1000), 6))) as CheckResult;

    expect(result).toMatchObject({ done: false, timedOut: false });
  });

  it.each([
    ['one minute in: the configured minimum', 60_000, 60],
    ['one hour in: a sixth of the elapsed time', HOUR, 600],
    ['ten hours in: capped at 15 minutes', 10 * HOUR, 900],
  ])('spaces the next poll by elapsed time (%s)', async (_label, elapsedMs, expected) => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snap(SNAP_DATA, VOL_DATA, 'pending')] });

    const result = (await snapshot(checkInput([SNAP_DATA]), depsAt(new Date(STARTED.getTime() + elapsedMs)))) as CheckResult;

    expect(result.nextPollSeconds).toBe(expected);
  });

  it('reports a snapshot EC2 no longer returns as "missing" rather than waiting on it forever', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snap(SNAP_ROOT, VOL_ROOT, 'completed')] });

    const result = (await snapshot(checkInput(), depsAt(STARTED))) as CheckResult;

    expect(result.done).toBe(true);
    expect(result.snapshots).toContainEqual(expect.objectContaining({ snapshotId: SNAP_DATA, state: 'missing' }));
  });
});

describe('snapshot handler', () => {
  it('classifies ConcurrentSnapshotLimitExceeded as LimitExceededError (a patient retry), not a failure', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    ec2Mock.on(CreateSnapshotsCommand).rejects(awsError('ConcurrentSnapshotLimitExceeded'));
    const deps = depsAt(STARTED);
    const handler = createHandler(() => deps);

    const err = await rejectionOf(handler(createInput()));

    expect(err.name).toBe('LimitExceededError');
  });

  it('classifies RequestLimitExceeded as TransientAwsError', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).rejects(awsError('RequestLimitExceeded'));
    const deps = depsAt(STARTED);
    const handler = createHandler(() => deps);

    const err = await rejectionOf(handler(checkInput()));

    expect(err.name).toBe('TransientAwsError');
  });

  it('rejects a check without snapshot ids before any AWS call', async () => {
    const deps = depsAt(STARTED);
    const handler = createHandler(() => deps);

    const err = await rejectionOf(handler({ ...BASE, step: 'check', snapshotIds: [] }));

    expect(err.name).toBe('InvalidRequestError');
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
  });
});
