/**
 * PreserveInstance (docs/design.md §3.3, issue 3): the rest of preservation, in
 * parallel with containment. Auto Scaling detachment and termination
 * protection already happened in ProtectInstance. Here:
 *   - instance-initiated shutdown → `stop` (a `shutdown -h` from the attacker must not terminate);
 *   - DeleteOnTermination=false on every attached EBS volume;
 *   - deregistration from every target group the instance is registered in
 *     directly (the Auto Scaling group's own target groups were left with the group).
 * Every original value is in the before-state or in this result, so release can restore it.
 */
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { ModifyInstanceAttributeCommand } from '@aws-sdk/client-ec2';
import {
  DeregisterTargetsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { z } from 'zod';
import type { ClientFactory, TargetClients } from '../shared/clients';
import { errorSummary, isTransient } from '../shared/errors';
import { TaskBase, VolumeId } from '../shared/workflow';

export const PreserveInput = TaskBase.extend({
  volumes: z.array(z.object({ volumeId: VolumeId, deviceName: z.string().nullable() })),
  autoScalingGroupName: z.string().min(1).max(255).nullable(),
  /** Only when the network is being isolated: a responder asking for evidence alone keeps the instance in service. */
  deregisterFromTargetGroups: z.boolean().optional(),
});
export type PreserveInput = z.infer<typeof PreserveInput>;

type StepResult = { status: 'done' } | { status: 'failed'; error: string; cause: string };

export interface Registration {
  targetGroupArn: string;
  port: number | null;
  availabilityZone: string | null;
}

export interface PreserveResult {
  action: 'preserve';
  status: 'succeeded' | 'failed';
  shutdownBehavior: StepResult;
  deleteOnTermination: Array<{ volumeId: string; deviceName: string | null } & StepResult>;
  targetGroups:
    | { status: 'done'; deregistered: Registration[] }
    | { status: 'skipped'; reason: string }
    | { status: 'failed'; error: string; cause: string };
  error?: string;
  cause?: string;
}

/** Run one preservation step; a non-transient failure is recorded, and the others still run. */
async function attempt(step: () => Promise<unknown>): Promise<StepResult> {
  try {
    await step();
    return { status: 'done' };
  } catch (err) {
    if (isTransient(err)) throw err;
    return { status: 'failed', ...errorSummary(err) };
  }
}

async function directRegistrations(
  elb: ElasticLoadBalancingV2Client,
  autoScaling: TargetClients['autoScaling'],
  instanceId: string,
  groupName: string | null,
): Promise<Registration[]> {
  const viaGroup = new Set<string>();
  if (groupName) {
    const out = await autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] }));
    for (const arn of out.AutoScalingGroups?.[0]?.TargetGroupARNs ?? []) viaGroup.add(arn);
  }
  const found: Registration[] = [];
  let Marker: string | undefined;
  do {
    const page = await elb.send(new DescribeTargetGroupsCommand({ Marker, PageSize: 400 }));
    for (const tg of page.TargetGroups ?? []) {
      if (!tg.TargetGroupArn || tg.TargetType !== 'instance' || viaGroup.has(tg.TargetGroupArn)) continue;
      const health = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn }));
      for (const d of health.TargetHealthDescriptions ?? []) {
        if (d.Target?.Id !== instanceId) continue;
        if (d.TargetHealth?.State === 'draining') continue; // already leaving
        found.push({ targetGroupArn: tg.TargetGroupArn, port: d.Target.Port ?? null, availabilityZone: d.Target.AvailabilityZone ?? null });
      }
    }
    Marker = page.NextMarker;
  } while (Marker);
  return found;
}

export async function preserveInstance(input: PreserveInput, deps: { factory: ClientFactory }): Promise<PreserveResult> {
  const { ec2, elb, autoScaling } = await deps.factory.forTarget(input.target, `cordon-${input.requestId}`);
  const instanceId = input.target.instanceId;

  const shutdownBehavior = await attempt(() =>
    ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: instanceId, InstanceInitiatedShutdownBehavior: { Value: 'stop' } })),
  );

  const deleteOnTermination: PreserveResult['deleteOnTermination'] = [];
  for (const v of input.volumes) {
    if (!v.deviceName) {
      deleteOnTermination.push({ ...v, status: 'failed', error: 'NoDeviceName', cause: 'the volume has no device name to address it by' });
      continue;
    }
    const deviceName = v.deviceName;
    const result = await attempt(() =>
      ec2.send(
        new ModifyInstanceAttributeCommand({
          InstanceId: instanceId,
          BlockDeviceMappings: [{ DeviceName: deviceName, Ebs: { VolumeId: v.volumeId, DeleteOnTermination: false } }],
        }),
      ),
    );
    deleteOnTermination.push({ ...v, ...result });
  }

  let targetGroups: PreserveResult['targetGroups'] = { status: 'skipped', reason: 'isolation not requested: the instance stays in service' };
  if (input.deregisterFromTargetGroups !== false) {
    try {
      const registrations = await directRegistrations(elb, autoScaling, instanceId, input.autoScalingGroupName);
      for (const r of registrations) {
        await elb.send(
          new DeregisterTargetsCommand({
            TargetGroupArn: r.targetGroupArn,
            Targets: [
              {
                Id: instanceId,
                ...(r.port !== null ? { Port: r.port } : {}),
                ...(r.availabilityZone ? { AvailabilityZone: r.availabilityZone } : {}),
              },
            ],
          }),
        );
      }
      targetGroups = { status: 'done', deregistered: registrations };
    } catch (err) {
      if (isTransient(err)) throw err;
      targetGroups = { status: 'failed', ...errorSummary(err) };
    }
  }

  const failures = [
    shutdownBehavior.status === 'failed' ? `shutdown behaviour: ${shutdownBehavior.error}` : null,
    ...deleteOnTermination.filter((d) => d.status === 'failed').map((d) => `DeleteOnTermination on ${d.volumeId}: ${'error' in d ? d.error : ''}`),
    targetGroups.status === 'failed' ? `target groups: ${targetGroups.error}` : null,
  ].filter((x): x is string => x !== null);

  return {
    action: 'preserve',
    status: failures.length ? 'failed' : 'succeeded',
    shutdownBehavior,
    deleteOnTermination,
    targetGroups,
    ...(failures.length ? { error: 'PreservationIncomplete', cause: failures.join('; ') } : {}),
  };
}
