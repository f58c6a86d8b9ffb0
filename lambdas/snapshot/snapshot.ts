/**
 * CreateSnapshots / AwaitSnapshots (docs/design.md §3.3). One crash-consistent
 * CreateSnapshots call covers every attached EBS volume; the ASL then loops
 * Wait → CheckSnapshots → Choice until each snapshot is completed or in error,
 * or the configured cap (hours) has passed. Nothing here ever deletes.
 */
import { CreateSnapshotsCommand, CreateTagsCommand, DescribeSnapshotsCommand, type EC2Client, type Snapshot } from '@aws-sdk/client-ec2';
import { z } from 'zod';
import type { ClientFactory } from '../shared/clients';
import { CordonError } from '../shared/errors';
import { nextPoll } from '../shared/poll';
import { SnapshotId, TaskBase, VolumeId } from '../shared/workflow';

export class SnapshotCreationError extends CordonError {
  constructor(message: string) {
    super('SnapshotCreationError', message);
  }
}

export const SnapshotInput = z.discriminatedUnion('step', [
  TaskBase.extend({
    step: z.literal('create'),
    findingId: z.string().nullable(),
    volumes: z.array(z.object({ volumeId: VolumeId, deviceName: z.string().nullable() })),
  }),
  TaskBase.extend({ step: z.literal('check'), snapshotIds: z.array(SnapshotId).min(1) }),
]);
export type SnapshotInput = z.infer<typeof SnapshotInput>;
type Step<S extends SnapshotInput['step']> = Extract<SnapshotInput, { step: S }>;

export interface SnapshotDeps {
  readonly factory: ClientFactory;
  readonly config: { readonly maxHours: number; readonly pollSeconds: number };
  readonly now?: () => Date;
}

export interface SnapshotRecord {
  snapshotId: string;
  volumeId: string;
  deviceName: string | null;
  state: string;
  progress: string | null;
  volumeSize: number | null;
  startTime: string | null;
}

export type CreateResult =
  | { action: 'snapshot'; status: 'not-applicable'; reason: string }
  | { action: 'snapshot'; status: 'started'; snapshots: SnapshotRecord[]; pollSeconds: number };

export interface CheckResult {
  done: boolean;
  timedOut: boolean;
  snapshots: SnapshotRecord[];
  pendingSnapshotIds: string[];
  /** When to look again: grows with the time already spent, so a multi-TB volume stays within the execution-history quota. */
  nextPollSeconds: number;
}


/** States that are final. `recoverable` and `recovering` are not (docs/design.md §3). */
const FINAL = new Set(['completed', 'error']);

function toRecord(s: Snapshot, devices: Map<string, string | null>): SnapshotRecord {
  return {
    snapshotId: s.SnapshotId ?? '',
    volumeId: s.VolumeId ?? '',
    deviceName: devices.get(s.VolumeId ?? '') ?? null,
    state: s.State ?? 'unknown',
    progress: s.Progress ?? null,
    volumeSize: s.VolumeSize ?? null,
    startTime: s.StartTime ? new Date(s.StartTime).toISOString() : null,
  };
}

async function snapshotsOfRequest(ec2: EC2Client, requestId: string, volumeIds: string[]): Promise<Snapshot[]> {
  const out = await ec2.send(
    new DescribeSnapshotsCommand({
      OwnerIds: ['self'],
      Filters: [
        { Name: 'tag:cordon:request', Values: [requestId] },
        { Name: 'volume-id', Values: volumeIds },
      ],
    }),
  );
  return out.Snapshots ?? [];
}

export async function createSnapshots(ec2: EC2Client, input: Step<'create'>, deps: SnapshotDeps): Promise<CreateResult> {
  if (input.volumes.length === 0) {
    return { action: 'snapshot', status: 'not-applicable', reason: 'the instance has no EBS volumes (instance store only)' };
  }
  const devices = new Map(input.volumes.map((v) => [v.volumeId, v.deviceName]));
  const volumeIds = input.volumes.map((v) => v.volumeId);
  // A retried task finds the snapshots it already started instead of taking a second set.
  let snapshots = await snapshotsOfRequest(ec2, input.requestId, volumeIds);
  if (snapshots.length === 0) {
    const tags = [
      { Key: 'cordon:managed', Value: 'true' },
      { Key: 'cordon:incident', Value: input.incidentId },
      { Key: 'cordon:request', Value: input.requestId },
      ...(input.findingId ? [{ Key: 'cordon:finding', Value: input.findingId }] : []),
    ];
    const out = await ec2.send(
      new CreateSnapshotsCommand({
        InstanceSpecification: { InstanceId: input.target.instanceId, ExcludeBootVolume: false },
        Description: `cordon evidence for ${input.incidentId}`,
        // No CopyTagsFromSource: volume tags are the member's to write, and a copied `cordon:*` tag would
        // make a snapshot look like cordon's. The before-state already records each volume as found.
        TagSpecifications: [{ ResourceType: 'snapshot', Tags: tags }],
      }),
    );
    snapshots = (out.Snapshots ?? []).map((s) => ({
      SnapshotId: s.SnapshotId,
      VolumeId: s.VolumeId,
      State: s.State,
      Progress: s.Progress,
      VolumeSize: s.VolumeSize,
      StartTime: s.StartTime,
    }));
    if (snapshots.length === 0) throw new SnapshotCreationError(`CreateSnapshots for ${input.target.instanceId} returned no snapshots`);
    // CreateSnapshots tags every snapshot alike; the volume and device go on each one.
    for (const s of snapshots) {
      await ec2.send(
        new CreateTagsCommand({
          Resources: [s.SnapshotId as string],
          Tags: [
            { Key: 'cordon:volume', Value: s.VolumeId ?? 'unknown' },
            { Key: 'cordon:device', Value: devices.get(s.VolumeId ?? '') ?? 'unknown' },
          ],
        }),
      );
    }
  }
  const missing = volumeIds.filter((v) => !snapshots.some((s) => s.VolumeId === v));
  if (missing.length) {
    throw new SnapshotCreationError(`no snapshot was started for ${missing.join(', ')}`);
  }
  return {
    action: 'snapshot',
    status: 'started',
    snapshots: snapshots.map((s) => toRecord(s, devices)),
    pollSeconds: deps.config.pollSeconds,
  };
}

export async function checkSnapshots(ec2: EC2Client, input: Step<'check'>, deps: SnapshotDeps): Promise<CheckResult> {
  // By tag, not by id: DescribeSnapshots with an id that no longer exists fails the whole call, and one
  // deleted snapshot (an attacker's doing, say) must not hide the others. Missing ones are reported below.
  const out = await ec2.send(
    new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'snapshot-id', Values: input.snapshotIds }] }),
  );
  const devices = new Map(
    (out.Snapshots ?? []).map((s) => [s.VolumeId ?? '', s.Tags?.find((t) => t.Key === 'cordon:device')?.Value ?? null] as const),
  );
  const snapshots = (out.Snapshots ?? []).map((s) => toRecord(s, devices));
  const seen = new Set(snapshots.map((s) => s.snapshotId));
  for (const id of input.snapshotIds) {
    if (!seen.has(id)) snapshots.push({ snapshotId: id, volumeId: '', deviceName: null, state: 'missing', progress: null, volumeSize: null, startTime: null });
  }
  const pending = snapshots.filter((s) => !FINAL.has(s.state) && s.state !== 'missing');
  const started = Math.min(...snapshots.map((s) => (s.startTime ? Date.parse(s.startTime) : Number.POSITIVE_INFINITY)));
  const now = (deps.now ?? (() => new Date()))().getTime();
  const timedOut = pending.length > 0 && Number.isFinite(started) && now - started > deps.config.maxHours * 3_600_000;
  return {
    done: pending.length === 0 || timedOut,
    timedOut,
    snapshots,
    pendingSnapshotIds: pending.map((s) => s.snapshotId),
    nextPollSeconds: nextPoll(Number.isFinite(started) ? now - started : 0, deps.config.pollSeconds),
  };
}

export async function snapshot(input: SnapshotInput, deps: SnapshotDeps): Promise<CreateResult | CheckResult> {
  const { ec2 } = await deps.factory.forTarget(input.target, `cordon-${input.requestId}`);
  return input.step === 'create' ? createSnapshots(ec2, input, deps) : checkSnapshots(ec2, input, deps);
}
