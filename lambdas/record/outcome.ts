/**
 * The outcome of a response, decided from the workflow state alone (pure).
 * `contained` only when every requested action succeeded; `failed` when none
 * did; `partially-contained` otherwise, naming what failed and why. A branch
 * that failed is never reported as success.
 */
import { z } from 'zod';
import { BeforeSummary } from '../shared/workflow';

export type Outcome = 'contained' | 'partially-contained' | 'failed' | 'exempt' | 'duplicate';
export type ActionStatus = 'succeeded' | 'failed' | 'not-applicable' | 'skipped';

export interface ActionReport {
  action: string;
  status: ActionStatus;
  detail: unknown;
}
export interface Failure {
  action: string;
  error: string;
  cause: string;
}

const StepFailure = z.object({ Error: z.string().optional(), Cause: z.string().optional() }).passthrough();
const Branch = z.object({ action: z.string(), status: z.string() }).passthrough();

/** The workflow state as RecordOutcome receives it: loosely typed, because any step may have failed. */
export const WorkflowState = z
  .object({
    request: z.unknown(),
    before: BeforeSummary.optional(),
    protect: z
      .object({
        autoScaling: z.object({ status: z.string() }).passthrough(),
        terminationProtection: z.object({ status: z.string(), error: z.string().optional(), cause: z.string().optional() }),
      })
      .optional(),
    protectFailure: StepFailure.optional(),
    branches: z.array(Branch).optional(),
    failure: StepFailure.optional(),
  })
  .passthrough();
export type WorkflowState = z.infer<typeof WorkflowState>;

const CONTAINMENT_ACTIONS = new Set(['isolate', 'quarantineRole']);

function short(text: string | undefined, max = 500): string {
  const t = text ?? '';
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

/** Where a failed ENI was left: said first, because an ENI left in the allow-all group is wide open. */
function leftInNote(leftIn: unknown): string {
  if (leftIn === 'original-groups') return 'not isolated; its original security groups were put back: ';
  if (typeof leftIn === 'string') return 'MAY BE LEFT OPEN in the allow-all untrack group, check it now: ';
  return '';
}

/** Interpret one Parallel branch result. */
export function reportBranch(branch: z.infer<typeof Branch>): { report: ActionReport; failures: Failure[] } {
  const { action, status } = branch;
  if (status === 'skipped') return { report: { action, status: 'skipped', detail: branch }, failures: [] };
  if (status === 'not-applicable') return { report: { action, status: 'not-applicable', detail: branch }, failures: [] };
  if (status === 'failed') {
    const failure = { action, error: String(branch.error ?? 'Error'), cause: short(String(branch.cause ?? '')) };
    return { report: { action, status: 'failed', detail: branch }, failures: [failure] };
  }
  if (action === 'isolate' && status === 'attempted') {
    const interfaces = z.array(z.object({ networkInterfaceId: z.string(), status: z.string() }).passthrough()).parse(branch.interfaces ?? []);
    const failed = interfaces.filter((i) => i.status !== 'isolated');
    const failures = failed.map((i) => ({
      action: 'isolate',
      error: String(i.error ?? 'Error'),
      cause: `${i.networkInterfaceId}: ${leftInNote(i.leftIn)}${short(String(i.cause ?? ''))}`,
    }));
    if (interfaces.length === 0) {
      failures.push({ action: 'isolate', error: 'NoInterfaces', cause: 'no network interface was isolated' });
    }
    return { report: { action, status: failures.length ? 'failed' : 'succeeded', detail: branch }, failures };
  }
  if (status === 'succeeded' || status === 'started') return { report: { action, status: 'succeeded', detail: branch }, failures: [] };
  return {
    report: { action, status: 'failed', detail: branch },
    failures: [{ action, error: 'UnknownBranchStatus', cause: `branch reported status "${status}"` }],
  };
}

export interface Decision {
  outcome: Outcome;
  actions: ActionReport[];
  failures: Failure[];
  summary: string;
}

export function decideOutcome(state: WorkflowState): Decision {
  const failures: Failure[] = [];
  const actions: ActionReport[] = [];

  if (!state.before) {
    const f = state.failure;
    failures.push({ action: 'captureBeforeState', error: f?.Error ?? 'Error', cause: short(f?.Cause) });
    return { outcome: 'failed', actions, failures, summary: `nothing was changed: the before-state could not be captured (${f?.Error ?? 'Error'})` };
  }
  if (state.before.duplicate) {
    return {
      outcome: 'duplicate',
      actions,
      failures,
      summary: `repeat delivery: appended to the incident (status ${state.before.incidentStatus}, contained by request ${state.before.ownerRequestId}); nothing re-run`,
    };
  }
  if (state.before.exempt) {
    return { outcome: 'exempt', actions, failures, summary: 'the instance carries the exemption tag: recorded and notified, not contained' };
  }

  if (state.protectFailure) {
    failures.push({ action: 'protect', error: state.protectFailure.Error ?? 'Error', cause: short(state.protectFailure.Cause) });
  } else if (state.protect?.terminationProtection.status === 'failed') {
    failures.push({
      action: 'protect',
      error: state.protect.terminationProtection.error ?? 'Error',
      cause: `termination protection was not enabled: ${short(state.protect.terminationProtection.cause)}`,
    });
  }

  if (!state.branches) {
    const f = state.failure;
    failures.push({ action: 'contain', error: f?.Error ?? 'Error', cause: short(f?.Cause) });
    return { outcome: 'failed', actions, failures, summary: 'the containment branches did not run to completion' };
  }
  for (const branch of state.branches) {
    const { report, failures: f } = reportBranch(branch);
    actions.push(report);
    failures.push(...f);
  }

  const requested = actions.filter((a) => a.status !== 'skipped');
  const succeeded = requested.filter((a) => a.status === 'succeeded' || a.status === 'not-applicable');
  const containmentSucceeded = requested.some((a) => CONTAINMENT_ACTIONS.has(a.action) && a.status === 'succeeded');
  const containmentRequested = requested.some((a) => CONTAINMENT_ACTIONS.has(a.action));
  let outcome: Outcome;
  if (failures.length === 0) outcome = 'contained';
  else if (succeeded.length === 0 || (containmentRequested && !containmentSucceeded)) outcome = 'failed';
  else outcome = 'partially-contained';

  const failedNames = [...new Set(failures.map((f) => f.action))];
  const summary =
    outcome === 'contained'
      ? `all requested actions succeeded: ${succeeded.map((a) => a.action).join(', ')}`
      : `${outcome}: ${failedNames.join(', ')} failed${succeeded.length ? `; ${succeeded.map((a) => a.action).join(', ')} succeeded` : ''}`;
  return { outcome, actions, failures, summary };
}
