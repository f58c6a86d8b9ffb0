/**
 * The outcome of a response, decided from the workflow state alone (pure).
 * `contained` only when every requested action succeeded; `failed` when none
 * did; `partially-contained` otherwise, naming what failed and why. A branch
 * that failed is never reported as success.
 */
import { z } from 'zod';
import { ACTIONS, CONTAINMENT_ACTIONS as CONTAINMENT_KEYS, GATED_ACTIONS } from '../shared/actions';
import { ApprovalResult, BeforeSummary } from '../shared/workflow';

/**
 * `declined`: the approval gate's decision (a responder's denial, or a timeout with onTimeout=deny) kept
 * isolation and the role quarantine from running; the evidence actions ran. Neither a failure nor containment.
 */
export type Outcome = 'contained' | 'partially-contained' | 'failed' | 'exempt' | 'duplicate' | 'declined';
export type ActionStatus = 'succeeded' | 'failed' | 'not-applicable' | 'skipped' | 'declined';

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
const ProtectResult = z.object({
  autoScaling: z.object({ status: z.string() }).passthrough(),
  terminationProtection: z.object({ status: z.string(), error: z.string().optional(), cause: z.string().optional() }),
});

/**
 * The gated-containment branch of `Contain` (state-machines/response.asl.json, `GateClosed`): the
 * approval (when one was needed), ProtectAfterApproval's result, and the isolate, quarantine and
 * leave-target-groups results. Without a gate, `approval` is absent and `branches` ran at once.
 */
const Gate = z
  .object({
    gate: z.literal('approval'),
    approval: ApprovalResult.optional(),
    timeout: StepFailure.optional(),
    approvalFailure: StepFailure.optional(),
    protect: ProtectResult.optional(),
    protectFailure: StepFailure.optional(),
    branches: z.array(Branch).optional(),
  })
  .passthrough();
type Gate = z.infer<typeof Gate>;

/** The workflow state as RecordOutcome receives it: loosely typed, because any step may have failed. */
export const WorkflowState = z
  .object({
    request: z.unknown(),
    before: BeforeSummary.optional(),
    protect: ProtectResult.optional(),
    protectFailure: StepFailure.optional(),
    branches: z.array(z.union([Gate, Branch])).optional(),
    failure: StepFailure.optional(),
  })
  .passthrough();
export type WorkflowState = z.infer<typeof WorkflowState>;

/** The actions that count towards `contained`, from the catalogue (lambdas/shared/actions.ts). */
const CONTAINMENT_ACTIONS = new Set<string>(CONTAINMENT_KEYS);
// What the approval gate holds back is the catalogue's GATED_ACTIONS: the preserve branch's target-group step waits too (LeaveTargetGroups).

/** The approval as the outcome reports it. */
export interface ApprovalReport {
  status: 'approved' | 'denied' | 'timed-out' | 'failed';
  /** What the workflow applied. */
  applied: 'approve' | 'deny' | null;
  decidedBy: string | null;
  reason: string | null;
  decidedAt: string | null;
  matchedTag: { key: string; value: string } | null;
}

type BranchResult = z.infer<typeof Branch>;
type StepFailure = z.infer<typeof StepFailure>;

/** The workflow state with the gate opened up: protect lifted, its branches in line with the others. */
interface OpenedState {
  protect: WorkflowState['protect'];
  protectFailure: StepFailure | undefined;
  branches: BranchResult[] | undefined;
  approval: ApprovalReport | undefined;
}

function isGate(b: BranchResult | Gate): b is Gate {
  return (b as { gate?: unknown }).gate === 'approval';
}

function approvalReport(gate: Gate, before: BeforeSummary): ApprovalReport | undefined {
  const matchedTag = before.approval?.matchedTag ?? null;
  if (gate.approvalFailure) {
    const f = gate.approvalFailure;
    return {
      status: 'failed',
      applied: null,
      decidedBy: 'cordon (the approval could not be requested)',
      reason: `${f.Error ?? 'Error'}: ${short(f.Cause, 300)}`,
      decidedAt: null,
      matchedTag,
    };
  }
  const a = gate.approval;
  if (!a) return undefined;
  return {
    status: a.timedOut ? 'timed-out' : a.approved ? 'approved' : 'denied',
    applied: a.approved ? 'approve' : 'deny',
    decidedBy: a.decidedBy,
    reason: a.reason,
    decidedAt: a.decidedAt ?? null,
    matchedTag,
  };
}

/**
 * The preserve branch never waits, so for a gated response it runs without deregistering from target
 * groups; LeaveTargetGroups (after approval) does that. One `preserve` action is reported, with the
 * target groups from whichever step handled them (release reads `targetGroups.deregistered` there).
 */
function mergePreserve(preserve: BranchResult | undefined, later: BranchResult | undefined, held: string | undefined): BranchResult | undefined {
  if (!preserve) return preserve;
  if (held) return { ...preserve, targetGroups: { status: 'skipped', reason: held } };
  if (!later || later.status === 'skipped') return preserve;
  const targetGroups =
    later.targetGroups ?? { status: 'failed', error: String(later.error ?? 'Error'), cause: String(later.cause ?? '') };
  const tg = targetGroups as { status?: string; error?: string };
  const failed = preserve.status === 'failed' || tg.status === 'failed';
  const causes = [
    preserve.status === 'failed' ? String(preserve.cause ?? preserve.error ?? '') : null,
    tg.status === 'failed' ? `target groups: ${String(tg.error ?? 'Error')}` : null,
  ].filter((c): c is string => Boolean(c));
  return {
    ...preserve,
    targetGroups,
    status: failed ? 'failed' : preserve.status,
    ...(failed ? { error: String(preserve.error ?? 'PreservationIncomplete'), cause: causes.join('; ') } : {}),
  };
}

/** Open the gated-containment branch (if any) into the flat shape the outcome is decided on. */
export function openGate(state: WorkflowState): OpenedState {
  const all = state.branches;
  const gate = all?.find(isGate);
  const plain = all?.filter((b): b is BranchResult => !isGate(b));
  if (!gate || !plain || !state.before) {
    // A response that needed approval but whose containment branches never completed: its approval is closed as failed.
    const f = state.failure;
    const approval: ApprovalReport | undefined =
      state.before?.approval?.required && !gate
        ? {
            status: 'failed',
            applied: null,
            decidedBy: 'cordon (the containment branches did not complete)',
            reason: `${f?.Error ?? 'Error'}: ${short(f?.Cause, 300)}`,
            decidedAt: null,
            matchedTag: state.before.approval.matchedTag,
          }
        : undefined;
    return { protect: state.protect, protectFailure: state.protectFailure, branches: plain, approval };
  }
  const plan = state.before.plan;
  const approval = approvalReport(gate, state.before);
  let gated: BranchResult[];
  let held: string | undefined;
  if (gate.approvalFailure) {
    const f = gate.approvalFailure;
    held = 'the approval could not be requested: the instance stays in service';
    gated = GATED_ACTIONS.map((action) =>
      plan[action]
        ? { action, status: 'failed', error: f.Error ?? 'Error', cause: `not attempted: the approval could not be requested: ${f.Cause ?? ''}` }
        : { action, status: 'skipped', reason: 'not requested' },
    );
  } else if (gate.approval && !gate.approval.approved) {
    const a = gate.approval;
    held = `containment declined at the approval gate by ${a.decidedBy}: the instance stays in service`;
    gated = GATED_ACTIONS.map((action) =>
      plan[action]
        ? { action, status: 'declined', decidedBy: a.decidedBy, reason: a.reason, ...(a.timedOut ? { timedOut: true } : {}) }
        : { action, status: 'skipped', reason: 'not requested' },
    );
  } else {
    gated = (gate.branches ?? []).filter((b) => b.action !== 'preserve');
  }
  const later = gate.branches?.find((b) => b.action === 'preserve');
  const branches = [
    ...gated,
    ...plain.map((b) => (b.action === 'preserve' ? (mergePreserve(b, later, held) ?? b) : b)),
  ];
  return {
    protect: gate.protect ?? state.protect,
    protectFailure: gate.protectFailure ?? state.protectFailure,
    branches,
    approval,
  };
}

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
  if (status === 'declined') return { report: { action, status: 'declined', detail: branch }, failures: [] };
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
  /** Only for a response that went through the approval gate. */
  approval?: ApprovalReport;
}

/** A planned action whose branch reported nothing did not happen as far as anyone can prove: a failure, never silence. */
function reportMissingResults(before: BeforeSummary, actions: ActionReport[], failures: Failure[]): void {
  for (const action of ACTIONS) {
    if (!before.plan[action] || actions.some((a) => a.action === action)) continue;
    const detail = { action, status: 'failed', error: 'NoResult', cause: 'planned, but its branch reported no result' };
    actions.push({ action, status: 'failed', detail });
    failures.push({ action, error: 'NoResult', cause: detail.cause });
  }
}

/** `accounts 111111111111` → how the summary names the hub exemption that matched. */
function exemptionLabel(before: BeforeSummary): string {
  const e = before.exemption;
  return e ? `exemptions.${e.field} ${e.value}` : 'hub configuration';
}

/**
 * A hub-exempt instance (docs/design.md §3.2): nothing disruptive was planned, the evidence branches ran. The outcome
 * stays `exempt`, but a failed evidence action is listed as a failure (and the execution ends
 * ContainmentIncomplete, as a `declined` one with failures does): never reported as complete when it was not.
 */
function decideExempt(state: WorkflowState & { branches: BranchResult[] | undefined }, before: BeforeSummary): Decision {
  const actions: ActionReport[] = [];
  const failures: Failure[] = [];
  const head = `exempt by ${exemptionLabel(before)}: not isolated or quarantined`;
  if (!state.branches) {
    const f = state.failure;
    failures.push({ action: 'evidence', error: f?.Error ?? 'Error', cause: short(f?.Cause) });
    return { outcome: 'exempt', actions, failures, summary: `${head}; the evidence branches did not run to completion` };
  }
  for (const branch of state.branches) {
    const { report, failures: f } = reportBranch(branch);
    actions.push(report);
    failures.push(...f);
  }
  reportMissingResults(before, actions, failures);
  const succeeded = actions.filter((a) => a.status === 'succeeded' || a.status === 'not-applicable').map((a) => a.action);
  const failedNames = [...new Set(failures.map((f) => f.action))];
  const summary =
    head +
    (succeeded.length ? `; evidence collected: ${succeeded.join(', ')}` : '') +
    (failedNames.length ? `; evidence FAILED: ${failedNames.join(', ')}` : '');
  return { outcome: 'exempt', actions, failures, summary };
}

/** `; exemption (exemptions.accounts …) overridden by alice (manual request)` when a responder overrode one. */
function overrideNote(before: BeforeSummary | undefined): string {
  const e = before?.exemption;
  if (!before || !e?.overridden) return '';
  return `; exemption (${exemptionLabel(before)}) overridden by ${e.overriddenBy ?? 'unknown'} (${e.overriddenBySource ?? 'manual'} request)`;
}

export function decideOutcome(raw: WorkflowState): Decision {
  const opened = openGate(raw);
  const state = { ...raw, protect: opened.protect, protectFailure: opened.protectFailure, branches: opened.branches };
  const decided = decideOpened(state);
  const decision = { ...decided, summary: `${decided.summary}${overrideNote(raw.before)}` };
  if (!opened.approval) return decision;
  const a = opened.approval;
  const who = a.status === 'timed-out' ? `no decision in time (onTimeout=${a.applied ?? ''})` : `${a.status} by ${a.decidedBy ?? 'unknown'}`;
  const prefix = a.status === 'failed' ? '' : decision.outcome === 'declined' ? '' : `${who}; `;
  return { ...decision, summary: `${prefix}${decision.summary}`, approval: a };
}

function decideOpened(state: WorkflowState & { branches: BranchResult[] | undefined }): Decision {
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
  if (state.before.exempt) return decideExempt(state, state.before);

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
  reportMissingResults(state.before, actions, failures);

  const declined = actions.filter((a) => a.status === 'declined');
  const requested = actions.filter((a) => a.status !== 'skipped' && a.status !== 'declined');
  const succeeded = requested.filter((a) => a.status === 'succeeded' || a.status === 'not-applicable');
  if (declined.length > 0) {
    const detail = declined[0]?.detail as { decidedBy?: string; reason?: string; timedOut?: boolean } | undefined;
    const by = detail?.timedOut ? 'nobody decided before the approval timed out (onTimeout=deny)' : `declined by ${detail?.decidedBy ?? 'unknown'}: ${short(detail?.reason, 200)}`;
    const failedNames = [...new Set(failures.map((f) => f.action))];
    const summary =
      `declined: ${declined.map((a) => a.action).join(', ')} not done, ${by}; the instance stays in service` +
      (succeeded.length ? `; ${succeeded.map((a) => a.action).join(', ')} succeeded` : '') +
      (failedNames.length ? `; ${failedNames.join(', ')} failed` : '');
    return { outcome: 'declined', actions, failures, summary };
  }
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
