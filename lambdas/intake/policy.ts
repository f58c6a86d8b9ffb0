/**
 * Intake's policy (the `INTAKE_POLICY` environment variable, docs/design.md §2): which severities and
 * finding types automation acts on, and which accounts and regions cordon manages.
 */
import { z } from 'zod';
import { AccountId, Region } from '../shared/schemas';
import { rejectDecision, type RejectDecision } from './decisions';
import { FindingType } from './events';

/**
 * An entry of `allowTypes` / `denyTypes`. It matches a finding type when it is the exact
 * type, or when it ends in `/` or `:` and the type starts with it:
 * `Backdoor:EC2/` matches every `Backdoor:EC2/…`; `Trojan:` matches every Trojan type.
 */
export const TypePattern = FindingType;

export const IntakePolicy = z
  .object({
    /** Findings below this severity are ignored. 4 is the floor of GuardDuty's MEDIUM band. */
    severityThreshold: z.number().min(0).max(10).default(4),
    /**
     * Empty: every type in cordon's containment list. Non-empty: only matching types are
     * acted on, and a matching type outside the list is contained too. It never overrides the
     * direction rules: an inbound attack is not the instance's doing.
     */
    allowTypes: z.array(TypePattern).max(256).default([]),
    /** Matching types are ignored. Wins over `allowTypes`. */
    denyTypes: z.array(TypePattern).max(256).default([]),
    /** Accounts cordon manages; `undefined` = any. A target elsewhere is rejected. */
    allowedAccounts: z.array(AccountId).min(1).max(10_000).optional(),
    /** Regions cordon manages; `undefined` = any. A target elsewhere is rejected. */
    allowedRegions: z.array(Region).min(1).max(64).optional(),
  })
  .strict();
export type IntakePolicy = z.infer<typeof IntakePolicy>;
export type IntakePolicyInput = z.input<typeof IntakePolicy>;

export const DEFAULT_INTAKE_POLICY: IntakePolicy = IntakePolicy.parse({});

/** Exact match, or prefix match for patterns ending in `/` or `:`. */
export function matchesTypeList(type: string, patterns: readonly string[]): boolean {
  return patterns.some(
    (p) => p === type || ((p.endsWith('/') || p.endsWith(':')) && type.startsWith(p)),
  );
}

/** A reject naming `fields` when the account or region is outside the policy's scope; undefined when in scope. */
export function scopeCheck(
  accountId: string,
  region: string,
  policy: IntakePolicy,
  fields: { account: string; region: string },
): RejectDecision | undefined {
  if (policy.allowedAccounts && !policy.allowedAccounts.includes(accountId)) {
    return rejectDecision(`${fields.account}: account ${accountId} not managed by cordon (not in allowedAccounts)`);
  }
  if (policy.allowedRegions && !policy.allowedRegions.includes(region)) {
    return rejectDecision(`${fields.region}: region ${region} not managed by cordon (not in allowedRegions)`);
  }
  return undefined;
}
