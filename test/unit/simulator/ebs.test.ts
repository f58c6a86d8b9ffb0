/** EBS snapshots in the simulated account: progress over simulated time or per lookup, copies, sharing, deletion. */
import { SimAccount } from '../../../lib/simulator/account';
import { DEFAULT_KEY_SHARE_ERROR } from '../../../lib/simulator/services/ebs';
import { rejectionOf } from '../../support/clients';
import { account, HUB, MEMBER, send } from './support';

const T0 = Date.parse('2026-03-02T09:15:00.000Z');

/** An instance with an 8 GiB root volume under the default key and a 100 GiB data volume under a customer key. */
function withVolumes(world: SimAccount): void {
  world.addInstance({
    id: 'i-1',
    enis: [{ vpcId: 'vpc-1', subnetId: 'subnet-1', groups: [], ipv6: [], privateIp: '10.0.0.1' }],
    volumes: [
      { volumeId: 'vol-root', device: '/dev/xvda', deleteOnTermination: true, size: 8 },
      { volumeId: 'vol-data', device: '/dev/xvdf', deleteOnTermination: false, size: 100 },
    ],
  });
  world.volumeKeys.set('vol-root', 'alias/aws/ebs');
  world.volumeKeys.set('vol-data', `arn:aws:kms:us-east-1:${MEMBER}:key/data`);
}

async function snapshotAll(world: SimAccount): Promise<Record<string, string>> {
  const out = (await send(world, 'ec2', 'CreateSnapshots', { InstanceSpecification: { InstanceId: 'i-1' } })) as {
    Snapshots: Array<{ SnapshotId: string; VolumeId: string }>;
  };
  return Object.fromEntries(out.Snapshots.map((s) => [s.VolumeId, s.SnapshotId]));
}

async function stateOf(world: SimAccount, snapshotId: string, caller = MEMBER): Promise<string> {
  const out = (await send(world, 'ec2', 'DescribeSnapshots', { SnapshotIds: [snapshotId] }, caller)) as { Snapshots: Array<{ State: string }> };
  return out.Snapshots[0]?.State ?? 'missing';
}

describe('EBS snapshots', () => {
  it('complete with simulated time, sized by volume: base + per-GiB seconds', async () => {
    const world = account();
    withVolumes(world);
    let now = T0;
    world.now = () => new Date(now);
    world.snapshotDurationMs = (size, copy) => ((copy ? 90 : 60) + 3 * size) * 1000;
    const ids = await snapshotAll(world);
    now = T0 + 83_999; // the 8 GiB snapshot needs 84 s
    expect(await stateOf(world, ids['vol-root'] as string)).toBe('pending');
    now = T0 + 84_000;
    expect(await stateOf(world, ids['vol-root'] as string)).toBe('completed');
    expect(await stateOf(world, ids['vol-data'] as string)).toBe('pending'); // 360 s
    now = T0 + 360_000;
    expect(await stateOf(world, ids['vol-data'] as string)).toBe('completed');
    // The call that first saw each completed.
    expect(world.snapshots.get(ids['vol-root'] as string)?.completedAtCall).toBe(2);
    expect(world.snapshots.get(ids['vol-data'] as string)?.completedAtCall).toBe(4);
  });

  it('without durations, complete after `pendingChecks` lookups by id, in the final state the test picks', async () => {
    const world = account();
    withVolumes(world);
    world.snapshotBehaviour = { pendingChecks: 2, finalState: (volumeId) => (volumeId === 'vol-data' ? 'error' : 'completed') };
    const ids = await snapshotAll(world);
    const list = await send(world, 'ec2', 'DescribeSnapshots', { OwnerIds: ['self'] });
    expect((list.Snapshots as unknown[]).length).toBe(2); // listing does not count as a lookup by id
    expect(await stateOf(world, ids['vol-root'] as string)).toBe('pending');
    expect(await stateOf(world, ids['vol-root'] as string)).toBe('pending');
    expect(await stateOf(world, ids['vol-root'] as string)).toBe('completed');
    for (let i = 0; i < 3; i++) await stateOf(world, ids['vol-data'] as string);
    expect(world.snapshots.get(ids['vol-data'] as string)?.state).toBe('error');
  });

  it('refuses to share a snapshot under the default aws/ebs key, and shares one under a customer key', async () => {
    const world = account();
    withVolumes(world);
    const ids = await snapshotAll(world);
    const share = (id: string) =>
      send(world, 'ec2', 'ModifySnapshotAttribute', { SnapshotId: id, Attribute: 'createVolumePermission', CreateVolumePermission: { Add: [{ UserId: HUB }] } });
    const err = await rejectionOf(share(ids['vol-root'] as string));
    expect([err.name, err.message]).toEqual(['InvalidParameter', DEFAULT_KEY_SHARE_ERROR]);
    expect(DEFAULT_KEY_SHARE_ERROR).toBe("Snapshots encrypted with the AWS Managed CMK can't be shared. Try again with a customer managed CMK.");
    await share(ids['vol-data'] as string);
    expect(world.snapshots.get(ids['vol-data'] as string)?.sharedWith).toEqual([HUB]);
    expect(world.snapshots.get(ids['vol-root'] as string)?.sharedWith).toEqual([]);
  });

  it('lets the hub see, and copy, only what was shared with it once completed', async () => {
    const world = account();
    withVolumes(world);
    world.snapshotBehaviour = { pendingChecks: 0, finalState: () => 'completed' };
    const ids = await snapshotAll(world);
    const data = ids['vol-data'] as string;
    const hidden = await rejectionOf(send(world, 'ec2', 'DescribeSnapshots', { SnapshotIds: [data] }, HUB));
    expect([hidden.name, hidden.message]).toEqual(['InvalidSnapshot.NotFound', `The snapshot '${data}' does not exist.`]);
    await send(world, 'ec2', 'ModifySnapshotAttribute', { SnapshotId: data, Attribute: 'createVolumePermission', CreateVolumePermission: { Add: [{ UserId: HUB }] } });
    const pending = await rejectionOf(send(world, 'ec2', 'CopySnapshot', { SourceSnapshotId: data, Encrypted: true, KmsKeyId: 'arn:aws:kms:us-east-1:999988887777:key/evidence' }, HUB));
    expect([pending.name, pending.message]).toEqual(['IncorrectState', `Snapshot ${data} is pending`]);
    expect(await stateOf(world, data, HUB)).toBe('completed');
    const alias = await rejectionOf(send(world, 'ec2', 'CopySnapshot', { SourceSnapshotId: data, Encrypted: true, KmsKeyId: 'alias/evidence' }, HUB));
    expect(alias.name).toBe('InvalidParameterValue');
    const copy = (await send(world, 'ec2', 'CopySnapshot', { SourceSnapshotId: data, Encrypted: true, KmsKeyId: 'arn:aws:kms:us-east-1:999988887777:key/evidence' }, HUB)) as {
      SnapshotId: string;
    };
    expect(world.snapshots.get(copy.SnapshotId)).toMatchObject({ owner: HUB, sourceSnapshotId: data, kmsKeyId: 'arn:aws:kms:us-east-1:999988887777:key/evidence', tags: {} });
  });

  it('deletes only the caller’s own snapshots, and keeps them as they were', async () => {
    const world = account();
    withVolumes(world);
    const ids = await snapshotAll(world);
    const root = ids['vol-root'] as string;
    const foreign = await rejectionOf(send(world, 'ec2', 'DeleteSnapshot', { SnapshotId: root }, HUB));
    expect(foreign.name).toBe('InvalidSnapshot.NotFound');
    await send(world, 'ec2', 'DeleteSnapshot', { SnapshotId: root });
    expect(world.snapshots.has(root)).toBe(false);
    expect(world.deletedSnapshots).toEqual([root]);
    expect(world.deleted.get(root)?.volumeId).toBe('vol-root');
    expect(world.deletedAtCall.get(root)).toBe(2);
  });
});
