/**
 * Intake's verdicts: `respond` (with the validated `ResponseRequest`), `ignore` or `reject`, each
 * with a reason that starts with the field it is about. Reasons are stripped of control
 * characters and bounded, since they go to logs and the ledger.
 */
import type { z } from 'zod';
import type { ActionKey } from '../shared/actions';
import { describeZodError, MAX_TEXT, ResponseRequest, type Target } from '../shared/schemas';

export interface RespondDecision {
  readonly decision: 'respond';
  readonly target: Target;
  readonly actions: ActionKey[];
  readonly reason: string;
  /** The validated request to start the response workflow with. */
  readonly request: ResponseRequest;
}
export interface IgnoreDecision {
  readonly decision: 'ignore';
  readonly reason: string;
}
export interface RejectDecision {
  readonly decision: 'reject';
  readonly reason: string;
}
export type Decision = RespondDecision | IgnoreDecision | RejectDecision;
export type DecisionKind = Decision['decision'];

/** Control characters out, length bounded: reasons end up in logs and the ledger. */
export function cleanReason(reason: string): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = reason.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return cleaned.length > MAX_TEXT ? `${cleaned.slice(0, MAX_TEXT - 1)}…` : cleaned;
}

export function ignoreDecision(reason: string): IgnoreDecision {
  return { decision: 'ignore', reason: cleanReason(reason) };
}

export function rejectDecision(reason: string): RejectDecision {
  return { decision: 'reject', reason: cleanReason(reason) };
}

/** Respond with `input` once it passes the `ResponseRequest` schema; reject otherwise. */
export function respondWith(input: z.input<typeof ResponseRequest>): Decision {
  const parsed = ResponseRequest.safeParse(input);
  // Unreachable for inputs that passed the event schemas; kept so nothing unvalidated is ever started.
  if (!parsed.success) return rejectDecision(`request: ${describeZodError(parsed.error)}`);
  const request = parsed.data;
  return { decision: 'respond', target: request.target, actions: request.actions, reason: request.reason, request };
}

/** The overall verdict of several decisions: respond if any responds, else ignore if any ignores, else reject. */
export function overallDecision(decisions: readonly Decision[]): DecisionKind {
  if (decisions.some((d) => d.decision === 'respond')) return 'respond';
  if (decisions.some((d) => d.decision === 'ignore')) return 'ignore';
  return 'reject';
}

// ---------------------------------------------------------------------------
// Rendering values in reasons
// ---------------------------------------------------------------------------

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function describeKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** A short, safe rendering of an attacker-controlled value for a reason string. */
export function quote(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  return value === undefined ? 'missing' : describeKind(value);
}
