/**
 * ProtectInstance (docs/design.md §3.1): runs before any security-group change.
 * An isolated instance fails its load-balancer health checks, and Auto Scaling
 * terminates unhealthy instances whatever their termination protection says —
 * so the instance leaves its group first (capacity kept, a replacement launches),
 * then termination protection goes on.
 */
import { DescribeAutoScalingInstancesCommand, DetachInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { ModifyInstanceAttributeCommand } from '@aws-sdk/client-ec2';
import { z } from 'zod';
import type { ClientFactory } from '../shared/clients';
import { errorSummary, isTransient, ProtectInstanceError } from '../shared/errors';
import { TaskBase } from '../shared/workflow';

export const ProtectInput = TaskBase.extend({ autoScalingGroupName: z.string().min(1).max(255).nullable() });
export type ProtectInput = z.infer<typeof ProtectInput>;

export interface ProtectResult {
  autoScaling:
    | { status: 'not-a-member' }
    | { status: 'detached'; groupName: string; activityIds: string[] }
    | { status: 'already-detached'; groupName: string };
  terminationProtection: { status: 'enabled' } | { status: 'failed'; error: string; cause: string };
}

export async function protectInstance(input: ProtectInput, deps: { factory: ClientFactory }): Promise<ProtectResult> {
  const { target } = input;
  const { autoScaling, ec2 } = await deps.factory.forTarget(target, `cordon-${input.requestId}`);

  let asgResult: ProtectResult['autoScaling'] = { status: 'not-a-member' };
  if (input.autoScalingGroupName) {
    const groupName = input.autoScalingGroupName;
    try {
      // Describe first, so that a retried task does not fail on an instance it already detached.
      const current = await autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [target.instanceId] }));
      const member = current.AutoScalingInstances?.find((a) => a.InstanceId === target.instanceId);
      // After a detach the instance stays listed as Detaching while its load balancers drain: a retry must not detach again.
      if (!member || member.LifecycleState === 'Detaching' || member.LifecycleState === 'Detached') {
        asgResult = { status: 'already-detached', groupName };
      } else {
        const out = await autoScaling.send(
          new DetachInstancesCommand({
            AutoScalingGroupName: member.AutoScalingGroupName ?? groupName,
            InstanceIds: [target.instanceId],
            ShouldDecrementDesiredCapacity: false,
          }),
        );
        asgResult = {
          status: 'detached',
          groupName: member.AutoScalingGroupName ?? groupName,
          activityIds: (out.Activities ?? []).map((a) => a.ActivityId ?? '').filter(Boolean),
        };
      }
    } catch (err) {
      if (isTransient(err)) throw err;
      const { error, cause } = errorSummary(err);
      throw new ProtectInstanceError(`cannot detach ${target.instanceId} from Auto Scaling group ${groupName}: ${error}: ${cause}`);
    }
  }

  let terminationProtection: ProtectResult['terminationProtection'];
  try {
    await ec2.send(
      new ModifyInstanceAttributeCommand({ InstanceId: target.instanceId, DisableApiTermination: { Value: true } }),
    );
    terminationProtection = { status: 'enabled' };
  } catch (err) {
    if (isTransient(err)) throw err;
    // Not fatal: isolation is still safe once the instance is out of Auto Scaling. Reported as a failure.
    terminationProtection = { status: 'failed', ...errorSummary(err) };
  }
  return { autoScaling: asgResult, terminationProtection };
}
