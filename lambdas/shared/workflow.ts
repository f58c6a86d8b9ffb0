/**
 * Shapes that travel between the states of the response workflow
 * (state-machines/response.asl.json). Each task validates its input against
 * these at the edge; outputs are small: ids, not describe outputs.
 */
import { z } from 'zod';
import { ACTIONS, GATED_ACTIONS, type ActionKey } from './actions';
import { RequestId, ResponseRequest, Target } from './schemas';

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

/** Which actions this response runs: one boolean per action in the catalogue (./actions.ts). */
export const Plan = z.object(Object.fromEntries(ACTIONS.map((a) => [a, z.boolean()])) as Record<ActionKey, z.ZodBoolean>);
export type Plan = z.infer<typeof Plan>;

/** A plan deciding each action by `runs`: every action of the catalogue gets its boolean. */
export function planWhere(runs: (action: ActionKey) => boolean): Plan {
  return Object.fromEntries(ACTIONS.map((a) => [a, runs(a)])) as Plan;
}

/** True when the plan runs an action the approval gate holds back (GATED_ACTIONS). */
export function plansGatedAction(plan: Plan): boolean {
  return GATED_ACTIONS.some((a) => plan[a]);
}

export const TagMatch = z.object({ key: z.string().min(1).max(128), value: z.string().max(256) }).strict();
export type TagMatch = z.infer<typeof TagMatch>;

/**
 * The approval gate's decision for this response (docs/approval.md), made by CaptureBeforeState from
 * the hub's selectors and the before-state tags. Present only when the gate is configured.
 */
export const ApprovalPlan = z.object({
  /** True when a selector matched and a gated action (isolation, the role quarantine) is planned. */
  required: z.boolean(),
  /** The configured tag the instance carries (the first, in configuration order), or null. */
  matchedTag: TagMatch.nullable(),
  /**
   * Which selector chose the gate: `hub` (approval.requiredFor, hub configuration) or `tag` (a member-writable
   * instance tag); null when none matched. Absent in plans made before hub selectors existed.
   */
  matchedBy: z.enum(['hub', 'tag']).nullable().optional(),
  /** The hub selector that matched (`approval.requiredFor.<field>` contains `value`), or null. */
  matchedHub: z.object({ field: z.enum(['accounts', 'instanceIds']), value: z.string() }).nullable().optional(),
  timeoutSeconds: z.number().int().min(1).max(86400),
  /** The effective policy: the configured one for a hub-selected gate, always `approve` for a tag-selected one. */
  onTimeout: z.enum(['approve', 'deny']),
});
export type ApprovalPlan = z.infer<typeof ApprovalPlan>;

/**
 * What the approval task ends with (`$.gated.approval`): the SendTaskSuccess output of a human decision
 * (lambdas/shared/approval.ts), or the timeout policy applied by the state machine (`timedOut: true`).
 */
export const ApprovalResult = z.object({
  approved: z.boolean(),
  decidedBy: z.string(),
  reason: z.string(),
  decidedAt: z.string().optional(),
  timedOut: z.boolean().optional(),
});
export type ApprovalResult = z.infer<typeof ApprovalResult>;

/**
 * The hub exemption that matched this instance (lib/config.ts `exemptions`, docs/containment.md), and whether a
 * responder's manual or API request overrode it (then the instance is contained, and `exempt` is false).
 */
export const ExemptionMatch = z.object({
  field: z.enum(['accounts', 'instanceIds', 'autoScalingGroups']),
  value: z.string(),
  overridden: z.boolean(),
  /** `requestedBy` of the manual or API request that overrode it; null when not overridden. */
  overriddenBy: z.string().nullable(),
  overriddenBySource: z.enum(['manual', 'api']).nullable(),
});
export type ExemptionMatch = z.infer<typeof ExemptionMatch>;

/** What CaptureBeforeState returns into `$.before`. The full before-state is in S3 and the ledger. */
export const BeforeSummary = z.object({
  incidentId: IncidentId,
  /** True when a hub exemption matched and no responder overrode it: evidence only, nothing disruptive. */
  exempt: z.boolean(),
  /** The hub exemption that matched (null or absent: none). */
  exemption: ExemptionMatch.nullable().optional(),
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
  /** Only when the approval gate is configured (lib/config.ts `approval`). */
  approval: ApprovalPlan.optional(),
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
