/**
 * Issue 16: the outcome decision asserted as exact documents (outcome, actions, failures, summary,
 * approval), never by substring, so a failed action can neither hide among the succeeded ones nor
 * change the outcome unnoticed.
 */
import { decideOutcome, openGate, reportBranch, type WorkflowState } from '../../../lambdas/record/outcome';
import { GATED_ACTIONS } from '../../../lambdas/shared/actions';
import type { BeforeSummary } from '../../../lambdas/shared/workflow';
import { beforeSummaryOf, planFromBranches, planOf } from '../../support/plan';

const INCIDENT = 'inc-111122223333-eu-west-1-i-0123456789abcdef0';
const ENI_A = 'eni-0000000000000000a';
const ENI_B = 'eni-1111111111111111b';
const TAG = { key: 'cordon:approval', value: 'required' };

const before = (extra: Partial<BeforeSummary> = {}): BeforeSummary => beforeSummaryOf(INCIDENT, extra);

const ISOLATED = { action: 'isolate', status: 'attempted', interfaces: [{ networkInterfaceId: ENI_A, status: 'isolated' }] };
const QUARANTINED = { action: 'quarantineRole', status: 'succeeded' };
const FLOW_LOGS = { action: 'flowLogs', status: 'succeeded' };
const SNAPSHOTS = { action: 'snapshot', status: 'started', snapshots: [] };
const PROTECTED = { autoScaling: { status: 'not-a-member' }, terminationProtection: { status: 'enabled' } };
const skipped = (action: string) => ({ action, status: 'skipped', reason: 'not requested' });
const failed = (action: string, error = 'E', cause = 'c') => ({ action, status: 'failed', error, cause });

const state = (branches: WorkflowState['branches'], extra: Partial<WorkflowState> = {}): WorkflowState => ({
  request: {},
  // The workflow gives every planned action a branch result: the plan is what the branches report.
  before: before({ plan: planFromBranches(branches) }),
  protect: PROTECTED,
  branches,
  ...extra,
});

const report = (b: { action: string; status: string; [key: string]: unknown }, status: string) => ({ action: b.action, status, detail: b });

describe('decideOutcome, exact documents', () => {
  it('contained: every action listed as succeeded, in order', () => {
    expect(decideOutcome(state([ISOLATED, QUARANTINED, FLOW_LOGS, SNAPSHOTS]))).toStrictEqual({
      outcome: 'contained',
      actions: [report(ISOLATED, 'succeeded'), report(QUARANTINED, 'succeeded'), report(FLOW_LOGS, 'succeeded'), report(SNAPSHOTS, 'succeeded')],
      failures: [],
      summary: 'all requested actions succeeded: isolate, quarantineRole, flowLogs, snapshot',
    });
  });

  it('partially-contained: the failed actions are named once as failed and never among the succeeded', () => {
    const flowLogs = failed('flowLogs', 'AccessDenied', 'no logs:CreateLogDelivery');
    const quarantine = failed('quarantineRole', 'QuarantinePolicyTooLargeError', 'too large');
    const protect = { autoScaling: { status: 'not-a-member' }, terminationProtection: { status: 'failed', error: 'UnauthorizedOperation', cause: 'denied' } };

    expect(decideOutcome(state([ISOLATED, quarantine, flowLogs, SNAPSHOTS], { protect }))).toStrictEqual({
      outcome: 'partially-contained',
      actions: [report(ISOLATED, 'succeeded'), report(quarantine, 'failed'), report(flowLogs, 'failed'), report(SNAPSHOTS, 'succeeded')],
      failures: [
        { action: 'protect', error: 'UnauthorizedOperation', cause: 'termination protection was not enabled: denied' },
        { action: 'quarantineRole', error: 'QuarantinePolicyTooLargeError', cause: 'too large' },
        { action: 'flowLogs', error: 'AccessDenied', cause: 'no logs:CreateLogDelivery' },
      ],
      summary: 'partially-contained: protect, quarantineRole, flowLogs failed; isolate, snapshot succeeded',
    });
  });

  it('an evidence-only request where everything failed is failed, not partially-contained', () => {
    const evidenceOnly = before({ plan: planOf('flowLogs', 'snapshot') });
    const branches = [skipped('isolate'), skipped('quarantineRole'), failed('flowLogs'), failed('snapshot')];

    expect(decideOutcome(state(branches, { before: evidenceOnly }))).toStrictEqual({
      outcome: 'failed',
      actions: [report(branches[0]!, 'skipped'), report(branches[1]!, 'skipped'), report(branches[2]!, 'failed'), report(branches[3]!, 'failed')],
      failures: [
        { action: 'flowLogs', error: 'E', cause: 'c' },
        { action: 'snapshot', error: 'E', cause: 'c' },
      ],
      summary: 'failed: flowLogs, snapshot failed',
    });
  });

  it('an evidence-only request where one evidence action failed is partially-contained', () => {
    const branches = [skipped('isolate'), skipped('quarantineRole'), FLOW_LOGS, failed('snapshot')];

    expect(decideOutcome(state(branches)).outcome).toBe('partially-contained');
    expect(decideOutcome(state(branches)).summary).toBe('partially-contained: snapshot failed; flowLogs succeeded');
  });

  it('containment requested and none of it succeeded is failed even when the evidence actions succeeded', () => {
    const branches = [failed('isolate'), failed('quarantineRole'), FLOW_LOGS, SNAPSHOTS];

    expect(decideOutcome(state(branches))).toMatchObject({
      outcome: 'failed',
      summary: 'failed: isolate, quarantineRole failed; flowLogs, snapshot succeeded',
    });
  });

  it('a not-applicable quarantine counts as succeeded, but not as containment', () => {
    const noProfile = { action: 'quarantineRole', status: 'not-applicable', reason: 'no instance profile' };

    expect(decideOutcome(state([ISOLATED, noProfile]))).toStrictEqual({
      outcome: 'contained',
      actions: [report(ISOLATED, 'succeeded'), report(noProfile, 'not-applicable')],
      failures: [],
      summary: 'all requested actions succeeded: isolate, quarantineRole',
    });
    expect(decideOutcome(state([failed('isolate'), noProfile, FLOW_LOGS])).outcome).toBe('failed');
  });

  it('one ENI left in the allow-all untrack group: the failure says it MAY BE LEFT OPEN, first', () => {
    const isolate = {
      action: 'isolate',
      status: 'attempted',
      interfaces: [
        { networkInterfaceId: ENI_A, status: 'isolated' },
        { networkInterfaceId: ENI_B, status: 'failed', leftIn: 'untrack-or-unknown', error: 'IsolationVerificationError', cause: 'still in sg-u' },
      ],
    };

    expect(decideOutcome(state([isolate, QUARANTINED]))).toStrictEqual({
      outcome: 'partially-contained',
      actions: [report(isolate, 'failed'), report(QUARANTINED, 'succeeded')],
      failures: [
        { action: 'isolate', error: 'IsolationVerificationError', cause: `${ENI_B}: MAY BE LEFT OPEN in the allow-all untrack group, check it now: still in sg-u` },
      ],
      summary: 'partially-contained: isolate failed; quarantineRole succeeded',
    });
  });

  it('an ENI whose original groups were put back says so; one without a leftIn or error gets neither', () => {
    const isolate = {
      action: 'isolate',
      status: 'attempted',
      interfaces: [
        { networkInterfaceId: ENI_A, status: 'failed', leftIn: 'original-groups', error: 'Boom', cause: 'x' },
        { networkInterfaceId: ENI_B, status: 'failed' },
      ],
    };

    expect(reportBranch(isolate)).toStrictEqual({
      report: report(isolate, 'failed'),
      failures: [
        { action: 'isolate', error: 'Boom', cause: `${ENI_A}: not isolated; its original security groups were put back: x` },
        { action: 'isolate', error: 'Error', cause: `${ENI_B}: ` },
      ],
    });
  });

  it('bounds a cause at 500 characters plus an ellipsis; 500 exactly is kept whole', () => {
    const long = failed('quarantineRole', 'E', 'y'.repeat(501));
    const exact = failed('flowLogs', 'E', 'z'.repeat(500));

    expect(decideOutcome(state([ISOLATED, long, exact])).failures).toStrictEqual([
      { action: 'quarantineRole', error: 'E', cause: `${'y'.repeat(500)}…` },
      { action: 'flowLogs', error: 'E', cause: 'z'.repeat(500) },
    ]);
  });

  it('a failed branch without error or cause is reported as "Error" with an empty cause', () => {
    expect(reportBranch({ action: 'snapshot', status: 'failed' }).failures).toStrictEqual([{ action: 'snapshot', error: 'Error', cause: '' }]);
  });

  it('declined and skipped branches are reported as such, with no failure', () => {
    const d = { action: 'isolate', status: 'declined', decidedBy: 'alice' };
    expect(reportBranch(d)).toStrictEqual({ report: report(d, 'declined'), failures: [] });
    expect(reportBranch(skipped('snapshot'))).toStrictEqual({ report: report(skipped('snapshot'), 'skipped'), failures: [] });
    expect(reportBranch({ action: 'isolate', status: 'succeeded' })).toStrictEqual({ report: report({ action: 'isolate', status: 'succeeded' }, 'succeeded'), failures: [] });
  });

  it('before-state missing: failed, nothing changed, the capture error named (Error when none)', () => {
    expect(decideOutcome({ request: {} })).toStrictEqual({
      outcome: 'failed',
      actions: [],
      failures: [{ action: 'captureBeforeState', error: 'Error', cause: '' }],
      summary: 'nothing was changed: the before-state could not be captured (Error)',
    });
  });

  it('duplicate and exempt: exact summaries', () => {
    expect(decideOutcome({ request: {}, before: before({ duplicate: true, ownerRequestId: 'req-0', incidentStatus: 'contained' }) })).toStrictEqual({
      outcome: 'duplicate',
      actions: [],
      failures: [],
      summary: 'repeat delivery: appended to the incident (status contained, contained by request req-0); nothing re-run',
    });
    // Exempt by hub configuration: the evidence branches ran and are reported; nothing disruptive was planned.
    const exempt = before({ exempt: true, plan: { isolate: false, flowLogs: true, snapshot: true, quarantineRole: false } });
    expect(decideOutcome({ request: {}, before: exempt, branches: [FLOW_LOGS, SNAPSHOTS] })).toStrictEqual({
      outcome: 'exempt',
      actions: [report(FLOW_LOGS, 'succeeded'), report(SNAPSHOTS, 'succeeded')],
      failures: [],
      summary: 'exempt by hub configuration: not isolated or quarantined; evidence collected: flowLogs, snapshot',
    });
    // Its evidence branches never completing is a failure, not a quiet `exempt`.
    expect(decideOutcome({ request: {}, before: exempt, failure: { Error: 'States.Timeout', Cause: 'late' } })).toStrictEqual({
      outcome: 'exempt',
      actions: [],
      failures: [{ action: 'evidence', error: 'States.Timeout', cause: 'late' }],
      summary: 'exempt by hub configuration: not isolated or quarantined; the evidence branches did not run to completion',
    });
  });

  it('the Parallel failed: the protect failure and the contain failure, in that order', () => {
    const decision = decideOutcome(state(undefined, { protect: undefined, protectFailure: { Error: 'ProtectInstanceError' }, failure: { Cause: 'boom' } }));

    expect(decision).toStrictEqual({
      outcome: 'failed',
      actions: [],
      failures: [
        { action: 'protect', error: 'ProtectInstanceError', cause: '' },
        { action: 'contain', error: 'Error', cause: 'boom' },
      ],
      summary: 'the containment branches did not run to completion',
    });
  });

  it('termination protection failed without error or cause', () => {
    const protect = { autoScaling: { status: 'not-a-member' }, terminationProtection: { status: 'failed' } };
    expect(decideOutcome(state([ISOLATED], { protect })).failures).toStrictEqual([
      { action: 'protect', error: 'Error', cause: 'termination protection was not enabled: ' },
    ]);
  });
});

describe('decideOutcome: a planned action that reports nothing', () => {
  it('is a failure (NoResult), never part of "all requested actions succeeded"', () => {
    const s = state([ISOLATED, QUARANTINED, FLOW_LOGS]);
    (s.before as BeforeSummary).plan = { ...(s.before as BeforeSummary).plan, snapshot: true };

    const noResult = { action: 'snapshot', status: 'failed', error: 'NoResult', cause: 'planned, but its branch reported no result' };
    expect(decideOutcome(s)).toStrictEqual({
      outcome: 'partially-contained',
      actions: [report(ISOLATED, 'succeeded'), report(QUARANTINED, 'succeeded'), report(FLOW_LOGS, 'succeeded'), report(noResult, 'failed')],
      failures: [{ action: 'snapshot', error: 'NoResult', cause: 'planned, but its branch reported no result' }],
      summary: 'partially-contained: snapshot failed; isolate, quarantineRole, flowLogs succeeded',
    });
  });

  it('a planned containment action with no result and nothing else of containment succeeded is failed', () => {
    const s = state([FLOW_LOGS, SNAPSHOTS]);
    (s.before as BeforeSummary).plan = { ...(s.before as BeforeSummary).plan, isolate: true };

    const decision = decideOutcome(s);

    expect(decision.outcome).toBe('failed');
    expect(decision.failures).toStrictEqual([{ action: 'isolate', error: 'NoResult', cause: 'planned, but its branch reported no result' }]);
  });
});

describe('decideOutcome through the approval gate, exact documents', () => {
  const gated = (gate: Record<string, unknown>, plain: unknown[], extra: Partial<WorkflowState> = {}): WorkflowState => {
    const branches = [{ gate: 'approval', ...gate }, ...plain] as WorkflowState['branches'];
    return {
      request: {},
      before: before({ approval: { required: true, matchedTag: TAG, timeoutSeconds: 3600, onTimeout: 'deny' }, plan: planFromBranches(branches) }),
      branches,
      ...extra,
    };
  };
  const PRESERVE = { action: 'preserve', status: 'succeeded', targetGroups: { status: 'skipped', reason: 'held' } };

  it('approved: containment ran; the summary says who approved; the preserve action takes the later target-group result', () => {
    const later = { action: 'preserve', status: 'succeeded', targetGroups: { status: 'deregistered', deregistered: [] } };
    const decision = decideOutcome(
      gated(
        { approval: { approved: true, decidedBy: 'alice', reason: 'go', decidedAt: '2025-06-01T12:00:00Z' }, protect: PROTECTED, branches: [ISOLATED, QUARANTINED, later] },
        [PRESERVE, FLOW_LOGS],
      ),
    );

    const preserve = { ...PRESERVE, targetGroups: later.targetGroups, status: 'succeeded' };
    expect(decision).toStrictEqual({
      outcome: 'contained',
      actions: [report(ISOLATED, 'succeeded'), report(QUARANTINED, 'succeeded'), report(preserve, 'succeeded'), report(FLOW_LOGS, 'succeeded')],
      failures: [],
      summary: 'approved by alice; all requested actions succeeded: isolate, quarantineRole, preserve, flowLogs',
      approval: { status: 'approved', applied: 'approve', decidedBy: 'alice', reason: 'go', decidedAt: '2025-06-01T12:00:00Z', matchedTag: TAG },
    });
  });

  it('denied: isolate and quarantine declined, the instance stays in service, target groups held', () => {
    const decision = decideOutcome(gated({ approval: { approved: false, decidedBy: 'bob', reason: 'false positive' } }, [PRESERVE, failed('flowLogs')]));

    const declined = (action: string) => ({ action, status: 'declined', decidedBy: 'bob', reason: 'false positive' });
    const preserve = { ...PRESERVE, targetGroups: { status: 'skipped', reason: 'containment declined at the approval gate by bob: the instance stays in service' } };
    expect(decision).toStrictEqual({
      outcome: 'declined',
      actions: [...GATED_ACTIONS.map((a) => report(declined(a), 'declined')), report(preserve, 'succeeded'), report(failed('flowLogs'), 'failed')],
      failures: [{ action: 'flowLogs', error: 'E', cause: 'c' }],
      summary: `declined: ${GATED_ACTIONS.join(', ')} not done, declined by bob: false positive; the instance stays in service; preserve succeeded; flowLogs failed`,
      approval: { status: 'denied', applied: 'deny', decidedBy: 'bob', reason: 'false positive', decidedAt: null, matchedTag: TAG },
    });
  });

  it('timed out with onTimeout=deny, quarantine not planned: isolate declined, quarantine skipped', () => {
    const s = gated({ approval: { approved: false, decidedBy: 'cordon', reason: 'timeout', timedOut: true } }, [FLOW_LOGS]);
    (s.before as BeforeSummary).plan = planOf('isolate', 'flowLogs');
    const decision = decideOutcome(s);

    expect(decision).toStrictEqual({
      outcome: 'declined',
      actions: [
        report({ action: 'isolate', status: 'declined', decidedBy: 'cordon', reason: 'timeout', timedOut: true }, 'declined'),
        ...GATED_ACTIONS.filter((a) => a !== 'isolate').map((a) => report(skipped(a), 'skipped')),
        report(FLOW_LOGS, 'succeeded'),
      ],
      failures: [],
      summary: 'declined: isolate not done, nobody decided before the approval timed out (onTimeout=deny); the instance stays in service; flowLogs succeeded',
      approval: { status: 'timed-out', applied: 'deny', decidedBy: 'cordon', reason: 'timeout', decidedAt: null, matchedTag: TAG },
    });
  });

  it('the approval could not be requested: planned containment failed as not attempted, the approval failed', () => {
    const decision = decideOutcome(gated({ approvalFailure: { Error: 'States.TaskFailed', Cause: 'sns down' } }, [PRESERVE]));

    const notAttempted = (action: string) => ({ action, status: 'failed', error: 'States.TaskFailed', cause: 'not attempted: the approval could not be requested: sns down' });
    const preserve = { ...PRESERVE, targetGroups: { status: 'skipped', reason: 'the approval could not be requested: the instance stays in service' } };
    expect(decision).toStrictEqual({
      outcome: 'failed',
      actions: [...GATED_ACTIONS.map((a) => report(notAttempted(a), 'failed')), report(preserve, 'succeeded')],
      failures: GATED_ACTIONS.map((action) => ({ action, error: 'States.TaskFailed', cause: 'not attempted: the approval could not be requested: sns down' })),
      summary: `failed: ${GATED_ACTIONS.join(', ')} failed; preserve succeeded`,
      approval: { status: 'failed', applied: null, decidedBy: 'cordon (the approval could not be requested)', reason: 'States.TaskFailed: sns down', decidedAt: null, matchedTag: TAG },
    });
  });

  it('preserve with a failed LeaveTargetGroups: failed, the causes joined', () => {
    const later = { action: 'preserve', status: 'failed', error: 'AccessDenied', cause: 'elb' };
    const opened = openGate(
      gated({ approval: { approved: true, decidedBy: 'alice', reason: 'go' }, branches: [ISOLATED, later] }, [{ action: 'preserve', status: 'failed', error: 'TagError', cause: 'tags' }]),
    );

    expect(opened.branches).toStrictEqual([
      ISOLATED,
      { action: 'preserve', status: 'failed', error: 'TagError', cause: 'tags; target groups: AccessDenied', targetGroups: { status: 'failed', error: 'AccessDenied', cause: 'elb' } },
    ]);
  });

  it('preserve succeeded but its later target-group step failed: failed as PreservationIncomplete', () => {
    const later = { action: 'preserve', status: 'succeeded', targetGroups: { status: 'failed', error: 'Throttling' } };
    const opened = openGate(gated({ approval: { approved: true, decidedBy: 'alice', reason: 'go' }, branches: [later] }, [{ action: 'preserve', status: 'succeeded' }]));

    expect(opened.branches).toStrictEqual([
      { action: 'preserve', status: 'failed', error: 'PreservationIncomplete', cause: 'target groups: Throttling', targetGroups: { status: 'failed', error: 'Throttling' } },
    ]);
  });

  it('a skipped later preserve step leaves the preserve branch as it was', () => {
    const opened = openGate(gated({ approval: { approved: true, decidedBy: 'a', reason: 'r' }, branches: [skipped('preserve')] }, [PRESERVE]));
    expect(opened.branches).toStrictEqual([PRESERVE]);
  });

  it('approval required but the containment branches never completed: the approval is closed as failed', () => {
    const s: WorkflowState = {
      request: {},
      before: before({ approval: { required: true, matchedTag: TAG, timeoutSeconds: 3600, onTimeout: 'deny' } }),
      failure: { Error: 'States.Runtime', Cause: 'boom' },
    };

    expect(decideOutcome(s)).toStrictEqual({
      outcome: 'failed',
      actions: [],
      failures: [{ action: 'contain', error: 'States.Runtime', cause: 'boom' }],
      summary: 'the containment branches did not run to completion',
      approval: { status: 'failed', applied: null, decidedBy: 'cordon (the containment branches did not complete)', reason: 'States.Runtime: boom', decidedAt: null, matchedTag: TAG },
    });
    expect(openGate({ ...s, before: before() }).approval).toBeUndefined();
  });
});
