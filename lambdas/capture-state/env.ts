/** capture-state's environment, set by the hub stack through lib/environment.ts. */
import { z } from 'zod';
import { envInt, envJson, envText, memberAccess, MemberAccessVariables } from '../shared/env';
import { TagMatch } from '../shared/workflow';
import type { ApprovalPolicy, CaptureConfig } from './capture-state';

/** The approval gate (lib/config.ts `approval`). With no tags there is no gate, and the other two may be left out. */
const ApprovalVariables = {
  APPROVAL_REQUIRED_FOR_TAGS: envJson(z.array(TagMatch)),
  APPROVAL_TIMEOUT_SECONDS: envInt(1, 86400).optional(),
  APPROVAL_ON_TIMEOUT: z.enum(['approve', 'deny']).optional(),
};
type ApprovalValues = z.output<z.ZodObject<typeof ApprovalVariables>>;

function requireGateSettings(v: ApprovalValues, ctx: z.RefinementCtx): void {
  if (v.APPROVAL_REQUIRED_FOR_TAGS.length === 0) return;
  for (const name of ['APPROVAL_TIMEOUT_SECONDS', 'APPROVAL_ON_TIMEOUT'] as const) {
    if (v[name] === undefined) ctx.addIssue({ code: 'custom', path: [name], message: 'is not set' });
  }
}

function approvalOf(v: ApprovalValues): ApprovalPolicy | undefined {
  if (v.APPROVAL_REQUIRED_FOR_TAGS.length === 0 || v.APPROVAL_TIMEOUT_SECONDS === undefined || v.APPROVAL_ON_TIMEOUT === undefined) {
    return undefined;
  }
  return { requiredForTags: v.APPROVAL_REQUIRED_FOR_TAGS, timeoutSeconds: v.APPROVAL_TIMEOUT_SECONDS, onTimeout: v.APPROVAL_ON_TIMEOUT };
}

/** The approval gate alone; no tags, no gate. */
export const ApprovalEnv = z.object(ApprovalVariables).superRefine(requireGateSettings).transform(approvalOf);

export const Env = z
  .object({
    ...MemberAccessVariables,
    LEDGER_TABLE: envText,
    EVIDENCE_BUCKET: envText,
    EXEMPT_TAG_KEY: envText,
    EXEMPT_TAG_VALUE: envText,
    SETTLE_SECONDS: envInt(0, 300),
    ...ApprovalVariables,
  })
  .superRefine(requireGateSettings)
  .transform((v): { access: ReturnType<typeof memberAccess>; config: CaptureConfig } => ({
    access: memberAccess(v),
    config: {
      ledgerTable: v.LEDGER_TABLE,
      evidenceBucket: v.EVIDENCE_BUCKET,
      exemptTagKey: v.EXEMPT_TAG_KEY,
      exemptTagValue: v.EXEMPT_TAG_VALUE,
      settleSeconds: v.SETTLE_SECONDS,
      partition: v.PARTITION,
      approval: approvalOf(v),
    },
  }));
