/**
 * The shared contract (docs/design.md §2): every entry point ends in one validated
 * `ResponseRequest`. Identifiers are checked strictly here, so a hostile value
 * never reaches an AWS call, an ARN, a log line or an S3 key.
 */
import { z } from 'zod';
import { ACTIONS } from './actions';

/** The containment actions, from their one declaration (./actions.ts); re-exported for existing importers. */
export { ACTIONS };
export type { ActionKey } from './actions';
export const SOURCES = ['guardduty', 'securityhub', 'manual', 'api'] as const;

/** Longest free-text field (reason, title) we accept. Longer input is rejected, not truncated. */
export const MAX_TEXT = 1024;

export const AccountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
// Commercial, GovCloud, China and ISO partitions: two-letter prefix, optional qualifiers, a word, a digit.
export const Region = z
  .string()
  .regex(/^[a-z]{2}(-(gov|iso[a-z]?))?-[a-z]+-\d{1,2}$/, 'must be an AWS region such as us-east-1');
export const InstanceId = z
  .string()
  .regex(/^i-([0-9a-f]{8}|[0-9a-f]{17})$/, 'must be an EC2 instance id (i- followed by 8 or 17 hex digits)');
export const FindingId = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9:/._-]+$/, 'must contain only letters, digits and : / . _ -');
export const RequestId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, 'must contain only letters, digits and . _ : -');
/**
 * Characters free text must never carry: C0 controls but tab and newline, DEL, the C1 controls (NEL among them),
 * the bidirectional marks, embeddings, overrides and isolates (Trojan Source: text that reads differently from
 * what it is), and the Unicode line and paragraph separators (a forged second log line).
 */
// eslint-disable-next-line no-control-regex
export const FORBIDDEN_TEXT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

/** Free text: bounded, no control, bidirectional-override or line-separator characters (log injection), never empty. */
export const Text = z
  .string()
  .min(1)
  .max(MAX_TEXT)
  .refine((t) => !FORBIDDEN_TEXT.test(t), 'must not contain control characters (C0/C1 controls, bidirectional overrides, line separators)');

export const Action = z.enum(ACTIONS);

export const Target = z
  .object({ accountId: AccountId, region: Region, instanceId: InstanceId })
  .strict();
export type Target = z.infer<typeof Target>;

export const FindingRef = z
  .object({
    id: FindingId,
    type: z.string().min(1).max(128).regex(/^[A-Za-z0-9:/!&._-]+$/, 'must be a GuardDuty finding type'),
    severity: z.number().min(0).max(10),
    title: Text,
    updatedAt: z.iso.datetime({ offset: true }),
  })
  .strict();
export type FindingRef = z.infer<typeof FindingRef>;

export const ResponseRequest = z
  .object({
    requestId: RequestId,
    source: z.enum(SOURCES),
    target: Target,
    finding: FindingRef.optional(),
    actions: z
      .array(Action)
      .min(1, 'must name at least one action')
      .max(ACTIONS.length)
      .refine((a) => new Set(a).size === a.length, 'must not repeat an action')
      .default([...ACTIONS]),
    reason: Text,
    requestedBy: Text,
  })
  .strict();
export type ResponseRequest = z.infer<typeof ResponseRequest>;
/** What callers may send: `actions` may be omitted and defaults to every action (ACTIONS). */
export type ResponseRequestInput = z.input<typeof ResponseRequest>;

/** Render a zod error as one line that names each failing field. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/**
 * Input of the release workflow (docs/design.md §3.5). `responseId` is the response to undo
 * (a ResponseRequest's requestId); `releaseId` names this release (and its execution).
 */
export const ReleaseRequest = z
  .object({
    releaseId: RequestId,
    responseId: RequestId,
    source: z.enum(['manual', 'api']),
    reason: Text,
    requestedBy: Text,
  })
  .strict();
export type ReleaseRequest = z.infer<typeof ReleaseRequest>;

/** A human decision on a response waiting at the approval gate (API and CLI). */
export const ApprovalDecision = z
  .object({
    responseId: RequestId,
    decision: z.enum(['approve', 'deny']),
    reason: Text,
    decidedBy: Text,
  })
  .strict();
export type ApprovalDecision = z.infer<typeof ApprovalDecision>;
