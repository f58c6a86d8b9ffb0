/**
 * ShareSnapshots (docs/design.md §3.3 and §4, issue 3): every evidence snapshot
 * ends up as a snapshot owned by the security (hub) account, under the hub's
 * evidence key.
 *
 *   cross-account:  member CopySnapshot → evidence key   (temporary, tagged cordon:temporary=true)
 *                   ModifySnapshotAttribute createVolumePermission add <hub>
 *                   hub CopySnapshot → evidence key        (the hub's own copy)
 *                   DeleteSnapshot of the temporary member copy, only once the hub copy is completed
 *   single-account: CopySnapshot → evidence key, kept.
 *
 * Snapshots under the default `aws/ebs` key can't be shared, which is why the
 * first copy re-encrypts. Tags are not copied by CopySnapshot: every copy passes
 * its TagSpecifications. The original snapshot is never deleted.
 */
import {
  CopySnapshotCommand,
  DeleteSnapshotCommand,
  DescribeSnapshotsCommand,
  ModifySnapshotAttributeCommand,
  type EC2Client,
  type Tag,
} from '@aws-sdk/client-ec2';
import { z } from 'zod';
import type { ClientFactory } from '../shared/clients';
import { CordonError } from '../shared/errors';
import { AccountId } from '../shared/schemas';
import { SnapshotId, TaskBase } from '../shared/workflow';
import { nextPoll } from '../shared/poll';

export class SnapshotCopyFailedError extends CordonError {
  constructor(message: string) {
    super('SnapshotCopyFailedError', message);
  }
}
export class SnapshotCopyTimeoutError extends CordonError {
  constructor(message: string) {
    super('SnapshotCopyTimeoutError', message);
  }
}

export type Stage = 'evidence-copy' | 'hub-copy';

const Copy = z.object({ snapshotId: SnapshotId, accountId: AccountId, startedAt: z.string() });

export const ShareInput = z.discriminatedUnion('step', [
  TaskBase.extend({
    step: z.literal('copy-to-evidence-key'),
    snapshot: z.object({ snapshotId: SnapshotId, volumeId: z.string(), deviceName: z.string().nullable() }).passthrough(),
  }),
  TaskBase.extend({ step: z.literal('check-copy'), copy: Copy }),
  TaskBase.extend({
    step: z.literal('share-with-hub'),
    source: z.object({ snapshotId: SnapshotId, volumeId: z.string() }).passthrough(),
    copy: Copy,
  }),
  TaskBase.extend({
    step: z.literal('copy-into-hub'),
    source: z.object({ snapshotId: SnapshotId, volumeId: z.string(), deviceName: z.string().nullable() }).passthrough(),
    copy: Copy,
  }),
  TaskBase.extend({
    step: z.literal('remove-temporary-copy'),
    source: z.object({ snapshotId: SnapshotId }).passthrough(),
    copy: Copy,
    hubCopy: Copy,
  }),
]);
export type ShareInput = z.infer<typeof ShareInput>;
type Step<S extends ShareInput['step']> = Extract<ShareInput, { step: S }>;

export interface ShareConfig {
  readonly hubAccountId: string;
  /** The hub's evidence KMS key, by ARN (an alias would resolve in the caller's account). */
  readonly evidenceKeyArn: string;
  readonly maxHours: number;
  readonly pollSeconds: number;
}

export interface ShareDeps {
  readonly factory: ClientFactory;
  readonly config: ShareConfig;
  readonly now?: () => Date;
}

export interface CopyResult {
  snapshotId: string;
  accountId: string;
  startedAt: string;
  crossAccount: boolean;
}

export interface CheckCopyResult {
  state: 'pending' | 'completed';
  nextPollSeconds: number;
  progress: string | null;
  volumeSize: number | null;
  kmsKeyId: string | null;
}

const clock = (deps: ShareDeps) => (deps.now ?? (() => new Date()))();

function tags(input: TaskBase, extra: Record<string, string>): Tag[] {
  return Object.entries({
    'cordon:managed': 'true',
    'cordon:incident': input.incidentId,
    'cordon:request': input.requestId,
    ...extra,
  }).map(([Key, Value]) => ({ Key, Value }));
}

/**
 * Only a snapshot under the evidence key can be one of cordon's copies: originals are under the member's
 * own keys (or none), so a snapshot someone else tagged to look like a copy is never adopted, and never
 * deleted as "temporary".
 */
async function findCopy(ec2: EC2Client, sourceSnapshotId: string, stage: Stage, evidenceKeyArn: string): Promise<string | undefined> {
  const out = await ec2.send(
    new DescribeSnapshotsCommand({
      OwnerIds: ['self'],
      Filters: [
        { Name: 'tag:cordon:source-snapshot', Values: [sourceSnapshotId] },
        { Name: 'tag:cordon:stage', Values: [stage] },
      ],
    }),
  );
  return out.Snapshots?.find((s) => s.State !== 'error' && s.KmsKeyId === evidenceKeyArn && s.SnapshotId !== sourceSnapshotId)?.SnapshotId;
}

async function copy(
  ec2: EC2Client,
  input: TaskBase,
  deps: ShareDeps,
  sourceSnapshotId: string,
  stage: Stage,
  extraTags: Record<string, string>,
): Promise<string> {
  // A retried task finds the copy it already started.
  const existing = await findCopy(ec2, sourceSnapshotId, stage, deps.config.evidenceKeyArn);
  if (existing) return existing;
  const out = await ec2.send(
    new CopySnapshotCommand({
      SourceSnapshotId: sourceSnapshotId,
      SourceRegion: input.target.region,
      Encrypted: true,
      KmsKeyId: deps.config.evidenceKeyArn,
      Description: `cordon evidence ${input.incidentId} (${stage} of ${sourceSnapshotId})`,
      TagSpecifications: [
        {
          ResourceType: 'snapshot',
          Tags: tags(input, { 'cordon:source-snapshot': sourceSnapshotId, 'cordon:stage': stage, ...extraTags }),
        },
      ],
    }),
  );
  if (!out.SnapshotId) throw new SnapshotCopyFailedError(`CopySnapshot of ${sourceSnapshotId} returned no snapshot id`);
  return out.SnapshotId;
}

const hubTarget = (input: TaskBase, deps: ShareDeps) => ({ ...input.target, accountId: deps.config.hubAccountId });

async function ec2For(accountId: string, input: TaskBase, deps: ShareDeps): Promise<EC2Client> {
  const target = accountId === input.target.accountId ? input.target : hubTarget(input, deps);
  return (await deps.factory.forTarget(target, `cordon-${input.requestId}`)).ec2;
}

export async function copyToEvidenceKey(input: Step<'copy-to-evidence-key'>, deps: ShareDeps): Promise<CopyResult> {
  const crossAccount = input.target.accountId !== deps.config.hubAccountId;
  const ec2 = await ec2For(input.target.accountId, input, deps);
  const snapshotId = await copy(ec2, input, deps, input.snapshot.snapshotId, 'evidence-copy', {
    'cordon:volume': input.snapshot.volumeId,
    'cordon:device': input.snapshot.deviceName ?? 'unknown',
    // In single-account mode this copy is the kept evidence; cross-account it is removed once the hub has its own.
    'cordon:temporary': crossAccount ? 'true' : 'false',
  });
  return { snapshotId, accountId: input.target.accountId, startedAt: clock(deps).toISOString(), crossAccount };
}

export async function checkCopy(input: Step<'check-copy'>, deps: ShareDeps): Promise<CheckCopyResult> {
  const ec2 = await ec2For(input.copy.accountId, input, deps);
  const out = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [input.copy.snapshotId] }));
  const s = out.Snapshots?.[0];
  const elapsed = clock(deps).getTime() - Date.parse(input.copy.startedAt);
  if (!s) throw new SnapshotCopyFailedError(`copy ${input.copy.snapshotId} is not visible in ${input.copy.accountId}`);
  if (s.State === 'error') {
    throw new SnapshotCopyFailedError(`copy ${input.copy.snapshotId} ended in error: ${s.StateMessage ?? 'no state message'}`);
  }
  if (s.State !== 'completed' && elapsed > deps.config.maxHours * 3_600_000) {
    throw new SnapshotCopyTimeoutError(`copy ${input.copy.snapshotId} still ${s.State} after ${deps.config.maxHours} h`);
  }
  return {
    state: s.State === 'completed' ? 'completed' : 'pending',
    nextPollSeconds: nextPoll(elapsed, deps.config.pollSeconds),
    progress: s.Progress ?? null,
    volumeSize: s.VolumeSize ?? null,
    kmsKeyId: s.KmsKeyId ?? null,
  };
}

export async function shareWithHub(input: Step<'share-with-hub'>, deps: ShareDeps): Promise<{ sharedWith: string }> {
  const ec2 = await ec2For(input.copy.accountId, input, deps);
  await ec2.send(
    new ModifySnapshotAttributeCommand({
      SnapshotId: input.copy.snapshotId,
      Attribute: 'createVolumePermission',
      OperationType: 'add',
      CreateVolumePermission: { Add: [{ UserId: deps.config.hubAccountId }] },
    }),
  );
  return { sharedWith: deps.config.hubAccountId };
}

export async function copyIntoHub(input: Step<'copy-into-hub'>, deps: ShareDeps): Promise<CopyResult> {
  const ec2 = await ec2For(deps.config.hubAccountId, input, deps);
  const snapshotId = await copy(ec2, input, deps, input.copy.snapshotId, 'hub-copy', {
    'cordon:volume': input.source.volumeId,
    'cordon:device': input.source.deviceName ?? 'unknown',
    'cordon:member-account': input.target.accountId,
    'cordon:original-snapshot': input.source.snapshotId,
    'cordon:temporary': 'false',
  });
  return { snapshotId, accountId: deps.config.hubAccountId, startedAt: clock(deps).toISOString(), crossAccount: true };
}

export async function removeTemporaryCopy(input: Step<'remove-temporary-copy'>, deps: ShareDeps): Promise<{ removed: string }> {
  // Only the member-side temporary copy, only once the hub copy is completed: checked again here, not assumed.
  const hub = await ec2For(input.hubCopy.accountId, input, deps);
  const hubState = (await hub.send(new DescribeSnapshotsCommand({ SnapshotIds: [input.hubCopy.snapshotId] }))).Snapshots?.[0]?.State;
  if (hubState !== 'completed') {
    throw new SnapshotCopyFailedError(`hub copy ${input.hubCopy.snapshotId} is ${hubState ?? 'missing'}: the temporary copy stays`);
  }
  const member = await ec2For(input.copy.accountId, input, deps);
  const described = (await member.send(new DescribeSnapshotsCommand({ SnapshotIds: [input.copy.snapshotId] }))).Snapshots?.[0];
  const temporary = described?.Tags?.some((t) => t.Key === 'cordon:temporary' && t.Value === 'true');
  if (!temporary) throw new SnapshotCopyFailedError(`${input.copy.snapshotId} is not tagged cordon:temporary=true: refusing to delete it`);
  // Belt and braces against a planted tag: a temporary copy is always under the evidence key, and never the original.
  if (described?.KmsKeyId !== deps.config.evidenceKeyArn || input.copy.snapshotId === input.source.snapshotId) {
    throw new SnapshotCopyFailedError(`${input.copy.snapshotId} is not a cordon copy under the evidence key: refusing to delete it`);
  }
  await member.send(new DeleteSnapshotCommand({ SnapshotId: input.copy.snapshotId }));
  return { removed: input.copy.snapshotId };
}

export async function shareSnapshot(input: ShareInput, deps: ShareDeps): Promise<unknown> {
  switch (input.step) {
    case 'copy-to-evidence-key':
      return copyToEvidenceKey(input, deps);
    case 'check-copy':
      return checkCopy(input, deps);
    case 'share-with-hub':
      return shareWithHub(input, deps);
    case 'copy-into-hub':
      return copyIntoHub(input, deps);
    case 'remove-temporary-copy':
      return removeTemporaryCopy(input, deps);
  }
}
