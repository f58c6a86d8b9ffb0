/**
 * RestoreInstance (docs/design.md §3.5): termination protection and instance-initiated shutdown
 * behaviour go back to what the before-state recorded. Three things are reported, never undone:
 *   - DeleteOnTermination stays false on every volume: the volumes are the originals the snapshots were
 *     taken from, and a termination must not destroy them while anyone may still need them (evidence is
 *     never destroyed; docs/release.md);
 *   - the Auto Scaling group the instance left is not rejoined: the group launched a replacement, and
 *     putting an instance back in service is the owner's decision after remediation;
 *   - the target groups it was deregistered from are not rejoined, for the same reason.
 */
import { DescribeInstanceAttributeCommand, ModifyInstanceAttributeCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { z } from 'zod';
import { errorSummary, isTransient } from '../shared/errors';
import { Registration, RestoreBase, StoredBefore } from '../shared/release';
import { VolumeId } from '../shared/workflow';

export const InstanceInput = RestoreBase.extend({
  step: z.literal('instance'),
  attributes: StoredBefore.shape.attributes,
  volumes: z.array(z.object({ volumeId: VolumeId, deviceName: z.string().nullable(), deleteOnTermination: z.boolean().nullable() })),
  autoScalingGroupName: z.string().min(1).max(255).nullable(),
  targetGroups: z.array(Registration),
});
export type InstanceInput = z.infer<typeof InstanceInput>;

type Failed = { status: 'failed'; error: string; cause: string };
type AttributeResult<T> =
  | { status: 'restored'; from: T | null; to: T }
  | { status: 'unchanged'; value: T }
  | { status: 'unknown-original'; reason: string }
  | Failed;

export interface InstanceRestoreResult {
  action: 'restoreInstance';
  status: 'succeeded' | 'failed';
  terminationProtection: AttributeResult<boolean>;
  shutdownBehavior: AttributeResult<string>;
  deleteOnTermination: { status: 'kept-false'; originallyTrue: Array<{ volumeId: string; deviceName: string | null }>; reason: string };
  autoScaling: { status: 'not-a-member' } | { status: 'not-reattached'; groupName: string; reason: string };
  targetGroups: { status: 'none' } | { status: 'not-reregistered'; registrations: Array<z.infer<typeof Registration>>; reason: string };
  error?: string;
  cause?: string;
}

async function restoreAttribute<T extends boolean | string>(
  read: () => Promise<T | null>,
  write: (value: T) => Promise<unknown>,
  original: T | null,
  what: string,
): Promise<AttributeResult<T>> {
  if (original === null) return { status: 'unknown-original', reason: `the before-state did not record the ${what}: left as it is` };
  try {
    const current = await read();
    if (current === original) return { status: 'unchanged', value: original };
    await write(original);
    return { status: 'restored', from: current, to: original };
  } catch (err) {
    if (isTransient(err)) throw err;
    return { status: 'failed', ...errorSummary(err) };
  }
}

export async function restoreInstance(ec2: EC2Client, input: InstanceInput): Promise<InstanceRestoreResult> {
  const InstanceId = input.target.instanceId;
  const terminationProtection = await restoreAttribute<boolean>(
    async () =>
      (await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId, Attribute: 'disableApiTermination' }))).DisableApiTermination?.Value ?? null,
    (Value) => ec2.send(new ModifyInstanceAttributeCommand({ InstanceId, DisableApiTermination: { Value } })),
    input.attributes.disableApiTermination,
    'termination protection',
  );
  const shutdownBehavior = await restoreAttribute<string>(
    async () =>
      (await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId, Attribute: 'instanceInitiatedShutdownBehavior' }))).InstanceInitiatedShutdownBehavior
        ?.Value ?? null,
    (Value) => ec2.send(new ModifyInstanceAttributeCommand({ InstanceId, InstanceInitiatedShutdownBehavior: { Value } })),
    input.attributes.instanceInitiatedShutdownBehavior,
    'instance-initiated shutdown behaviour',
  );

  const failures = [
    terminationProtection.status === 'failed' ? `termination protection: ${terminationProtection.error}: ${terminationProtection.cause}` : null,
    shutdownBehavior.status === 'failed' ? `shutdown behaviour: ${shutdownBehavior.error}: ${shutdownBehavior.cause}` : null,
  ].filter((f): f is string => f !== null);
  const firstError = terminationProtection.status === 'failed' ? terminationProtection.error : shutdownBehavior.status === 'failed' ? shutdownBehavior.error : 'Error';

  return {
    action: 'restoreInstance',
    status: failures.length ? 'failed' : 'succeeded',
    terminationProtection,
    shutdownBehavior,
    deleteOnTermination: {
      status: 'kept-false',
      originallyTrue: input.volumes.filter((v) => v.deleteOnTermination === true).map((v) => ({ volumeId: v.volumeId, deviceName: v.deviceName })),
      reason:
        'the volumes are the originals the evidence snapshots were taken from: a termination must not delete them; set DeleteOnTermination back yourself once the evidence is no longer needed',
    },
    autoScaling: input.autoScalingGroupName
      ? {
          status: 'not-reattached',
          groupName: input.autoScalingGroupName,
          reason:
            'the group launched a replacement when the instance left it (capacity kept); rejoining it is the owner\'s decision once the instance is known clean (aws autoscaling attach-instances)',
        }
      : { status: 'not-a-member' },
    targetGroups: input.targetGroups.length
      ? {
          status: 'not-reregistered',
          registrations: input.targetGroups,
          reason: 'taking traffic again is the owner\'s decision once the instance is known clean (aws elbv2 register-targets)',
        }
      : { status: 'none' },
    ...(failures.length ? { error: firstError, cause: failures.join('; ') } : {}),
  };
}
