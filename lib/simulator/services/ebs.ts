/**
 * EC2's EBS snapshots: created per instance, progressing with the clock (simulations) or per lookup
 * (tests), copied (re-encrypted, across accounts), shared, tagged and deleted. Sharing refuses a
 * snapshot under the default `aws/ebs` key, as AWS does.
 */
import type * as ec2 from '@aws-sdk/client-ec2';
import { awsError, notModelled, type FakeSnapshot, type ServiceHandlers, type SimState } from '../core';
import { instanceOf } from './ec2';

/** AWS refuses to share a snapshot under the AWS managed key. */
export const DEFAULT_KEY_SHARE_ERROR = "Snapshots encrypted with the AWS Managed CMK can't be shared. Try again with a customer managed CMK.";

function visible(s: SimState, snap: FakeSnapshot): boolean {
  return snap.owner === s.caller || snap.sharedWith.includes(s.caller);
}

function createSnapshots(s: SimState, input: ec2.CreateSnapshotsCommandInput) {
  const i = instanceOf(s, input.InstanceSpecification?.InstanceId as string);
  const tags = Object.fromEntries((input.TagSpecifications?.[0]?.Tags ?? []).map((t) => [t.Key as string, t.Value as string]));
  const created = i.volumes.map((v) => {
    const id = s.hexId('snap');
    const snap: FakeSnapshot = {
      id,
      owner: s.caller,
      volumeId: v.volumeId,
      state: 'pending',
      size: v.size,
      tags: { ...tags },
      startTime: s.now(),
      checks: 0,
      kmsKeyId: s.volumeKeys.get(v.volumeId) ?? null,
      sharedWith: [],
    };
    s.snapshots.set(id, snap);
    return { SnapshotId: id, VolumeId: v.volumeId, State: 'pending', VolumeSize: v.size, StartTime: snap.startTime };
  });
  return { Snapshots: created };
}

/** Pending snapshots in `list` move on: with the clock when durations are modelled, else per lookup by id. */
function progress(s: SimState, list: FakeSnapshot[], byId: boolean): void {
  if (s.snapshotDurationMs) {
    // Snapshots progress with the clock, sized by volume.
    for (const snap of list) {
      if (snap.state !== 'pending') continue;
      const duration = s.snapshotDurationMs(snap.size, snap.sourceSnapshotId !== undefined);
      if (s.now().getTime() >= snap.startTime.getTime() + duration) {
        snap.state = snap.sourceSnapshotId ? 'completed' : s.snapshotBehaviour.finalState(snap.volumeId);
        if (snap.state === 'completed') snap.completedAtCall = s.calls.length - 1;
      }
    }
  } else if (byId) {
    // A snapshot progresses each time it is looked up by id (by SnapshotIds or the snapshot-id filter).
    for (const snap of list) {
      snap.checks += 1;
      if (snap.state === 'pending' && snap.checks > s.snapshotBehaviour.pendingChecks) snap.state = s.snapshotBehaviour.finalState(snap.volumeId);
      if (snap.state === 'completed' && snap.completedAtCall === undefined) snap.completedAtCall = s.calls.length - 1;
    }
  }
}

function describeSnapshots(s: SimState, input: ec2.DescribeSnapshotsCommandInput) {
  let list = [...s.snapshots.values()].filter((snap) => visible(s, snap));
  if (input.OwnerIds?.includes('self')) list = list.filter((snap) => snap.owner === s.caller);
  if (input.SnapshotIds) {
    list = input.SnapshotIds.map((id) => {
      const snap = s.snapshots.get(id);
      if (!snap || !visible(s, snap)) throw awsError('InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`);
      return snap;
    });
  }
  const byId = input.Filters?.find((f) => f.Name === 'snapshot-id')?.Values;
  for (const f of input.Filters ?? []) {
    const values = f.Values ?? [];
    if (f.Name === 'volume-id') list = list.filter((snap) => values.includes(snap.volumeId));
    else if (f.Name === 'snapshot-id') list = list.filter((snap) => values.includes(snap.id));
    else if (f.Name?.startsWith('tag:')) list = list.filter((snap) => values.includes(snap.tags[f.Name?.slice(4) as string] as string));
    else throw notModelled(`DescribeSnapshots filter ${f.Name} not modelled`);
  }
  progress(s, list, Boolean(input.SnapshotIds || byId));
  return {
    Snapshots: list.map((snap) => ({
      SnapshotId: snap.id,
      VolumeId: snap.volumeId,
      State: snap.state,
      Progress: snap.state === 'completed' ? '100%' : '50%',
      VolumeSize: snap.size,
      StartTime: snap.startTime,
      OwnerId: snap.owner,
      Encrypted: snap.kmsKeyId !== null,
      KmsKeyId: snap.kmsKeyId ?? undefined,
      Tags: Object.entries(snap.tags).map(([Key, Value]) => ({ Key, Value })),
    })),
  };
}

function copySnapshot(s: SimState, input: ec2.CopySnapshotCommandInput) {
  const source = s.snapshots.get(input.SourceSnapshotId as string);
  if (!source || !visible(s, source)) throw awsError('InvalidSnapshot.NotFound', `The snapshot '${input.SourceSnapshotId}' does not exist.`);
  if (source.state !== 'completed') throw awsError('IncorrectState', `Snapshot ${source.id} is ${source.state}`);
  if (input.KmsKeyId?.startsWith('alias/')) throw awsError('InvalidParameterValue', 'name the key by ARN: an alias resolves in the caller account');
  const copies = [...s.snapshots.values()].filter((snap) => snap.owner === s.caller && snap.sourceSnapshotId && snap.state === 'pending');
  if (copies.length >= 20) throw awsError('ResourceLimitExceeded', 'at most 20 concurrent snapshot copies per destination region');
  const id = s.hexId('snap');
  const tags = Object.fromEntries((input.TagSpecifications?.[0]?.Tags ?? []).map((t) => [t.Key as string, t.Value as string]));
  s.snapshots.set(id, {
    id,
    owner: s.caller,
    volumeId: 'vol-ffffffff',
    state: 'pending',
    size: source.size,
    tags, // CopySnapshot does not copy tags: only what the request passes
    startTime: s.now(),
    checks: 0,
    kmsKeyId: input.Encrypted ? (input.KmsKeyId ?? source.kmsKeyId ?? 'alias/aws/ebs') : source.kmsKeyId,
    sharedWith: [],
    sourceSnapshotId: source.id,
  });
  return { SnapshotId: id };
}

function modifySnapshotAttribute(s: SimState, input: ec2.ModifySnapshotAttributeCommandInput) {
  const snap = s.snapshots.get(input.SnapshotId as string);
  if (!snap || snap.owner !== s.caller) throw awsError('InvalidSnapshot.NotFound');
  if (input.Attribute !== 'createVolumePermission') throw notModelled('only createVolumePermission is modelled');
  const add = input.CreateVolumePermission?.Add?.map((p) => p.UserId as string) ?? [];
  if (add.length && snap.kmsKeyId === 'alias/aws/ebs') throw awsError('InvalidParameter', DEFAULT_KEY_SHARE_ERROR);
  snap.sharedWith.push(...add);
  return {};
}

function deleteSnapshot(s: SimState, input: ec2.DeleteSnapshotCommandInput) {
  const snap = s.snapshots.get(input.SnapshotId as string);
  if (!snap || snap.owner !== s.caller) throw awsError('InvalidSnapshot.NotFound');
  s.snapshots.delete(snap.id);
  s.deletedSnapshots.push(snap.id);
  s.deleted.set(snap.id, snap);
  s.deletedAtCall.set(snap.id, s.calls.length - 1);
  return {};
}

/** Tags: modelled on snapshots only. */
function createTags(s: SimState, input: ec2.CreateTagsCommandInput) {
  for (const id of input.Resources ?? []) {
    const snap = s.snapshots.get(id);
    if (!snap || snap.owner !== s.caller) throw awsError('InvalidID', `tagging ${id} is not modelled`);
    for (const t of input.Tags ?? []) snap.tags[t.Key as string] = t.Value as string;
  }
  return {};
}

export function ebsHandlers(s: SimState): ServiceHandlers {
  return {
    CreateSnapshots: (i: ec2.CreateSnapshotsCommandInput) => createSnapshots(s, i),
    DescribeSnapshots: (i: ec2.DescribeSnapshotsCommandInput) => describeSnapshots(s, i),
    CopySnapshot: (i: ec2.CopySnapshotCommandInput) => copySnapshot(s, i),
    ModifySnapshotAttribute: (i: ec2.ModifySnapshotAttributeCommandInput) => modifySnapshotAttribute(s, i),
    DeleteSnapshot: (i: ec2.DeleteSnapshotCommandInput) => deleteSnapshot(s, i),
    CreateTags: (i: ec2.CreateTagsCommandInput) => createTags(s, i),
  };
}
