/** capture-state's environment, set by the hub stack through lib/environment.ts. */
import { z } from 'zod';
import { envInt, envJson, envText, memberAccess, MemberAccessVariables } from '../shared/env';
import { AccountId, InstanceId } from '../shared/schemas';
import { TagMatch } from '../shared/workflow';
import type { ApprovalPolicy, CaptureConfig, Exemptions } from './capture-state';

/** The hub-side approval selectors (lib/config.ts `approval.requiredFor`). */
const HubSelectors = z.object({ accounts: z.array(AccountId), instanceIds: z.array(InstanceId) }).strict();

/** The exemptions (lib/config.ts `exemptions`): hub configuration, never a tag. */
const ExemptionsJson = z
  .object({
    accounts: z.array(AccountId),
    instanceIds: z.array(InstanceId),
    autoScalingGroups: z.array(z.string().regex(/^\d{12}\/.+$/, 'must be <accountId>/<groupName>')),
  })
  .strict();

/**
 * The approval gate (lib/config.ts `approval`). With no selector (no tags, no hub-side accounts or instance ids)
 * there is no gate, and the timeout settings may be left out.
 */
const ApprovalVariables = {
  APPROVAL_REQUIRED_FOR_TAGS: envJson(z.array(TagMatch)),
  APPROVAL_REQUIRED_FOR: envJson(HubSelectors).optional(),
  APPROVAL_TIMEOUT_SECONDS: envInt(1, 86400).optional(),
  APPROVAL_ON_TIMEOUT: z.enum(['approve', 'deny']).optional(),
};
type ApprovalValues = z.output<z.ZodObject<typeof ApprovalVariables>>;

const NO_HUB_SELECTORS = { accounts: [], instanceIds: [] };

function selects(v: ApprovalValues): boolean {
  const hub = v.APPROVAL_REQUIRED_FOR ?? NO_HUB_SELECTORS;
  return v.APPROVAL_REQUIRED_FOR_TAGS.length + hub.accounts.length + hub.instanceIds.length > 0;
}

function requireGateSettings(v: ApprovalValues, ctx: z.RefinementCtx): void {
  if (!selects(v)) return;
  for (const name of ['APPROVAL_TIMEOUT_SECONDS', 'APPROVAL_ON_TIMEOUT'] as const) {
    if (v[name] === undefined) ctx.addIssue({ code: 'custom', path: [name], message: 'is not set' });
  }
}

function approvalOf(v: ApprovalValues): ApprovalPolicy | undefined {
  if (!selects(v) || v.APPROVAL_TIMEOUT_SECONDS === undefined || v.APPROVAL_ON_TIMEOUT === undefined) return undefined;
  return {
    requiredForTags: v.APPROVAL_REQUIRED_FOR_TAGS,
    requiredFor: v.APPROVAL_REQUIRED_FOR ?? NO_HUB_SELECTORS,
    timeoutSeconds: v.APPROVAL_TIMEOUT_SECONDS,
    onTimeout: v.APPROVAL_ON_TIMEOUT,
  };
}

/** The approval gate alone; nothing selected, no gate. */
export const ApprovalEnv = z.object(ApprovalVariables).superRefine(requireGateSettings).transform(approvalOf);

export const Env = z
  .object({
    ...MemberAccessVariables,
    LEDGER_TABLE: envText,
    EVIDENCE_BUCKET: envText,
    EXEMPTIONS: envJson(ExemptionsJson),
    SETTLE_SECONDS: envInt(0, 300),
    ...ApprovalVariables,
  })
  .superRefine(requireGateSettings)
  .transform((v): { access: ReturnType<typeof memberAccess>; config: CaptureConfig } => ({
    access: memberAccess(v),
    config: {
      ledgerTable: v.LEDGER_TABLE,
      evidenceBucket: v.EVIDENCE_BUCKET,
      exemptions: v.EXEMPTIONS satisfies Exemptions,
      settleSeconds: v.SETTLE_SECONDS,
      partition: v.PARTITION,
      approval: approvalOf(v),
    },
  }));
