import { decideOutcome, reportBranch, type WorkflowState } from '../../../lambdas/record/outcome';
import type { BeforeSummary } from '../../../lambdas/shared/workflow';
import { beforeSummaryOf, emptyPlan, planFromBranches } from '../../support/plan';

const INCIDENT = 'inc-111122223333-eu-west-1-i-0123456789abcdef0';

const beforeSummary = (extra: Partial<BeforeSummary> = {}): BeforeSummary => beforeSummaryOf(INCIDENT, extra);

const ISOLATED = { action: 'isolate', status: 'attempted', interfaces: [{ networkInterfaceId: 'eni-0000000000000000a', status: 'isolated' }] };
const QUARANTINED = { action: 'quarantineRole', status: 'succeeded' };
const FLOW_LOGS = { action: 'flowLogs', status: 'succeeded' };
const SNAPSHOTS = { action: 'snapshot', status: 'started', snapshots: [] };
const PROTECTED = { autoScaling: { status: 'not-a-member' }, terminationProtection: { status: 'enabled' } };

function state(branches: WorkflowState['branches'], extra: Partial<WorkflowState> = {}): WorkflowState {
  // The workflow gives every planned action a branch result: the plan is what the branches report.
  return { request: {}, before: beforeSummary({ plan: planFromBranches(branches) }), protect: PROTECTED, branches, ...extra };
}

describe('decideOutcome', () => {
  it('is contained when every branch succeeded', () => {
    const decision = decideOutcome(state([ISOLATED, QUARANTINED, FLOW_LOGS, SNAPSHOTS]));

    expect(decision.outcome).toBe('contained');
    expect(decision.failures).toEqual([]);
    expect(decision.actions.map((a) => [a.action, a.status])).toEqual([
      ['isolate', 'succeeded'],
      ['quarantineRole', 'succeeded'],
      ['flowLogs', 'succeeded'],
      ['snapshot', 'succeeded'],
    ]);
  });

  it('is partially-contained when isolation worked but quarantine failed, naming quarantineRole and its cause', () => {
    // Prepare
    const failedQuarantine = {
      action: 'quarantineRole',
      status: 'failed',
      error: 'QuarantinePolicyTooLargeError',
      cause: 'the cordon-quarantine policy on web-role would be 10500 characters',
    };

    // Act
    const decision = decideOutcome(state([ISOLATED, failedQuarantine, FLOW_LOGS, SNAPSHOTS]));

    // Assess
    expect(decision.outcome).toBe('partially-contained');
    expect(decision.failures).toEqual([
      { action: 'quarantineRole', error: 'QuarantinePolicyTooLargeError', cause: 'the cordon-quarantine policy on web-role would be 10500 characters' },
    ]);
    expect(decision.summary).toBe('partially-contained: quarantineRole failed; isolate, flowLogs, snapshot succeeded');
  });

  it('is failed when the before-state could not be captured, naming the capture error', () => {
    const decision = decideOutcome({ request: {}, failure: { Error: 'InstanceNotFoundError', Cause: 'instance is terminated' } });

    expect(decision.outcome).toBe('failed');
    expect(decision.failures).toEqual([{ action: 'captureBeforeState', error: 'InstanceNotFoundError', cause: 'instance is terminated' }]);
    expect(decision.actions).toEqual([]);
  });

  describe('a hub-exempt instance (evidence only)', () => {
    const EXEMPT = beforeSummary({
      exempt: true,
      exemption: { field: 'accounts', value: '111122223333', overridden: false, overriddenBy: null, overriddenBySource: null },
    });
    const NOT_REQUESTED = (action: string) => ({ action, status: 'skipped', reason: 'not requested' });
    const PRESERVE_SKIPPED = { action: 'preserve', status: 'skipped', reason: 'exempt' };
    const COLLECTED = { action: 'collectEvidence', status: 'succeeded' };

    it('is exempt with no failures when its evidence was collected, naming the exemption', () => {
      const decision = decideOutcome(
        state([NOT_REQUESTED('isolate'), NOT_REQUESTED('quarantineRole'), FLOW_LOGS, SNAPSHOTS, PRESERVE_SKIPPED, COLLECTED], { before: EXEMPT, protect: undefined }),
      );

      expect(decision.outcome).toBe('exempt');
      expect(decision.failures).toEqual([]);
      expect(decision.summary).toBe(
        'exempt by exemptions.accounts 111122223333: not isolated or quarantined; evidence collected: flowLogs, snapshot, collectEvidence',
      );
    });

    it('stays exempt but lists a failed evidence action as a failure, never as collected', () => {
      const failedSnapshot = { action: 'snapshot', status: 'failed', error: 'SnapshotLimitExceeded', cause: 'too many snapshots' };

      const decision = decideOutcome(
        state([NOT_REQUESTED('isolate'), NOT_REQUESTED('quarantineRole'), FLOW_LOGS, failedSnapshot, PRESERVE_SKIPPED, COLLECTED], {
          before: EXEMPT,
          protect: undefined,
        }),
      );

      expect(decision.outcome).toBe('exempt');
      expect(decision.failures).toEqual([{ action: 'snapshot', error: 'SnapshotLimitExceeded', cause: 'too many snapshots' }]);
      expect(decision.summary).toBe(
        'exempt by exemptions.accounts 111122223333: not isolated or quarantined; evidence collected: flowLogs, collectEvidence; evidence FAILED: snapshot',
      );
    });

    it('reports evidence branches that never completed as a failure', () => {
      const decision = decideOutcome({ request: {}, before: EXEMPT, failure: { Error: 'States.Runtime', Cause: 'boom' } });

      expect(decision.outcome).toBe('exempt');
      expect(decision.failures).toEqual([{ action: 'evidence', error: 'States.Runtime', cause: 'boom' }]);
    });
  });

  it('says who overrode an exemption on a contained response', () => {
    const before = beforeSummary({
      exemption: { field: 'instanceIds', value: 'i-0123456789abcdef0', overridden: true, overriddenBy: 'alice', overriddenBySource: 'manual' },
    });

    const decision = decideOutcome(state([ISOLATED, QUARANTINED, FLOW_LOGS, SNAPSHOTS], { before }));

    expect(decision.outcome).toBe('contained');
    expect(decision.summary).toBe(
      'all requested actions succeeded: isolate, quarantineRole, flowLogs, snapshot; exemption (exemptions.instanceIds i-0123456789abcdef0) overridden by alice (manual request)',
    );
  });

  it('reports a duplicate delivery (another request owns the incident) as "duplicate", not as a failure', () => {
    // Prepare: CaptureBeforeState found req-0 containing this instance; the ASL goes straight to RecordOutcome
    const duplicate = beforeSummary({
      duplicate: true,
      ownerRequestId: 'req-0',
      plan: emptyPlan(),
    });

    // Act
    const decision = decideOutcome({ request: {}, before: duplicate });

    // Assess: the ASL's CheckOutcome treats "duplicate" as success; "failed" would fail the execution
    expect(decision.outcome).toBe('duplicate');
    expect(decision.failures).toEqual([]);
  });

  it('is partially-contained when one ENI of two failed to isolate and quarantine succeeded', () => {
    const halfIsolated = {
      action: 'isolate',
      status: 'attempted',
      interfaces: [
        { networkInterfaceId: 'eni-0000000000000000a', status: 'isolated' },
        { networkInterfaceId: 'eni-1111111111111111b', status: 'failed', error: 'IsolationVerificationError', cause: 'has groups [sg-x]' },
      ],
    };

    const decision = decideOutcome(state([halfIsolated, QUARANTINED, FLOW_LOGS, SNAPSHOTS]));

    expect(decision.outcome).toBe('partially-contained');
    expect(decision.failures).toEqual([
      { action: 'isolate', error: 'IsolationVerificationError', cause: 'eni-1111111111111111b: has groups [sg-x]' },
    ]);
    expect(decision.actions.find((a) => a.action === 'isolate')?.status).toBe('failed');
  });

  it('is failed when isolation failed and quarantine was not applicable (nothing contained it)', () => {
    const failedIsolation = { action: 'isolate', status: 'failed', error: 'IsolationGroupConflictError', cause: 'name taken' };
    const noProfile = { action: 'quarantineRole', status: 'not-applicable', reason: 'no instance profile' };

    const decision = decideOutcome(state([failedIsolation, noProfile, FLOW_LOGS, SNAPSHOTS]));

    expect(decision.outcome).toBe('failed');
    expect(decision.failures).toStrictEqual([{ action: 'isolate', error: 'IsolationGroupConflictError', cause: 'name taken' }]);
  });

  it('is partially-contained when termination protection could not be enabled though every branch succeeded', () => {
    const decision = decideOutcome(
      state([ISOLATED, QUARANTINED, FLOW_LOGS, SNAPSHOTS], {
        protect: {
          autoScaling: { status: 'not-a-member' },
          terminationProtection: { status: 'failed', error: 'UnauthorizedOperation', cause: 'not authorized' },
        },
      }),
    );

    expect(decision.outcome).toBe('partially-contained');
    expect(decision.failures).toEqual([
      { action: 'protect', error: 'UnauthorizedOperation', cause: 'termination protection was not enabled: not authorized' },
    ]);
  });

  it('records a failed ProtectInstance task (Auto Scaling detach) as a protect failure', () => {
    const unsafe = { action: 'isolate', status: 'failed', error: 'IsolationUnsafe', cause: 'security groups left unchanged' };

    const decision = decideOutcome(
      state([unsafe, QUARANTINED, FLOW_LOGS, SNAPSHOTS], {
        protect: undefined,
        protectFailure: { Error: 'ProtectInstanceError', Cause: 'cannot detach' },
      }),
    );

    expect(decision.outcome).toBe('partially-contained');
    expect(decision.failures).toStrictEqual([
      { action: 'protect', error: 'ProtectInstanceError', cause: 'cannot detach' },
      { action: 'isolate', error: 'IsolationUnsafe', cause: 'security groups left unchanged' },
    ]);
  });

  it('is failed when the Parallel state itself failed (no branch results)', () => {
    const decision = decideOutcome(state(undefined, { failure: { Error: 'States.Runtime', Cause: 'boom' } }));

    expect(decision.outcome).toBe('failed');
    expect(decision.failures).toStrictEqual([{ action: 'contain', error: 'States.Runtime', cause: 'boom' }]);
  });

  it('ignores skipped (not requested) branches when everything requested succeeded', () => {
    const skipped = (action: string) => ({ action, status: 'skipped', reason: 'not requested' });

    const decision = decideOutcome(state([ISOLATED, skipped('quarantineRole'), skipped('flowLogs'), skipped('snapshot')]));

    expect(decision.outcome).toBe('contained');
    expect(decision.summary).toBe('all requested actions succeeded: isolate');
  });

  it('never reports an unknown branch status as success', () => {
    const decision = decideOutcome(state([ISOLATED, QUARANTINED, { action: 'flowLogs', status: 'weird' }, SNAPSHOTS]));

    expect(decision.outcome).toBe('partially-contained');
    expect(decision.failures).toEqual([{ action: 'flowLogs', error: 'UnknownBranchStatus', cause: 'branch reported status "weird"' }]);
  });

  it('bounds a very long cause', () => {
    const decision = decideOutcome(state([ISOLATED, { action: 'quarantineRole', status: 'failed', error: 'E', cause: 'x'.repeat(5000) }]));

    expect(decision.failures).toStrictEqual([{ action: 'quarantineRole', error: 'E', cause: `${'x'.repeat(500)}…` }]);
  });
});

describe('reportBranch', () => {
  it('treats an isolate branch with no interfaces as a failure', () => {
    const { report, failures } = reportBranch({ action: 'isolate', status: 'attempted', interfaces: [] });

    expect(report.status).toBe('failed');
    expect(failures).toEqual([{ action: 'isolate', error: 'NoInterfaces', cause: 'no network interface was isolated' }]);
  });
});
