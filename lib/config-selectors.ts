/**
 * The hub-side selectors of cordon's configuration (lib/config.ts): which instances are exempt, and
 * which wait at the approval gate. Exemptions are hub configuration only (docs/design.md §3.2); a tag,
 * which the member account can write, may select an approval gate but never veto containment.
 */
import { z } from 'zod';
import { AccountId, InstanceId } from '../lambdas/shared/schemas';

export const unique = <T>(items: readonly T[]): boolean => new Set(items).size === items.length;

/** One instance tag, matched exactly (key and value), as EC2 reports it. */
const TagMatch = z
  .object({
    key: z.string().min(1, 'must not be empty').max(128),
    value: z.string().max(256),
  })
  .strict();

/**
 * An Auto Scaling group, as `<accountId>/<groupName>`: group names are unique only within an account.
 * Membership is read from AWS (DescribeAutoScalingInstances), never from a tag.
 */
const AutoScalingGroupRef = z
  .string()
  .regex(
    /^\d{12}\/[^\r\n\t/][^\r\n\t]{0,254}$/,
    'must be <accountId>/<groupName> (123456789012/web-asg): Auto Scaling group names are unique only within an account',
  );

/**
 * Instances cordon never isolates or quarantines (docs/containment.md, docs/design.md §3.2): hub configuration
 * only, never a tag the member account can write. An exempt instance still gets its evidence (before-state,
 * flow logs, snapshots, console output); a responder's manual or API request overrides the exemption.
 */
export const ExemptionsConfig = z
  .object({
    /** Every instance of these accounts. */
    accounts: z.array(AccountId).max(1000).refine(unique, 'must not repeat an account').default([]),
    /** These instances. */
    instanceIds: z.array(InstanceId).max(1000).refine(unique, 'must not repeat an instance id').default([]),
    /** Instances that AWS reports as members of these groups, as `<accountId>/<groupName>`. */
    autoScalingGroups: z.array(AutoScalingGroupRef).max(1000).refine(unique, 'must not repeat a group').default([]),
  })
  .strict();

/**
 * The approval gate (issue 5, docs/approval.md): for selected instances, network isolation, the role
 * quarantine and leaving Auto Scaling / target groups wait for a human decision; evidence collection does
 * not wait. Nothing selected: no gate.
 */
export const ApprovalConfig = z
  .object({
    /**
     * Instances carrying any of these tags (exact key and value) need a human decision before containment.
     * Tags are member-writable, so a tag can only add a wait: a tag-selected gate always approves on timeout.
     */
    requiredForTags: z
      .array(TagMatch)
      .max(50, 'must name at most 50 tags')
      .refine((tags) => unique(tags.map((t) => `${t.key}=${t.value}`)), 'must not repeat a tag')
      .default([]),
    /** Hub-side selectors: instances of these accounts, or these instances, need a human decision. */
    requiredFor: z
      .object({
        accounts: z.array(AccountId).max(1000).refine(unique, 'must not repeat an account').default([]),
        instanceIds: z.array(InstanceId).max(1000).refine(unique, 'must not repeat an instance id').default([]),
      })
      .strict()
      .prefault({}),
    /** How long containment waits for the decision (1 minute to 24 hours). */
    timeoutSeconds: z
      .number()
      .int('must be a whole number')
      .min(60, 'must be at least 60 (one minute)')
      .max(86400, 'must be at most 86400 (24 hours): evidence sharing waits for the decision too')
      .default(1800),
    /**
     * What happens when nobody decides in time on a gate selected by `requiredFor` (hub configuration): contain
     * anyway (`approve`) or leave the instance in service (`deny`). Gates selected by `requiredForTags` always
     * approve on timeout: only a human's deny stops containment.
     */
    onTimeout: z.enum(['approve', 'deny']).default('approve'),
  })
  .strict();
