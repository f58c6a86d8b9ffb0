/**
 * Shapes that travel between the states of the response workflow
 * (state-machines/response.asl.json). Each task validates its input against
 * these at the edge; outputs are small: ids, not describe outputs.
 */
import { z } from 'zod';
import { ACTIONS, RequestId, ResponseRequest, Target } from './schemas';

export const VpcId = z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'must be a VPC id');
export const NetworkInterfaceId = z.string().regex(/^eni-[0-9a-f]{8,17}$/, 'must be a network interface id');
export const SecurityGroupId = z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'must be a security group id');
export const SnapshotId = z.string().regex(/^snap-[0-9a-f]{8,17}$/, 'must be a snapshot id');
export const VolumeId = z.string().regex(/^vol-[0-9a-f]{8,17}$/, 'must be a volume id');
export const IncidentId = z.string().regex(/^inc-\d{12}-[a-z0-9-]+-i-[0-9a-f]{8,17}$/, 'must be a cordon incident id');

export const InterfaceSummary = z.object({
  networkInterfaceId: NetworkInterfaceId,
  vpcId: VpcId,
  deviceIndex: z.number().int().min(0),
  groupIds: z.array(SecurityGroupId),
  ipv6: z.boolean(),
  /** Established-TCP idle timeout before cordon touched it; null when EC2 reports none (default 432000 s). */
  tcpEstablishedTimeout: z.number().int().nullable(),
});
export type InterfaceSummary = z.infer<typeof InterfaceSummary>;

export const ProfileSummary = z.object({
  associationId: z.string().min(1).max(64),
  arn: z.string().min(1).max(2048),
});
export type ProfileSummary = z.infer<typeof ProfileSummary>;

export const Plan = z.object(Object.fromEntries(ACTIONS.map((a) => [a, z.boolean()])) as Record<
  (typeof ACTIONS)[number],
  z.ZodBoolean
>);
export type Plan = z.infer<typeof Plan>;

/** What CaptureBeforeState returns into `$.before`. The full before-state is in S3 and the ledger. */
export const BeforeSummary = z.object({
  incidentId: IncidentId,
  exempt: z.boolean(),
  /** Another request owns containment of this incident: this one is appended and notified, nothing else. */
  duplicate: z.boolean(),
  ownerRequestId: z.string(),
  incidentStatus: z.string(),
  deliveries: z.number().int().min(0),
  instanceArn: z.string(),
  findingId: z.string().nullable(),
  autoScalingGroupName: z.string().nullable(),
  profile: ProfileSummary.nullable(),
  interfaces: z.array(InterfaceSummary),
  volumes: z.array(z.object({ volumeId: VolumeId, deviceName: z.string().nullable() })),
  settleSeconds: z.number().int().min(0),
  plan: Plan,
  beforeStateKey: z.string(),
});
export type BeforeSummary = z.infer<typeof BeforeSummary>;

/** Fields every target-facing task receives. */
export const TaskBase = z.object({
  target: Target,
  incidentId: IncidentId,
  requestId: RequestId,
});
export type TaskBase = z.infer<typeof TaskBase>;

export const CaptureInput = z.object({ request: z.unknown() });

export { ResponseRequest };
