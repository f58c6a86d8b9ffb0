/**
 * How a release ended (docs/design.md §3.5), from the workflow state alone: `released` only when
 * every part was given back, `partially-released` when some was, `failed` when none was. Pure.
 */
import { z } from 'zod';
import { Containment, ReleaseRequest } from '../shared/release';

const Part = z.object({ status: z.string(), error: z.string().optional(), cause: z.string().optional() }).passthrough();

/** The release workflow's state when it reaches RecordRelease. */
export const ReleaseState = z
  .object({
    release: ReleaseRequest,
    containment: Containment,
    network: z.array(Part.extend({ networkInterfaceId: z.string() })).optional(),
    role: Part.optional(),
    instance: Part.optional(),
  })
  .passthrough();
export type ReleaseState = z.infer<typeof ReleaseState>;

export type ReleaseOutcome = 'released' | 'partially-released' | 'failed';

export interface ReleaseFailure {
  part: 'network' | 'role' | 'instance' | 'record';
  error: string;
  cause: string;
}

export interface ReleaseDecision {
  outcome: ReleaseOutcome;
  failures: ReleaseFailure[];
  summary: string;
}

const short = (text: string | undefined, max = 600): string => {
  const t = text ?? '';
  return t.length > max ? `${t.slice(0, max)}…` : t;
};

/** A Lambda error's Cause is JSON (`errorType`, `errorMessage`, `trace`): keep the message, never the stack. */
export function causeMessage(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (parsed && typeof parsed.errorMessage === 'string') return short(parsed.errorMessage, 1000);
  } catch {
    // not JSON: the message itself
  }
  return short(cause, 1000);
}

/** How the release ended, from the workflow state alone (pure). A part that failed is never reported as given back. */
export function decideRelease(state: ReleaseState): ReleaseDecision {
  const failures: ReleaseFailure[] = [];
  const given: string[] = [];
  const results = new Map((state.network ?? []).map((r) => [r.networkInterfaceId, r]));
  for (const eni of state.containment.interfaces) {
    const r = results.get(eni.networkInterfaceId);
    if (!r) failures.push({ part: 'network', error: 'NotAttempted', cause: `${eni.networkInterfaceId}: no restore result` });
    else if (r.status === 'restored') given.push(`network (${eni.networkInterfaceId})`);
    else failures.push({ part: 'network', error: r.error ?? 'Error', cause: causeMessage(r.cause) || `${eni.networkInterfaceId}: ${r.status}` });
  }
  for (const part of ['role', 'instance'] as const) {
    const r = state[part];
    if (!r) failures.push({ part, error: 'NotAttempted', cause: `no ${part} restore result` });
    else if (r.status === 'succeeded') given.push(part);
    else if (r.status !== 'not-applicable') failures.push({ part, error: r.error ?? 'Error', cause: causeMessage(r.cause) || r.status });
  }
  const outcome: ReleaseOutcome = failures.length === 0 ? 'released' : given.length ? 'partially-released' : 'failed';
  const failed = [...new Set(failures.map((f) => f.part))];
  const summary =
    outcome === 'released'
      ? `released: the before-state ${state.containment.restoreFrom.key} is restored; snapshots, evidence and flow logs are kept`
      : `${outcome}: ${failed.join(', ')} not restored${given.length ? `; ${given.join(', ')} restored` : '; nothing was given back'}`;
  return { outcome, failures, summary };
}
