import {
  CopySnapshotCommand,
  DeleteSnapshotCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  ModifySnapshotAttributeCommand,
  type Snapshot,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createHandler } from '../../../lambdas/share-snapshot/handler';
import {
  shareSnapshot,
  SnapshotCopyFailedError,
  SnapshotCopyTimeoutError,
  type CheckCopyResult,
  type CopyResult,
  type ShareDeps,
  type ShareInput,
} from '../../../lambdas/share-snapshot/share-snapshot';
import { awsError, rejectionOf, testClientFactory, type TestClientFactory } from '../../support/clients';

const ec2Mock = mockClient(EC2Client);

const HUB = '999988887777';
const MEMBER = '111122223333';
const REGION = 'eu-west-1';
const INSTANCE = 'i-0123456789abcdef0';
const KEY_ARN = `arn:aws:kms:${REGION}:${HUB}:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d`;
const VOL = 'vol-0aaaaaaaaaaaaaaa1';
const ORIGINAL = 'snap-0aaaaaaaaaaaaaaa1';
const MEMBER_COPY = 'snap-0ccccccccccccccc3';
const HUB_COPY = 'snap-0ddddddddddddddd4';
const STARTED = new Date('2025-06-01T12:00:00.000Z');
const HOUR = 3_600_000;

const base = (accountId = MEMBER) => ({
  target: { accountId, region: REGION, instanceId: INSTANCE },
  incidentId: `inc-${accountId}-${REGION}-${INSTANCE}`,
  requestId: 'req-1',
});
const memberCopy = (accountId = MEMBER) => ({ snapshotId: MEMBER_COPY, accountId, startedAt: STARTED.toISOString() });
const hubCopy = () => ({ snapshotId: HUB_COPY, accountId: HUB, startedAt: STARTED.toISOString() });

const copyToEvidenceKey = (accountId = MEMBER, deviceName: string | null = '/dev/xvda'): ShareInput => ({
  ...base(accountId),
  step: 'copy-to-evidence-key',
  snapshot: { snapshotId: ORIGINAL, volumeId: VOL, deviceName },
});
const checkCopy = (copy = memberCopy()): ShareInput => ({ ...base(), step: 'check-copy', copy });
const shareWithHub = (): ShareInput => ({ ...base(), step: 'share-with-hub', source: { snapshotId: ORIGINAL, volumeId: VOL }, copy: memberCopy() });
const copyIntoHub = (): ShareInput => ({
  ...base(),
  step: 'copy-into-hub',
  source: { snapshotId: ORIGINAL, volumeId: VOL, deviceName: '/dev/sdf' },
  copy: memberCopy(),
});
const removeTemporaryCopy = (copy = memberCopy()): ShareInput => ({
  ...base(),
  step: 'remove-temporary-copy',
  source: { snapshotId: ORIGINAL },
  copy,
  hubCopy: hubCopy(),
});

let factory: TestClientFactory;

function depsAt(now: Date = STARTED, maxHours = 24): ShareDeps {
  return { factory, config: { hubAccountId: HUB, evidenceKeyArn: KEY_ARN, maxHours, pollSeconds: 60 }, now: () => now };
}

const snapshotIn = (id: string, state: string, extra: Partial<Snapshot> = {}): Snapshot => ({
  SnapshotId: id,
  State: state as Snapshot['State'],
  Progress: state === 'completed' ? '100%' : '35%',
  VolumeSize: 8,
  KmsKeyId: KEY_ARN,
  ...extra,
});

/** The accounts (and regions) the logic asked the factory for, in order. */
const targetsAsked = () => factory.targetCalls.map(({ target }) => `${target.accountId}/${target.region}/${target.instanceId}`);

beforeEach(() => {
  ec2Mock.reset();
  factory = testClientFactory();
});

describe('share-snapshot "copy-to-evidence-key"', () => {
  it('cross-account: copies the original in the member account under the evidence key, tagged temporary', async () => {
    // Prepare: no copy from an earlier attempt
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    ec2Mock.on(CopySnapshotCommand).resolves({ SnapshotId: MEMBER_COPY });

    // Act
    const result = (await shareSnapshot(copyToEvidenceKey(), depsAt())) as CopyResult;

    // Assess
    expect(targetsAsked()).toEqual([`${MEMBER}/${REGION}/${INSTANCE}`]);
    expect(factory.targetCalls[0]?.sessionName).toBe('cordon-req-1');
    expect(ec2Mock).toHaveReceivedNthCommandWith(1, DescribeSnapshotsCommand, {
      OwnerIds: ['self'],
      Filters: [
        { Name: 'tag:cordon:source-snapshot', Values: [ORIGINAL] },
        { Name: 'tag:cordon:stage', Values: ['evidence-copy'] },
      ],
    });
    expect(ec2Mock.commandCalls(CopySnapshotCommand).map((c) => c.args[0].input)).toEqual([
      {
        SourceSnapshotId: ORIGINAL,
        SourceRegion: REGION,
        Encrypted: true,
        KmsKeyId: KEY_ARN,
        Description: `cordon evidence inc-${MEMBER}-${REGION}-${INSTANCE} (evidence-copy of ${ORIGINAL})`,
        TagSpecifications: [
          {
            ResourceType: 'snapshot',
            Tags: [
              { Key: 'cordon:managed', Value: 'true' },
              { Key: 'cordon:incident', Value: `inc-${MEMBER}-${REGION}-${INSTANCE}` },
              { Key: 'cordon:request', Value: 'req-1' },
              { Key: 'cordon:source-snapshot', Value: ORIGINAL },
              { Key: 'cordon:stage', Value: 'evidence-copy' },
              { Key: 'cordon:volume', Value: VOL },
              { Key: 'cordon:device', Value: '/dev/xvda' },
              { Key: 'cordon:temporary', Value: 'true' },
            ],
          },
        ],
      },
    ]);
    expect(ec2Mock.calls()).toHaveLength(2);
    expect(result).toEqual({ snapshotId: MEMBER_COPY, accountId: MEMBER, startedAt: STARTED.toISOString(), crossAccount: true });
  });

  it('single-account: the copy is the kept evidence (cordon:temporary false), device "unknown" when there is none', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    ec2Mock.on(CopySnapshotCommand).resolves({ SnapshotId: MEMBER_COPY });

    const result = (await shareSnapshot(copyToEvidenceKey(HUB, null), depsAt())) as CopyResult;

    expect(targetsAsked()).toEqual([`${HUB}/${REGION}/${INSTANCE}`]);
    const tags = ec2Mock.commandCalls(CopySnapshotCommand)[0]?.args[0].input.TagSpecifications?.[0]?.Tags ?? [];
    expect(Object.fromEntries(tags.map((t) => [t.Key, t.Value]))).toEqual({
      'cordon:managed': 'true',
      'cordon:incident': `inc-${HUB}-${REGION}-${INSTANCE}`,
      'cordon:request': 'req-1',
      'cordon:source-snapshot': ORIGINAL,
      'cordon:stage': 'evidence-copy',
      'cordon:volume': VOL,
      'cordon:device': 'unknown',
      'cordon:temporary': 'false',
    });
    expect(ec2Mock).toHaveReceivedCommandWith(CopySnapshotCommand, { Encrypted: true, KmsKeyId: KEY_ARN, SourceRegion: REGION });
    expect(result).toMatchObject({ snapshotId: MEMBER_COPY, accountId: HUB, crossAccount: false });
  });

  it('reuses the copy a retried task already started, found by its tags, and copies nothing', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshotIn(MEMBER_COPY, 'pending')] });

    const result = (await shareSnapshot(copyToEvidenceKey(), depsAt())) as CopyResult;

    expect(ec2Mock).not.toHaveReceivedCommand(CopySnapshotCommand);
    expect(result).toMatchObject({ snapshotId: MEMBER_COPY, accountId: MEMBER, crossAccount: true });
  });

  it('does not reuse an earlier copy that ended in error', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshotIn('snap-0eeeeeeeeeeeeeee5', 'error')] });
    ec2Mock.on(CopySnapshotCommand).resolves({ SnapshotId: MEMBER_COPY });

    const result = (await shareSnapshot(copyToEvidenceKey(), depsAt())) as CopyResult;

    expect(ec2Mock).toHaveReceivedCommandTimes(CopySnapshotCommand, 1);
    expect(result.snapshotId).toBe(MEMBER_COPY);
  });

  it('throws SnapshotCopyFailedError when CopySnapshot returns no id', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    ec2Mock.on(CopySnapshotCommand).resolves({});

    const err = await rejectionOf(shareSnapshot(copyToEvidenceKey(), depsAt()));

    expect(err).toBeInstanceOf(SnapshotCopyFailedError);
    expect(err.name).toBe('SnapshotCopyFailedError');
  });
});

describe('share-snapshot "check-copy"', () => {
  it('reports completed, asking the account that owns the copy', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshotIn(MEMBER_COPY, 'completed')] });

    const result = (await shareSnapshot(checkCopy(), depsAt(new Date(STARTED.getTime() + HOUR)))) as CheckCopyResult;

    expect(targetsAsked()).toEqual([`${MEMBER}/${REGION}/${INSTANCE}`]);
    expect(ec2Mock.commandCalls(DescribeSnapshotsCommand).map((c) => c.args[0].input)).toEqual([{ SnapshotIds: [MEMBER_COPY] }]);
    expect(result).toEqual({ state: 'completed', nextPollSeconds: 600, progress: '100%', volumeSize: 8, kmsKeyId: KEY_ARN });
  });

  it('checks the hub copy with hub clients, in the same region', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshotIn(HUB_COPY, 'pending')] });

    const result = (await shareSnapshot(checkCopy(hubCopy()), depsAt())) as CheckCopyResult;

    expect(targetsAsked()).toEqual([`${HUB}/${REGION}/${INSTANCE}`]);
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeSnapshotsCommand, { SnapshotIds: [HUB_COPY] });
    expect(result.state).toBe('pending');
  });

  it.each(['pending', 'recoverable', 'recovering'])('treats "%s" as pending', async (state) => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshotIn(MEMBER_COPY, state)] });

    const result = (await shareSnapshot(checkCopy(), depsAt(new Date(STARTED.getTime() + HOUR)))) as CheckCopyResult;

    expect(result).toMatchObject({ state: 'pending', progress: '35%' });
  });

  it('throws SnapshotCopyFailedError naming the state message when the copy is in error', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshotIn(MEMBER_COPY, 'error', { StateMessage: 'KMS key not accessible' })] });

    const err = await rejectionOf(shareSnapshot(checkCopy(), depsAt()));

    expect(err).toBeInstanceOf(SnapshotCopyFailedError);
    expect(err.message).toBe(`copy ${MEMBER_COPY} ended in error: KMS key not accessible`);
  });

  it('throws SnapshotCopyFailedError when the copy is not visible at all', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });

    const err = await rejectionOf(shareSnapshot(checkCopy(), depsAt()));

    expect(err).toBeInstanceOf(SnapshotCopyFailedError);
  });

  it('throws SnapshotCopyTimeoutError once a copy has been pending longer than maxHours', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshotIn(MEMBER_COPY, 'pending')] });

    const err = await rejectionOf(shareSnapshot(checkCopy(), depsAt(new Date(STARTED.getTime() + 6 * HOUR + 1000), 6)));

    expect(err).toBeInstanceOf(SnapshotCopyTimeoutError);
    expect(err.name).toBe('SnapshotCopyTimeoutError');
  });

  it('does not time out just before maxHours, nor a copy that completed late', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolvesOnce({ Snapshots: [snapshotIn(MEMBER_COPY, 'pending')] }).resolvesOnce({
      Snapshots: [snapshotIn(MEMBER_COPY, 'completed')],
    });

    const early = (await shareSnapshot(checkCopy(), depsAt(new Date(STARTED.getTime() + 6 * HOUR - 1000), 6))) as CheckCopyResult;
    const late = (await shareSnapshot(checkCopy(), depsAt(new Date(STARTED.getTime() + 7 * HOUR), 6))) as CheckCopyResult;

    expect(early.state).toBe('pending');
    expect(late.state).toBe('completed');
  });

  it.each([
    ['at the start: the configured minimum', 0, 60],
    ['one minute in: still the minimum', 60_000, 60],
    ['one hour in: a sixth of the elapsed time', HOUR, 600],
    ['ten hours in: capped at 15 minutes', 10 * HOUR, 900],
  ])('spaces the next poll by elapsed time (%s)', async (_label, elapsedMs, expected) => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshotIn(MEMBER_COPY, 'pending')] });

    const result = (await shareSnapshot(checkCopy(), depsAt(new Date(STARTED.getTime() + elapsedMs)))) as CheckCopyResult;

    expect(result.nextPollSeconds).toBe(expected);
  });

  it('takes the poll floor from config', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshotIn(MEMBER_COPY, 'pending')] });
    const deps = depsAt(new Date(STARTED.getTime() + 60_000));

    const result = (await shareSnapshot(checkCopy(), { ...deps, config: { ...deps.config, pollSeconds: 300 } })) as CheckCopyResult;

    expect(result.nextPollSeconds).toBe(300);
  });
});

describe('share-snapshot "share-with-hub"', () => {
  it('adds createVolumePermission for the hub account on the member copy, never on the original', async () => {
    ec2Mock.on(ModifySnapshotAttributeCommand).resolves({});

    const result = await shareSnapshot(shareWithHub(), depsAt());

    expect(targetsAsked()).toEqual([`${MEMBER}/${REGION}/${INSTANCE}`]);
    expect(ec2Mock.commandCalls(ModifySnapshotAttributeCommand).map((c) => c.args[0].input)).toEqual([
      {
        SnapshotId: MEMBER_COPY,
        Attribute: 'createVolumePermission',
        OperationType: 'add',
        CreateVolumePermission: { Add: [{ UserId: HUB }] },
      },
    ]);
    expect(ec2Mock.calls()).toHaveLength(1);
    expect(result).toEqual({ sharedWith: HUB });
  });
});

describe('share-snapshot "copy-into-hub"', () => {
  it('copies the shared member copy with hub clients, tagged with the member account and the original', async () => {
    // Prepare
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    ec2Mock.on(CopySnapshotCommand).resolves({ SnapshotId: HUB_COPY });

    // Act
    const result = (await shareSnapshot(copyIntoHub(), depsAt())) as CopyResult;

    // Assess: the hub account, the member's region
    expect(targetsAsked()).toEqual([`${HUB}/${REGION}/${INSTANCE}`]);
    expect(ec2Mock).toHaveReceivedNthCommandWith(1, DescribeSnapshotsCommand, {
      OwnerIds: ['self'],
      Filters: [
        { Name: 'tag:cordon:source-snapshot', Values: [MEMBER_COPY] },
        { Name: 'tag:cordon:stage', Values: ['hub-copy'] },
      ],
    });
    expect(ec2Mock.commandCalls(CopySnapshotCommand).map((c) => c.args[0].input)).toEqual([
      {
        SourceSnapshotId: MEMBER_COPY,
        SourceRegion: REGION,
        Encrypted: true,
        KmsKeyId: KEY_ARN,
        Description: `cordon evidence inc-${MEMBER}-${REGION}-${INSTANCE} (hub-copy of ${MEMBER_COPY})`,
        TagSpecifications: [
          {
            ResourceType: 'snapshot',
            Tags: [
              { Key: 'cordon:managed', Value: 'true' },
              { Key: 'cordon:incident', Value: `inc-${MEMBER}-${REGION}-${INSTANCE}` },
              { Key: 'cordon:request', Value: 'req-1' },
              { Key: 'cordon:source-snapshot', Value: MEMBER_COPY },
              { Key: 'cordon:stage', Value: 'hub-copy' },
              { Key: 'cordon:volume', Value: VOL },
              { Key: 'cordon:device', Value: '/dev/sdf' },
              { Key: 'cordon:member-account', Value: MEMBER },
              { Key: 'cordon:original-snapshot', Value: ORIGINAL },
              { Key: 'cordon:temporary', Value: 'false' },
            ],
          },
        ],
      },
    ]);
    expect(result).toEqual({ snapshotId: HUB_COPY, accountId: HUB, startedAt: STARTED.toISOString(), crossAccount: true });
  });

  it('reuses a hub copy already started', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshotIn(HUB_COPY, 'pending')] });

    const result = (await shareSnapshot(copyIntoHub(), depsAt())) as CopyResult;

    expect(ec2Mock).not.toHaveReceivedCommand(CopySnapshotCommand);
    expect(result.snapshotId).toBe(HUB_COPY);
  });
});

describe('share-snapshot "remove-temporary-copy"', () => {
  const temporaryTags = [
    { Key: 'cordon:managed', Value: 'true' },
    { Key: 'cordon:temporary', Value: 'true' },
  ];

  it('checks the hub copy with hub clients, then deletes exactly the member copy with member clients', async () => {
    // Prepare
    ec2Mock.on(DescribeSnapshotsCommand, { SnapshotIds: [HUB_COPY] }).resolves({ Snapshots: [snapshotIn(HUB_COPY, 'completed')] });
    ec2Mock.on(DescribeSnapshotsCommand, { SnapshotIds: [MEMBER_COPY] }).resolves({
      Snapshots: [snapshotIn(MEMBER_COPY, 'completed', { Tags: temporaryTags })],
    });
    ec2Mock.on(DeleteSnapshotCommand).resolves({});

    // Act
    const result = await shareSnapshot(removeTemporaryCopy(), depsAt());

    // Assess
    expect(targetsAsked()).toEqual([`${HUB}/${REGION}/${INSTANCE}`, `${MEMBER}/${REGION}/${INSTANCE}`]);
    expect(ec2Mock).toHaveReceivedNthCommandWith(1, DescribeSnapshotsCommand, { SnapshotIds: [HUB_COPY] });
    expect(ec2Mock).toHaveReceivedNthCommandWith(2, DescribeSnapshotsCommand, { SnapshotIds: [MEMBER_COPY] });
    expect(ec2Mock).toHaveReceivedNthCommandWith(3, DeleteSnapshotCommand, { SnapshotId: MEMBER_COPY });
    expect(ec2Mock.commandCalls(DeleteSnapshotCommand).map((c) => c.args[0].input)).toEqual([{ SnapshotId: MEMBER_COPY }]);
    expect(ec2Mock.calls()).toHaveLength(3);
    expect(result).toEqual({ removed: MEMBER_COPY });
  });

  it('refuses to delete a snapshot tagged temporary that is not under the evidence key (a planted tag on an original)', async () => {
    ec2Mock.on(DescribeSnapshotsCommand, { SnapshotIds: [HUB_COPY] }).resolves({ Snapshots: [snapshotIn(HUB_COPY, 'completed')] });
    ec2Mock.on(DescribeSnapshotsCommand, { SnapshotIds: [MEMBER_COPY] }).resolves({
      Snapshots: [snapshotIn(MEMBER_COPY, 'completed', { Tags: temporaryTags, KmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/member-own-key' })],
    });

    const err = await rejectionOf(shareSnapshot(removeTemporaryCopy(), depsAt()));

    expect(err.name).toBe('SnapshotCopyFailedError');
    expect(ec2Mock).not.toHaveReceivedCommand(DeleteSnapshotCommand);
  });

  it.each([['pending'], ['error'], ['recoverable']])('refuses while the hub copy is %s, and deletes nothing', async (state) => {
    ec2Mock.on(DescribeSnapshotsCommand, { SnapshotIds: [HUB_COPY] }).resolves({ Snapshots: [snapshotIn(HUB_COPY, state)] });
    ec2Mock.on(DescribeSnapshotsCommand, { SnapshotIds: [MEMBER_COPY] }).resolves({
      Snapshots: [snapshotIn(MEMBER_COPY, 'completed', { Tags: temporaryTags })],
    });

    const err = await rejectionOf(shareSnapshot(removeTemporaryCopy(), depsAt()));

    expect(err).toBeInstanceOf(SnapshotCopyFailedError);
    expect(err.message).toBe(`hub copy ${HUB_COPY} is ${state}: the temporary copy stays`);
    expect(ec2Mock).not.toHaveReceivedCommand(DeleteSnapshotCommand);
  });

  it('refuses when the hub copy is missing', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });

    const err = await rejectionOf(shareSnapshot(removeTemporaryCopy(), depsAt()));

    expect(err.message).toBe(`hub copy ${HUB_COPY} is missing: the temporary copy stays`);
    expect(ec2Mock).not.toHaveReceivedCommand(DeleteSnapshotCommand);
  });

  it.each([
    ['tagged cordon:temporary=false', [{ Key: 'cordon:temporary', Value: 'false' }]],
    ['without a cordon:temporary tag', [{ Key: 'cordon:managed', Value: 'true' }]],
    ['without any tags', undefined],
  ])('refuses to delete a member copy %s', async (_label, tags) => {
    ec2Mock.on(DescribeSnapshotsCommand, { SnapshotIds: [HUB_COPY] }).resolves({ Snapshots: [snapshotIn(HUB_COPY, 'completed')] });
    ec2Mock.on(DescribeSnapshotsCommand, { SnapshotIds: [MEMBER_COPY] }).resolves({
      Snapshots: [snapshotIn(MEMBER_COPY, 'completed', tags ? { Tags: tags } : {})],
    });

    const err = await rejectionOf(shareSnapshot(removeTemporaryCopy(), depsAt()));

    expect(err).toBeInstanceOf(SnapshotCopyFailedError);
    expect(err.message).toBe(`${MEMBER_COPY} is not tagged cordon:temporary=true: refusing to delete it`);
    expect(ec2Mock).not.toHaveReceivedCommand(DeleteSnapshotCommand);
  });
});

describe('share-snapshot handler', () => {
  it('classifies ResourceLimitExceeded (20 concurrent copies) as LimitExceededError', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    ec2Mock.on(CopySnapshotCommand).rejects(awsError('ResourceLimitExceeded'));
    const deps = depsAt();

    const err = await rejectionOf(createHandler(() => deps)(copyToEvidenceKey()));

    expect(err.name).toBe('LimitExceededError');
  });

  it('keeps SnapshotCopyFailedError by name for the state machine’s Catch', async () => {
    ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshotIn(MEMBER_COPY, 'error')] });
    const deps = depsAt();

    const err = await rejectionOf(createHandler(() => deps)(checkCopy()));

    expect(err.name).toBe('SnapshotCopyFailedError');
  });

  it('rejects an unknown step before any AWS call', async () => {
    const deps = depsAt();

    const err = await rejectionOf(createHandler(() => deps)({ ...base(), step: 'delete-original', copy: memberCopy() }));

    expect(err.name).toBe('InvalidRequestError');
    expect(factory.targetCalls).toEqual([]);
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
  });
});
